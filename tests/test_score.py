"""Tests for additive scoring and the severity floors and ceilings."""

from __future__ import annotations

import pandas as pd
import pytest

from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.findings import ScoreFactor, Severity
from h056hunt.score import (
    MAX_POINTS_EXTRA_DENIALS,
    POINTS_ADMIN_REVOCATION,
    POINTS_APPROVAL_AFTER_BURST,
    POINTS_APPROVAL_AFTER_CHAIN,
    POINTS_BURST,
    POINTS_FRAUD_REPORTED,
    POINTS_MANY_SOURCE_IPS,
    POINTS_QUICK_FOLLOW_UP,
    POINTS_WRONG_NUMBER,
    score_match,
)

T0 = pd.Timestamp("2024-05-14T09:00:00Z")
PARAMS = DetectionParams(min_denials=3, burst_window=pd.Timedelta(minutes=10))


def at(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


def make_match(
    outcomes: list[str],
    *,
    revoked_at: pd.Timestamp | None = None,
    first_minute: float = 3,
    ips: list[str] | None = None,
    approved_at: pd.Timestamp | None = None,
) -> Match:
    times = [at(first_minute + index) for index in range(len(outcomes))]
    prompts = pd.DataFrame(
        {
            "prompt_time": times,
            "outcome": outcomes,
            "ip_address": ips or ["203.0.113.5"] * len(outcomes),
            "user_key": "user-1",
        }
    )
    denials = prompts[prompts["outcome"] != "approved"]
    approval = None
    if approved_at is not None:
        approval = pd.Series({"prompt_time": approved_at, "outcome": "approved"})
    revocation = None
    if revoked_at is not None:
        revocation = pd.Series({"revocation_time": revoked_at, "revocation_id": "A1"})
    return Match(
        user_key="user-1",
        revocation=revocation,
        prompts=prompts,
        denials=denials,
        approval=approval,
        peak_denials=len(denials),
    )


def factor_points(factors: tuple[ScoreFactor, ...]) -> dict[str, int]:
    return {factor.name: factor.points for factor in factors}


def test_chain_factors() -> None:
    match = make_match(["declined"] * 3, revoked_at=T0)

    score, factors, _ = score_match(match, PARAMS, "secadmin@contoso.example")

    assert factor_points(factors) == {
        "admin_revocation": POINTS_ADMIN_REVOCATION,
        "quick_follow_up": POINTS_QUICK_FOLLOW_UP,
        "denial_burst": POINTS_BURST,
    }
    assert score == sum(factor.points for factor in factors)


def test_actor_named_in_fact() -> None:
    match = make_match(["declined"] * 3, revoked_at=T0)

    _, factors, _ = score_match(match, PARAMS, "soar-playbook")

    assert "soar-playbook" in factors[0].fact


def test_slow_follow_up_no_bonus() -> None:
    match = make_match(["declined"] * 3, revoked_at=T0, first_minute=16)

    _, factors, _ = score_match(match, PARAMS, "admin")

    assert "quick_follow_up" not in factor_points(factors)


def test_quick_follow_up_edge() -> None:
    match = make_match(["declined"] * 3, revoked_at=T0, first_minute=15)

    _, factors, _ = score_match(match, PARAMS, "admin")

    assert factor_points(factors)["quick_follow_up"] == POINTS_QUICK_FOLLOW_UP


def test_extra_denials_add_points() -> None:
    match = make_match(["declined"] * 5)

    _, factors, _ = score_match(match, PARAMS, None)

    assert factor_points(factors)["denial_burst"] == POINTS_BURST + 4


def test_extra_denials_capped() -> None:
    match = make_match(["declined"] * 40)

    _, factors, _ = score_match(match, PARAMS, None)

    assert factor_points(factors)["denial_burst"] == (
        POINTS_BURST + MAX_POINTS_EXTRA_DENIALS
    )


def test_fraud_and_wrong_number_factors() -> None:
    match = make_match(["declined", "fraud", "wrong_number"])

    _, factors, _ = score_match(match, PARAMS, None)

    points = factor_points(factors)
    assert points["fraud_reported"] == POINTS_FRAUD_REPORTED
    assert points["wrong_number"] == POINTS_WRONG_NUMBER


def test_many_source_ips_factor() -> None:
    ips = ["203.0.113.5", "203.0.113.6", "203.0.113.5"]
    match = make_match(["declined"] * 3, ips=ips)

    _, factors, _ = score_match(match, PARAMS, None)

    assert factor_points(factors)["many_source_ips"] == POINTS_MANY_SOURCE_IPS


def test_approval_after_chain_points() -> None:
    match = make_match(["declined"] * 3, revoked_at=T0, approved_at=at(7))

    _, factors, _ = score_match(match, PARAMS, "admin")

    assert factor_points(factors)["approval_after_burst"] == (
        POINTS_APPROVAL_AFTER_CHAIN
    )


def test_approval_after_burst_points() -> None:
    match = make_match(["declined"] * 3, approved_at=at(7))

    _, factors, _ = score_match(match, PARAMS, None)

    assert factor_points(factors)["approval_after_burst"] == (
        POINTS_APPROVAL_AFTER_BURST
    )


def test_chain_at_least_high() -> None:
    match = make_match(["declined"] * 3, revoked_at=T0, first_minute=30)

    score, _, severity = score_match(match, PARAMS, "admin")

    assert score < 65
    assert severity == Severity.HIGH


def test_chain_with_approval_critical() -> None:
    match = make_match(
        ["declined"] * 3, revoked_at=T0, first_minute=30, approved_at=at(34)
    )

    _, _, severity = score_match(match, PARAMS, "admin")

    assert severity == Severity.CRITICAL


def test_push_bombing_capped_at_medium() -> None:
    outcomes = ["declined"] * 20 + ["fraud", "wrong_number"]
    ips = [f"203.0.113.{index}" for index in range(len(outcomes))]
    match = make_match(outcomes, ips=ips)

    score, _, severity = score_match(match, PARAMS, None)

    assert score >= 65
    assert severity == Severity.MEDIUM


def test_push_bombing_at_least_medium() -> None:
    match = make_match(["declined"] * 3)

    score, _, severity = score_match(match, PARAMS, None)

    assert score < 40
    assert severity == Severity.MEDIUM


def test_push_bombing_with_approval_capped_high() -> None:
    outcomes = ["declined"] * 20 + ["fraud", "wrong_number"]
    ips = [f"203.0.113.{index}" for index in range(len(outcomes))]
    match = make_match(outcomes, ips=ips, approved_at=at(30))

    score, _, severity = score_match(match, PARAMS, None)

    assert score >= 90
    assert severity == Severity.HIGH


@pytest.mark.parametrize(
    ("revoked", "approved", "expected"),
    [
        (True, False, Severity.HIGH),
        (True, True, Severity.CRITICAL),
        (False, False, Severity.MEDIUM),
        (False, True, Severity.HIGH),
    ],
    ids=["chain", "chain-approved", "burst", "burst-approved"],
)
def test_severity_for_minimal_matches(
    revoked: bool, approved: bool, expected: Severity
) -> None:
    match = make_match(
        ["declined"] * 3,
        revoked_at=T0 if revoked else None,
        approved_at=at(7) if approved else None,
    )

    _, _, severity = score_match(match, PARAMS, "admin" if revoked else None)

    assert severity == expected
