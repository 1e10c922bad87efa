"""The CSV fast path reads exactly what the plain path reads, or hands the file back.

Each fall-back case is a small Log Analytics export with one thing the fast path
cannot reproduce. The fast path must raise ``Unsupported`` before it adds anything to
the sink.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import numpy as np
import pytest

from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.load import LoadOptions, load_logs
from h056hunt.loaders import csv_cells, csv_fastpath, csv_scan
from h056hunt.loaders.fastpath import FileChanged, Unsupported
from h056hunt.loaders.fields import NULL_PLACEHOLDERS
from h056hunt.loaders.sink import FileSink
from h056hunt.timeparse import parse_time_column

HEADER = "TimeGenerated [UTC],CreatedDateTime [UTC],Id,UserId,ResultType,Status,Type"
USER = "6cf0f094-7db9-4b8b-9ea2-523d5b5afd6f"
STATUS = '"{""errorCode"":0,""failureReason"":""Other.""}"'
DENIED = '"{""errorCode"":500121,""failureReason"":""MFA denied""}"'


def _row(index: int, status: str = STATUS, table: str = "SigninLogs") -> str:
    time = f"2026-03-02T10:{index // 60:02d}:{index % 60:02d}Z"
    record = f"00000000-0000-4000-8000-{index:012d}"
    return f"{time},{time},{record},{USER},0,{status},{table}"


def _export(rows: list[str], line_end: str = "\r\n", header: str = HEADER) -> str:
    return line_end.join([header, *rows]) + line_end


def _load(path: Path, dayfirst: bool | None = None) -> FileSink:
    sink = FileSink(str(path), "signin", dayfirst)
    _load_into(path, sink)
    return sink


def _fast_file(path: Path) -> csv_fastpath.CsvFastFile:
    return _load_into(path, FileSink(str(path), "signin", None))


def _load_into(path: Path, sink: FileSink) -> csv_fastpath.CsvFastFile:
    return csv_fastpath.load_file(
        path,
        str(path),
        sink,
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=64 * 1024**2,
    )


def test_rows_without_literals_prefiltered(tmp_path: Path) -> None:
    path = tmp_path / "signin.csv"
    rows = [_row(index) for index in range(20)]
    rows[7] = _row(7, DENIED)
    rows[9] = _row(9, table="SecurityEvent")
    path.write_text(_export(rows))
    sink = _load(path)
    frames = sink.finish()
    report = sink.report
    assert report.records_seen == 20
    assert report.prefiltered["signin"] == 18
    assert list(frames.signin["source_line"]) == [9]
    assert list(frames.signin["source_record"]) == [8]
    assert report.skipped == {"unsupported table SecurityEvent": 1}


def test_rows_without_user_id_decoded(tmp_path: Path) -> None:
    # The plain path matches a sign-in without a user id by UPN, which the second
    # pass cannot, so such a row is decoded unless its UPN is empty too.
    path = tmp_path / "signin.csv"
    rows = [_row(index) + ",ann@contoso.example" for index in range(10)]
    rows[3] = rows[3].replace(USER, "")
    rows[6] = rows[6].replace(USER, " null ")
    rows[7] = _row(7).replace(USER, "") + ","
    rows[8] = _row(8).replace(USER, "") + ", N/A"
    path.write_text(_export(rows, header=HEADER + ",UserPrincipalName"))
    sink = _load(path)
    frames = sink.finish()
    assert sink.report.prefiltered["signin"] == 8
    assert list(frames.signin["source_line"]) == [5, 8]
    assert frames.signin["user_id"].isna().all()


def test_rows_without_user_id_or_upn_column_prefiltered(tmp_path: Path) -> None:
    path = tmp_path / "signin.csv"
    rows = [_row(index) for index in range(10)]
    rows[3] = rows[3].replace(USER, "")
    path.write_text(_export(rows))
    sink = _load(path)
    assert sink.report.prefiltered["signin"] == 10


def test_load_logs_accounts_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_scan, "MIN_BYTES", 0)
    path = tmp_path / "signin.csv"
    rows = [_row(index) for index in range(30)]
    rows[3] = _row(3, DENIED)
    rows[4] = _row(4).replace("2026-03-02T10:00:04Z,", "not a time,", 2)
    rows[5] = _row(3, DENIED)
    path.write_text(_export(rows))
    data = load_logs([], [str(path)], LoadOptions(strict=False))
    report = data.files[0]
    assert data.context is not None
    counted = (
        report.loaded_total
        + report.duplicates
        + sum(report.skipped.values())
        + sum(report.prefiltered.values())
    )
    assert report.prefiltered["signin"] == 27
    assert report.duplicates == 1
    assert report.skipped == {"invalid timestamp": 1}
    assert counted == report.records_seen == 30


def test_context_reads_prefiltered_rows_of_user(tmp_path: Path) -> None:
    path = tmp_path / "signin.csv"
    rows = [_row(index) for index in range(10)]
    rows[2] = _row(2, DENIED)
    path.write_text(_export(rows))
    fast_file = _fast_file(path)
    assert fast_file.read_context({b"someone-else"}) is None
    context = fast_file.read_context({USER.encode()})
    assert context is not None
    frames = context.finish()
    assert sorted(frames.signin["source_line"]) == [2, 3, *range(5, 12)]


FALL_BACK_CASES = {
    "quoted line break": [_row(0, '"{""a"":""b\r\nc""}"')],
    "text after closing quote": [_row(0, '"x"y')],
    "unclosed quote at end": [_row(0, '"x')],
    "quote inside plain cell": [_row(0, 'x"y')],
    "lone carriage return": [_row(0, "x\ry")],
    "NUL byte": [_row(0, "x\x00y")],
    "blank line": [_row(0), "", _row(1)],
    "blank cells only": [_row(0), ",,,,,,", _row(1)],
    "short row": [_row(0), "a,b"],
    "slash date without order": [_row(0).replace("2026-03-02T10:00:00Z", "3/2/2026")],
}


@pytest.mark.parametrize("rows", FALL_BACK_CASES.values(), ids=FALL_BACK_CASES)
def test_fall_back_leaves_sink_untouched(tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "signin.csv"
    path.write_text(_export(rows), newline="")
    sink = FileSink(str(path), "signin", None)
    with pytest.raises(Unsupported):
        csv_fastpath.load_file(
            path,
            str(path),
            sink,
            revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
            max_record_bytes=64 * 1024**2,
        )
    assert sink.report.records_seen == 0
    assert not sink.report.prefiltered


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (_export([_row(0)]), "utf-16"),
        ("sep=,\r\n" + _export([_row(0)]), "utf-8"),
        (_export([_row(0)]).replace("[UTC]", "[UTC+1]", 1), "utf-8"),
        ('{"createdDateTime":"2026-03-02T10:00:00Z"}\n', "utf-8"),
    ],
    ids=["utf-16", "separator line", "column not in UTC", "json"],
)
def test_header_fall_back(tmp_path: Path, content: str, encoding: str) -> None:
    path = tmp_path / "signin.csv"
    path.write_bytes(content.encode(encoding))
    with pytest.raises(Unsupported):
        _load(path)


def test_slash_dates_with_order_read(tmp_path: Path) -> None:
    path = tmp_path / "signin.csv"
    rows = [_row(0).replace("2026-03-02T10:00:00Z", '"3/2/2026, 10:00:00.000 AM"')]
    path.write_text(_export(rows))
    sink = _load(path, dayfirst=False)
    sink.finish()
    assert sink.report.prefiltered["signin"] == 1
    assert str(sink.report.time_min["signin"]) == "2026-03-02 10:00:00+00:00"


def test_byte_order_mark_read(tmp_path: Path) -> None:
    path = tmp_path / "signin.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _export([_row(0), _row(1, DENIED)]).encode())
    sink = _load(path)
    frames = sink.finish()
    assert sink.report.prefiltered["signin"] == 1
    assert list(frames.signin["source_line"]) == [3]


def test_context_of_truncated_file_raises_changed(tmp_path: Path) -> None:
    path = tmp_path / "signin.csv"
    rows = [_row(index) for index in range(10)]
    path.write_text(_export(rows))
    fast_file = _fast_file(path)
    path.write_text(_export(rows[:3]))

    with pytest.raises(FileChanged, match="size went from"):
        fast_file.read_context({USER.encode()})


def test_context_of_rewritten_rows_raises_changed(tmp_path: Path) -> None:
    # Same size and time stamp, other bytes: the rows no longer decode.
    path = tmp_path / "signin.csv"
    path.write_text(_export([_row(index) for index in range(10)]))
    fast_file = _fast_file(path)
    status = path.stat()
    data = path.read_bytes()
    path.write_bytes(data[:60] + b"\xff" * (len(data) - 62) + data[-2:])
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))

    with pytest.raises(FileChanged, match="reading it again failed"):
        fast_file.read_context({USER.encode()})


def test_undecodable_row_goes_to_plain_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A row that stops decoding after the byte scan checked it sends the file to
    # the plain path, which reports it.
    path = tmp_path / "signin.csv"
    path.write_text(_export([_row(0, DENIED), _row(1)]))

    def failing(*args: object, **kwargs: object) -> None:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    monkeypatch.setattr(csv_fastpath, "_route_rows", failing)
    monkeypatch.setattr(csv_scan, "MIN_BYTES", 0)
    sink = FileSink(str(path), "signin", None)

    loaded = csv_fastpath.try_load(
        path,
        str(path),
        sink,
        fast_path=True,
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=64 * 1024**2,
    )

    assert loaded is None
    assert sink.report.records_seen == 0


OTHER_USER = "7DF0F094-7DB9-4B8B-9EA2-523D5B5AFD70"
NON_ASCII_USER = "Ünïcode-User"


def _mixed_rows() -> list[str]:
    """Return rows of three users, with a denial, another table, a placeholder
    user and an unparsable time spread over the file."""
    rows = [_row(index) for index in range(40)]
    rows[5] = _row(5, DENIED)
    rows[11] = _row(11, table="SecurityEvent")
    rows[17] = rows[17].replace(USER, "null")
    rows[23] = rows[23].replace("2026-03-02T10:00:23Z,", "not a time,", 2)
    for index in range(0, 40, 3):
        rows[index] = rows[index].replace(USER, OTHER_USER)
    for index in range(1, 40, 7):
        rows[index] = rows[index].replace(USER, NON_ASCII_USER)
    return rows


def _row_users(fast_file: csv_fastpath.CsvFastFile) -> list[str | None]:
    return _user_of_rows(fast_file.user_ids, fast_file.user_codes)


def _user_of_rows(user_ids: list[str], codes: np.ndarray) -> list[str | None]:
    """Return each row's user id from its code, None for -1."""
    return [user_ids[code] if code >= 0 else None for code in codes.tolist()]


def _plan(path: Path) -> csv_scan.ScanPlan:
    plan, _ = csv_scan.plan_scan(
        path,
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=2**20,
    )
    return plan


def test_small_chunks_read_like_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signin.csv"
    path.write_text(_export(_mixed_rows()), encoding="utf-8")
    whole_sink = FileSink(str(path), "signin", None)
    whole = _load_into(path, whole_sink)

    monkeypatch.setattr(csv_scan, "CHUNK_BYTES", 1024)
    chunked_sink = FileSink(str(path), "signin", None)
    chunked = _load_into(path, chunked_sink)

    assert _row_users(chunked) == _row_users(whole)
    assert OTHER_USER.lower() in chunked.user_ids
    assert NON_ASCII_USER.lower() in chunked.user_ids
    assert chunked.decoded_rows.tolist() == whole.decoded_rows.tolist()
    assert chunked_sink.report.prefiltered == whole_sink.report.prefiltered
    assert chunked_sink.report.time_min == whole_sink.report.time_min
    assert chunked_sink.report.time_max == whole_sink.report.time_max
    whole_frames = whole_sink.finish()
    chunked_frames = chunked_sink.finish()
    assert chunked_frames.signin.equals(whole_frames.signin)
    for user in (USER, OTHER_USER, NON_ASCII_USER):
        user_ids = {user.lower().encode()}
        whole_context = whole.read_context(user_ids)
        chunked_context = chunked.read_context(user_ids)
        assert whole_context is not None
        assert chunked_context is not None
        lines = chunked_context.finish().signin["source_line"].tolist()
        assert lines == whole_context.finish().signin["source_line"].tolist()


@pytest.mark.parametrize("count", [2, 3, 7])
def test_spans_join_like_one_scan(tmp_path: Path, count: int) -> None:
    """Scans of byte ranges, as the workers run them, join to the scan of the
    whole file."""
    path = tmp_path / "signin.csv"
    rows = _mixed_rows()
    # The last line has no line break, and one range may contain no line at all.
    path.write_text(_export(rows)[:-2], encoding="utf-8")
    plan = _plan(path)
    spans = csv_scan.split_spans(path, plan.layout, count)
    assert spans[0][0] == plan.layout.data_start
    assert spans[-1][1] == path.stat().st_size

    whole = csv_scan.scan_rows(path, plan, "x")
    joined = csv_scan.join_scans(
        [csv_scan.scan_rows(path, plan, "x", span) for span in spans]
    )

    assert joined.starts.tolist() == whole.starts.tolist()
    assert joined.hit_rows.tolist() == whole.hit_rows.tolist()
    assert joined.facts.keep.tolist() == whole.facts.keep.tolist()
    assert joined.facts.parsed.tolist() == whole.facts.parsed.tolist()
    parsed = whole.facts.parsed
    assert joined.facts.times[parsed].tolist() == whole.facts.times[parsed].tolist()
    assert _users(joined.facts) == _users(whole.facts)
    assert len(joined.facts.user_ids) == len(set(joined.facts.user_ids)) == 3


def test_range_starting_inside_quotes_raises(tmp_path: Path) -> None:
    """A range cut at a line break inside a quoted cell ends the range before it
    inside quotes, so the file goes to the plain path."""
    path = tmp_path / "signin.csv"
    rows = [_row(index) for index in range(6)]
    rows[3] = rows[3].replace(STATUS, '"two\nlines"')
    path.write_text(_export(rows, "\n"), encoding="utf-8")
    plan = _plan(path)
    inside = path.read_bytes().index(b"two\n") + 4

    with pytest.raises(Unsupported, match="inside quotes"):
        csv_scan.scan_rows(path, plan, "x", (plan.layout.data_start, inside))


def _export_with_long_line(path: Path, length: int) -> Path:
    """Write the mixed rows with one successful sign-in whose Status cell is about
    ``length`` bytes long."""
    reason = "x" * length
    status = f'"{{""errorCode"":0,""failureReason"":""{reason}""}}"'
    rows = _mixed_rows()
    rows[20] = _row(20, status)
    path.write_text(_export(rows), encoding="utf-8")
    return path


def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read in 1 KiB chunks that may grow to 4 KiB."""
    monkeypatch.setattr(csv_scan, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(csv_scan, "MAX_CHUNK_BYTES", 4096)


def test_line_longer_than_chunk_grows_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _export_with_long_line(tmp_path / "signin.csv", 3000)
    whole_sink = FileSink(str(path), "signin", None)
    whole = _load_into(path, whole_sink)

    _small_chunks(monkeypatch)
    chunked_sink = FileSink(str(path), "signin", None)
    chunked = _load_into(path, chunked_sink)

    assert _row_users(chunked) == _row_users(whole)
    assert chunked.decoded_rows.tolist() == whole.decoded_rows.tolist()
    assert chunked_sink.report.prefiltered == whole_sink.report.prefiltered
    assert chunked_sink.finish().signin.equals(whole_sink.finish().signin)


def test_line_longer_than_max_chunk_unsupported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _export_with_long_line(tmp_path / "signin.csv", 5000)
    _small_chunks(monkeypatch)
    sink = FileSink(str(path), "signin", None)

    with pytest.raises(Unsupported, match="longer than the scan buffer"):
        _load_into(path, sink)

    assert sink.report.records_seen == 0


def _users(facts: csv_cells.RowFacts) -> list[str | None]:
    return _user_of_rows(facts.user_ids, facts.user_codes)


def test_fall_back_in_later_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_scan, "CHUNK_BYTES", 1024)
    path = tmp_path / "signin.csv"
    rows = _mixed_rows()
    rows[33] = rows[33].replace("2026-03-02T10:00:33Z", "3/2/2026")
    path.write_text(_export(rows), encoding="utf-8")
    sink = FileSink(str(path), "signin", None)

    with pytest.raises(Unsupported):
        _load_into(path, sink)

    assert sink.report.records_seen == 0


TIME_CELLS = [
    "2026-03-02T10:00:00Z",
    "2026-03-02T10:00:00.5Z",
    "2026-03-02T10:00:00.1234567Z",
    "2026-03-02T10:00:00.123456789Z",
    "2026-03-02T10:00:00.1234567891Z",
    " 2026-03-02T10:00:01Z ",
    "2026-03-02T10:00:00+00:00",
    "2026-03-02T12:00:00+02:00",
    "2026-03-02 10:00:00",
    "2026-03-02T10:00:00z",
    "2026-03-02T10:00:00Zx",
    "2024-02-29T23:59:59Z",
    "2023-02-29T23:59:59Z",
    "2026-03-02T24:00:00Z",
    "1600-01-01T00:00:00Z",
    "2026-03-02",
    "null",
    "NULL ",
    "",
    "not a time",
    '"2026-03-02T10:00:05Z"',
    '"2026-03-02T10:00:05Z "',
    '"say ""when"""',
    '""',
]
USER_CELLS = [
    USER,
    USER.upper(),
    f" {USER}",
    f"{USER}\t",
    f'"{USER}"',
    f'"{USER.upper()} "',
    f'"{USER[:10]}""{USER[11:]}"',
    USER[:-1],
    USER + "0",
    USER.replace("-", "g", 1),
    "null",
    "N/A",
    "",
    '""',
    NON_ASCII_USER,
    f'"{NON_ASCII_USER}"',
    "\u212a" + USER[1:],
]
TABLE_CELLS = [
    "SigninLogs",
    "signinlogs",
    "AADNonInteractiveUserSignInLogs",
    " SigninLogs",
    '"SigninLogs"',
    '"Signin""Logs"',
    "AuditLogs",
    "SecurityEvent",
    "SıgninLogs",
    "",
]


def _reference_text(value: str) -> str | None:
    """The plain path's reading of a text cell: stripped, None when blank or a
    placeholder."""
    stripped = value.strip()
    return None if stripped.lower() in NULL_PLACEHOLDERS else stripped


def test_facts_match_reference_rules(tmp_path: Path) -> None:
    """Every pairing of odd time, user id and table cells gives the facts that the
    plain path's rules give, cell by cell, in bulk and one at a time."""
    rng = random.Random(7)
    header = "TimeGenerated [UTC],CreatedDateTime [UTC],UserId,Status,Type"
    rows = []
    for _index in range(3000):
        envelope = rng.choice(TIME_CELLS)
        created = rng.choice(TIME_CELLS + [""] * 10 + ["2026-03-02T10:00:00Z"] * 10)
        user = rng.choice(USER_CELLS)
        table = rng.choice(TABLE_CELLS + ["SigninLogs"] * 5)
        rows.append(f"{envelope},{created},{user},{STATUS},{table}")
    path = tmp_path / "signin.csv"
    path.write_text(_export(rows, header=header), encoding="utf-8")
    plan = _plan(path)

    facts = csv_scan.scan_rows(path, plan, "x").facts

    cells = [next(csv.reader([row], strict=True)) for row in rows]
    expected_keep = [
        row[4].isascii() and row[4].lower() in csv_cells.SIGNIN_TABLES for row in cells
    ]
    assert facts.keep.tolist() == expected_keep
    users = [_reference_text(row[2]) for row in cells]
    assert _users(facts) == [None if user is None else user.lower() for user in users]
    events = []
    for row in cells:
        created = _reference_text(row[1])
        events.append(created if created is not None else _reference_text(row[0]))
    expected, _ = parse_time_column(events, path="x", column="time")
    assert facts.parsed.tolist() == expected.notna().tolist()
    expected_ns = expected.to_numpy(dtype="datetime64[ns]").view(np.int64)
    parsed = facts.parsed
    assert facts.times[parsed].tolist() == expected_ns[parsed].tolist()
