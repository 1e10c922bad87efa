"""A newline-delimited JSON export with broken lines in the middle stays on the
fast path, with the plain path's result.

A broken line is not valid JSON, not valid UTF-8, or a JSON value other than one
record object. Each case breaks lines past the middle of a simulated sign-in or
audit export and hunts with and without ``--no-fast-path``, strict and lenient
(see :func:`cli_runs.assert_fast_same_as_plain`). The exports have a few thousand
lines, and the small chunks and zero parallel threshold of the
``small_fast_path_units`` fixture send them through many chunks and both workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from broken_exports import DECODED_MARK, read_lines, simulate_exports, write_lines

from cli_runs import assert_fast_same_as_plain
from h056hunt.load import LoadOptions, load_logs
from h056hunt.loaders import fastpath, scan_decode

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

LINE_READER_LOG = "that do not decode alone are read by the plain path's line reader"


def _decoded_indexes(lines: list[bytes], log: str) -> list[int]:
    """Return the 0-based indexes of the lines past the middle that the
    pre-filter decodes."""
    middle = len(lines) // 2
    return [
        index
        for index in range(middle, len(lines) - 1)
        if DECODED_MARK[log] in lines[index]
    ]


def _break(path: Path, edit: Callable[[bytes], bytes], indexes: list[int]) -> None:
    """Replace each line at ``indexes`` with ``edit`` of it."""
    lines = read_lines(path)
    for index in indexes:
        lines[index] = edit(lines[index])
    write_lines(path, lines)


def _cut_record(line: bytes) -> bytes:
    return line[: len(line) // 2] + b"\n"


def _padded_cut(line: bytes) -> bytes:
    """Cut a record in half, padded with spaces to its length, so the scan ranges
    and chunks of the file stay where they were."""
    return line[: len(line) // 2].ljust(len(line) - 1) + b"\n"


def _file_report(result_stdout: str, path: Path) -> dict[str, object]:
    report = json.loads(result_stdout)
    return next(item for item in report["run"]["files"] if item["path"] == str(path))


# Each edit, the text of the strict run's error, and the lenient run's skips.
BROKEN_LINES: dict[str, tuple[Callable[[bytes], bytes], str, dict[str, int]]] = {
    "cut-off record": (_cut_record, "(", {"invalid JSON": 1}),
    "not JSON": (
        lambda line: b"xx\n",
        "expected a JSON object or array, found 'x'",
        {"invalid JSON": 1},
    ),
    "JSON number": (
        lambda line: b"42\n",
        "expected a JSON object or array, found '4'",
        {"invalid JSON": 1},
    ),
    "invalid UTF-8": (
        lambda line: line.replace(b'":"', b'":"\xff', 1),
        "invalid UTF-8 byte at offset",
        {},
    ),
    "NUL byte": (
        lambda line: line.replace(b'":"', b'":"\x00', 1),
        "NUL character in text",
        {},
    ),
    "byte order mark": (
        lambda line: b"\xef\xbb\xbf" + line,
        # The log shows the mark as an escape.
        "expected a JSON object or array, found '\\ufeff'",
        {"invalid JSON": 1},
    ),
}
CASES = [("signin", case) for case in BROKEN_LINES] + [
    ("audit", "cut-off record"),
    ("audit", "invalid UTF-8"),
]


@pytest.mark.parametrize(("log", "case"), CASES)
def test_broken_line_same_as_plain(tmp_path: Path, log: str, case: str) -> None:
    audit, signin = simulate_exports(tmp_path)
    broken = audit if log == "audit" else signin
    edit, error, skips = BROKEN_LINES[case]
    _break(broken, edit, _decoded_indexes(read_lines(broken), log)[:1])

    strict = assert_fast_same_as_plain(audit, signin, broken)
    lenient = assert_fast_same_as_plain(audit, signin, broken, "--lenient")

    assert strict.exit_code == 2
    assert f"ERROR: {broken}, line " in strict.stderr
    assert error in strict.stderr
    assert f"{broken.name}: 1 line(s) {LINE_READER_LOG}" in lenient.stderr
    item = _file_report(lenient.stdout, broken)
    assert item["skipped_by_reason"] == skips
    assert item["partial"] is bool(skips)


def _prefiltered_indexes(lines: list[bytes], log: str) -> list[int]:
    """Return the 0-based indexes of the lines past the middle that the pre-filter
    would count as pre-filtered: no decoded mark, no escape, no non-ASCII byte."""
    middle = len(lines) // 2
    return [
        index
        for index in range(middle, len(lines) - 1)
        if DECODED_MARK[log] not in lines[index]
        and b"denied" not in lines[index].lower()
        and b"\\" not in lines[index]
        and lines[index].isascii()
    ]


# Faults in a line that no needle marks. The plain path rejects each in strict
# mode, so the fast path must decode such a line rather than pre-filter it.
PREFILTERED_FAULTS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "NUL byte": (
        lambda line: line.replace(b'":"', b'":"\x00', 1),
        "NUL character in text",
    ),
    "invalid UTF-8": (
        lambda line: line.replace(b'":"', b'":"\xc3(', 1),
        "invalid UTF-8 byte at offset",
    ),
    "control character": (
        lambda line: line.replace(b'":"', b'":"\x1b[2J', 1),
        "Invalid control character",
    ),
    "carriage return": (
        lambda line: line.replace(b'":"', b'":"\r', 1),
        "Invalid control character",
    ),
}


@pytest.mark.parametrize("log", ["signin", "audit"])
@pytest.mark.parametrize("case", PREFILTERED_FAULTS)
def test_fault_in_prefiltered_line_same_as_plain(
    tmp_path: Path, log: str, case: str
) -> None:
    audit, signin = simulate_exports(tmp_path)
    broken = audit if log == "audit" else signin
    edit, error = PREFILTERED_FAULTS[case]
    indexes = _prefiltered_indexes(read_lines(broken), log)
    assert indexes, "the export has no pre-filtered line past its middle"
    _break(broken, edit, indexes[:1])

    strict = assert_fast_same_as_plain(audit, signin, broken)
    lenient = assert_fast_same_as_plain(audit, signin, broken, "--lenient")

    assert strict.exit_code == 2
    assert f"ERROR: {broken}, line {indexes[0] + 1}" in strict.stderr
    assert error in strict.stderr
    assert lenient.exit_code in (0, 1)


def test_valid_non_ascii_lines_stay_prefiltered(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path)
    lines = read_lines(signin)
    indexes = _prefiltered_indexes(lines, "signin")
    for index in indexes:
        city = '":"M\u00fcnchen \u6771'.encode()
        lines[index] = lines[index].replace(b'":"', city, 1)
    write_lines(signin, lines)

    result = assert_fast_same_as_plain(audit, signin, signin)

    item = _file_report(result.stdout, signin)
    assert item["prefiltered"] >= len(indexes)


def test_seven_broken_lines_same_warnings(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path)
    indexes = _decoded_indexes(read_lines(signin), "signin")[:7]
    _break(signin, _cut_record, indexes)

    result = assert_fast_same_as_plain(audit, signin, signin, "--lenient")

    # The plain path warns about the first five and counts every one.
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 5
    assert _file_report(result.stdout, signin)["skipped_by_reason"] == {
        "invalid JSON": 7
    }
    assert f"{signin.name}: 7 line(s) {LINE_READER_LOG}" in result.stderr


def _two_records(line: bytes) -> bytes:
    record = json.loads(line)
    copy = {**record, "id": record["id"][:-4] + "beef"}
    return json.dumps([record, copy], separators=(",", ":")).encode() + b"\n"


def _graph_page(line: bytes) -> bytes:
    record = json.loads(line)
    copy = {**record, "id": record["id"][:-4] + "cafe"}
    page = {"value": [record, copy]}
    return json.dumps(page, separators=(",", ":")).encode() + b"\n"


def test_lines_of_other_record_counts_same_numbers(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path)
    lines = read_lines(signin)
    middle = len(lines) // 2
    edits = {
        middle: _two_records,
        middle + 3: lambda line: b"[]\n",
        middle + 7: _graph_page,
        middle + 12: lambda line: b"[1,2]\n",
        middle + 13: _two_records,
    }
    for index, edit in edits.items():
        lines[index] = edit(lines[index])
    write_lines(signin, lines)

    assert_fast_same_as_plain(audit, signin, signin)

    # Evidence names only the records of findings. Every sign-in, read back for
    # all users, must carry the plain path's line and record numbers.
    plain = load_logs([str(audit)], [str(signin)], LoadOptions(fast_path=False))
    fast = load_logs([str(audit)], [str(signin)], LoadOptions())
    users = set(plain.signin["user_id"].dropna().str.lower())
    assert fast.read_context(users)
    columns = ["record_id", "source_line", "source_record"]
    fast_numbers = fast.signin[columns].sort_values("record_id")
    plain_numbers = plain.signin[columns].sort_values("record_id")
    assert fast_numbers.reset_index(drop=True).equals(
        plain_numbers.reset_index(drop=True)
    )


def test_broken_line_ending_scan_chunk(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path)
    lines = read_lines(signin)
    data = b"".join(lines)
    # The first worker's first chunk ends at the last line end within a chunk.
    chunk_end = data.rfind(b"\n", 0, fastpath.CHUNK_BYTES) + 1
    last_line = data.count(b"\n", 0, chunk_end) - 1
    _break(signin, _padded_cut, [last_line])

    strict = assert_fast_same_as_plain(audit, signin, signin)
    lenient = assert_fast_same_as_plain(audit, signin, signin, "--lenient")

    assert strict.exit_code == 2
    # The plain path reads the next line, in the next chunk, with the cut one.
    assert f"ERROR: {signin}, line {last_line + 2}, column 1" in strict.stderr
    item = _file_report(lenient.stdout, signin)
    assert item["skipped_by_reason"] == {"invalid JSON": 1}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_broken_line_ending_scan_range(tmp_path: Path, compress: bool) -> None:
    audit, signin = simulate_exports(tmp_path, compress=compress)
    lines = read_lines(signin)
    data = b"".join(lines)
    if compress:
        # Gzip content goes to the workers in chunks, each a range of its own.
        range_end = data.rfind(b"\n", 0, fastpath.CHUNK_BYTES) + 1
    else:
        ranges = fastpath._plan_ranges(signin, 0, len(data), 0)
        range_end = ranges[1].start
    last_line = data.count(b"\n", 0, range_end) - 1
    _break(signin, _padded_cut, [last_line])

    result = assert_fast_same_as_plain(audit, signin, signin, "--lenient")

    continued = f"{signin.name}, line {last_line + 1}: reading the lines after"
    assert continued in result.stderr


def test_value_across_lines_left_to_plain_path(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path)
    middle = len(read_lines(signin)) // 2

    def pretty(line: bytes) -> bytes:
        return json.dumps(json.loads(line), indent=2).encode() + b"\n"

    _break(signin, pretty, [middle])

    result = assert_fast_same_as_plain(audit, signin, signin, fast_path=False)

    reason = "starts a value that the plain path reads across lines"
    assert f"{signin.name}: read by the plain path: line {middle + 1} {reason}" in (
        result.stderr
    )


def test_too_many_broken_lines_left_to_plain_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_decode, "MAX_BROKEN_LINES", 3)
    audit, signin = simulate_exports(tmp_path)
    indexes = _decoded_indexes(read_lines(signin), "signin")[:4]
    _break(signin, _cut_record, indexes)

    result = assert_fast_same_as_plain(
        audit, signin, signin, "--lenient", fast_path=False
    )

    assert "is one of more than 3 lines in a scan range" in result.stderr
