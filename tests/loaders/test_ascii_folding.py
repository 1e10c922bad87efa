"""Tests for finding the characters that fold to ASCII in raw UTF-8 bytes."""

from __future__ import annotations

import re
import sys
import unicodedata

import numpy as np
import pytest

from h056hunt.activities import fold_text
from h056hunt.loaders.prefilter import (
    ASCII_FOLDING_RANGES,
    ascii_folding_positions,
    fold_activity_line,
)

FOLDING_CHARACTERS = [
    chr(code) for first, last in ASCII_FOLDING_RANGES for code in range(first, last + 1)
]


def folds_to_ascii(character: str) -> bool:
    if any(ord(part) < 0x80 for part in character.casefold()):
        return True
    return re.search("[0-9a-z]", fold_text(character)) is not None


def test_folding_ranges_cover_unicode() -> None:
    computed = {
        chr(code)
        for code in range(0x80, sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and folds_to_ascii(chr(code))
    }

    missing = sorted(f"U+{ord(c):04X}" for c in computed - set(FOLDING_CHARACTERS))
    assert not missing, f"Unicode {unicodedata.unidata_version}: {missing[:20]}"


def test_folding_ranges_hold_only_folding() -> None:
    extra = [f"U+{ord(c):04X}" for c in FOLDING_CHARACTERS if not folds_to_ascii(c)]

    assert not extra


def test_ranges_sorted_and_apart() -> None:
    for (_, last), (first, _) in zip(
        ASCII_FOLDING_RANGES, ASCII_FOLDING_RANGES[1:], strict=False
    ):
        assert last + 1 < first


@pytest.mark.parametrize("character", FOLDING_CHARACTERS)
def test_each_folding_character_found(character: str) -> None:
    text = f"J\u00fcrgen \u00e9t\u00e9 re{character}x \u4e2d".encode()
    data = np.frombuffer(text, dtype=np.uint8)

    positions = ascii_folding_positions(data)

    assert positions.tolist() == [text.index(character.encode())]


def test_other_non_ascii_not_found() -> None:
    names = "J\u00fcrgen M\u00fcller \u00c5sa \u0141\u00f3d\u017a \u4e2d\u6587 \u00e9"
    text = names.encode()

    positions = ascii_folding_positions(np.frombuffer(text, dtype=np.uint8))

    assert positions.tolist() == []


def test_lead_byte_at_end() -> None:
    # A lead byte in the last position has no continuation bytes to read.
    text = b"abc\xc3"

    positions = ascii_folding_positions(np.frombuffer(text, dtype=np.uint8))

    assert positions.tolist() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\uff35\uff50\uff44\uff41\uff54\uff45", b"update"),
        ("Revo\u212ae", b"revoke"),
        ("\U0001d42b\U0001d41e\U0001d42f\U0001d428\U0001d424\U0001d41e", b"revoke"),
        ("Jos\u00e9", "jos\u00e9".encode()),
    ],
)
def test_activity_line_folded(text: str, expected: bytes) -> None:
    assert fold_activity_line(text.encode()) == expected


def test_four_byte_character_at_end() -> None:
    # U+1D42E MATHEMATICAL BOLD SMALL U, cut after three of its four bytes.
    whole = "\U0001d42e".encode()

    cut = ascii_folding_positions(np.frombuffer(b"ab" + whole[:3], dtype=np.uint8))
    found = ascii_folding_positions(np.frombuffer(b"ab" + whole, dtype=np.uint8))

    assert cut.tolist() == []
    assert found.tolist() == [2]
