"""Hold the part of a decoded file that a JSON reader still needs.

Text arrives in chunks from a source that can be opened again. Positions are
absolute character offsets in the file, and the window keeps the line number and the
line start at every position it still holds, so text before the reader's position
can be dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

# Text kept behind the start of the current top-level value so that a lenient reader
# can resume on the line after it without reading the file again.
REWIND_CHARS = 8 * 1024 * 1024


class TextWindow:
    """A sliding window over the decoded text of one file.

    Args:
        open_chunks: returns a fresh iterator over the file's text chunks; it is
            called once, and again only to go back to text already dropped.
    """

    def __init__(self, open_chunks: Callable[[], Iterator[str]]) -> None:
        self._open_chunks = open_chunks
        self._start()

    def _start(self) -> None:
        """Open the file's chunks and forget everything read before."""
        self._chunks = self._open_chunks()
        self.text = ""
        # Absolute position of text[0].
        self.base = 0
        self.at_end = False
        # The line number at _counted_to, and where the line holding base starts.
        self._counted_to = 0
        self._line = 1
        self._base_line_start = 0
        # Text from this position on is kept while it is at most REWIND_CHARS long.
        self.pin: int | None = None
        self.pin_lost = False
        self._first_line: _FirstLine | None = None

    @property
    def end(self) -> int:
        """Absolute position just past the text held."""
        return self.base + len(self.text)

    def pull(self) -> str | None:
        """Return the next non-empty chunk without adding it, or None at the end."""
        if self.at_end:
            return None
        for chunk in self._chunks:
            if chunk:
                if self._first_line is not None:
                    self._first_line.see(chunk)
                return chunk
        self.at_end = True
        return None

    def extend(self, chunks: list[str], keep_from: int) -> None:
        """Drop the text before ``keep_from`` (or the pin) and append ``chunks``."""
        keep = keep_from
        if self.pin is not None:
            if self.end + sum(map(len, chunks)) - self.pin > REWIND_CHARS:
                self.pin = None
                self.pin_lost = True
            else:
                keep = min(keep, self.pin)
        self._drop_before(keep)
        self.text = "".join([self.text, *chunks])

    def refill(self, keep_from: int) -> bool:
        """Append the next chunk, dropping text before ``keep_from``; False at end."""
        chunk = self.pull()
        if chunk is None:
            return False
        self.extend([chunk], keep_from)
        return True

    def character(self, position: int) -> str:
        """Return the character at ``position``, reading on; empty at the end."""
        while position >= self.end:
            if not self.refill(self.base):
                return ""
        return self.text[position - self.base]

    def line_at(self, position: int) -> int:
        """Return the 1-based line of ``position``, which must still be held."""
        relative = position - self.base
        counted = self._counted_to - self.base
        if position >= self._counted_to:
            self._line += self.text.count("\n", counted, relative)
            self._counted_to = position
            return self._line
        return self._line - self.text.count("\n", relative, counted)

    def column_at(self, position: int) -> int:
        """Return the 1-based column of ``position``, which must still be held."""
        newline = self.text.rfind("\n", 0, position - self.base)
        line_start = self._base_line_start if newline == -1 else self.base + newline + 1
        return position - line_start + 1

    def _drop_before(self, position: int) -> None:
        cut = position - self.base
        if cut <= 0:
            return
        self.line_at(position)
        newline = self.text.rfind("\n", 0, cut)
        if newline != -1:
            self._base_line_start = self.base + newline + 1
        self.text = self.text[cut:]
        self.base = position

    def watch_first_line(self, start: int) -> None:
        """Start recording how the line that starts at ``start`` ends."""
        self._first_line = _FirstLine()
        self._first_line.see(self.text[start - self.base :])

    def first_line_ends_with(self, character: str) -> bool:
        """Tell whether the watched line, spaces removed, ends with ``character``.

        Reads on until the line ends. A line that the file ends without a line
        break counts as not ending with it.
        """
        first_line = self._first_line
        assert first_line is not None
        while not first_line.complete and self.refill(self.base):
            pass
        return first_line.complete and first_line.last_character == character

    def first_line_may_end_with(self, character: str) -> bool:
        """Tell whether the watched line may still end with ``character``."""
        first_line = self._first_line
        if first_line is None or not first_line.complete:
            return True
        return first_line.last_character == character

    def reopen_at(self, position: int) -> None:
        """Read the file again from its start and skip to ``position``."""
        self._start()
        while self.end < position and self.refill(self.end):
            pass
        self._drop_before(min(position, self.end))


class _FirstLine:
    """The last character before the first line break seen, ignoring spaces."""

    def __init__(self) -> None:
        self.complete = False
        self.last_character = ""

    def see(self, text: str) -> None:
        if self.complete:
            return
        newline = text.find("\n")
        piece = text if newline == -1 else text[:newline]
        stripped = piece.rstrip()
        if stripped:
            self.last_character = stripped[-1]
        self.complete = newline != -1
