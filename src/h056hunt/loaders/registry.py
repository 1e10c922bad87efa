"""Pick the loader for a file from its content, never from its name.

A file whose first character is ``{`` or ``[`` is JSON; anything else is read as
delimited text. Inside each family, records or headers decide the exact shape.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

from h056hunt.decoding import iter_text_chunks
from h056hunt.errors import InputError
from h056hunt.loaders import csv_export, json_export, json_lines
from h056hunt.loaders.jsondocument import DocumentReader
from h056hunt.loaders.sink import FileSink
from h056hunt.plurals import Counted
from h056hunt.sources import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    UTF16_MARKS,
    utf16_without_mark,
)
from h056hunt.streams import (
    DEFAULT_MAX_RECORD_BYTES,
    TextLine,
    iter_text_lines,
    open_input,
    text_lines,
)

logger = logging.getLogger(__name__)

# Faults part way through a file after which the records read so far are complete.
_TRUNCATING_FAULTS = frozenset({"corrupt_gzip", "decompression_limit"})
_LEADING_BLANKS = "\ufeff \t\r\n"
# Content that _starts_document reads to find the first character of a file.
_HEAD_BYTES = 64 * 1024


def load_text(
    text: str,
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> None:
    """Route the decoded text of one file to the JSON or the CSV loader."""
    stripped = text.lstrip()
    if not stripped:
        return
    first_lines = json_lines.peek_content_lines(text_lines(text, max_record_bytes))
    if json_export.skip_json_scalar(first_lines, sink):
        return
    if stripped[0] in "[{":
        json_export.load_json_text(
            text, sink, strict=strict, max_record_bytes=max_record_bytes
        )
    else:
        csv_export.load_csv_text(
            text, sink, strict=strict, max_record_bytes=max_record_bytes
        )


def load_file(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    strict: bool,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> None:
    """Read one file into ``sink``, holding about one record at a time.

    CSV and newline-delimited JSON are read line by line. Other JSON (a pretty-printed
    or compact document that spans lines) is read in chunks by
    :class:`~h056hunt.loaders.jsondocument.DocumentReader`. In both, a record longer
    than ``max_record_bytes`` (characters, inside a document) is skipped without
    being decoded. In lenient mode, corrupt gzip data or the decompression limit
    part way through keep the records read before the fault and mark the file
    partial.

    Raises:
        InputError: the file cannot be read, or strict mode and it is malformed.
    """
    try:
        is_document = _stream_file(
            path,
            display,
            sink,
            strict=strict,
            max_decompressed_bytes=max_decompressed_bytes,
            max_record_bytes=max_record_bytes,
        )
        if is_document:
            _read_document(
                path,
                display,
                sink,
                strict=strict,
                max_decompressed_bytes=max_decompressed_bytes,
                max_record_bytes=max_record_bytes,
            )
    except InputError as error:
        if error.reason not in _TRUNCATING_FAULTS or sink.report.records_seen == 0:
            raise
        if strict:
            raise _with_complete_records(error, sink.report.records_seen) from error
        _keep_records_before(sink, error)


def _with_complete_records(error: InputError, records: int) -> InputError:
    """Restate a fault part way through a file with the records read before it,
    as the errors of cut-off JSON and CSV give them."""
    hint = "rerun with --lenient to keep the complete records"
    return InputError(
        error.path,
        error.detail,
        reason=error.reason,
        complete_records=records,
        hint=f"{error.hint}, or {hint}" if error.hint else hint,
    )


def _read_document(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    strict: bool,
    max_decompressed_bytes: int,
    max_record_bytes: int,
) -> None:
    # Lenient encoding warnings are logged once per file, even if the reader opens
    # the file a second time to resume after a fault.
    reported: set[str] = set()

    def open_chunks() -> Iterator[str]:
        with open_input(
            path, display, max_decompressed_bytes=max_decompressed_bytes
        ) as stream:
            yield from iter_text_chunks(
                stream, display, strict=strict, reported=reported
            )

    reader = DocumentReader(open_chunks, display, max_record_chars=max_record_bytes)
    json_export.load_json_document(
        reader, sink, strict=strict, max_record_bytes=max_record_bytes
    )


def _stream_file(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    strict: bool,
    max_decompressed_bytes: int,
    max_record_bytes: int,
) -> bool:
    """Stream CSV or line-delimited JSON into ``sink``; True for a JSON document."""
    with open_input(
        path, display, max_decompressed_bytes=max_decompressed_bytes
    ) as stream:
        lines = iter_text_lines(
            stream, display, strict=strict, max_line_bytes=max_record_bytes
        )
        # The first lines are peeked at before any record is routed. A file of a
        # few long lines, such as Graph pages saved one per line, can end in a
        # fault among them, and its complete lines must still reach the sink.
        faults: list[InputError] = []
        lines = _stop_at_fault(lines, faults)
        first_lines = json_lines.peek_content_lines(lines)
        if not first_lines:
            if not faults:
                return False
            # The fault cut the first line, as in a compact JSON page or array
            # written on one line. The document reader reads such a file in
            # pieces and keeps the records before the fault.
            if _starts_document(path, display, max_decompressed_bytes):
                return True
            raise faults[0]
        first = first_lines[0]
        start = (first.text if first.text is not None else first.prefix).lstrip(
            _LEADING_BLANKS
        )
        # A fault after one JSON value is reported as the fault it is.
        if not faults and json_export.skip_json_scalar(first_lines, sink):
            return False
        every_line = itertools.chain(first_lines, lines, _raise_faults(faults))
        if not start.startswith(("[", "{")):
            csv_export.load_csv_lines(
                every_line, sink, strict=strict, max_record_bytes=max_record_bytes
            )
            return False
        if not json_lines.is_line_delimited(first_lines):
            return True
        json_export.load_json_lines(
            every_line, sink, strict=strict, max_record_bytes=max_record_bytes
        )
        return False


def _starts_document(path: Path, display: str, max_decompressed_bytes: int) -> bool:
    """Tell whether the file's first piece of content, read before any fault in
    it, starts a JSON object or array."""
    try:
        with open_input(
            path, display, max_decompressed_bytes=max_decompressed_bytes
        ) as stream:
            head = stream.read(_HEAD_BYTES)
    except InputError:
        return False
    # UTF-16 as the line reader detects it. Bytes that the cut at _HEAD_BYTES
    # leaves incomplete are dropped, since only the first characters matter.
    if head[:2] in UTF16_MARKS:
        encoding = "utf-16"
    else:
        encoding = utf16_without_mark(head) or "utf-8-sig"
    text = head.decode(encoding, errors="ignore")
    return text.lstrip(_LEADING_BLANKS).startswith(("[", "{"))


def _stop_at_fault(
    lines: Iterator[TextLine], faults: list[InputError]
) -> Iterator[TextLine]:
    """Yield ``lines`` until a gzip fault or the decompression limit, which is
    appended to ``faults`` instead of raised."""
    try:
        yield from lines
    except InputError as error:
        if error.reason not in _TRUNCATING_FAULTS:
            raise
        faults.append(error)


def _raise_faults(faults: list[InputError]) -> Iterator[TextLine]:
    """Raise the first of ``faults`` when read, once the lines before it are."""
    if faults:
        raise faults[0]
    yield from ()


def _keep_records_before(sink: FileSink, error: InputError) -> None:
    kept = Counted(sink.report.records_seen, "record")
    if error.hint:
        logger.warning(
            "%s; kept the %s read before it\n  hint: %s",
            error.message,
            kept,
            error.hint,
        )
    else:
        logger.warning("%s; kept the %s read before it", error.message, kept)
    # The rest of the file, a record cut off by the fault included, is counted as
    # one skip with the fault's reason, as a JSON document's reader counts it.
    sink.skip(json_export.READ_FAULT_REASONS[error.reason], line=None, record=None)
    sink.report.partial = True
    if sink.report.error is None:
        sink.report.error = error.message
