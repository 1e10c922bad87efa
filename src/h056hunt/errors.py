"""The one error family of h056hunt.

Every error that reaches the user names what failed, where (file, line or record) and
what to do next. The CLI maps each class to an exit code; library code only raises.
"""

from __future__ import annotations

import string
from dataclasses import dataclass


class ProgramText(str):
    """Message text that h056hunt wrote, with any quoted value escaped by repr().

    As a log argument it gets only its unsafe characters escaped, like the
    message template, so the backslashes that repr() wrote are not doubled.
    """


@dataclass(frozen=True)
class InputValue:
    """A value taken from the input, such as a column name or a cell, that a
    message quotes.

    ``quoted`` false puts the value in bare, as for a field path that names the
    place of a fault rather than the value at fault. ``cut`` false shows the
    whole value, escaped, as for the path of the file at fault, which the user
    needs whole to find the file.
    """

    value: object
    quoted: bool = True
    cut: bool = True

    def quote_whole(self) -> str:
        """Return the value as the whole message text contains it."""
        if self.quoted:
            return repr(self.value)
        return str(self.value)


class MessageText(str):
    """Message text that keeps apart the input values it quotes.

    As a str it is the whole message, each value quoted whole with repr(), as the
    JSON outputs store it. A terminal shows it through
    :func:`h056hunt.render.text.shown_message`, which cuts each long value as
    other log values are cut. The cut mark is added after the rest of the text is
    escaped, so a value cannot imitate it. Build one with :func:`quote_input`, or
    join parts with ``MessageText(*parts)``, where each part is program text, an
    :class:`InputValue` or another MessageText. A str method or an f-string
    returns a plain str, which no longer keeps the values apart.
    """

    parts: tuple[str | InputValue, ...]

    def __new__(cls, *parts: str | InputValue) -> MessageText:
        flat: list[str | InputValue] = []
        for part in parts:
            if isinstance(part, MessageText):
                flat.extend(part.parts)
            else:
                flat.append(part)
        whole = "".join(
            part.quote_whole() if isinstance(part, InputValue) else part
            for part in flat
        )
        text = super().__new__(cls, whole)
        text.parts = tuple(flat)
        return text

    def __getnewargs__(self) -> tuple[str | InputValue, ...]:  # type: ignore[override]
        # So pickle and copy rebuild the parts rather than one part of text.
        return self.parts


def quote_input(template: str, **values: object) -> MessageText:
    """Return ``template`` with each ``{name}`` replaced by the value ``name``.

    Each value is taken from the input and quoted with repr(), unless it is a
    :class:`MessageText`, a :class:`ProgramText` or an :class:`InputValue`, which
    go in as they are. The template is the program's own text, so it must not be
    an f-string that contains input.

    >>> quote_input("column {name} is empty", name="Date (UTC)")
    "column 'Date (UTC)' is empty"
    """
    parts: list[str | InputValue] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        value = values[name]
        if isinstance(value, MessageText | ProgramText | InputValue):
            parts.append(value)
        else:
            parts.append(InputValue(value))
    return MessageText(*parts)


class H056Error(Exception):
    """Base class of every error that h056hunt raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        """Store ``message`` and ``hint``. Either can be a :class:`MessageText`
        that keeps apart the input values it quotes."""
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Exception's own reduce calls the class with its args, which fits no
        # subclass whose __init__ takes more than the message, such as InputError.
        # The attributes are restored as they are instead, so an error that
        # crosses a process boundary arrives whole.
        return (_restore_error, (type(self), self.args, self.__dict__.copy()))


def _restore_error(
    cls: type[H056Error], args: tuple[object, ...], state: dict[str, object]
) -> H056Error:
    """Rebuild an error that :meth:`H056Error.__reduce__` took apart."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InputError(H056Error):
    """An input file cannot be read as any supported export.

    Attributes:
        path: the file, as the user named it or as found in a folder.
        line: 1-based line of the fault, when known.
        column: 1-based column of the fault, when known.
        record: 1-based record number of the fault, when known.
        reason: a short machine-readable reason code such as ``invalid_json``.
        complete_records: records read completely before the fault.
        detail: the message without the location, for callers that restate it.
    """

    def __init__(
        self,
        path: str,
        message: str,
        *,
        reason: str,
        line: int | None = None,
        column: int | None = None,
        record: int | None = None,
        complete_records: int | None = None,
        hint: str = "",
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.record = record
        self.reason = reason
        self.complete_records = complete_records
        self.detail = message
        # Line where the top-level JSON value holding the fault starts, when known.
        self.fragment_line: int | None = None
        super().__init__(self._compose(message), hint=hint)

    def _compose(self, message: str) -> MessageText:
        where = [self.path]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.record is not None:
            where.append(f"record {self.record}")
        after = ""
        if self.complete_records is not None:
            count = self.complete_records
            noun = "record" if count == 1 else "records"
            after = f" ({count} complete {noun} before the error)"
        # The path is a value that the user gave or a folder held, so it is
        # escaped as such: a backslash in it is doubled where it would read as an
        # escape.
        return MessageText(
            InputValue(where[0], quoted=False, cut=False),
            "".join(f", {place}" for place in where[1:]) + ": ",
            message,
            after,
        )


class AmbiguousDateError(InputError):
    """Every date in a column reads both day-first and month-first."""


class ConfigError(H056Error):
    """A config file or option value is invalid."""


class UsageError(H056Error):
    """The command line asks for something impossible, such as no input files."""
