"""Read Log Analytics and portal CSV exports fast: pre-filter rows, decode few.

The fast path takes plain UTF-8 CSV files whose header the plain path maps with
:class:`~h056hunt.loaders.csv_log_analytics.LogAnalyticsRows` (sign-in or audit
tables) or :class:`~h056hunt.loaders.csv_portal.AuditRows`, and whose every row is
one line. Portal sign-in downloads are left to the plain path, because their
authentication steps sit in another file.

One pass over the raw bytes finds the line starts, checks the quoting and searches the
literals of :func:`~h056hunt.loaders.prefilter.signin_spec` or
:func:`~h056hunt.loaders.prefilter.audit_spec`. ``pyarrow.csv`` then reads only the
time, table and user id columns. A row is decoded when it contains a literal, a
``\\u`` escape, a time that does not parse, or a table of another log. A sign-in row
without a user id but with a UPN is decoded too, because the plain path matches it by
UPN. Decoding goes through the plain path's ``csv`` parsing and row mapping, with the
same line and record numbers.
Every other row is counted as pre-filtered, with its time in the file's time ranges
and its user id kept for :meth:`CsvFastFile.read_context`.

The quoting check accepts only quotes that open a cell, close it or are doubled
inside it, and no line break inside quotes. On such text ``pyarrow.csv`` (checked
with pyarrow 26) and the ``csv`` module in strict mode split cells the same way;
``tests/loaders/test_csv_fastpath.py`` contains the cases where they differ. Any file
outside these rules raises :class:`~h056hunt.loaders.fastpath.Unsupported` before
the sink is touched, and the plain path reads it.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import stringzilla as sz

from h056hunt import timeranges
from h056hunt.errors import InputError
from h056hunt.loaders import csv_export, entra, prefilter
from h056hunt.loaders.csv_log_analytics import (
    AUDIT_TABLES,
    LogAnalyticsRows,
    column_key,
)
from h056hunt.loaders.csv_portal import DATE_COLUMN, AuditRows, SigninRows
from h056hunt.loaders.csv_table import (
    MAX_CELL_CHARS,
    CsvHeader,
    CsvRecord,
    RowHandler,
    count_delimiters,
)
from h056hunt.loaders.fastpath import (
    FileChanged,
    FileIdentity,
    RecordingSink,
    Unsupported,
    check_unchanged,
    enabled,
    replay,
)
from h056hunt.loaders.fields import NULL_PLACEHOLDERS
from h056hunt.loaders.fields import text as field_text
from h056hunt.loaders.prefilter import LogSpec
from h056hunt.loaders.sink import FileSink
from h056hunt.loaders.upn_search import UpnSearch
from h056hunt.sources import GZIP_MAGIC, UTF16_MARKS
from h056hunt.timeparse import parse_time_column

logger = logging.getLogger(__name__)

CHUNK_BYTES = 8 * 1024 * 1024
# Smaller files go to the plain path: it maps every row in well under a second, and
# small exports keep every per-row check and count.
MIN_BYTES = 1024 * 1024
# The header line must end within this many bytes of the start of the file.
HEADER_PEEK_BYTES = 1024 * 1024
# Characters that Python's str.strip() removes from ASCII text.
ASCII_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
NEWLINE = 0x0A
CARRIAGE_RETURN = 0x0D
QUOTE = 0x22
_UTF8_MARK = b"\xef\xbb\xbf"
_SEPARATOR_LINE = re.compile(r"^sep=(.)\s*$")
_BRACKET_LABEL = re.compile(r"\[(?P<label>[^\]]*)\]\s*$")
# The start of a slash date whose day and month order the sink may infer.
_DAY_MONTH_START = r"^\d{1,2}/\d{1,2}/"
SIGNIN_TABLES = frozenset(entra.SIGNIN_EVENT_TYPE_BY_SOURCE)


@dataclass(frozen=True)
class _Columns:
    """Header positions of the cells the fast path reads without decoding a row.

    Attributes:
        time: the event time column.
        envelope_time: the column read when ``time`` is empty (``TimeGenerated``).
        table: the Log Analytics ``Type`` column.
        category: the ``Category`` column, read when there is no ``Type``.
        user: the user object id column of a sign-in export.
        upn: the user principal name column of a sign-in export.
        header_log: the log that the header alone gives every row, or None when the
            ``Type`` or ``Category`` cell decides it.
    """

    time: int
    envelope_time: int | None = None
    table: int | None = None
    category: int | None = None
    user: int | None = None
    upn: int | None = None
    header_log: str | None = None


@dataclass(frozen=True)
class _Layout:
    """The delimiter, header and first data byte of a CSV file."""

    delimiter: str
    header: CsvHeader
    data_start: int


@dataclass
class _Scan:
    """The row offsets and literal hits found by one pass over the raw rows.

    Attributes:
        starts: byte offset of each row's line, then the offset where the last
            line ends.
        hit_rows: rows that contain a literal of the spec or an escape.
    """

    starts: np.ndarray
    hit_rows: np.ndarray


@dataclass
class CsvFastFile:
    """A CSV file read by the fast path, with what the second pass needs.

    Attributes:
        starts: byte offset of each data row, then the end of the last row.
        user_codes: per row, an index into ``user_ids`` for a pre-filtered sign-in
            with a user id, else -1.
        user_ids: the lower-cased user ids that ``user_codes`` index.
        decoded_rows: the rows that the first pass decoded, in order.
    """

    path: Path
    display: str
    requested_log: str
    spec: LogSpec
    dayfirst: bool | None
    layout: _Layout
    starts: np.ndarray
    user_codes: np.ndarray
    user_ids: list[str]
    decoded_rows: np.ndarray
    identity: FileIdentity | None = None
    # Why the second pass could not read the file again, once it has tried.
    changed: str | None = None

    def read_context(self, wanted: set[bytes]) -> FileSink | None:
        """Route the pre-filtered rows of the ``wanted`` lower-cased user ids.

        Returns a new sink with those rows, or None when the file has none.

        Raises:
            FileChanged: the file is not what the first pass read, or reading its
                rows again failed.
        """
        names = {user.decode("utf-8", "replace") for user in wanted}
        codes = [code for code, user in enumerate(self.user_ids) if user in names]
        if not codes:
            return None
        rows = np.flatnonzero(np.isin(self.user_codes, codes))
        return self._route_unchanged(rows)

    def read_upn_candidates(self, search: UpnSearch) -> FileSink | None:
        """Route the pre-filtered rows that ``search`` marks.

        Returns a new sink with those rows, or None when the file has none.

        Raises:
            FileChanged: the file is not what the first pass read, or reading it
                again failed.
        """
        if search.every_line:
            rows = np.arange(len(self.starts) - 1)
        else:
            check_unchanged(self.path, self.identity)
            try:
                rows = _marked_rows(self.path, self.layout, self.starts, search)
            except OSError as error:
                raise FileChanged(f"reading it again failed: {error}") from error
        rows = np.setdiff1d(rows, self.decoded_rows, assume_unique=True)
        if not len(rows):
            return None
        return self._route_unchanged(rows)

    def _route_unchanged(self, rows: np.ndarray) -> FileSink:
        """Route ``rows`` into a new sink, checking the file before and after."""
        sink = FileSink(self.display, self.requested_log, self.dayfirst)
        check_unchanged(self.path, self.identity)
        try:
            _route_rows(self.path, self.layout, self.starts, rows, sink)
        except (OSError, UnicodeDecodeError, Unsupported) as error:
            check_unchanged(self.path, self.identity)
            raise FileChanged(f"reading it again failed: {error}") from error
        check_unchanged(self.path, self.identity)
        return sink


def try_load(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    fast_path: bool,
    revocation_activities: tuple[str, ...],
    max_record_bytes: int,
) -> CsvFastFile | None:
    """Load a file through the CSV fast path; None when the plain path must read it."""
    if not enabled(fast_path):
        return None
    try:
        if path.stat().st_size < MIN_BYTES:
            return None
        return load_file(
            path,
            display,
            sink,
            revocation_activities=revocation_activities,
            max_record_bytes=max_record_bytes,
        )
    except OSError:
        return None
    except (Unsupported, UnicodeDecodeError) as reason:
        # A row that no longer decodes means the file changed after the scan
        # checked it; the plain path reads it and reports what it finds.
        logger.debug("%s: read by the plain path: %s", display, reason)
        return None


def load_file(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    revocation_activities: tuple[str, ...],
    max_record_bytes: int,
) -> CsvFastFile:
    """Load one CSV file through the fast path into ``sink``.

    Raises:
        Unsupported: the plain path must read the file; ``sink`` is untouched.
    """
    # NOTE: the row offsets, the columns read and the user ids of pre-filtered rows
    # stay in memory, so this path's memory grows with the row count of the file.
    identity = FileIdentity.of(path)
    layout = _read_layout(path)
    handler = csv_export.choose_handler(layout.header)
    spec, columns = _plan(handler, layout.header, revocation_activities)
    assert handler is not None
    # pyarrow reads the columns in a thread while this one scans the bytes. Its
    # reader releases the interpreter lock, so the two overlap on two cores.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="h056-csv") as reader:
        columns_read = reader.submit(_read_columns, path, layout, columns)
        scan = _scan(path, layout, spec, max_record_bytes)
        table = columns_read.result()
    rows = len(scan.starts) - 1
    if table.num_rows != rows:
        raise Unsupported("pyarrow and the line scan count different rows")
    keep = _prefilterable(table, columns, spec)
    times, parsed = _event_times(table, columns, display, sink.dayfirst)
    keep &= parsed
    keep[scan.hit_rows] = False
    user_codes, user_ids = _user_codes(table, columns, spec)
    if spec.log == "signin" and columns.upn is not None:
        # A sign-in without a user id is matched by UPN in the plain path, and the
        # second pass finds rows by user id only, so such a row is decoded now.
        missing = np.flatnonzero(keep & (user_codes < 0))
        has_upn = _rows_with_upn(path, layout, scan.starts, missing, columns.upn)
        keep[missing[has_upn]] = False
    user_codes[~keep] = -1
    decoded_rows = np.flatnonzero(~keep)
    recorder = RecordingSink(display)
    _route_rows(path, layout, scan.starts, decoded_rows, recorder)
    replay(recorder.calls, sink, 0, 0)
    nanoseconds = times[keep]
    sink.add_prefiltered(
        spec.log,
        Counter({handler.shape: int(keep.sum())}),
        timeranges.from_nanoseconds(nanoseconds),
    )
    logger.debug("%s: %d of %d CSV rows decoded", display, rows - int(keep.sum()), rows)
    return CsvFastFile(
        path=path,
        display=display,
        requested_log=sink.report.requested_log,
        spec=spec,
        dayfirst=sink.dayfirst,
        layout=layout,
        starts=scan.starts,
        user_codes=user_codes,
        user_ids=user_ids,
        decoded_rows=decoded_rows,
        identity=identity,
    )


def _read_layout(path: Path) -> _Layout:
    """Read the header line as the plain path does; raise Unsupported otherwise."""
    try:
        with path.open("rb") as raw:
            head = raw.read(HEADER_PEEK_BYTES)
    except OSError as error:
        raise Unsupported(f"the file cannot be read here: {error}") from error

    if head.startswith(GZIP_MAGIC) or head[:2] in UTF16_MARKS:
        raise Unsupported("the file is gzip or UTF-16")
    newline = head.find(b"\n")
    if newline < 0:
        raise Unsupported("no line break within the header window")
    line = head[: newline + 1]
    if line.startswith(_UTF8_MARK):
        line = line[len(_UTF8_MARK) :]

    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unsupported("the header line is not valid UTF-8") from error
    content = text.replace("\ufeff", "").strip()
    if not content or _SEPARATOR_LINE.match(content) or "\x00" in text:
        raise Unsupported("the first line is not a plain header")
    if content[0] in "[{":
        raise Unsupported("the file is JSON")

    delimiter = count_delimiters(content)
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    try:
        cells = next(
            csv.reader(iter([text.lstrip("\ufeff")]), delimiter=delimiter, strict=True)
        )
    except (csv.Error, StopIteration) as error:
        raise Unsupported("the header is not one valid CSV line") from error
    header = CsvHeader.from_cells(cells, 1)
    return _Layout(delimiter, header, newline + 1)


def _plan(
    handler: RowHandler | None,
    header: CsvHeader,
    revocation_activities: tuple[str, ...],
) -> tuple[LogSpec, _Columns]:
    """Pick the spec and the columns to read for the handler of the header."""
    if isinstance(handler, LogAnalyticsRows):
        return _plan_log_analytics(header, revocation_activities)
    if isinstance(handler, SigninRows):
        # The portal writes the authentication steps of a sign-in to another file,
        # so a denial can sit in a step whose sign-in row contains no literal.
        raise Unsupported("portal sign-in downloads keep their steps in another file")
    if isinstance(handler, AuditRows):
        return prefilter.audit_spec(revocation_activities), _Columns(
            time=_position(header.positions, DATE_COLUMN), header_log="audit"
        )
    raise Unsupported("the CSV shape has no fast path")


def _plan_log_analytics(
    header: CsvHeader, revocation_activities: tuple[str, ...]
) -> tuple[LogSpec, _Columns]:
    positions: dict[str, int] = {}
    for position, name in enumerate(header.names):
        positions.setdefault(column_key(name), position)
        label = _BRACKET_LABEL.search(name)
        if label is not None and label.group("label").strip().upper() != "UTC":
            # The plain path warns about such columns once per file.
            raise Unsupported(f"column {name!r} is not marked [UTC]")
    has_signin_time = "createddatetime" in positions
    has_audit_time = "activitydatetime" in positions
    if has_signin_time == has_audit_time:
        raise Unsupported("the header does not name one log's time column")
    header_log = None
    if "type" not in positions and "category" not in positions:
        if "initiatedby" in positions or "activitydisplayname" in positions:
            header_log = "audit"
        elif {"userprincipalname", "resulttype", "userid"} & set(positions):
            header_log = "signin"
    columns = _Columns(
        time=positions.get("createddatetime", positions.get("activitydatetime", 0)),
        envelope_time=positions.get("timegenerated"),
        table=positions.get("type"),
        category=positions.get("category"),
        header_log=header_log,
    )
    if has_signin_time:
        columns = replace(
            columns,
            user=positions.get("userid"),
            upn=positions.get("userprincipalname"),
        )
        return prefilter.signin_spec(), columns
    return prefilter.audit_spec(revocation_activities), columns


def _position(positions: dict[str, int], key: str) -> int:
    if key not in positions:
        raise Unsupported(f"the header has no {key!r} column")
    return positions[key]


def _scan(path: Path, layout: _Layout, spec: LogSpec, max_record_bytes: int) -> _Scan:
    """Find the rows and the literal hits, checking every byte on the way.

    Raises:
        Unsupported: a NUL byte, invalid UTF-8, a carriage return that does not end
            a line, quoting outside the rules in the module docstring, a blank line
            or a line over ``max_record_bytes``.
    """
    delimiter = ord(layout.delimiter)
    decoder = codecs.getincrementaldecoder("utf-8")()
    starts: list[np.ndarray] = [np.array([layout.data_start], dtype=np.int64)]
    hits: list[np.ndarray] = []
    first_bytes: list[np.ndarray] = []
    buffer = bytearray(CHUNK_BYTES)
    carry = 0
    position = layout.data_start
    try:
        with path.open("rb") as raw:
            raw.seek(position)
            while True:
                read = raw.readinto(memoryview(buffer)[carry:])
                filled = carry + read
                at_end = read == 0
                if at_end and not filled:
                    break
                cut = filled if at_end else buffer.rfind(b"\n", 0, filled) + 1
                if cut == 0:
                    raise Unsupported("a line is longer than the scan buffer")
                array = np.frombuffer(buffer, np.uint8, count=cut)
                newlines = _check_chunk(array, buffer, decoder, delimiter, at_end)
                starts.append(newlines.astype(np.int64) + position + 1)
                local_starts = np.concatenate(([0], newlines + 1))
                first_bytes.append(array[local_starts[local_starts < cut]])
                hits.append(_hit_offsets(buffer, cut, spec) + position)
                position += cut
                carry = filled - cut
                buffer[:carry] = buffer[cut:filled]
                if at_end:
                    break
    except OSError as error:
        raise Unsupported(f"the file cannot be read here: {error}") from error
    if not hits:
        raise Unsupported("no rows follow the header")
    line_starts = np.concatenate(starts)
    if line_starts[-1] != position:
        # The last line has no line break; its end is the end of the file.
        line_starts = np.append(line_starts, position)
    lengths = np.diff(line_starts)
    if len(lengths) and lengths.max() >= max_record_bytes:
        raise Unsupported("a line at or over the record size limit")
    offsets = np.concatenate(hits)
    hit_rows = np.unique(np.searchsorted(line_starts, offsets, side="right") - 1)
    if spec.word_groups:
        hit_rows = _rows_naming_activity(path, line_starts, hit_rows, spec)
    with path.open("rb") as raw:
        _check_blank_rows(raw, line_starts, np.concatenate(first_bytes), layout)
    return _Scan(line_starts, hit_rows)


def _check_chunk(
    array: np.ndarray,
    buffer: bytearray,
    decoder: codecs.IncrementalDecoder,
    delimiter: int,
    final: bool,
) -> np.ndarray:
    """Return the newline offsets of a chunk of whole lines, ``buffer[:len(array)]``.

    Raises:
        Unsupported: the chunk is not text that the fast path splits exactly as
            the ``csv`` module does.
    """
    length = len(array)
    text = sz.Str(buffer)[:length]
    if text.find("\x00") >= 0:
        raise Unsupported("a NUL byte")
    if (array >= 0x80).any():
        try:
            decoder.decode(memoryview(buffer)[:length], final=final)
        except UnicodeDecodeError as error:
            raise Unsupported("invalid UTF-8") from error
    if text.count("\r") != text.count("\r\n"):
        raise Unsupported("a carriage return that does not end a line")
    quotes = np.flatnonzero(array == QUOTE)
    newlines = np.flatnonzero(array == NEWLINE)
    # A quote opens a cell when an even number of quotes come before it in the
    # chunk, which starts a line. Line breaks must all lie outside quotes.
    if len(quotes) % 2 or (np.searchsorted(quotes, newlines) % 2).any():
        raise Unsupported("a line break inside quotes or an unclosed quote")
    if not len(quotes):
        return newlines
    openings = quotes[0::2]
    closings = quotes[1::2]
    before = array[np.maximum(openings - 1, 0)]
    after = array[np.minimum(closings + 1, length - 1)]
    # An opening quote follows a delimiter, a line start or the closing quote of a
    # doubled pair. A closing quote precedes a delimiter, a line end or the opening
    # quote of a doubled pair.
    doubled_before = np.zeros(len(openings), dtype=bool)
    doubled_before[1:] = closings[:-1] == openings[1:] - 1
    opening_ok = (
        (openings == 0) | (before == delimiter) | (before == NEWLINE) | doubled_before
    )
    doubled_after = np.zeros(len(closings), dtype=bool)
    doubled_after[:-1] = openings[1:] == closings[:-1] + 1
    closing_ok = (
        (closings == length - 1)
        | (after == delimiter)
        | (after == NEWLINE)
        | (after == CARRIAGE_RETURN)
        | doubled_after
    )
    if not opening_ok.all() or not closing_ok.all():
        raise Unsupported("a quote that does not open, close or double a quote")
    return newlines


def _hit_offsets(buffer: bytearray, length: int, spec: LogSpec) -> np.ndarray:
    """Return the offsets of the spec's literals and of ``\\u`` in a chunk."""
    text = sz.Str(buffer)[:length]
    found: list[int] = []
    for needle in (*spec.needles, b"\\u"):
        position = text.find(needle)
        while position >= 0:
            found.append(position)
            position = text.find(needle, position + 1)
    if spec.word_groups:
        # As in the JSON scan: exact needles in a lower-cased copy, and each
        # character that folds to ASCII as a hit, whose row _rows_naming_activity
        # then checks.
        lowered = sz.Str(text.translate(prefilter.ASCII_LOWER))
        for needle in spec.uncased_needles:
            position = lowered.find(needle)
            while position >= 0:
                found.append(position)
                position = lowered.find(needle, position + 1)
        folding = prefilter.ascii_folding_positions(
            np.frombuffer(buffer, np.uint8, count=length)
        )
        return np.concatenate((np.array(found, dtype=np.int64), folding))
    for needle in spec.uncased_needles:
        position = sz.utf8_uncased_search(text, needle)
        while position >= 0:
            found.append(position)
            position = sz.utf8_uncased_search(text, needle, position + 1)
    return np.array(found, dtype=np.int64)


def _rows_naming_activity(
    path: Path, starts: np.ndarray, rows: np.ndarray, spec: LogSpec
) -> np.ndarray:
    """Keep the audit rows with an escape or every word of one activity name."""
    kept = []
    with path.open("rb") as raw:
        for row in rows.tolist():
            lowered = prefilter.fold_case(_read_row(raw, starts, row))
            if b"\\u" in lowered or any(
                all(word in lowered for word in group) for group in spec.word_groups
            ):
                kept.append(row)
    return np.array(kept, dtype=np.int64)


def _check_blank_rows(
    raw: BinaryIO, starts: np.ndarray, first_bytes: np.ndarray, layout: _Layout
) -> None:
    """Raise Unsupported when a row may have only blank cells.

    The plain path passes over such rows without counting them. A row that starts
    with a printable ASCII character other than a quote or the delimiter has a cell
    that is not blank. Rows that start otherwise are checked whole.
    """
    printable = np.zeros(256, dtype=bool)
    printable[0x21:0x7F] = True
    printable[QUOTE] = False
    printable[ord(layout.delimiter)] = False
    characters = bytes(np.flatnonzero(printable).astype(np.uint8).tolist())
    pattern = re.compile(b"[" + re.escape(characters) + b"]")
    suspects = np.flatnonzero(~printable[first_bytes[: len(starts) - 1]])
    for row in suspects.tolist():
        if pattern.search(_read_row(raw, starts, row)) is None:
            raise Unsupported(f"row {row + 1} may have only blank cells")


def _read_row(raw: BinaryIO, starts: np.ndarray, row: int) -> bytes:
    start = int(starts[row])
    raw.seek(start)
    data: bytes = raw.read(int(starts[row + 1]) - start)
    return data


def _read_columns(path: Path, layout: _Layout, columns: _Columns) -> pa.Table:
    """Read the columns the pre-filter needs, as strings named by position.

    Raises:
        Unsupported: pyarrow finds a row with another number of cells.
    """
    names = [str(position) for position in range(len(layout.header.names))]
    wanted = sorted(
        {
            str(position)
            for position in (
                columns.time,
                columns.envelope_time,
                columns.table,
                columns.category,
                columns.user,
            )
            if position is not None
        }
    )
    try:
        table = pa_csv.read_csv(
            path,
            # One thread: with pyarrow's thread pool the read took ten times the
            # CPU time on 2 cores (1.85 s against 0.19 s for 130 MB).
            read_options=pa_csv.ReadOptions(
                skip_rows=1,
                column_names=names,
                use_threads=False,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=layout.delimiter,
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=wanted,
                column_types=dict.fromkeys(wanted, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as error:
        raise Unsupported(f"pyarrow cannot read the CSV: {error}") from error
    return table.combine_chunks()


def _cells(table: pa.Table, position: int | None) -> pa.Array | None:
    if position is None:
        return None
    return (
        table.column(str(position)).chunk(0)
        if table.num_rows
        else pa.array([], pa.string())
    )


def _prefilterable(table: pa.Table, columns: _Columns, spec: LogSpec) -> np.ndarray:
    """Return a mask of the rows whose log is the spec's without decoding them.

    Mirrors the table rules of :mod:`~h056hunt.loaders.csv_log_analytics` for the
    exact, ASCII ``Type`` or ``Category`` cells; rows with other cells are decoded.
    """
    rows = table.num_rows
    if columns.header_log is not None:
        return np.full(rows, columns.header_log == spec.log)
    tables = AUDIT_TABLES if spec.log == "audit" else SIGNIN_TABLES
    value_set = pa.array(sorted(tables), pa.string())
    kind = _cells(table, columns.table)
    if kind is None:
        kind = _cells(table, columns.category)
    if kind is None:
        return np.zeros(rows, dtype=bool)
    matches = pc.and_(
        pc.string_is_ascii(kind), pc.is_in(pc.utf8_lower(kind), value_set=value_set)
    )
    return _mask(matches)


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False))


def _text(cells: pa.Array) -> pa.Array:
    """Return ``fields.text`` of ASCII cells: stripped, null for placeholders."""
    trimmed = pc.utf8_trim(cells, characters=ASCII_WHITESPACE)
    placeholder = pc.is_in(
        pc.utf8_lower(trimmed), value_set=pa.array(sorted(NULL_PLACEHOLDERS))
    )
    return pc.if_else(placeholder, pa.scalar(None, pa.string()), trimmed)


def _event_times(
    table: pa.Table, columns: _Columns, display: str, dayfirst: bool | None
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the event time of every row as the sink would.

    Returns int64 nanoseconds and a mask of the rows whose time parsed.

    Raises:
        Unsupported: a time cell that is not ASCII, a column the plain path would
            reject, or, without a user date order, a day-month slash date, because
            the sink infers the order from the decoded rows only.
    """
    primary = _cells(table, columns.time)
    assert primary is not None
    envelope = _cells(table, columns.envelope_time)
    sources = [primary] if envelope is None else [primary, envelope]
    for cells in sources:
        if not pc.all(pc.string_is_ascii(cells)).as_py() and len(cells):
            raise Unsupported("a time cell that is not ASCII")
    event = _text(primary)
    if envelope is not None:
        event = pc.coalesce(event, _text(envelope))
    if dayfirst is None and len(event):
        slash = pc.match_substring_regex(event, _DAY_MONTH_START)
        if pc.any(slash).as_py():
            raise Unsupported("a day-month date, without a date order")
    try:
        times, _ = parse_time_column(
            event.to_pylist(), path=display, column="event_time", dayfirst=dayfirst
        )
    except InputError as error:
        raise Unsupported(f"the time column needs the plain path: {error}") from error
    parsed = times.notna().to_numpy()
    nanoseconds = times.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return nanoseconds, parsed


def _user_codes(
    table: pa.Table, columns: _Columns, spec: LogSpec
) -> tuple[np.ndarray, list[str]]:
    """Return per-row indexes into the lower-cased user ids of the rows, -1 for a
    row without an id or of an audit export."""
    cells = _cells(table, columns.user)
    if spec.log != "signin" or cells is None:
        return np.full(table.num_rows, -1, dtype=np.int32), []
    ascii_rows = _mask(pc.string_is_ascii(cells))
    users = pc.utf8_lower(_text(cells)).to_pylist()
    for row in np.flatnonzero(~ascii_rows).tolist():
        # Python's strip and lower() differ from pyarrow's outside ASCII.
        value = cells[row].as_py().strip()
        users[row] = None if value.lower() in NULL_PLACEHOLDERS else value.lower()
    encoded = pa.array(users, pa.string()).dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(pc.is_valid(encoded).to_numpy(zero_copy_only=False), codes, -1)
    return codes.astype(np.int32), encoded.dictionary.to_pylist()


def _rows_with_upn(
    path: Path, layout: _Layout, starts: np.ndarray, rows: np.ndarray, column: int
) -> np.ndarray:
    """Return a mask of ``rows`` whose UPN cell the plain path reads as a UPN, or
    that do not split into cells here."""
    found = np.ones(len(rows), dtype=bool)
    if not len(rows):
        return found
    with path.open("rb") as raw:
        for index, row in enumerate(rows.tolist()):
            line = _read_row(raw, starts, row).decode("utf-8")
            try:
                cells = next(
                    csv.reader(iter([line]), delimiter=layout.delimiter, strict=True)
                )
            except (csv.Error, StopIteration):
                continue
            if column < len(cells) and field_text(cells[column]) is None:
                found[index] = False
    return found


def _marked_rows(
    path: Path, layout: _Layout, starts: np.ndarray, search: UpnSearch
) -> np.ndarray:
    """Return the data rows of which ``search`` marks a line, in order."""
    found: list[np.ndarray] = []
    with path.open("rb") as raw:
        raw.seek(layout.data_start)
        position = layout.data_start
        carry = b""
        while True:
            data = raw.read(CHUNK_BYTES)
            chunk = carry + data
            if not chunk:
                break
            cut = len(chunk) if not data else chunk.rfind(b"\n") + 1
            if cut == 0:
                carry = chunk
                continue
            offsets = np.array(search.hits(chunk, cut), dtype=np.int64) + position
            found.append(np.searchsorted(starts, offsets, side="right") - 1)
            position += cut
            carry = chunk[cut:]
            if not data:
                break
    rows = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
    return rows[(rows >= 0) & (rows < len(starts) - 1)]


def _route_rows(
    path: Path,
    layout: _Layout,
    starts: np.ndarray,
    rows: np.ndarray,
    sink: Any,
) -> None:
    """Split the given rows with the ``csv`` module and map them as the plain path
    does, with its line and record numbers.

    Raises:
        Unsupported: a row does not split into the header's number of cells.
    """
    handler = csv_export.choose_handler(layout.header)
    assert handler is not None
    width = len(layout.header.names)
    with path.open("rb") as raw:
        for row in rows.tolist():
            text = _read_row(raw, starts, row).decode("utf-8")
            try:
                cells = next(
                    csv.reader(iter([text]), delimiter=layout.delimiter, strict=True)
                )
            except (csv.Error, StopIteration) as error:
                raise Unsupported(
                    f"row {row + 1} does not split as expected"
                ) from error
            if len(cells) != width:
                raise Unsupported(f"row {row + 1} has {len(cells)} cells")
            record = CsvRecord(
                cells=cells, header=layout.header, line=row + 2, number=row + 1
            )
            handler.add(record, sink)
