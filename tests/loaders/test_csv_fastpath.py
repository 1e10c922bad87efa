"""The CSV fast path reads exactly what the plain path reads, or hands the file back.

Each fall-back case is a small Log Analytics export with one thing the fast path
cannot reproduce. The fast path must raise ``Unsupported`` before it adds anything to
the sink.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.load import LoadOptions, load_logs
from h056hunt.loaders import csv_fastpath, csv_scan
from h056hunt.loaders.fastpath import FileChanged, Unsupported
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
    return [
        fast_file.user_ids[code] if code >= 0 else None
        for code in fast_file.user_codes.tolist()
    ]


def test_small_groups_read_like_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signin.csv"
    path.write_text(_export(_mixed_rows()), encoding="utf-8")
    whole_sink = FileSink(str(path), "signin", None)
    whole = _load_into(path, whole_sink)

    monkeypatch.setattr(csv_fastpath, "READ_BLOCK_BYTES", 512)
    monkeypatch.setattr(csv_fastpath, "GROUP_ROWS", 4)
    grouped_sink = FileSink(str(path), "signin", None)
    grouped = _load_into(path, grouped_sink)

    assert _row_users(grouped) == _row_users(whole)
    assert OTHER_USER.lower() in grouped.user_ids
    assert NON_ASCII_USER.lower() in grouped.user_ids
    assert grouped.decoded_rows.tolist() == whole.decoded_rows.tolist()
    assert grouped_sink.report.prefiltered == whole_sink.report.prefiltered
    assert grouped_sink.report.time_min == whole_sink.report.time_min
    assert grouped_sink.report.time_max == whole_sink.report.time_max
    whole_frames = whole_sink.finish()
    grouped_frames = grouped_sink.finish()
    assert grouped_frames.signin.equals(whole_frames.signin)
    for user in (USER, OTHER_USER, NON_ASCII_USER):
        user_ids = {user.lower().encode()}
        whole_context = whole.read_context(user_ids)
        grouped_context = grouped.read_context(user_ids)
        assert whole_context is not None
        assert grouped_context is not None
        lines = grouped_context.finish().signin["source_line"].tolist()
        assert lines == whole_context.finish().signin["source_line"].tolist()


def test_fall_back_in_later_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_fastpath, "READ_BLOCK_BYTES", 512)
    monkeypatch.setattr(csv_fastpath, "GROUP_ROWS", 4)
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
    "",
    "not a time",
]


@pytest.mark.parametrize("envelope", [False, True])
def test_event_times_match_plain_parser(envelope: bool) -> None:
    """The bulk ISO reading gives each cell the value and failure that the plain
    path's parser gives it."""
    names = ["0", "1"]
    primary = [cell if index % 3 else "" for index, cell in enumerate(TIME_CELLS)]
    cells = primary if envelope else TIME_CELLS
    fallback = TIME_CELLS if envelope else [""] * len(TIME_CELLS)
    batch = pa.RecordBatch.from_arrays(
        [pa.array(cells, pa.string()), pa.array(fallback, pa.string())], names=names
    )
    columns = csv_scan.Columns(time=0, envelope_time=1 if envelope else None)

    nanoseconds, parsed = csv_fastpath._event_times(batch, columns, "x", None)

    # The sink reads the first cell that is not blank or a placeholder.
    expected_cells = [
        first if first.strip() and first != "null" else second
        for first, second in zip(cells, fallback, strict=True)
    ]
    expected, _ = parse_time_column(
        [cell.strip() or None for cell in expected_cells], path="x", column="time"
    )
    assert parsed.tolist() == expected.notna().tolist()
    expected_ns = expected.to_numpy(dtype="datetime64[ns]").view(np.int64)
    assert nanoseconds[parsed].tolist() == expected_ns[parsed].tolist()
