"""Tests for finding the characters that case-fold to ASCII in raw UTF-8 bytes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from h056hunt.loaders.prefilter import (
    ASCII_FOLDING_CHARACTERS,
    ascii_folding_positions,
)


def test_folding_set_matches_casefold() -> None:
    computed = {
        chr(code)
        for code in range(0x80, sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF
        and any(ord(part) < 0x80 for part in chr(code).casefold())
    }

    assert set(ASCII_FOLDING_CHARACTERS) == computed


@pytest.mark.parametrize("character", list(ASCII_FOLDING_CHARACTERS))
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
