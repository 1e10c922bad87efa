"""Turn detection matches into scored, explained findings."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

import pandas as pd

from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.detect.context import Context
from h056hunt.detect.prompts import (
    APPROVED,
    ERROR_REVOKED_GRANT,
    OUTCOMES,
    STEP_TIME_MAX_OFFSET,
)
from h056hunt.findings import (
    Actor,
    Evidence,
    Finding,
    FindingType,
    ScoreFactor,
    TimelineEvent,
)
from h056hunt.plurals import Counted
from h056hunt.render.text import format_duration, format_time
from h056hunt.schema import columns_of
from h056hunt.score import POINTS_SHARED_ORIGIN, score_match

logger = logging.getLogger(__name__)

# Findings named one by one in the warnings about step times; the rest are counted.
STEP_WARNINGS_NAMED = 5


def revoked_grants(signin: pd.DataFrame) -> pd.DataFrame:
    """Return sign-ins rejected with 50173: evidence that a revocation took effect."""
    codes = signin["error_code"].astype("Int64")
    return signin[(codes == ERROR_REVOKED_GRANT).fillna(False)]


def build_finding(
    match: Match,
    params: DetectionParams,
    revoked_grants: pd.DataFrame,
    context: Context,
    last_revocation: pd.Series | None = None,
) -> Finding:
    """Score one match and describe it: summary, timeline and evidence.

    ``last_revocation`` is, for a burst without a revocation, the user's last
    revocation before its first denial, which the summary names.
    """
    actor = actor_of(match.revocation) if match.revocation is not None else None
    score, factors, severity = score_match(
        match,
        params,
        actor.label if actor else None,
        context.factors,
        context.escalate_to_critical,
    )
    # Every value read from the prompts is converted once, because each pandas
    # call on a small frame costs more than the Python work on its values.
    prompts = _PromptValues(*columns_of(match.prompts, _PromptValues._fields))
    outcomes = Counter(prompts.outcome)
    counts = {name: outcomes[name] for name in OUTCOMES}
    first_prompt = match.denials["prompt_time"].iloc[0]
    last_prompt = prompts.prompt_time[-1]
    user_upn = prompts.user_upn[0]
    user_id = prompts.user_id[0]
    user_display_name = prompts.user_display_name[0]
    revocation = match.revocation
    finding_type = (
        FindingType.REVOCATION_CHAIN
        if revocation is not None
        else FindingType.PUSH_BOMBING
    )
    target_upn = first_text(
        revocation["target_upn"] if revocation is not None else None,
        user_upn,
    )
    signin_upns = list(_distinct(prompts.user_upn))
    approval_time = (
        match.approval["prompt_time"] if match.approval is not None else None
    )
    timeline = tuple(
        sorted(
            (*_timeline(match, prompts, revoked_grants), *context.events),
            key=lambda event: (event.time.value, event.kind, event.record_id or ""),
        )
    )
    finding_id = _finding_id(finding_type, match)
    replaced_times = sum(prompts.step_time_replaced)
    unreadable_times = sum(prompts.step_time_unreadable)
    return Finding(
        finding_id=finding_id,
        finding_type=finding_type,
        severity=severity,
        score=score,
        score_factors=factors,
        target_user_id=first_text(
            revocation["target_id"] if revocation is not None else None,
            user_id,
        ),
        target_upn=target_upn,
        target_display_name=first_text(
            user_display_name,
            revocation["target_display_name"] if revocation is not None else None,
        ),
        actor=actor,
        revocation_time=revocation["revocation_time"]
        if revocation is not None
        else None,
        first_prompt_time=first_prompt,
        last_prompt_time=last_prompt,
        prompt_counts=counts,
        approved=match.approval is not None,
        approval_time=approval_time,
        source_ips=_distinct(prompts.ip_address),
        countries=_distinct(prompts.country),
        user_agents=_distinct(prompts.user_agent),
        evidence=_evidence(match, prompts),
        timeline=timeline,
        summary=_summary(
            match, actor, target_upn, counts, last_revocation, params.max_lag
        ),
        extra={
            "signin_upns": signin_upns,
            "peak_denials": match.peak_denials,
            "last_denial_time": match.denials["prompt_time"].iloc[-1],
            "other_revocations": sorted(match.other_revocations),
            "upn_fallback": any(prompts.upn_fallback),
            "prompts_without_ip": sum(pd.isna(value) for value in prompts.ip_address),
            "step_times_replaced": replaced_times,
            "step_times_unreadable": unreadable_times,
        },
    )


def warn_step_times(findings: list[Finding]) -> None:
    """Warn about the findings whose prompts took their sign-in's time in place of
    their authentication step's time.

    The first :data:`STEP_WARNINGS_NAMED` such findings get their own lines and the
    rest one line, because broken step times in an export can touch every finding.
    """
    affected = [
        finding
        for finding in findings
        if finding.extra.get("step_times_replaced")
        or finding.extra.get("step_times_unreadable")
    ]
    for finding in affected[:STEP_WARNINGS_NAMED]:
        _warn_step_times(
            finding.finding_id,
            finding.extra.get("step_times_replaced", 0),
            finding.extra.get("step_times_unreadable", 0),
        )
    rest = len(affected) - STEP_WARNINGS_NAMED
    if rest > 0:
        logger.warning(
            "%s prompts dated at their sign-in's time for the same reasons; "
            "--format json, jsonl or csv gives each finding's step_times_replaced "
            "and step_times_unreadable, and --format markdown or html shows both "
            "counts with each finding",
            Counted(rest, "more finding has", "more findings have"),
        )


def _warn_step_times(finding_id: str, replaced: int, unreadable: int) -> None:
    """Warn when some of a finding's prompts took their sign-in's time in place of
    their authentication step's time."""
    if replaced:
        logger.warning(
            "finding %s: %s more than %s from %s, so %s dated at that time "
            "instead; check the authenticationStepDateTime in the "
            "authenticationDetails of the finding's evidence records",
            finding_id,
            Counted(
                replaced,
                "authentication step time is",
                "authentication step times are",
            ),
            format_duration(STEP_TIME_MAX_OFFSET),
            _signin_time_of(replaced),
            _prompts_are(replaced),
        )
    if unreadable:
        logger.warning(
            "finding %s: %s not a valid timestamp, so %s dated at %s instead; "
            "check the authenticationStepDateTime in the authenticationDetails "
            "of the finding's evidence records",
            finding_id,
            Counted(
                unreadable,
                "authentication step time is",
                "authentication step times are",
            ),
            _prompts_are(unreadable),
            _signin_time_of(unreadable),
        )


def _signin_time_of(count: int) -> str:
    """Name the sign-in time of one step or of several, for a warning."""
    if count == 1:
        return "its sign-in's createdDateTime"
    return "their sign-ins' createdDateTime"


def _prompts_are(count: int) -> str:
    """Name the prompt of one step or those of several, with a verb that agrees."""
    if count == 1:
        return "its prompt is"
    return "their prompts are"


def actor_of(revocation: pd.Series) -> Actor:
    """Return the revoker of a revocation row."""
    return Actor(
        type=str(revocation["actor_type"]),
        id=first_text(revocation["actor_id"]),
        upn=first_text(revocation["actor_upn"]),
        display_name=first_text(revocation["actor_display_name"]),
        ip=first_text(revocation["actor_ip"]),
        app_id=first_text(revocation["actor_app_id"]),
        service_principal_id=first_text(revocation["actor_service_principal_id"]),
    )


def first_text(*values: object) -> str | None:
    """Return the first value that is present and not empty, as text, or None."""
    for value in values:
        if value is not None and not pd.isna(value) and str(value):
            return str(value)
    return None


def _distinct(values: Iterable[object]) -> tuple[str, ...]:
    """Return the distinct values as text, sorted, without missing values."""
    return tuple(sorted({str(value) for value in values if not pd.isna(value)}))


class _PromptValues(NamedTuple):
    """The columns of a match's prompts that a finding reads, as lists."""

    record_id: list[Any]
    prompt_time: list[pd.Timestamp]
    source_file: list[Any]
    source_line: list[Any]
    source_record: list[Any]
    outcome: list[Any]
    detail: list[Any]
    ip_address: list[Any]
    country: list[Any]
    user_agent: list[Any]
    user_upn: list[Any]
    user_id: list[Any]
    user_display_name: list[Any]
    upn_fallback: list[bool]
    step_time_replaced: list[bool]
    step_time_unreadable: list[bool]


def _finding_id(finding_type: FindingType, match: Match) -> str:
    anchor = (
        str(match.revocation["revocation_id"]) if match.revocation is not None else ""
    )
    denials = match.denials
    text = "|".join(
        [
            finding_type.value,
            match.user_key,
            anchor,
            str(denials["record_id"].iloc[0]),
            format_time(denials["prompt_time"].iloc[0]),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _evidence(match: Match, prompts: _PromptValues) -> tuple[Evidence, ...]:
    items: list[Evidence] = []
    revocation = match.revocation
    if revocation is not None:
        items.append(
            Evidence(
                kind="revocation",
                record_id=str(revocation["revocation_id"]),
                time=revocation["revocation_time"],
                file=str(revocation["source_file"]),
                line=optional_int(revocation["source_line"]),
                record=optional_int(revocation["source_record"]),
                detail=str(revocation["activity"]),
            )
        )
    for record_id, time, file, line, record, outcome, detail in zip(
        prompts.record_id,
        prompts.prompt_time,
        prompts.source_file,
        prompts.source_line,
        prompts.source_record,
        prompts.outcome,
        prompts.detail,
        strict=True,
    ):
        items.append(
            Evidence(
                kind="prompt",
                record_id=str(record_id),
                time=time,
                file=str(file),
                line=optional_int(line),
                record=optional_int(record),
                outcome=str(outcome),
                detail=first_text(detail),
            )
        )
    return tuple(items)


def optional_int(value: object) -> int | None:
    """Return the value as an int, or None when it is missing."""
    if value is None or pd.isna(value):
        return None
    return int(value)  # type: ignore[call-overload,no-any-return]


def _timeline(
    match: Match, prompts: _PromptValues, revoked_grants: pd.DataFrame
) -> tuple[TimelineEvent, ...]:
    events: list[TimelineEvent] = []
    revocation = match.revocation
    if revocation is not None:
        events.append(
            TimelineEvent(
                time=revocation["revocation_time"],
                kind="revocation",
                description=f"{revocation['activity']} "
                f"(record {revocation['revocation_id']})",
                ip_address=first_text(revocation["actor_ip"]),
                record_id=str(revocation["revocation_id"]),
            )
        )
        events.extend(_rejected_grants(match, revocation, revoked_grants))
    for record_id, time, outcome, detail, ip_address, country in zip(
        prompts.record_id,
        prompts.prompt_time,
        prompts.outcome,
        prompts.detail,
        prompts.ip_address,
        prompts.country,
        strict=True,
    ):
        kind = "approval" if outcome == APPROVED else f"prompt_{outcome}"
        events.append(
            TimelineEvent(
                time=time,
                kind=kind,
                description=first_text(detail) or str(outcome),
                ip_address=first_text(ip_address),
                country=first_text(country),
                record_id=str(record_id),
            )
        )
    events.sort(key=lambda event: (event.time.value, event.kind, event.record_id or ""))
    return tuple(events)


def _rejected_grants(
    match: Match, revocation: pd.Series, revoked_grants: pd.DataFrame
) -> list[TimelineEvent]:
    """Return an event per 50173 sign-in of the user between the revocation and
    the last prompt."""
    if revoked_grants.empty:
        return []
    # A user has few such sign-ins, so they are checked in Python on values
    # converted once, which is quicker than filtering the frame twice. The ids
    # are lower-cased as user_keys lower-cases them.
    user_ids = revoked_grants["user_id"].astype("string").str.lower()
    is_user = (user_ids == match.user_key).fillna(False).tolist()
    times, ip_addresses, countries, record_ids = columns_of(
        revoked_grants, ["event_time", "ip_address", "country", "record_id"]
    )
    revoked_at = revocation["revocation_time"]
    last_prompt = match.prompts["prompt_time"].iloc[-1]

    events = []
    for own, time, ip_address, country, record_id in zip(
        is_user, times, ip_addresses, countries, record_ids, strict=True
    ):
        # Comparisons with NaT are false, as in pandas.
        if not own or not revoked_at < time <= last_prompt:
            continue
        events.append(
            TimelineEvent(
                time=time,
                kind="revoked_token_rejected",
                description="error 50173: a revoked refresh token was presented",
                ip_address=first_text(ip_address),
                country=first_text(country),
                record_id=str(record_id),
            )
        )
    return events


def _summary(
    match: Match,
    actor: Actor | None,
    target_upn: str | None,
    counts: dict[str, int],
    last_revocation: pd.Series | None = None,
    max_lag: pd.Timedelta | None = None,
) -> str:
    denied = len(match.denials)
    first = match.denials["prompt_time"].iloc[0]
    last = match.denials["prompt_time"].iloc[-1]
    user = target_upn or match.user_key
    parts = []
    if match.revocation is not None and actor is not None:
        lag = first - match.revocation["revocation_time"]
        parts.append(
            f"{actor.label} revoked the sessions of {user}; "
            f"{format_duration(lag)} later {denied} prompts were denied over "
            f"{format_duration(last - first)}"
        )
    elif last_revocation is None:
        parts.append(
            f"{denied} denied prompts for {user} over {format_duration(last - first)}"
            " with no revocation of this user in the audit data before them"
        )
    else:
        # A revocation before the burst that detection did not join to it: the
        # user's own, one older than the maximum lag, or one joined to an earlier
        # burst.
        revoked_at = last_revocation["revocation_time"]
        by = (
            "the user"
            if bool(last_revocation["is_self_revocation"])
            else actor_of(last_revocation).label
        )
        lag = first - revoked_at
        late = (
            f", past the maximum lag of {format_duration(max_lag)}"
            if max_lag is not None and lag > max_lag
            else ""
        )
        parts.append(
            f"{denied} denied prompts for {user} over {format_duration(last - first)}"
            f", not joined to the last revocation of this user before them, by {by}"
            f" at {format_time(revoked_at)}, {format_duration(lag)} before the first"
            f" denial{late}"
        )
    if counts.get("fraud"):
        parts.append(f"{counts['fraud']} reported as fraud")
    if match.approval is not None:
        parts.append(f"then approved at {format_time(match.approval['prompt_time'])}")
    return ", ".join(parts)


SHARED_ORIGIN_NOUNS = {
    "ip_address": "source IP",
    "country": "country",
    "user_agent": "user agent",
}


def shared_origin_factor(
    user_key: str, shared: dict[str, dict[str, list[str]]]
) -> ScoreFactor | None:
    """Return the factor for a chain whose denials share a source IP, country or
    user agent with other targets of the same campaign, or None.

    Each value is quoted with repr(), because the facts are joined with "; " and a
    user agent can contain any text, that separator included.
    """
    nouns = SHARED_ORIGIN_NOUNS
    facts = []
    for column, values in shared.items():
        for value, users in values.items():
            if user_key in users:
                facts.append(
                    f"{nouns[column]} {value!r} also sent prompts to "
                    f"{Counted(len(users) - 1, 'other target')} of this revoker"
                )
    if not facts:
        return None
    return ScoreFactor("shared_attacker_origin", POINTS_SHARED_ORIGIN, "; ".join(facts))
