"""Find the rows of one file that repeat an earlier row exactly, while it is read.

An export given as one file twice over, or a file that repeats one record many times,
kept every copy in memory until the frames were built and de-duplicated. A gzip
file of one denied sign-in repeated to 1.5 GiB of content peaked at 1.9 GB. A
:class:`~h056hunt.loaders.sink.FileSink` therefore looks for exact copies whenever
its rows have doubled since it last looked, and keeps one row per record content.
De-duplication keeps the first of identical copies in a file, so the result is the
same. The sink counts each dropped copy as the duplicate it would have become, or
skips it with its own line when its time cannot be read, as the plain path does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A sink first looks for copies when one log's rows reach this count, then each
# time the rows kept have doubled. Smaller files are left as they are, because
# their rows take about 16 MB at most (about 1 KB each) until de-duplication.
COMPACT_ROWS = 1 << 14
# Fields that tell copies apart without being part of a record's content.
SOURCE_FIELDS = frozenset(
    {"source_file", "source_line", "source_record", "source_shape"}
)
STEP_SOURCE_FIELDS = frozenset({"source_file", "source_record"})


@dataclass
class DroppedCopies:
    """The rows dropped as exact copies of an earlier row of the same file and log.

    Attributes:
        first: for each copy, the position of the row it repeats among the rows
            kept.
        lines: each copy's line number, or -1 when it has none.
        records: each copy's record number.
    """

    first: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    records: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.first)

    def add(self, first: np.ndarray, lines: np.ndarray, records: np.ndarray) -> None:
        """Append copies, with ``first`` already in the numbering of the kept rows."""
        self.first = np.concatenate([self.first, first])
        self.lines = np.concatenate([self.lines, lines])
        self.records = np.concatenate([self.records, records])


def first_copies(
    raw_times: Sequence[Any], values: pa.StructArray, ignored: frozenset[str]
) -> np.ndarray | None:
    """Return, for each row, the position of the first row with the same content.

    The content is every field of ``values`` outside ``ignored``, with the raw time
    of ``raw_times``. Copies of a record share its id, so only rows whose
    ``record_id`` repeats are compared, field by field, by Arrow's grouping, which
    treats two nulls as equal. Returns None when no record id repeats.
    """
    count = len(values)
    children = dict(
        zip((item.name for item in values.type), values.flatten(), strict=True)
    )
    record_ids = children["record_id"]
    repeated = repeated_ids(record_ids)
    if not len(repeated):
        return None
    candidates = np.flatnonzero(
        pc.is_in(record_ids, value_set=repeated)
        .to_numpy(zero_copy_only=False)
        .astype(bool)
    )
    positions = pa.array(candidates)
    keys = {
        name: child.take(positions)
        for name, child in children.items()
        if name not in ignored
    }
    # The type goes into the key too, so the text "1" and the number 1 differ.
    keys["__raw_time"] = pa.array(
        [_time_key(raw_times[position]) for position in candidates.tolist()],
        type=pa.string(),
    )
    names = list(keys)
    keys["__position"] = positions
    groups = pa.table(keys).group_by(names, use_threads=False)
    grouped = groups.aggregate([("__position", "min"), ("__position", "list")])
    members = grouped["__position_list"].combine_chunks()
    group_of = pc.list_parent_indices(members).to_numpy()
    lowest = grouped["__position_min"].to_numpy()
    firsts = np.arange(count, dtype=np.int64)
    firsts[members.flatten().to_numpy()] = lowest[group_of]
    return firsts


def repeated_ids(record_ids: pa.Array) -> pa.Array:
    """Return the record ids that occur more than once in ``record_ids``."""
    # A counting kernel, not a grouping plan: the plan's first use took about
    # 13 MiB of resident memory on the benchmark's 3M run.
    counts = pc.value_counts(record_ids)
    repeats = pc.greater(counts.field("counts"), 1)
    return counts.field("values").filter(repeats)


def _time_key(value: Any) -> str | None:
    if value is None:
        return None
    return f"{type(value).__name__}:{value}"
