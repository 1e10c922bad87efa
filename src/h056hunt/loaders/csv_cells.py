"""Read the few cells that the CSV pre-filter needs straight from the raw bytes.

:func:`~h056hunt.loaders.csv_scan.scan_rows` hands :class:`FactReader` each chunk of
whole lines after checking its quoting, with the bits of the delimiters that lie
outside quotes. Those delimiters split every row into the header's number of
cells, so the time, table and user id cells of all rows are found with a few array
operations and no CSV parser. Each row keeps only its facts: whether its table is
the spec's log, its event time and its user id.

The rules are those of the plain path, cell by cell. A cell is the text between
two delimiters, less the quotes around it and with each doubled quote inside made
one. A time or a user id is stripped of white space, and a placeholder such as
``null`` counts as missing. Cells in the common forms (an unquoted ISO time, an
unquoted user id of 36 hex digits and dashes, an ASCII table name) are read in
bulk. Times in other forms are copied out in bulk and parsed by
:func:`~h056hunt.timeparse.parse_time_column`. Other table and user id cells go
through Python one at a time.

Importing this module imports no pandas or pyarrow, so it runs in the workers that
:mod:`~h056hunt.loaders.csv_early` forks before the command line imports them. Only
a file with times in other forms makes a worker import pandas, for the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from h056hunt.loaders import entra, prefilter
from h056hunt.loaders.csv_log_analytics import AUDIT_TABLES
from h056hunt.loaders.fastpath import Unsupported
from h056hunt.loaders.fields import text as field_text

if TYPE_CHECKING:
    from h056hunt.loaders.csv_scan import Columns

QUOTE = 0x22
NEWLINE = 0x0A
CARRIAGE_RETURN = 0x0D
SIGNIN_TABLES = frozenset(entra.SIGNIN_EVENT_TYPE_BY_SOURCE)
# The start of a slash date whose day and month order the sink may infer.
_DAY_MONTH_START = re.compile(r"^\d{1,2}/\d{1,2}/")
_ID_LENGTH = 36
_LOWER = np.frombuffer(prefilter.ASCII_LOWER, dtype=np.uint8)
_ID_BYTES = np.zeros(256, dtype=bool)
_ID_BYTES[np.frombuffer(b"0123456789abcdefABCDEF-", dtype=np.uint8)] = True
_ID_FORM = re.compile(r"[0-9a-f-]{36}")
# The bytes that each chunk must have after its end, for the cell windows.
WINDOW_SLACK = 64


@dataclass
class RowFacts:
    """The facts that the pre-filter reads of each data row of a CSV file.

    Attributes:
        keep: whether the row's table is the spec's log without decoding it.
        times: the event time in int64 nanoseconds, where ``parsed`` is True.
        parsed: whether the row's event time parsed.
        user_codes: an index into ``user_ids``, or -1 for a row without a user id
            or of an audit export.
        user_ids: the distinct lower-cased user ids.
    """

    keep: np.ndarray
    times: np.ndarray
    parsed: np.ndarray
    user_codes: np.ndarray
    user_ids: list[str]

    @classmethod
    def join(cls, parts: list[RowFacts]) -> RowFacts:
        """Return the facts of consecutive parts of a file as one, with one list
        of user ids."""
        ids: dict[str, int] = {}
        codes = []
        for part in parts:
            mapping = np.array(
                [ids.setdefault(user, len(ids)) for user in part.user_ids] + [-1],
                dtype=np.int32,
            )
            # A code of -1 takes the last entry, which is -1.
            codes.append(mapping[part.user_codes])
        return cls(
            keep=_joined([part.keep for part in parts], bool),
            times=_joined([part.times for part in parts], np.int64),
            parsed=_joined([part.parsed for part in parts], bool),
            user_codes=_joined(codes, np.int32),
            user_ids=list(ids),
        )


def _joined(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


class FactReader:
    """Collect the facts of the rows of a file, a chunk of whole lines at a time.

    Args:
        columns: the header positions of the cells to read.
        log: the log of the scan's spec, ``"signin"`` or ``"audit"``.
        width: the number of cells in the header.
        dayfirst: the user's date order, or None.
        display: the file's name, for messages.
    """

    def __init__(
        self,
        columns: Columns,
        log: str,
        width: int,
        dayfirst: bool | None,
        display: str,
    ) -> None:
        self._columns = columns
        self._log = log
        self._width = width
        self._dayfirst = dayfirst
        self._display = display
        self._tables = AUDIT_TABLES if log == "audit" else SIGNIN_TABLES
        self._table_width = max(len(table) for table in self._tables)
        # Cells past their end are zero in a window, as are the bytes that a
        # fixed-width numpy string drops, so each name matches its exact cell.
        self._table_names = np.array(
            [table.encode("ascii") for table in sorted(self._tables)],
            dtype=f"S{self._table_width}",
        )
        self._ids = _UserIds()
        self._keep: list[np.ndarray] = []
        self._times: list[np.ndarray] = []
        self._parsed: list[np.ndarray] = []
        self._codes: list[np.ndarray] = []

    def add_chunk(
        self,
        buffer: np.ndarray,
        length: int,
        newlines: np.ndarray,
        outside: np.ndarray,
        *,
        ascii_only: bool,
    ) -> None:
        """Read the rows of one chunk.

        Args:
            buffer: the chunk's bytes, whole lines from a line start, then at least
                ``WINDOW_SLACK`` more bytes of any value.
            length: the chunk's length.
            newlines: the offsets of its line breaks.
            outside: one bit per byte (see ``csv_scan._bit_mask``), set for the
                delimiters outside quotes.
            ascii_only: whether the chunk contains only ASCII bytes.

        Raises:
            Unsupported: a row with another number of cells than the header, a
                time cell that is not ASCII, a day-month date without a date
                order, or a time column that the plain path would reject.
        """
        chunk = _Chunk(buffer, length, newlines, outside, self._width, ascii_only)
        self._keep.append(self._tables_match(chunk))
        times, parsed = self._event_times(chunk)
        self._times.append(times)
        self._parsed.append(parsed)
        self._codes.append(self._user_codes(chunk))

    def result(self) -> RowFacts:
        return RowFacts(
            keep=_joined(self._keep, bool),
            times=_joined(self._times, np.int64),
            parsed=_joined(self._parsed, bool),
            user_codes=_joined(self._codes, np.int32),
            user_ids=self._ids.ids,
        )

    def _tables_match(self, chunk: _Chunk) -> np.ndarray:
        """Match the ``Type`` cells, else the ``Category`` cells, against the
        tables of the spec's log, as :mod:`~h056hunt.loaders.csv_log_analytics`
        does. A row whose cell matches no table is decoded."""
        columns = self._columns
        if columns.header_log is not None:
            return np.full(chunk.rows, columns.header_log == self._log)
        position = columns.table if columns.table is not None else columns.category
        if position is None:
            return np.zeros(chunk.rows, dtype=bool)
        cells = chunk.cells(position)
        width = self._table_width
        lowered = np.ascontiguousarray(_LOWER[cells.windows(width)])
        found: np.ndarray = (cells.lengths <= width) & np.isin(
            lowered.view(f"S{width}").ravel(), self._table_names
        )
        for row in cells.other_rows().tolist():
            value = cells.text(row)
            found[row] = value.isascii() and value.lower() in self._tables
        return found

    def _event_times(self, chunk: _Chunk) -> tuple[np.ndarray, np.ndarray]:
        """Parse the event time of every row as the sink would: the time cell, or
        ``TimeGenerated`` where the time cell is blank or a placeholder."""
        primary = chunk.cells(self._columns.time)
        envelope = (
            None
            if self._columns.envelope_time is None
            else chunk.cells(self._columns.envelope_time)
        )
        high = chunk.high_bytes()
        for cells in (primary, envelope):
            if cells is not None and cells.contains_any(high):
                raise Unsupported("a time cell that is not ASCII")

        nanoseconds, parsed = primary.iso_times()
        if envelope is not None:
            empty = ~parsed & (primary.lengths == 0) & primary.plain
            envelope_ns, envelope_parsed = envelope.iso_times()
            use = empty & envelope_parsed
            nanoseconds[use] = envelope_ns[use]
            parsed |= use
        others = np.flatnonzero(~parsed)
        if not len(others):
            return nanoseconds, parsed

        events = [field_text(value) for value in primary.texts(others)]
        if envelope is not None:
            blank = [index for index, event in enumerate(events) if event is None]
            if blank:
                fallbacks = envelope.texts(others[blank])
                for index, value in zip(blank, fallbacks, strict=True):
                    events[index] = field_text(value)
        present = [index for index, event in enumerate(events) if event is not None]
        if not present:
            return nanoseconds, parsed
        texts = [event for event in events if event is not None]
        if self._dayfirst is None and any(map(_DAY_MONTH_START.match, texts)):
            raise Unsupported(
                "slash dates, which it reads only with --dayfirst or --monthfirst"
            )
        self._parse_others(others[present], texts, nanoseconds, parsed)
        return nanoseconds, parsed

    def _parse_others(
        self,
        rows: np.ndarray,
        events: list[str],
        nanoseconds: np.ndarray,
        parsed: np.ndarray,
    ) -> None:
        """Parse times in other forms with the plain path's parser, which gives the
        same value for the ISO times read in bulk."""
        from h056hunt.errors import InputError
        from h056hunt.timeparse import parse_time_column

        try:
            times, _ = parse_time_column(
                events, path=self._display, column="event_time", dayfirst=self._dayfirst
            )
        except InputError as error:
            raise Unsupported(
                f"the time column needs the plain path: {error}"
            ) from error
        parsed[rows] = times.notna().to_numpy()
        nanoseconds[rows] = times.to_numpy(dtype="datetime64[ns]").view(np.int64)

    def _user_codes(self, chunk: _Chunk) -> np.ndarray:
        """Return per-row indexes into the lower-cased user ids, -1 for a row
        without an id or of an audit export."""
        codes = np.full(chunk.rows, -1, dtype=np.int32)
        if self._log != "signin" or self._columns.user is None:
            return codes
        cells = chunk.cells(self._columns.user)
        windows = cells.windows(_ID_LENGTH)
        bulk = (
            cells.plain & (cells.lengths == _ID_LENGTH) & _ID_BYTES[windows].all(axis=1)
        )
        if bulk.any():
            lowered = np.ascontiguousarray(_LOWER[windows[bulk]])
            codes[bulk] = self._ids.bulk_codes(lowered.view(f"S{_ID_LENGTH}").ravel())
        for row in np.flatnonzero(~bulk).tolist():
            user = field_text(cells.text(row))
            if user is not None:
                codes[row] = self._ids.code(user.lower())
        return codes


class _UserIds:
    """The distinct lower-cased user ids of a file, each with its index.

    Ids of 36 hex digits and dashes, the form of object ids, are kept sorted in an
    array, and other ids in a dict.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._sorted = np.zeros(0, dtype=f"S{_ID_LENGTH}")
        self._sorted_codes = np.zeros(0, dtype=np.int32)
        self._others: dict[str, int] = {}

    def bulk_codes(self, users: np.ndarray) -> np.ndarray:
        """Return the index of each id of the object id form, adding new ones."""
        distinct, inverse = np.unique(users, return_inverse=True)
        places = np.searchsorted(self._sorted, distinct)
        known = places < len(self._sorted)
        known[known] = self._sorted[places[known]] == distinct[known]
        codes = np.empty(len(distinct), dtype=np.int32)
        codes[known] = self._sorted_codes[places[known]]
        new = ~known
        if new.any():
            first = len(self.ids)
            added = np.arange(first, first + int(new.sum()), dtype=np.int32)
            codes[new] = added
            self.ids.extend(user.decode("ascii") for user in distinct[new].tolist())
            self._sorted = np.insert(self._sorted, places[new], distinct[new])
            self._sorted_codes = np.insert(self._sorted_codes, places[new], added)
        return codes[inverse.ravel()]

    def code(self, user: str) -> int:
        """Return the index of one lower-cased id, adding it if new."""
        if _ID_FORM.fullmatch(user):
            return int(self.bulk_codes(np.array([user.encode("ascii")]))[0])
        code = self._others.get(user)
        if code is None:
            code = self._others[user] = len(self.ids)
            self.ids.append(user)
        return code


class _Chunk:
    """The rows of a chunk of whole lines and the delimiters between their cells."""

    def __init__(
        self,
        buffer: np.ndarray,
        length: int,
        newlines: np.ndarray,
        outside: np.ndarray,
        width: int,
        ascii_only: bool,
    ) -> None:
        self.buffer = buffer
        self.length = length
        ends = newlines
        if not len(newlines) or newlines[-1] != length - 1:
            # The file's last line may have no line break.
            ends = np.append(newlines, length)
        self.starts = np.concatenate(([0], ends[:-1] + 1))
        self.rows = len(ends)
        # A carriage return before the line break ends the line, not its last cell.
        last = np.maximum(ends - 1, 0)
        self.ends = ends - ((ends > self.starts) & (buffer[last] == CARRIAGE_RETURN))
        flags = np.unpackbits(outside.view(np.uint8), count=length, bitorder="little")
        delimiters = np.flatnonzero(flags.view(bool))
        per_row = width - 1
        counts = np.diff(np.searchsorted(delimiters, np.append(self.starts, length)))
        if (counts != per_row).any():
            raise Unsupported("a row with another number of cells than the header")
        self.delimiters = delimiters.reshape(self.rows, per_row)
        self.width = width
        self._high: np.ndarray | None = (
            None if not ascii_only else np.zeros(0, np.int64)
        )

    def high_bytes(self) -> np.ndarray:
        """Return the offsets of the bytes outside ASCII."""
        if self._high is None:
            self._high = np.flatnonzero(self.buffer[: self.length] >= 0x80)
        return self._high

    def cells(self, position: int) -> _Cells:
        """Return the cells of one column, by its position in the header."""
        starts = self.starts if position == 0 else self.delimiters[:, position - 1] + 1
        ends = self.ends if position == self.width - 1 else self.delimiters[:, position]
        return _Cells(self.buffer, starts, ends)


class _Cells:
    """The cells of one column in a chunk.

    Attributes:
        plain: the unquoted cells, whose text is their bytes.
        lengths: the byte length of each cell, quotes included.
    """

    def __init__(
        self, buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> None:
        self._buffer = buffer
        self._starts = starts
        self._ends = ends
        self.lengths = ends - starts
        self.plain = (self.lengths == 0) | (buffer[starts] != QUOTE)

    def windows(self, width: int) -> np.ndarray:
        """Return the first ``width`` bytes of each cell, zero past its end."""
        assert width <= WINDOW_SLACK
        windows: np.ndarray = sliding_window_view(self._buffer, width)[self._starts]
        windows *= np.arange(width)[None, :] < self.lengths[:, None]
        return windows

    def iso_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Read the unquoted cells that are ISO times in the form of
        :func:`~h056hunt.loaders.prefilter.iso_nanoseconds`."""
        width = prefilter.ISO_WIDTH
        windows = self.windows(width)
        short = np.flatnonzero(self.lengths < width)
        # The reader wants the cell's end marked as a JSON string's closing quote.
        windows[short, self.lengths[short]] = QUOTE
        nanoseconds, parsed = prefilter.iso_nanoseconds(windows)
        return nanoseconds, parsed & self.plain

    def contains_any(self, offsets: np.ndarray) -> bool:
        """Return whether any cell contains one of the sorted byte ``offsets``."""
        if not len(offsets):
            return False
        row = np.searchsorted(self._starts, offsets, side="right") - 1
        inside = (row >= 0) & (offsets < self._ends[np.maximum(row, 0)])
        return bool(inside.any())

    def other_rows(self) -> np.ndarray:
        """Return the rows of quoted cells."""
        return np.flatnonzero(~self.plain)

    def texts(self, rows: np.ndarray) -> list[str]:
        """Return the text of the cells of ``rows``, as the ``csv`` module reads
        them.

        The cells' bytes are copied into one buffer, each followed by a line
        break, which no cell contains, and decoded and split at once.
        """
        if not len(rows):
            return []
        quoted = (~self.plain[rows]).astype(np.int64)
        starts = self._starts[rows] + quoted
        lengths = self._ends[rows] - quoted - starts
        placed = np.cumsum(lengths + 1) - (lengths + 1)
        cells = np.repeat(np.arange(len(rows)), lengths)
        within = np.arange(len(cells)) - np.repeat(
            np.cumsum(lengths) - lengths, lengths
        )
        joined = np.full(int(lengths.sum()) + len(rows), NEWLINE, dtype=np.uint8)
        joined[placed[cells] + within] = self._buffer[starts[cells] + within]
        texts = joined.tobytes().decode("utf-8").split("\n")[:-1]
        for index in np.flatnonzero(quoted).tolist():
            texts[index] = texts[index].replace('""', '"')
        return texts

    def text(self, row: int) -> str:
        """Return the text of one cell, as the ``csv`` module reads it."""
        data = self._buffer[self._starts[row] : self._ends[row]].tobytes()
        if data[:1] == b'"':
            data = data[1:-1].replace(b'""', b'"')
        return data.decode("utf-8")
