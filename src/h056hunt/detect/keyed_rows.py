"""The rows of a frame split by a key column, each key's rows a slice."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd


class RowsByKey(Mapping[str, pd.DataFrame]):
    """The rows of each value of a key, in frame order, without missing keys.

    The frame is reordered by key with at most one take, and each key's rows are
    a slice of it taken on demand. A groupby takes every column once per key:
    seconds when a mass revocation makes thousands of keys, of which a run reads
    few.

    Args:
        frame: the rows.
        keys: the key of each row, aligned with ``frame``.
        sort: iterate the keys in sorted order instead of first appearance.
    """

    def __init__(
        self, frame: pd.DataFrame, keys: pd.Series, *, sort: bool = False
    ) -> None:
        codes, uniques = pd.factorize(keys, sort=sort)
        # Missing keys get code -1, so a stable sort puts them first, before
        # every span.
        order = np.argsort(codes, kind="stable")
        if not (order == np.arange(len(order))).all():
            frame = frame.iloc[order]
        self._frame = frame
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        self._spans = {
            str(key): (start, stop)
            for key, start, stop in zip(
                uniques.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True
            )
        }

    def __getitem__(self, key: str) -> pd.DataFrame:
        start, stop = self._spans[key]
        return self._frame.iloc[start:stop]

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)
