"""Tests for parsing durations such as 90s, 10m, 2h and 1h30m."""

from __future__ import annotations

import pandas as pd
import pytest

from h056hunt.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", pd.Timedelta(seconds=90)),
        ("10m", pd.Timedelta(minutes=10)),
        ("2h", pd.Timedelta(hours=2)),
        ("1h30m", pd.Timedelta(minutes=90)),
        ("1d", pd.Timedelta(days=1)),
        ("1.5h", pd.Timedelta(minutes=90)),
        ("500ms", pd.Timedelta(milliseconds=500)),
        ("1H 30M", pd.Timedelta(minutes=90)),
        (" 2h ", pd.Timedelta(hours=2)),
    ],
)
def test_valid_durations(text: str, expected: pd.Timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["10", "m", "10x", "-5m", "1h-30m", "h1", "1h 30"])
def test_invalid_durations(text: str) -> None:
    with pytest.raises(ValueError, match="use a number and a unit"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text",
    # The last two are shorter than 1 ns, the resolution of a Timedelta.
    ["0s", "0m0s", "0.0h", "0.0000000001s", "0.0000000000000000000000001h"],
)
def test_zero_duration_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration(text)


def test_empty_duration_rejected() -> None:
    with pytest.raises(ValueError, match="empty duration"):
        parse_duration("   ")


@pytest.mark.parametrize("text", ["21d", "20d1s", "100000d", "99999999999d"])
def test_long_duration_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="at most 20d"):
        parse_duration(text)


def test_twenty_days_accepted() -> None:
    assert parse_duration("20d") == pd.Timedelta(days=20)
