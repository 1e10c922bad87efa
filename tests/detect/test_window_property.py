"""Property test: the vectorised window join agrees with a plain reference.

The reference below restates the burst and chain rules with plain loops over Python
integers, independently of numpy and pandas. Hypothesis draws event sets on a coarse
minute grid, so equal timestamps and events exactly on every window edge are common.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from h056hunt.detect.chains import DetectionParams, detect_user

BASE = pd.Timestamp("2026-03-02T00:00:00Z")
MINUTE = 60 * 10**9
WINDOW_MINUTES = 10
LAG_MINUTES = 20
MIN_DENIALS = 3
PARAMS = DetectionParams(
    max_lag=pd.Timedelta(minutes=LAG_MINUTES),
    burst_window=pd.Timedelta(minutes=WINDOW_MINUTES),
    min_denials=MIN_DENIALS,
)


def reference_bursts(denials: list[int], window: int, k: int) -> list[tuple[int, int]]:
    """Return (start, stop) index pairs of non-overlapping bursts, in order."""
    bursts = []
    index = 0
    while index < len(denials):
        count = sum(1 for t in denials[index:] if t - denials[index] <= window)
        if count >= k:
            stop = index + 1
            while stop < len(denials) and denials[stop] - denials[stop - 1] <= window:
                stop += 1
            bursts.append((index, stop))
            index = stop
        else:
            index += 1
    return bursts


def reference_chains(
    revocations: list[tuple[str, int]],
    denials: list[int],
    window: int,
    lag: int,
    k: int,
) -> dict[int, tuple[int, str, list[str]]]:
    """Map burst start index to (stop, revocation id, other revocation ids)."""
    claimed: dict[int, tuple[int, str, list[str]]] = {}
    for revocation_id, revoked_at in sorted(
        revocations, key=lambda item: (item[1], item[0])
    ):
        start = None
        for index, time in enumerate(denials):
            if revoked_at < time <= revoked_at + lag:
                count = sum(1 for t in denials[index:] if t - time <= window)
                if count >= k:
                    start = index
                    break
        if start is None:
            continue
        stop = start + 1
        while stop < len(denials) and denials[stop] - denials[stop - 1] <= window:
            stop += 1
        placed = False
        for key, (other_stop, other_id, others) in list(claimed.items()):
            if key == start:
                claimed[key] = (other_stop, revocation_id, [*others, other_id])
                placed = True
                break
            if start < other_stop and key < stop:
                others.append(revocation_id)
                placed = True
                break
        if not placed:
            claimed[start] = (stop, revocation_id, [])
    return claimed


def _frames(
    revocation_minutes: list[int], denial_minutes: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    revocations = pd.DataFrame(
        {
            "revocation_id": [f"R{i:02d}" for i in range(len(revocation_minutes))],
            "revocation_time": [
                BASE + pd.Timedelta(minutes=m) for m in revocation_minutes
            ],
            "is_self_revocation": [False] * len(revocation_minutes),
            "user_key": ["u1"] * len(revocation_minutes),
        }
    )
    ordered = sorted(denial_minutes)
    prompts = pd.DataFrame(
        {
            "user_key": ["u1"] * len(ordered),
            "prompt_time": pd.to_datetime(
                [BASE + pd.Timedelta(minutes=m) for m in ordered], utc=True
            ),
            "outcome": ["declined"] * len(ordered),
            "record_id": [f"P{i:03d}" for i in range(len(ordered))],
        }
    )
    return revocations, prompts


minutes = st.integers(min_value=0, max_value=90)


@settings(max_examples=300, deadline=None)
@given(
    revocation_minutes=st.lists(minutes, max_size=4),
    denial_minutes=st.lists(minutes, max_size=14),
)
def test_chains_match_reference(
    revocation_minutes: list[int], denial_minutes: list[int]
) -> None:
    revocations, prompts = _frames(revocation_minutes, denial_minutes)
    matches = detect_user(revocations, prompts, PARAMS)
    denials = sorted(m * MINUTE for m in denial_minutes)
    expected_chains = reference_chains(
        [(f"R{i:02d}", m * MINUTE) for i, m in enumerate(revocation_minutes)],
        denials,
        WINDOW_MINUTES * MINUTE,
        LAG_MINUTES * MINUTE,
        MIN_DENIALS,
    )
    chains = {
        match.denials["record_id"].iloc[0]: match
        for match in matches
        if match.revocation is not None
    }
    assert len(chains) == len(expected_chains)
    for start, (stop, revocation_id, others) in expected_chains.items():
        match = chains[f"P{start:03d}"]
        assert match.revocation["revocation_id"] == revocation_id
        assert len(match.denials) == stop - start
        assert sorted(match.other_revocations) == sorted(others)


@settings(max_examples=300, deadline=None)
@given(denial_minutes=st.lists(minutes, max_size=16))
def test_bursts_match_reference(denial_minutes: list[int]) -> None:
    revocations, prompts = _frames([], denial_minutes)
    matches = detect_user(revocations, prompts, PARAMS)
    denials = sorted(m * MINUTE for m in denial_minutes)
    expected = reference_bursts(denials, WINDOW_MINUTES * MINUTE, MIN_DENIALS)
    found = sorted(
        (int(match.denials["record_id"].iloc[0][1:]), len(match.denials))
        for match in matches
    )
    assert found == [(start, stop - start) for start, stop in expected]


def test_denials_exactly_window_apart_count() -> None:
    revocations, prompts = _frames([0], [1, 6, 11])
    matches = detect_user(revocations, prompts, PARAMS)
    assert len(matches) == 1
    assert matches[0].revocation is not None


def test_denial_at_revocation_time_excluded() -> None:
    revocations, prompts = _frames([5], [5, 6, 7])
    matches = detect_user(revocations, prompts, PARAMS)
    chains = [match for match in matches if match.revocation is not None]
    assert chains == []


def test_burst_starting_at_max_lag_counts() -> None:
    revocations, prompts = _frames([0], [LAG_MINUTES, LAG_MINUTES + 1, LAG_MINUTES + 2])
    matches = detect_user(revocations, prompts, PARAMS)
    assert [match.revocation is not None for match in matches] == [True]
