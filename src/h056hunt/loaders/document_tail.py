"""Read a page or array from one element line to its end with the plain path's
document reader.

The fast path reads a Graph page, Event Hub body or JSON array written one element
per line line by line. At an element line that it cannot decode alone, one without
its comma, or a last line cut off by an interrupted download, it hands the rest of
the file to :class:`~h056hunt.loaders.jsondocument.DocumentReader`. In strict mode
that reader stops the run at the fault. In lenient mode it keeps the complete
records, counts the fault as skipped and stops reading, because a container leaves
no safe place to resume. An element that spans lines is read as it is, and so is
the rest of the file.

The reader starts in the state that it has at that line in the whole file. Its
text begins with the opening line, and line ends stand in for the element lines
before, so lines and columns in messages are the file's own. The bytes from the
line on are decoded in the chunks of the whole file, so an invalid byte is
reported at the same point of the reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from h056hunt.decoding import ByteStream, iter_text_chunks_after
from h056hunt.loaders import json_export
from h056hunt.loaders.jsondocument import DocumentReader

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink


def read_tail(
    sink: FileSink,
    open_content: Callable[[], AbstractContextManager[ByteStream]],
    *,
    opening_line: int,
    opening: str,
    line: int,
    offset: int,
    has_utf8_mark: bool,
    complete_records: int,
    strict: bool,
    max_record_bytes: int,
) -> None:
    """Read a container from the element line ``line`` to its end into ``sink``.

    Args:
        sink: the file's sink, holding the records of every element before.
        open_content: opens the file's content at ``offset``.
        opening_line: the 0-based line of the container's opening.
        opening: the opening line, such as ``[`` or ``{"value":[``.
        line: the 0-based line to read from.
        offset: the file's byte offset where that line starts.
        has_utf8_mark: the file starts with a UTF-8 byte order mark, which the
            offsets in messages leave out.
        complete_records: elements before the line.
        strict: raise at the fault instead of counting it.
        max_record_bytes: the per-record limit, in characters here.

    Raises:
        InputError: strict mode and the rest of the file is malformed, as the plain
            path raises it.
    """
    prefix = "".join(("\n" * opening_line, opening, "\n" * (line - opening_line)))
    reported: set[str] = set()

    def open_chunks() -> Iterator[str]:
        yield prefix
        with open_content() as stream:
            yield from iter_text_chunks_after(
                stream,
                sink.path,
                strict=strict,
                offset=offset,
                lines=line,
                has_utf8_mark=has_utf8_mark,
                reported=reported,
            )

    reader = DocumentReader(open_chunks, sink.path, max_record_chars=max_record_bytes)
    reader.records = complete_records
    json_export.load_json_document(
        reader, sink, strict=strict, max_record_bytes=max_record_bytes
    )
