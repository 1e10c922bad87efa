"""Carry log records and input errors from a Spark worker back to the driver.

A worker's log records would otherwise go to the worker's stderr, unformatted and
out of order. They travel as JSON instead: the logger name, level, message template
and arguments, with an :class:`h056hunt.errors.H056Error` argument kept as its class
and attributes. The driver logs them again through the same loggers, so the CLI
formats and escapes them exactly as the local engine's.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from h056hunt import errors

PACKAGE_LOGGER = "h056hunt"


class _ListHandler(logging.Handler):
    def __init__(self, messages: list[list[Any]]) -> None:
        super().__init__()
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple):
            template = str(record.msg)
            encoded = [_encode_argument(value) for value in record.args]
        else:
            # Mapping arguments are rare; they travel as the finished message.
            template, encoded = "%s", [record.getMessage()]
        self.messages.append([record.name, record.levelno, template, encoded])


@contextlib.contextmanager
def captured_logs(messages: list[list[Any]], level: int) -> Iterator[None]:
    """Collect the package's log records at ``level`` and above into ``messages``.

    Each entry is ``[logger name, level, message template, encoded arguments]``.
    """
    package = logging.getLogger(PACKAGE_LOGGER)
    saved = (package.level, package.propagate)
    handler = _ListHandler(messages)
    package.addHandler(handler)
    package.setLevel(level)
    package.propagate = False
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(saved[0])
        package.propagate = saved[1]


def _encode_argument(value: Any) -> Any:
    """Return a log argument as JSON; an error keeps its class and attributes."""
    if isinstance(value, errors.H056Error):
        return {"error": error_record(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def decode_argument(value: Any) -> Any:
    """Return a log argument from its JSON form."""
    if isinstance(value, dict) and "error" in value:
        return error_from_record(value["error"])
    return value


def error_record(error: errors.H056Error | None) -> dict[str, Any] | None:
    """Return an error as JSON: its class, arguments and attributes."""
    if error is None:
        return None
    return {
        "class": type(error).__name__,
        "args": [str(item) for item in error.args],
        "attributes": vars(error),
    }


def error_from_record(record: dict[str, Any]) -> errors.H056Error:
    """Rebuild an error that a worker caught, with its class and attributes."""
    cls = getattr(errors, record["class"], errors.H056Error)
    if not (isinstance(cls, type) and issubclass(cls, errors.H056Error)):
        cls = errors.H056Error
    error = cls.__new__(cls)
    Exception.__init__(error, *record["args"])
    error.__dict__.update(record["attributes"])
    return error


def replay(messages: list[list[Any]]) -> None:
    """Log the collected records again, in their order, on this process."""
    for name, level, message, arguments in messages:
        decoded = tuple(decode_argument(value) for value in arguments)
        logging.getLogger(name).log(level, message, *decoded)
