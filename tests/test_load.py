"""Tests for loading files into canonical frames and accounting for every record."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from h056hunt.errors import InputError
from h056hunt.load import (
    LoadedData,
    LoadOptions,
    _combine,
    _CombinedLog,
    _skip_whole_file,
    load_logs,
)
from h056hunt.loaders.sink import FileFrames, FileReport, FileSink

DENIED = "MFA denied; user declined the authentication"


def signin(record_id: str, minute: int, **fields: Any) -> dict[str, Any]:
    record = {
        "id": record_id,
        "createdDateTime": f"2025-02-03T10:{minute:02d}:00.1234567Z",
        "userId": "00000000-0000-4000-8000-000000000001",
        "userPrincipalName": "t@contoso.example",
        "originalRequestId": f"req-{record_id}",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
    }
    record.update(fields)
    return record


def write_page(path: Path, records: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"value": records}))
    return str(path)


def accounted(report: FileReport) -> int:
    return report.loaded_total + report.duplicates + sum(report.skipped.values())


def assert_accounting(data: LoadedData) -> None:
    for report in data.files:
        assert accounted(report) == report.records_seen, report.path


def test_accounting_per_file(tmp_path: Path) -> None:
    page = {
        "value": [
            signin("S1", 1),
            {"error": {"code": "BadRequest"}},
            signin("S2", 2, createdDateTime="garbage"),
            {"unrelated": True},
        ]
    }
    path = tmp_path / "signins.json"
    path.write_text(json.dumps(page))

    data = load_logs([], [str(path)])

    report = data.files[0]
    assert report.records_seen == 4
    assert report.loaded["signin"] == 1
    assert sum(report.skipped.values()) == 3
    assert_accounting(data)


def test_steps_not_counted_as_records(tmp_path: Path) -> None:
    steps = [
        {"authenticationMethod": "Password", "succeeded": True},
        {
            "authenticationMethod": "Mobile app notification",
            "succeeded": False,
            "authenticationStepResultDetail": DENIED,
        },
    ]
    path = write_page(
        tmp_path / "s.json", [signin("S1", 1, authenticationDetails=steps)]
    )

    data = load_logs([], [path])

    assert len(data.steps) == 2
    assert data.files[0].loaded["steps"] == 0
    assert_accounting(data)


def test_duplicates_across_files_counted_once(tmp_path: Path) -> None:
    first = write_page(tmp_path / "a.json", [signin("S1", 1), signin("S2", 2)])
    second = write_page(tmp_path / "b.json", [signin("S2", 2), signin("S3", 3)])

    data = load_logs([], [first, second])

    assert list(data.signin["record_id"]) == ["S1", "S2", "S3"]
    assert sum(report.duplicates for report in data.files) == 1
    assert data.files[1].duplicates_by_log == Counter({"signin": 1})
    assert_accounting(data)


def test_duplicates_within_file(tmp_path: Path) -> None:
    path = write_page(tmp_path / "a.json", [signin("S1", 1), signin("S1", 1)])

    data = load_logs([], [path])

    assert len(data.signin) == 1
    assert data.files[0].duplicates == 1
    assert data.files[0].duplicates_by_log == Counter({"signin": 1})
    assert_accounting(data)


def test_copies_only_file_logs_known(tmp_path: Path) -> None:
    first = write_page(tmp_path / "a.json", [signin("S1", 1), signin("S2", 2)])
    second = write_page(tmp_path / "b.json", [signin("S1", 1), signin("S2", 2)])

    data = load_logs([first], [second])

    copies = next(report for report in data.files if report.duplicates)
    assert copies.loaded_total == 0
    assert copies.records_by_log == Counter({"signin": 2})


def test_file_order_does_not_matter(tmp_path: Path) -> None:
    first = write_page(
        tmp_path / "a.json", [signin("S1", 1), signin("S2", 2, ipAddress="203.0.113.1")]
    )
    second = write_page(tmp_path / "b.json", [signin("S2", 2), signin("S3", 3)])

    forward = load_logs([], [first, second])
    backward = load_logs([], [second, first])

    pd.testing.assert_frame_equal(forward.signin, backward.signin)
    pd.testing.assert_frame_equal(forward.steps, backward.steps)


def test_most_complete_copy_kept(tmp_path: Path) -> None:
    first = write_page(tmp_path / "a.json", [signin("S2", 2)])
    second = write_page(tmp_path / "b.json", [signin("S2", 2, ipAddress="203.0.113.1")])

    data = load_logs([], [first, second])

    assert data.signin["ip_address"].tolist() == ["203.0.113.1"]
    assert data.signin["source_file"].tolist() == [second]


def test_conflicting_duplicates_reported(tmp_path: Path) -> None:
    first = write_page(tmp_path / "a.json", [signin("S1", 1, ipAddress="203.0.113.1")])
    second = write_page(tmp_path / "b.json", [signin("S1", 1, ipAddress="203.0.113.2")])

    data = load_logs([], [first, second])

    assert len(data.conflicts) == 1
    conflict = data.conflicts[0]
    assert conflict.record_id == "S1"
    assert conflict.log == "signin"
    assert conflict.columns == ["ip_address"]
    assert conflict.files == [first, second]


def test_conflicts_across_many_records(tmp_path: Path) -> None:
    seen_from = {"ipAddress": "203.0.113.1", "userAgent": "browser"}
    plain = [signin(f"S{index:02d}", index, **seen_from) for index in range(20)]
    changed = [signin(f"S{index:02d}", index, **seen_from) for index in range(20)]
    changed[3] = signin("S03", 3, ipAddress="203.0.113.9", userAgent="other")
    changed[7] = signin("S07", 7, ipAddress="203.0.113.7")
    # A value present in one copy only is missing data, not a conflict.
    plain[11] = signin("S11", 11, ipAddress=None, userAgent="browser")
    first = write_page(tmp_path / "a.json", plain)
    second = write_page(tmp_path / "b.json", changed)
    third = write_page(tmp_path / "c.json", plain[:5])

    data = load_logs([], [first, second, third])

    assert [conflict.record_id for conflict in data.conflicts] == ["S03", "S07"]
    assert data.conflicts[0].columns == ["ip_address", "user_agent"]
    assert data.conflicts[0].files == [first, second, third]
    assert data.conflicts[1].columns == ["ip_address"]
    assert data.conflicts[1].files == [first, second]
    assert_accounting(data)


def test_identical_duplicates_no_conflict(tmp_path: Path) -> None:
    first = write_page(tmp_path / "a.json", [signin("S1", 1)])
    second = write_page(tmp_path / "b.json", [signin("S1", 1)])

    data = load_logs([], [first, second])

    assert data.conflicts == []


def test_seven_fraction_digits_survive(tmp_path: Path) -> None:
    path = write_page(tmp_path / "a.json", [signin("S1", 1)])

    data = load_logs([], [path])

    stamp = data.signin["event_time"].iloc[0]
    assert stamp == pd.Timestamp("2025-02-03T10:01:00.1234567Z")
    assert stamp.nanosecond == 700


def test_event_time_is_utc_nanoseconds(tmp_path: Path) -> None:
    path = write_page(tmp_path / "a.json", [signin("S1", 1)])

    data = load_logs([], [path])

    assert str(data.signin["event_time"].dtype) == "datetime64[ns, UTC]"


def test_file_given_to_both_read_once(tmp_path: Path) -> None:
    path = write_page(tmp_path / "a.json", [signin("S1", 1)])

    data = load_logs([path], [path])

    assert len(data.files) == 1
    assert len(data.signin) == 1


def test_strict_truncated_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"value": [signin("S1", 1)]})[:-20])

    with pytest.raises(InputError) as caught:
        load_logs([], [str(path)])

    assert caught.value.path == str(path)


def test_lenient_truncated_file_partial(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    text = json.dumps({"value": [signin("S1", 1), signin("S2", 2)]})
    path.write_text(text[:-20])

    data = load_logs([], [str(path)], LoadOptions(strict=False))

    assert data.partial
    assert list(data.signin["record_id"]) == ["S1"]
    assert_accounting(data)


def test_skipped_file_drops_prefiltered_count() -> None:
    sink = FileSink("big.ndjson", "signin", None)
    sink.add_prefiltered(
        "signin", Counter({"graph": 7}), np.empty((0, 2), dtype=np.int64)
    )
    error = InputError("big.ndjson", "cannot be read", reason="unreadable")

    _skip_whole_file(sink, error)

    report = sink.report
    assert report.records_seen == 7
    assert sum(report.prefiltered.values()) == 0
    assert report.skipped == Counter({"file not read: unreadable": 7})
    assert report.partial


def test_combine_reuses_unchanged_log(tmp_path: Path) -> None:
    first = write_page(tmp_path / "a.json", [signin("S1", 1), signin("S2", 2)])
    second = write_page(tmp_path / "b.json", [signin("S2", 2), signin("S3", 3)])
    loaded = [load_logs([], [path]) for path in (first, second)]
    reports = [data.files[0] for data in loaded]
    frames = [
        FileFrames(audit=data.audit, signin=data.signin, steps=data.steps)
        for data in loaded
    ]
    counts_before = [(r.duplicates, Counter(r.loaded)) for r in reports]
    earlier: dict[str, _CombinedLog] = {}

    combined = _combine(frames, reports, [], earlier=earlier)
    counts_after = [(r.duplicates, Counter(r.loaded)) for r in reports]
    for report, (duplicates, counts) in zip(reports, counts_before, strict=True):
        report.duplicates, report.loaded = duplicates, Counter(counts)
    again = _combine(frames, reports, [], earlier=earlier)

    assert list(combined.signin["record_id"]) == ["S1", "S2", "S3"]
    assert again.signin is combined.signin
    assert [(r.duplicates, Counter(r.loaded)) for r in reports] == counts_after
    assert sum(duplicates for duplicates, _ in counts_after) == 1

    frames[1] = FileFrames(
        audit=frames[1].audit, signin=frames[1].signin.copy(), steps=frames[1].steps
    )
    for report, (duplicates, counts) in zip(reports, counts_before, strict=True):
        report.duplicates, report.loaded = duplicates, Counter(counts)
    changed = _combine(frames, reports, [], earlier=earlier)

    assert changed.signin is not combined.signin
    pd.testing.assert_frame_equal(changed.signin, combined.signin)
    assert earlier["signin"].frame is changed.signin


def test_collapse_twice_keeps_dropped_copies() -> None:
    frame = pd.DataFrame({"record_id": ["S1", "S2"]})
    dropped = pd.DataFrame({"record_id": ["S2"]})
    log = _CombinedLog([frame, dropped], frame, Counter(), [], dropped)

    first = log.collapse()
    again = log.collapse()

    assert len(first) == 2
    assert first[0] is frame
    assert first[1] is dropped
    assert len(again) == 2
    assert again[0] is frame
    assert again[1] is dropped
    assert log.combines(again)


def test_file_given_to_both_names_both(tmp_path: Path) -> None:
    path = write_page(tmp_path / "a.json", [signin("S1", 1)])

    data = load_logs([path], [path])

    (report,) = data.files
    assert report.given_options == ("audit", "signin")


def test_folder_given_to_both_names_both(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_page(folder / "a.json", [signin("S1", 1)])
    write_page(folder / "b.json", [signin("S2", 2)])
    single = write_page(tmp_path / "c.json", [signin("S3", 3)])

    data = load_logs([str(folder)], [str(folder), single])

    options = {Path(report.path).name: report.given_options for report in data.files}
    assert options["a.json"] == ("audit", "signin")
    assert options["b.json"] == ("audit", "signin")
    assert options["c.json"] == ("signin",)
