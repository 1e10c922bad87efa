"""Check that a pandas column backed by pyarrow reuses another column's buffers."""

from __future__ import annotations

import pandas as pd


def assert_shares_buffers(selected: pd.Series, source: pd.Series, chunks: int) -> None:
    """Assert that ``selected`` has ``chunks`` Arrow chunks whose buffers all belong
    to ``source``."""
    source_buffers = {
        buffer.address
        for chunk in source.array.__arrow_array__().chunks
        for buffer in chunk.buffers()
        if buffer is not None
    }
    selected_chunks = selected.array.__arrow_array__().chunks
    assert len(selected_chunks) == chunks
    for chunk in selected_chunks:
        for buffer in chunk.buffers():
            assert buffer is None or buffer.address in source_buffers
