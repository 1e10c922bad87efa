"""Copies of records whose GUID ids differ only in letter case, on both paths.

Most tests write two exports of the same records, the second with its GUIDs in
upper case, and run ``h056 hunt`` with and without ``--no-fast-path``. A GUID's hex
digits read the same in either case, so each upper-case copy is a duplicate, and
a step keyed by an upper-case request id joins its sign-in.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import graph_lines
from cli_runs import assert_fast_same_as_plain, hunt_files
from graph_lines import line
from h056hunt.loaders import fastpath

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

ADMIN_ID = "11111111-1111-4111-8111-111111111111"
USER_ID = "22222222-2222-4222-8222-22222222abcd"
USER_UPN = "dana@contoso.example"
AUDIT_GUID = "a0a0a0a0-0000-4000-8000-00000000abcd"
CORRELATION_ID = "c0c0c0c0-0000-4000-8000-00000000abcd"
APP_ID = "a9a9a9a9-0000-4000-8000-00000000abcd"
DENIED = {
    "errorCode": 500121,
    "additionalDetails": "MFA denied; user declined the authentication",
}
DENIAL_MINUTES = range(2, 8)


def revocation(record_id: str, correlation_id: str = CORRELATION_ID) -> str:
    return line(
        {
            "id": record_id,
            "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
            "activityDateTime": "2025-01-02T03:00:00Z",
            "result": "success",
            "correlationId": correlation_id,
            "initiatedBy": {"user": {"id": ADMIN_ID}},
            "targetResources": [
                {"id": USER_ID, "type": "User", "userPrincipalName": USER_UPN}
            ],
        }
    )


def denial_id(minute: int) -> str:
    return f"5e5e5e5e-0000-4000-8000-0000000000a{minute}"


def denial(
    record_id: str, minute: int, status: dict[str, Any] = DENIED, **changes: Any
) -> str:
    fields = {
        "correlationId": record_id,
        "isInteractive": True,
        "signInEventTypes": ["interactiveUser"],
        "ipAddress": "203.0.113.5",
        **changes,
    }
    return graph_lines.signin(record_id, minute, USER_ID, status, **fields)


def write_exports(
    folder: Path, upper_extra: dict[str, Any], compress: bool = False
) -> tuple[Path, Path]:
    """Write two audit and two sign-in exports of the same records, the second of
    each with upper-case GUIDs, and return the audit and sign-in folders.

    With ``compress``, the second sign-in export is written as ``s2.ndjson.gz``.
    """
    audit = folder / "audit"
    audit.mkdir()
    # The Directory_ ids differ in the case of their suffix, which is not a GUID,
    # so they stay two records.
    (audit / "a1.ndjson").write_text(
        revocation(AUDIT_GUID) + revocation(f"Directory_{CORRELATION_ID}_ABCDE_1")
    )
    (audit / "a2.ndjson").write_text(
        revocation(AUDIT_GUID.upper(), CORRELATION_ID.upper())
        + revocation(f"Directory_{CORRELATION_ID}_abcde_1")
    )
    signins = folder / "signin"
    signins.mkdir()
    (signins / "s1.ndjson").write_text(
        graph_lines.filler(1)
        + "".join(denial(denial_id(minute), minute) for minute in DENIAL_MINUTES)
        + graph_lines.filler(20)
    )
    upper = graph_lines.filler(30) + "".join(
        denial(denial_id(minute).upper(), minute, **upper_extra)
        for minute in DENIAL_MINUTES
    )
    if compress:
        (signins / "s2.ndjson.gz").write_bytes(gzip.compress(upper.encode()))
    else:
        (signins / "s2.ndjson").write_text(upper)
    return audit, signins


def file_counts(report: dict[str, Any]) -> dict[str, tuple[dict[str, int], int]]:
    return {
        Path(item["path"]).name: (item["loaded"], item["duplicates"])
        for item in report["run"]["files"]
    }


@pytest.mark.parametrize("whole_files", [False, True], ids=["ranges", "whole_files"])
def test_guid_case_copies_are_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole_files: bool
) -> None:
    audit, signins = write_exports(tmp_path, {}, compress=whole_files)
    if whole_files:
        # Together the files pass the split size and none is split, so each, the
        # gzip one included, goes to the scan workers whole.
        sizes = [path.stat().st_size for path in tmp_path.glob("*/*")]
        monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", sum(sizes))
        monkeypatch.setattr(fastpath, "POOLED_FILE_MIN_BYTES", 1)
    upper_name = "s2.ndjson.gz" if whole_files else "s2.ndjson"

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)
    counts = file_counts(report)

    assert counts["a1.ndjson"] == ({"audit": 2, "signin": 0, "steps": 0}, 0)
    assert counts["a2.ndjson"] == ({"audit": 1, "signin": 0, "steps": 0}, 1)
    assert counts["s1.ndjson"][1] == 0
    assert counts[upper_name][1] == len(DENIAL_MINUTES)
    assert report["run"]["conflicts"] == []
    findings = report["findings"]
    assert [finding["denied_prompts"] for finding in findings] == [6]

    assert_fast_same_as_plain(audit, signins, signins / upper_name)


def test_guid_case_copies_conflict_once(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path, {"ipAddress": "198.51.100.7"})

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)
    conflicts = report["run"]["conflicts"]

    assert [conflict["record_id"] for conflict in conflicts] == [
        denial_id(minute) for minute in DENIAL_MINUTES
    ]
    assert {tuple(conflict["columns"]) for conflict in conflicts} == {("ip_address",)}
    assert file_counts(report)["s2.ndjson"][1] == len(DENIAL_MINUTES)

    assert_fast_same_as_plain(audit, signins, signins / "s2.ndjson")


def test_auth_details_upper_case_ids_join(tmp_path: Path) -> None:
    audit = tmp_path / "audit.ndjson"
    audit.write_text(revocation(AUDIT_GUID))
    signins = tmp_path / "signin"
    signins.mkdir()
    graph = signins / "signin.ndjson"
    # Sign-ins whose status shows no failure, among filler. Their denials are in
    # the portal's AuthDetails download, keyed by request id in upper case.
    graph.write_text(
        graph_lines.filler(1)
        + "".join(
            denial(denial_id(minute), minute, status={"errorCode": 0})
            for minute in DENIAL_MINUTES
        )
        + graph_lines.filler(20)
    )
    (signins / "signin_AuthDetails.csv").write_text(
        "Request ID,Authentication method,Authentication method detail,"
        "Succeeded,Result detail,Date (UTC)\n"
        + "".join(
            f"{denial_id(minute).upper()},Mobile app notification,,false,"
            f"MFA denied; user declined the authentication,"
            f"2025-01-02T03:{minute:02d}:30Z\n"
            for minute in DENIAL_MINUTES
        )
    )

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    findings = json.loads(plain.stdout)["findings"]

    assert [finding["finding_type"] for finding in findings] == ["revocation_chain"]
    assert findings[0]["denied_prompts"] == len(DENIAL_MINUTES)

    assert_fast_same_as_plain(audit, signins, graph)


def test_other_guid_columns_no_conflict(tmp_path: Path) -> None:
    # An export that writes every GUID in upper case: the copies differ in the case
    # of the user, app and actor ids too, and are still the same records.
    audit, signins = write_exports(tmp_path, {"appId": APP_ID.upper()})
    upper = signins / "s2.ndjson"
    upper.write_text(upper.read_text().replace(USER_ID, USER_ID.upper()))
    (signins / "s1.ndjson").write_text(
        (signins / "s1.ndjson")
        .read_text()
        .replace('"userId"', f'"appId":"{APP_ID}","userId"')
    )
    copied = audit / "a2.ndjson"
    copied.write_text(
        copied.read_text()
        .replace(ADMIN_ID, ADMIN_ID.upper())
        .replace(USER_ID, USER_ID.upper())
    )

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)
    counts = file_counts(report)

    assert report["run"]["conflicts"] == []
    assert counts["a2.ndjson"][1] == 1
    assert counts["s2.ndjson"][1] == len(DENIAL_MINUTES)

    assert_fast_same_as_plain(audit, signins, upper)
