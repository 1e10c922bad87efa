"""Find session and refresh-token revocations in the audit frame.

Activity names drift between export paths and over time (``Update StsRefreshTokenValid
From Timestamp`` in Graph, the same with a trailing period in the Unified Audit Log,
``Invalidate all refresh tokens for user`` in some exports), so names are compared after
:func:`normalise_activity`. A portal "Revoke sessions" click also writes an ``Update
user`` row with the same correlation id whose only updated property is
``StsRefreshTokensValidFrom``. That row joins the same revocation instead of adding
one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from h056hunt.detect.identity import user_keys

logger = logging.getLogger(__name__)

DEFAULT_REVOCATION_ACTIVITIES = (
    "Update StsRefreshTokenValidFrom Timestamp",
    "Invalidate all refresh tokens for user",
    "Invalidate all refresh tokens for a user",
    "Revoke user sessions",
    "Revoke sign-in sessions",
)
STS_PROPERTY = "stsrefreshtokensvalidfrom"
_ARTICLES = frozenset({"a", "an", "the"})
_WORD = re.compile(r"[0-9a-z]+")
# Words that suggest an unlisted activity ends sessions; the run summary names it.
_NEAR_MISS_WORDS = frozenset(
    {"revoke", "revoked", "invalidate", "stsrefreshtokenvalidfrom", "signinsessions"}
)

REVOCATION_COLUMNS = [
    "revocation_id",
    "user_key",
    "target_id",
    "target_upn",
    "target_display_name",
    "revocation_time",
    "activity",
    "actor_type",
    "actor_id",
    "actor_upn",
    "actor_display_name",
    "actor_ip",
    "actor_app_id",
    "actor_service_principal_id",
    "is_self_revocation",
    "correlation_id",
    "related_record_ids",
    "source_file",
    "source_line",
    "source_record",
    "upn_fallback",
]


# Audit columns that revocation rows are built from.
_CANDIDATE_COLUMNS = frozenset(REVOCATION_COLUMNS) | {"record_id", "event_time"}


def normalise_activity(name: str) -> str:
    """Fold an activity name: case, punctuation, whitespace and articles ignored.

    >>> normalise_activity("INVALIDATE ALL REFRESH TOKENS FOR A USER. ")
    'invalidate all refresh tokens for user'
    """
    words = _WORD.findall(name.casefold())
    return " ".join(word for word in words if word not in _ARTICLES)


def find_revocations(
    audit: pd.DataFrame,
    activity_names: Iterable[str] = DEFAULT_REVOCATION_ACTIVITIES,
    upn_index: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return revocations (one row each) and near misses from the audit frame.

    Failed operations are not revocations. ``Add user`` and other activities that also
    write ``StsRefreshTokensValidFrom`` are not revocations either; only the listed
    names and the paired ``Update user`` row are. ``upn_index`` maps UPNs to object
    ids for targets recorded without an id.

    Returns:
        ``(revocations, near_misses)``. Revocations have :data:`REVOCATION_COLUMNS`;
        near misses are the audit rows whose activity looks like a revocation but is
        not in ``activity_names``.
    """
    if audit.empty:
        return pd.DataFrame(columns=REVOCATION_COLUMNS), audit.iloc[0:0]
    wanted = {normalise_activity(name) for name in activity_names}
    normalised = audit["activity"].fillna("").astype(str).map(normalise_activity)
    succeeded = (
        audit["result"]
        .fillna("success")
        .astype(str)
        .str.casefold()
        .isin(["success", "succeeded", "0", "true"])
    )
    listed = normalised.isin(wanted)
    paired_update = (normalised == "update user") & audit[
        "included_updated_properties"
    ].fillna("").astype(str).str.replace(r"\W", "", regex=True).str.casefold().eq(
        STS_PROPERTY
    )
    near_miss = ~listed & ~paired_update & normalised.map(_looks_like_revocation)
    # Only the columns a revocation keeps travel on: sorting and filtering copy
    # every column, and the modified-property texts are the longest.
    columns = [name for name in audit.columns if name in _CANDIDATE_COLUMNS]
    candidates = audit.loc[(listed | paired_update) & succeeded, columns]
    candidates["is_listed"] = listed[candidates.index]
    return _merge_pairs(candidates, upn_index), audit[near_miss]


def _looks_like_revocation(normalised: str) -> bool:
    words = set(normalised.split())
    if words & _NEAR_MISS_WORDS:
        return True
    return "refresh" in words and "tokens" in words


def _merge_pairs(
    candidates: pd.DataFrame, upn_index: Mapping[str, str] | None
) -> pd.DataFrame:
    """Collapse rows of one click (same correlation id and target) into one."""
    if candidates.empty:
        return pd.DataFrame(columns=REVOCATION_COLUMNS)
    keys, fallback = user_keys(
        candidates["target_id"], candidates["target_upn"], upn_index
    )
    candidates["user_key"] = keys
    candidates["upn_fallback"] = fallback
    candidates = candidates[candidates["user_key"].notna()]
    group_key = candidates["correlation_id"].fillna(candidates["record_id"])
    candidates = candidates.assign(_group=group_key.astype(str) + "|" + keys)
    # The listed activity row describes the revocation best; the paired row follows.
    candidates = candidates.sort_values(
        ["_group", "is_listed", "event_time", "record_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    # One sorted list of record ids per group, built in plain Python: a groupby
    # with a Python function per group takes seconds on a mass revocation.
    related: dict[str, list[str]] = {}
    pairs = zip(
        candidates["_group"].tolist(),
        candidates["record_id"].astype(str).tolist(),
        strict=True,
    )
    for group, record_id in sorted(pairs):
        related.setdefault(group, []).append(record_id)
    first = candidates.drop_duplicates("_group", keep="first")
    del candidates
    first["related_record_ids"] = first["_group"].map(related)
    first["revocation_id"] = first["record_id"].astype(str)
    first["revocation_time"] = first["event_time"]
    first["is_self_revocation"] = _is_self(first)
    result = first[REVOCATION_COLUMNS].sort_values(
        ["revocation_time", "revocation_id"], kind="stable"
    )
    return result.reset_index(drop=True)


def _is_self(rows: pd.DataFrame) -> pd.Series:
    actor_id = rows["actor_id"].astype("string").str.lower()
    target_id = rows["target_id"].astype("string").str.lower()
    actor_upn = rows["actor_upn"].astype("string").str.casefold()
    target_upn = rows["target_upn"].astype("string").str.casefold()
    same_id = (actor_id == target_id).fillna(False)
    same_upn = (actor_upn == target_upn).fillna(False)
    return (rows["actor_type"] == "user").fillna(False) & (same_id | same_upn)
