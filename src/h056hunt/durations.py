"""Parse durations written as ``90s``, ``10m``, ``2h``, ``1h30m`` or ``1d``."""

from __future__ import annotations

import re

import pandas as pd

from h056hunt.errors import ProgramText, quote_input

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Event times end at least 100 days inside the datetime64[ns] range (see timeparse),
# so the five detection windows, each at most this long, fit in that margin together.
MAX_DAYS = 20


def parse_duration(text: str) -> pd.Timedelta:
    """Return the duration a text names.

    Raises:
        ValueError: the text is not a sequence of number-and-unit parts, is zero, or
            is longer than MAX_DAYS days. Its message is a MessageText that keeps
            the text apart.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    position = 0
    seconds = 0.0
    for found in _PART.finditer(cleaned):
        if found.start() != position:
            break
        seconds += float(found.group(1)) * _UNIT_SECONDS[found.group(2).lower()]
        position = found.end()
    if position != len(cleaned):
        raise ValueError(
            quote_input(
                "invalid duration {text}: use a number and a unit, such as 90s, "
                "10m, 2h or 1h30m",
                text=text,
            )
        )
    if seconds > MAX_DAYS * _UNIT_SECONDS["d"]:
        raise ValueError(
            quote_input(
                "invalid duration {text}: it must be at most {limit}",
                text=text,
                limit=ProgramText(f"{MAX_DAYS}d"),
            )
        )
    # A Timedelta stores whole nanoseconds, so a shorter duration becomes zero.
    duration = pd.Timedelta(seconds=seconds)
    if duration <= pd.Timedelta(0):
        raise ValueError(
            quote_input(
                "invalid duration {text}: it must be longer than zero", text=text
            )
        )
    return duration
