"""Sliding-window burst search over one user's denied prompts.

A burst is at least ``min_denials`` denied prompts whose first and last lie at most
``burst_window`` apart: a true sliding window anchored on each prompt, not clock-aligned
buckets, so a burst across a 10-minute boundary is found like any other. Once found, a
burst goes on while the next denial follows the previous one within ``burst_window``.

Times are int64 nanoseconds since the epoch, sorted ascending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Nanoseconds = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Burst:
    """Denials ``times[start:stop]`` of one user form a burst."""

    start: int
    stop: int
    peak: int


def window_counts(times: Nanoseconds, window_ns: int) -> npt.NDArray[np.int64]:
    """Return, for each denial, how many denials fall in ``[time, time + window]``."""
    ends = np.searchsorted(times, times + window_ns, side="right")
    return (ends - np.arange(len(times))).astype(np.int64)


def first_burst_from(
    times: Nanoseconds,
    counts: npt.NDArray[np.int64],
    window_ns: int,
    min_denials: int,
    begin: int,
    end: int,
) -> Burst | None:
    """Return the first burst whose first denial has an index in ``[begin, end)``."""
    if begin >= end:
        return None
    qualifying = np.flatnonzero(counts[begin:end] >= min_denials)
    if len(qualifying) == 0:
        return None
    start = begin + int(qualifying[0])
    stop = _extend(times, start, window_ns)
    return Burst(start, stop, int(counts[start:stop].max()))


def all_bursts(times: Nanoseconds, window_ns: int, min_denials: int) -> list[Burst]:
    """Return every burst of a user's denials, without overlaps, in time order."""
    counts = window_counts(times, window_ns)
    bursts: list[Burst] = []
    begin = 0
    while True:
        burst = first_burst_from(
            times, counts, window_ns, min_denials, begin, len(times)
        )
        if burst is None:
            return bursts
        bursts.append(burst)
        begin = burst.stop


def _extend(times: Nanoseconds, start: int, window_ns: int) -> int:
    gaps = np.diff(times[start:])
    breaks = np.flatnonzero(gaps > window_ns)
    if len(breaks) == 0:
        return len(times)
    return start + int(breaks[0]) + 1
