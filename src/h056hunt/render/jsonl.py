"""JSON Lines output: one finding per line, keys sorted, ASCII only.

Escaping every non-ASCII character keeps bidirectional overrides and other invisible
characters from log fields out of the bytes, while the decoded values stay exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from h056hunt.findings import Finding
from h056hunt.lazy_sequence import SLICE_SIZE, LazySequence
from h056hunt.render.records import finding_record


def _list_of(value: object) -> list[Any]:
    """Return a lazy sequence's items for the encoder, which takes lists."""
    if isinstance(value, LazySequence):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder serves every call. json.dumps with options builds a new encoder each
# time, which cost more than encoding a campaign's thousands of small items.
_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=_list_of
)
# List items are encoded and written in slices of this many.
_ITEMS_PER_WRITE = SLICE_SIZE


def dumps(record: Any) -> str:
    """Serialise one record the way every JSON output of the tool does."""
    return _ENCODER.encode(record)


def render_jsonl(
    findings: Iterable[Finding], stream: TextIO, *, partial: bool = False
) -> None:
    """Write one JSON object per finding, one per line."""
    for finding in findings:
        write_record(finding_record(finding, partial=partial), stream)
        stream.write("\n")


def write_record(record: dict[str, Any], stream: TextIO) -> None:
    """Write ``dumps(record)`` piece by piece.

    The bytes are the same as ``dumps`` gives, but lists and lazy sequences are
    written a slice at a time, so neither a campaign's long lists nor their JSON
    text are held whole.
    """
    stream.write("{")
    for index, key in enumerate(sorted(record)):
        if index:
            stream.write(",")
        stream.write(dumps(key))
        stream.write(":")
        value = record[key]
        if isinstance(value, list | LazySequence):
            stream.write("[")
            for start in range(0, len(value), _ITEMS_PER_WRITE):
                if start:
                    stream.write(",")
                # The slice's JSON array without its brackets is its items and commas.
                stream.write(dumps(value[start : start + _ITEMS_PER_WRITE])[1:-1])
            stream.write("]")
        else:
            stream.write(dumps(value))
    stream.write("}")
