"""Decode the lines that the fast path's scan marks in one byte range.

A scan worker routes each marked line with the plain path's
:func:`~h056hunt.loaders.json_export.route_record` into a :class:`RecordingSink`,
and the reading process replays the recorded calls into the file's sink with the
range's line and record numbers added (:func:`replay`).

A marked line that does not decode to one record is read by the plain path's
readers instead. In newline-delimited JSON the reading process reads it with the
line reader where the call stream marks it (see
:mod:`~h056hunt.loaders.broken_lines`). The plain path's document reader cannot
resume after a fault in a page or array. So in one written one element per line,
the scan of the range stops at such a line, and the reading process hands the rest
of the file to that reader.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import stringzilla as sz

from h056hunt.loaders.broken_lines import BrokenLine, LineTrial
from h056hunt.loaders.entra import (
    AUDIT_ROW_FIELDS,
    AuditValuesSink,
    audit_row_of_values,
)
from h056hunt.loaders.fields import JSON_DECODER, read_json_float
from h056hunt.loaders.json_export import route_record
from h056hunt.loaders.spill import PieceList

if TYPE_CHECKING:
    from h056hunt.loaders.prefilter import ScanResult
    from h056hunt.loaders.sink import FileSink

ENVELOPE_KEYS = ("value", "records")
_FIRST_ENVELOPE_KEY, _SECOND_ENVELOPE_KEY = ENVELOPE_KEYS
# Recorded sink calls pickled together. A piece of audit rows is a few MB.
CALLS_PER_PIECE = 2048
# The recorded call that marks a broken line; its argument indexes
# RangeOutcome.broken_lines.
READ_BROKEN_LINE = "read_broken_line"
# The recorded call that adds an AuditBatch with FileSink.add_audit_batch.
ADD_AUDIT_BATCH = "add_audit_batch"
# A range with more broken lines than this goes to the plain path. The fast path
# keeps each broken line until its range is replayed, and this bounds the memory
# that a file of mostly broken lines takes.
MAX_BROKEN_LINES = 1000


class Unsupported(Exception):
    """Raised when the file needs the plain path; the message gives the reason.

    Attributes:
        reason: the message without the line.
        line: 0-based line that the reason is about, when it is about one. The first
            pass numbers it from the start of its byte range.
    """

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"line {line + 1} {reason}")
        self.reason = reason
        self.line = line


@dataclass
class RangeOutcome:
    """The scan of one range and the sink calls of its decoded lines.

    The worker pickles the calls in pieces of up to :data:`CALLS_PER_PIECE` as it
    decodes, and the reading process unpickles one piece at a time as it replays
    them. Neither process keeps the row dicts of a whole range at once: a range of a
    mass revocation's audit log has tens of thousands. Past a size, the pieces go to
    a temporary file (:class:`~h056hunt.loaders.spill.PieceList`), so a range that
    decodes most of its lines does not keep them all in memory either.

    Attributes:
        scan: the range's scan.
        packed_calls: the pickled pieces of recorded calls.
        broken_lines: the newline-delimited JSON lines that the plain path's line
            reader reads, in line order. A line whose trial needs lines past the
            range has ``records`` None.
        record_shifts: ``(line, count)`` of each broken line that the plain path
            counts as ``count + 1`` records where the scan counted one; lines are
            relative to the range.
        fault: the first element line of a page or array that does not decode.
            The scan stopped at it, so the rest of the range is not counted.
    """

    scan: ScanResult
    packed_calls: PieceList = field(default_factory=PieceList)
    broken_lines: list[BrokenLine] = field(default_factory=list)
    record_shifts: list[tuple[int, int]] = field(default_factory=list)
    fault: BrokenLine | None = None

    def take_calls(self) -> Iterator[tuple[Any, ...]]:
        """Yield the recorded calls, dropping each piece from this outcome.

        Raises:
            OSError: the file of pieces that the range wrote is missing or cut.
        """
        pieces = self.packed_calls
        self.packed_calls = PieceList()
        for piece in pieces.take():
            yield from pickle.loads(piece)

    @property
    def record_shift(self) -> int:
        """Records that the plain path counts in the range beyond its lines."""
        return sum(count for _, count in self.record_shifts)


class RecordingSink(AuditValuesSink):
    """Stand in for a :class:`FileSink` in a worker: record the calls to replay."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.calls: list[tuple[Any, ...]] = []

    def add_audit(
        self,
        row: dict[str, Any],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Record an audit row."""
        kwargs = {
            "shape": shape,
            "line": line,
            "record": record,
            "time_column": time_column,
        }
        self.calls.append(("add_audit", (row,), kwargs))

    def add_signin(
        self, row: dict[str, Any], steps: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Record a sign-in row and its steps."""
        self.calls.append(("add_signin", (row, steps), kwargs))

    def add_steps(
        self, record_id: str, steps: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Record steps that arrive apart from their sign-in."""
        self.calls.append(("add_steps", (record_id, steps), kwargs))

    def skip(self, reason: str, **kwargs: Any) -> None:
        """Record a skipped record."""
        self.calls.append(("skip", (reason,), kwargs))

    def skip_with_warning(self, reason: str, message: str, **kwargs: Any) -> None:
        """Record a skipped record and its warning."""
        self.calls.append(("skip_with_warning", (reason, message), kwargs))


@dataclass
class AuditBatch:
    """The audit rows of consecutive ``add_audit`` calls, stored by column.

    Pickling a few columns and turning them into Arrow arrays costs less than
    doing the same for one dict per row. A mass revocation's audit log has tens
    of thousands of rows with the same keys.

    Attributes:
        fields: the row keys, in the order of ``columns``.
        columns: the values of each field, one per row.
        lines: the 1-based line of each row, before the replay's shift.
        records: the 1-based record of each row, before the replay's shift.
        shape: the export shape of every row.
        time_column: the source field of every row's event time.
    """

    fields: tuple[str, ...]
    columns: tuple[tuple[Any, ...], ...]
    lines: tuple[int, ...]
    records: tuple[int, ...]
    shape: str
    time_column: str


class BatchingRecordingSink(RecordingSink):
    """A :class:`RecordingSink` that records runs of audit rows as AuditBatch calls.

    A row goes into the open batch when its keys are among
    :data:`~h056hunt.loaders.entra.AUDIT_ROW_FIELDS` and its line is known. A
    row of another shape or time column starts a new batch. Any other call
    closes the batch first, so the replay keeps the order of the calls. Call
    :meth:`flush` before reading :attr:`calls`.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._rows: list[tuple[Any, ...]] = []
        self._lines: list[int] = []
        self._records: list[int] = []
        self._shape = ""
        self._time_column = ""

    def __len__(self) -> int:
        """Return the number of recorded calls plus batched rows."""
        return len(self.calls) + len(self._rows)

    def add_audit(
        self,
        row: dict[str, Any],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Add an audit row to the open batch, or record it as a call."""
        values = None if line is None else _audit_values(row)
        if values is None:
            self.flush()
            super().add_audit(
                row, shape=shape, line=line, record=record, time_column=time_column
            )
            return
        self.add_audit_values(
            values, shape=shape, line=line, record=record, time_column=time_column
        )

    def add_audit_values(
        self,
        values: tuple[Any, ...],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Add the audit row of :func:`~h056hunt.loaders.entra.audit_values` to
        the open batch, or record it as a call when its line is unknown."""
        if line is None:
            self.flush()
            super().add_audit(
                audit_row_of_values(values),
                shape=shape,
                line=line,
                record=record,
                time_column=time_column,
            )
            return
        if shape != self._shape or time_column != self._time_column:
            self.flush()
            self._shape = shape
            self._time_column = time_column
        self._rows.append(values)
        self._lines.append(line)
        self._records.append(record)
        if len(self._rows) >= CALLS_PER_PIECE:
            self.flush()

    def add_signin(
        self, row: dict[str, Any], steps: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Close the open batch and record a sign-in row and its steps."""
        self.flush()
        super().add_signin(row, steps, **kwargs)

    def add_steps(
        self, record_id: str, steps: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Close the open batch and record steps that arrive apart."""
        self.flush()
        super().add_steps(record_id, steps, **kwargs)

    def skip(self, reason: str, **kwargs: Any) -> None:
        """Close the open batch and record a skipped record."""
        self.flush()
        super().skip(reason, **kwargs)

    def skip_with_warning(self, reason: str, message: str, **kwargs: Any) -> None:
        """Close the open batch and record a skipped record and its warning."""
        self.flush()
        super().skip_with_warning(reason, message, **kwargs)

    def flush(self) -> None:
        """Record the open batch as one call, if it has rows."""
        if not self._rows:
            return
        batch = AuditBatch(
            fields=AUDIT_ROW_FIELDS,
            columns=tuple(zip(*self._rows, strict=True)),
            lines=tuple(self._lines),
            records=tuple(self._records),
            shape=self._shape,
            time_column=self._time_column,
        )
        # The replay adds the range's line and record offsets to these zeros.
        self.calls.append((ADD_AUDIT_BATCH, (batch,), {"line": 0, "record": 0}))
        self._rows = []
        self._lines = []
        self._records = []


_read_audit_row = itemgetter(*AUDIT_ROW_FIELDS)
_AUDIT_ROW_FIELD_SET = frozenset(AUDIT_ROW_FIELDS)


def _audit_values(row: dict[str, Any]) -> tuple[Any, ...] | None:
    """Return the row's values in AUDIT_ROW_FIELDS order, with None for a field
    that the row lacks, or None when the row has another key."""
    if len(row) == len(AUDIT_ROW_FIELDS):
        try:
            values: tuple[Any, ...] = _read_audit_row(row)
        except KeyError:
            return None
        return values
    if row.keys() <= _AUDIT_ROW_FIELD_SET:
        return tuple(map(row.get, AUDIT_ROW_FIELDS))
    return None


# Called with a broken line's index in its outcome and its 0-based line and
# records before it in the file.
BrokenLineCallback = Callable[[int, int, int], None]


def replay(
    calls: Iterable[tuple[Any, ...]],
    sink: FileSink,
    line: int,
    record: int,
    read_broken_line: BrokenLineCallback | None = None,
) -> None:
    """Apply recorded calls to ``sink``, shifting line and record numbers.

    A call that marks a broken line goes to ``read_broken_line`` instead.
    """
    for method, args, kwargs in calls:
        shifted = dict(kwargs)
        if shifted.get("line") is not None:
            shifted["line"] += line
        if shifted.get("record") is not None:
            shifted["record"] += record
        if method == READ_BROKEN_LINE:
            assert read_broken_line is not None, "a broken line with no reader"
            read_broken_line(args[0], shifted["line"], shifted["record"])
            continue
        getattr(sink, method)(*args, **shifted)


class RangeDecoder:
    """Route the lines that a range's scan marks, chunk by chunk, into an outcome.

    Args:
        outcome: receives the recorded calls and the broken lines.
        display: the file as shown to the user.
        container: True for the element lines of a page or array.
        max_record_bytes: the per-record limit.
    """

    def __init__(
        self,
        outcome: RangeOutcome,
        display: str,
        *,
        container: bool,
        max_record_bytes: int,
    ) -> None:
        self.outcome = outcome
        self.display = display
        self.container = container
        self.max_record_bytes = max_record_bytes
        self.recorder = BatchingRecordingSink(display)
        # Trials of broken lines that need lines of a later chunk.
        self._trials: list[LineTrial] = []

    def chunk(
        self,
        scan: ScanResult,
        buffer: bytes | bytearray | memoryview,
        length: int,
        offset: int,
    ) -> bool:
        """Route the lines marked so far in the chunk ``buffer[:length]``, which
        starts at the file's byte ``offset``, and drop them from ``scan``.

        Returns False when an element line of a page or array does not decode:
        ``outcome.fault`` names it, and the range's scan must stop.

        Raises:
            Unsupported: the plain path's line reader reads a broken line together
                with a later line's record, which the fast path cannot match.
        """
        text = sz.Str(buffer)[:length]
        if self._trials:
            self._trials = [
                trial
                for trial in self._trials
                if not self._feed(trial, text, buffer, 0)
            ]
        shift = self.outcome.record_shift
        for line, record, raw, line_offset in scan.decode:
            record += shift
            try:
                route_line(raw, self.recorder, line, record, container=self.container)
            except Unsupported:
                if self.container:
                    self.outcome.fault = BrokenLine(line, record, line_offset, [raw])
                    scan.decode.clear()
                    return False
                self._start_trial(line, record, line_offset, text, buffer, offset)
                shift = self.outcome.record_shift
        scan.decode.clear()
        self._pack(last=False)
        return True

    def finish(self) -> None:
        """Pickle the calls left. Trials still open wait for the next range."""
        self._pack(last=True)

    def _start_trial(
        self,
        line: int,
        record: int,
        line_offset: int,
        text: sz.Str,
        buffer: bytes | bytearray | memoryview,
        chunk_offset: int,
    ) -> None:
        outcome = self.outcome
        if len(outcome.broken_lines) >= MAX_BROKEN_LINES:
            raise Unsupported(
                f"is one of more than {MAX_BROKEN_LINES} lines in a scan range that "
                "do not decode alone",
                line=line,
            )
        broken = BrokenLine(line, record, line_offset)
        self.recorder.flush()
        self.recorder.calls.append(
            (
                READ_BROKEN_LINE,
                (len(outcome.broken_lines),),
                {"line": line, "record": record},
            )
        )
        outcome.broken_lines.append(broken)
        trial = LineTrial(broken, self.display, self.max_record_bytes)
        if not self._feed(trial, text, buffer, line_offset - chunk_offset):
            self._trials.append(trial)

    def _feed(
        self,
        trial: LineTrial,
        text: sz.Str,
        buffer: bytes | bytearray | memoryview,
        start: int,
    ) -> bool:
        """Feed ``trial`` the chunk's lines from ``start``; True when it is done."""
        length = len(text)
        while start < length:
            end = text.find(b"\n", start, length)
            end = length if end < 0 else end + 1
            if trial.feed(bytes(buffer[start:end])):
                settle_trial(trial, self.outcome)
                return True
            start = end
        return False

    def _pack(self, *, last: bool) -> None:
        recorder = self.recorder
        if len(recorder) >= CALLS_PER_PIECE or (last and len(recorder)):
            recorder.flush()
            self.outcome.packed_calls.append(
                pickle.dumps(recorder.calls, pickle.HIGHEST_PROTOCOL)
            )
            recorder.calls = []


def settle_trial(trial: LineTrial, outcome: RangeOutcome) -> None:
    """Accept a finished trial, adding a record shift when the line counts other
    than one record.

    Raises:
        Unsupported: the plain path reads a record of a later line with the broken
            line, or counts other than one record for a line joined with the lines
            after it, whose records the scan has numbered already.
    """
    broken = trial.broken
    if trial.spans_lines:
        raise Unsupported(
            "starts a value that the plain path reads across lines", line=broken.line
        )
    assert broken.records is not None
    if broken.records == 1:
        return
    if len(broken.lines) > 1:
        raise Unsupported(
            f"is read with the lines after it as {broken.records} records",
            line=broken.line,
        )
    outcome.record_shifts.append((broken.line, broken.records - 1))


def route_line(
    raw: bytes, sink: Any, line: int, record: int, *, container: bool
) -> None:
    """Decode one line and route it as the plain path would, or raise Unsupported."""
    text = plain_text(raw, line)
    # json.loads accepts a byte order mark before a record, where the plain path
    # reads it as an error, so a line that starts with one is left to that path.
    if text.startswith("\ufeff"):
        raise Unsupported("starts with a byte order mark", line=line)
    try:
        value, end = JSON_DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        end = -1
    if end != len(text):
        value = _loads(text, line)
    if not container and (type(value) is not dict or is_envelope(value)):
        raise Unsupported("is not a single record", line=line)
    route_record(value, sink, line=line + 1, record=record + 1)


def _loads(text: str, line: int) -> Any:
    """Decode a line as json.loads does, or raise Unsupported with its error.

    :func:`route_line` first tries the decoder's raw_decode, which skips the
    checks of json.loads. A line that it does not decode whole, such as one with
    whitespace around its value, comes here.
    """
    try:
        return json.loads(text, parse_float=read_json_float)
    except json.JSONDecodeError as error:
        raise Unsupported(
            f"is not valid JSON at column {error.colno}: {error.msg}", line=line
        ) from error
    except (ValueError, RecursionError) as error:
        raise Unsupported(f"is not valid JSON: {error}", line=line) from error


def plain_text(raw: bytes, line: int) -> str:
    """Decode a line that the plain path would decode without a warning.

    Raises:
        Unsupported: the line is not valid UTF-8 or contains a NUL character.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unsupported("is not valid UTF-8", line=line) from error
    if "\x00" in text:
        raise Unsupported("contains a NUL character", line=line)
    return text


def is_envelope(value: dict[str, Any]) -> bool:
    """Tell whether a record is a container of records, such as a Graph page."""
    # Two lookups written out cost less than a generator over ENVELOPE_KEYS.
    return isinstance(value.get(_FIRST_ENVELOPE_KEY), list) or isinstance(
        value.get(_SECOND_ENVELOPE_KEY), list
    )
