"""Tests for the bulk parse of ISO time literals in the pre-filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from h056hunt.loaders import prefilter
from h056hunt.timeparse import parse_time_column


def _cells(values: list[str]) -> np.ndarray:
    cells = np.zeros((len(values), prefilter.TIME_WINDOW), dtype=np.uint8)
    for row, value in enumerate(values):
        literal = (value + '","next').encode()[: prefilter.TIME_WINDOW]
        cells[row, : len(literal)] = np.frombuffer(literal, dtype=np.uint8)
    return cells


def _literal(
    year: int, month: int, day: int, clock: tuple[int, int, int], fraction: str
) -> str:
    hour, minute, second = clock
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    return f"{text}{'.' + fraction if fraction else ''}Z"


literals = st.builds(
    _literal,
    st.integers(1600, 2300),
    st.integers(0, 13),
    st.integers(0, 32),
    st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)),
    st.text("0123456789", max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(literals, min_size=1, max_size=40))
def test_bulk_parse_matches_timeparse(values: list[str]) -> None:
    nanoseconds, parsed = prefilter.iso_nanoseconds(_cells(values))
    expected, _ = parse_time_column(values, path="test", column="time")

    for row in np.flatnonzero(parsed):
        assert pd.Timestamp(int(nanoseconds[row]), tz="UTC") == expected[row]


@settings(max_examples=200, deadline=None)
@given(st.lists(literals, min_size=1, max_size=40))
def test_bulk_parse_matches_digit_arithmetic(values: list[str]) -> None:
    cells = _cells(values)

    nanoseconds, parsed = prefilter.iso_nanoseconds(cells)
    slow_nanoseconds, slow_parsed = prefilter._iso_nanoseconds_by_digits(cells)

    assert parsed.tolist() == slow_parsed.tolist()
    assert nanoseconds[parsed].tolist() == slow_nanoseconds[parsed].tolist()


def test_impossible_date_in_batch_keeps_other_rows() -> None:
    values = ["2026-03-02T10:00:00Z", "2023-02-29T00:00:00Z", "2024-02-29T23:59:59.5Z"]

    nanoseconds, parsed = prefilter.iso_nanoseconds(_cells(values))

    assert parsed.tolist() == [True, False, True]
    assert pd.Timestamp(int(nanoseconds[0]), tz="UTC") == pd.Timestamp(
        "2026-03-02T10:00:00Z"
    )
    assert pd.Timestamp(int(nanoseconds[2]), tz="UTC") == pd.Timestamp(
        "2024-02-29T23:59:59.5Z"
    )


def test_year_bounds_of_nanosecond_times() -> None:
    values = ["1677-12-31T23:59:59Z", "1678-01-01T00:00:00Z", "2261-12-31T23:59:59Z"]
    values.append("2262-01-01T00:00:00Z")

    _, parsed = prefilter.iso_nanoseconds(_cells(values))

    assert parsed.tolist() == [False, True, True, False]


def test_impossible_date_in_large_batch() -> None:
    """numpy 2.4 ends the process with a segmentation fault when it meets an
    impossible date past a few hundred rows, so the bulk parse must not hand it
    one."""
    values = ["2026-03-02T10:00:00Z"] * 3000 + ["2023-02-29T00:00:00Z"]

    nanoseconds, parsed = prefilter.iso_nanoseconds(_cells(values))

    assert parsed.tolist() == [True] * 3000 + [False]
    assert pd.Timestamp(int(nanoseconds[0]), tz="UTC") == pd.Timestamp(
        "2026-03-02T10:00:00Z"
    )
