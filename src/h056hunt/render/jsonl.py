"""JSON Lines output: one finding per line, keys sorted, ASCII only.

Escaping every non-ASCII character keeps bidirectional overrides and other invisible
characters from log fields out of the bytes, while the decoded values stay exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii
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


def json_scalar(value: object) -> str:
    """Return ``dumps(value)``, without the encoder's per-call setup for None,
    text, booleans and ints.

    CPython 3.11's encoder writes text with ``encode_basestring_ascii`` when
    ``ensure_ascii`` is set, and ints with ``int.__repr__``, so the bytes match.
    """
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring_ascii(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    return dumps(value)


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
                stop = min(start + _ITEMS_PER_WRITE, len(value))
                stream.write(_items_json(value, start, stop))
            stream.write("]")
        else:
            stream.write(dumps(value))
    stream.write("}")


def _items_json(items: list[Any] | LazySequence[Any], start: int, stop: int) -> str:
    """Return the JSON of items ``start`` to ``stop``, separated by commas."""
    if isinstance(items, LazySequence) and items.record_json is not None:
        return items.record_json(start, stop)
    # The slice's JSON array without its brackets is its items and commas.
    return dumps(items[start:stop])[1:-1]
