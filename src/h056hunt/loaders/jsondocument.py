"""Walk a JSON document read in chunks, holding about one record at a time.

:class:`DocumentReader` reads the containers that
:func:`h056hunt.loaders.jsonstream.iter_json_records` reads, with the same records,
line and record numbers, errors and :class:`OversizedRecord` values, but from a
:class:`~h056hunt.loaders.jsonwindow.TextWindow` instead of the whole text. A record
that fits the limit is decoded with :mod:`json` once the window contains all of it. A
longer one is passed over by :class:`~h056hunt.loaders.jsonextent.ExtentScan`, which
keeps no text, so memory is bounded by about twice the limit plus one chunk.

Two results differ from the whole-text walker, both on malformed envelopes. Envelope
records are yielded as they are read, so ``{"value": [...], "value": 1}`` yields the
array's records and then the object; the whole-text walker drops the records. And a
strict read stops at the first fault in file order, which may be a syntax error
before an invalid byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from h056hunt.errors import InputError
from h056hunt.loaders.fields import JSON_DECODER
from h056hunt.loaders.jsonextent import CONTAINER, ExtentScan, value_kind
from h056hunt.loaders.jsonstream import (
    ENVELOPE_KEYS,
    JsonRecord,
    OversizedRecord,
    number_fault,
)
from h056hunt.loaders.jsonwindow import TextWindow

_WHITESPACE_RUN = re.compile(r"[ \t\r\n]*")
_DECODER = JSON_DECODER
_HINT = (
    "the export is cut off or corrupt: re-export it, or rerun with --lenient to keep "
    "the complete records"
)


class _OversizedObject(Exception):
    """A top-level object outside its envelope arrays is longer than the limit."""


class _EnvelopeMarker:
    """Stands in for an envelope array whose elements were yielded as records."""


class DocumentReader:
    """Read the records of a JSON document from text chunks.

    Args:
        open_chunks: returns a fresh iterator over the file's decoded text chunks
            (see :class:`TextWindow`).
        path: the file as shown to the user.
        max_record_chars: records longer than this come back as
            :class:`OversizedRecord` values without being decoded.
    """

    def __init__(
        self,
        open_chunks: Callable[[], Iterator[str]],
        path: str,
        *,
        max_record_chars: int,
    ) -> None:
        self.window = TextWindow(open_chunks)
        self.path = path
        self.limit = max_record_chars
        self.position = 0
        self.records = 0
        self._fragment_start = 0
        self.window.watch_first_line(0)

    def iter_records(self) -> Iterator[JsonRecord]:
        """Yield every record from the current position, as iter_json_records does.

        Raises:
            InputError: the text is not valid JSON at some point, with the line where
                the broken top-level value starts in ``fragment_line``.
        """
        self._skip_whitespace()
        while (opening := self._character()) != "":
            self._fragment_start = self.position
            fragment_line = self.window.line_at(self.position)
            may_resume = self.window.first_line_may_end_with("}")
            self.window.pin = self.position if may_resume else None
            try:
                if opening == "[":
                    yield from self._iter_array()
                elif opening == "{":
                    yield from self._iter_object()
                else:
                    raise self._error(
                        self.position,
                        f"expected a JSON object or array, found {opening!r}",
                    )
            except InputError as error:
                error.fragment_line = fragment_line
                raise
            self._skip_whitespace()

    def resume_after(self, error: InputError) -> bool:
        """Move to the line after the broken top-level value; False if not allowed.

        As in the whole-text loader, reading resumes only when the first line read
        since the last resume ends in ``}`` (one record per line), because in a
        pretty-printed or compact array a fault leaves no safe place to start again.
        The numbering of records starts again at 1.
        """
        if error.fragment_line is None:
            return False
        if not self.window.first_line_ends_with("}"):
            return False
        start = self._fragment_start
        window = self.window
        if start < window.base:
            window.reopen_at(start)
        position = start
        while (newline := window.text.find("\n", position - window.base)) == -1:
            position = window.end
            if not window.refill(position):
                return False
        resume = window.base + newline + 1
        if window.character(resume) == "":
            return False
        self.position = resume
        self.records = 0
        window.pin = None
        window.watch_first_line(resume)
        return True

    # Reading characters and values.

    def _character(self) -> str:
        return self.window.character(self.position)

    def _skip_whitespace(self) -> None:
        window = self.window
        while True:
            run = _WHITESPACE_RUN.match(window.text, self.position - window.base)
            assert run is not None
            self.position = window.base + run.end()
            if self.position < window.end or not window.refill(self.position):
                return

    def _error(
        self, position: int, message: str, reason: str = "invalid_json"
    ) -> InputError:
        return InputError(
            self.path,
            message,
            reason=reason,
            line=self.window.line_at(position),
            column=self.window.column_at(position),
            complete_records=self.records,
            hint=_HINT,
        )

    def _expect(self, character: str) -> None:
        self._skip_whitespace()
        found = self._character()
        if found == character:
            self.position += 1
            return
        raise self._error(
            self.position, f"expected {character!r}, found {found or 'end of file'!r}"
        )

    def _read_value(self) -> tuple[bool, Any]:
        """Decode the value at the position; (False, None) when it is oversized.

        A value is decoded straight from the window when the rest of the window is
        within the limit. Otherwise the extent scan decides first, and so it does when
        the decoder fails because the window ends inside the value.
        """
        start = self.position
        window = self.window
        first = self._character()
        may_decode = first in ('"', "[", "{") and window.end - start <= self.limit
        if may_decode:
            try:
                value, end = _DECODER.raw_decode(window.text, start - window.base)
            except (ValueError, RecursionError):
                pass
            else:
                self.position = window.base + end
                return True, value
        if not self._fits(start):
            return False, None
        return True, self._decode(start)

    def _decode(self, start: int) -> Any:
        window = self.window
        try:
            value, end = _DECODER.raw_decode(window.text, start - window.base)
        except json.JSONDecodeError as error:
            message = error.msg
            # The json module ends some messages with "at", meaning the position
            # that this error names separately.
            if message.endswith(" at"):
                message += " this position"
            raise self._error(window.base + error.pos, message) from error
        except RecursionError as error:
            raise self._error(
                start, "JSON nested too deeply to read", "nesting_too_deep"
            ) from error
        except ValueError as error:
            raise self._error(start, number_fault()) from error
        self.position = window.base + end
        return value

    def _fits(self, start: int) -> bool:
        """Tell whether the value at ``start`` is within the limit; if so, hold it.

        Applies the rule of the whole-text walker. A value fits when the text left is
        at most the limit, or when it ends within the next limit + 1 characters. A
        scalar must end before them, unless the text ends there.
        """
        window = self.window
        limit = self.limit
        scan = ExtentScan(value_kind(window.character(start)))
        relative = start - window.base
        found = scan.feed(window.text, relative)
        extent = None if found is None else found - relative
        scanned = len(window.text) - relative
        pieces: list[str] = []
        ends_with_text = False
        while extent is None and scanned < limit + 2:
            chunk = window.pull()
            if chunk is None:
                if scan.ends_at_end_of_text():
                    extent = scanned
                    ends_with_text = True
                break
            pieces.append(chunk)
            found = scan.feed(chunk)
            if found is not None:
                extent = scanned + found
            scanned += len(chunk)
        if pieces:
            window.extend(pieces, keep_from=start)
        if extent is None:
            return window.at_end and scanned <= limit
        if scan.kind == CONTAINER or not scan.ends_at_end_of_text():
            return extent <= limit + 1
        return extent <= limit or (ends_with_text and extent == limit + 1)

    def _skip(self, start: int, scan: ExtentScan) -> int:
        """Scan past the value at ``start`` keeping no text; return where it ends.

        Raises:
            InputError: the file ends inside the value.
        """
        window = self.window
        relative = start - window.base
        while True:
            found = scan.feed(window.text, relative)
            if found is not None:
                return window.base + found
            scanned_to = window.end
            if not window.refill(scanned_to):
                if scan.ends_at_end_of_text():
                    return window.end
                raise self._error(
                    window.end,
                    f"a record longer than {self.limit} characters is cut off at the "
                    "end of the file",
                )
            relative = scanned_to - window.base

    # Containers.

    def _iter_array(self) -> Iterator[JsonRecord]:
        self.position += 1
        self._skip_whitespace()
        if self._character() == "]":
            self.position += 1
            return
        while True:
            self._skip_whitespace()
            start = self.position
            line = self.window.line_at(start)
            fits, value = self._read_value()
            if not fits:
                scan = ExtentScan(value_kind(self._character()))
                self.position = self._skip(start, scan)
                value = OversizedRecord(self.position - start)
            self.records += 1
            yield JsonRecord(value, line, self.records)
            self._skip_whitespace()
            following = self._character()
            if following == ",":
                self.position += 1
                continue
            if following == "]":
                self.position += 1
                return
            raise self._error(
                self.position,
                "expected ',' or ']' after a record, found "
                f"{following or 'end of file'!r}",
            )

    def _iter_object(self) -> Iterator[JsonRecord]:
        """Read one top-level object; yield its envelope's records, or the object."""
        start = self.position
        line = self.window.line_at(start)
        members: dict[str, Any] = {}
        self.position += 1
        self._skip_whitespace()
        if self._character() == "}":
            self.position += 1
        else:
            try:
                yield from self._read_members(start, members)
            except _OversizedObject:
                self.position = self._skip(self.position, ExtentScan(CONTAINER, 1))
                self.records += 1
                yield JsonRecord(
                    OversizedRecord(self.position - start), line, self.records
                )
                return
        is_envelope = any(
            isinstance(members.get(key), _EnvelopeMarker) for key in ENVELOPE_KEYS
        )
        if is_envelope:
            return
        self.records += 1
        yield JsonRecord(members, line, self.records)

    def _read_members(
        self, start: int, members: dict[str, Any]
    ) -> Iterator[JsonRecord]:
        envelope_chars = 0
        while True:
            self._skip_whitespace()
            if self.position - start - envelope_chars > self.limit:
                raise _OversizedObject
            if self._character() != '"':
                if not self._fits(self.position):
                    raise _OversizedObject
                found = self._character() or "end of file"
                raise self._error(
                    self.position, f"expected a member name, found {found!r}"
                )
            fits, key = self._read_value()
            if not fits:
                raise _OversizedObject
            self._expect(":")
            self._skip_whitespace()
            if key in ENVELOPE_KEYS and self._character() == "[":
                array_start = self.position
                yield from self._iter_array()
                envelope_chars += self.position - array_start
                members[key] = _EnvelopeMarker()
            else:
                fits, members[key] = self._read_value()
                if not fits:
                    raise _OversizedObject
            self._skip_whitespace()
            following = self._character()
            if following == ",":
                self.position += 1
                continue
            if following == "}":
                self.position += 1
                return
            raise self._error(
                self.position,
                f"expected ',' or '}}', found {following or 'end of file'!r}",
            )
