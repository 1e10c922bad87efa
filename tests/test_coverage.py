"""Coverage warnings through the real CLI: one warning per gap in the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.coverage import covered_ranges
from h056hunt.loaders.sink import FileReport

ADMIN_ID = "00000000-0000-4000-8000-0000000000ad"
# The user whose successful sign-ins make up what the sign-in data covers.
QUIET_USER = 999
DAY = "2026-03-02"
NOT_LOOKED_AT = "a quiet result there means not looked at"


def user_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def upn(number: int) -> str:
    return f"user{number}@contoso.example"


def revocation(number: int, when: str, target: int) -> dict[str, Any]:
    """Build a revocation of user ``target`` by an administrator at ``when``."""
    return {
        "id": f"Directory_revoke_{number}",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": f"{DAY}T{when}Z",
        "result": "success",
        "initiatedBy": {
            "user": {"id": ADMIN_ID, "userPrincipalName": "admin@contoso.example"}
        },
        "targetResources": [
            {"id": user_id(target), "type": "User", "userPrincipalName": upn(target)}
        ],
    }


def signin(number: int, when: str, target: int, error_code: int) -> dict[str, Any]:
    """Build a sign-in of user ``target`` at ``when`` with Entra ``error_code``."""
    return {
        "id": f"5a000000-0000-4000-8000-{number:012d}",
        "createdDateTime": f"{DAY}T{when}Z",
        "userId": user_id(target),
        "userPrincipalName": upn(target),
        "ipAddress": "203.0.113.7",
        "originalRequestId": f"request-{number}",
        "status": {
            "errorCode": error_code,
            "additionalDetails": "MFA denied; user declined the authentication",
        },
    }


def quiet_signins(first_hour: int, last_hour: int) -> list[dict[str, Any]]:
    """Build successful sign-ins of an unrelated user every 10 minutes.

    They run from ``first_hour``:00 to ``last_hour``:00 and define what the
    sign-in data covers.
    """
    records = []
    for minute in range(first_hour * 60, last_hour * 60 + 1, 10):
        when = f"{minute // 60:02d}:{minute % 60:02d}:00"
        records.append(signin(len(records) + 1000 * first_hour, when, QUIET_USER, 0))
    return records


def write_exports(
    tmp_path: Path, audits: list[dict[str, Any]], signins: list[dict[str, Any]]
) -> list[str]:
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"value": audits}), encoding="utf-8")
    signin_file = tmp_path / "signin.json"
    signin_file.write_text(json.dumps({"value": signins}), encoding="utf-8")
    return ["--audit", str(audit), "--signin", str(signin_file)]


def hunt(*args: str) -> Result:
    return CliRunner().invoke(
        main, ["hunt", "--min-denials", "3", "--fail-on", "none", *args]
    )


def json_warnings(inputs: list[str]) -> list[str]:
    result = hunt("-q", "--format", "json", *inputs)
    assert result.exit_code == 0, result.stderr
    warnings: list[str] = json.loads(result.stdout)["run"]["coverage_warnings"]
    return warnings


def test_revocations_past_data_end_share_warning(tmp_path: Path) -> None:
    audits = [
        revocation(number, f"09:{10 * number:02d}:00", number) for number in range(5)
    ]
    inputs = write_exports(tmp_path, audits, quiet_signins(8, 10))

    warnings = json_warnings(inputs)

    assert warnings == [
        f"sign-in data does not cover {DAY}T10:00:00Z to {DAY}T11:40:00Z, "
        "overlapping the follow-up windows of 5 revocations made between "
        f"{DAY}T09:00:00Z and {DAY}T09:40:00Z (user0@contoso.example, "
        f"user1@contoso.example, user2@contoso.example and 2 other users): "
        f"{NOT_LOOKED_AT}"
    ]


def test_grouped_warning_printed_once(tmp_path: Path) -> None:
    audits = [
        revocation(number, f"09:{10 * number:02d}:00", number) for number in range(5)
    ]
    inputs = write_exports(tmp_path, audits, quiet_signins(8, 10))

    result = hunt("--format", "jsonl", *inputs)

    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("coverage:") == 1
    assert result.stderr.count("does not cover") == 1
    assert "5 revocations" in result.stderr


def test_single_revocation_keeps_wording(tmp_path: Path) -> None:
    inputs = write_exports(
        tmp_path, [revocation(1, "09:30:00", 1)], quiet_signins(8, 10)
    )

    warnings = json_warnings(inputs)

    assert warnings == [
        f"sign-in data does not cover {DAY}T10:00:00Z to {DAY}T11:30:00Z, inside "
        "the follow-up window of the revocation of user1@contoso.example at "
        f"{DAY}T09:30:00Z: {NOT_LOOKED_AT}"
    ]


def test_two_gaps_give_two_warnings(tmp_path: Path) -> None:
    # Sign-ins cover 08:00-10:00 and 14:00-16:00. The revocation at 11:00 falls
    # inside the first gap, so its window starts uncovered but still joins that gap.
    audits = [
        revocation(1, "15:50:00", 4),
        revocation(2, "09:30:00", 1),
        revocation(3, "11:00:00", 2),
        revocation(4, "09:45:00", 3),
        revocation(5, "15:30:00", 4),
    ]
    inputs = write_exports(
        tmp_path, audits, quiet_signins(8, 10) + quiet_signins(14, 16)
    )

    warnings = json_warnings(inputs)

    assert len(warnings) == 2
    assert warnings[0] == (
        f"sign-in data does not cover {DAY}T10:00:00Z to {DAY}T13:00:00Z, "
        "overlapping the follow-up windows of 3 revocations made between "
        f"{DAY}T09:30:00Z and {DAY}T11:00:00Z (users user1@contoso.example, "
        f"user3@contoso.example and user2@contoso.example): {NOT_LOOKED_AT}"
    )
    assert warnings[1] == (
        f"sign-in data does not cover {DAY}T16:00:00Z to {DAY}T17:50:00Z, "
        "overlapping the follow-up windows of 2 revocations made between "
        f"{DAY}T15:30:00Z and {DAY}T15:50:00Z (user user4@contoso.example): "
        f"{NOT_LOOKED_AT}"
    )


def test_short_hole_not_warned(tmp_path: Path) -> None:
    # The window ends five minutes after the data, shorter than the burst window.
    inputs = write_exports(
        tmp_path, [revocation(1, "08:05:00", 1)], quiet_signins(8, 10)
    )

    assert json_warnings(inputs) == []


def test_markdown_counts_gaps_not_revocations(tmp_path: Path) -> None:
    audits = [
        revocation(number, f"09:{10 * number:02d}:00", number) for number in range(5)
    ]
    inputs = write_exports(tmp_path, audits, quiet_signins(8, 10))

    result = hunt("-q", "--format", "markdown", *inputs)

    assert result.exit_code == 0, result.stderr
    assert "* Coverage gaps (1):" in result.stdout
    assert "the input data has 1 coverage gap." in result.stdout
    assert "5 revocations" in result.stdout


def test_html_counts_gaps_not_revocations(tmp_path: Path) -> None:
    audits = [
        revocation(number, f"09:{10 * number:02d}:00", number) for number in range(5)
    ]
    inputs = write_exports(tmp_path, audits, quiet_signins(8, 10))

    result = hunt("-q", "--format", "html", *inputs)

    assert result.exit_code == 0, result.stderr
    assert "Coverage gaps (1):" in result.stdout
    assert result.stdout.count("does not cover") == 1


def test_hostile_user_names_stay_plain_text(tmp_path: Path) -> None:
    audits = [
        revocation(number, f"09:{10 * number:02d}:00", number) for number in (1, 2)
    ]
    audits[0]["targetResources"][0]["userPrincipalName"] = "<b>x</b>, y and 9 more"
    inputs = write_exports(tmp_path, audits, quiet_signins(8, 10))

    warnings = json_warnings(inputs)
    html = hunt("-q", "--format", "html", *inputs).stdout

    assert len(warnings) == 1
    # The name contains the list's separators, so it is quoted and reads as one.
    assert "(users '<b>x</b>, y and 9 more' and user2@contoso.example)" in warnings[0]
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def burst(user: int, hour: int) -> list[dict[str, Any]]:
    """Build three denied prompts of user ``user`` from ``hour``:00 on."""
    return [
        signin(100 * user + minute, f"{hour:02d}:{minute:02d}:00", user, 500121)
        for minute in range(3)
    ]


def test_bursts_before_audit_gap_share_warning(tmp_path: Path) -> None:
    # The audit data covers only the previous day, so the look-back window of every
    # burst falls into the one gap after it.
    early = revocation(1, "00:00:00", 9) | {
        "activityDisplayName": "Add member to group",
        "activityDateTime": "2026-03-01T00:00:00Z",
    }
    signins = burst(1, 10) + burst(2, 11) + burst(3, 12) + burst(4, 13)
    inputs = write_exports(tmp_path, [early], signins)

    warnings = json_warnings(inputs)

    assert warnings == [
        f"audit data does not cover {DAY}T08:00:00Z to {DAY}T13:00:00Z, before 4 "
        f"bursts that began between {DAY}T10:00:00Z and {DAY}T13:00:00Z "
        "(user1@contoso.example, user2@contoso.example, user3@contoso.example and 1 "
        "other user): a revocation there would not be seen, so these bursts may be "
        "revocation chains"
    ]


def test_single_burst_keeps_wording(tmp_path: Path) -> None:
    early = revocation(1, "00:00:00", 9) | {
        "activityDisplayName": "Add member to group",
        "activityDateTime": "2026-03-01T00:00:00Z",
    }
    inputs = write_exports(tmp_path, [early], burst(1, 10))

    warnings = json_warnings(inputs)

    assert warnings == [
        f"audit data does not cover {DAY}T08:00:00Z to {DAY}T10:00:00Z, before the "
        f"burst of user1@contoso.example at {DAY}T10:00:00Z: a "
        "revocation there would not be seen, so this burst may be a revocation chain"
    ]


def audit_record(number: int, when: str) -> dict[str, Any]:
    """Build an audit record at ``when`` (full ISO time) that is not a revocation.

    Its activity, "Update application", contains no word the detection reads, so
    the fast path counts it as pre-filtered in a newline-delimited export.
    """
    return revocation(number, "00:00:00", 9) | {
        "id": f"Directory_application_{number}",
        "activityDisplayName": "Update application",
        "activityDateTime": when,
    }


def test_audit_gap_inside_span_warned(tmp_path: Path) -> None:
    # 36 hours pass without an audit record, longer than the 24-hour quiet limit,
    # and the burst's two-hour look-back window lies inside that stretch.
    audits = [
        audit_record(1, "2026-03-01T00:00:00Z"),
        audit_record(2, "2026-03-03T12:00:00Z"),
    ]
    inputs = write_exports(tmp_path, audits, burst(1, 10))

    warnings = json_warnings(inputs)

    assert warnings == [
        f"audit data does not cover {DAY}T08:00:00Z to {DAY}T10:00:00Z, before the "
        f"burst of user1@contoso.example at {DAY}T10:00:00Z: a revocation there "
        "would not be seen, so this burst may be a revocation chain"
    ]


def test_audit_gap_groups_only_its_bursts(tmp_path: Path) -> None:
    # Audit records every 6 hours except for 30 hours from 2026-03-02T00:00. Bursts
    # at 10:00 and 13:00 fall into that gap, the burst at 2026-03-03T09:00 does not.
    times = [
        "2026-03-01T12:00:00Z",
        "2026-03-01T18:00:00Z",
        "2026-03-02T00:00:00Z",
        "2026-03-03T06:00:00Z",
        "2026-03-03T12:00:00Z",
    ]
    audits = [audit_record(number, when) for number, when in enumerate(times)]
    late = [
        signin(900 + minute, f"09:{minute:02d}:00", 3, 500121)
        | {"createdDateTime": f"2026-03-03T09:{minute:02d}:00Z"}
        for minute in range(3)
    ]
    inputs = write_exports(tmp_path, audits, burst(1, 10) + burst(2, 13) + late)

    result = hunt("-q", "--format", "json", *inputs)

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    bursts = [item["first_prompt_time"] for item in report["findings"]]
    assert sorted(bursts) == [
        f"{DAY}T10:00:00Z",
        f"{DAY}T13:00:00Z",
        "2026-03-03T09:00:00Z",
    ]
    assert report["run"]["coverage_warnings"] == [
        f"audit data does not cover {DAY}T08:00:00Z to {DAY}T13:00:00Z, before 2 "
        f"bursts that began between {DAY}T10:00:00Z and {DAY}T13:00:00Z (users "
        "user1@contoso.example and user2@contoso.example): a revocation there "
        "would not be seen, so these bursts may be revocation chains"
    ]


def test_audit_gap_under_limit_not_warned(tmp_path: Path) -> None:
    # 23 hours without an audit record is within the 24-hour quiet limit.
    audits = [
        audit_record(1, "2026-03-01T20:00:00Z"),
        audit_record(2, "2026-03-02T19:00:00Z"),
    ]
    inputs = write_exports(tmp_path, audits, burst(1, 10))

    assert json_warnings(inputs) == []


def test_audit_quiet_limit_follows_longer_max_lag(tmp_path: Path) -> None:
    # 26 hours without an audit record: a gap at the default max lag of 2 hours,
    # where the quiet limit is 24 hours, but not at a max lag of 30 hours.
    times = [
        "2026-02-28T00:00:00Z",
        "2026-02-28T20:00:00Z",
        "2026-03-01T00:00:00Z",
        "2026-03-02T02:00:00Z",
        "2026-03-02T20:00:00Z",
    ]
    audits = [audit_record(number, when) for number, when in enumerate(times)]
    inputs = write_exports(tmp_path, audits, burst(1, 1))

    default_lag = json_warnings(inputs)
    long_lag = json_warnings(["--max-lag", "30h", *inputs])

    assert default_lag == [
        f"audit data does not cover 2026-03-01T23:00:00Z to {DAY}T01:00:00Z, before "
        f"the burst of user1@contoso.example at {DAY}T01:00:00Z: a revocation there "
        "would not be seen, so this burst may be a revocation chain"
    ]
    assert long_lag == []


def test_audit_files_close_together_join(tmp_path: Path) -> None:
    # Two consecutive exports: 30 minutes pass between the last record of the first file
    # and the first record of the second, inside the burst's look-back window. Only
    # the stretch after the second file's last record is uncovered.
    audits = [
        audit_record(1, f"{DAY}T06:00:00Z"),
        audit_record(2, f"{DAY}T09:15:00Z"),
    ]
    inputs = write_exports(tmp_path, audits, burst(1, 10))
    next_day = tmp_path / "audit-next.json"
    next_day.write_text(
        json.dumps({"value": [audit_record(3, f"{DAY}T09:45:00Z")]}), encoding="utf-8"
    )

    warnings = json_warnings([*inputs, "--audit", str(next_day)])

    assert warnings == [
        f"audit data does not cover {DAY}T09:45:00Z to {DAY}T10:00:00Z, before the "
        f"burst of user1@contoso.example at {DAY}T10:00:00Z: a revocation there "
        "would not be seen, so this burst may be a revocation chain"
    ]


def test_audit_end_of_data_still_warned(tmp_path: Path) -> None:
    # The audit records are 21 hours apart, so covered, but end at 09:00: the last
    # hour of the burst's look-back window lies after the audit data.
    audits = [
        audit_record(1, "2026-03-01T12:00:00Z"),
        audit_record(2, f"{DAY}T09:00:00Z"),
    ]
    inputs = write_exports(tmp_path, audits, burst(1, 10))

    warnings = json_warnings(inputs)

    assert warnings == [
        f"audit data does not cover {DAY}T09:00:00Z to {DAY}T10:00:00Z, before the "
        f"burst of user1@contoso.example at {DAY}T10:00:00Z: a revocation there "
        "would not be seen, so this burst may be a revocation chain"
    ]


def test_prefiltered_audit_records_count_as_coverage(tmp_path: Path) -> None:
    # The middle record splits 36 hours into two 18-hour stretches, so the data is
    # covered. The fast path decodes none of the records, so their times must come
    # from the file's time ranges.
    times = ["2026-03-01T12:00:00Z", f"{DAY}T06:00:00Z", "2026-03-03T00:00:00Z"]
    lines = [
        json.dumps(audit_record(number, when), separators=(",", ":"))
        for number, when in enumerate(times)
    ]
    audit = tmp_path / "audit.ndjson"
    audit.write_text("\n".join(lines) + "\n", encoding="utf-8")
    signin_file = tmp_path / "signin.json"
    signin_file.write_text(json.dumps({"value": burst(1, 10)}), encoding="utf-8")

    result = hunt(
        "-q", "--format", "json", "--audit", str(audit), "--signin", str(signin_file)
    )

    assert result.exit_code == 0, result.stderr
    run = json.loads(result.stdout)["run"]
    audit_files = [item for item in run["files"] if item["path"] == str(audit)]
    assert audit_files[0]["prefiltered"] == 3
    assert run["coverage_warnings"] == []


def test_audit_ranges_from_rows_without_report() -> None:
    # a.json has no stored audit ranges, so its rows count, split at the 24-hour
    # gap. b.json's stored ranges count as they are, and its sign-in ranges do not.
    times = ["2026-03-01T00:00:00Z", "2026-03-01T20:00:00Z", "2026-03-03T00:00:00Z"]
    audit = pd.DataFrame(
        {"source_file": ["a.json"] * 3, "event_time": pd.to_datetime(times, utc=True)}
    )
    stored = FileReport(path="b.json", requested_log="audit")
    day = pd.Timestamp("2026-03-05T00:00:00Z")
    hour = pd.Timedelta(hours=1)
    stored.time_ranges["audit"] = np.array([[day.value, (day + hour).value]])
    stored.time_ranges["signin"] = np.array([[0, day.value]])
    unstored = FileReport(path="a.json", requested_log="audit")

    ranges = covered_ranges(
        audit, pd.Timedelta(hours=24), [stored, unstored], log="audit"
    )

    first, middle, last = pd.to_datetime(times, utc=True)
    assert ranges == [(first, middle), (last, last), (day, day + hour)]
