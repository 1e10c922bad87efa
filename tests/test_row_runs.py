"""Tests for selecting rows in runs of adjacent positions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arrow_buffers import assert_shares_buffers
from h056hunt.row_runs import MIN_RUN_LENGTH, ascending_runs, take_in_runs

POSITION_CASES = {
    "one run": list(range(200)),
    "one gap": [*range(0, 90), *range(91, 200)],
    "two gaps": [*range(0, 50), *range(60, 120), *range(130, 200)],
    "every other": list(range(0, 200, 2)),
    "later run first": [*range(100, 200), *range(0, 90)],
    "descending": list(range(199, -1, -1)),
    "repeated": [*range(0, 100), *range(99, 200)],
    "pair": [5, 4],
    "one": [7],
    "none": [],
}


def sample_frame(count: int = 200) -> pd.DataFrame:
    """Return a frame with the column types of the hunt's frames and labels
    that differ from the positions."""
    texts = [None if number % 13 == 0 else f"id-{number}" for number in range(count)]
    return pd.DataFrame(
        {
            "arrow_text": pd.array(texts, dtype="string[pyarrow]"),
            "text": pd.array(texts, dtype="str"),
            "number": pd.array(range(count), dtype="int64[pyarrow]"),
            "time": pd.date_range("2026-03-02", periods=count, freq="s", tz="UTC"),
        },
        index=pd.RangeIndex(1000, 1000 + count),
    )


@pytest.mark.parametrize("positions", POSITION_CASES.values(), ids=POSITION_CASES)
def test_frame_rows_match_take(positions: list[int]) -> None:
    frame = sample_frame()
    index = np.array(positions, dtype=np.int64)

    selected = take_in_runs(frame, index)

    expected = frame.iloc[index]
    assert list(selected.dtypes) == list(expected.dtypes)
    assert selected.index.equals(expected.index)
    assert selected.equals(expected)


@pytest.mark.parametrize("positions", POSITION_CASES.values(), ids=POSITION_CASES)
def test_series_rows_match_take(positions: list[int]) -> None:
    frame = sample_frame()
    index = np.array(positions, dtype=np.int64)
    for name in frame.columns:
        column = frame[name]

        selected = take_in_runs(column, index)

        expected = column.iloc[index]
        assert selected.dtype == expected.dtype, name
        assert selected.index.equals(expected.index), name
        assert selected.equals(expected), name


def test_runs_share_arrow_buffers() -> None:
    frame = sample_frame()
    index = np.array([*range(0, 90), *range(91, 200)], dtype=np.int64)

    selected = take_in_runs(frame["arrow_text"], index)

    assert_shares_buffers(selected, frame["arrow_text"], chunks=2)


def test_ascending_runs_bounds() -> None:
    index = np.array([*range(3, 43), *range(50, 90)], dtype=np.int64)

    assert ascending_runs(index) == [(3, 43), (50, 90)]


def test_runs_in_any_order() -> None:
    index = np.array([*range(100, 140), *range(0, 40), *range(60, 100)])

    assert ascending_runs(index) == [(100, 140), (0, 40), (60, 100)]


def test_short_runs_not_joined() -> None:
    # Runs one row shorter on average than the minimum are taken instead.
    run = MIN_RUN_LENGTH - 1
    index = np.array([*range(0, run), *range(run + 1, 2 * run + 1)], dtype=np.int64)

    assert ascending_runs(index) is None
