"""Select rows by position without copying long runs of adjacent rows.

``iloc`` with an array of positions copies every column. When the positions
form long runs of adjacent ascending rows, such as a mass revocation's rows
among every audit row, :func:`take_in_runs` joins slices instead. pandas joins Arrow
columns as chunked arrays, one chunk per run, that share the buffers of the
source, so only NumPy columns are copied.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

__all__ = ["MIN_RUN_LENGTH", "ascending_runs", "take_in_runs"]

# The shortest mean run of adjacent rows that take_in_runs joins as slices. Each
# run adds a chunk to every Arrow column, and each chunk costs metadata and calls.
MIN_RUN_LENGTH = 32

Rows = TypeVar("Rows", pd.DataFrame, pd.Series)


def ascending_runs(positions: np.ndarray) -> list[tuple[int, int]] | None:
    """Return the (start, stop) rows of each run of adjacent ascending positions.

    The runs may come in any order, such as one actor's rows after another's.
    Returns None for fewer than two positions, or when the runs are shorter
    than :data:`MIN_RUN_LENGTH` rows on average.
    """
    if len(positions) < 2:
        return None
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    if (len(breaks) + 1) * MIN_RUN_LENGTH > len(positions):
        return None
    first = positions[np.r_[0, breaks]].tolist()
    last = positions[np.r_[breaks - 1, len(positions) - 1]].tolist()
    return [(start, end + 1) for start, end in zip(first, last, strict=True)]


def take_in_runs(rows: Rows, positions: np.ndarray) -> Rows:
    """Return ``rows.iloc[positions]``, with slices in place of long runs.

    The result has the same values, types and index labels as the take.
    """
    runs = ascending_runs(positions)
    if runs is None:
        return rows.iloc[positions]
    index = rows.index[positions]
    if isinstance(rows, pd.Series):
        return pd.Series(
            _join_runs(rows.array, runs), index=index, name=rows.name, copy=False
        )
    arrays = {
        number: _join_runs(rows.iloc[:, number].array, runs)
        for number in range(rows.shape[1])
    }
    frame = pd.DataFrame(arrays, index=index, copy=False)
    frame.columns = rows.columns
    return frame


def _join_runs(array: ExtensionArray, runs: list[tuple[int, int]]) -> ExtensionArray:
    # pd.concat of the slices took 0.57 ms of CPU for a 45,000-row text column
    # in 21 runs, against 0.05 ms for this call and 0.6 ms for a take.
    return type(array)._concat_same_type([array[start:stop] for start, stop in runs])
