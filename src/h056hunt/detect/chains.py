"""Join each revocation to a later prompt burst of the same user.

The kernel :func:`detect_user` sees one user's revocations and prompts and nothing
else, so the same function can run per partition of users on any engine. The driver
:func:`detect_all` only splits the frames by user and concatenates the results.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.detect.bursts import Burst, all_bursts, first_burst_from, window_counts
from h056hunt.detect.keyed_rows import RowsByKey
from h056hunt.detect.prompts import APPROVED, DENIALS
from h056hunt.schema import columns_of

DEFAULT_MAX_LAG = pd.Timedelta(hours=2)
DEFAULT_BURST_WINDOW = pd.Timedelta(minutes=30)
DEFAULT_MIN_DENIALS = 5
DEFAULT_CAMPAIGN_MIN_TARGETS = 3
DEFAULT_CAMPAIGN_WINDOW = pd.Timedelta(hours=1)
DEFAULT_ACTOR_LOOKBACK = pd.Timedelta(hours=24)
DEFAULT_PERSISTENCE_WINDOW = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class DetectionParams:
    """Thresholds of the hunt.

    Attributes:
        max_lag: the longest time from a revocation to the first denial of its burst.
        burst_window: the sliding window the denials of a burst must fit in.
        min_denials: the fewest denied prompts that make a burst.
        chain_only: report only revocation chains, not bursts without a revocation.
        revocation_activities: audit activity names that count as revocations.
        campaign_min_targets: distinct users one actor must revoke to make a campaign.
        campaign_window: the sliding window those revocations must fit in.
        actor_lookback: how far before a revocation the revoker's own sign-ins, role
            grants and MFA changes are examined.
        persistence_window: how long after an approval new MFA methods or devices
            for the user escalate the finding.
    """

    max_lag: pd.Timedelta = DEFAULT_MAX_LAG
    burst_window: pd.Timedelta = DEFAULT_BURST_WINDOW
    min_denials: int = DEFAULT_MIN_DENIALS
    chain_only: bool = False
    revocation_activities: tuple[str, ...] = DEFAULT_REVOCATION_ACTIVITIES
    campaign_min_targets: int = DEFAULT_CAMPAIGN_MIN_TARGETS
    campaign_window: pd.Timedelta = DEFAULT_CAMPAIGN_WINDOW
    actor_lookback: pd.Timedelta = DEFAULT_ACTOR_LOOKBACK
    persistence_window: pd.Timedelta = DEFAULT_PERSISTENCE_WINDOW


@dataclass
class Match:
    """A burst found for one user, with the revocation it follows, if any."""

    user_key: str
    revocation: pd.Series | None
    prompts: pd.DataFrame
    denials: pd.DataFrame
    approval: pd.Series | None
    peak_denials: int
    other_revocations: list[str] = field(default_factory=list)


def detect_user(
    revocations: pd.DataFrame,
    prompts: pd.DataFrame,
    params: DetectionParams,
    *,
    rows: Mapping[Hashable, pd.Series] | None = None,
) -> list[Match]:
    """Return the chains and stand-alone bursts of one user.

    Args:
        revocations: this user's revocations, any order.
        prompts: this user's prompts, any order.
        params: thresholds.
        rows: revocation rows by index label, as :func:`_rows` makes them, when the
            caller converted the revocations of many users at once; None converts
            the rows this user needs.
    """
    # extract_prompts returns each user's prompts in this order already, and the
    # sort is skipped when strictly increasing times prove it.
    if not _strictly_increasing(prompts["prompt_time"]):
        prompts = prompts.sort_values(["prompt_time", "record_id"], kind="stable")
    span = _PromptSpan(prompts)
    if len(span.denials) < params.min_denials:
        return []
    times = span.times.view(np.int64)[span.denials]
    window_ns = int(params.burst_window.value)
    counts = window_counts(times, window_ns)
    is_self = revocations["is_self_revocation"].astype(bool).to_numpy()
    admin = revocations[~is_self] if is_self.any() else revocations
    if len(admin) > 1:
        admin = admin.sort_values(["revocation_time", "revocation_id"], kind="stable")
    # Bursts are claimed by the positions of the revocations in ``admin``, so only
    # the claiming revocations need rows, whose conversion reads every column.
    revocation_ids = [str(value) for value in admin["revocation_id"]]
    claimed: dict[int, tuple[Burst, int, list[str]]] = {}
    for position, revoked_at in enumerate(admin["revocation_time"]):
        burst = _burst_after(revoked_at, times, counts, window_ns, params)
        if burst is None:
            continue
        _claim(claimed, burst, position, revocation_ids)
    claiming_rows: dict[int, pd.Series] = {}
    if claimed:
        claiming = sorted({position for _, position, _ in claimed.values()})
        if rows is None:
            selected = list(_rows(admin.iloc[claiming]))
        else:
            selected = [rows[label] for label in admin.index[claiming]]
        claiming_rows = dict(zip(claiming, selected, strict=True))
    matches = [
        _match(span, burst, claiming_rows[position], others, params)
        for burst, position, others in claimed.values()
    ]
    if not params.chain_only:
        for burst in all_bursts(times, window_ns, params.min_denials):
            if not any(_overlaps(burst, chain) for chain, _, _ in claimed.values()):
                matches.append(_match(span, burst, None, [], params))
    return matches


def _rows(frame: pd.DataFrame) -> Iterator[pd.Series]:
    """Yield each row as the Series ``frame.iterrows()`` gives, without building
    the object array of the whole frame that iterrows converts every column to.

    An Arrow list value is a list, as iterating its column gives it, where
    iterrows gives a NumPy array.
    """
    columns = frame.columns
    for label, values in zip(
        frame.index, zip(*columns_of(frame), strict=True), strict=True
    ):
        yield pd.Series(values, index=columns, name=label, dtype=object)


def _strictly_increasing(times: pd.Series) -> bool:
    """Tell whether every time is later than the one before, with no NaT."""
    values = times.to_numpy(dtype="datetime64[ns]")
    if np.isnat(values).any():
        return False
    return bool((np.diff(values.view(np.int64)) > 0).all())


def _burst_after(
    revoked_at: object,
    times: np.ndarray,
    counts: np.ndarray,
    window_ns: int,
    params: DetectionParams,
) -> Burst | None:
    revoked_ns = int(pd.Timestamp(revoked_at).value)
    begin = int(np.searchsorted(times, revoked_ns, side="right"))
    end = int(
        np.searchsorted(times, revoked_ns + int(params.max_lag.value), side="right")
    )
    return first_burst_from(times, counts, window_ns, params.min_denials, begin, end)


def _claim(
    claimed: dict[int, tuple[Burst, int, list[str]]],
    burst: Burst,
    position: int,
    revocation_ids: list[str],
) -> None:
    """Attribute a burst to the latest revocation before it; note the others.

    Revocations are given by position, in time order, with their ids.
    """
    for start, (chain, earlier, others) in list(claimed.items()):
        if chain.start == burst.start:
            others.append(revocation_ids[earlier])
            claimed[start] = (chain, position, others)
            return
        if _overlaps(burst, chain):
            others.append(revocation_ids[position])
            return
    claimed[burst.start] = (burst, position, [])


def _overlaps(first: Burst, second: Burst) -> bool:
    return first.start < second.stop and second.start < first.stop


class _PromptSpan:
    """One user's prompts, with the columns a match selects rows by as arrays.

    Rows are selected by position, because filtering the frame with a mask per
    match takes every column each time.
    """

    def __init__(self, prompts: pd.DataFrame) -> None:
        self.prompts = prompts
        self.times = prompts["prompt_time"].to_numpy(dtype="datetime64[ns]")
        self.approved = (prompts["outcome"] == APPROVED).to_numpy(dtype=bool)
        self.denials = np.flatnonzero(
            prompts["outcome"].isin(DENIALS).to_numpy(dtype=bool)
        )

    def rows(self, mask: np.ndarray) -> pd.DataFrame:
        """Return the prompts where ``mask`` is true."""
        return self.take(np.flatnonzero(mask))

    def take(self, positions: np.ndarray) -> pd.DataFrame:
        """Return the prompts at these ascending positions, as one slice when they
        are consecutive."""
        if len(positions) and positions[-1] - positions[0] + 1 == len(positions):
            return self.prompts.iloc[positions[0] : positions[-1] + 1]
        return self.prompts.iloc[positions]


def _match(
    span: _PromptSpan,
    burst: Burst,
    revocation: pd.Series | None,
    others: list[str],
    params: DetectionParams,
) -> Match:
    burst_denials = span.take(span.denials[burst.start : burst.stop])
    burst_times = burst_denials["prompt_time"]
    first = burst_times.iloc[0]
    last = burst_times.iloc[-1]
    horizon = last + params.burst_window
    # Comparisons with NaT are false, as in pandas.
    times = span.times
    start = first.to_datetime64()
    in_span = (times >= start) & (times <= horizon.to_datetime64())
    approvals = np.flatnonzero(in_span & span.approved & (times > start))
    approval = span.prompts.iloc[approvals[0]] if len(approvals) else None
    end = max(last, approval["prompt_time"]) if approval is not None else last
    return Match(
        user_key=str(burst_denials["user_key"].iloc[0]),
        revocation=revocation,
        prompts=span.rows(in_span & (times <= end.to_datetime64())),
        denials=burst_denials,
        approval=approval,
        peak_denials=burst.peak,
        other_revocations=others,
    )


def detect_all(
    revocations: pd.DataFrame, prompts: pd.DataFrame, params: DetectionParams
) -> list[Match]:
    """Run :func:`detect_user` for every user who has prompts.

    Users with fewer than ``min_denials`` denied prompts cannot have a burst, so they
    are dropped first, which saves a partition per user on large exports.
    """
    matches: list[Match] = []
    if len(prompts):
        denied = prompts["outcome"].isin(DENIALS)
        counts = prompts.loc[denied, "user_key"].value_counts()
        possible = counts.index[counts >= params.min_denials]
        prompts = prompts[prompts["user_key"].isin(possible)]
    if prompts.empty:
        return matches
    # Only users with prompts are partitioned: a large audit export revokes many
    # users who have none.
    revocations = revocations[revocations["user_key"].isin(prompts["user_key"])]
    # Their revocations become rows in one conversion, because converting each
    # user's few rows took a millisecond per user, mostly per-column overhead.
    rows = (
        {row.name: row for row in _rows(revocations)}
        if revocations.index.is_unique
        else None
    )
    for revocations_of_user, prompts_of_user in _partitions(revocations, prompts):
        matches.extend(
            detect_user(revocations_of_user, prompts_of_user, params, rows=rows)
        )
    return matches


def _partitions(
    revocations: pd.DataFrame, prompts: pd.DataFrame
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    by_user = RowsByKey(revocations, revocations["user_key"])
    empty = revocations.iloc[0:0]
    for user_key, prompts_of_user in RowsByKey(
        prompts, prompts["user_key"], sort=True
    ).items():
        yield by_user.get(user_key, empty), prompts_of_user
