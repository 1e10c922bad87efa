"""Group revocations by revoker into campaigns, and spot shared attacker origins.

A campaign is one actor revoking at least ``campaign_min_targets`` distinct users whose
revocations fit in a sliding ``campaign_window``; it goes on while the actor's next
revocation follows within the window. Like the user kernel, :func:`find_campaigns`
sees one actor's revocations at a time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.detect.prompts import DENIALS


@dataclass
class Campaign:
    """One actor's mass revocation and the chains that followed it."""

    actor_key: str
    revocations: pd.DataFrame
    chains: list[Match]


def actor_key(revocation: pd.Series) -> str:
    """Return the key that groups one actor's revocations: id, else UPN, else name."""
    for column in ("actor_id", "actor_upn", "actor_display_name"):
        value = revocation.get(column)
        if isinstance(value, str) and value:
            return value.casefold()
    return "none"


def actor_keys(revocations: pd.DataFrame) -> pd.Series:
    """Return :func:`actor_key` of every row, without building a Series per row.

    Each distinct value is folded once, because a campaign repeats one actor
    thousands of times.
    """
    keys = np.full(len(revocations), "none", dtype=object)
    found = np.zeros(len(revocations), dtype=bool)
    for column in ("actor_id", "actor_upn", "actor_display_name"):
        if column not in revocations:
            continue
        codes, values = pd.factorize(revocations[column])
        folded = [_folded_text(value) for value in values]
        # Code -1 marks a null row and picks the None or False appended last.
        row_values = np.array([*folded, None], dtype=object)[codes]
        present = np.array([value is not None for value in folded] + [False])[codes]
        take = present & ~found
        keys[take] = row_values[take]
        found |= take
    return pd.Series(keys, index=revocations.index, dtype=object)


def _folded_text(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) and value else None


def find_campaigns(
    actor_revocations: pd.DataFrame, chains: list[Match], params: DetectionParams
) -> list[Campaign]:
    """Return the campaigns of one actor's admin revocations.

    Args:
        actor_revocations: this actor's revocations (self-revocations excluded).
        chains: chains whose revocation belongs to this actor.
        params: thresholds.
    """
    if len(actor_revocations) < params.campaign_min_targets:
        return []
    ordered = _in_time_order(actor_revocations).reset_index(drop=True)
    times = ordered["revocation_time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    window = int(params.campaign_window.value)
    users = ordered["user_key"].astype(str).to_list()
    # Positions whose revocation follows the previous one by more than the window.
    gaps = np.flatnonzero(np.diff(times) > window) + 1
    campaigns = []
    begin = 0
    while begin < len(ordered):
        start = _first_campaign_start(times, users, window, params, begin)
        if start is None:
            break
        # The campaign runs to the first gap longer than the window after its start.
        later_gaps = gaps[np.searchsorted(gaps, start, side="right") :]
        stop = int(later_gaps[0]) if len(later_gaps) else len(times)
        members = ordered.iloc[start:stop]
        campaigns.append(
            Campaign(
                actor_key=actor_key(members.iloc[0]),
                revocations=members,
                chains=_chains_of(members, chains),
            )
        )
        begin = stop
    return campaigns


def _chains_of(members: pd.DataFrame, chains: list[Match]) -> list[Match]:
    """Return the chains whose revocation is one of ``members``, in their order.

    The campaign's ids are matched against the few chain ids in one call, because
    a set of a mass revocation's ids took 7 MiB of Python strings.
    """
    chain_ids = {
        str(chain.revocation["revocation_id"])
        for chain in chains
        if chain.revocation is not None
    }
    member_ids = members["revocation_id"].astype(str)
    present = set(member_ids[member_ids.isin(chain_ids)].tolist())
    return [
        chain
        for chain in chains
        if chain.revocation is not None
        and str(chain.revocation["revocation_id"]) in present
    ]


def _in_time_order(revocations: pd.DataFrame) -> pd.DataFrame:
    """Return the revocations sorted by time and id, stably.

    find_revocations returns them in this order already, and the sort, which
    takes every column, is skipped when the times and ids prove it.
    """
    times = revocations["revocation_time"].to_numpy(dtype="datetime64[ns]")
    ids = revocations["revocation_id"]
    if (
        not np.isnat(times).any()
        and not ids.isna().any()
        and pd.api.types.is_string_dtype(ids.dtype)
    ):
        steps = np.diff(times.view(np.int64))
        if (steps >= 0).all():
            texts = ids.tolist()
            ties = np.flatnonzero(steps == 0).tolist()
            if all(texts[index] <= texts[index + 1] for index in ties):
                return revocations
    return revocations.sort_values(["revocation_time", "revocation_id"], kind="stable")


def _first_campaign_start(
    times: np.ndarray,
    users: list[str],
    window: int,
    params: DetectionParams,
    begin: int,
) -> int | None:
    ends = np.searchsorted(times, times + window, side="right")
    for index in range(begin, len(times)):
        if len(set(users[index : ends[index]])) >= params.campaign_min_targets:
            return index
    return None


def shared_origins(chains: list[Match]) -> dict[str, dict[str, list[str]]]:
    """Return source IPs, countries and user agents shared by denials of 2+ targets.

    Returns:
        ``{"ip_address": {value: [user keys]}, "country": ..., "user_agent": ...}``
        holding only values seen for at least two different targets.
    """
    columns = ("ip_address", "country", "user_agent")
    targets: dict[str, dict[str, set[str]]] = {
        column: defaultdict(set) for column in columns
    }
    for chain in chains:
        denied = chain.prompts["outcome"].isin(DENIALS)
        for column in columns:
            for value in chain.prompts[column][denied].dropna().astype(str).unique():
                targets[column][value].add(chain.user_key)
    shared: dict[str, dict[str, list[str]]] = {}
    for column in columns:
        shared[column] = {
            value: sorted(users)
            for value, users in sorted(targets[column].items())
            if len(users) >= 2
        }
    return shared
