"""Time ranges that a log file covers, kept at a fixed resolution.

A file covers the stretch from its first to its last event, split wherever it has no
event for longer than a gap. Ranges are stored at the gap :data:`STORED_GAP_NS` and
merged again at the gap a caller requests. For any requested gap at least that long,
this gives exactly the ranges of the underlying times, because no stored range spans a
longer gap between two times and ranges closer than the requested gap join.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

STORED_GAP_NS = 1_000_000_000


def empty() -> np.ndarray:
    """Return an empty ``(0, 2)`` range array."""
    return np.empty((0, 2), dtype=np.int64)


def from_nanoseconds(nanoseconds: np.ndarray, gap: int = STORED_GAP_NS) -> np.ndarray:
    """Return the ``(n, 2)`` ranges of int64 nanosecond times in any order, split at
    gaps longer than ``gap`` nanoseconds."""
    if not len(nanoseconds):
        return empty()
    ordered = np.sort(nanoseconds)
    breaks = np.flatnonzero(np.diff(ordered) > gap)
    starts = np.concatenate(([ordered[0]], ordered[breaks + 1]))
    ends = np.concatenate((ordered[breaks], [ordered[-1]]))
    return np.stack([starts, ends], axis=1)


def from_times(times: pd.Series) -> np.ndarray:
    """Return the stored ranges of a ``datetime64[ns, UTC]`` series; NaT is ignored."""
    values = times.dropna().to_numpy(dtype="datetime64[ns]").view(np.int64)
    return from_nanoseconds(values)


def merge(parts: list[np.ndarray], gap: int = STORED_GAP_NS) -> np.ndarray:
    """Merge ranges that overlap or lie at most ``gap`` nanoseconds apart."""
    kept = [part for part in parts if len(part)]
    if not kept:
        return empty()
    ranges = np.concatenate(kept)
    ranges = ranges[np.argsort(ranges[:, 0], kind="stable")]
    reach = np.maximum.accumulate(ranges[:, 1])
    breaks = np.flatnonzero(ranges[1:, 0] - reach[:-1] > gap)
    starts = np.concatenate(([ranges[0, 0]], ranges[breaks + 1, 0]))
    ends = np.concatenate((reach[breaks], [reach[-1]]))
    return np.stack([starts, ends], axis=1)
