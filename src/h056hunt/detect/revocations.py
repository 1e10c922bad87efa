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
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from h056hunt.activities import (
    DEFAULT_REVOCATION_ACTIVITIES,
    NEAR_MISS_WORDS,
    fold_text,
    normalise_activity,
)
from h056hunt.detect.identity import user_keys
from h056hunt.row_runs import take_in_runs

logger = logging.getLogger(__name__)

STS_PROPERTY = "stsrefreshtokensvalidfrom"

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
    # Each distinct activity name is folded once, because an export repeats a few.
    # Code -1 marks a missing name, which folds like an empty one.
    codes, names = pd.factorize(audit["activity"])
    folded = [normalise_activity(str(name)) for name in names] + [""]
    listed = np.array([name in wanted for name in folded])[codes]
    update_user = np.array([name == "update user" for name in folded])[codes]
    looks_like = np.array([_looks_like_revocation(name) for name in folded])[codes]
    succeeded = (
        audit["result"]
        .fillna("success")
        .astype(str)
        .str.casefold()
        .isin(["success", "succeeded", "0", "true"])
        .to_numpy(dtype=bool)
    )
    paired_update = update_user & _updates_sts_property_only(
        audit["included_updated_properties"]
    )
    near_miss = ~listed & ~paired_update & looks_like
    rows = np.flatnonzero((listed | paired_update) & succeeded)
    return _merge_pairs(audit, rows, listed[rows], upn_index), audit[near_miss]


def _updates_sts_property_only(properties: pd.Series) -> np.ndarray:
    """Tell for each row whether its only updated property is
    ``StsRefreshTokensValidFrom``, compared like activity names are, with case,
    compatibility forms and punctuation ignored."""
    codes, values = pd.factorize(properties)
    folded = [re.sub(r"\W", "", fold_text(str(value))) for value in values]
    matches: np.ndarray = np.array(
        [value == STS_PROPERTY for value in folded] + [False]
    )
    found: np.ndarray = matches[codes]
    return found


def _looks_like_revocation(normalised: str) -> bool:
    # Substrings rather than whole words, so that names written without spaces,
    # such as the Graph action revokeSignInSessions, are reported too. The fast
    # path's pre-filter decodes every audit line that contains these substrings.
    if any(word in normalised for word in NEAR_MISS_WORDS):
        return True
    return "refresh" in normalised and "tokens" in normalised


def _merge_pairs(
    audit: pd.DataFrame,
    rows: np.ndarray,
    is_listed: np.ndarray,
    upn_index: Mapping[str, str] | None,
) -> pd.DataFrame:
    """Collapse the candidate rows of one click (same correlation id and target)
    into one revocation.

    Args:
        audit: the audit frame.
        rows: positions of the candidate rows in ``audit``.
        is_listed: per candidate, whether its activity is a listed name.
        upn_index: UPNs to object ids, for targets recorded without an id.
    """
    if not len(rows):
        return pd.DataFrame(columns=REVOCATION_COLUMNS)
    # The clicks are found by a helper, so its sorted copies and per-group lists
    # are freed before the revocation rows are taken from the audit frame.
    chosen = _one_row_per_click(audit, rows, is_listed, upn_index)
    columns = [name for name in audit.columns if name in _CANDIDATE_COLUMNS]
    result = _take_rows(audit[columns], rows[chosen.positions])
    result["user_key"] = chosen.user_keys
    result["upn_fallback"] = chosen.upn_fallback
    result["related_record_ids"] = pd.Series(
        pd.arrays.ArrowExtensionArray(chosen.related_record_ids)
    )
    del chosen
    result["revocation_id"] = result["record_id"].astype(str)
    result["revocation_time"] = result["event_time"]
    result["is_self_revocation"] = _is_self(result)
    return result[REVOCATION_COLUMNS]


def _take_rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """Return the rows at ``positions`` with a default index.

    When the positions cover at least half of ``frame``, as when most audit rows
    are revocations, long runs of adjacent rows share the buffers of ``frame``
    (:func:`~h056hunt.row_runs.take_in_runs`). On the 3M-sign-in benchmark
    input, whose 45,000 audit rows are nearly all revocations, the copied
    columns took about 19 MiB by ``DataFrame.memory_usage(deep=True)``. Fewer
    positions are taken, so that a small result does not keep the buffers of a
    large audit frame alive after a later round replaces that frame.
    """
    if len(positions) * 2 < len(frame):
        return frame.iloc[positions].reset_index(drop=True)
    return take_in_runs(frame, positions).reset_index(drop=True)


class _Clicks(NamedTuple):
    """The row chosen for each click, in revocation order, with its facts.

    Attributes:
        positions: positions of the chosen rows among the candidates.
        user_keys: each chosen row's user key, with a default index.
        upn_fallback: whether each chosen row was keyed by UPN.
        related_record_ids: the sorted record ids of each click's rows, with a
            null for a missing id. It is an Arrow list array, which stores the ids
            as one text buffer. A Python list and string per click took about
            170 bytes (sys.getsizeof) for a 58-character id.
    """

    positions: np.ndarray
    user_keys: pd.Series
    upn_fallback: np.ndarray
    related_record_ids: pa.ListArray


def _one_row_per_click(
    audit: pd.DataFrame,
    rows: np.ndarray,
    is_listed: np.ndarray,
    upn_index: Mapping[str, str] | None,
) -> _Clicks:
    """Choose one candidate row per click.

    The arguments are those of :func:`_merge_pairs`.
    """
    # The candidates are keyed and sorted on their key columns alone, and the
    # revocation rows are taken from the audit frame once at the end, because
    # every sort or filter of a frame copies all its columns.
    candidates = _take_rows(
        audit[["target_id", "target_upn", "correlation_id", "record_id", "event_time"]],
        rows,
    )
    keys, fallback = user_keys(
        candidates["target_id"], candidates["target_upn"], upn_index
    )
    has_key = keys.notna().to_numpy(dtype=bool)
    keyed = candidates[has_key]
    group_key = keyed["correlation_id"].fillna(keyed["record_id"])
    record_ids = keyed["record_id"].astype(str)
    groups = _sort_codes(group_key.astype(str) + "|" + keys[has_key])
    record_codes = _sort_codes(record_ids)
    times = _sort_codes(keyed["event_time"])
    positions = np.flatnonzero(has_key)
    del candidates, keyed, group_key
    if not len(positions):
        return _Clicks(
            positions=positions,
            user_keys=keys.iloc[positions].reset_index(drop=True),
            upn_fallback=fallback.to_numpy()[positions],
            related_record_ids=pa.array([], type=pa.list_(pa.string())),
        )
    # np.lexsort sorts by its last key first and keeps the order of ties, as a
    # stable sort of the columns would. Within a click, the listed activity row
    # describes the revocation best, and the paired row follows.
    order = np.lexsort((record_codes, times, ~is_listed[has_key], groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    # The record ids of each click in order. Sorting by group first puts each
    # click's ids at the same positions as its rows in ``order``, so the click
    # starts are the list offsets.
    id_order = np.lexsort((record_codes, groups))
    # Arrow takes the ids, because a Python string per id raised the RSS by
    # 10 MiB instead of 3 MiB for 45,000 revocations.
    ids = pa.array(record_ids, from_pandas=True)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    id_texts = ids.take(pa.array(id_order)).cast(pa.string())
    offsets = pa.array(np.r_[starts, len(order)], type=pa.int32())
    related = pa.ListArray.from_arrays(offsets, id_texts)
    # The clicks in revocation order: by the chosen row's time and record id,
    # with ties in click order.
    first = order[starts]
    by_time = np.lexsort((record_codes[first], times[first]))
    chosen = positions[first[by_time]]
    return _Clicks(
        positions=chosen,
        user_keys=keys.iloc[chosen].reset_index(drop=True),
        upn_fallback=fallback.to_numpy()[chosen],
        related_record_ids=related.take(by_time),
    )


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Return integer codes that sort as ``values`` do, missing values last.

    Equal values get one code, as in pandas' own multi-column sort.
    """
    if pd.api.types.is_string_dtype(values.dtype):
        # Arrow ranks text without a Python string per value. pandas' sorted
        # factorize made them, and raised the RSS by 14 MiB instead of 1 MiB
        # for 45,000 record ids.
        # Dense ranks start at 1, and missing values, placed at the end by
        # default, share the rank after the last value. So the codes match
        # those of the factorize below.
        ranks = pc.rank(
            pa.array(values, from_pandas=True),
            sort_keys="ascending",
            tiebreaker="dense",
        )
        dense: np.ndarray = ranks.to_numpy().astype(np.int64) - 1
        return dense
    codes, uniques = pd.factorize(values, sort=True)
    result: np.ndarray = np.asarray(codes)
    result[result < 0] = len(uniques)
    return result


def _is_self(rows: pd.DataFrame) -> pd.Series:
    is_user = (rows["actor_type"] == "user").fillna(False)
    # Only user rows can be self-revocations. Casefolding every row's UPN made a
    # Python string per row, which took 11 MiB over 45,000 revocations by an app.
    users = rows[["actor_id", "target_id", "actor_upn", "target_upn"]][
        is_user.to_numpy(dtype=bool)
    ]
    actor_id = users["actor_id"].astype("string").str.lower()
    target_id = users["target_id"].astype("string").str.lower()
    actor_upn = users["actor_upn"].astype("string").str.casefold()
    target_upn = users["target_upn"].astype("string").str.casefold()
    same_id = (actor_id == target_id).fillna(False)
    same_upn = (actor_upn == target_upn).fillna(False)
    return is_user & (same_id | same_upn).reindex(rows.index, fill_value=False)
