"""Read an input file as a stream of decoded lines, one line in memory at a time.

:func:`open_input` opens a file and decompresses gzip content whatever the file is
called; :func:`iter_text_lines` decodes it line by line. A line longer than the limit
comes back as a :class:`TextLine` without text, so a loader can count it as skipped
without decoding it. :mod:`h056hunt.sources` finds the files and reads them whole.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h056hunt.decoding import iter_text_chunks
from h056hunt.errors import InputError
from h056hunt.plurals import Counted
from h056hunt.sources import (
    ARCHIVE_HEAD_BYTES,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    GZIP_MAGIC,
    UTF16_MARKS,
    UTF16_PROBE_BYTES,
    reject_archive,
    utf16_without_mark,
)

logger = logging.getLogger(__name__)

# One record or line larger than this is skipped. Entra audit and sign-in records are
# kilobytes to hundreds of kilobytes, and decoding one takes several times its size
# in memory.
DEFAULT_MAX_RECORD_BYTES = 64 * 1024**2
_READ_CHUNK_BYTES = 8 * 1024 * 1024
# Bytes kept from the start of an over-long line, for routing and messages.
_OVERSIZED_PREFIX_BYTES = 256


# Blank lines in a row from which iter_text_lines yields one line for them all.
BLANK_RUN_LINES = 4096
# The bytes a blank line may hold besides its line feed.
_BLANK_BYTES = b" \t\r\n"
# A peeked buffer this long and wholly blank starts a long run of blank lines.
_BLANK_BUFFER_BYTES = 1024


@dataclass(frozen=True)
class TextLine:
    """One line of a file, decoded, with its 1-based number and its size in bytes.

    Attributes:
        number: 1-based line number in the file.
        text: the line with its line end, or None when it is longer than the limit
            of the reader and was passed over without decoding.
        size: bytes the line takes in the (decompressed) file, line end included.
        prefix: the first characters of an over-long line, for routing and messages;
            empty for other lines.
    """

    number: int
    text: str | None
    size: int
    prefix: str = ""


# Gzip content is inflated in reads of at most this size, so a fault loses at
# most this much of the content before it.
_GZIP_READ_PIECE_BYTES = 64 * 1024


class _GuardedStream:
    """A binary stream that turns read faults into :class:`InputError`.

    For gzip content it also counts the decompressed bytes and stops at ``limit``.
    """

    def __init__(self, raw: Any, display: str, *, compressed: bool, limit: int):
        self._raw = raw
        self._display = display
        self._compressed = compressed
        self._limit = limit
        self._total = 0
        # A fault met after some bytes of a read, raised by the next read.
        self._fault: InputError | None = None

    def peek(self, size: int) -> bytes:
        """Return up to ``size`` bytes from the start of the stream without reading."""
        return self._guard(lambda: self._raw.peek(size)[:size], count=False)

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes, or everything when ``size`` is negative.

        Gzip content is inflated in pieces. When a piece fails, the read returns
        the pieces before it and the next read raises the fault, so a reader
        keeps the records that end before a cut-off or corrupt part.
        """
        if self._fault is not None:
            fault, self._fault = self._fault, None
            raise fault
        if not self._compressed or size <= _GZIP_READ_PIECE_BYTES:
            return self._guard(lambda: self._raw.read(size))
        pieces: list[bytes] = []
        total = 0
        while total < size:
            piece_size = min(_GZIP_READ_PIECE_BYTES, size - total)
            try:
                piece = self._guard(functools.partial(self._raw.read, piece_size))
            except InputError as error:
                if not pieces:
                    raise
                self._fault = error
                break
            if not piece:
                break
            pieces.append(piece)
            total += len(piece)
        return b"".join(pieces)

    def readline(self, size: int = -1) -> bytes:
        """Read one line, or its first ``size`` bytes when it is longer."""
        return self._guard(lambda: self._raw.readline(size))

    def _guard(self, operation: Callable[[], bytes], *, count: bool = True) -> bytes:
        try:
            data = operation()
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise InputError(
                self._display,
                f"corrupt or truncated gzip data: {error}",
                reason="corrupt_gzip",
                hint="re-download or re-compress the file",
            ) from error
        except OSError as error:
            raise InputError(
                self._display,
                f"cannot read file: {error.strerror or error}",
                reason="unreadable",
            ) from error
        if count and self._compressed:
            self._total += len(data)
            if self._total > self._limit:
                raise InputError(
                    self._display,
                    "gzip content expands past the limit of "
                    f"{Counted(self._limit, 'byte')}",
                    reason="decompression_limit",
                    hint="raise --max-decompressed-size if the file is trusted",
                )
        return data


@contextlib.contextmanager
def open_input(
    path: Path,
    display: str,
    *,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> Iterator[_GuardedStream]:
    """Open a file for reading, decompressing gzip content whatever its name.

    Raises:
        InputError: the file cannot be opened; reading from the stream raises it too
            for corrupt gzip data, content past ``max_decompressed_bytes`` and read
            faults.
    """
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(
            display, f"cannot read file: {error.strerror or error}", reason="unreadable"
        ) from error
    with handle:
        guarded = _GuardedStream(handle, display, compressed=False, limit=0)
        reject_archive(guarded.peek(ARCHIVE_HEAD_BYTES), display)
        if guarded.peek(2) != GZIP_MAGIC:
            yield guarded
            return
        with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
            content = _GuardedStream(
                unzipped,
                display,
                compressed=True,
                limit=max_decompressed_bytes,
            )
            # Read as text, gzip inside gzip fails with a UTF-8 error at offset 1.
            if content.peek(2) == GZIP_MAGIC:
                raise InputError(
                    display,
                    "the file is compressed twice: its gzip content is gzip again",
                    reason="double_gzip",
                    hint="decompress it once (gunzip -c FILE > FILE.once.gz) and "
                    "give that file",
                )
            reject_archive(content.peek(ARCHIVE_HEAD_BYTES), display)
            yield content


def iter_text_lines(
    stream: _GuardedStream,
    display: str,
    *,
    strict: bool,
    max_line_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[TextLine]:
    """Yield the lines of a UTF-8 or UTF-16 stream, holding one line at a time.

    A line longer than ``max_line_bytes`` (line end excluded) is read past in chunks
    and yielded with ``text=None``. UTF-16 text, marked by its byte order mark, is
    decoded in chunks and split into lines; its sizes are estimated at two bytes
    per character.

    Raises:
        InputError: strict mode and a line contains an invalid UTF-8 byte or a NUL
            character; any mode and the stream fails (see :func:`open_input`).
    """
    head = stream.peek(UTF16_PROBE_BYTES)
    if head[:2] in UTF16_MARKS or utf16_without_mark(head):
        # Windows PowerShell 5 writes UTF-16.
        chunks = iter_text_chunks(stream, display, strict=strict)
        yield from chunk_lines(chunks, max_line_bytes, bytes_per_character=2)
        return
    decoder = LineDecoder(display, strict=strict)
    number = 0
    while raw := stream.readline(max_line_bytes + 1):
        number += 1
        if raw.endswith(b"\n") and not raw.strip(_BLANK_BYTES):
            # A long run of blank lines is read in bulk and yielded as one line:
            # one line at a time, the gigabyte of line feeds that a small gzip
            # file can hold took hours. Later lines keep their numbers.
            lines, size = _read_blank_run(stream)
            if lines:
                yield TextLine(number, "\n", len(raw) + size)
                decoder.offset += len(raw) + size
                number += lines
                continue
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            prefix = raw[:_OVERSIZED_PREFIX_BYTES].decode("utf-8", errors="replace")
            size = len(raw) + _read_past_line(stream)
            yield TextLine(number, None, size, prefix.lstrip("\ufeff"))
            decoder.offset += size
            continue
        yield TextLine(number, decoder.decode(raw, number), len(raw))


def _read_blank_run(stream: _GuardedStream) -> tuple[int, int]:
    """Read the blank lines that come next when they make a long run; return how
    many lines and bytes were read.

    A run is long when it fills a read buffer of at least
    :data:`_BLANK_BUFFER_BYTES` or has :data:`BLANK_RUN_LINES` lines. A shorter
    run is left in the stream, so its lines are read one at a time with their
    exact text, as a quoted CSV field needs.
    """
    lines = size = 0
    while True:
        head = stream.peek(_READ_CHUNK_BYTES)
        blank = head[: len(head) - len(head.lstrip(_BLANK_BYTES))]
        whole = blank[: blank.rfind(b"\n") + 1]
        if not whole:
            return lines, size
        fills = len(blank) == len(head) >= _BLANK_BUFFER_BYTES
        if not lines and not fills and whole.count(b"\n") < BLANK_RUN_LINES:
            return 0, 0
        stream.read(len(whole))
        lines += whole.count(b"\n")
        size += len(whole)


def _read_past_line(stream: _GuardedStream) -> int:
    """Read to the end of the current line, keeping nothing; return the bytes read."""
    skipped = 0
    while chunk := stream.readline(_READ_CHUNK_BYTES):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


class LineDecoder:
    """Decode UTF-8 lines one at a time, with the checks of :func:`decode_text`.

    Attributes:
        offset: the file's byte offset of the next line, which messages about an
            invalid byte count from. A caller that decodes lines out of order sets
            it before each line.
    """

    def __init__(self, display: str, *, strict: bool) -> None:
        self.display = display
        self.strict = strict
        self.offset = 0
        self._warned: set[str] = set()

    def decode(self, raw: bytes, number: int) -> str:
        """Decode the line ``raw``, numbered ``number`` from 1.

        In lenient mode the first invalid byte and the first NUL character of the
        file are each reported once, bad bytes become U+FFFD and NUL characters are
        removed.

        Raises:
            InputError: strict mode and the line contains an invalid byte or a NUL
                character.
        """
        if self.offset == 0 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
            self.offset = 3
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"invalid UTF-8 byte at offset {self.offset + error.start}"
            if self.strict:
                raise InputError(
                    self.display,
                    message,
                    reason="invalid_encoding",
                    line=number,
                    hint="re-export as UTF-8, or rerun with --lenient to replace bad "
                    "bytes",
                ) from error
            self._warn_once("encoding", number, f"{message}; replaced with U+FFFD")
            text = raw.decode("utf-8", errors="replace")
        self.offset += len(raw)
        if "\x00" in text:
            if self.strict:
                raise InputError(
                    self.display,
                    "NUL character in text: the file is binary or truncated",
                    reason="nul_byte",
                    line=number,
                    hint="check that this is a log export; rerun with --lenient to "
                    "drop NUL characters",
                )
            self._warn_once("nul", number, "NUL characters removed")
            text = text.replace("\x00", "")
        return text

    def _warn_once(self, kind: str, number: int, message: str) -> None:
        if kind in self._warned:
            logger.debug("%s, line %d: %s", self.display, number, message)
            return
        self._warned.add(kind)
        logger.warning(
            "%s, line %d: %s (later lines are not reported)",
            self.display,
            number,
            message,
        )


def text_lines(
    text: str,
    max_line_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    *,
    bytes_per_character: int = 1,
) -> Iterator[TextLine]:
    """Yield the lines of decoded text the way :func:`iter_text_lines` does.

    Sizes are estimated as characters times ``bytes_per_character``.
    """
    position = 0
    number = 0
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end == -1 else end + 1
        number += 1
        line = text[position:end]
        size = len(line) * bytes_per_character
        content = len(line.rstrip("\n")) * bytes_per_character
        if content > max_line_bytes:
            prefix = line[:_OVERSIZED_PREFIX_BYTES]
            yield TextLine(number, None, size, prefix)
        else:
            yield TextLine(number, line, size)
        position = end


def chunk_lines(
    chunks: Iterable[str],
    max_line_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    *,
    bytes_per_character: int = 1,
) -> Iterator[TextLine]:
    """Yield the lines of text read in chunks, as :func:`text_lines` yields them.

    A line is held until it ends, unless it grows past ``max_line_bytes``: then only
    its first characters are kept and the rest is counted.
    """
    builder = _LineBuilder(max_line_bytes, bytes_per_character)
    for chunk in chunks:
        position = 0
        while position < len(chunk):
            end = chunk.find("\n", position)
            if end == -1:
                builder.add(chunk[position:])
                break
            builder.add(chunk[position : end + 1])
            position = end + 1
            yield builder.take()
    if builder.characters:
        yield builder.take()


class _LineBuilder:
    """The line being read, dropped to its prefix once it is over the limit."""

    def __init__(self, max_line_bytes: int, bytes_per_character: int) -> None:
        self.max_line_bytes = max_line_bytes
        self.bytes_per_character = bytes_per_character
        self.number = 0
        self.parts: list[str] = []
        self.characters = 0
        self.prefix: str | None = None

    def add(self, piece: str) -> None:
        self.characters += len(piece)
        if self.prefix is not None:
            missing = _OVERSIZED_PREFIX_BYTES - len(self.prefix)
            if missing > 0:
                self.prefix += piece[:missing]
            return
        self.parts.append(piece)
        content = self.characters - piece.endswith("\n")
        if content * self.bytes_per_character > self.max_line_bytes:
            self.prefix = "".join(self.parts)[:_OVERSIZED_PREFIX_BYTES]
            self.parts = []

    def take(self) -> TextLine:
        self.number += 1
        size = self.characters * self.bytes_per_character
        if self.prefix is not None:
            line = TextLine(self.number, None, size, self.prefix)
        else:
            line = TextLine(self.number, "".join(self.parts), size)
        self.parts = []
        self.characters = 0
        self.prefix = None
        return line
