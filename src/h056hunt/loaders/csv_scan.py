"""Plan the CSV fast path's read of a file and scan its raw bytes.

This is the part of :mod:`~h056hunt.loaders.csv_fastpath` that needs neither pandas
nor pyarrow, so :mod:`~h056hunt.loaders.csv_early` can run it in workers forked
before the command line imports them. :func:`plan_scan` reads the header line and
picks the literals and the columns to read, and :func:`scan_rows` makes one pass
over the raw bytes of the file or of one byte range of it. That pass finds the line
starts, checks the quoting, searches the literals of
:func:`~h056hunt.loaders.prefilter.signin_spec` or
:func:`~h056hunt.loaders.prefilter.audit_spec`, and hands each chunk to
:class:`~h056hunt.loaders.csv_cells.FactReader` for the facts of its rows.

The quoting check accepts only quotes that open a cell, close it or are doubled
inside it, and no line break inside quotes. It works on one bit per byte. The
parity of the quotes up to each byte shows whether the byte lies inside quotes, so
each quote is known to open or close without a loop over the quotes. On such text
the delimiters outside quotes split each line into the cells that the ``csv``
module gives in strict mode. ``tests/loaders/test_csv_fastpath.py`` contains the
cases at the edge of these rules. Any file outside them raises
:class:`~h056hunt.loaders.fastpath.Unsupported`.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import stringzilla as sz

from h056hunt.errors import quote_input
from h056hunt.loaders import csv_export, prefilter
from h056hunt.loaders.csv_cells import WINDOW_SLACK, FactReader, RowFacts
from h056hunt.loaders.csv_log_analytics import LogAnalyticsRows, column_key
from h056hunt.loaders.csv_portal import DATE_COLUMN, AuditRows, SigninRows
from h056hunt.loaders.csv_table import (
    MAX_CELL_CHARS,
    CsvHeader,
    RowHandler,
    count_delimiters,
)
from h056hunt.loaders.fastpath import Unsupported
from h056hunt.loaders.prefilter import LogSpec
from h056hunt.sources import GZIP_MAGIC, UTF16_MARKS

# Bytes read and checked at a time. On the 1M Log Analytics export, 2 MiB took less
# CPU than 1 or 8 MiB: 4.96 to 5.09 s in the scan workers against 5.26 to 5.42 s.
CHUNK_BYTES = 2 * 1024 * 1024
# A line longer than a chunk doubles the chunk up to this size. A line longer still
# sends the file to the plain path.
MAX_CHUNK_BYTES = 8 * 1024 * 1024
# Smaller files go to the plain path: it maps every row in well under a second, and
# small exports keep every per-row check and count.
MIN_BYTES = 1024 * 1024
# The header line must end within this many bytes of the start of the file.
HEADER_PEEK_BYTES = 1024 * 1024
NEWLINE = 0x0A
CARRIAGE_RETURN = 0x0D
QUOTE = 0x22
_UTF8_MARK = b"\xef\xbb\xbf"
_SEPARATOR_LINE = re.compile(r"^sep=(.)\s*$")
_BRACKET_LABEL = re.compile(r"\[(?P<label>[^\]]*)\]\s*$")


@dataclass(frozen=True)
class Columns:
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
class Layout:
    """The delimiter, header and first data byte of a CSV file."""

    delimiter: str
    header: CsvHeader
    data_start: int


@dataclass
class RowScan:
    """The row offsets, literal hits and row facts found by one pass over the raw
    rows.

    Attributes:
        starts: byte offset of each row's line, then the offset where the last
            line ends.
        hit_rows: rows that contain a literal of the spec or an escape.
        facts: the time, table and user id facts of each row.
    """

    starts: np.ndarray
    hit_rows: np.ndarray
    facts: RowFacts


@dataclass(frozen=True)
class ScanPlan:
    """The settings of a file's byte scan and the columns read beside it.

    A scan started early is used only when the run plans an equal one.
    """

    layout: Layout
    spec: LogSpec
    columns: Columns
    max_record_bytes: int
    dayfirst: bool | None = None


def plan_scan(
    path: Path,
    *,
    revocation_activities: tuple[str, ...],
    max_record_bytes: int,
    dayfirst: bool | None = None,
) -> tuple[ScanPlan, RowHandler]:
    """Plan the fast-path read of a CSV file from its header line.

    Returns the plan and the handler that maps the file's rows.

    Raises:
        Unsupported: the plain path must read the file.
    """
    layout = read_layout(path)
    handler = csv_export.choose_handler(layout.header)
    spec, columns = _plan_columns(handler, layout.header, revocation_activities)
    assert handler is not None
    return ScanPlan(layout, spec, columns, max_record_bytes, dayfirst), handler


def read_layout(path: Path) -> Layout:
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
    return Layout(delimiter, header, newline + 1)


def _plan_columns(
    handler: RowHandler | None,
    header: CsvHeader,
    revocation_activities: tuple[str, ...],
) -> tuple[LogSpec, Columns]:
    """Pick the spec and the columns to read for the handler of the header."""
    if isinstance(handler, LogAnalyticsRows):
        return _plan_log_analytics(header, revocation_activities)
    if isinstance(handler, SigninRows):
        # The portal writes the authentication steps of a sign-in to another file,
        # so a denial can sit in a step whose sign-in row contains no literal.
        raise Unsupported("portal sign-in downloads keep their steps in another file")
    if isinstance(handler, AuditRows):
        return prefilter.audit_spec(revocation_activities), Columns(
            time=_position(header.positions, DATE_COLUMN), header_log="audit"
        )
    raise Unsupported("the CSV shape has no fast path")


def _plan_log_analytics(
    header: CsvHeader, revocation_activities: tuple[str, ...]
) -> tuple[LogSpec, Columns]:
    positions: dict[str, int] = {}
    for position, name in enumerate(header.names):
        positions.setdefault(column_key(name), position)
        label = _BRACKET_LABEL.search(name)
        if label is not None and label.group("label").strip().upper() != "UTC":
            # The plain path warns about such columns once per file.
            raise Unsupported(
                quote_input("column {name} is not marked [UTC]", name=name)
            )
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
    columns = Columns(
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


def scan_rows(
    path: Path, plan: ScanPlan, display: str, span: tuple[int, int] | None = None
) -> RowScan:
    """Find the rows, the literal hits and the row facts, checking every byte.

    ``span`` is the byte range to read, from a line start to a line start or the
    end of the file, and by default every data row. A range may start at a line
    break inside a quoted cell, because the range before it then ends inside
    quotes and raises.

    Raises:
        Unsupported: a NUL byte, invalid UTF-8, a carriage return that does not end
            a line, quoting outside the rules in the module docstring, a blank line,
            a line over ``max_record_bytes``, or a row that
            :class:`~h056hunt.loaders.csv_cells.FactReader` cannot read.
    """
    layout, spec = plan.layout, plan.spec
    begin, end = span if span is not None else (layout.data_start, None)
    delimiter = ord(layout.delimiter)
    decoder = codecs.getincrementaldecoder("utf-8")()
    facts = FactReader(
        plan.columns, spec.log, len(layout.header.names), plan.dayfirst, display
    )
    starts: list[np.ndarray] = [np.array([begin], dtype=np.int64)]
    hits: list[np.ndarray] = []
    first_bytes: list[np.ndarray] = []
    capacity = CHUNK_BYTES
    buffer = bytearray(capacity + WINDOW_SLACK)
    padded = np.frombuffer(buffer, np.uint8)
    flags = np.zeros(capacity + 64, dtype=bool)
    carry = 0
    position = begin
    try:
        with path.open("rb") as raw:
            raw.seek(position)
            while True:
                room = capacity - carry
                if end is not None:
                    room = min(room, end - position - carry)
                read = raw.readinto(memoryview(buffer)[carry : carry + room])
                filled = carry + read
                at_end = read == 0
                if at_end and not filled:
                    break
                cut = filled if at_end else buffer.rfind(b"\n", 0, filled) + 1
                if cut == 0:
                    carry = filled
                    if filled < capacity:
                        # The rest of the range may be one line without a line
                        # break at the end of the file: read on until the end.
                        continue
                    if capacity >= MAX_CHUNK_BYTES:
                        raise Unsupported("a line is longer than the scan buffer")
                    capacity = min(2 * capacity, MAX_CHUNK_BYTES)
                    grown = bytearray(capacity + WINDOW_SLACK)
                    grown[:filled] = buffer[:filled]
                    buffer = grown
                    padded = np.frombuffer(buffer, np.uint8)
                    flags = np.zeros(capacity + 64, dtype=bool)
                    continue
                array = np.frombuffer(buffer, np.uint8, count=cut)
                newlines, outside, ascii_only = _check_chunk(
                    array, buffer, decoder, delimiter, at_end, flags
                )
                facts.add_chunk(padded, cut, newlines, outside, ascii_only=ascii_only)
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
        return RowScan(
            np.array([begin], dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            facts.result(),
        )
    line_starts = np.concatenate(starts)
    if line_starts[-1] != position:
        # The last line has no line break; its end is the end of the file.
        line_starts = np.append(line_starts, position)
    lengths = np.diff(line_starts)
    if len(lengths) and lengths.max() >= plan.max_record_bytes:
        raise Unsupported("a line at or over the record size limit")
    offsets = np.concatenate(hits)
    hit_rows = np.unique(np.searchsorted(line_starts, offsets, side="right") - 1)
    if spec.word_groups:
        hit_rows = _rows_naming_activity(path, line_starts, hit_rows, spec)
    with path.open("rb") as raw:
        _check_blank_rows(raw, line_starts, np.concatenate(first_bytes), layout)
    return RowScan(line_starts, hit_rows, facts.result())


def join_scans(parts: list[RowScan]) -> RowScan:
    """Return the scans of consecutive ranges of a file as one scan.

    Raises:
        Unsupported: the ranges contain no row.
    """
    starts = [parts[0].starts[:1]]
    hit_rows = []
    rows = 0
    for part in parts:
        starts.append(part.starts[1:])
        hit_rows.append(part.hit_rows + rows)
        rows += len(part.starts) - 1
    if not rows:
        raise Unsupported("no rows follow the header")
    return RowScan(
        np.concatenate(starts),
        np.concatenate(hit_rows),
        RowFacts.join([part.facts for part in parts]),
    )


def split_spans(path: Path, layout: Layout, count: int) -> list[tuple[int, int]]:
    """Cut the data rows of a file into ``count`` byte ranges at line starts.

    A range may be empty when the file has few lines.
    """
    size = path.stat().st_size
    cuts = [layout.data_start]
    with path.open("rb") as raw:
        for part in range(1, count):
            target = max(
                cuts[-1], layout.data_start + (size - layout.data_start) * part // count
            )
            raw.seek(target)
            window = raw.read(HEADER_PEEK_BYTES)
            newline = window.find(b"\n")
            cuts.append(size if newline < 0 else target + newline + 1)
    cuts.append(size)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _check_chunk(
    array: np.ndarray,
    buffer: bytearray,
    decoder: codecs.IncrementalDecoder,
    delimiter: int,
    final: bool,
    flags: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return the newline offsets of a chunk of whole lines, ``buffer[:len(array)]``.

    ``flags`` is a scratch buffer of at least ``len(array)`` rounded up to 64.
    Also returns the bits (see :func:`_bit_mask`) of the delimiters outside quotes
    and whether the chunk is all ASCII.

    Raises:
        Unsupported: the chunk is not text that the fast path splits exactly as
            the ``csv`` module does.
    """
    length = len(array)
    text = sz.Str(buffer)[:length]
    if text.find("\x00") >= 0:
        raise Unsupported("a NUL byte")
    ascii_only = not (array >= 0x80).any()
    if not ascii_only:
        try:
            decoder.decode(memoryview(buffer)[:length], final=final)
        except UnicodeDecodeError as error:
            raise Unsupported("invalid UTF-8") from error
    quotes = _bit_mask(array, QUOTE, flags)
    breaks = _bit_mask(array, NEWLINE, flags)
    newlines = np.flatnonzero(flags[:length])
    delimiters = _bit_mask(array, delimiter, flags)
    if text.find("\r") >= 0:
        returns = _bit_mask(array, CARRIAGE_RETURN, flags)
        if (returns & ~_next_bits(breaks, length, end_bit=False)).any():
            raise Unsupported("a carriage return that does not end a line")
    else:
        returns = np.zeros_like(breaks)
    inside = _inside_quotes(quotes)
    # A chunk starts a line, so it must also end outside quotes, and so must
    # every line break in it.
    if inside[-1] >> _TOP_BIT or (breaks & inside).any():
        raise Unsupported("a line break inside quotes or an unclosed quote")
    # A quote with an even number of quotes before it in the chunk opens a cell or
    # the second quote of a doubled pair, so the byte before it is a delimiter, a
    # line break or a quote. A quote with an odd number before it closes a cell or
    # is the first of a doubled pair, so the byte after it is a delimiter, a line
    # end or a quote.
    may_precede = delimiters | breaks | quotes
    may_follow = may_precede | returns
    openings = quotes & inside
    closings = quotes & ~inside
    if (openings & ~_previous_bits(may_precede)).any() or (
        closings & ~_next_bits(may_follow, length, end_bit=True)
    ).any():
        raise Unsupported("a quote that does not open, close or double a quote")
    return newlines, delimiters & ~inside, ascii_only


_ONE = np.uint64(1)
_TOP_BIT = np.uint64(63)
_ALL_BITS = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _bit_mask(array: np.ndarray, value: int, flags: np.ndarray) -> np.ndarray:
    """Return one bit per byte of ``array``, set where the byte is ``value``.

    Bit ``i`` of word ``w`` is byte ``64 * w + i``. ``flags[:len(array)]`` contains
    the byte mask afterwards.
    """
    length = len(array)
    words = -(-length // 64)
    np.equal(array, value, out=flags[:length])
    flags[length : words * 64] = False
    return np.packbits(flags[: words * 64], bitorder="little").view("<u8")


def _inside_quotes(quotes: np.ndarray) -> np.ndarray:
    """Return the bits of the bytes with an odd number of quotes up to them."""
    parity = quotes.copy()
    for shift in (1, 2, 4, 8, 16, 32):
        parity ^= parity << np.uint64(shift)
    # The top bit of each word is the parity of its quotes. Each word is flipped
    # when the words before it contain an odd number.
    carried = np.bitwise_xor.accumulate(parity >> _TOP_BIT)
    parity[1:] ^= carried[:-1] * _ALL_BITS
    return parity


def _previous_bits(bits: np.ndarray) -> np.ndarray:
    """Return the bits of the bytes that follow a set bit. The first byte's bit is
    set, since a chunk starts a line."""
    shifted = bits << _ONE
    shifted[1:] |= bits[:-1] >> _TOP_BIT
    shifted[0] |= _ONE
    return shifted


def _next_bits(bits: np.ndarray, length: int, *, end_bit: bool) -> np.ndarray:
    """Return the bits of the bytes that precede a set bit. The last byte's bit is
    ``end_bit``."""
    shifted = bits >> _ONE
    shifted[:-1] |= bits[1:] << _TOP_BIT
    last = np.uint64(1) << np.uint64((length - 1) % 64)
    if end_bit:
        shifted[-1] |= last
    else:
        shifted[-1] &= ~last
    return shifted


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
            lowered = prefilter.fold_activity_line(read_row(raw, starts, row))
            if b"\\u" in lowered or any(
                all(word in lowered for word in group) for group in spec.word_groups
            ):
                kept.append(row)
    return np.array(kept, dtype=np.int64)


def _check_blank_rows(
    raw: BinaryIO, starts: np.ndarray, first_bytes: np.ndarray, layout: Layout
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
        if pattern.search(read_row(raw, starts, row)) is None:
            raise Unsupported(f"row {row + 1} may have only blank cells")


def read_row(raw: BinaryIO, starts: np.ndarray, row: int) -> bytes:
    start = int(starts[row])
    raw.seek(start)
    data: bytes = raw.read(int(starts[row + 1]) - start)
    return data
