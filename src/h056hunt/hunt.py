"""Run the hunt over loaded data: detect, add context, score, group, suppress.

Detection runs per user (bursts and chains) and per actor (campaigns, revoker
context). The context that scoring needs, each user's and revoker's sign-in history,
is read only for the users and actors that appear in a match.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from h056hunt.build import (
    build_campaign_finding,
    build_finding,
    revoked_grants,
    shared_origin_factor,
)
from h056hunt.config import HuntConfig
from h056hunt.coverage import coverage_warnings
from h056hunt.detect.campaigns import actor_key, find_campaigns, shared_origins
from h056hunt.detect.chains import DetectionParams, Match, detect_all
from h056hunt.detect.context import Context, actor_context, user_context
from h056hunt.detect.prompts import extract_prompts
from h056hunt.detect.revocations import find_revocations
from h056hunt.findings import Finding, FindingType
from h056hunt.load import LoadedData
from h056hunt.suppress import Suppression, apply_allowlist

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
    suppressed: list[Suppression] = field(default_factory=list)


def run_hunt(
    data: LoadedData, params: DetectionParams, config: HuntConfig | None = None
) -> HuntResult:
    """Find revocation chains, campaigns and prompt bursts in loaded data."""
    config = config or HuntConfig(params=params)
    revocations, near_misses = find_revocations(
        data.audit, params.revocation_activities
    )
    _warn_near_misses(near_misses)
    prompts = extract_prompts(data.signin, data.steps)
    fallback_rows = _count_upn_fallback(prompts, revocations)
    matches = detect_all(revocations, prompts, params)
    findings = _score_matches(matches, data, revocations, prompts, params, config)
    findings.sort(key=Finding.sort_key)
    findings, suppressed = apply_allowlist(findings, config.allowlist)
    for item in suppressed:
        logger.info(
            "suppressed %s by %s: %s", item.finding.finding_id, item.entry, item.reason
        )
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
        suppressed=suppressed,
    )


def _warn_near_misses(near_misses: pd.DataFrame) -> None:
    for activity, count in near_misses["activity"].value_counts().sort_index().items():
        logger.warning(
            "possible revocation, not matched: %d audit record(s) with activity %r; "
            "add it with --revocation-activity if it revokes sessions",
            count,
            activity,
        )


def _count_upn_fallback(prompts: pd.DataFrame, revocations: pd.DataFrame) -> int:
    rows = int(prompts["upn_fallback"].sum()) if len(prompts) else 0
    if len(revocations):
        rows += int(revocations["upn_fallback"].sum())
    if rows:
        logger.warning(
            "%d record(s) have no user object id; they were matched by normalised UPN "
            "instead, which is less reliable",
            rows,
        )
    return rows


def _score_matches(
    matches: list[Match],
    data: LoadedData,
    revocations: pd.DataFrame,
    prompts: pd.DataFrame,
    params: DetectionParams,
    config: HuntConfig,
) -> list[Finding]:
    admin = revocations
    if len(revocations):
        admin = revocations[~revocations["is_self_revocation"].astype(bool)]
    actor_keys = admin.apply(actor_key, axis=1) if len(admin) else pd.Series(dtype=str)
    chains = [match for match in matches if match.revocation is not None]
    campaigns = []
    for key, actor_rows in admin.groupby(actor_keys, sort=True) if len(admin) else ():
        own_chains = [
            chain
            for chain in chains
            if actor_key(chain.revocation) == key  # type: ignore[arg-type]
        ]
        campaigns.extend(find_campaigns(actor_rows, own_chains, params))
    shared_by_chain: dict[int, dict[str, dict[str, list[str]]]] = {}
    shared_by_campaign = []
    for campaign in campaigns:
        shared = shared_origins(campaign.chains)
        shared_by_campaign.append(shared)
        for chain in campaign.chains:
            shared_by_chain[id(chain)] = shared
    people = _ContextData(data, prompts, matches)
    grants = revoked_grants(data.signin)
    audit_span = data.time_span("audit")
    findings = []
    by_match: dict[int, Finding] = {}
    for match in matches:
        context = people.user_context(match, params)
        if match.revocation is not None:
            in_hours = (
                config.working_hours.contains(
                    pd.Timestamp(match.revocation["revocation_time"])
                )
                if match.revocation["actor_type"] == "user"
                else None
            )
            context.factors.extend(
                people.actor_context(
                    match.revocation, admin, audit_span, params, in_hours
                )
            )
        shared = shared_by_chain.get(id(match))
        if shared is not None:
            factor = shared_origin_factor(match.user_key, shared)
            if factor is not None:
                context.factors.append(factor)
        finding = build_finding(match, params, grants, context)
        by_match[id(match)] = finding
        findings.append(finding)
    for campaign, shared in zip(campaigns, shared_by_campaign, strict=True):
        chain_findings = [by_match[id(chain)] for chain in campaign.chains]
        findings.append(
            build_campaign_finding(campaign.revocations, chain_findings, shared, params)
        )
    if params.chain_only:
        findings = [f for f in findings if f.finding_type != FindingType.PUSH_BOMBING]
    return findings


class _ContextData:
    """Sign-ins and audit rows of the users and actors that matter, by key."""

    def __init__(
        self, data: LoadedData, prompts: pd.DataFrame, matches: list[Match]
    ) -> None:
        users = {match.user_key for match in matches}
        actors = {
            str(match.revocation["actor_id"]).lower()
            for match in matches
            if match.revocation is not None
            and isinstance(match.revocation["actor_id"], str)
        }
        wanted = users | actors
        signin_keys = data.signin["user_id"].astype("string").str.lower()
        self.signins = data.signin[signin_keys.isin(wanted).fillna(False)].assign(
            _key=signin_keys
        )
        audit_keys = data.audit["target_id"].astype("string").str.lower()
        self.audit = data.audit[audit_keys.isin(wanted).fillna(False)].assign(
            _key=audit_keys
        )
        self.prompts = prompts[prompts["user_key"].isin(users)]

    def user_context(self, match: Match, params: DetectionParams) -> Context:
        key = match.user_key
        return user_context(
            match,
            self.prompts[self.prompts["user_key"] == key],
            self.signins[self.signins["_key"] == key],
            self.audit[self.audit["_key"] == key],
            params,
        )

    def actor_context(
        self,
        revocation: pd.Series,
        admin_revocations: pd.DataFrame,
        audit_span: tuple[pd.Timestamp, pd.Timestamp] | None,
        params: DetectionParams,
        in_working_hours: bool | None,
    ) -> list:
        actor_id = revocation["actor_id"]
        key = str(actor_id).lower() if isinstance(actor_id, str) else None
        own = admin_revocations[
            admin_revocations.apply(actor_key, axis=1) == actor_key(revocation)
        ]
        return actor_context(
            revocation,
            self.signins[self.signins["_key"] == key]
            if key
            else self.signins.iloc[0:0],
            self.audit[self.audit["_key"] == key] if key else self.audit.iloc[0:0],
            own,
            audit_span,
            params,
            in_working_hours,
        )
