"""Run the hunt over loaded data and build scored, explained findings."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import pandas as pd

from h056hunt.detect.chains import DetectionParams, Match, detect_all
from h056hunt.detect.prompts import (
    APPROVED,
    ERROR_REVOKED_GRANT,
    OUTCOMES,
    extract_prompts,
)
from h056hunt.detect.revocations import find_revocations
from h056hunt.findings import (
    Actor,
    Evidence,
    Finding,
    FindingType,
    TimelineEvent,
)
from h056hunt.load import LoadedData
from h056hunt.render.text import format_duration, format_time
from h056hunt.score import score_match

logger = logging.getLogger(__name__)


@dataclass
class HuntResult:
    """Findings of a run and what the detection saw on the way."""

    findings: list[Finding]
    revocations: pd.DataFrame
    near_misses: pd.DataFrame
    prompts: pd.DataFrame
    coverage_warnings: list[str] = field(default_factory=list)
    upn_fallback_rows: int = 0


def run_hunt(data: LoadedData, params: DetectionParams) -> HuntResult:
    """Find revocation chains and prompt bursts in loaded data."""
    revocations, near_misses = find_revocations(
        data.audit, params.revocation_activities
    )
    for activity, count in near_misses["activity"].value_counts().sort_index().items():
        logger.warning(
            "possible revocation, not matched: %d audit record(s) with activity %r; "
            "add it with --revocation-activity if it revokes sessions",
            count,
            activity,
        )
    prompts = extract_prompts(data.signin, data.steps)
    fallback_rows = int(prompts["upn_fallback"].sum()) if len(prompts) else 0
    if len(revocations):
        fallback_rows += int(revocations["upn_fallback"].sum())
    if fallback_rows:
        logger.warning(
            "%d record(s) have no user object id; they were matched by normalised UPN "
            "instead, which is less reliable",
            fallback_rows,
        )
    matches = detect_all(revocations, prompts, params)
    revoked_grants = _revoked_grants(data.signin)
    findings = [_build_finding(match, params, revoked_grants) for match in matches]
    findings.sort(key=Finding.sort_key)
    coverage = coverage_warnings(data, revocations, params)
    for warning in coverage:
        logger.warning("%s", warning)
    return HuntResult(
        findings=findings,
        revocations=revocations,
        near_misses=near_misses,
        prompts=prompts,
        coverage_warnings=coverage,
        upn_fallback_rows=fallback_rows,
    )


def _revoked_grants(signin: pd.DataFrame) -> pd.DataFrame:
    """Sign-ins rejected with 50173: evidence that a revocation took effect."""
    codes = signin["error_code"].astype("Int64")
    return signin[(codes == ERROR_REVOKED_GRANT).fillna(False)]


def _build_finding(
    match: Match, params: DetectionParams, revoked_grants: pd.DataFrame
) -> Finding:
    actor = _actor(match.revocation) if match.revocation is not None else None
    score, factors, severity = score_match(
        match, params, actor.label if actor else None
    )
    prompts = match.prompts
    counts = {name: int((prompts["outcome"] == name).sum()) for name in OUTCOMES}
    first_prompt = match.denials["prompt_time"].iloc[0]
    last_prompt = prompts["prompt_time"].iloc[-1]
    identity = prompts.iloc[0]
    revocation = match.revocation
    finding_type = (
        FindingType.REVOCATION_CHAIN if revocation is not None
        else FindingType.PUSH_BOMBING
    )
    target_upn = _first_text(
        revocation["target_upn"] if revocation is not None else None,
        identity["user_upn"],
    )
    signin_upns = sorted(set(prompts["user_upn"].dropna().astype(str)))
    approval_time = (
        match.approval["prompt_time"] if match.approval is not None else None
    )
    timeline = _timeline(match, revoked_grants)
    return Finding(
        finding_id=_finding_id(finding_type, match),
        finding_type=finding_type,
        severity=severity,
        score=score,
        score_factors=factors,
        target_user_id=_first_text(
            revocation["target_id"] if revocation is not None else None,
            identity["user_id"],
        ),
        target_upn=target_upn,
        target_display_name=_first_text(
            identity["user_display_name"],
            revocation["target_display_name"] if revocation is not None else None,
        ),
        actor=actor,
        revocation_time=revocation["revocation_time"] if revocation is not None
        else None,
        first_prompt_time=first_prompt,
        last_prompt_time=last_prompt,
        prompt_counts=counts,
        approved=match.approval is not None,
        approval_time=approval_time,
        source_ips=_distinct(prompts["ip_address"]),
        countries=_distinct(prompts["country"]),
        user_agents=_distinct(prompts["user_agent"]),
        evidence=_evidence(match),
        timeline=timeline,
        summary=_summary(match, actor, target_upn, counts),
        extra={
            "signin_upns": signin_upns,
            "peak_denials": match.peak_denials,
            "other_revocations": sorted(match.other_revocations),
            "upn_fallback": bool(prompts["upn_fallback"].any()),
        },
    )


def _actor(revocation: pd.Series) -> Actor:
    return Actor(
        type=str(revocation["actor_type"]),
        id=_first_text(revocation["actor_id"]),
        upn=_first_text(revocation["actor_upn"]),
        display_name=_first_text(revocation["actor_display_name"]),
        ip=_first_text(revocation["actor_ip"]),
        app_id=_first_text(revocation["actor_app_id"]),
        service_principal_id=_first_text(revocation["actor_service_principal_id"]),
    )


def _first_text(*values: object) -> str | None:
    for value in values:
        if value is not None and not pd.isna(value) and str(value):
            return str(value)
    return None


def _distinct(values: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(set(values.dropna().astype(str))))


def _finding_id(finding_type: FindingType, match: Match) -> str:
    anchor = (
        str(match.revocation["revocation_id"]) if match.revocation is not None else ""
    )
    first = match.denials.iloc[0]
    text = "|".join(
        [
            finding_type.value,
            match.user_key,
            anchor,
            str(first["record_id"]),
            format_time(first["prompt_time"]),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _evidence(match: Match) -> tuple[Evidence, ...]:
    items: list[Evidence] = []
    revocation = match.revocation
    if revocation is not None:
        items.append(
            Evidence(
                kind="revocation",
                record_id=str(revocation["revocation_id"]),
                time=revocation["revocation_time"],
                file=str(revocation["source_file"]),
                line=_optional_int(revocation["source_line"]),
                record=_optional_int(revocation["source_record"]),
                detail=str(revocation["activity"]),
            )
        )
    for prompt in match.prompts.itertuples(index=False):
        items.append(
            Evidence(
                kind="prompt",
                record_id=str(prompt.record_id),
                time=prompt.prompt_time,
                file=str(prompt.source_file),
                line=_optional_int(prompt.source_line),
                record=_optional_int(prompt.source_record),
                outcome=str(prompt.outcome),
                detail=_first_text(prompt.detail),
            )
        )
    return tuple(items)


def _optional_int(value: object) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(value)  # type: ignore[call-overload]


def _timeline(match: Match, revoked_grants: pd.DataFrame) -> tuple[TimelineEvent, ...]:
    events: list[TimelineEvent] = []
    revocation = match.revocation
    if revocation is not None:
        events.append(
            TimelineEvent(
                time=revocation["revocation_time"],
                kind="revocation",
                description=f"{revocation['activity']} "
                f"(record {revocation['revocation_id']})",
                ip_address=_first_text(revocation["actor_ip"]),
                record_id=str(revocation["revocation_id"]),
            )
        )
        user_grants = revoked_grants[
            revoked_grants["user_id"].astype("string").str.lower() == match.user_key
        ]
        after = user_grants[
            (user_grants["event_time"] > revocation["revocation_time"])
            & (user_grants["event_time"] <= match.prompts["prompt_time"].iloc[-1])
        ]
        for grant in after.itertuples(index=False):
            events.append(
                TimelineEvent(
                    time=grant.event_time,
                    kind="revoked_token_rejected",
                    description="error 50173: a revoked refresh token was presented",
                    ip_address=_first_text(grant.ip_address),
                    country=_first_text(grant.country),
                    record_id=str(grant.record_id),
                )
            )
    for prompt in match.prompts.itertuples(index=False):
        kind = "approval" if prompt.outcome == APPROVED else f"prompt_{prompt.outcome}"
        events.append(
            TimelineEvent(
                time=prompt.prompt_time,
                kind=kind,
                description=_first_text(prompt.detail) or str(prompt.outcome),
                ip_address=_first_text(prompt.ip_address),
                country=_first_text(prompt.country),
                record_id=str(prompt.record_id),
            )
        )
    events.sort(key=lambda event: (event.time.value, event.kind, event.record_id or ""))
    return tuple(events)


def _summary(
    match: Match, actor: Actor | None, target_upn: str | None, counts: dict[str, int]
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
    else:
        parts.append(
            f"{denied} denied prompts for {user} over {format_duration(last - first)}"
            " with no revocation of this user before them"
        )
    if counts.get("fraud"):
        parts.append(f"{counts['fraud']} reported as fraud")
    if match.approval is not None:
        parts.append(f"then approved at {format_time(match.approval['prompt_time'])}")
    return ", ".join(parts)


def coverage_warnings(
    data: LoadedData, revocations: pd.DataFrame, params: DetectionParams
) -> list[str]:
    """Name each revocation whose follow-up window the sign-in data does not cover.

    Each sign-in file covers its first-to-last event time, split wherever the file
    has no event for longer than ``max_lag``. A stretch that no file covers, including
    a gap between two exports, is not covered.
    """
    if revocations.empty:
        return []
    admin = revocations[~revocations["is_self_revocation"].astype(bool)]
    if admin.empty:
        return []
    ranges = covered_ranges(data.signin, params.max_lag)
    if not ranges:
        return [
            f"no sign-in data was loaded: {len(admin)} revocation(s) cannot be "
            "followed, so no chain can be found (not looked at, not clean)"
        ]
    warnings = []
    for revocation in admin.itertuples(index=False):
        start = revocation.revocation_time
        end = start + params.max_lag
        for hole_start, hole_end in _uncovered(ranges, start, end):
            # A stretch shorter than the burst window cannot hide a whole burst.
            if hole_end - hole_start < params.burst_window:
                continue
            warnings.append(
                f"sign-in data does not cover {format_time(hole_start)} to "
                f"{format_time(hole_end)}, inside the follow-up window of the "
                f"revocation of {revocation.target_upn or revocation.user_key} at "
                f"{format_time(start)}: a quiet result there means not looked at"
            )
    return warnings


def covered_ranges(
    signin: pd.DataFrame, max_gap: pd.Timedelta
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return the sorted time ranges that the sign-in files cover."""
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    if signin.empty:
        return ranges
    for _, times in signin.groupby("source_file", sort=True)["event_time"]:
        ordered = times.sort_values().reset_index(drop=True)
        breaks = ordered.diff() > max_gap
        segment = breaks.cumsum()
        for _, part in ordered.groupby(segment):
            ranges.append((part.iloc[0], part.iloc[-1]))
    return sorted(ranges)


def _uncovered(
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]],
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return the stretches of ``[start, end]`` that no range covers."""
    holes = []
    cursor = start
    for range_start, range_end in ranges:
        if range_end < cursor:
            continue
        if range_start >= end:
            break
        if range_start > cursor:
            holes.append((cursor, range_start))
        cursor = max(cursor, range_end)
    if cursor < end:
        holes.append((cursor, end))
    return holes
