"""Tests for h056hunt.timeparse with timestamp forms seen in Entra ID exports."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h056hunt.errors import AmbiguousDateError, InputError
from h056hunt.timeparse import parse_time_column, parse_timestamp

PATH = "exports/SignInLogs.csv"
COLUMN = "TimeGenerated"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def parse_column(
    values: list[str | None], dayfirst: bool | None = None
) -> tuple[pd.Series, list[int]]:
    return parse_time_column(values, path=PATH, column=COLUMN, dayfirst=dayfirst)


@pytest.fixture
def set_time_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Yield a function that sets the process time zone for the rest of the test."""

    def set_zone(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield set_zone
    # The C library keeps the zone it read last, so restore TZ before rereading it.
    monkeypatch.undo()
    time.tzset()


ISO_CASES = [
    ("2024-11-12T08:49:37Z", "2024-11-12T08:49:37Z"),
    ("2024-11-12T08:49:37.5Z", "2024-11-12T08:49:37.5Z"),
    ("2024-11-12T08:49:37.587Z", "2024-11-12T08:49:37.587Z"),
    ("2018-01-09T21:20:02.7215374Z", "2018-01-09T21:20:02.7215374Z"),
    ("2024-11-12T08:49:37.123456789Z", "2024-11-12T08:49:37.123456789Z"),
    ("2024-11-12T08:49:37+00:00", "2024-11-12T08:49:37Z"),
    ("2024-11-12T08:49:37.587+00:00", "2024-11-12T08:49:37.587Z"),
    ("2019-10-18T04:45:48.0729893-05:00", "2019-10-18T09:45:48.0729893Z"),
    ("2024-11-12T08:49:37+05:30", "2024-11-12T03:19:37Z"),
    ("2024-11-12T08:49:37", "2024-11-12T08:49:37Z"),
    ("2024-11-12 08:49:37.587", "2024-11-12T08:49:37.587Z"),
    ("2024-11-12 08:49:37.587Z", "2024-11-12T08:49:37.587Z"),
    ("  2024-11-12T08:49:37Z  ", "2024-11-12T08:49:37Z"),
    ("2024-11-12T08:49:37,587Z", "2024-11-12T08:49:37.587Z"),
    ("2024-11-12t08:49:37z", "2024-11-12T08:49:37Z"),
]


@pytest.mark.parametrize(("value", "expected"), ISO_CASES)
def test_parse_timestamp_iso_forms(value: str, expected: str) -> None:
    assert parse_timestamp(value) == utc(expected)


@pytest.mark.parametrize(("value", "expected"), ISO_CASES)
def test_parse_time_column_iso_forms(value: str, expected: str) -> None:
    series, _ = parse_column([value])
    assert series.iloc[0] == utc(expected)


def test_iso_column_mixed_forms() -> None:
    values = [value for value, _ in ISO_CASES]
    series, failures = parse_column(values)
    assert failures == []
    assert series.tolist() == [utc(expected) for _, expected in ISO_CASES]


def test_iso_seven_digits_keep_nanoseconds() -> None:
    result = parse_timestamp("2018-01-09T21:20:02.7215374Z")
    assert result is not None
    assert result.value == 1_515_532_802_721_537_400


def test_iso_nine_digits_keep_nanoseconds() -> None:
    series, _ = parse_column(["2024-11-12T08:49:37.123456789Z"])
    assert series.iloc[0].nanosecond == 789
    assert series.iloc[0].microsecond == 123_456


def test_offset_keeps_nanoseconds() -> None:
    result = parse_timestamp("2019-10-18T04:45:48.0729893-05:00")
    assert result is not None
    assert result.value == utc("2019-10-18T09:45:48.0729893Z").value


def test_column_dtype_is_utc_nanoseconds() -> None:
    series, _ = parse_column(["2024-11-12T08:49:37Z", "5/25/2023, 4:32:49.469 AM"])
    assert series.dtype == "datetime64[ns, UTC]"


def test_empty_column() -> None:
    series, failures = parse_column([])
    assert len(series) == 0
    assert series.dtype == "datetime64[ns, UTC]"
    assert failures == []


def test_series_index_kept() -> None:
    values = pd.Series(["2024-11-12T08:49:37Z", None], index=[10, 11])
    series, _ = parse_time_column(values, path=PATH, column=COLUMN)
    assert series.index.tolist() == [10, 11]


SLASH_CASES = [
    # Each value sits in a column that fixes the order by evidence, so no override.
    (["3/24/2022 2:42:35 PM", "11/03/2025 9:41:07 PM"], "2025-11-03T21:41:07Z"),
    (["3/24/2022 2:42:35 PM"], "2022-03-24T14:42:35Z"),
    (["5/25/2023, 4:32:49.469 AM"], "2023-05-25T04:32:49.469Z"),
    (["9/20/2023 4:05:03 AM"], "2023-09-20T04:05:03Z"),
    (["1/13/2007 0:00", "1/9/2007 10:41:00 AM +01:00"], "2007-01-09T09:41:00Z"),
    (["1/13/2007 0:00", "01/09/2007 09:41:00"], "2007-01-09T09:41:00Z"),
    (["13/11/2024, 00:10:00.000"], "2024-11-13T00:10:00Z"),
    (
        ["13/11/2024, 00:10:00.000", "12/11/2024, 08:49:37.587"],
        "2024-11-12T08:49:37.587Z",
    ),
    (["2024/11/12 8:49:37.587"], "2024-11-12T08:49:37.587Z"),
    (["12/13/2024 12:05:00 AM"], "2024-12-13T00:05:00Z"),
    (["12/13/2024 12:05:00 PM"], "2024-12-13T12:05:00Z"),
    (["12/13/2024 9:05 pm"], "2024-12-13T21:05:00Z"),
    (["12/13/2024 09:05:00 -0130"], "2024-12-13T10:35:00Z"),
    (["12/13/2024"], "2024-12-13T00:00:00Z"),
    (["5/5/2024 10:00:00.1234567"], "2024-05-05T10:00:00.1234567Z"),
]


@pytest.mark.parametrize(("values", "expected"), SLASH_CASES)
def test_slash_forms(values: list[str | None], expected: str) -> None:
    series, _ = parse_column(values)
    assert series.iloc[-1] == utc(expected)


def test_slash_column_has_no_failures() -> None:
    values = ["3/24/2022 2:42:35 PM", "11/03/2025 9:41:07 PM", "9/20/2023 4:05:03 AM"]
    _, failures = parse_column(values)
    assert failures == []


def test_day_first_evidence_later_in_column() -> None:
    series, _ = parse_column(["12/11/2024, 08:49:37.587", "13/11/2024, 00:10:00.000"])
    assert series.iloc[0] == utc("2024-11-12T08:49:37.587Z")


def test_year_first_alone_is_not_ambiguous() -> None:
    series, failures = parse_column(["2024/01/02 03:04:05"])
    assert series.iloc[0] == utc("2024-01-02T03:04:05Z")
    assert failures == []


def test_equal_fields_are_not_ambiguous() -> None:
    series, _ = parse_column(["12/12/2023 10:00:00 PM", "5/5/2024 8:00"])
    assert series.iloc[0] == utc("2023-12-12T22:00:00Z")
    assert series.iloc[1] == utc("2024-05-05T08:00:00Z")


def test_ambiguous_column_raises() -> None:
    with pytest.raises(AmbiguousDateError) as caught:
        parse_column(["11/03/2025 9:41:07 PM", "1/9/2007 10:41:00 AM"])
    assert caught.value.reason == "ambiguous_date_order"


def test_ambiguous_message_names_file_and_column() -> None:
    with pytest.raises(AmbiguousDateError) as caught:
        parse_column(["01/09/2007 09:41:00"])
    message = str(caught.value)
    assert PATH in message
    assert COLUMN in message
    assert "--dayfirst" in message
    assert "--monthfirst" in message


def test_ambiguous_error_is_input_error() -> None:
    with pytest.raises(InputError) as caught:
        parse_column(["01/09/2007 09:41:00"])
    assert caught.value.path == PATH


def test_meridiem_is_no_evidence_of_month_first() -> None:
    with pytest.raises(AmbiguousDateError):
        parse_column(["11/03/2025 9:41:07 PM", "2024-11-12T08:49:37Z"])


def test_year_first_is_no_evidence_of_order() -> None:
    with pytest.raises(AmbiguousDateError):
        parse_column(["2024/11/13 08:00", "11/03/2025 9:41:07 PM"])


def test_monthfirst_override() -> None:
    series, _ = parse_column(["11/03/2025 9:41:07 PM"], dayfirst=False)
    assert series.iloc[0] == utc("2025-11-03T21:41:07Z")


def test_dayfirst_override() -> None:
    series, _ = parse_column(["11/03/2025 9:41:07 PM"], dayfirst=True)
    assert series.iloc[0] == utc("2025-03-11T21:41:07Z")


def test_override_contradicted_by_evidence_raises() -> None:
    """A date that reads only day-first shows that --monthfirst would skip it and
    swap day and month in the others, so the column is rejected."""
    with pytest.raises(InputError) as caught:
        parse_column(
            ["13/11/2024, 00:10:00.000", "12/11/2024, 08:49:37.587"], dayfirst=False
        )
    assert caught.value.reason == "contradicted_date_order"
    assert "'13/11/2024, 00:10:00.000'" in caught.value.message
    assert "--monthfirst reads as invalid" in caught.value.message
    assert "rerun with --dayfirst" in caught.value.hint


def test_dayfirst_with_month_first_date_raises() -> None:
    with pytest.raises(InputError) as caught:
        parse_column(["13/11/2024 10:00", "11/13/2024 10:00"], dayfirst=True)
    assert caught.value.reason == "contradicted_date_order"
    assert "'11/13/2024 10:00'" in caught.value.message
    assert "rerun with --monthfirst" in caught.value.hint


def test_override_agreeing_with_evidence() -> None:
    series, failures = parse_column(
        ["13/11/2024, 00:10:00.000", "12/11/2024, 08:49:37.587"], dayfirst=True
    )
    assert failures == []
    assert series.iloc[1] == utc("2024-11-12T08:49:37.587Z")


def test_conflicting_orders_raise() -> None:
    with pytest.raises(InputError) as caught:
        parse_column(["13/11/2024 10:00", "01/01/2024 10:00", "11/13/2024 10:00"])
    assert caught.value.reason == "conflicting_date_order"


def test_conflict_is_not_ambiguity() -> None:
    with pytest.raises(InputError) as caught:
        parse_column(["13/11/2024 10:00", "11/13/2024 10:00"])
    assert not isinstance(caught.value, AmbiguousDateError)


def test_conflict_message_names_file_and_column() -> None:
    with pytest.raises(InputError) as caught:
        parse_column(["13/11/2024 10:00", "11/13/2024 10:00"])
    message = str(caught.value)
    assert PATH in message
    assert COLUMN in message
    assert "13/11/2024 10:00" in message
    assert "11/13/2024 10:00" in message


MISSING_VALUES: list[str | None] = [None, "", "   ", "<null>", "null", "NULL", "N/A"]


def test_missing_values_are_nat() -> None:
    series, _ = parse_column(MISSING_VALUES)
    assert series.isna().all()


def test_missing_values_are_not_failures() -> None:
    _, failures = parse_column(MISSING_VALUES)
    assert failures == []


def test_missing_values_need_no_date_order() -> None:
    series, _ = parse_column([*MISSING_VALUES, "2024/11/12 8:49:37.587"])
    assert series.iloc[-1] == utc("2024-11-12T08:49:37.587Z")


# None of these is day-first evidence, so together they raise no date order conflict.
INVALID_VALUES = [
    "not a time",
    "now",
    "today",
    "2024-02-30T10:00:00Z",
    "2024-11-12T24:00:00Z",
    "2024-11-12T08:49:37+25:00",
    "9999-12-31T23:59:59Z",
    "2262-04-11T23:47:16.854775808Z",
    "2262-01-01T00:00:00Z",
    "1677-12-31T23:59:59.999999999Z",
    "2/30/2024 10:00",
    "13/13/2024 10:00",
    "12/13/2024 13:05:00 PM",
    "12/13/2024 0:05:00 AM",
    "12/13/2024 10:61",
    "12/13/24 10:00",
    "2024-11-12 08:49:37 PM",
]


def test_invalid_values_are_failures() -> None:
    values = ["2024-11-12T08:49:37Z", *INVALID_VALUES, None]
    _, failures = parse_column(values)
    assert failures == list(range(1, len(INVALID_VALUES) + 1))


def test_invalid_values_are_nat() -> None:
    series, _ = parse_column(["2024-11-12T08:49:37Z", *INVALID_VALUES])
    assert series.iloc[1:].isna().all()


def test_invalid_day_first_date_is_failure() -> None:
    _, failures = parse_column(["31/02/2024 10:00", "13/11/2024, 00:10:00.000"])
    assert failures == [0]


def test_valid_values_survive_failures() -> None:
    series, _ = parse_column(["2024-11-12T08:49:37.1234567Z", *INVALID_VALUES])
    assert series.iloc[0] == utc("2024-11-12T08:49:37.1234567Z")


def test_iso_fallback_keeps_other_values() -> None:
    values = ["2024-11-12T08:49:37.1234567Z", "2024-11-12T08:49:38,5Z"]
    series, failures = parse_column(values)
    assert failures == []
    assert series.iloc[0].value == utc("2024-11-12T08:49:37.1234567Z").value
    assert series.iloc[1] == utc("2024-11-12T08:49:38.5Z")


def test_out_of_range_iso_keeps_other_values() -> None:
    series, failures = parse_column(["9999-01-01T00:00:00Z", "2024-11-12T08:49:37Z"])
    assert failures == [0]
    assert series.iloc[1] == utc("2024-11-12T08:49:37Z")


def test_non_string_cells_are_failures() -> None:
    cells: list[Any] = [1731401377, "2024-11-12T08:49:37Z"]
    _, failures = parse_time_column(cells, path=PATH, column=COLUMN)
    assert failures == [0]


def test_parse_timestamp_missing_is_none() -> None:
    assert parse_timestamp("") is None


def test_parse_timestamp_invalid_is_none() -> None:
    assert parse_timestamp("31/02/2024 10:00") is None


def test_parse_timestamp_ambiguous_is_none() -> None:
    assert parse_timestamp("11/03/2025 9:41:07 PM") is None


def test_parse_timestamp_monthfirst() -> None:
    result = parse_timestamp("11/03/2025 9:41:07 PM", dayfirst=False)
    assert result == utc("2025-11-03T21:41:07Z")


def test_parse_timestamp_day_first_evidence() -> None:
    assert parse_timestamp("13/11/2024, 00:10:00.000") == utc("2024-11-13T00:10:00Z")


ZONE_CHECK_VALUES: list[str | None] = [
    "2024-11-12T08:49:37.587",
    "2024-11-12 08:49:37",
    "2019-10-18T04:45:48.0729893-05:00",
    "3/24/2022 2:42:35 PM",
    "11/03/2025 9:41:07 PM",
    "2024/11/12 8:49:37.587",
    "7/1/2024 12:30:00 AM",
]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_machine_time_zone_is_ignored(
    zone: str, set_time_zone: Callable[[str], None]
) -> None:
    set_time_zone("UTC")
    expected, _ = parse_column(ZONE_CHECK_VALUES)
    set_time_zone(zone)
    result, _ = parse_column(ZONE_CHECK_VALUES)
    assert result.tolist() == expected.tolist()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_naive_value_is_utc_in_any_zone(
    zone: str, set_time_zone: Callable[[str], None]
) -> None:
    set_time_zone(zone)
    assert parse_timestamp("3/24/2022 2:42:35 PM") == utc("2022-03-24T14:42:35Z")
    assert parse_timestamp("2024-11-12 08:49:37") == utc("2024-11-12T08:49:37Z")


def test_million_iso_values_parse_fast() -> None:
    start = np.datetime64("2024-01-01T00:00:00", "ns")
    steps = np.arange(1_000_000, dtype=np.int64) * 1_234_567_891
    stamps = np.datetime_as_string(start + steps.astype("timedelta64[ns]"), unit="ns")
    values = [f"{stamp[:-2]}Z" for stamp in stamps]

    began = time.perf_counter()
    series, failures = parse_column(values)
    elapsed_seconds = time.perf_counter() - began

    assert failures == []
    assert series.iloc[-1] == utc(values[-1])
    assert elapsed_seconds < 2.0


# Every instant that an event time can have, in whole nanoseconds: the years 1678
# to 2261, inside the datetime64[ns] range.
EARLIEST_NANOSECONDS = pd.Timestamp("1678-01-01").value
LATEST_NANOSECONDS = pd.Timestamp("2262-01-01").value - 1


def format_iso(nanoseconds: int, digits: int, zone: str, separator: str) -> str:
    """Format with numpy, which always writes 9 digits, then cut the fraction."""
    full = np.datetime_as_string(np.datetime64(nanoseconds, "ns"), unit="ns")
    text = full[:10] + separator + full[11:19]
    if digits:
        text += "." + full[20 : 20 + digits]
    return text + zone


@given(
    nanoseconds=st.integers(EARLIEST_NANOSECONDS, LATEST_NANOSECONDS),
    digits=st.integers(0, 9),
    zone=st.sampled_from(["Z", "+00:00", "-00:00", ""]),
    separator=st.sampled_from(["T", " "]),
)
def test_iso_round_trip(
    nanoseconds: int, digits: int, zone: str, separator: str
) -> None:
    truncated = nanoseconds - nanoseconds % 10 ** (9 - digits)
    if truncated < EARLIEST_NANOSECONDS:
        truncated += 10 ** (9 - digits)
    text = format_iso(truncated, digits, zone, separator)

    series, failures = parse_column([text])
    assert failures == []
    assert series.iloc[0].value == truncated
    single = parse_timestamp(text)
    assert single is not None
    assert single.value == truncated
