"""Check the fields of a convert manifest and decode them to their Python types.

A manifest is a JSON file that anyone can edit, so each field is checked before it
is used. Every check raises :class:`ManifestFieldError` with the field's path in
the document, such as ``files[0].time_min.audit``. The caller adds the manifest's
location and turns it into an input error.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd

from h056hunt.errors import ProgramText, quote_input
from h056hunt.loaders.fields import replace_surrogates

LOG_NAMES = ("audit", "signin")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class ManifestFieldError(ValueError):
    """A manifest field is missing, of the wrong type, or out of range.

    Attributes:
        field: the field's path in the document, such as ``tables.signin.rows``.
        problem: what is wrong with it, with the values it quotes kept apart
            when it is a :class:`~h056hunt.errors.MessageText`.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def mapping(value: Any, field: str) -> dict[str, Any]:
    """Return ``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        raise ManifestFieldError(
            field, f"expected an object, found {_type_name(value)}"
        )
    return value


def array(value: Any, field: str) -> list[Any]:
    """Return ``value`` when it is a JSON array."""
    if not isinstance(value, list):
        raise ManifestFieldError(field, f"expected a list, found {_type_name(value)}")
    return value


def text(value: Any, field: str) -> str:
    """Return ``value`` when it is a JSON string, with lone surrogates replaced."""
    if not isinstance(value, str):
        raise ManifestFieldError(field, f"expected text, found {_type_name(value)}")
    return replace_surrogates(value)


def optional_text(value: Any, field: str) -> str | None:
    """Return ``value`` when it is a JSON string or null."""
    return None if value is None else text(value, field)


def flag(value: Any, field: str) -> bool:
    """Return ``value`` when it is true or false."""
    if not isinstance(value, bool):
        raise ManifestFieldError(
            field, quote_input("expected true or false, found {value}", value=value)
        )
    return value


def count(value: Any, field: str) -> int:
    """Return ``value`` when it is a whole number from 0 to the int64 maximum."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestFieldError(
            field,
            quote_input(
                "expected a whole number, found {kind} {value}",
                kind=ProgramText(_type_name(value)),
                value=value,
            ),
        )
    if not 0 <= value <= _INT64_MAX:
        raise ManifestFieldError(field, f"count {value} is out of range")
    return value


def log_name(value: Any, field: str) -> str:
    """Return ``value`` when it is ``audit`` or ``signin``."""
    name = text(value, field)
    if name not in LOG_NAMES:
        raise ManifestFieldError(
            field, quote_input("expected audit or signin, found {name}", name=name)
        )
    return name


def log_names(value: Any, field: str) -> tuple[str, ...]:
    """Return a list of ``audit`` and ``signin`` names as a tuple."""
    items = array(value, field)
    return tuple(
        log_name(item, f"{field}[{index}]") for index, item in enumerate(items)
    )


def counter(value: Any, field: str) -> Counter[str]:
    """Return an object of counts as a Counter."""
    entries = mapping(value, field)
    return Counter(
        {key: count(item, f"{field}.{key}") for key, item in entries.items()}
    )


def _tagged(value: Any, field: str, tag: str) -> Any:
    entry = mapping(value, field)
    if tag not in entry:
        raise ManifestFieldError(field, f"expected an object with the key {tag}")
    return entry[tag]


def timestamps(value: Any, field: str) -> dict[str, pd.Timestamp]:
    """Return an object of ``{"$timestamp": ISO text}`` as UTC Timestamps by key."""
    result = {}
    for key, item in mapping(value, field).items():
        where = f"{field}.{key}"
        iso_text = text(_tagged(item, where, "$timestamp"), f"{where}.$timestamp")
        try:
            stamp = pd.Timestamp(iso_text)
        except (ValueError, OverflowError) as error:
            raise ManifestFieldError(
                f"{where}.$timestamp",
                quote_input("invalid timestamp {text}", text=iso_text),
            ) from error
        if pd.isna(stamp) or stamp.tzinfo is None:
            raise ManifestFieldError(
                f"{where}.$timestamp",
                quote_input(
                    "expected a timestamp with a UTC offset, found {text}",
                    text=iso_text,
                ),
            )
        result[key] = stamp.tz_convert("UTC")
    return result


def column_sets(value: Any, field: str) -> dict[str, set[str]]:
    """Return an object of ``{"$set": [names]}`` as sets by key."""
    result = {}
    for key, item in mapping(value, field).items():
        where = f"{field}.{key}.$set"
        names = array(_tagged(item, f"{field}.{key}", "$set"), where)
        result[key] = {
            text(name, f"{where}[{index}]") for index, name in enumerate(names)
        }
    return result


def time_ranges(value: Any, field: str) -> dict[str, np.ndarray]:
    """Return an object of ``{"$array": [[start, end], ...], "dtype": "int64"}``.

    The arrays are int64 nanosecond ranges of shape (n, 2), as
    :mod:`h056hunt.timeranges` builds them.
    """
    result = {}
    for key, item in mapping(value, field).items():
        where = f"{field}.{key}"
        dtype = mapping(item, where).get("dtype")
        if dtype != "int64":
            raise ManifestFieldError(
                f"{where}.dtype",
                quote_input("expected int64, found {dtype}", dtype=dtype),
            )
        pairs = array(_tagged(item, where, "$array"), f"{where}.$array")
        for index, pair in enumerate(pairs):
            _check_range(pair, f"{where}.$array[{index}]")
        result[key] = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return result


def _check_range(pair: Any, field: str) -> None:
    bounds = array(pair, field)
    if len(bounds) != 2:
        raise ManifestFieldError(
            field, quote_input("expected [start, end], found {bounds}", bounds=bounds)
        )
    for bound in bounds:
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise ManifestFieldError(
                field, quote_input("expected whole numbers, found {bound}", bound=bound)
            )
        if not _INT64_MIN <= bound <= _INT64_MAX:
            raise ManifestFieldError(field, f"{bound} is outside the int64 range")


def string_pair(value: Any, field: str) -> tuple[str, str]:
    """Return a ``[text, text]`` list as a tuple."""
    items = array(value, field)
    if len(items) != 2:
        raise ManifestFieldError(
            field, quote_input("expected [path, reason], found {items}", items=items)
        )
    return text(items[0], f"{field}[0]"), text(items[1], f"{field}[1]")


def string_list(value: Any, field: str) -> list[str]:
    """Return a list of strings."""
    items = array(value, field)
    return [text(item, f"{field}[{index}]") for index, item in enumerate(items)]


def relative_partition(value: Any, field: str) -> str:
    """Return a partition path that stays inside the convert folder.

    Rejects absolute paths, Windows drive paths, URIs and ``..`` components. The
    reader also checks the resolved path, which catches symlinks that lead out.
    """
    relative = text(value, field)
    posix = PurePosixPath(relative)
    windows = PureWindowsPath(relative)
    leaves_folder = (
        not relative
        or posix.is_absolute()
        or windows.is_absolute()
        or bool(windows.drive)
        or "://" in relative
        or ".." in posix.parts
        or ".." in windows.parts
    )
    if leaves_folder:
        raise ManifestFieldError(
            field,
            quote_input(
                "partition path {path} is not a relative path inside the convert "
                "folder",
                path=relative,
            ),
        )
    return relative
