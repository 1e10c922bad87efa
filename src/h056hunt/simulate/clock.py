"""Integer time in 100-nanosecond ticks and the timestamp strings Entra exports use.

Simulated events carry their time as ticks since the Unix epoch, so sorting and
arithmetic stay exact and cheap, and the seven fractional digits of audit timestamps
come out without rounding.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

TICKS_PER_SECOND = 10_000_000
TICKS_PER_MILLISECOND = 10_000
TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND
TICKS_PER_HOUR = 60 * TICKS_PER_MINUTE
TICKS_PER_DAY = 24 * TICKS_PER_HOUR
SECONDS_PER_DAY = 86_400

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ticks_from_datetime(moment: datetime) -> int:
    """Convert an aware datetime to ticks since the Unix epoch."""
    delta = moment - _EPOCH
    seconds = delta.days * SECONDS_PER_DAY + delta.seconds
    return seconds * TICKS_PER_SECOND + delta.microseconds * 10


@lru_cache(maxsize=64)
def _date_prefix(day_number: int) -> str:
    return (_EPOCH + timedelta(days=day_number)).strftime("%Y-%m-%dT")


def _clock_text(ticks: int) -> tuple[str, int]:
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    day_number, second_of_day = divmod(seconds, SECONDS_PER_DAY)
    hour, remainder = divmod(second_of_day, 3600)
    minute, second = divmod(remainder, 60)
    text = f"{_date_prefix(day_number)}{hour:02d}:{minute:02d}:{second:02d}"
    return text, fraction


def format_seconds(ticks: int) -> str:
    """Format as ``2026-03-02T10:00:00Z``, the sign-in ``createdDateTime`` form."""
    return _clock_text(ticks)[0] + "Z"


def format_ticks(ticks: int) -> str:
    """Format as ``2026-03-02T10:00:00.1234567Z``, the audit and diagnostic form."""
    text, fraction = _clock_text(ticks)
    return f"{text}.{fraction:07d}Z"


def format_ticks_offset(ticks: int) -> str:
    """Format as ``2026-03-02T10:00:00.1234567+00:00``, the diagnostic inner form."""
    text, fraction = _clock_text(ticks)
    return f"{text}.{fraction:07d}+00:00"


def hour_of_day(ticks: int) -> int:
    """Return the UTC hour of day, 0 to 23, of a tick time."""
    return (ticks // TICKS_PER_HOUR) % 24
