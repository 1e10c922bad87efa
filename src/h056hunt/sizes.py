"""Parse byte sizes written as ``512M``, ``2G``, ``20GiB`` or a plain byte count."""

from __future__ import annotations

import re

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
# Units are powers of 1024, whether written K, KB or KiB.
_UNIT_BYTES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
# The largest size accepted, 1 EiB. The readers add to a limit and pass it to
# file reads, which take a C ssize_t, so it stays far below 2**63.
MAX_SIZE = 1024**6


def parse_size(text: str) -> int:
    """Return the number of bytes a size names.

    Raises:
        ValueError: the text is not a number with an optional unit, is zero, or
            is larger than MAX_SIZE.
    """
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        raise ValueError(
            f"invalid size {text!r}: use a number of bytes or a number and a unit, "
            "such as 512M, 2G or 20GiB"
        )
    size = int(float(found.group(1)) * _UNIT_BYTES[found.group(2).lower()])
    if size <= 0:
        raise ValueError(f"invalid size {text!r}: it must be at least one byte")
    if size > MAX_SIZE:
        raise ValueError(
            f"invalid size {text!r}: it must be at most {format_size(MAX_SIZE)}"
        )
    return size


def format_size(size: int) -> str:
    """Return a size in the largest unit that divides it, such as ``64M``."""
    for unit in ("T", "G", "M", "K"):
        unit_bytes = _UNIT_BYTES[unit.lower()]
        if size % unit_bytes == 0:
            return f"{size // unit_bytes}{unit}"
    return str(size)
