"""Tests for the sliding-window burst search over one user's denials."""

from __future__ import annotations

import numpy as np

from h056hunt.detect.bursts import Burst, all_bursts, first_burst_from, window_counts

MINUTE_NS = 60 * 10**9


def minutes(*values: float) -> np.ndarray:
    return np.array([round(value * MINUTE_NS) for value in values], dtype=np.int64)


def test_window_counts_inclusive_edge() -> None:
    times = minutes(0, 10, 20)

    assert window_counts(times, 10 * MINUTE_NS).tolist() == [2, 2, 1]


def test_window_counts_one_nanosecond_over() -> None:
    times = np.array([0, 10 * MINUTE_NS + 1], dtype=np.int64)

    assert window_counts(times, 10 * MINUTE_NS).tolist() == [1, 1]


def test_window_counts_equal_times() -> None:
    times = minutes(5, 5, 5)

    assert window_counts(times, MINUTE_NS).tolist() == [3, 2, 1]


def test_denials_exactly_window_apart() -> None:
    times = minutes(0, 5, 10)

    assert all_bursts(times, 10 * MINUTE_NS, 3) == [Burst(start=0, stop=3, peak=3)]


def test_denials_one_nanosecond_too_far() -> None:
    times = minutes(0, 5, 10)
    times[2] += 1

    assert all_bursts(times, 10 * MINUTE_NS, 3) == []


def test_equal_timestamps_form_burst() -> None:
    times = minutes(3, 3, 3)

    assert all_bursts(times, 10 * MINUTE_NS, 3) == [Burst(start=0, stop=3, peak=3)]


def test_burst_across_clock_boundary() -> None:
    # Minutes 8, 9 and 11 fit a 5 minute window, but no 10-minute clock bucket
    # holds all three.
    times = minutes(8, 9, 11)

    bursts = all_bursts(times, 5 * MINUTE_NS, 3)

    assert bursts == [Burst(start=0, stop=3, peak=3)]


def test_burst_extends_while_gaps_fit() -> None:
    times = minutes(0, 1, 2, 11, 20, 40)

    bursts = all_bursts(times, 10 * MINUTE_NS, 3)

    assert bursts == [Burst(start=0, stop=5, peak=3)]


def test_two_separate_bursts() -> None:
    times = minutes(0, 1, 2, 30, 31, 32)

    bursts = all_bursts(times, 10 * MINUTE_NS, 3)

    assert bursts == [Burst(0, 3, 3), Burst(3, 6, 3)]


def test_peak_counts_densest_window() -> None:
    times = minutes(0, 9, 10, 10.5, 11, 12)

    bursts = all_bursts(times, 2 * MINUTE_NS, 3)

    assert bursts == [Burst(start=1, stop=6, peak=4)]


def test_too_few_denials() -> None:
    assert all_bursts(minutes(0, 1), 10 * MINUTE_NS, 3) == []


def test_no_denials() -> None:
    assert all_bursts(np.array([], dtype=np.int64), 10 * MINUTE_NS, 3) == []


def test_first_burst_respects_range() -> None:
    times = minutes(0, 1, 2, 3)
    counts = window_counts(times, 10 * MINUTE_NS)

    burst = first_burst_from(times, counts, 10 * MINUTE_NS, 3, 1, 2)

    assert burst == Burst(start=1, stop=4, peak=3)


def test_first_burst_empty_range() -> None:
    times = minutes(0, 1, 2)
    counts = window_counts(times, 10 * MINUTE_NS)

    assert first_burst_from(times, counts, 10 * MINUTE_NS, 3, 2, 2) is None
