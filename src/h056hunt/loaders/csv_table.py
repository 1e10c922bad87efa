"""Split delimited text into a header and rows that remember their line numbers.

Exports quote cells that hold JSON text, doubled quotes and line breaks, so one row can
span several lines. Rows are read with the standard ``csv`` module in strict mode. A
row that breaks the quoting rules comes back as a :class:`CsvFault`, and reading
resumes on the line after the one where that row started.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from h056hunt.loaders import fields
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

    def preview(self, count: int = 5) -> str:
        """Return the first ``count`` column names, quoted, for messages."""
        listed = ", ".join(repr(name) for name in self.names[:count])
        if len(self.names) > count:
            listed += ", ..."
        return listed


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
    """A row that breaks the CSV quoting rules."""

    line: int
    message: str


@dataclass(frozen=True)
class CsvLayout:
    """Start of the header row of a file and the delimiter of its cells."""

    delimiter: str
    offset: int
    line: int


def find_layout(text: str) -> CsvLayout | None:
    """Locate the header line and pick its delimiter; None for blank text.

    An Excel ``sep=;`` first line sets the delimiter and is skipped. Otherwise the
    delimiter is the one of comma and semicolon that occurs more often outside quotes
    in the header line.
    """
    offset = 0
    line = 1
    forced: str | None = None
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end == -1 else end + 1
        content = text[offset:end].replace("\ufeff", "").strip()
        separator = _SEPARATOR_LINE.match(content) if forced is None else None
        if separator is not None:
            forced = separator.group(1)
        elif content:
            delimiter = forced or _count_delimiters(content)
            # A byte order mark left in the text would keep the csv module from
            # seeing the quote that opens the first header name.
            while text.startswith("\ufeff", offset):
                offset += 1
            return CsvLayout(delimiter=delimiter, offset=offset, line=line)
        offset = end
        line += 1
    return None


def _count_delimiters(header_line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for character in header_line:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    return max(DELIMITERS, key=lambda delimiter: counts[delimiter])


class _LineSource:
    """Hand lines to ``csv.reader`` and remember how far it has read."""

    def __init__(self, text: str, offset: int) -> None:
        self.text = text
        self.offset = offset
        self.lines_read = 0

    def __iter__(self) -> _LineSource:
        return self

    def __next__(self) -> str:
        if self.offset >= len(self.text):
            raise StopIteration
        end = self.text.find("\n", self.offset)
        end = len(self.text) if end == -1 else end + 1
        line = self.text[self.offset : end]
        self.offset = end
        self.lines_read += 1
        return line


def iter_rows(
    text: str, layout: CsvLayout
) -> Iterator[tuple[int, list[str]] | CsvFault]:
    """Yield ``(line, cells)`` for every non-blank row, or a fault for a broken one.

    Blank lines and rows whose cells are all empty hold no record and are passed over.
    """
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    offset = layout.offset
    first_line = layout.line
    while offset < len(text):
        source = _LineSource(text, offset)
        reader = csv.reader(source, delimiter=layout.delimiter, strict=True)
        while True:
            row_offset = source.offset
            row_line = first_line + source.lines_read
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield CsvFault(line=row_line, message=_describe(error))
                break
            if any(cell.strip() for cell in cells):
                yield row_line, cells
        # Resume on the line after the start of the broken row.
        next_newline = text.find("\n", row_offset)
        if next_newline == -1:
            return
        offset = next_newline + 1
        first_line = row_line + 1


def _describe(error: csv.Error) -> str:
    detail = str(error)
    if "unexpected end of data" in detail:
        return "a quoted cell that starts in this row is never closed"
    return f"invalid quoting ({detail})"
