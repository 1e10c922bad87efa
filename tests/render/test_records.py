"""Tests for the plain-dict finding records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h056hunt.render.records import format_times
from h056hunt.render.text import format_time

EDGE_TIMES = [
    pd.Timestamp("2026-03-02T14:51:31Z"),
    pd.Timestamp("2026-03-02T14:51:31.5Z"),
    pd.Timestamp("2026-03-02T14:51:31.000000001Z"),
    pd.Timestamp("2026-03-02T14:51:31.123456789Z"),
    pd.Timestamp("2026-03-02T14:51:31.120Z"),
    pd.Timestamp("2026-03-02T15:51:31", tz="Europe/Berlin"),
    pd.Timestamp("2026-03-02T14:51:31.25"),
    pd.Timestamp("1969-12-31T23:59:59.999999999Z"),
    pd.Timestamp(-1),
    pd.Timestamp(0),
    pd.Timestamp("1677-09-21T00:12:43.145224193"),
    pd.Timestamp("2262-04-11T23:47:16.854775807"),
    pd.Timestamp("2026-03-02T14:51:31.5Z").as_unit("ms"),
    np.datetime64("2026-03-02T14:51:31.75"),
]


@pytest.mark.parametrize("time", EDGE_TIMES, ids=str)
def test_format_times_matches_format_time(time: pd.Timestamp) -> None:
    assert format_times([time]) == [format_time(time)]


def test_format_times_missing_values_empty() -> None:
    assert format_times([None, pd.NaT]) == ["", ""]


def test_format_times_keeps_order() -> None:
    times = [EDGE_TIMES[3], None, EDGE_TIMES[0], EDGE_TIMES[7]]

    texts = format_times(times)

    assert texts == [
        "2026-03-02T14:51:31.123456789Z",
        "",
        "2026-03-02T14:51:31Z",
        "1969-12-31T23:59:59.999999999Z",
    ]


def test_format_times_empty_list() -> None:
    assert format_times([]) == []
