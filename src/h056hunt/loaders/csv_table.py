"""Split delimited text into a header and rows that remember their line numbers.

Exports quote cells that hold JSON text, doubled quotes and line breaks, so one row can
span several lines. Rows are read with the standard ``csv`` module in strict mode from
a stream of lines, one row in memory at a time. A row that breaks the quoting rules
comes back as a :class:`CsvFault`, and reading resumes on the line after the one where
that row started.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from h056hunt.loaders import fields
from h056hunt.plurals import Counted
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES, TextLine

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

DELIMITERS = (",", ";")
# Cells of AuditData or Conditional Access policies can pass the csv module's default
# limit of 131,072 characters.
MAX_CELL_CHARS = 64 * 1024 * 1024
_SEPARATOR_LINE = re.compile(r"^sep=(.)\s*$")


def normalise_header_name(name: str) -> str:
    """Return a header name stripped, with inner whitespace collapsed, lower-cased.

    Portal headers carry stray spaces (``"Application ID "``, ``"Autonomous system
    number"`` with two spaces), and a byte order mark can stick to the first name.
    """
    return " ".join(name.replace("\ufeff", "").split()).lower()


@dataclass(frozen=True)
class CsvHeader:
    """The column names of a CSV file, as written and normalised.

    A repeated name (the portal writes ``Incoming token type`` twice) resolves to its
    first column.
    """

    names: tuple[str, ...]
    line: int
    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_cells(cls, cells: list[str], line: int) -> CsvHeader:
        """Build a header from the cells of the header row."""
        names = tuple(cell.replace("\ufeff", "").strip() for cell in cells)
        positions: dict[str, int] = {}
        for position, name in enumerate(names):
            positions.setdefault(normalise_header_name(name), position)
        return cls(names=names, line=line, positions=positions)

    def __contains__(self, key: object) -> bool:
        return key in self.positions

    def has_any(self, *keys: str) -> bool:
        """Tell whether any of the normalised ``keys`` is a column."""
        return any(key in self.positions for key in keys)

    def name_of(self, key: str) -> str | None:
        """Return the column name as written for a normalised key."""
        position = self.positions.get(key)
        return None if position is None else self.names[position]


@dataclass(frozen=True)
class CsvRecord:
    """One data row, with the line it starts on and its 1-based number in the file."""

    cells: list[str]
    header: CsvHeader
    line: int
    number: int

    def get(self, key: str) -> str | None:
        """Return a cell by normalised column name; None for nulls and placeholders.

        The result equals ``fields.text`` of the cell, computed without its type checks
        because a cell is always a string.
        """
        value = self.raw(key)
        if value is None:
            return None
        value = value.strip()
        if not value or value.lower() in fields.NULL_PLACEHOLDERS:
            return None
        return value

    def raw(self, key: str) -> str | None:
        """Return a cell by normalised column name exactly as written."""
        position = self.header.positions.get(key)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def first(self, *keys: str) -> str | None:
        """Return the first of ``keys`` that has a value."""
        for key in keys:
            value = self.get(key)
            if value is not None:
                return value
        return None


class RowHandler(Protocol):
    """Maps the rows of one CSV shape into a sink."""

    shape: str

    def add(self, record: CsvRecord, sink: FileSink) -> None:
        """Add one row to the sink, or count it as skipped."""


@dataclass(frozen=True)
class CsvFault:
    """A row that breaks the CSV quoting rules or is longer than the row limit.

    Attributes:
        line: 1-based line where the row starts.
        message: what is wrong, for the user.
        size: the row's size in bytes when it is longer than the limit, else None.
        limit: the row limit in bytes when ``size`` is set.
    """

    line: int
    message: str
    size: int | None = None
    limit: int | None = None


def read_rows(
    lines: Iterable[TextLine], *, max_row_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, list[str]] | CsvFault]:
    """Yield ``(line, cells)`` for the header and every non-blank row after it.

    An Excel ``sep=;`` first line sets the delimiter and is skipped. Otherwise the
    delimiter is the one of comma and semicolon that occurs more often outside quotes
    in the header line. Rows whose cells are all empty hold no record and are passed
    over. A row that breaks the quoting rules comes back as a :class:`CsvFault`, and
    reading resumes on the line after the one where that row started. A row longer
    than ``max_row_bytes`` is a fault too, and reading resumes after its last line.
    """
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    feed = _LineFeed(iter(lines), max_row_bytes)
    delimiter = feed.find_header()
    if delimiter is None:
        return
    while True:
        reader = csv.reader(feed, delimiter=delimiter, strict=True)
        while True:
            feed.start_row()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield CsvFault(line=feed.row_start, message=_describe(error))
                feed.replay_after_row_start()
                break
            except _RowTooLarge as too_large:
                yield CsvFault(
                    line=feed.row_start,
                    message="the row is larger than the limit of "
                    f"{Counted(max_row_bytes, 'byte')}",
                    size=too_large.size,
                    limit=max_row_bytes,
                )
                if not too_large.single_line:
                    feed.replay_after_row_start()
                break
            if any(cell.strip() for cell in cells):
                yield feed.row_start, cells


class _RowTooLarge(Exception):
    def __init__(self, size: int, *, single_line: bool) -> None:
        super().__init__(size)
        self.size = size
        self.single_line = single_line


class _LineFeed:
    """Hand lines to ``csv.reader`` and keep the lines of the row being read.

    A broken row is read again from its second line, so the lines of one row (at
    most ``max_row_bytes``) are kept until the row is complete.
    """

    def __init__(self, lines: Iterator[TextLine], max_row_bytes: int) -> None:
        self._lines = lines
        self._max_row_bytes = max_row_bytes
        self._replay: deque[TextLine] = deque()
        self._row_lines: list[TextLine] = []
        self._row_bytes = 0
        self._last_number = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self._replay.popleft() if self._replay else next(self._lines)
        self._last_number = line.number
        self._row_lines.append(line)
        if line.text is None:
            raise _RowTooLarge(line.size, single_line=True)
        self._row_bytes += line.size
        if self._row_bytes > self._max_row_bytes and len(self._row_lines) > 1:
            raise _RowTooLarge(self._row_bytes, single_line=False)
        return line.text

    @property
    def row_start(self) -> int:
        """Line where the current row starts."""
        if self._row_lines:
            return self._row_lines[0].number
        return self._last_number

    def start_row(self) -> None:
        self._row_lines = []
        self._row_bytes = 0

    def replay_after_row_start(self) -> None:
        self._replay.extendleft(reversed(self._row_lines[1:]))
        self._row_lines = []

    def find_header(self) -> str | None:
        """Pass over blank lines and a ``sep=`` line; return the delimiter or None.

        The header line is put back, without byte order marks, to be read as the
        first row.
        """
        forced: str | None = None
        for line in self._lines:
            if line.text is None:
                self._replay.append(line)
                return forced or DELIMITERS[0]
            content = line.text.replace("\ufeff", "").strip()
            separator = _SEPARATOR_LINE.match(content) if forced is None else None
            if separator is not None:
                forced = separator.group(1)
            elif content:
                # A byte order mark left in the text would keep the csv module from
                # seeing the quote that opens the first header name.
                text = line.text.lstrip("\ufeff")
                self._replay.append(TextLine(line.number, text, line.size))
                return forced or count_delimiters(content)
        return None


def count_delimiters(header_line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for character in header_line:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    return max(DELIMITERS, key=lambda delimiter: counts[delimiter])


# The csv module's message for text after the quote that closes a quoted cell.
_STRAY_TEXT = re.compile(r"'(.)' expected after '\"'", re.DOTALL)


def _describe(error: csv.Error) -> str:
    detail = str(error)
    stray = _STRAY_TEXT.fullmatch(detail)
    if stray is not None:
        # Python's text names the delimiter it expected after a closing quote.
        return (
            f"a quoted cell is closed by a quote that is followed by other text, "
            f"not by {stray.group(1)!r} or a line end; write each quote inside a "
            f'quoted cell twice ("")'
        )
    if "unexpected end of data" in detail:
        return "a quoted cell that starts in this row is never closed"
    if "new-line character seen in unquoted field" in detail:
        # Python's text suggests a file mode, which a user cannot choose here.
        return "a carriage return inside an unquoted cell; the file may be binary"
    return f"invalid quoting ({detail})"
