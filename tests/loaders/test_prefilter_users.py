"""Tests for the user id index that the pre-filter builds per block."""

from __future__ import annotations

import json

import numpy as np
import pytest

from h056hunt.loaders import fastpath, prefilter

USER = "d0da43a8-16ff-4b7f-a070-c0d3db8b4909"


def _line(index: int, user: str | None) -> bytes:
    record = {
        "id": f"{index:08d}-0000-4000-8000-000000000000",
        "createdDateTime": "2026-03-02T10:00:00Z",
        "userDisplayName": "Ann",
        "userPrincipalName": "ann@contoso.example",
    }
    if user is not None:
        record["userId"] = user
    record["status"] = {"errorCode": 0}
    return json.dumps(record, separators=(",", ":")).encode()


def _scan(lines: list[bytes]) -> prefilter.ScanResult:
    text = b"\n".join(lines) + b"\n"
    chunk = bytearray(text + bytes(fastpath.WINDOW_SLACK))
    scanner = prefilter.LineScanner(
        prefilter.signin_spec(), container=False, path="test", start_offset=0
    )
    scanner.feed(chunk, len(text))
    return scanner.finish()


def test_user_key_of_next_line_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first line has no userId, and the second line's is within the span
    # searched after the first line's time key. Small blocks put the lines in
    # different blocks. A line without the key is indexed as an unknown user, so
    # the second pass always reads its block.
    monkeypatch.setattr(prefilter, "INDEX_BLOCK_BYTES", 64)
    first = _line(1, None)
    second = _line(2, USER)
    assert len(first) + len(second) < prefilter.USER_KEY_SPAN

    result = _scan([first, second])

    pairs = np.concatenate(list(result.user_index.slices()))
    blocks = (pairs >> np.uint64(32)).tolist()
    hashes = (pairs & np.uint64(0xFFFFFFFF)).tolist()
    assert result.block_offsets == [0, len(first) + 1]
    assert blocks == [0, 1]
    assert hashes == [int(prefilter.UNKNOWN_USER), 0xD0DA43A8]
    assert result.decode == []


def test_every_line_with_user_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefilter, "INDEX_BLOCK_BYTES", 64)
    other = "0a0b0c0d-16ff-4b7f-a070-c0d3db8b4909"

    result = _scan([_line(1, USER), _line(2, other)])

    pairs = np.concatenate(list(result.user_index.slices()))
    assert sorted(pairs.tolist()) == [0xD0DA43A8, (1 << 32) | 0x0A0B0C0D]
