"""The fast path joins sign-ins without a user id by UPN, as the plain path does.

The plain path keys a sign-in without a user object id by the object id that its
normalised UPN maps to, in a map built from every record that carries both. Each
case writes exports where a record that the fast path would pre-filter decides
that join: an approval without an id, or the only record that pairs the UPN with an
object id, or with a second one. Each runs ``h056 hunt --format jsonl`` with and
without ``--no-fast-path`` and compares the output bytes, which carry every finding
with its evidence. Checks on the plain path's findings show what the case needs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli_runs import hunt_jsonl
from h056hunt.cli import main
from h056hunt.loaders import fastpath
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"
TARGET_ID = "5e000000-0000-4000-8000-000000000001"
OTHER_ID = "5e000000-0000-4000-8000-000000000002"
THRESHOLDS = ["--min-denials", "3", "--burst-window", "10m", "--max-lag", "60m"]
DENIED = "MFA denied; user declined the authentication"
APPROVED = "MFA successfully completed"
# The fast path logs this line for each read of pre-filtered records by UPN. Group
# 1 is the number of records read.
UPN_READ = re.compile(
    r"UPNs? of records without a user object id: read .*, (\d+) records? from "
)
# Ways an export writes a sign-in without a user id: no member, empty, JSON null,
# and a placeholder with padding.
MISSING_IDS: tuple[Any, ...] = ("missing", "", None, " NULL ")
BACKGROUND_SIGNINS = 600
LOG_ANALYTICS_COLUMNS = (
    "TimeGenerated [UTC]",
    "Type",
    "Id",
    "CreatedDateTime [UTC]",
    "UserId",
    "UserPrincipalName",
    "ResultType",
    "Status",
    "OriginalRequestId",
)


def signin(
    number: int,
    time: str,
    user_id: Any,
    upn: str,
    *,
    error_code: int = 0,
    detail: str | None = None,
) -> dict[str, Any]:
    """Return a Graph sign-in; ``user_id`` "missing" leaves out the member."""
    record: dict[str, Any] = {
        "id": f"5a000000-0000-4000-8000-{number:012d}",
        "createdDateTime": time,
        "userDisplayName": "Some User",
        "userPrincipalName": upn,
        "userId": user_id,
        "ipAddress": "203.0.113.88",
        "originalRequestId": f"7e000000-0000-4000-8000-{number:012d}",
        "status": {"errorCode": error_code, "additionalDetails": detail},
        "appDisplayName": "Office 365 Exchange Online",
    }
    if user_id == "missing":
        del record["userId"]
    return record


def background() -> list[dict[str, Any]]:
    """Return sign-ins of other users that the fast path pre-filters."""
    records = []
    for number in range(BACKGROUND_SIGNINS):
        minute = 7 * 60 + number * 4 // 10
        records.append(
            signin(
                10_000 + number,
                f"2026-03-02T{minute // 60:02d}:{minute % 60:02d}:{number % 60:02d}Z",
                f"00000000-0000-4000-8000-{number % 40:012d}",
                f"user{number % 40}@contoso.example",
            )
        )
    return records


def denials(upn: str) -> list[dict[str, Any]]:
    """Return four denials of ``upn`` after the revocation, each without an id."""
    return [
        signin(
            index + 1,
            f"2026-03-02T10:0{3 + index}:10Z",
            MISSING_IDS[index],
            upn,
            error_code=500121,
            detail=DENIED,
        )
        for index in range(4)
    ]


def revocation(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "Directory_0001",
        "category": "UserManagement",
        "correlationId": "c0000000-0000-4000-8000-000000000001",
        "result": "success",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2026-03-02T10:00:05Z",
        "initiatedBy": {
            "app": None,
            "user": {"id": ADMIN_ID, "userPrincipalName": "secadmin@contoso.example"},
        },
        "targetResources": [{"type": "User", **target}],
    }


def group_change(target: dict[str, Any]) -> dict[str, Any]:
    """Return an audit record that the fast path pre-filters, naming ``target``."""
    return {
        "id": "Directory_0002",
        "category": "GroupManagement",
        "correlationId": "c0000000-0000-4000-8000-000000000002",
        "result": "success",
        "activityDisplayName": "Update group",
        "activityDateTime": "2026-03-02T08:30:00Z",
        "initiatedBy": {
            "app": None,
            "user": {"id": ADMIN_ID, "userPrincipalName": "secadmin@contoso.example"},
        },
        "targetResources": [{"type": "User", **target}],
    }


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    # Compact, as Graph writes it, and raw UTF-8, not \\u escapes: the pre-filter
    # decodes every line with an escape or a space after a key.
    lines = [
        json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        for record in records
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_log_analytics(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write sign-ins as a Log Analytics CSV export; a missing id is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LOG_ANALYTICS_COLUMNS)
    for record in records:
        user_id = record.get("userId")
        writer.writerow(
            [
                record["createdDateTime"],
                "SigninLogs",
                record["id"],
                record["createdDateTime"],
                "" if user_id is None else user_id,
                record["userPrincipalName"],
                record["status"]["errorCode"],
                json.dumps(record["status"]),
                record["originalRequestId"],
            ]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_signins(folder: Path, shape: str, records: list[dict[str, Any]]) -> Path:
    """Write the background and ``records`` spread among it, in ``shape``."""
    spread = background()
    for index, record in enumerate(records):
        spread.insert((index + 1) * len(spread) // (len(records) + 1), record)
    if shape == "ndjson":
        return write_ndjson(folder / "signin.ndjson", spread)
    return write_log_analytics(folder / "signin.csv", spread)


def compare(
    audit: Path, signins: Path, *extra: str
) -> tuple[list[dict[str, Any]], str]:
    """Hunt both ways; return the plain path's findings and the fast run's log."""
    plain = hunt_jsonl(audit, signins, *THRESHOLDS, *extra, "--no-fast-path")
    fast = hunt_jsonl(audit, signins, *THRESHOLDS, *extra, "-v")
    assert plain.exit_code == 0, plain.output
    assert fast.exit_code == 0, fast.output
    assert fast.stdout_bytes == plain.stdout_bytes
    read_fast = [line for line in fast.stderr.splitlines() if "fast path" in line]
    assert any(signins.name + ":" in line for line in read_fast), fast.stderr
    findings = [json.loads(line) for line in plain.stdout.splitlines()]
    return findings, fast.stderr


def detection(audit: Path, signins: Path, *extra: str) -> dict[str, Any]:
    """Return the detection counts of the JSON report of a hunt."""
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            str(audit),
            "--signin",
            str(signins),
            "--format",
            "json",
            "--fail-on",
            "none",
            *THRESHOLDS,
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    counts: dict[str, Any] = json.loads(result.stdout)["run"]["detection"]
    return counts


def chains(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in findings if item["finding_type"] == "revocation_chain"]


def upn_reads(log: str) -> list[int]:
    """Return the record counts of the fast path's reads for UPNs, from its log."""
    counts = []
    for line in log.splitlines():
        found = UPN_READ.search(line)
        if found is not None:
            counts.append(int(found.group(1)))
    return counts


@pytest.mark.parametrize("shape", ["ndjson", "csv"])
def test_approval_without_id_joins_chain(tmp_path: Path, shape: str) -> None:
    # Neither the approval nor any denial has an id, and the approval contains none
    # of the words the pre-filter looks for.
    audit = write_ndjson(
        tmp_path / "audit.ndjson",
        [revocation({"id": TARGET_ID, "userPrincipalName": "Pat.Lee@Contoso.example"})],
    )
    approval = signin(
        9, "2026-03-02T10:08:30Z", "", "PAT.LEE@contoso.example", detail=APPROVED
    )
    signins = write_signins(
        tmp_path, shape, [*denials("pat.lee@contoso.example"), approval]
    )

    findings, _ = compare(audit, signins)

    [chain] = chains(findings)
    assert chain["target_user_id"] == TARGET_ID
    assert chain["approved"] is True
    assert chain["matched_by_upn"] is True
    # Every sign-in without an id is decoded, so the count of records matched by
    # UPN is the plain path's too.
    plain, fast = (
        detection(audit, signins, *extra) for extra in (["--no-fast-path"], [])
    )
    assert plain["records_matched_by_upn"] == 5
    assert fast["records_matched_by_upn"] == plain["records_matched_by_upn"]


# (UPN of the denials, UPN of the pre-filtered sign-in): case, the guest form and
# non-ASCII characters, one of which folds to ASCII (U+212A KELVIN SIGN to k).
UPN_FORMS = {
    "case": ("pat.lee@contoso.example", "Pat.Lee@CONTOSO.example"),
    "guest": ("pat.lee@fabrikam.example", "Pat.Lee_fabrikam.example#EXT#@contoso.ex"),
    "non-ASCII": ("jürgen@contoso.example", "JÜRGEN@Contoso.example"),
    "kelvin sign": ("kim@contoso.example", "\u212aIM@contoso.example"),
}


@pytest.mark.parametrize("shape", ["ndjson", "csv"])
@pytest.mark.parametrize("form", list(UPN_FORMS))
def test_prefiltered_signin_resolves_upn(tmp_path: Path, shape: str, form: str) -> None:
    # The revocation names the target by id alone, and the denials by UPN alone;
    # only a pre-filtered sign-in pairs the two.
    denial_upn, signin_upn = UPN_FORMS[form]
    audit = write_ndjson(tmp_path / "audit.ndjson", [revocation({"id": TARGET_ID})])
    pairing = signin(8, "2026-03-02T09:30:00Z", TARGET_ID, signin_upn)
    signins = write_signins(tmp_path, shape, [pairing, *denials(denial_upn)])

    findings, log = compare(audit, signins)

    [chain] = chains(findings)
    assert chain["target_user_id"] == TARGET_ID
    assert chain["matched_by_upn"] is True
    assert upn_reads(log) == [1]


def test_prefiltered_audit_record_resolves_upn(tmp_path: Path) -> None:
    # A delete event writes the UPN after a 32-digit hex GUID.
    prefixed = "0123456789abcdef0123456789abcdefPat.Lee@contoso.example"
    audit = write_ndjson(
        tmp_path / "audit.ndjson",
        [
            group_change({"id": TARGET_ID, "userPrincipalName": prefixed}),
            revocation({"id": TARGET_ID}),
        ],
    )
    signins = write_signins(tmp_path, "ndjson", denials("pat.lee@contoso.example"))

    findings, log = compare(audit, signins)

    [chain] = chains(findings)
    assert chain["target_user_id"] == TARGET_ID
    assert upn_reads(log) == [1]


@pytest.mark.parametrize("shape", ["ndjson", "csv"])
def test_prefiltered_second_id_keeps_upn_apart(tmp_path: Path, shape: str) -> None:
    # The revocation pairs the UPN with the target's id. A pre-filtered sign-in
    # pairs it with another id, so the plain path does not join by it.
    audit = write_ndjson(
        tmp_path / "audit.ndjson",
        [revocation({"id": TARGET_ID, "userPrincipalName": "pat.lee@contoso.example"})],
    )
    other = signin(8, "2026-03-02T09:30:00Z", OTHER_ID, "PAT.LEE@contoso.example")
    signins = write_signins(
        tmp_path, shape, [other, *denials("pat.lee@contoso.example")]
    )

    findings, log = compare(audit, signins)

    assert chains(findings) == []
    assert [item["finding_type"] for item in findings] == ["push_bombing"]
    assert findings[0]["target_user_id"] is None
    assert upn_reads(log) == [1]


def test_prefiltered_audit_second_id_keeps_upn_apart(tmp_path: Path) -> None:
    audit = write_ndjson(
        tmp_path / "audit.ndjson",
        [
            group_change(
                {"id": OTHER_ID, "userPrincipalName": "Pat.Lee@contoso.example"}
            ),
            revocation(
                {"id": TARGET_ID, "userPrincipalName": "pat.lee@contoso.example"}
            ),
        ],
    )
    signins = write_signins(tmp_path, "ndjson", denials("pat.lee@contoso.example"))

    findings, _ = compare(audit, signins)

    assert chains(findings) == []


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_upn_search_in_second_pass_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    # Every block is read again by the UPN search, in forked workers.
    monkeypatch.setattr(fastpath, "CONTEXT_PARALLEL_MIN_BYTES", 0)
    audit = write_ndjson(tmp_path / "audit.ndjson", [revocation({"id": TARGET_ID})])
    pairing = signin(8, "2026-03-02T09:30:00Z", TARGET_ID, "Pat.Lee@contoso.example")
    signins = write_signins(
        tmp_path, "ndjson", [pairing, *denials("pat.lee@contoso.example")]
    )
    if compress:
        packed = signins.with_name("signin.ndjson.gz")
        packed.write_bytes(gzip.compress(signins.read_bytes()))
        signins.unlink()
        signins = packed

    findings, log = compare(audit, signins)

    assert [chain["target_user_id"] for chain in chains(findings)] == [TARGET_ID]
    assert upn_reads(log) == [1]


def test_unsearchable_upn_reads_every_record(tmp_path: Path) -> None:
    # A UPN with a slash may be written with the JSON escape \\/, so every
    # pre-filtered record is read.
    audit = write_ndjson(tmp_path / "audit.ndjson", [revocation({"id": TARGET_ID})])
    pairing = signin(8, "2026-03-02T09:30:00Z", TARGET_ID, "pat/lee@contoso.example")
    signins = write_signins(
        tmp_path, "ndjson", [pairing, *denials("pat/lee@contoso.example")]
    )

    findings, log = compare(audit, signins)

    assert [chain["target_user_id"] for chain in chains(findings)] == [TARGET_ID]
    assert "because a UPN cannot be searched for in raw text" in log
    assert upn_reads(log) == [BACKGROUND_SIGNINS + 1]


def _without_user_ids(line: str, number: int) -> str:
    """Drop, empty or blank out the user id of a line, by the line's number; every
    fourth also upper-cases the UPN."""
    way = number % 4
    if way == 0:
        return re.sub(r'"userId":"[^"]*",?', "", line, count=1)
    if way == 3:
        line = re.sub(
            r'"userPrincipalName":"([^"]*)"',
            lambda found: f'"userPrincipalName":"{found.group(1).upper()}"',
            line,
            count=1,
        )
    blank = '"userId":"null"' if way == 2 else '"userId":""'
    return re.sub(r'"userId":"[^"]*"', blank, line, count=1)


@pytest.mark.parametrize("shape", ["graph-ndjson", "graph-page", "diagnostic-ndjson"])
def test_simulated_signins_without_ids(tmp_path: Path, shape: str) -> None:
    # Every third sign-in of a simulated export loses its user id.
    config = SimulationConfig(users=30, days=2, seed=2, signin_shape=shape)
    written = simulate(config, tmp_path)
    lines = written.signin_path.read_text().split("\n")
    for number in range(0, len(lines), 3):
        lines[number] = _without_user_ids(lines[number], number)
    written.signin_path.write_text("\n".join(lines))

    findings, log = compare(written.audit_path, written.signin_path)

    assert chains(findings)
    assert upn_reads(log)


def test_simulated_log_analytics_without_ids(tmp_path: Path) -> None:
    config = SimulationConfig(
        users=30,
        days=2,
        seed=17,
        signin_shape="log-analytics-csv",
        audit_shape="log-analytics-csv",
    )
    written = simulate(config, tmp_path)
    rows = list(csv.reader(io.StringIO(written.signin_path.read_text(), newline="")))
    user_id = rows[0].index("UserId")
    upn = rows[0].index("UserPrincipalName")
    for number in range(1, len(rows), 3):
        rows[number][user_id] = ""
        if number % 2:
            rows[number][upn] = rows[number][upn].upper()
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    written.signin_path.write_text(buffer.getvalue(), newline="")

    findings, log = compare(written.audit_path, written.signin_path, "--monthfirst")

    assert chains(findings)
    assert upn_reads(log)
