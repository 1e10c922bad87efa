"""Read the lines of newline-delimited JSON that the fast path cannot decode alone.

Such a line is not valid UTF-8, contains a NUL character, is not valid JSON, or is
a JSON value other than one record object. The plain path's line reader decides
what it is: an error in strict mode, and in lenient mode records, a skip, or both.
A line that is part of a value, such as a record cut off mid-line, is joined with
the lines after it before the reader decides. When the joined text fails, the line
is skipped and the lines after it are read again on their own, as the fast path
reads them.

A scan worker reads each such line on trial (:class:`LineTrial`) in lenient mode
and without logging, to learn which lines the reader needs for it and how many
records it counts. The fast path keeps the file only when the reader reads the
line's own value, and no record of a later line, before it moves on. This process
then reads the line again with the run's settings into the file's sink
(:class:`BrokenLineReader`), so errors, warnings, skips and records are the plain
path's own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from h056hunt.loaders.json_export import route_record
from h056hunt.loaders.json_lines import FirstValueReader
from h056hunt.streams import LineDecoder, TextLine

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink


@dataclass
class BrokenLine:
    """A line that the fast path reads with the plain path's line reader.

    Attributes:
        line: 0-based line number, relative to the start of its scan range.
        record: records before the line, relative to the start of its range.
        offset: the file's byte offset where the line starts.
        lines: the line and the lines after it that the reader reads with it,
            each with its line end, except a last line that the file ends in.
        at_end: the reader reached the end of the file with these lines.
        records: records and skipped lines that the plain path counts for the line
            in lenient mode; None until the trial is done.
    """

    line: int
    record: int
    offset: int
    lines: list[bytes] = field(default_factory=list)
    at_end: bool = False
    records: int | None = None


class LineTrial:
    """Read a broken line on trial, in lenient mode and without logging.

    Feed the line and the lines after it until :meth:`feed` returns True, or call
    :meth:`finish` at the end of the file. A trial that is not done when its scan
    range ends continues in the reading process with the next range's lines.

    Args:
        broken: the line; ``lines`` must be empty.
        display: the file as shown to the user.
        max_record_bytes: the per-record limit.
    """

    def __init__(self, broken: BrokenLine, display: str, max_record_bytes: int):
        self.broken = broken
        self._reader = FirstValueReader(
            cast("FileSink", _QuietSink(display)),
            strict=False,
            max_record_bytes=max_record_bytes,
            route=_count_only,
            complete_records=0,
            warn=False,
        )

    @property
    def spans_lines(self) -> bool:
        """True when the reader reads a value or a record across lines, which the
        fast path cannot read in its place."""
        return self._reader.spans_lines

    def feed(self, raw: bytes) -> bool:
        """Read the next line, with its line end; return True when done."""
        broken = self.broken
        broken.lines.append(raw)
        number = broken.line + len(broken.lines)
        done = self._reader.feed(TextLine(number, lenient_text(raw), len(raw)))
        if done:
            broken.records = self._reader.records
        return done

    def finish(self) -> None:
        """Read the lines fed so far as the end of the file."""
        self._reader.finish()
        self.broken.at_end = True
        self.broken.records = self._reader.records


def lenient_text(raw: bytes) -> str:
    """Decode a line as the plain path does in lenient mode, without its warnings."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


class BrokenLineReader:
    """Read the broken lines of one file into its sink with the run's settings.

    Args:
        sink: the file's sink.
        strict: raise at a fault, as the plain path does without --lenient.
        max_record_bytes: the per-record limit.
    """

    def __init__(self, sink: FileSink, *, strict: bool, max_record_bytes: int):
        self.sink = sink
        self.strict = strict
        self.max_record_bytes = max_record_bytes
        # One decoder for the file, so a lenient warning about an invalid byte or
        # a NUL character is logged once per file, as the plain path logs it.
        self.decoder = LineDecoder(sink.path, strict=strict)

    def read(self, broken: BrokenLine, *, line: int, record: int) -> None:
        """Read ``broken``, the 0-based ``line`` of the file after ``record``
        records, as the plain path's line reader reads it.

        Raises:
            InputError: strict mode and the line, or a line read with it, is
                malformed.
        """
        report = self.sink.report
        # The reader numbers records from the sink's count and states it in
        # errors. The fast path adds its pre-filtered records to that count after
        # the decoded ones, so the count is the plain path's for this read only.
        replayed = report.records_seen
        report.records_seen = record
        try:
            self._read(broken, line, record)
        finally:
            report.records_seen = replayed + report.records_seen - record

    def _read(self, broken: BrokenLine, line: int, record: int) -> None:
        reader = FirstValueReader(
            self.sink,
            strict=self.strict,
            max_record_bytes=self.max_record_bytes,
            route=route_record,
            complete_records=record,
        )
        self.decoder.offset = broken.offset
        for index, raw in enumerate(broken.lines):
            number = line + index + 1
            text = self.decoder.decode(raw, number)
            if reader.feed(TextLine(number, text, len(raw))):
                return
        # The trial needed the end of the file to decide, so this read does too.
        assert broken.at_end, "a broken line was read without the lines it needs"
        reader.finish()


@dataclass
class _QuietReport:
    """The members of a file report that the line reader writes."""

    partial: bool = False
    error: str | None = None
    records_seen: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


class _QuietSink:
    """Stand in for a sink in a trial read, keeping nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.report = _QuietReport()

    def skip(self, reason: str, *, line: int | None, record: int | None) -> None:
        """Count a skipped record."""
        self.report.records_seen += 1

    def skip_with_warning(
        self, reason: str, message: str, *, line: int | None, record: int | None
    ) -> None:
        """Count a skipped record, without the warning that a real read gives."""
        self.report.records_seen += 1


def _count_only(value: Any, sink: Any, *, line: int, record: int) -> None:
    """Route nothing: a trial read only counts the records."""
    sink.report.records_seen += 1
