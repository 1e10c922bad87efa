"""Additive scoring: each named factor adds points for one stated fact.

Severity comes from the total, with two floors that encode the hunt's hypothesis: a
burst after an admin revocation is at least high, and an approval after such a burst is
critical. A burst not joined to a revocation stays at medium unless someone approved
a prompt, which makes it high.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.findings import ScoreFactor, Severity
from h056hunt.plurals import Counted
from h056hunt.render.text import format_duration, format_time

POINTS_ADMIN_REVOCATION = 25
POINTS_BURST = 20
POINTS_PER_EXTRA_DENIAL = 2
MAX_POINTS_EXTRA_DENIALS = 20
POINTS_QUICK_FOLLOW_UP = 10
QUICK_FOLLOW_UP = pd.Timedelta(minutes=15)
POINTS_FRAUD_REPORTED = 15
POINTS_WRONG_NUMBER = 5
POINTS_MANY_SOURCE_IPS = 5
POINTS_APPROVAL_AFTER_CHAIN = 40
POINTS_APPROVAL_AFTER_BURST = 30

SEVERITY_MIN_SCORE = (
    (Severity.CRITICAL, 90),
    (Severity.HIGH, 65),
    (Severity.MEDIUM, 40),
)


def score_match(
    match: Match,
    params: DetectionParams,
    actor_label: str | None,
    context_factors: Sequence[ScoreFactor] = (),
    escalate_to_critical: bool = False,
) -> tuple[int, tuple[ScoreFactor, ...], Severity]:
    """Return the score, its factors and the severity of one match.

    Args:
        match: the burst and its revocation.
        params: thresholds.
        actor_label: how to name the revoker in facts.
        context_factors: factors from the user's history, the revoker and shared
            origins.
        escalate_to_critical: persistence followed the approval, so the finding is
            critical whatever its score.
    """
    factors: list[ScoreFactor] = []
    denials = match.denials
    # The few values of a match are counted in Python, because a pandas call
    # costs more than counting them.
    outcomes = Counter(match.prompts["outcome"].tolist())
    first_denial = denials["prompt_time"].iloc[0]
    if match.revocation is not None:
        revoked_at = match.revocation["revocation_time"]
        factors.append(
            ScoreFactor(
                "admin_revocation",
                POINTS_ADMIN_REVOCATION,
                f"sessions revoked by {actor_label} at {format_time(revoked_at)}",
            )
        )
        lag = first_denial - revoked_at
        if lag <= QUICK_FOLLOW_UP:
            factors.append(
                ScoreFactor(
                    "quick_follow_up",
                    POINTS_QUICK_FOLLOW_UP,
                    f"first denial {format_duration(lag)} after the revocation",
                )
            )
    extra = min(
        (match.peak_denials - params.min_denials) * POINTS_PER_EXTRA_DENIAL,
        MAX_POINTS_EXTRA_DENIALS,
    )
    factors.append(
        ScoreFactor(
            "denial_burst",
            POINTS_BURST + extra,
            f"{match.peak_denials} denied prompts within "
            f"{format_duration(params.burst_window)} (threshold {params.min_denials})",
        )
    )
    if outcomes.get("fraud", 0):
        factors.append(
            ScoreFactor(
                "fraud_reported",
                POINTS_FRAUD_REPORTED,
                f"the user reported {Counted(outcomes['fraud'], 'prompt')} as fraud",
            )
        )
    if outcomes.get("wrong_number", 0):
        wrong_answers = Counted(
            outcomes["wrong_number"],
            "number-matching answer was",
            "number-matching answers were",
        )
        factors.append(
            ScoreFactor("wrong_number", POINTS_WRONG_NUMBER, f"{wrong_answers} wrong")
        )
    ips = {ip for ip in denials["ip_address"].tolist() if not pd.isna(ip)}
    if len(ips) > 1:
        factors.append(
            ScoreFactor(
                "many_source_ips",
                POINTS_MANY_SOURCE_IPS,
                f"denied prompts came from {len(ips)} source IP addresses",
            )
        )
    if match.approval is not None:
        after_chain = match.revocation is not None
        factors.append(
            ScoreFactor(
                "approval_after_burst",
                POINTS_APPROVAL_AFTER_CHAIN
                if after_chain
                else POINTS_APPROVAL_AFTER_BURST,
                f"a prompt was approved at {format_time(match.approval['prompt_time'])}"
                f" after {len(denials)} denials",
            )
        )
    factors.extend(context_factors)
    score = sum(factor.points for factor in factors)
    severity = _severity(score, match)
    if escalate_to_critical:
        severity = Severity.CRITICAL
    return score, tuple(factors), severity


def _severity(score: int, match: Match) -> Severity:
    severity = Severity.LOW
    for level, minimum in SEVERITY_MIN_SCORE:
        if score >= minimum:
            severity = level
            break
    if match.revocation is not None:
        floor = Severity.CRITICAL if match.approval is not None else Severity.HIGH
        return max(severity, floor)
    # A burst not joined to a revocation is medium, or high once approved.
    return Severity.HIGH if match.approval is not None else Severity.MEDIUM


POINTS_MASS_REVOCATION = 20
POINTS_PER_EXTRA_TARGET = 2
MAX_POINTS_EXTRA_TARGETS = 20
POINTS_TARGETS_BOMBED = 25
POINTS_TARGETS_APPROVED = 40
POINTS_SHARED_ORIGIN = 10


def score_campaign(
    targets: int,
    bombed: int,
    approved: int,
    shared_facts: Sequence[str],
    params: DetectionParams,
) -> tuple[int, tuple[ScoreFactor, ...], Severity]:
    """Return the score, factors and severity of a revocation campaign.

    A campaign with an approval is critical, one with a bombed target is high, and
    a mass revocation alone is medium.
    """
    extra = min(
        (targets - params.campaign_min_targets) * POINTS_PER_EXTRA_TARGET,
        MAX_POINTS_EXTRA_TARGETS,
    )
    factors = [
        ScoreFactor(
            "mass_revocation",
            POINTS_MASS_REVOCATION + extra,
            f"one actor revoked the sessions of {targets} users within "
            f"{format_duration(params.campaign_window)} windows "
            f"(threshold {params.campaign_min_targets})",
        )
    ]
    if bombed:
        factors.append(
            ScoreFactor(
                "targets_bombed",
                POINTS_TARGETS_BOMBED,
                f"{bombed} of them then received a burst of denied prompts",
            )
        )
    if approved:
        factors.append(
            ScoreFactor(
                "targets_approved",
                POINTS_TARGETS_APPROVED,
                f"{approved} of them approved a prompt after the burst",
            )
        )
    if shared_facts:
        factors.append(
            ScoreFactor(
                "shared_attacker_origin", POINTS_SHARED_ORIGIN, "; ".join(shared_facts)
            )
        )
    score = sum(factor.points for factor in factors)
    if approved:
        severity = Severity.CRITICAL
    elif bombed:
        severity = Severity.HIGH
    else:
        severity = Severity.MEDIUM
    return score, tuple(factors), severity
