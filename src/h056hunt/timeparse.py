"""Parse the time columns of Entra ID exports into UTC nanosecond timestamps.

Exports write time in two families of forms:

* ISO 8601, from the Graph API, JSON downloads and KQL output: 0 to 9 fractional
  digits, a ``T`` or a space between date and time, and ``Z``, a numeric offset or no
  zone. A value without a zone is UTC.
* Slash dates, from portal and Log Analytics CSV downloads: ``5/25/2023, 4:32:49.469
  AM``, ``13/11/2024, 00:10:00.000`` or ``2024/11/12 8:49:37.587``. Their day and
  month order follows the locale of the user who downloaded the file.

A slash date whose first two fields differ and are both 12 or less reads two ways, so
the order is decided once per column from the values that read only one way. Nothing
here reads the machine's time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from h056hunt.errors import AmbiguousDateError, InputError, ProgramText, quote_input
from h056hunt.loaders.fields import replace_surrogates

logger = logging.getLogger(__name__)

# Lower-cased cell values that mean "no timestamp" rather than an invalid one. The last
# three are what Python and pandas write for a missing value.
MISSING_MARKERS = ("", "<null>", "null", "n/a", "none", "nan", "nat")

_INT64_MAX = 2**63 - 1
_NAT = -(2**63)
_NANOSECONDS_PER_SECOND = 1_000_000_000
_SECONDS_PER_DAY = 86_400
# datetime64[ns] stores nanoseconds since 1970 in an int64 whose minimum means NaT,
# so a value is in range when seconds * 10**9 + fraction lies within +-_INT64_MAX.
_MAX_SECONDS, _MAX_FRACTION = divmod(_INT64_MAX, _NANOSECONDS_PER_SECOND)
_MIN_SECONDS, _MIN_FRACTION = divmod(-_INT64_MAX, _NANOSECONDS_PER_SECOND)
_EARLIEST = pd.Timestamp.min.tz_localize("UTC")
_LATEST = pd.Timestamp.max.tz_localize("UTC")
# Event times are read in the years 1678 to 2261, as the fast path's pre-filter reads
# them. The datetime64[ns] range reaches about 100 days past each end, so adding or
# subtracting a detection window shorter than that cannot overflow. The end is
# exclusive.
FIRST_EVENT_TIME = datetime(1678, 1, 1, tzinfo=UTC)
END_EVENT_TIME = datetime(2262, 1, 1, tzinfo=UTC)
_FIRST_EVENT_NANOSECONDS = pd.Timestamp(FIRST_EVENT_TIME).value
_END_EVENT_NANOSECONDS = pd.Timestamp(END_EVENT_TIME).value

# The patterns below are RE2 syntax for pyarrow.compute. Fractional digits past the
# ninth are below nanosecond resolution and are dropped, as pandas drops them.
_CLOCK = (
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9})\d*)?)?"
)
_ZONE = r"(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)"
_SLASH_TIME = (
    rf"(?:,?\s+{_CLOCK}(?:\s*(?P<meridiem>[AaPp]\.?[Mm]\.?))?)?(?:\s*{_ZONE})?$"
)
# Only values that start like this go to pandas, which reads "now" and "today" as the
# current time.
_ISO_START = r"^\d{4}-"
_ISO_PATTERN = (
    rf"^(?P<year>\d{{4}})-(?P<month>\d{{2}})-(?P<day>\d{{2}})"
    rf"(?:[Tt ]{_CLOCK})?\s*{_ZONE}?$"
)
_YEAR_FIRST_PATTERN = (
    r"^(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})" + _SLASH_TIME
)
_DAY_MONTH_PATTERN = (
    r"^(?P<first_field>\d{1,2})/(?P<second_field>\d{1,2})/(?P<year>\d{4})" + _SLASH_TIME
)


@dataclass(frozen=True)
class _PreparedColumn:
    """Trimmed values of a column, sorted by the parser each one needs."""

    text: pa.Array
    present: np.ndarray
    iso_positions: np.ndarray
    slash_positions: np.ndarray
    year_first: pa.StructArray
    day_month: pa.StructArray


@dataclass(frozen=True)
class _DateOrderEvidence:
    """One example of each kind of day-month slash date in a column, if any.

    A date such as ``5/5/2024`` counts as none of the three, because both orders read
    it the same way.
    """

    day_first_example: str | None
    month_first_example: str | None
    ambiguous_example: str | None


def parse_time_column(
    values: Sequence[str | None],
    *,
    path: str,
    column: str,
    dayfirst: bool | None = None,
) -> tuple[pd.Series, list[int]]:
    """Parse every value of one time column to a UTC timestamp.

    Missing values, which are None, NaN and the strings in ``MISSING_MARKERS`` in any
    case, become NaT and are not failures. A column of ISO 8601 strings takes one
    vectorised pandas call, and other values go through vectorised patterns.

    Args:
        values: the raw cells of the column, in file order.
        path: the file the column comes from, for error messages.
        column: the column or field name, for error messages.
        dayfirst: True reads ``d/m/yyyy``, False reads ``m/d/yyyy``, and None infers
            the order from values whose first or second field is above 12.

    Returns:
        A ``datetime64[ns, UTC]`` series with one element per value, indexed like
        ``values`` when it is a pandas Series, and the 0-based positions of values that
        were present but could not be parsed, which are NaT in the series.

    Raises:
        InputError: with reason ``conflicting_date_order`` when ``dayfirst`` is None
            and the column has both day-first and month-first slash dates, and with
            reason ``contradicted_date_order`` when the column has a slash date that
            reads only in the other order than ``dayfirst`` gives.
        AmbiguousDateError: when ``dayfirst`` is None and the column has day-month
            slash dates that read differently in the two orders but none that reads
            only one way.
    """
    prepared = _prepare(values)
    evidence = _collect_evidence(prepared)
    if dayfirst is None:
        dayfirst = _decide_dayfirst(evidence, path, column)
    else:
        _check_date_order(evidence, dayfirst, path, column)

    nanoseconds = _convert(prepared, dayfirst=dayfirst)
    index = values.index if isinstance(values, pd.Series) else None
    series = pd.Series(
        pd.DatetimeIndex(nanoseconds.view("datetime64[ns]"), tz="UTC"), index=index
    )
    failures = np.flatnonzero(prepared.present & (nanoseconds == _NAT)).tolist()
    if failures:
        logger.debug(
            "%s: %d values of column %s are not valid timestamps",
            path,
            len(failures),
            column,
        )
    return series, failures


def parse_timestamp(value: str, *, dayfirst: bool | None = None) -> pd.Timestamp | None:
    """Parse one value in any form that ``parse_time_column`` reads.

    Without ``dayfirst``, a slash date whose first two fields differ and are both 12
    or less reads two ways and returns None.

    Returns:
        The UTC timestamp, or None when the value is missing, invalid or ambiguous.
    """
    prepared = _prepare([value])
    if dayfirst is None:
        evidence = _collect_evidence(prepared)
        if evidence.ambiguous_example is not None:
            return None
        dayfirst = evidence.day_first_example is not None

    nanoseconds = int(_convert(prepared, dayfirst=dayfirst)[0])
    if nanoseconds == _NAT:
        return None
    return pd.Timestamp(nanoseconds, unit="ns", tz="UTC")


def _prepare(values: Sequence[Any]) -> _PreparedColumn:
    text = pc.utf8_trim_whitespace(_to_arrow_strings(values))
    marker = pc.is_in(pc.utf8_lower(text), value_set=pa.array(MISSING_MARKERS))
    present = _to_bool(pc.invert(pc.or_(pc.is_null(text), marker)))

    iso = present & _to_bool(pc.match_substring_regex(text, _ISO_START))
    slash_positions = np.flatnonzero(present & ~iso)
    slash_text = text.take(pa.array(slash_positions, type=pa.int64()))
    return _PreparedColumn(
        text=text,
        present=present,
        iso_positions=np.flatnonzero(iso),
        slash_positions=slash_positions,
        year_first=pc.extract_regex(slash_text, _YEAR_FIRST_PATTERN),
        day_month=pc.extract_regex(slash_text, _DAY_MONTH_PATTERN),
    )


def _to_arrow_strings(values: Sequence[Any]) -> pa.Array:
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        # Cells of other types, such as numbers from a JSON export, are parsed as
        # their text, so they end up as failures rather than vanishing. Text with a
        # lone surrogate, which pyarrow cannot encode, gets U+FFFD in its place.
        missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
        strings = [
            None if is_missing else replace_surrogates(str(value))
            for value, is_missing in zip(values, missing, strict=True)
        ]
        return pa.array(strings, type=pa.string())


def _to_bool(mask: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _collect_evidence(prepared: _PreparedColumn) -> _DateOrderEvidence:
    fields = prepared.day_month
    matched = _to_bool(fields.is_valid())
    first = _to_integers(fields.field("first_field"))
    second = _to_integers(fields.field("second_field"))
    first_is_month = (first >= 1) & (first <= 12)
    second_is_month = (second >= 1) & (second <= 12)
    day_first = matched & second_is_month & (first > 12) & (first <= 31)
    month_first = matched & first_is_month & (second > 12) & (second <= 31)
    ambiguous = matched & first_is_month & second_is_month & (first != second)
    return _DateOrderEvidence(
        day_first_example=_first_example(prepared, day_first),
        month_first_example=_first_example(prepared, month_first),
        ambiguous_example=_first_example(prepared, ambiguous),
    )


def _first_example(prepared: _PreparedColumn, mask: np.ndarray) -> str | None:
    hits = np.flatnonzero(mask)
    if hits.size == 0:
        return None
    example: str = prepared.text[int(prepared.slash_positions[hits[0]])].as_py()
    return example


def _decide_dayfirst(evidence: _DateOrderEvidence, path: str, column: str) -> bool:
    day_first = evidence.day_first_example
    month_first = evidence.month_first_example
    if day_first is not None and month_first is not None:
        raise InputError(
            path,
            quote_input(
                "column {column} has both day-first dates such as {day_first} and "
                "month-first dates such as {month_first}",
                column=column,
                day_first=day_first,
                month_first=month_first,
            ),
            reason="conflicting_date_order",
            hint="export the file again with a single date format, or split it by "
            "date order and load each part with --dayfirst or --monthfirst",
        )
    if day_first is not None:
        return True
    if month_first is not None:
        return False
    if evidence.ambiguous_example is not None:
        raise AmbiguousDateError(
            path,
            quote_input(
                "no date in column {column} shows whether it is day-first or "
                "month-first, and dates such as {example} read both ways. Rerun "
                "with --dayfirst or --monthfirst to choose the order.",
                column=column,
                example=evidence.ambiguous_example,
            ),
            reason="ambiguous_date_order",
        )
    # No day-month date in the column reads differently in the two orders, so the
    # choice changes nothing.
    return False


def _check_date_order(
    evidence: _DateOrderEvidence, dayfirst: bool, path: str, column: str
) -> None:
    """Raise InputError when a date of the column reads only in the other order.

    Read the given way, such a date is invalid and skipped, and the dates that read
    both ways get the wrong day and month without any error.
    """
    if dayfirst:
        example, order, option = (
            evidence.month_first_example,
            "month-first",
            "--monthfirst",
        )
        flag = "--dayfirst"
    else:
        example, order, option = evidence.day_first_example, "day-first", "--dayfirst"
        flag = "--monthfirst"
    if example is None:
        return
    raise InputError(
        path,
        quote_input(
            "column {column} has {order} dates such as {example}, which {flag} "
            "reads as invalid, and it would read the other dates with day and "
            "month swapped",
            column=column,
            example=example,
            order=ProgramText(order),
            flag=ProgramText(flag),
        ),
        reason="contradicted_date_order",
        hint=f"rerun with {option}, or without {flag} to have the order read from "
        "the dates",
    )


def _convert(prepared: _PreparedColumn, *, dayfirst: bool) -> np.ndarray:
    nanoseconds = np.full(len(prepared.text), _NAT, dtype=np.int64)
    if prepared.iso_positions.size:
        iso_text = prepared.text.take(pa.array(prepared.iso_positions))
        nanoseconds[prepared.iso_positions] = _parse_iso(iso_text)

    if prepared.slash_positions.size:
        year_first = _assemble(prepared.year_first, month="month", day="day")
        if dayfirst:
            day_month = _assemble(
                prepared.day_month, month="second_field", day="first_field"
            )
        else:
            day_month = _assemble(
                prepared.day_month, month="first_field", day="second_field"
            )
        nanoseconds[prepared.slash_positions] = np.where(
            year_first != _NAT, year_first, day_month
        )
    outside = (nanoseconds < _FIRST_EVENT_NANOSECONDS) | (
        nanoseconds >= _END_EVENT_NANOSECONDS
    )
    nanoseconds[outside] = _NAT
    return nanoseconds


def _parse_iso(text: pa.Array) -> np.ndarray:
    strings = text.to_numpy(zero_copy_only=False)
    try:
        parsed = pd.to_datetime(strings, format="ISO8601", utc=True)
        nanoseconds = np.array(parsed.as_unit("ns").asi8)
    except ValueError:
        # One value that pandas rejects, or one outside the datetime64[ns] range,
        # fails the whole call, so parse again and keep what pandas could read.
        parsed = pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
        in_range = (parsed >= _EARLIEST) & (parsed <= _LATEST)
        nanoseconds = np.array(parsed.where(in_range).as_unit("ns").asi8)

    # Forms pandas rejects, such as a comma before the fraction or a lower-case "t",
    # go through the pattern, which also marks out-of-range values as NaT.
    unparsed = np.flatnonzero(nanoseconds == _NAT)
    if unparsed.size:
        fields = pc.extract_regex(text.take(pa.array(unparsed)), _ISO_PATTERN)
        nanoseconds[unparsed] = _assemble(fields, month="month", day="day")
    return nanoseconds


def _assemble(fields: pa.StructArray, *, month: str, day: str) -> np.ndarray:
    """Combine the named date and time fields into nanoseconds since 1970 UTC.

    Returns NaT for rows the pattern did not match and for rows that name no real
    instant, such as 30 February or hour 13 with PM, and for instants outside the
    datetime64[ns] range (1677-09-21 to 2262-04-11 UTC).
    """
    nanoseconds = np.full(len(fields), _NAT, dtype=np.int64)
    matched = _to_bool(fields.is_valid())
    if not matched.any():
        return nanoseconds

    fields = fields.filter(pa.array(matched))
    year = _to_integers(fields.field("year"))
    month_number = _to_integers(fields.field(month))
    day_number = _to_integers(fields.field(day))
    hour = _to_integers(fields.field("hour"))
    minute = _to_integers(fields.field("minute"))
    second = _to_integers(fields.field("second"))
    fraction = _to_integers(pc.utf8_rpad(fields.field("fraction"), 9, "0"))

    twelve_hour = after_noon = np.zeros(len(fields), dtype=bool)
    if fields.type.get_field_index("meridiem") >= 0:
        letter = pc.utf8_upper(pc.utf8_slice_codeunits(fields.field("meridiem"), 0, 1))
        twelve_hour = _to_bool(pc.not_equal(letter, ""))
        after_noon = _to_bool(pc.equal(letter, "P"))
    valid = np.where(twelve_hour, (hour >= 1) & (hour <= 12), hour <= 23)
    hour = np.where(twelve_hour, hour % 12 + 12 * after_noon, hour)

    valid &= (month_number >= 1) & (month_number <= 12) & (minute <= 59)
    valid &= second <= 59
    months_since_epoch = (year - 1970) * 12 + np.clip(month_number, 1, 12) - 1
    month_start = _days_since_epoch(months_since_epoch)
    month_length = _days_since_epoch(months_since_epoch + 1) - month_start
    valid &= (day_number >= 1) & (day_number <= month_length)

    offset_valid, offset = _offset_seconds(fields.field("zone"))
    valid &= offset_valid
    days = month_start + day_number - 1
    seconds = days * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset
    valid &= (seconds > _MIN_SECONDS) | (
        (seconds == _MIN_SECONDS) & (fraction >= _MIN_FRACTION)
    )
    valid &= (seconds < _MAX_SECONDS) | (
        (seconds == _MAX_SECONDS) & (fraction <= _MAX_FRACTION)
    )
    seconds = np.where(valid, seconds, 0)
    nanoseconds[matched] = np.where(
        valid, seconds * _NANOSECONDS_PER_SECOND + fraction, _NAT
    )
    return nanoseconds


def _offset_seconds(zone: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return which zone designators are valid and their offsets east of UTC.

    The patterns accept only ``Z``, ``UTC``, ``GMT``, an empty zone, or a sign followed
    by ``hh``, ``hhmm`` or ``hh:mm``.
    """
    negative = _to_bool(pc.starts_with(zone, "-"))
    signed = negative | _to_bool(pc.starts_with(zone, "+"))
    compact = pc.if_else(pa.array(signed), pc.replace_substring(zone, ":", ""), "+")
    hours = _to_integers(pc.utf8_slice_codeunits(compact, 1, 3))
    minutes = _to_integers(pc.utf8_slice_codeunits(compact, 3, 5))
    valid = (hours <= 23) & (minutes <= 59)
    offset = hours * 3600 + minutes * 60
    return valid, np.where(negative, -offset, offset)


def _days_since_epoch(months_since_epoch: np.ndarray) -> np.ndarray:
    month_starts = months_since_epoch.astype("datetime64[M]").astype("datetime64[D]")
    return month_starts.astype(np.int64)


def _to_integers(digits: pa.Array) -> np.ndarray:
    """Convert strings of ASCII digits to int64, with empty strings and nulls as 0."""
    filled = pc.utf8_lpad(pc.fill_null(digits, ""), 1, "0")
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))
