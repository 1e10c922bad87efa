"""Tests for the sequence that makes its items a slice at a time."""

from __future__ import annotations

import pytest

from h056hunt.lazy_sequence import SLICE_SIZE, LazySequence, map_slices

LENGTH = SLICE_SIZE * 2 + 5


def squares(calls: list[tuple[int, int]]) -> LazySequence[int]:
    """Return the squares of 0 to LENGTH - 1, recording each call of ``make``."""

    def make(start: int, stop: int) -> list[int]:
        calls.append((start, stop))
        return [position * position for position in range(start, stop)]

    return LazySequence(LENGTH, make)


def test_iteration_makes_one_slice_per_call() -> None:
    calls: list[tuple[int, int]] = []

    items = list(squares(calls))

    assert items == [position * position for position in range(LENGTH)]
    assert calls == [
        (0, SLICE_SIZE),
        (SLICE_SIZE, 2 * SLICE_SIZE),
        (2 * SLICE_SIZE, LENGTH),
    ]


def test_index_and_negative_index() -> None:
    sequence = squares([])

    assert len(sequence) == LENGTH
    assert sequence[3] == 9
    assert sequence[-1] == (LENGTH - 1) ** 2
    assert sequence[-LENGTH] == 0


@pytest.mark.parametrize("index", [LENGTH, -LENGTH - 1])
def test_index_out_of_range(index: int) -> None:
    with pytest.raises(IndexError):
        squares([])[index]


def test_slices_are_lists() -> None:
    sequence = squares([])
    expected = [position * position for position in range(LENGTH)]

    assert sequence[10:20] == expected[10:20]
    assert sequence[LENGTH - 3 :] == expected[LENGTH - 3 :]
    assert sequence[20:10] == []
    assert sequence[::SLICE_SIZE] == expected[::SLICE_SIZE]
    assert sequence[-2:] == expected[-2:]
    assert isinstance(sequence[1:3], list)


def test_equal_to_sequences_with_equal_items() -> None:
    sequence = squares([])
    items = [position * position for position in range(LENGTH)]

    assert sequence == items
    assert sequence == tuple(items)
    assert items == sequence
    assert sequence == squares([])
    assert sequence != items[:-1]
    assert sequence != [*items[:-1], -1]
    assert sequence != "not a sequence of squares"


def test_map_slices_converts_per_slice() -> None:
    seen: list[int] = []

    def double(values: object) -> list[int]:
        assert isinstance(values, tuple)
        seen.append(len(values))
        return [value * 2 for value in values]

    mapped = map_slices(tuple(range(LENGTH)), double)

    assert list(mapped) == [value * 2 for value in range(LENGTH)]
    assert seen == [SLICE_SIZE, SLICE_SIZE, 5]
    assert list(map_slices((), double)) == []


def test_map_slices_keeps_record_json() -> None:
    def record_json(start: int, stop: int) -> str:
        return ",".join(str(position) for position in range(start, stop))

    source = LazySequence(
        LENGTH, lambda start, stop: list(range(start, stop)), record_json
    )

    mapped = map_slices(source, list)

    assert mapped.record_json is record_json
    assert map_slices(tuple(range(3)), list).record_json is None
