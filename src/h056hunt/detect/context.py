"""Context that raises or lowers a finding's score: the target's history and the
revoker's own behaviour, read from the same exports.

Each function sees one user's or one actor's rows only, so it can run per partition.
Every factor comes with the fact behind it; a factor is added only when the data can
support it (for example, "new IP" needs earlier sign-ins of that user).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from h056hunt.activities import (
    MFA_CHANGE_ACTIVITIES,
    PERSISTENCE_ACTIVITIES,
    ROLE_GRANT_ACTIVITIES,
    normalise_activity,
)
from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.detect.prompts import DENIALS
from h056hunt.findings import ScoreFactor, TimelineEvent
from h056hunt.plurals import Counted
from h056hunt.render.text import format_duration, format_time, join_entries
from h056hunt.schema import columns_of

POINTS_FIRST_DENIALS = 10
POINTS_HABITUAL_DENIER = -15
HABITUAL_DENIAL_DAYS = 2
POINTS_APPROVAL_NEW_IP = 10
POINTS_APPROVAL_NEW_COUNTRY = 10
POINTS_PERSISTENCE = 30
POINTS_REVOKER_NEW_IP = 10
POINTS_REVOKER_NEW_COUNTRY = 10
POINTS_REVOKER_RISKY = 15
POINTS_REVOKER_SINGLE_FACTOR = 5
POINTS_REVOKER_FIRST = 5
POINTS_REVOKER_RATE_SPIKE = 10
REVOKER_RATE_SPIKE_RATIO = 3
POINTS_OUTSIDE_HOURS = 5
POINTS_REVOKER_ROLE = 15
POINTS_REVOKER_MFA_CHANGE = 15
RISKY_LEVELS = frozenset({"medium", "high"})
RISKY_STATES = frozenset({"atrisk", "confirmedcompromised"})
# Times are UTC, so a day starts at a multiple of this since the epoch.
_DAY_NANOSECONDS = 86_400_000_000_000


@dataclass
class Context:
    """Factors and timeline events that context adds to one finding."""

    factors: list[ScoreFactor] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)
    escalate_to_critical: bool = False


def user_context(
    match: Match,
    user_prompts: pd.DataFrame,
    user_signins: pd.DataFrame,
    user_audit: pd.DataFrame,
    params: DetectionParams,
) -> Context:
    """Compare the burst with the user's own history, and look for persistence.

    Args:
        match: the burst and its revocation.
        user_prompts: every prompt of this user in the data.
        user_signins: every sign-in of this user in the data.
        user_audit: audit rows that target this user.
        params: thresholds.
    """
    context = Context()
    anchor = _anchor(match)
    _baseline(context, user_prompts, user_signins, anchor)
    if match.approval is not None:
        _approval_origin(context, match.approval, user_signins, anchor)
        _persistence(context, match.approval, user_audit, params)
    return context


def _anchor(match: Match) -> pd.Timestamp:
    if match.revocation is not None:
        return pd.Timestamp(match.revocation["revocation_time"])
    return pd.Timestamp(match.denials["prompt_time"].iloc[0])


def _baseline(
    context: Context,
    prompts: pd.DataFrame,
    signins: pd.DataFrame,
    anchor: pd.Timestamp,
) -> None:
    # The times are compared as NumPy arrays, because each pandas call on one
    # user's rows cost more than the checks themselves. Comparisons with NaT are
    # false, as in pandas.
    anchor_time = anchor.to_datetime64()
    event_times = signins["event_time"].to_numpy(dtype="datetime64[ns]")
    history = event_times[event_times < anchor_time]
    if not len(history):
        return
    span = pd.Timedelta(anchor_time - history.min())
    prompt_times = prompts["prompt_time"].to_numpy(dtype="datetime64[ns]")
    is_denial = np.array(
        [outcome in DENIALS for outcome in prompts["outcome"].tolist()], dtype=bool
    )
    denied_before = prompt_times[(prompt_times < anchor_time) & is_denial]
    if not len(denied_before):
        if span >= pd.Timedelta(days=1):
            context.factors.append(
                ScoreFactor(
                    "first_denials_for_user",
                    POINTS_FIRST_DENIALS,
                    f"no denied prompt for this user in the "
                    f"{Counted(span.days, 'day')} of data before",
                )
            )
        return
    days = len(np.unique(denied_before.view(np.int64) // _DAY_NANOSECONDS))
    if days >= HABITUAL_DENIAL_DAYS:
        context.factors.append(
            ScoreFactor(
                "habitual_denier",
                POINTS_HABITUAL_DENIER,
                f"the user denied {Counted(len(denied_before), 'prompt')} on "
                f"{Counted(days, 'day')} before, so denials are less unusual for "
                "them",
            )
        )


def _approval_origin(
    context: Context,
    approval: pd.Series,
    signins: pd.DataFrame,
    anchor: pd.Timestamp,
) -> None:
    times = signins["event_time"].to_numpy(dtype="datetime64[ns]")
    ips, countries, codes = columns_of(signins, ["ip_address", "country", "error_code"])
    # Successful sign-ins before the anchor. Comparisons with NaT are false.
    earlier = [
        before and _is_success(code)
        for before, code in zip(
            (times < anchor.to_datetime64()).tolist(), codes, strict=True
        )
    ]
    known_ips = _present_texts(ips, earlier)
    known_countries = _present_texts(countries, earlier)
    ip = approval.get("ip_address")
    country = approval.get("country")
    if known_ips and isinstance(ip, str) and ip not in known_ips:
        context.factors.append(
            ScoreFactor(
                "approval_from_new_ip",
                POINTS_APPROVAL_NEW_IP,
                f"the approved sign-in came from {ip}, not seen for this user before",
            )
        )
    if known_countries and isinstance(country, str) and country not in known_countries:
        context.factors.append(
            ScoreFactor(
                "approval_from_new_country",
                POINTS_APPROVAL_NEW_COUNTRY,
                f"the approved sign-in came from {country}, a country not seen for "
                "this user before",
            )
        )


def _persistence(
    context: Context,
    approval: pd.Series,
    audit: pd.DataFrame,
    params: DetectionParams,
) -> None:
    if audit.empty:
        return
    approved_at = pd.Timestamp(approval["prompt_time"])
    times = audit["event_time"].to_numpy(dtype="datetime64[ns]")
    window_end = approved_at + params.persistence_window
    in_window = (times > approved_at.to_datetime64()) & (
        times <= window_end.to_datetime64()
    )
    if not in_window.any():
        return
    window = audit.loc[in_window, ["event_time", "activity", "actor_ip", "record_id"]]
    activity = window["activity"].fillna("").astype(str).map(normalise_activity)
    found = window[activity.isin(PERSISTENCE_ACTIVITIES)]
    if found.empty:
        return
    names = sorted(set(found["activity"].astype(str)))
    context.factors.append(
        ScoreFactor(
            "persistence_after_approval",
            POINTS_PERSISTENCE,
            f"{join_entries(names)} within "
            f"{format_duration(params.persistence_window)} after the approval",
        )
    )
    context.escalate_to_critical = True
    for row in found.itertuples(index=False):
        context.events.append(
            TimelineEvent(
                time=row.event_time,
                kind="persistence",
                description=str(row.activity),
                ip_address=row.actor_ip if isinstance(row.actor_ip, str) else None,
                record_id=str(row.record_id),
            )
        )


def actor_context(
    revocation: pd.Series,
    actor_signins: pd.DataFrame,
    actor_audit: pd.DataFrame,
    actor_revocations: pd.DataFrame,
    audit_span: tuple[pd.Timestamp, pd.Timestamp] | None,
    params: DetectionParams,
    in_working_hours: bool | None,
) -> list[ScoreFactor]:
    """Score signs that the revoker itself is compromised.

    Args:
        revocation: the revocation of the chain.
        actor_signins: every sign-in of the revoking user (empty for apps).
        actor_audit: audit rows that target the revoking user.
        actor_revocations: every revocation this actor made.
        audit_span: first and last audit event time in the data.
        params: thresholds.
        in_working_hours: whether the revocation fell in working hours; None when
            unknown.
    """
    factors: list[ScoreFactor] = []
    revoked_at = pd.Timestamp(revocation["revocation_time"])
    lookback_start = revoked_at - params.actor_lookback
    _actor_signins(factors, actor_signins, lookback_start, revoked_at)
    _actor_rate(factors, actor_revocations, revoked_at, audit_span, params)
    if in_working_hours is False:
        factors.append(
            ScoreFactor(
                "outside_working_hours",
                POINTS_OUTSIDE_HOURS,
                f"the revocation at {format_time(revoked_at)} was outside working "
                "hours",
            )
        )
    _actor_changes(factors, actor_audit, lookback_start, revoked_at)
    return factors


def _actor_signins(
    factors: list[ScoreFactor],
    signins: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> None:
    if signins.empty:
        return
    times = signins["event_time"].to_numpy(dtype="datetime64[ns]")
    # Comparisons with NaT are false, as in pandas.
    recent = (times >= start.to_datetime64()) & (times <= end.to_datetime64())
    if not recent.any():
        return
    # The columns are converted to lists once and checked in Python, because each
    # pandas call on a revoker's sign-ins costs more than the checks themselves.
    ips, countries, levels, states, requirements, codes = columns_of(
        signins,
        [
            "ip_address",
            "country",
            "risk_level_during_signin",
            "risk_state",
            "authentication_requirement",
            "error_code",
        ],
    )
    is_recent = recent.tolist()
    is_older = (~recent).tolist()
    for values, name, points, singular, plural in (
        (ips, "revoker_new_ip", POINTS_REVOKER_NEW_IP, "IP address", "IP addresses"),
        (
            countries,
            "revoker_new_country",
            POINTS_REVOKER_NEW_COUNTRY,
            "country",
            "countries",
        ),
    ):
        known = _present_texts(values, is_older)
        new = sorted(_present_texts(values, is_recent) - known)
        if known and new:
            noun = singular if len(new) == 1 else plural
            factors.append(
                ScoreFactor(
                    name,
                    points,
                    f"the revoker signed in from {noun} {join_entries(new)} shortly "
                    "before, not seen for them elsewhere in the data",
                )
            )
    risky = sum(
        1
        for level, state, in_window in zip(levels, states, is_recent, strict=True)
        if in_window
        and (_folded_text(level) in RISKY_LEVELS or _folded_text(state) in RISKY_STATES)
    )
    if risky:
        factors.append(
            ScoreFactor(
                "revoker_risky_signin",
                POINTS_REVOKER_RISKY,
                f"{Counted(risky, 'risky sign-in')} of the revoker shortly before",
            )
        )
    single = sum(
        1
        for requirement, code, in_window in zip(
            requirements, codes, is_recent, strict=True
        )
        if in_window
        and _folded_text(requirement) == "singlefactorauthentication"
        and _is_success(code)
    )
    if single:
        factors.append(
            ScoreFactor(
                "revoker_single_factor",
                POINTS_REVOKER_SINGLE_FACTOR,
                f"the revoker signed in without MFA {Counted(single, 'time')} "
                "shortly before",
            )
        )


def _present_texts(values: list[Any], selected: list[bool]) -> set[str]:
    """Return the selected values that are present, as text."""
    return {
        str(value)
        for value, chosen in zip(values, selected, strict=True)
        if chosen and not pd.isna(value)
    }


def _folded_text(value: object) -> str | None:
    """Return a value case-folded as text, or None when it is missing."""
    return None if pd.isna(value) else str(value).casefold()


def _is_success(code: object) -> bool:
    """Tell whether an error code is 0, which marks a successful sign-in."""
    return not pd.isna(code) and code == 0


def _actor_rate(
    factors: list[ScoreFactor],
    revocations: pd.DataFrame,
    revoked_at: pd.Timestamp,
    audit_span: tuple[pd.Timestamp, pd.Timestamp] | None,
    params: DetectionParams,
) -> None:
    # The actor of a mass revocation has thousands of rows, and they are compared
    # once per chain, so they are compared as NumPy times, which costs less than
    # a pandas comparison. Comparisons with NaT are false, as in pandas.
    times = revocations["revocation_time"].to_numpy(dtype="datetime64[ns]")
    revoked_ns = revoked_at.to_datetime64()
    if audit_span is not None and not (times < revoked_ns).any():
        history = revoked_at - audit_span[0]
        if history >= pd.Timedelta(days=1):
            factors.append(
                ScoreFactor(
                    "revoker_first_revocation",
                    POINTS_REVOKER_FIRST,
                    f"the actor's first revocation in "
                    f"{Counted(history.days, 'day')} of audit data",
                )
            )
    if audit_span is None:
        return
    window = params.campaign_window
    window_text = format_duration(window)
    window_start = (revoked_at - window).to_datetime64()
    window_end = (revoked_at + window).to_datetime64()
    nearby = int(((times >= window_start) & (times <= window_end)).sum())
    span = max(audit_span[1] - audit_span[0], window)
    usual = len(times) / (span / window)
    if (
        nearby >= params.campaign_min_targets
        and nearby >= REVOKER_RATE_SPIKE_RATIO * max(usual, 1.0)
    ):
        factors.append(
            ScoreFactor(
                "revoker_rate_spike",
                POINTS_REVOKER_RATE_SPIKE,
                f"{nearby} revocations by this actor within {window_text} of this "
                f"one, against about {usual:.1f} per {window_text} over the data",
            )
        )


def _actor_changes(
    factors: list[ScoreFactor],
    audit: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> None:
    if audit.empty:
        return
    # The rows are checked in Python, because each pandas call on an actor's few
    # audit rows costs more than the checks. Comparisons with NaT are false.
    times = audit["event_time"].to_numpy(dtype="datetime64[ns]")
    recent = (times >= start.to_datetime64()) & (times < end.to_datetime64())
    if not recent.any():
        return
    positions = recent.nonzero()[0].tolist()
    recent_times = audit["event_time"].iloc[positions]
    all_names = audit["activity"].tolist()
    names = [all_names[position] for position in positions]
    activity = [
        normalise_activity("" if pd.isna(name) else str(name)) for name in names
    ]
    for activities, name, points, text in (
        (
            ROLE_GRANT_ACTIVITIES,
            "revoker_role_granted",
            POINTS_REVOKER_ROLE,
            "a role was granted to the revoker",
        ),
        (
            MFA_CHANGE_ACTIVITIES,
            "revoker_mfa_changed",
            POINTS_REVOKER_MFA_CHANGE,
            "an MFA method of the revoker was changed",
        ),
    ):
        found = [
            position for position, folded in enumerate(activity) if folded in activities
        ]
        if found:
            first = recent_times.iloc[found].min()
            found_names = sorted({str(names[position]) for position in found})
            listed = join_entries(found_names, reserved=")")
            factors.append(
                ScoreFactor(
                    name,
                    points,
                    f"{text} at {format_time(first)} ({listed})",
                )
            )
