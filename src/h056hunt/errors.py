"""The one error family of h056hunt.

Every error that reaches the user names what failed, where (file, line or record) and
what to do next. The CLI maps each class to an exit code; library code only raises.
"""

from __future__ import annotations


class ProgramText(str):
    """Message text that h056hunt wrote, with any quoted value escaped by repr().

    As a log argument it gets only its unsafe characters escaped, like the
    message template, so the backslashes that repr() wrote are not doubled.
    """


class H056Error(Exception):
    """Base class of every error that h056hunt raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


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

    def _compose(self, message: str) -> str:
        where = [self.path]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.record is not None:
            where.append(f"record {self.record}")
        text = f"{', '.join(where)}: {message}"
        if self.complete_records is not None:
            count = self.complete_records
            noun = "record" if count == 1 else "records"
            text += f" ({count} complete {noun} before the error)"
        return text


class AmbiguousDateError(InputError):
    """Every date in a column reads both day-first and month-first."""


class ConfigError(H056Error):
    """A config file or option value is invalid."""


class UsageError(H056Error):
    """The command line asks for something impossible, such as no input files."""
