"""Read newline-delimited JSON one line at a time, one record in memory at a time.

Each line is a JSON document of its own (a record, an array or an envelope), read with
:func:`~h056hunt.loaders.jsonstream.iter_json_records`. A value may also span lines,
for example a pretty-printed record appended to an NDJSON file: lines are joined until
the value is complete or the joined lines pass the per-record limit.

A line that does not parse is skipped and reading resumes on the next line, so one
broken record never hides the records after it. Every broken line counts as one skipped
record of its own, consecutive ones too, because each may have been a whole record.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from h056hunt.errors import InputError, ProgramText
from h056hunt.loaders.jsonstream import iter_json_records
from h056hunt.loaders.oversized import reject_oversized
from h056hunt.plurals import Counted
from h056hunt.streams import TextLine

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

logger = logging.getLogger(__name__)

RecordRouter = Callable[..., None]
SKIP_REASON = "invalid JSON"
_DECODER = json.JSONDecoder()
# Characters after which a line cannot end a value: an opening bracket, a comma
# between members or elements, or a colon before a member value.
_CONTINUES = ("[", "{", ",", ":")


# Non-blank lines read before a JSON file is called line-delimited or a document.
PEEK_LINES = 8


def peek_content_lines(
    lines: Iterator[TextLine], count: int = PEEK_LINES
) -> list[TextLine]:
    """Read lines until ``count`` of them hold something, dropping blank lines.

    Blank lines hold no record and each line keeps its own number, so dropping them
    changes neither the records nor their line numbers.
    """
    found: list[TextLine] = []
    for line in lines:
        if line.text is not None and not line.text.strip():
            continue
        found.append(line)
        if len(found) == count:
            break
    return found


def is_line_delimited(first_lines: list[TextLine]) -> bool:
    """Tell whether the first non-blank lines of a JSON file are one value per line.

    The first line must be a complete JSON object or array. A first line that is
    neither complete nor ends like the opening of a pretty-printed document (for
    example a record cut off in the middle) also counts when a later line of
    ``first_lines`` is complete, so a few cut-off lines at the start do not make the
    file a document. An over-long line counts as one record of its own.
    """
    if not first_lines:
        return False
    first = first_lines[0]
    if first.text is None:
        return len(first_lines) > 1
    if _is_complete_value(first.text):
        return True
    if len(first_lines) < 2 or first.text.rstrip().endswith(_CONTINUES):
        return False
    return any(
        line.text is None or _is_complete_value(line.text) for line in first_lines[1:]
    )


def _is_complete_value(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return False
    try:
        _, end = _DECODER.raw_decode(stripped)
    except (ValueError, RecursionError):
        return False
    return end == len(stripped)


def read_json_lines(
    lines: Iterable[TextLine],
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int,
    route: RecordRouter,
    complete_records: int = 0,
) -> None:
    """Route every record of newline-delimited JSON into ``sink``.

    Args:
        lines: the file's lines, as :func:`h056hunt.streams.iter_text_lines` yields
            them.
        sink: the file's sink.
        strict: raise at the first fault instead of skipping it.
        max_record_bytes: a line or a value spanning lines that is longer is skipped.
        route: called as ``route(value, sink, line=..., record=...)`` per record.
        complete_records: records of the file read before ``lines``, for the count
            that a strict-mode error states.

    Raises:
        InputError: strict mode and a line is not valid JSON or is too long.
    """
    reader = _LineReader(sink, strict, max_record_bytes, route)
    reader.complete_records = complete_records
    for line in lines:
        reader.feed(line)
    reader.finish()


class _ValueRead(Exception):
    """Raised inside the line reader once the value of the first line is read."""


class FirstValueReader:
    """Read the value that starts on one line as :func:`read_json_lines` reads it,
    and stop before the lines after it are read on their own.

    A line that is not one complete value is joined with the lines after it until
    the joined text parses or fails. When it fails, the line is skipped and the
    lines after it are read again on their own. This reader stops at that skip, so
    its caller can read those lines itself. The fast path reads a line that it
    cannot decode alone this way.

    Args:
        sink: the file's sink; receives the records and the skip of the value.
        strict: raise at a fault instead of skipping the line.
        max_record_bytes: the per-record limit.
        route: called as ``route(value, sink, line=..., record=...)`` per record.
        complete_records: records of the file before the line, for the count that a
            strict-mode error states.
        warn: False to log no warning, for a trial read.

    Attributes:
        lines: lines fed so far.
        records: records routed and lines skipped so far; the plain path numbers
            each of them as one record.
        done: the value has been read or skipped, so no more lines are needed.
        spans_lines: the value, or a record routed before its fault, comes from a
            later line than the first, so reading the first line alone differs.
    """

    def __init__(
        self,
        sink: FileSink,
        *,
        strict: bool,
        max_record_bytes: int,
        route: RecordRouter,
        complete_records: int,
        warn: bool = True,
    ) -> None:
        self._sink = sink
        self._route_record = route
        self._first_line: int | None = None
        # The stand-in has every member of a sink that the line reader uses.
        stand_in = cast("FileSink", _SinkUntilSkip(sink, self))
        self._reader = _LineReader(
            stand_in, strict, max_record_bytes, self._route, warn=warn
        )
        self._reader.complete_records = complete_records
        self.lines = 0
        self.records = 0
        self.done = False
        self.spans_lines = False

    def feed(self, line: TextLine) -> bool:
        """Read the next line; return True when the value is read or skipped."""
        if self.done:
            raise ValueError("the first line's value is read; feed no more lines")
        if self._first_line is None:
            self._first_line = line.number
        self.lines += 1
        try:
            self._reader.feed(line)
        except _ValueRead:
            self.done = True
            return True
        if not self._reader.pending:
            # The lines joined since the first one parsed as one value.
            self.spans_lines = self.spans_lines or self.lines > 1
            self.done = True
        return self.done

    def finish(self) -> None:
        """Read the lines fed so far as the end of the file."""
        if self.done:
            return
        try:
            self._reader.finish()
        except _ValueRead:
            pass
        else:
            self.spans_lines = self.spans_lines or self.lines > 1
        self.done = True

    def _route(self, value: Any, sink: Any, *, line: int, record: int) -> None:
        if line != self._first_line:
            self.spans_lines = True
            raise _ValueRead
        self.records += 1
        self._route_record(value, self._sink, line=line, record=record)

    def _skip(self, reason: str, *, line: int | None, record: int | None) -> None:
        """Pass the skip of the first line on to the sink, then stop the reader."""
        if line == self._first_line:
            self._sink.skip(reason, line=line, record=record)
            self.records += 1
        else:
            self.spans_lines = True
        raise _ValueRead


class _SinkUntilSkip:
    """Stand in for a sink in the line reader, sending its skips to ``owner``."""

    def __init__(self, sink: FileSink, owner: FirstValueReader) -> None:
        self.path = sink.path
        self.report = sink.report
        self.skip = owner._skip


class _LineReader:
    def __init__(
        self,
        sink: FileSink,
        strict: bool,
        limit: int,
        route: RecordRouter,
        *,
        warn: bool = True,
    ) -> None:
        self.sink = sink
        self.strict = strict
        self.limit = limit
        self.route = route
        # False for a trial read whose skips must not reach the log.
        self.warn = warn
        self.complete_records = 0
        # The lines of a value that is not complete yet, usually just one.
        self.pending: list[TextLine] = []
        self.pending_bytes = 0
        self.attempted_bytes = 0
        # Records already routed from the pending lines, and the index of the line
        # where the last of them starts.
        self.routed = 0
        self.last_record_index = 0

    def feed(self, line: TextLine) -> None:
        replay: deque[TextLine] = deque([line])
        while replay:
            self._feed_one(replay.popleft(), replay)

    def finish(self) -> None:
        replay: deque[TextLine] = deque()
        while self.pending or replay:
            if replay:
                self._feed_one(replay.popleft(), replay)
            else:
                self._attempt(replay, final=True)

    def _feed_one(self, line: TextLine, replay: deque[TextLine]) -> None:
        if line.text is None:
            if self.pending:
                # A value cannot continue across a line that was not read.
                replay.appendleft(line)
                self._attempt(replay, final=True)
                return
            reject_oversized(
                self.sink,
                line=line.number,
                size=line.size,
                limit=self.limit,
                strict=self.strict,
            )
            return
        if not self.pending and not line.text.strip():
            return
        self.pending.append(line)
        self.pending_bytes += line.size
        if len(self.pending) > 1 and self.pending_bytes > self.limit:
            self._too_large(replay)
        elif self._may_complete(line):
            self._attempt(replay, final=False)

    def _may_complete(self, line: TextLine) -> bool:
        """Tell whether a parse is worth trying after ``line``.

        A value can only end on a line ending in a bracket. Pretty-printed documents
        close their top-level value at column 1; other closing lines are tried only
        when the pending text has doubled, so joining lines stays linear.
        """
        if len(self.pending) == 1:
            return True
        assert line.text is not None
        if not line.text.rstrip().endswith(("}", "]")):
            return False
        return line.text[:1] in "}]" or self.pending_bytes >= 2 * self.attempted_bytes

    def _attempt(self, replay: deque[TextLine], *, final: bool) -> None:
        text = "".join(line.text or "" for line in self.pending)
        count = 0
        try:
            for found in iter_json_records(text, self.sink.path):
                count += 1
                if count <= self.routed:
                    continue
                index = found.line - 1
                self.route(
                    found.value,
                    self.sink,
                    line=self.pending[index].number,
                    record=self.sink.report.records_seen + 1,
                )
                self.complete_records += 1
                self.routed = count
                self.last_record_index = index
        except InputError as error:
            if not final and _is_cut_off(text, error):
                self.attempted_bytes = self.pending_bytes
                return
            self._broken(replay, error)
            return
        self._clear()

    def _broken(self, replay: deque[TextLine], error: InputError) -> None:
        """Raise, or skip the fragment's first line and replay the lines after it."""
        first = self.pending[0].number
        line = first + (error.line or 1) - 1
        if self.strict:
            raise InputError(
                self.sink.path,
                error.detail,
                reason=error.reason,
                line=line,
                column=error.column,
                complete_records=self.complete_records,
                hint=error.hint,
            ) from error
        resume = self.last_record_index + 1 if self.routed else 1
        self._count_fragment(
            self.pending[resume - 1].number,
            f"line {line}, column {error.column}: {error.detail}",
        )
        rest = self.pending[resume:]
        self._clear()
        replay.extendleft(reversed(rest))

    def _too_large(self, replay: deque[TextLine]) -> None:
        first = self.pending[0].number
        last = self.pending[-1].number
        if self.strict:
            reject_oversized(
                self.sink,
                line=first,
                size=self.pending_bytes,
                limit=self.limit,
                strict=True,
            )
        resume = self.last_record_index + 1 if self.routed else 1
        self._count_fragment(
            self.pending[resume - 1].number,
            f"lines {first} to {last} do not end a JSON value within the limit of "
            f"{Counted(self.limit, 'byte')}",
        )
        rest = self.pending[resume:]
        self._clear()
        replay.extendleft(reversed(rest))

    def _count_fragment(self, line: int, description: str) -> None:
        """Count the broken line ``line`` as one skipped record and mark the file."""
        report = self.sink.report
        report.partial = True
        if report.error is None:
            report.error = description
        if self.warn and report.skipped[SKIP_REASON] < 5:
            logger.warning(
                "%s, %s; kept the complete records and resumed on the next line",
                self.sink.path,
                ProgramText(description),
            )
        self.sink.skip(SKIP_REASON, line=line, record=None)

    def _clear(self) -> None:
        self.pending = []
        self.pending_bytes = 0
        self.attempted_bytes = 0
        self.routed = 0
        self.last_record_index = 0


def _is_cut_off(text: str, error: InputError) -> bool:
    """Tell whether a parse error sits at the end of ``text``, so more may follow."""
    if error.line is None or error.column is None:
        return False
    position = 0
    for _ in range(error.line - 1):
        position = text.find("\n", position) + 1
    return position + error.column - 1 >= len(text.rstrip())
