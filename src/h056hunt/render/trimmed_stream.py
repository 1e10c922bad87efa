"""A text stream that drops the trailing spaces rich pads every line with.

rich pads each table line, and each line of a page-wide table edge, with spaces up
to the console's width. On a terminal they do not show, but in a pipe or a file a
200-column table leaves a first line of 200 spaces and trailing spaces on every
line, which breaks line-based diffs and tools that compare output.
"""

from __future__ import annotations

from typing import TextIO


class TrimmedStream:
    """Write lines to ``stream`` without trailing spaces, and skip leading blanks.

    Lines that contain only spaces before the first other line are dropped, so the
    output never starts with a blank line. Every other character is written as
    given. Text after the last line feed is held until a line feed or
    :meth:`flush`, and :meth:`flush` writes it unchanged, because it may continue.
    Give this stream to a ``rich.console.Console`` as its ``file`` only when the
    output is not a terminal.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending = ""
        self._started = False

    def write(self, text: str) -> int:
        """Write each line that ``text`` completes, trimmed; return ``len(text)``."""
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        trimmed_lines = []
        for line in lines:
            trimmed = line.rstrip(" ")
            if not trimmed and not self._started:
                continue
            self._started = True
            trimmed_lines.append(trimmed + "\n")
        if trimmed_lines:
            self._stream.write("".join(trimmed_lines))
        return len(text)

    def flush(self) -> None:
        """Write the held text of an unfinished line and flush ``stream``."""
        if self._pending:
            self._started = True
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        """Return False: this stream is used only for output that is no terminal."""
        return False

    @property
    def encoding(self) -> str:
        """The encoding of ``stream``, which rich reads to pick box characters."""
        return getattr(self._stream, "encoding", None) or "utf-8"
