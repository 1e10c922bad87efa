"""The second pass folds its rows into the combined frames as a full read would.

After the first pass, the loader keeps each log's combined frame and the copies
it dropped instead of the per-file frames. These tests check that rounds of the
second pass still give the rows, duplicate counts and conflicts that reading
every record with the plain path gives.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from graph_lines import filler, line, signin
from h056hunt.load import LoadedData, LoadOptions, load_logs

ADMIN_ID = "11111111-1111-4111-8111-111111111111"
FIRST_USER = "22222222-2222-4222-8222-222222222222"
SECOND_USER = "44444444-4444-4444-8444-444444444444"
DENIED = {"errorCode": 500121, "additionalDetails": "MFA denied; user declined"}
APPROVED = {"errorCode": 0, "additionalDetails": "MFA completed in Azure AD"}


def write_audit(folder: Path) -> Path:
    audit = folder / "audit.ndjson"
    audit.write_text(
        "".join(
            line(
                {
                    "id": f"audit-{number}",
                    "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
                    "activityDateTime": f"2025-01-02T0{number}:00:00Z",
                    "result": "success",
                    "initiatedBy": {"user": {"id": ADMIN_ID}},
                    "targetResources": [{"id": user, "type": "User"}],
                }
            )
            for number, user in ((1, FIRST_USER), (2, SECOND_USER))
        )
    )
    return audit


def user_rows(data: LoadedData, users: set[str]) -> pd.DataFrame:
    rows = data.signin[data.signin["user_id"].isin(users)]
    return rows.reset_index(drop=True)


def duplicates_by_file(data: LoadedData) -> dict[str, int]:
    return {report.path: report.duplicates for report in data.files}


def test_rounds_extend_one_file_log(tmp_path: Path) -> None:
    audit = write_audit(tmp_path)
    signins = tmp_path / "signin.ndjson"
    signins.write_text(
        filler(1)
        + "".join(signin(f"deny-{m}", m, FIRST_USER, DENIED) for m in range(5, 11))
        + filler(12)
        + signin("approve-1", 13, FIRST_USER, APPROVED)
        + filler(14)
        + "".join(signin(f"deny2-{m}", m, SECOND_USER, DENIED) for m in range(15, 21))
        + signin("approve-2", 22, SECOND_USER, APPROVED)
    )
    plain = load_logs([str(audit)], [str(signins)], LoadOptions(fast_path=False))
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    assert len(data.signin) == 12

    assert data.read_context({FIRST_USER}) is True
    assert len(data.signin) == 13
    assert "approve-1" in set(data.signin["record_id"])
    # A second round adds rows to the frame that the first round combined.
    assert data.read_context({FIRST_USER, SECOND_USER}) is True

    users = {FIRST_USER, SECOND_USER}
    pd.testing.assert_frame_equal(user_rows(data, users), user_rows(plain, users))
    assert len(data.signin) == 14
    assert data.read_context({FIRST_USER, SECOND_USER}) is False
    assert len(data.signin) == 14


def test_second_pass_keeps_dropped_copies(tmp_path: Path) -> None:
    audit = write_audit(tmp_path)
    denials = "".join(
        signin(f"deny-{m}", m, FIRST_USER, DENIED, ipAddress="203.0.113.5")
        for m in range(5, 11)
    )
    first = tmp_path / "a.ndjson"
    first.write_text(filler(1) + denials)
    # The second file repeats one denial with a different IP address, and contains
    # the approval, which only the second pass reads.
    second = tmp_path / "b.ndjson"
    second.write_text(
        signin("deny-5", 5, FIRST_USER, DENIED, ipAddress="198.51.100.7")
        + filler(12)
        + signin("approve-1", 13, FIRST_USER, APPROVED)
    )
    inputs = [str(first), str(second)]
    plain = load_logs([str(audit)], inputs, LoadOptions(fast_path=False))
    data = load_logs([str(audit)], inputs, LoadOptions())
    assert sum(duplicates_by_file(data).values()) == 1

    assert data.read_context({FIRST_USER}) is True

    users = {FIRST_USER}
    pd.testing.assert_frame_equal(user_rows(data, users), user_rows(plain, users))
    assert duplicates_by_file(data) == duplicates_by_file(plain)
    assert [conflict.record_id for conflict in data.conflicts] == ["deny-5"]
    assert [conflict.columns for conflict in data.conflicts] == [["ip_address"]]
    assert [conflict.files for conflict in data.conflicts] == [
        conflict.files for conflict in plain.conflicts
    ]
    loaded = {report.path: report.loaded["signin"] for report in data.files}
    assert loaded[str(second)] == 1


def test_second_pass_counts_by_own_log(tmp_path: Path) -> None:
    audit = write_audit(tmp_path)
    signins = tmp_path / "signin.ndjson"
    signins.write_text(
        filler(1)
        + "".join(signin(f"deny-{m}", m, FIRST_USER, DENIED) for m in range(5, 11))
        + signin("approve-1", 13, FIRST_USER, APPROVED)
    )
    # The sign-in export given as an audit input: its records count as sign-ins.
    data = load_logs([str(audit), str(signins)], [], LoadOptions())
    report = next(r for r in data.files if r.path == str(signins))
    assert report.loaded["signin"] == 6
    assert report.prefiltered["signin"] == 21

    # The second pass reads back the approval.
    assert data.read_context({FIRST_USER}) is True
    assert report.loaded["signin"] == 7
    assert report.prefiltered["signin"] == 20
    assert report.prefiltered["audit"] == 0
