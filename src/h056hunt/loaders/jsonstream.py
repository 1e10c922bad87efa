"""Walk every JSON container that Entra exports arrive in, one record at a time.

Handled containers: a Graph page ``{"value": [...]}`` (with or without
``@odata.nextLink``), an Event Hub envelope ``{"records": [...]}``, a bare array, a
single object, newline-delimited JSON, and any concatenation of these (collectors append
pages or pretty-printed arrays to one file). Blank lines and CRLF line ends are
whitespace.

Each record comes with the 1-based line it starts on and its 1-based number in the
file. A syntax error stops the walk with an :class:`InputError` that names the line,
column and the number of complete records before it, after every complete record has
been yielded, so a lenient caller keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from h056hunt.errors import InputError

ENVELOPE_KEYS = ("value", "records")
_WHITESPACE = " \t\r\n"
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class JsonRecord:
    """One JSON value found in a file, with where it starts."""

    value: Any
    line: int
    record: int


class _Cursor:
    """Position in the text plus an incremental line counter."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.position = 0
        self._counted_to = 0
        self._line = 1
        self.records = 0

    def line_at(self, position: int) -> int:
        if position < self._counted_to:
            return self.text.count("\n", 0, position) + 1
        self._line += self.text.count("\n", self._counted_to, position)
        self._counted_to = position
        return self._line

    def column_at(self, position: int) -> int:
        return position - (self.text.rfind("\n", 0, position) + 1) + 1

    def skip_whitespace(self) -> None:
        text = self.text
        position = self.position
        length = len(text)
        while position < length and text[position] in _WHITESPACE:
            position += 1
        self.position = position

    def error(self, position: int, message: str, reason: str) -> InputError:
        return InputError(
            self.path,
            message,
            reason=reason,
            line=self.line_at(position),
            column=self.column_at(position),
            complete_records=self.records,
            hint="the export is cut off or corrupt: re-export it, or rerun with "
            "--lenient to keep the complete records",
        )

    def decode_value(self) -> tuple[Any, int]:
        start = self.position
        try:
            value, end = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as error:
            raise self.error(error.pos, error.msg, "invalid_json") from error
        except RecursionError as error:
            raise self.error(
                start, "JSON nested too deeply to read", "nesting_too_deep"
            ) from error
        self.position = end
        return value, start

    def expect(self, character: str) -> None:
        self.skip_whitespace()
        if self.text.startswith(character, self.position):
            self.position += 1
            return
        found = self.text[self.position : self.position + 1] or "end of file"
        raise self.error(
            self.position, f"expected {character!r}, found {found!r}", "invalid_json"
        )


def iter_json_records(text: str, path: str) -> Iterator[JsonRecord]:
    """Yield every record of a JSON export, unwrapping envelopes and arrays.

    Raises:
        InputError: the text is not valid JSON at some point; every complete record
            before that point has been yielded already.
    """
    cursor = _Cursor(text, path)
    cursor.skip_whitespace()
    while cursor.position < len(text):
        opening = text[cursor.position]
        fragment_line = cursor.line_at(cursor.position)
        try:
            if opening == "[":
                yield from _iter_array(cursor)
            elif opening == "{":
                yield from _iter_object(cursor)
            else:
                raise cursor.error(
                    cursor.position,
                    f"expected a JSON object or array, found {opening!r}",
                    "invalid_json",
                )
        except InputError as error:
            # Lenient readers of one-record-per-line files resume after this line.
            error.fragment_line = fragment_line
            raise
        cursor.skip_whitespace()


def _iter_array(cursor: _Cursor) -> Iterator[JsonRecord]:
    cursor.position += 1
    cursor.skip_whitespace()
    if cursor.text.startswith("]", cursor.position):
        cursor.position += 1
        return
    while True:
        cursor.skip_whitespace()
        value, start = cursor.decode_value()
        cursor.records += 1
        yield JsonRecord(value, cursor.line_at(start), cursor.records)
        cursor.skip_whitespace()
        following = cursor.text[cursor.position : cursor.position + 1]
        if following == ",":
            cursor.position += 1
            continue
        if following == "]":
            cursor.position += 1
            return
        found = following or "end of file"
        raise cursor.error(
            cursor.position,
            f"expected ',' or ']' after a record, found {found!r}",
            "invalid_json",
        )


def _iter_object(cursor: _Cursor) -> Iterator[JsonRecord]:
    """Read one top-level object; yield its envelope's records, or the object itself.

    Envelope arrays are read element by element, so a page cut off mid-record still
    yields the records before the cut.
    """
    start = cursor.position
    members: dict[str, Any] = {}
    envelope: list[JsonRecord] = []
    cursor.position += 1
    cursor.skip_whitespace()
    if cursor.text.startswith("}", cursor.position):
        cursor.position += 1
    else:
        try:
            _read_members(cursor, members, envelope)
        except InputError:
            # Records of a cut-off envelope are complete: hand them over first.
            yield from envelope
            raise
    is_envelope = any(
        key in members and isinstance(members[key], _EnvelopeMarker)
        for key in ENVELOPE_KEYS
    )
    if is_envelope:
        yield from envelope
        return
    cursor.records += 1
    yield JsonRecord(members, cursor.line_at(start), cursor.records)


class _EnvelopeMarker:
    """Stands in for an envelope array whose elements went to the record list."""


def _read_members(
    cursor: _Cursor, members: dict[str, Any], envelope: list[JsonRecord]
) -> None:
    text = cursor.text
    while True:
        cursor.skip_whitespace()
        if not text.startswith('"', cursor.position):
            found = text[cursor.position : cursor.position + 1] or "end of file"
            raise cursor.error(
                cursor.position,
                f"expected a member name, found {found!r}",
                "invalid_json",
            )
        key, _ = cursor.decode_value()
        cursor.expect(":")
        cursor.skip_whitespace()
        if key in ENVELOPE_KEYS and text.startswith("[", cursor.position):
            envelope.extend(_iter_array(cursor))
            members[key] = _EnvelopeMarker()
        else:
            members[key], _ = cursor.decode_value()
        cursor.skip_whitespace()
        following = text[cursor.position : cursor.position + 1]
        if following == ",":
            cursor.position += 1
            continue
        if following == "}":
            cursor.position += 1
            return
        found = following or "end of file"
        raise cursor.error(
            cursor.position, f"expected ',' or '}}', found {found!r}", "invalid_json"
        )
