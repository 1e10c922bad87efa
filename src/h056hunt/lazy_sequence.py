"""A read-only sequence whose items are made when they are read, a slice at a time.

A mass revocation lists tens of thousands of targets, each with an evidence item, a
timeline event and an output record. Made all at once, these items held more memory
than the revocation frame they come from, so a campaign finding keeps its columns and
makes the items of one slice whenever a reader reaches it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")
R = TypeVar("R")

# Items made per call of ``make`` while iterating; the JSON writer also writes list
# items in slices of this size.
SLICE_SIZE = 512


class LazySequence(Sequence[T]):
    """A sequence of ``length`` items that ``make(start, stop)`` makes on access.

    ``make`` returns the items at positions ``start`` to ``stop`` (exclusive) as a
    list, and must return the same items on every call. Iteration calls it once per
    :data:`SLICE_SIZE` items, so only one slice of items is alive while a caller
    walks the sequence. A slice of the sequence is a list.

    ``record_json``, when not None, takes the same ``start`` and ``stop`` and
    returns the JSON text of the output records of those items, separated by
    commas and without brackets. The JSON writers call it instead of making the
    items, their records and the encoder's input.
    """

    __slots__ = ("_length", "_make", "record_json")

    def __init__(
        self,
        length: int,
        make: Callable[[int, int], list[T]],
        record_json: Callable[[int, int], str] | None = None,
    ) -> None:
        self._length = length
        self._make = make
        self.record_json = record_json

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if step == 1:
                return self._make(start, max(start, stop))
            return [self[position] for position in range(start, stop, step)]
        position = operator.index(index)
        if position < 0:
            position += self._length
        if not 0 <= position < self._length:
            raise IndexError(f"index {index} out of range for {self._length} items")
        return self._make(position, position + 1)[0]

    def __iter__(self) -> Iterator[T]:
        for start in range(0, self._length, SLICE_SIZE):
            yield from self._make(start, min(start + SLICE_SIZE, self._length))

    def __eq__(self, other: object) -> bool:
        # Equal to any sequence with equal items, as a tuple of the items would be
        # to a tuple. A list or tuple compares back through this method.
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        if len(other) != self._length:
            return False
        return all(mine == theirs for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazySequence({self._length} items)"


def map_slices(
    source: Sequence[T], convert: Callable[[Sequence[T]], list[R]]
) -> LazySequence[R]:
    """Return a lazy sequence of ``convert`` applied to ``source`` slice by slice.

    ``convert`` takes a slice of ``source`` and returns one item per item of it.
    The result keeps the ``record_json`` of a lazy ``source``, so ``convert`` must
    make the output records that it describes.
    """
    record_json = source.record_json if isinstance(source, LazySequence) else None
    return LazySequence(
        len(source),
        lambda start, stop: convert(source[start:stop]),
        record_json,
    )
