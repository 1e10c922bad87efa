"""Logging setup of the CLI, with messages made safe for a terminal.

Log messages name input files and quote field values, and both come from the input:
a file name or a display name can hold terminal escape sequences, bidirectional
overrides or line breaks that forge a message. :class:`SafeFormatter` shows those
characters as escapes in every argument, while the line breaks of the message
template itself (such as the ``hint:`` line of an error) stay.
"""

from __future__ import annotations

import logging
import numbers
import sys
from collections.abc import Iterable
from typing import Any

from h056hunt.errors import H056Error, MessageText, ProgramText
from h056hunt.render.text import escape_unsafe, plain, quote_cut, shown_message
from h056hunt.sources import name_paths

LOGGER_NAME = "h056hunt"


class SafeFormatter(logging.Formatter):
    """Format records with control and bidirectional characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        """Format a copy of ``record`` whose message and arguments are made safe."""
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg = _safe_message(record)
        safe.args = None
        return super().format(safe)

    def formatException(self, ei: Any) -> str:
        """Return the traceback with unsafe characters escaped on every line."""
        text = super().formatException(ei)
        return "\n".join(escape_unsafe(line) for line in text.split("\n"))


def _safe_message(record: logging.LogRecord) -> str:
    # The message text is the program's own, with any quoted value already
    # escaped by repr(), so only its unsafe characters are escaped. A value given
    # as an argument is field text, shown through plain().
    if not record.args:
        return escape_unsafe(str(record.msg))
    arguments: object
    if isinstance(record.args, dict):
        arguments = {key: _safe_argument(value) for key, value in record.args.items()}
    else:
        arguments = tuple(_safe_argument(value) for value in record.args)
    try:
        return str(record.msg) % arguments
    except (TypeError, ValueError):
        # A template that needs the original type: escape the finished message.
        return escape_unsafe(record.getMessage())


def quote_names(names: Iterable[str]) -> ProgramText:
    """Return ``names`` quoted with ``repr()``, listed as :func:`name_paths` lists
    them, so a name that contains ``, `` still reads as one."""
    return ProgramText(name_paths([repr(name) for name in names]))


def _safe_argument(value: object) -> object:
    if isinstance(value, ProgramText | MessageText):
        return shown_message(value)
    if isinstance(value, H056Error):
        # An error's message and hint are the program's text, and each input
        # value that they keep apart is cut, as a %r argument is.
        text = shown_message(value.message)
        if value.hint:
            text += "\n  hint: " + shown_message(value.hint)
        return text
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, Exception) and value.args:
        # An exception whose message keeps input values apart, such as the
        # reason that the fast path gives up on a file, shows them cut.
        message = value.args[0]
        if len(value.args) == 1 and isinstance(message, MessageText):
            return shown_message(message)
    return _SafeText(value)


class _SafeText:
    """An argument that formats safely with both ``%s`` and ``%r``."""

    def __init__(self, value: object) -> None:
        self._value = value

    def __str__(self) -> str:
        return plain(str(self._value))

    def __repr__(self) -> str:
        # repr() already escapes control characters and backslashes, and
        # escape_unsafe() catches the rest. A value quoted with %r is field
        # text, so a long one is cut as the run summary cuts it, with each mark
        # after the closing quote (see quote_cut). A value given with %s, such
        # as a path, is left whole.
        if isinstance(self._value, str):
            return quote_cut(self._value)
        return escape_unsafe(repr(self._value))


def configure_logging(verbose: int, quiet: bool, debug: bool) -> None:
    """Send h056hunt's log records to stderr at the level the flags ask for."""
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif debug or verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("h056: %(levelname)s: %(message)s"))
    root = logging.getLogger(LOGGER_NAME)
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
