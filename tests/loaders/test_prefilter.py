"""Edge cases of the fast path's line scanner, checked against the plain loader.

Each test writes a small export, loads it through the fast path and the plain path,
and compares the decoded records with the plain path's records of the same ids, the
record accounting, and the time ranges.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from h056hunt.errors import InputError
from h056hunt.loaders import fastpath, prefilter, registry
from h056hunt.loaders.sink import FileFrames, FileSink
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate
from h056hunt.timeparse import parse_time_column


@pytest.fixture(scope="module")
def graph_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("graph")
    written = simulate(SimulationConfig(users=40, days=1, seed=3), folder)
    return written.signin_path.read_text(encoding="utf-8").splitlines()[:60]


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every record span chunk and index block boundaries."""
    monkeypatch.setattr(fastpath, "CHUNK_BYTES", 8 * 1024)
    monkeypatch.setattr(prefilter, "INDEX_BLOCK_BYTES", 2048)


def _load_fast(path: Path) -> tuple[FileSink, FileFrames]:
    sink = FileSink(str(path), "signin", None)
    fastpath.load_file(
        path,
        str(path),
        sink,
        revocation_activities=(),
        max_decompressed_bytes=2**40,
        max_record_bytes=2**26,
    )
    return sink, sink.finish()


def _load_plain(path: Path) -> tuple[FileSink, FileFrames]:
    sink = FileSink(str(path), "signin", None)
    registry.load_file(path, str(path), sink, strict=True)
    return sink, sink.finish()


def _compare(path: Path) -> FileSink:
    """Assert the fast path agrees with the plain path; return the fast sink."""
    fast_sink, fast = _load_fast(path)
    plain_sink, plain = _load_plain(path)
    fast_report = fast_sink.report
    plain_report = plain_sink.report
    assert fast_report.records_seen == plain_report.records_seen
    assert (
        fast_report.loaded["signin"] + fast_report.prefiltered["signin"]
        == plain_report.loaded["signin"]
    )
    assert fast_report.time_min == plain_report.time_min
    assert fast_report.time_max == plain_report.time_max
    assert np.array_equal(
        fast_report.time_ranges["signin"], plain_report.time_ranges["signin"]
    )
    kept = plain.signin[plain.signin["record_id"].isin(fast.signin["record_id"])]
    assert fast.signin.reset_index(drop=True).equals(kept.reset_index(drop=True))
    return fast_sink


def _write(path: Path, lines: list[str], end: str = "\n", head: str = "") -> Path:
    path.write_bytes((head + end.join(lines) + end).encode("utf-8"))
    return path


def _edited(line: str, change: Callable[[dict], None]) -> str:
    record = json.loads(line)
    change(record)
    return json.dumps(record, separators=(",", ":"))


def test_records_spanning_chunks(tmp_path: Path, graph_lines: list[str]) -> None:
    sink = _compare(_write(tmp_path / "s.ndjson", graph_lines))
    assert sink.report.prefiltered["signin"] > 0


def test_crlf_line_ends(tmp_path: Path, graph_lines: list[str]) -> None:
    _compare(_write(tmp_path / "s.ndjson", graph_lines, end="\r\n"))


def test_byte_order_mark(tmp_path: Path, graph_lines: list[str]) -> None:
    _compare(_write(tmp_path / "s.ndjson", graph_lines, head="\ufeff"))


def test_blank_lines(tmp_path: Path, graph_lines: list[str]) -> None:
    spaced = [line for record in graph_lines[:20] for line in (record, "", "  ")]
    _compare(_write(tmp_path / "s.ndjson", ["", *spaced]))


def test_braces_and_escaped_quotes_in_strings(
    tmp_path: Path, graph_lines: list[str]
) -> None:
    def odd_agent(record: dict) -> None:
        record["userAgent"] = 'Mozilla "x} {\\"y\\": [1]}" ]},{'

    lines = [_edited(line, odd_agent) for line in graph_lines]
    _compare(_write(tmp_path / "s.ndjson", lines))


def test_marker_inside_user_agent_is_decoded(
    tmp_path: Path, graph_lines: list[str]
) -> None:
    def marker(record: dict) -> None:
        record["userAgent"] = "Agent 500121 DENIED"

    lines = [graph_lines[0], _edited(graph_lines[1], marker), *graph_lines[2:]]
    sink = _compare(_write(tmp_path / "s.ndjson", lines))
    assert sink.report.loaded["signin"] >= 1


def test_denial_in_steps_of_other_code_decoded(
    tmp_path: Path, graph_lines: list[str]
) -> None:
    def hidden_denial(record: dict) -> None:
        record["status"]["errorCode"] = 50140
        record["authenticationDetails"] = [
            {
                "authenticationStepDateTime": record["createdDateTime"],
                "authenticationMethod": "Mobile app notification",
                "succeeded": False,
                "authenticationStepResultDetail": "MFA Denied; user declined",
            }
        ]

    changed = _edited(graph_lines[5], hidden_denial)
    sink = _compare(_write(tmp_path / "s.ndjson", [changed, *graph_lines[6:]]))
    assert sink.report.loaded["signin"] >= 1


def test_unicode_escape_line_decoded(tmp_path: Path, graph_lines: list[str]) -> None:
    escaped = graph_lines[0].replace('"userAgent":"', '"userAgent":"\\u0064enied ', 1)
    sink = _compare(_write(tmp_path / "s.ndjson", [escaped, *graph_lines[1:]]))
    assert sink.report.loaded["signin"] >= 1


def test_time_not_iso_falls_back(tmp_path: Path, graph_lines: list[str]) -> None:
    def slash_date(record: dict) -> None:
        record["createdDateTime"] = "3/2/2026 10:00:00 AM"

    lines = [*graph_lines[:10], _edited(graph_lines[10], slash_date)]
    path = _write(tmp_path / "s.ndjson", lines)
    with pytest.raises(fastpath.Unsupported):
        _load_fast(path)


def test_pretty_printed_file_falls_back(tmp_path: Path, graph_lines: list[str]) -> None:
    records = [json.loads(line) for line in graph_lines[:3]]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    with pytest.raises(fastpath.Unsupported):
        _load_fast(path)


def test_line_framed_page(tmp_path: Path, graph_lines: list[str]) -> None:
    head = '{"@odata.context":"x","value":[\n'
    body = ",\n".join(graph_lines)
    path = tmp_path / "page.json"
    path.write_text(head + body + "\n]}\n", encoding="utf-8")
    sink = _compare(path)
    assert sink.report.prefiltered["signin"] > 0


def test_page_missing_comma_same_error(tmp_path: Path, graph_lines: list[str]) -> None:
    head = '{"value":[\n'
    body = ",\n".join(graph_lines[:5]) + "\n" + ",\n".join(graph_lines[5:10])
    path = tmp_path / "page.json"
    path.write_text(head + body + "\n]}\n", encoding="utf-8")
    with pytest.raises(InputError) as plain:
        _load_plain(path)
    # The plain path's document reader reads from the line without its comma.
    with pytest.raises(InputError) as fast:
        _load_fast(path)
    assert str(fast.value) == str(plain.value)
    assert fast.value.line == 7


def test_user_hashes_of_guids_and_others() -> None:
    windows = b"".join(
        prefilter.user_window(value)
        for value in (
            b"d0da43a8-16ff-4b7f-a070-c0d3db8b4909",
            b"D0DA43A8-16FF-4B7F-A070-C0D3DB8B4909".lower(),
            b"not-a-guid",
            None,
        )
    )
    hashes, has_user = prefilter.user_hashes(windows)
    assert hashes[0] == 0xD0DA43A8
    assert hashes[1] == hashes[0]
    assert hashes[2] == prefilter.UNKNOWN_USER
    assert has_user.tolist() == [True, True, True, False]


def test_user_hashes_of_hex_prefixes() -> None:
    # Ids that are equal after lower-casing must hash alike, GUIDs or not, because
    # the second pass looks up the lower-cased ids it wants.
    values = (b"ABCDEF01-not-a-guid", b"abcdef01-NOT-a-guid", b"abcdef01", b"abc")
    windows = b"".join(prefilter.user_window(value.lower()) for value in values[:3])
    raw = b"".join(
        (value + b'"').ljust(prefilter.USER_WINDOW, b"x")[: prefilter.USER_WINDOW]
        for value in values
    )

    hashes, has_user = prefilter.user_hashes(raw)
    wanted, _ = prefilter.user_hashes(windows)

    assert hashes[0] == 0xABCDEF01
    assert hashes[1] == hashes[0]
    assert hashes[2] == hashes[0]
    assert hashes[3] == prefilter.UNKNOWN_USER
    assert wanted.tolist() == [0xABCDEF01] * 3
    assert has_user.tolist() == [True, True, True, True]


ISO_CASES = (
    "2026-03-02T00:00:00Z",
    "2024-02-29T23:59:59.9999999Z",
    "2023-02-29T00:00:00Z",
    "2026-03-02T00:00:00.1Z",
    "2026-03-02T00:00:00+00:00",
    "1999-12-31T23:59:59.123456789Z",
    "2026-13-01T00:00:00Z",
    "2026-03-02T00:00:00.1234567890Z",
    "2026-03-02 00:00:00Z",
    "2000-01-01T00:00:00.Z",
)


def test_iso_nanoseconds_agree_with_timeparse() -> None:
    cells = np.zeros((len(ISO_CASES), prefilter.TIME_WINDOW), dtype=np.uint8)
    for row, value in enumerate(ISO_CASES):
        literal = (value + '","next').encode()[: prefilter.TIME_WINDOW]
        cells[row, : len(literal)] = np.frombuffer(literal, dtype=np.uint8)
    nanoseconds, parsed = prefilter.iso_nanoseconds(cells)
    expected, _ = parse_time_column(list(ISO_CASES), path="test", column="time")
    assert parsed.tolist() == [
        True, True, False, True, False, True, False, False, False, False
    ]  # fmt: skip
    for row in np.flatnonzero(parsed):
        assert pd.Timestamp(int(nanoseconds[row]), tz="UTC") == expected[row]
