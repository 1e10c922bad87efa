"""Run the hunt over loaded data in three stages: prepare, detect, finish.

* :func:`prepare` finds the revocations in the audit frame and the MFA prompts in the
  sign-in frames.
* Detection runs per user (:func:`h056hunt.detect.chains.detect_all`), so another
  engine can run the same kernel per partition of users.
* :func:`finish` adds context, scores, groups campaigns per revoker, applies the
  allowlist and checks coverage.

The context that scoring needs, each user's and revoker's sign-in history, is read
only for the users and actors that appear in a match (:func:`context_keys`), so an
engine that keeps the data elsewhere only has to hand over those rows.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from h056hunt.build import (
    build_finding,
    revoked_grants,
    shared_origin_factor,
    warn_step_times,
)
from h056hunt.campaign_finding import build_campaign_finding
from h056hunt.config import HuntConfig
from h056hunt.coverage import audit_coverage_warnings, coverage_warnings
from h056hunt.detect.campaigns import (
    Campaign,
    actor_key,
    actor_keys,
    find_campaigns,
    shared_origins,
)
from h056hunt.detect.chains import DetectionParams, Match, detect_all
from h056hunt.detect.context import Context, actor_context, user_context
from h056hunt.detect.identity import build_upn_index, upn_pair_columns
from h056hunt.detect.keyed_rows import RowsByKey
from h056hunt.detect.prompts import (
    PromptExtractor,
    denial_step_time_counts,
    denial_steps_without_signin,
    unjoined_step_requests,
)
from h056hunt.detect.revocations import find_revocations
from h056hunt.errors import ProgramText
from h056hunt.findings import Finding, FindingType, ScoreFactor
from h056hunt.heap import release_free_memory
from h056hunt.load import LoadedData
from h056hunt.plurals import Counted
from h056hunt.render.text import display_text, plain
from h056hunt.row_runs import take_in_runs
from h056hunt.suppress import Suppression, apply_allowlist

__all__ = [
    "ADMIN_COLUMNS",
    "POSITION_COLUMN",
    "HuntInputs",
    "HuntResult",
    "admin_revocations",
    "context_keys",
    "coverage_warnings",
    "find_all_campaigns",
    "finish",
    "hunt_inputs",
    "paused_garbage_collection",
    "prepare",
    "rows_for_keys",
    "run_hunt",
]

logger = logging.getLogger(__name__)


@dataclass
class HuntResult:
    """Findings of a run and what the detection saw on the way.

    Attributes:
        prompts: the prompts the context stage read. The local engine keeps every
            prompt; the Spark engine keeps only those of users with a match.
        prompt_count: every prompt extracted, on either engine.
        denial_step_times_replaced: denial prompts among all extracted that
            took their sign-in's time, because their step time lay more than
            STEP_TIME_MAX_OFFSET from it.
        denial_step_times_unreadable: denial prompts among all extracted that
            took their sign-in's time, because their step time could not be read.
        denial_steps_without_signin: denial steps that match no sign-in. They
            make no prompt, so neither count above includes them.
    """

    findings: list[Finding]
    revocations: pd.DataFrame
    near_misses: pd.DataFrame
    prompts: pd.DataFrame
    coverage_warnings: list[str] = field(default_factory=list)
    upn_fallback_rows: int = 0
    suppressed: list[Suppression] = field(default_factory=list)
    prompt_count: int = 0
    denial_step_times_replaced: int = 0
    denial_step_times_unreadable: int = 0
    denial_steps_without_signin: int = 0


@dataclass
class HuntInputs:
    """Detection inputs: revocations and MFA prompts, with their counts.

    Attributes:
        prompts: prompts for detection and context; an engine that detects
            elsewhere may keep only the prompts of users with a match.
        prompt_count: every prompt extracted.
        upn_fallback_rows: prompts and revocations matched by UPN, not object id.
        denial_step_times_replaced: as in :class:`HuntResult`.
        denial_step_times_unreadable: as in :class:`HuntResult`.
        denial_steps_without_signin: as in :class:`HuntResult`.
    """

    revocations: pd.DataFrame
    near_misses: pd.DataFrame
    prompts: pd.DataFrame
    prompt_count: int
    upn_fallback_rows: int
    denial_step_times_replaced: int
    denial_step_times_unreadable: int
    denial_steps_without_signin: int = 0


def run_hunt(
    data: LoadedData, params: DetectionParams, config: HuntConfig | None = None
) -> HuntResult:
    """Find revocation chains, campaigns and prompt bursts in loaded data."""
    config = config or HuntConfig(params=params)
    with paused_garbage_collection():
        extractor = PromptExtractor()
        if data.context is not None:
            # The fast path may have pre-filtered the sign-ins that steps keyed by
            # request id belong to. Their users are read first, so the steps join
            # them.
            data.read_request_context(unjoined_step_requests(data.signin, data.steps))
        inputs = prepare(data, params, extractor)
        # Finding the revocations and prompts copied columns that are freed now.
        release_free_memory()
        matches = detect_all(inputs.revocations, inputs.prompts, params)
        # The fast path decodes only sign-ins that can contain a denial. The
        # approvals, interrupts and history of matched users and revokers are read
        # here, and the matches are found again with them.
        while data.read_context(context_keys(matches)):
            prompts = extractor.extract(
                data.signin, data.steps, lambda: upn_index(data)
            )
            inputs = _with_prompts(inputs, prompts)
            matches = detect_all(inputs.revocations, inputs.prompts, params)
        # The frames of the second pass's rounds and their prompts are freed.
        release_free_memory()
        return finish(matches, data, inputs, params, config)


@contextlib.contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block, then restore it.

    A mass revocation makes tens of thousands of evidence items, timeline events
    and records that all live until the output is written, so a full collection
    finds nothing to free, yet it walks every object of the process. On the 1M
    sign-in benchmark one full collection cost 50 ms to 65 ms of detection.
    Reference counting still frees acyclic garbage at once; cycles made inside
    the block wait for the next collection after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _with_prompts(inputs: HuntInputs, prompts: pd.DataFrame) -> HuntInputs:
    """Return ``inputs`` with new prompts and their counts, without warning again."""
    fallback = int(prompts["upn_fallback"].sum()) if len(prompts) else 0
    if len(inputs.revocations):
        fallback += int(inputs.revocations["upn_fallback"].sum())
    replaced, unreadable = denial_step_time_counts(prompts)
    return replace(
        inputs,
        prompts=prompts,
        prompt_count=len(prompts),
        upn_fallback_rows=fallback,
        denial_step_times_replaced=replaced,
        denial_step_times_unreadable=unreadable,
    )


def upn_index(data: LoadedData) -> dict[str, str]:
    """Map UPNs to object ids from the rows that carry both, in either log.

    When a sign-in or audit target lacks an object id, the rows that the fast path
    pre-filtered and that may carry its UPN are read too, so the map holds for
    that UPN what it holds on the plain path. When every sign-in and audit target
    with a UPN has an id, :func:`~h056hunt.detect.identity.user_keys` looks up no
    UPN, so the map is empty.
    """
    upns = data.upns_without_id()
    if not upns:
        # The full map would keep two strings per distinct UPN of both logs: about
        # 7 MiB more for 3M simulated sign-ins than for 1M.
        return {}
    pairs = upn_pair_columns(data.signin, data.audit)
    return build_upn_index(pairs + data.prefiltered_upn_pairs(upns))


def prepare(
    data: LoadedData,
    params: DetectionParams,
    extractor: PromptExtractor | None = None,
) -> HuntInputs:
    """Find the revocations and the MFA prompts of loaded data.

    ``extractor`` extracts the prompts and keeps what it read for a later call.
    """
    index = upn_index(data)
    revocations, near_misses = find_revocations(
        data.audit, params.revocation_activities, index
    )
    extractor = extractor or PromptExtractor()
    prompts = extractor.extract(data.signin, data.steps, lambda: index)
    fallback_prompts = int(prompts["upn_fallback"].sum()) if len(prompts) else 0
    replaced, unreadable = denial_step_time_counts(prompts)
    return hunt_inputs(
        revocations,
        near_misses,
        prompts,
        prompt_count=len(prompts),
        prompt_fallback_rows=fallback_prompts,
        denial_step_times_replaced=replaced,
        denial_step_times_unreadable=unreadable,
        denial_steps_without_signin=denial_steps_without_signin(
            data.signin, data.steps
        ),
    )


def hunt_inputs(
    revocations: pd.DataFrame,
    near_misses: pd.DataFrame,
    prompts: pd.DataFrame,
    *,
    prompt_count: int,
    prompt_fallback_rows: int,
    denial_step_times_replaced: int,
    denial_step_times_unreadable: int,
    denial_steps_without_signin: int = 0,
) -> HuntInputs:
    """Bundle the detection inputs and warn about near misses and UPN matching.

    Args:
        revocations: every revocation, from ``find_revocations``.
        near_misses: audit rows that look like revocations but are not listed.
        prompts: the prompts detection and context read.
        prompt_count: every prompt extracted, which may be more than ``prompts``.
        prompt_fallback_rows: prompts among all extracted that were keyed by UPN.
        denial_step_times_replaced: as in :class:`HuntResult`.
        denial_step_times_unreadable: as in :class:`HuntResult`.
        denial_steps_without_signin: as in :class:`HuntResult`.
    """
    _warn_near_misses(near_misses)
    fallback_rows = prompt_fallback_rows
    if len(revocations):
        fallback_rows += int(revocations["upn_fallback"].sum())
    if fallback_rows:
        logger.warning(
            "%s matched by normalised UPN instead, which is less reliable",
            Counted(
                fallback_rows,
                "record has no user object id and was",
                "records have no user object id and were",
            ),
        )
    return HuntInputs(
        revocations=revocations,
        near_misses=near_misses,
        prompts=prompts,
        prompt_count=prompt_count,
        upn_fallback_rows=fallback_rows,
        denial_step_times_replaced=denial_step_times_replaced,
        denial_step_times_unreadable=denial_step_times_unreadable,
        denial_steps_without_signin=denial_steps_without_signin,
    )


def finish(
    matches: list[Match],
    data: LoadedData,
    inputs: HuntInputs,
    params: DetectionParams,
    config: HuntConfig,
    campaigns: list[Campaign] | None = None,
) -> HuntResult:
    """Score the matches with their context, group campaigns, suppress, check
    coverage.

    Args:
        matches: detection matches, in user key order as ``detect_all`` returns them.
        data: the loaded frames. Only the rows of users and actors named by
            :func:`context_keys`, the revoked-grant rows of matched users, and the
            first and last audit record are read, besides the sign-in times that
            coverage needs.
        inputs: the output of :func:`prepare` or :func:`hunt_inputs`.
        params: thresholds.
        config: allowlist and working hours.
        campaigns: campaigns found elsewhere; None finds them here with
            :func:`find_all_campaigns`.
    """
    admin = admin_revocations(inputs.revocations)
    chains = [match for match in matches if match.revocation is not None]
    if campaigns is None:
        campaigns = find_all_campaigns(admin, chains, params)
    findings, pending = _score_matches(
        matches, campaigns, data, inputs, admin, params, config
    )
    # The admin rows, copied where they are not long runs of adjacent
    # revocations, are no longer read. They are freed here, and their pages
    # returned to the system, before the campaign findings take their columns
    # from every revocation and before the coverage checks.
    del admin, campaigns
    release_free_memory()
    for campaign in pending:
        findings.append(
            build_campaign_finding(
                inputs.revocations,
                campaign.chain_findings,
                campaign.shared,
                params,
                positions=campaign.positions,
            )
        )
    del pending
    if params.chain_only:
        findings = [f for f in findings if f.finding_type != FindingType.PUSH_BOMBING]
    findings.sort(key=Finding.sort_key)
    findings, suppressed = apply_allowlist(findings, config.allowlist)
    warn_step_times(findings)
    for item in suppressed:
        logger.info(
            "suppressed %s by %s: %s", item.finding.finding_id, item.entry, item.reason
        )
    # The run summary prints these; logging them too would print each one twice.
    coverage = coverage_warnings(data, inputs.revocations, params)
    coverage += audit_coverage_warnings(data, findings, params)
    return HuntResult(
        findings=findings,
        revocations=inputs.revocations,
        near_misses=inputs.near_misses,
        prompts=inputs.prompts,
        coverage_warnings=coverage,
        upn_fallback_rows=inputs.upn_fallback_rows,
        suppressed=suppressed,
        prompt_count=inputs.prompt_count,
        denial_step_times_replaced=inputs.denial_step_times_replaced,
        denial_step_times_unreadable=inputs.denial_step_times_unreadable,
        denial_steps_without_signin=inputs.denial_steps_without_signin,
    )


# The revocation columns that campaign detection and the revoker's context read,
# which admin_revocations copies.
ADMIN_COLUMNS = [
    "revocation_id",
    "user_key",
    "revocation_time",
    "actor_id",
    "actor_upn",
    "actor_display_name",
]
# The column of admin_revocations that gives each row's position in the frame it
# was taken from.
POSITION_COLUMN = "_position"


def admin_revocations(revocations: pd.DataFrame) -> pd.DataFrame:
    """Return the revocations made by someone other than the target, by actor.

    Only :data:`ADMIN_COLUMNS` are kept, with each row's position in
    ``revocations`` in :data:`POSITION_COLUMN`, where a campaign finding reads its
    other columns. The rows are in :func:`actor_keys` order, and each actor's rows
    keep their order in ``revocations``, so :func:`find_all_campaigns` reads each
    actor's rows as one slice instead of copying them.
    """
    if not len(revocations):
        return revocations
    is_admin = (~revocations["is_self_revocation"].astype(bool)).to_numpy(dtype=bool)
    keys = actor_keys(revocations).to_numpy()
    positions = np.flatnonzero(is_admin)
    order = positions[np.argsort(keys[positions], kind="stable")]
    # Each actor's rows keep their order, so a mass revoker's rows are long runs
    # that share the buffers of ``revocations``.
    admin = take_in_runs(revocations[ADMIN_COLUMNS], order)
    admin[POSITION_COLUMN] = order
    return admin


def find_all_campaigns(
    admin: pd.DataFrame, chains: list[Match], params: DetectionParams
) -> list[Campaign]:
    """Run :func:`find_campaigns` per actor, in actor key order.

    Args:
        admin: admin revocations, from :func:`admin_revocations`. Rows in another
            order are sorted by actor first, which copies them.
        chains: matches that follow a revocation, in detection order.
        params: thresholds.
    """
    if not len(admin):
        return []
    keys = actor_keys(admin).to_numpy()
    if not _in_key_order(keys):
        order = np.argsort(keys, kind="stable")
        admin = admin.take(order)
        keys = keys[order]
    chains_by_actor: dict[str, list[Match]] = defaultdict(list)
    for chain in chains:
        if chain.revocation is not None:
            chains_by_actor[actor_key(chain.revocation)].append(chain)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]).tolist()
    campaigns = []
    for start, stop in zip(starts, [*starts[1:], len(keys)], strict=True):
        own_chains = chains_by_actor.get(keys[start], [])
        actor_rows = admin.iloc[start:stop]
        campaigns.extend(find_campaigns(actor_rows, own_chains, params))
    return campaigns


def _in_key_order(keys: np.ndarray) -> bool:
    return bool((keys[:-1] <= keys[1:]).all())


def context_keys(matches: list[Match]) -> set[str]:
    """Return the keys whose sign-ins and audit rows the context stage reads.

    The keys are the matched users' join keys and the lower-cased object ids of the
    revoking actors; :func:`rows_for_keys` selects rows by them.
    """
    users = {match.user_key for match in matches}
    actors = {
        str(match.revocation["actor_id"]).lower()
        for match in matches
        if match.revocation is not None
        and isinstance(match.revocation["actor_id"], str)
    }
    return users | actors


def rows_for_keys(frame: pd.DataFrame, column: str, keys: set[str]) -> pd.DataFrame:
    """Return the rows whose lower-cased ``column`` is one of ``keys``, with that
    value in a ``_key`` column."""
    row_keys = frame[column].astype("string").str.lower()
    return frame[row_keys.isin(keys).fillna(False)].assign(_key=row_keys)


def _warn_near_misses(near_misses: pd.DataFrame) -> None:
    for activity, count in near_misses["activity"].value_counts().sort_index().items():
        # A long name is cut in the message, so --revocation-activity needs the
        # whole one from the JSON report.
        whole_name = ""
        if display_text(activity) != plain(activity):
            whole_name = (
                " (the name is cut here, so copy it whole from "
                "run.detection.unmatched_revocation_activities of --format json)"
            )
        logger.warning(
            "possible revocation, not matched: %s with activity %r; "
            "add it with --revocation-activity if it revokes sessions%s",
            Counted(count, "audit record"),
            activity,
            ProgramText(whole_name),
        )


def _score_matches(
    matches: list[Match],
    campaigns: list[Campaign],
    data: LoadedData,
    inputs: HuntInputs,
    admin: pd.DataFrame,
    params: DetectionParams,
    config: HuntConfig,
) -> tuple[list[Finding], list[_PendingCampaign]]:
    """Return the finding of each match, in match order, and the inputs of each
    campaign's finding, which the caller builds once the admin rows are freed."""
    shared_by_chain: dict[int, dict[str, dict[str, list[str]]]] = {}
    shared_by_campaign = []
    for campaign in campaigns:
        shared = shared_origins(campaign.chains)
        shared_by_campaign.append(shared)
        for chain in campaign.chains:
            shared_by_chain[id(chain)] = shared
    people = _ContextData(data, inputs.prompts, matches)
    last_revocations = _last_revocations(matches, inputs.revocations)
    grants = revoked_grants(data.signin)
    grants_by_user = _grants_by_user(grants)
    no_grants = grants.iloc[0:0]
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
        chain_shared = shared_by_chain.get(id(match))
        if chain_shared is not None:
            factor = shared_origin_factor(match.user_key, chain_shared)
            if factor is not None:
                context.factors.append(factor)
        user_grants = grants_by_user.get(match.user_key, no_grants)
        finding = build_finding(
            match, params, user_grants, context, last_revocations.get(id(match))
        )
        by_match[id(match)] = finding
        findings.append(finding)
    pending = []
    for campaign, shared in zip(campaigns, shared_by_campaign, strict=True):
        chain_findings = [by_match[id(chain)] for chain in campaign.chains]
        # The finding reads its columns from every revocation, which the result
        # keeps anyway, instead of from a copy of the campaign's rows. The
        # positions are copied, so that no view keeps the admin rows alive.
        positions = campaign.revocations[POSITION_COLUMN].to_numpy(copy=True)
        pending.append(_PendingCampaign(positions, chain_findings, shared))
    return findings, pending


class _PendingCampaign(NamedTuple):
    """The inputs of one campaign's finding.

    Attributes:
        positions: the campaign's row positions among every revocation.
        chain_findings: the findings of the chains that followed its revocations.
        shared: attacker origins shared by those chains' denials.
    """

    positions: np.ndarray
    chain_findings: list[Finding]
    shared: dict[str, dict[str, list[str]]]


class _ContextData:
    """Sign-ins and audit rows of the users and actors that matter, by key."""

    def __init__(
        self, data: LoadedData, prompts: pd.DataFrame, matches: list[Match]
    ) -> None:
        users = {match.user_key for match in matches}
        wanted = context_keys(matches)
        signins = rows_for_keys(data.signin, "user_id", wanted)
        audit = rows_for_keys(data.audit, "target_id", wanted)
        own_prompts = prompts[prompts["user_key"].isin(users)]
        # The rows are split by key once, because filtering the frames again for
        # every match cost more than reading the context itself.
        self._signins = _split_by(signins, "_key")
        self._audit = _split_by(audit, "_key")
        self._prompts = _split_by(own_prompts, "user_key")
        self._no_signins = signins.iloc[0:0]
        self._no_audit = audit.iloc[0:0]
        self._no_prompts = own_prompts.iloc[0:0]
        self._actor_keys: pd.Series | None = None
        # Revocations per actor key: one actor's campaign is looked up once per chain.
        self._own: dict[str, pd.DataFrame] = {}

    def actor_keys(self, admin_revocations: pd.DataFrame) -> pd.Series:
        """Return the actor key of each admin revocation, computed once per run."""
        if self._actor_keys is None or not self._actor_keys.index.equals(
            admin_revocations.index
        ):
            self._actor_keys = actor_keys(admin_revocations)
            self._own = {}
        return self._actor_keys

    def user_context(self, match: Match, params: DetectionParams) -> Context:
        key = match.user_key
        return user_context(
            match,
            self._prompts.get(key, self._no_prompts),
            self._signins.get(key, self._no_signins),
            self._audit.get(key, self._no_audit),
            params,
        )

    def actor_context(
        self,
        revocation: pd.Series,
        admin_revocations: pd.DataFrame,
        audit_span: tuple[pd.Timestamp, pd.Timestamp] | None,
        params: DetectionParams,
        in_working_hours: bool | None,
    ) -> list[ScoreFactor]:
        actor_id = revocation["actor_id"]
        key = str(actor_id).lower() if isinstance(actor_id, str) else None
        keys = self.actor_keys(admin_revocations)
        revoker = actor_key(revocation)
        own = self._own.get(revoker)
        if own is None:
            # actor_context reads only the times, and a mass revoker has many rows.
            own = admin_revocations[["revocation_time"]][keys == revoker]
            self._own[revoker] = own
        return actor_context(
            revocation,
            self._signins.get(key, self._no_signins) if key else self._no_signins,
            self._audit.get(key, self._no_audit) if key else self._no_audit,
            own,
            audit_span,
            params,
            in_working_hours,
        )


def _last_revocations(
    matches: list[Match], revocations: pd.DataFrame
) -> dict[int, pd.Series]:
    """Return, for each burst without a revocation, by ``id`` of its match, the
    user's last revocation before its first denial, if there is one."""
    bursts = [match for match in matches if match.revocation is None]
    users = {match.user_key for match in bursts}
    if not users or revocations.empty:
        return {}
    own = revocations[revocations["user_key"].isin(users).to_numpy(bool)]
    by_user = _split_by(own, "user_key")
    found: dict[int, pd.Series] = {}
    for match in bursts:
        rows = by_user.get(match.user_key)
        if rows is None:
            continue
        first_denial = match.denials["prompt_time"].iloc[0]
        before = rows[(rows["revocation_time"] < first_denial).to_numpy(bool)]
        if len(before):
            latest = before.sort_values(
                ["revocation_time", "revocation_id"], kind="stable"
            )
            found[id(match)] = latest.iloc[-1]
    return found


def _split_by(frame: pd.DataFrame, column: str) -> RowsByKey:
    """Return the rows of each value of ``column`` in frame order, without nulls."""
    return RowsByKey(frame, frame[column])


def _grants_by_user(revoked_grants: pd.DataFrame) -> RowsByKey:
    """Return the 50173 sign-ins of each lower-cased user object id."""
    keys = revoked_grants["user_id"].astype("string").str.lower()
    return RowsByKey(revoked_grants, keys)
