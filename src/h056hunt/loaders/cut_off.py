"""Read the cut-off last line of a fast-path file with the plain path's readers.

An interrupted download leaves a file whose last line is part of a record, with no
line end. The fast path scans the complete lines and passes that line here. Each
function rebuilds the reader state that the plain path has when it reaches the
line, so the error in strict mode, and the warning, skip count and partial mark in
lenient mode, are the plain path's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from h056hunt.loaders import json_export
from h056hunt.loaders.jsondocument import DocumentReader
from h056hunt.streams import TextLine

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink


def read_last_line(
    sink: FileSink,
    *,
    number: int,
    text: str,
    size: int,
    complete_records: int,
    strict: bool,
    max_record_bytes: int,
) -> None:
    """Read the last line of newline-delimited JSON as the plain path's line reader.

    Args:
        sink: the file's sink, holding the records of every line before.
        number: the line's 1-based number.
        text: the decoded line.
        size: the line's length in bytes.
        complete_records: records in the lines before.
        strict: raise at the fault instead of counting it.
        max_record_bytes: the per-record limit.

    Raises:
        InputError: strict mode and the line is not valid JSON.
    """
    json_export.load_json_lines(
        [TextLine(number, text, size)],
        sink,
        strict=strict,
        max_record_bytes=max_record_bytes,
        complete_records=complete_records,
    )


def read_last_element(
    sink: FileSink,
    *,
    opening_line: int,
    opening: str,
    number: int,
    text: str,
    complete_records: int,
    strict: bool,
    max_record_bytes: int,
) -> None:
    """Read the last line of a container written one element per line, which the
    file ends in before the container closes, as the plain path's document reader.

    The reader gets a document of the opening line and the last line, at their own
    line numbers, with line ends in place of the element lines between. The reader
    decodes one element at a time and locates an error by line and column. So it
    reaches the last line in the state it has in the whole file, once its count of
    records is set to ``complete_records``.

    Args:
        sink: the file's sink, holding the records of every element before.
        opening_line: the 0-based line of the container's opening.
        opening: the opening line, such as ``[`` or ``{"value":[``.
        number: the last line's 1-based number.
        text: the decoded last line.
        complete_records: elements before the last line.
        strict: raise at the fault instead of counting it.
        max_record_bytes: the per-record limit.

    Raises:
        InputError: strict mode, as the plain path raises at the end of the file.
    """
    document = "".join(
        ("\n" * opening_line, opening, "\n" * (number - 1 - opening_line), text)
    )
    reader = DocumentReader(
        lambda: iter((document,)), sink.path, max_record_chars=max_record_bytes
    )
    reader.records = complete_records
    json_export.load_json_document(
        reader, sink, strict=strict, max_record_bytes=max_record_bytes
    )
