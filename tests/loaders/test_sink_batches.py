"""Tests that rows converted to Arrow in batches build the same frames as one batch."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from h056hunt.load import LoadedData, load_logs
from h056hunt.loaders import entra, sink
from h056hunt.loaders.json_export import route_record
from h056hunt.loaders.scan_decode import ADD_AUDIT_BATCH, BatchingRecordingSink, replay

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"
DENIED = "MFA denied; user declined the authentication"


def audit(index: int, when: str | None) -> dict[str, Any]:
    return {
        "id": f"A{index}",
        "activityDateTime": when,
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "category": "UserManagement",
        "result": "success",
        "correlationId": f"c-{index}",
        "initiatedBy": {
            "user": {
                "id": "00000000-0000-4000-8000-0000000000aa",
                "userPrincipalName": "Admin@Contoso.example",
            }
        },
        "targetResources": [
            {
                "id": f"00000000-0000-4000-8000-{index:012d}",
                "type": "User",
                "userPrincipalName": f"Guest{index}_Fabrikam.com#EXT#@Contoso.example",
            }
        ],
    }


def signin(index: int, when: str | None) -> dict[str, Any]:
    return {
        "id": f"S{index}",
        "createdDateTime": when,
        "userId": f"00000000-0000-4000-8000-{index:012d}",
        "userPrincipalName": f"User{index}@Contoso.example",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
        "authenticationDetails": [
            {
                "authenticationStepDateTime": when if index % 3 else "not a time",
                "authenticationMethod": "Mobile app notification",
                "succeeded": False,
                "authenticationStepResultDetail": DENIED,
            }
        ],
    }


def times(count: int) -> list[str | None]:
    """Return event times with a missing and an unreadable one among them."""
    values: list[str | None] = [
        f"2025-02-03T10:{minute:02d}:00.1234567Z" for minute in range(count)
    ]
    values[2] = None
    values[5] = "yesterday"
    return values


def load_files(tmp_path: Path) -> LoadedData:
    audit_path = tmp_path / "audit.json"
    audit_path.write_text(
        json.dumps({"value": [audit(i, when) for i, when in enumerate(times(11))]})
    )
    signin_path = tmp_path / "signin.json"
    signin_path.write_text(
        json.dumps({"value": [signin(i, when) for i, when in enumerate(times(11))]})
    )
    return load_logs(
        [str(audit_path), str(SAMPLE_LOGS / "audit.json")],
        [str(signin_path), str(SAMPLE_LOGS / "signin.json")],
    )


def test_small_batches_same_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = load_files(tmp_path)
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    batched = load_files(tmp_path)

    pd.testing.assert_frame_equal(batched.audit, whole.audit)
    pd.testing.assert_frame_equal(batched.signin, whole.signin)
    pd.testing.assert_frame_equal(batched.steps, whole.steps)


def test_small_batches_same_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    data = load_files(tmp_path)

    reports = {Path(report.path): report for report in data.files}
    expected = Counter({"missing timestamp": 1, "invalid timestamp": 1})
    assert reports[tmp_path / "audit.json"].skipped == expected
    assert reports[tmp_path / "signin.json"].skipped == expected


def test_small_batches_lower_upns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    data = load_files(tmp_path)

    mine = data.audit[data.audit["record_id"].str.fullmatch(r"A\d+")]
    assert len(mine) == 9
    assert set(mine["actor_upn"]) == {"admin@contoso.example"}
    assert mine["target_upn"].str.endswith("#EXT#@contoso.example").all()
    users = data.signin[data.signin["record_id"].str.fullmatch(r"S\d+")]
    assert users["user_upn"].str.fullmatch(r"user\d+@contoso\.example").all()


def test_unreadable_step_time_kept_as_null(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    data = load_files(tmp_path)

    steps = data.steps[data.steps["record_id"].str.fullmatch(r"S\d+")]
    # Sign-ins 2 and 5 are skipped for their times, and with them their steps.
    # The steps of sign-ins 0, 3, 6 and 9 have a time that cannot be read.
    assert len(steps) == 9
    assert steps["step_time"].isna().sum() == 4


def mixed_records() -> list[Any]:
    """Return records that take every branch of the fast path's audit batches."""
    no_id = audit(20, "2025-02-03T11:00:00Z")
    del no_id["id"]
    no_actor = audit(21, "2025-02-03T11:01:00Z")
    no_actor["initiatedBy"] = {"user": None, "app": None}
    diagnostic = {
        "time": "2025-02-03T11:02:00Z",
        "category": "AuditLogs",
        "operationName": "Revoke user sessions",
        "properties": audit(22, None),
    }
    return [
        audit(0, "2025-02-03T10:00:00Z"),
        audit(1, "2025-02-03T10:01:00Z"),
        no_id,
        no_actor,
        diagnostic,
        audit(3, "2025-02-03T10:03:00Z"),
        {"neither": "audit nor sign-in"},
        signin(4, "2025-02-03T10:04:00Z"),
        audit(5, "yesterday"),
        audit(6, None),
        audit(7, "2025-02-03T10:07:00Z"),
    ]


def frames_of(records: list[Any], *, recorded: bool) -> sink.FileFrames:
    """Route ``records`` into a FileSink directly, or through a recording and
    its replay with the line and record numbers shifted by 100 and 50."""
    file_sink = sink.FileSink("audit.json", "audit", None)
    if not recorded:
        for index, record in enumerate(records):
            route_record(record, file_sink, line=index + 101, record=index + 51)
        return file_sink.finish()
    recorder = BatchingRecordingSink("audit.json")
    for index, record in enumerate(records):
        route_record(record, recorder, line=index + 1, record=index + 1)
    recorder.flush()
    replay(recorder.calls, file_sink, 100, 50)
    return file_sink.finish()


def test_audit_batches_same_frames() -> None:
    direct = frames_of(mixed_records(), recorded=False)
    replayed = frames_of(mixed_records(), recorded=True)

    pd.testing.assert_frame_equal(replayed.audit, direct.audit)
    pd.testing.assert_frame_equal(replayed.signin, direct.signin)
    pd.testing.assert_frame_equal(replayed.steps, direct.steps)


def test_audit_batches_keep_call_order() -> None:
    recorder = BatchingRecordingSink("audit.json")
    for index, record in enumerate(mixed_records()):
        route_record(record, recorder, line=index + 1, record=index + 1)
    recorder.flush()

    methods = [method for method, _, _ in recorder.calls]
    # The diagnostic record has another shape, so it closes the first batch.
    assert methods == [
        ADD_AUDIT_BATCH,
        ADD_AUDIT_BATCH,
        ADD_AUDIT_BATCH,
        "skip",
        "add_signin",
        ADD_AUDIT_BATCH,
    ]
    batches = [call[1][0] for call in recorder.calls if call[0] == ADD_AUDIT_BATCH]
    assert batches[0].lines == (1, 2, 3, 4)
    assert batches[0].time_column == "activityDateTime"
    assert batches[1].shape == "azure-monitor-diagnostic"
    assert batches[1].lines == (5,)
    assert batches[3].records == (9, 10, 11)


def test_audit_batches_same_report() -> None:
    file_sink = sink.FileSink("audit.json", "audit", None)
    recorder = BatchingRecordingSink("audit.json")
    for index, record in enumerate(mixed_records()):
        route_record(record, recorder, line=index + 1, record=index + 1)
    recorder.flush()
    replay(recorder.calls, file_sink, 0, 0)
    file_sink.finish()
    report = file_sink.report

    assert report.records_seen == 11
    assert report.loaded["audit"] == 7
    assert report.shapes == Counter({"graph": 9, "azure-monitor-diagnostic": 1})
    assert report.skipped == Counter(
        {
            "unrecognised record (not an Entra audit or sign-in record)": 1,
            "missing timestamp": 1,
            "invalid timestamp": 1,
        }
    )


def test_audit_batch_content_id_for_missing_id() -> None:
    frames = frames_of(mixed_records(), recorded=True)
    audit_frame = frames.audit

    no_id = audit_frame[audit_frame["source_record"] == 53]
    assert len(no_id) == 1
    assert no_id["record_id"].iloc[0].startswith("sha256:")
    no_actor = audit_frame[audit_frame["record_id"] == "A21"]
    assert no_actor["actor_type"].tolist() == ["none"]
    assert no_actor["actor_id"].isna().all()


def test_audit_row_without_line_recorded_alone() -> None:
    values = entra.audit_values(audit(30, "2025-02-03T12:00:00Z"))
    row = entra.audit_row(audit(31, "2025-02-03T12:01:00Z"))
    recorder = BatchingRecordingSink("audit.json")
    recorder.add_audit_values(values, shape="graph", line=1, record=1)
    recorder.add_audit_values(values, shape="graph", line=None, record=2)
    recorder.add_audit(row, shape="graph", line=None, record=3)
    recorder.flush()
    direct = sink.FileSink("audit.json", "audit", None)
    direct.add_audit_values(values, shape="graph", line=1, record=1)
    direct.add_audit_values(values, shape="graph", line=None, record=2)
    direct.add_audit(dict(row), shape="graph", line=None, record=3)
    replayed = sink.FileSink("audit.json", "audit", None)
    replay(recorder.calls, replayed, 0, 0)

    methods = [method for method, _, _ in recorder.calls]
    assert methods == [ADD_AUDIT_BATCH, "add_audit", "add_audit"]
    pd.testing.assert_frame_equal(replayed.finish().audit, direct.finish().audit)


def test_audit_batches_drop_copies_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sink.copies, "COMPACT_ROWS", 4)
    records = mixed_records() * 3
    direct_sink = sink.FileSink("audit.json", "audit", None)
    for index, record in enumerate(records):
        route_record(record, direct_sink, line=index + 1, record=index + 1)
    recorder = BatchingRecordingSink("audit.json")
    for index, record in enumerate(records):
        route_record(record, recorder, line=index + 1, record=index + 1)
    recorder.flush()
    replayed_sink = sink.FileSink("audit.json", "audit", None)
    replay(recorder.calls, replayed_sink, 0, 0)
    direct = direct_sink.finish()
    replayed = replayed_sink.finish()

    # The sinks look for copies at different row counts, so each may leave
    # copies that de-duplication of the frame drops later, keeping the first.
    content = [name for name in direct.audit.columns if not name.startswith("source_")]
    direct_rows = direct.audit.drop_duplicates(content).reset_index(drop=True)
    replayed_rows = replayed.audit.drop_duplicates(content).reset_index(drop=True)
    pd.testing.assert_frame_equal(replayed_rows, direct_rows)
    direct_copies = direct_sink.report.duplicates + len(direct.audit) - len(direct_rows)
    replayed_copies = (
        replayed_sink.report.duplicates + len(replayed.audit) - len(replayed_rows)
    )
    assert replayed_copies == direct_copies
    assert replayed_sink.report.duplicates > 0
    assert replayed_sink.report.skipped == direct_sink.report.skipped
