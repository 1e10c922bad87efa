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

With ``max_record_chars``, a record longer than that is not decoded: its extent is found
by a scan that skips strings and counts brackets, and it comes back as an
:class:`OversizedRecord` for the caller to count or reject.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from h056hunt.errors import InputError
from h056hunt.loaders.fields import JSON_DECODER

ENVELOPE_KEYS = ("value", "records")
_WHITESPACE = " \t\r\n"
_DECODER = JSON_DECODER


def number_fault() -> str:
    """Describe the one ValueError that raw_decode raises outside JSONDecodeError.

    int() refuses a number of more digits than sys.get_int_max_str_digits() allows
    (4,300 unless the interpreter is set otherwise). Python's own message
    advises calling a Python function, which a user of this tool cannot call.
    """
    return (
        "invalid number: an integer of more than "
        f"{sys.get_int_max_str_digits():,} digits, longer than any field of an "
        "Entra export holds"
    )


# A complete string, a lone quote (a string that does not end in the scanned range),
# or a bracket. An escape may be followed by a line break: the decoder rejects it,
# but the string still ends at its closing quote.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"|"|[\[\]{}]')
_SCALAR = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"|[^,\]}\s]*')


@dataclass(frozen=True)
class JsonRecord:
    """One JSON value found in a file, with where it starts."""

    value: Any
    line: int
    record: int


@dataclass(frozen=True)
class OversizedRecord:
    """Stands in for a record longer than the limit, which was not decoded.

    Attributes:
        chars: the length of the record's JSON text in characters.
    """

    chars: int


class _Cursor:
    """Position in the text plus an incremental line counter."""

    def __init__(self, text: str, path: str, max_record_chars: int | None) -> None:
        self.text = text
        self.path = path
        self.max_record_chars = max_record_chars
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
            message = error.msg
            # The json module ends some messages with "at", meaning the position
            # that this error names separately.
            if message.endswith(" at"):
                message += " this position"
            raise self.error(error.pos, message, "invalid_json") from error
        except RecursionError as error:
            raise self.error(
                start, "JSON nested too deeply to read", "nesting_too_deep"
            ) from error
        except ValueError as error:
            raise self.error(start, number_fault(), "invalid_json") from error
        self.position = end
        return value, start

    def oversized_extent(self) -> int | None:
        """Return the length of the value at the cursor when it exceeds the limit.

        Returns None when there is no limit or the value fits in it.

        Raises:
            InputError: the value never ends, so the file is cut off inside it.
        """
        limit = self.max_record_chars
        start = self.position
        if limit is None or len(self.text) - start <= limit:
            return None
        if _value_end(self.text, start, start + limit + 1) is not None:
            return None
        end = _value_end(self.text, start, len(self.text))
        if end is None:
            raise self.error(
                len(self.text),
                f"a record longer than {limit} characters is cut off at the end of "
                "the file",
                "invalid_json",
            )
        return end - start

    def expect(self, character: str) -> None:
        self.skip_whitespace()
        if self.text.startswith(character, self.position):
            self.position += 1
            return
        found = self.text[self.position : self.position + 1] or "end of file"
        raise self.error(
            self.position, f"expected {character!r}, found {found!r}", "invalid_json"
        )


def iter_json_records(
    text: str, path: str, *, max_record_chars: int | None = None
) -> Iterator[JsonRecord]:
    """Yield every record of a JSON export, unwrapping envelopes and arrays.

    Args:
        text: the decoded file.
        path: the file as shown to the user.
        max_record_chars: records longer than this come back as
            :class:`OversizedRecord` values without being decoded; None for no limit.

    Raises:
        InputError: the text is not valid JSON at some point; every complete record
            before that point has been yielded already.
    """
    cursor = _Cursor(text, path, max_record_chars)
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
        start = cursor.position
        extent = cursor.oversized_extent()
        if extent is None:
            value, _ = cursor.decode_value()
        else:
            value = OversizedRecord(extent)
            cursor.position += extent
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
            _read_members(cursor, start, members, envelope)
        except InputError:
            # Records of a cut-off envelope are complete: hand them over first.
            yield from envelope
            raise
        except _OversizedObject:
            yield from envelope
            yield _skip_oversized_object(cursor, start)
            return
    is_envelope = any(
        key in members and isinstance(members[key], _EnvelopeMarker)
        for key in ENVELOPE_KEYS
    )
    if is_envelope:
        yield from envelope
        return
    cursor.records += 1
    yield JsonRecord(members, cursor.line_at(start), cursor.records)


def _skip_oversized_object(cursor: _Cursor, start: int) -> JsonRecord:
    end = _value_end(cursor.text, start, len(cursor.text))
    if end is None:
        raise cursor.error(
            len(cursor.text),
            f"a record longer than {cursor.max_record_chars} characters is cut off "
            "at the end of the file",
            "invalid_json",
        )
    cursor.position = end
    cursor.records += 1
    return JsonRecord(
        OversizedRecord(end - start), cursor.line_at(start), cursor.records
    )


class _EnvelopeMarker:
    """Stands in for an envelope array whose elements went to the record list."""


class _OversizedObject(Exception):
    """A top-level object outside its envelope arrays is longer than the limit."""


def _read_members(
    cursor: _Cursor,
    start: int,
    members: dict[str, Any],
    envelope: list[JsonRecord],
) -> None:
    text = cursor.text
    limit = cursor.max_record_chars
    envelope_chars = 0
    while True:
        cursor.skip_whitespace()
        if limit is not None and cursor.position - start - envelope_chars > limit:
            raise _OversizedObject
        if cursor.oversized_extent() is not None:
            raise _OversizedObject
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
            array_start = cursor.position
            envelope.extend(_iter_array(cursor))
            envelope_chars += cursor.position - array_start
            members[key] = _EnvelopeMarker()
        elif cursor.oversized_extent() is not None:
            raise _OversizedObject
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


def _value_end(text: str, start: int, stop: int) -> int | None:
    """Return where the JSON value at ``start`` ends, or None if not before ``stop``.

    Only strings and brackets are looked at, so the value is not decoded and its
    syntax is not checked. The decoder checks the values that fit the limit.
    """
    if text[start] == '"':
        string = _STRUCTURE.match(text, start, stop)
        if string is None or string.group() == '"':
            return None
        return string.end()
    if text[start] not in "[{":
        scalar = _SCALAR.match(text, start, stop)
        end = scalar.end() if scalar is not None else start
        return None if end >= stop and stop < len(text) else end
    depth = 0
    for match in _STRUCTURE.finditer(text, start, stop):
        token = match.group()
        if token == '"':
            return None
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return match.end()
    return None
