"""Decode an input stream into text chunks, holding one chunk at a time.

The encoding is picked and checked as :func:`h056hunt.sources.decode_text` does for
a whole file: a UTF-16 byte order mark selects UTF-16 (little or big endian), anything
else is UTF-8 with an optional byte order mark. Invalid bytes and NUL characters give
the same messages, line numbers and byte offsets, because the decoder counts the
bytes and lines it has passed. In lenient mode the first invalid byte and the first
NUL character are each reported once, bad bytes become U+FFFD and NUL characters are
removed.

Unlike the whole-file decoder, faults are found in file order: in strict mode a NUL
character before an invalid byte is reported first.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator
from typing import Protocol

from h056hunt.errors import InputError
from h056hunt.sources import UTF16_MARKS, UTF16_PROBE_BYTES, utf16_without_mark

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 8 * 1024 * 1024
_UTF8_MARK = b"\xef\xbb\xbf"
# Bytes kept from the end of the previous chunk, to count the line breaks between a
# reported offset and the current chunk. The offset is at most six bytes back, because
# the decoder keeps back at most three bytes and the UTF-8 mark is three bytes.
_TAIL_BYTES = 16


class ByteStream(Protocol):
    """A binary stream as :func:`h056hunt.streams.open_input` returns it."""

    def read(self, size: int = -1) -> bytes: ...


class ChunkDecoder:
    """Decode the bytes of one file in pieces, with the checks of ``decode_text``.

    Args:
        display: the file as shown to the user.
        strict: raise on an invalid byte or a NUL character instead of warning.
        first_bytes: the start of the file, which selects the encoding: at least
            ``UTF16_PROBE_BYTES`` bytes unless the file is shorter.
        reported: kinds of lenient warnings already logged for this file; share
            one set between decoders of the same file so a second pass repeats none.
    """

    def __init__(
        self,
        display: str,
        *,
        strict: bool,
        first_bytes: bytes,
        reported: set[str] | None = None,
    ) -> None:
        self.display = display
        self.strict = strict
        self.reported = reported if reported is not None else set()
        unmarked = utf16_without_mark(first_bytes)
        if first_bytes[:2] in UTF16_MARKS:
            self.encoding = "utf-16"
            self.name = "UTF-16"
            # The UTF-16 codec reads the mark itself, and offsets count it.
            self.mark_bytes = 0
        elif unmarked is not None:
            self.encoding = unmarked
            self.name = "UTF-16"
            self.mark_bytes = 0
        else:
            self.encoding = "utf-8"
            self.name = "UTF-8"
            # decode_text reports offsets after a UTF-8 mark.
            self.mark_bytes = 3 if first_bytes.startswith(_UTF8_MARK) else 0
        self._decoder = codecs.getincrementaldecoder(self.encoding)()
        self._skip_bytes = self.mark_bytes
        self._fed = 0
        self._fed_newlines = 0
        self._tail = b""
        self._text_newlines = 0

    def start_at(self, offset: int, lines: int) -> None:
        """Continue as if the file's first ``offset`` bytes had been decoded.

        The bytes before ``offset`` must be UTF-8 ending in a line break, and
        contain ``lines`` line breaks. Offsets and line numbers in messages then
        count from the start of the file.
        """
        self._skip_bytes = 0
        self._fed = offset
        self._fed_newlines = lines
        self._text_newlines = lines
        self._tail = b"\n"

    def decode(self, data: bytes, *, final: bool = False) -> str:
        """Decode the next bytes of the file; ``final`` for the last call.

        Raises:
            InputError: strict mode and the bytes are invalid or contain a NUL
                character.
        """
        if self._skip_bytes:
            skipped = data[: self._skip_bytes]
            self._account(skipped)
            self._skip_bytes -= len(skipped)
            data = data[len(skipped) :]
        state = self._decoder.getstate()
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as error:
            pending = state[0]
            offset = self._fed - len(pending) + error.start - self.mark_bytes
            self._report_invalid_byte(offset, data, error)
            self._decoder = codecs.getincrementaldecoder(self.encoding)("replace")
            self._decoder.setstate(state)
            text = self._decoder.decode(data, final)
        self._account(data)
        return self._check_nul(text)

    def _account(self, data: bytes) -> None:
        self._fed += len(data)
        self._fed_newlines += data.count(b"\n")
        self._tail = (self._tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]

    def _newlines_before(self, offset: int, data: bytes) -> int:
        """Count line feed bytes in the file before ``offset``, as decode_text does."""
        if offset >= self._fed:
            return self._fed_newlines + data.count(b"\n", 0, offset - self._fed)
        behind = self._fed - offset
        return self._fed_newlines - self._tail[-behind:].count(b"\n")

    def _report_invalid_byte(
        self, offset: int, data: bytes, error: UnicodeDecodeError
    ) -> None:
        # decode_text counts line feeds in the raw bytes before the offset it
        # reports, the UTF-8 mark included.
        line = self._newlines_before(offset, data) + 1
        message = f"invalid {self.name} byte at offset {offset}"
        if self.strict:
            raise InputError(
                self.display,
                message,
                reason="invalid_encoding",
                line=line,
                hint="re-export as UTF-8, or rerun with --lenient to replace bad bytes",
            ) from error
        if "encoding" not in self.reported:
            self.reported.add("encoding")
            logger.warning(
                "%s, line %d: %s; replaced with U+FFFD", self.display, line, message
            )

    def _check_nul(self, text: str) -> str:
        if "\x00" in text:
            line = self._text_newlines + text.count("\n", 0, text.index("\x00")) + 1
            if self.strict:
                raise InputError(
                    self.display,
                    "NUL character in text: the file is binary or truncated",
                    reason="nul_byte",
                    line=line,
                    hint="check that this is a log export; rerun with --lenient to "
                    "drop NUL characters",
                )
            if "nul" not in self.reported:
                self.reported.add("nul")
                logger.warning(
                    "%s, line %d: NUL characters removed", self.display, line
                )
            text = text.replace("\x00", "")
        self._text_newlines += text.count("\n")
        return text


def read_first_bytes(stream: ByteStream, count: int = UTF16_PROBE_BYTES) -> bytes:
    """Read at least ``count`` bytes from ``stream``, fewer only at its end."""
    data = b""
    while len(data) < count:
        more = stream.read(count - len(data))
        if not more:
            break
        data += more
    return data


def iter_text_chunks(
    stream: ByteStream,
    display: str,
    *,
    strict: bool,
    reported: set[str] | None = None,
    chunk_bytes: int = READ_CHUNK_BYTES,
    first_bytes: bytes | None = None,
) -> Iterator[str]:
    """Yield the decoded text of ``stream`` in chunks of about ``chunk_bytes``.

    Args:
        stream: the file, read from its start unless ``first_bytes`` contains bytes
            already read from it.
        display: the file as shown to the user.
        strict: raise on invalid bytes and NUL characters instead of warning.
        reported: see :class:`ChunkDecoder`.
        chunk_bytes: bytes read per chunk.
        first_bytes: bytes already read from the start of ``stream``.

    Raises:
        InputError: strict mode and the text is invalid (see :class:`ChunkDecoder`);
            any mode and the stream fails.
    """
    head = first_bytes if first_bytes is not None else read_first_bytes(stream)
    decoder = ChunkDecoder(display, strict=strict, first_bytes=head, reported=reported)
    text = decoder.decode(head)
    if text:
        yield text
    yield from _decode_rest(stream, decoder, chunk_bytes)


def iter_text_chunks_after(
    stream: ByteStream,
    display: str,
    *,
    strict: bool,
    offset: int,
    lines: int,
    has_utf8_mark: bool,
    reported: set[str] | None = None,
    chunk_bytes: int = READ_CHUNK_BYTES,
) -> Iterator[str]:
    """Yield the decoded text of a UTF-8 file from ``offset`` on, in the chunks
    that :func:`iter_text_chunks` yields for that part of the whole file.

    ``stream`` is positioned at ``offset``, a line start after ``lines`` line
    breaks. :func:`iter_text_chunks` reads ``UTF16_PROBE_BYTES`` bytes and then
    ``chunk_bytes`` at a time, so the first chunk here ends where its chunk ends.
    A reader that decodes a chunk only when it needs the text then meets an
    invalid byte at the same point of its reading as in the whole file. Messages
    name the file's own lines and offsets.

    Raises:
        InputError: strict mode and the text is invalid (see :class:`ChunkDecoder`);
            any mode and the stream fails.
    """
    mark = _UTF8_MARK if has_utf8_mark else b""
    decoder = ChunkDecoder(display, strict=strict, first_bytes=mark, reported=reported)
    decoder.start_at(offset, lines)
    head = UTF16_PROBE_BYTES
    first = chunk_bytes - (offset - head) % chunk_bytes if offset >= head else 0
    yield from _decode_rest(stream, decoder, chunk_bytes, first)


def _decode_rest(
    stream: ByteStream, decoder: ChunkDecoder, chunk_bytes: int, first: int = 0
) -> Iterator[str]:
    """Decode the rest of ``stream`` in reads of ``chunk_bytes``, the first of
    ``first`` bytes when that is not 0; yield each non-empty text."""
    while data := stream.read(first or chunk_bytes):
        first = 0
        text = decoder.decode(data)
        if text:
            yield text
    text = decoder.decode(b"", final=True)
    if text:
        yield text
