"""The scanner searches a chunk a piece of whole lines at a time.

Whatever the piece size, the needle hits, fault positions and newline count of a
chunk must be those of one search over the whole chunk.
"""

from __future__ import annotations

import random

import pytest
import stringzilla as sz
from hypothesis import given, settings
from hypothesis import strategies as st

from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.loaders import fastpath, prefilter
from h056hunt.loaders.prefilter import LineScanner, LogSpec

WHOLE = 2**40
LINE_PARTS = [
    '{"id":"a","createdDateTime":"2026-03-02T00:00:00Z","userId":"u"}',
    '"status":{"errorCode":500121,"additionalDetails":"MFA denied; user declined"}',
    '"failureReason":"DENIED by user"',
    '"x":"d\u00e9nied \u00fcber"',
    '"x":"\\u0044enied"',
    '"x":"tab\there"',
    '"x":"ret\rurn"',
    '"activityDisplayName":"Update StsRefreshTokenValidFrom Timestamp"',
    '"activityDisplayName":"INVALIDATE ALL REFRESH TOKENS"',
    '"x":"\u212aelvin \u017fign"',
    "",
]


def _hits(
    spec: LogSpec, data: bytes, piece: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[int], int]:
    monkeypatch.setattr(prefilter, "_PIECE_BYTES", piece)
    scanner = LineScanner(spec, container=False, path="x", start_offset=0)
    chunk = bytearray(data) + bytes(fastpath.WINDOW_SLACK)
    return scanner._needle_hits(chunk, sz.Str(chunk)[: len(data)])


def _specs() -> list[LogSpec]:
    return [
        prefilter.signin_spec(),
        prefilter.audit_spec(DEFAULT_REVOCATION_ACTIVITIES),
    ]


@pytest.mark.parametrize("spec", _specs(), ids=["signin", "audit"])
@pytest.mark.parametrize("seed", range(40))
def test_piece_search_matches_whole_search(
    spec: LogSpec, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pick = random.Random(seed)
    lines = [
        ",".join(pick.choice(LINE_PARTS) for _ in range(pick.randrange(1, 6)))
        for _ in range(pick.randrange(1, 80))
    ]
    data = "\n".join(lines).encode()
    if pick.random() < 0.2:
        # Invalid UTF-8 in one line.
        cut = pick.randrange(len(data) + 1)
        data = data[:cut] + b"\xff\xfe" + data[cut:]
    if pick.random() < 0.5:
        data += b"\n"
    whole = _hits(spec, data, WHOLE, monkeypatch)

    for piece in (1, 2, 7, 64, 301, 4096):
        assert _hits(spec, data, piece, monkeypatch) == whole, piece
    assert whole[1] == data.count(b"\n")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet='denidDENIxyz\u00e9\u0130\u212a\\\t\r"{}:5012', max_size=40),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=1, max_value=50),
)
def test_piece_search_on_generated_lines(lines: list[str], piece: int) -> None:
    data = "\n".join(lines).encode()
    monkeypatch = pytest.MonkeyPatch()
    try:
        for spec in _specs():
            whole = _hits(spec, data, WHOLE, monkeypatch)
            assert _hits(spec, data, piece, monkeypatch) == whole
    finally:
        monkeypatch.undo()


def test_needles_contain_no_line_end() -> None:
    # A match of a needle with a line end could span two pieces.
    for spec in _specs():
        for needle in (*spec.needles, *spec.uncased_needles):
            assert b"\n" not in needle
