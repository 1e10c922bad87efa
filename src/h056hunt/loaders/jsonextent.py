"""Find where a JSON value ends in text that arrives in pieces, keeping none of it.

The scan looks only at strings and brackets, like ``_value_end`` in
:mod:`h056hunt.loaders.jsonstream`: the value is not decoded and its syntax is not
checked. Its state (bracket depth, inside a string, after a backslash) carries over
from one piece to the next, so a piece may end anywhere, even inside an escape.
"""

from __future__ import annotations

import re

_STRUCTURE_CHARACTER = re.compile(r'["\[\]{}]')
# The rest of a string up to its closing quote, or up to a backslash that ends the
# piece.
_STRING_REST = re.compile(r'[^"\\]*(?:\\[\s\S][^"\\]*)*')
_SCALAR_REST = re.compile(r"[^,\]}\s]*")

CONTAINER = "container"
STRING = "string"
SCALAR = "scalar"


def value_kind(first_character: str) -> str:
    """Name how the value starting with ``first_character`` ends."""
    if first_character in ("[", "{"):
        return CONTAINER
    if first_character == '"':
        return STRING
    return SCALAR


class ExtentScan:
    """The state of a scan for the end of one JSON value.

    Args:
        kind: :data:`CONTAINER`, :data:`STRING` or :data:`SCALAR`, from
            :func:`value_kind` of the value's first character.
        depth: brackets already open when the scan starts; 1 to scan for the end of
            an object from a position between its members.
    """

    def __init__(self, kind: str, depth: int = 0) -> None:
        self.kind = kind
        self.depth = depth
        self.started = False
        self.in_string = False
        self.after_backslash = False

    def feed(self, piece: str, start: int = 0) -> int | None:
        """Scan ``piece`` from ``start``; return the index just past the value's end.

        Returns None when the value goes on past the piece.
        """
        if self.kind == SCALAR:
            end = _SCALAR_REST.match(piece, start)
            assert end is not None
            return end.end() if end.end() < len(piece) else None
        position = start
        if self.kind == STRING and not self.started:
            self.started = True
            self.in_string = True
            position += 1
        while True:
            if self.in_string:
                string_end = self._string_end(piece, position)
                if string_end is None:
                    return None
                if self.kind == STRING:
                    return string_end
                position = string_end
            token = _STRUCTURE_CHARACTER.search(piece, position)
            if token is None:
                return None
            position = token.end()
            character = token.group()
            if character == '"':
                self.in_string = True
            elif character in "[{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    return position

    def ends_at_end_of_text(self) -> bool:
        """Tell whether the value ends where the text ends: true for a scalar only."""
        return self.kind == SCALAR

    def _string_end(self, piece: str, position: int) -> int | None:
        """Return the index past the closing quote, or None if it is not in piece."""
        if self.after_backslash:
            if position >= len(piece):
                return None
            self.after_backslash = False
            position += 1
        quote = piece.find('"', position)
        stop = len(piece) if quote == -1 else quote
        backslash = piece.find("\\", position, stop)
        if backslash == -1:
            # No escape before the quote: str.find covers long strings quickly.
            if quote == -1:
                return None
            self.in_string = False
            return quote + 1
        rest = _STRING_REST.match(piece, backslash)
        assert rest is not None
        end = rest.end()
        if end >= len(piece):
            return None
        if piece[end] == "\\":
            self.after_backslash = True
            return None
        self.in_string = False
        return end + 1
