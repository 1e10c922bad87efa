"""Say where the data does not cover the windows the hunt looked at.

A quiet result means nothing only where the data was there: a revocation whose
follow-up window lies partly outside every sign-in export was not looked at, and a
burst whose look-back window lies partly outside every audit export may follow a
revocation that was not seen. Windows that fall into the same gap in the data share
one warning, so a run whose sign-in export ends early names that gap once, not once
per revocation.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from h056hunt import timeranges
from h056hunt.detect.chains import DetectionParams
from h056hunt.findings import Finding, FindingType
from h056hunt.load import LoadedData
from h056hunt.loaders.sink import FileReport
from h056hunt.plurals import Counted
from h056hunt.render.text import format_time, list_entry
from h056hunt.schema import columns_of

# A time as a Timestamp or as nanoseconds since the epoch in UTC.
_Time = TypeVar("_Time", pd.Timestamp, int)

# The revocation fields a coverage warning reads.
_COVERAGE_COLUMNS = ("target_upn", "user_key", "revocation_time")

# How many users a grouped warning names before it counts the rest.
_EXAMPLE_USERS = 3

# The audit quiet limit, unless ``max_lag`` is longer. A stretch without an audit
# record that lasts longer than the limit is a gap in the audit data. Audit records
# are directory changes, far sparser than sign-ins, so several quiet hours in a row
# are normal and must not split the coverage. A longer stretch is reported even when
# the tenant was only quiet, because a missing piece of an export and a quiet tenant
# look the same.
# NOTE: 24 hours is a chosen default, not measured on real tenants. A small tenant
# with quiet days gets a warning for each such day before a push_bombing burst.
MIN_AUDIT_QUIET_LIMIT = pd.Timedelta(hours=24)


# Slots, because a run can keep a hole for each of tens of thousands of windows.
@dataclass(frozen=True, slots=True)
class _Hole:
    """The part of one revocation's or burst's window that no range covers.

    ``gap`` is the index of the first covered range after the hole, or the number
    of ranges when none follows, so holes in the same gap have the same ``gap``.
    ``event_time`` is the revocation time or the first prompt time. The times are
    nanoseconds since the epoch in UTC, as ``pd.Timestamp.value`` gives them.
    """

    gap: int
    start: int
    end: int
    event_time: int
    user: str


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
    # Only the columns read here are filtered, because a filter takes every column.
    admin = revocations.loc[
        ~revocations["is_self_revocation"].astype(bool), list(_COVERAGE_COLUMNS)
    ]
    if admin.empty:
        return []
    ranges = covered_ranges(data.signin, params.max_lag, data.files, log="signin")
    if not ranges:
        revocations = Counted(len(admin), "revocation")
        return [
            f"no sign-in data was loaded: {revocations} cannot be followed, so no "
            "chain can be found (not looked at, not clean)"
        ]
    # The furthest end among the ranges up to each one: every range before the
    # first whose running end reaches a start lies wholly before that start.
    reach = list(itertools.accumulate((end for _, end in ranges), max))
    to_check = admin.iloc[_maybe_uncovered(admin, ranges, reach, params.max_lag)]
    # The windows are compared in integer nanoseconds. When tens of thousands of
    # windows reached past the sign-in data, Timestamp arithmetic and a Timestamp
    # per row took most of this function's time and memory.
    lag = int(params.max_lag.value)
    burst_window = int(params.burst_window.value)
    ranges_ns = [(start.value, end.value) for start, end in ranges]
    reach_ns = [end.value for end in reach]
    times = to_check["revocation_time"].to_numpy(dtype="datetime64[ns]")
    targets, user_keys = columns_of(to_check, ("target_upn", "user_key"))
    holes = []
    for target, user_key, start, missing in zip(
        targets,
        user_keys,
        times.view(np.int64).tolist(),
        np.isnat(times).tolist(),
        strict=True,
    ):
        # A revocation without a time has no window, so no hole.
        if missing:
            continue
        # A target named only by its object id has a missing (NA) UPN.
        user = target if isinstance(target, str) else user_key
        end = start + lag
        first = bisect.bisect_left(reach_ns, start)
        for gap, hole_start, hole_end in _uncovered(ranges_ns, start, end, first):
            # A stretch shorter than the burst window cannot hide a whole burst.
            if hole_end - hole_start < burst_window:
                continue
            holes.append(_Hole(gap, hole_start, hole_end, start, str(user)))
    return [_signin_warning(group) for group in _group_by_gap(holes)]


def _maybe_uncovered(
    admin: pd.DataFrame,
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]],
    reach: list[pd.Timestamp],
    max_lag: pd.Timedelta,
) -> np.ndarray:
    """Return the positions of the revocations whose follow-up window may have a
    hole, in frame order.

    When the first range that reaches a window's start begins no later than the
    start and ends no earlier than the end, :func:`_uncovered` finds no hole in
    the window. That test runs on every revocation at once, so the exact search
    runs only on the others, revocations without a time among them.
    """
    times = admin["revocation_time"].to_numpy(dtype="datetime64[ns]")
    starts = times.view(np.int64)
    ends = starts + int(max_lag.value)
    reach_ns = np.array([end.value for end in reach], dtype=np.int64)
    # One padding entry past the last range, for starts that no range reaches.
    range_starts = np.array([start.value for start, _ in ranges] + [0], dtype=np.int64)
    range_ends = np.array([end.value for _, end in ranges] + [0], dtype=np.int64)
    first = np.searchsorted(reach_ns, starts, side="left")
    inside = (
        (first < len(ranges))
        & (range_starts[first] <= starts)
        & (range_ends[first] >= ends)
        & ~np.isnat(times)
    )
    return np.flatnonzero(~inside)


def _signin_warning(group: list[_Hole]) -> str:
    """Describe one sign-in gap and the revocation windows that reach into it."""
    start, end = _stretch(group)
    stretch = f"sign-in data does not cover {_format_ns(start)} to {_format_ns(end)}"
    outcome = "a quiet result there means not looked at"
    if len(group) == 1:
        hole = group[0]
        return (
            f"{stretch}, inside the follow-up window of the revocation of "
            f"{hole.user} at {_format_ns(hole.event_time)}: {outcome}"
        )
    return (
        f"{stretch}, overlapping the follow-up windows of {len(group)} revocations "
        f"made {_event_span(group)} ({_example_users(group)}): {outcome}"
    )


def covered_ranges(
    records: pd.DataFrame,
    max_gap: pd.Timedelta,
    reports: Iterable[FileReport] = (),
    log: str = "signin",
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return the sorted time ranges that the files of one log cover.

    Each file covers its first to last event time of ``log`` (``signin`` or
    ``audit``), split wherever it has no event for longer than ``max_gap``. A file
    whose report carries its time ranges (every file the loaders read, the records
    a pre-filter passed over included) covers those; for any other file the ranges
    come from its rows in ``records``, the loaded frame of ``log``.

    NOTE: stored ranges have one-second resolution, so a ``max_gap`` below a second
    still joins times up to a second apart.
    """
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    stored = set()
    gap = max(int(max_gap.value), 0)
    for report in reports:
        parts = report.time_ranges.get(log)
        if parts is None:
            continue
        stored.add(report.path)
        for start, end in timeranges.merge([parts], gap).tolist():
            ranges.append((_timestamp(start), _timestamp(end)))
    if records.empty:
        return sorted(ranges)
    for path, times in records.groupby("source_file", sort=True)["event_time"]:
        if path in stored:
            continue
        ordered = times.sort_values().reset_index(drop=True)
        breaks = ordered.diff() > max_gap
        segment = breaks.cumsum()
        for _, part in ordered.groupby(segment):
            ranges.append((part.iloc[0], part.iloc[-1]))
    return sorted(ranges)


def _timestamp(nanoseconds: int) -> pd.Timestamp:
    return pd.Timestamp(nanoseconds, unit="ns", tz="UTC")


def _format_ns(nanoseconds: int) -> str:
    """Format a time in nanoseconds since the epoch as :func:`format_time` does."""
    return format_time(_timestamp(nanoseconds))


def _uncovered(
    ranges: list[tuple[_Time, _Time]],
    start: _Time,
    end: _Time,
    first: int = 0,
) -> list[tuple[int, _Time, _Time]]:
    """Return the stretches of ``[start, end]`` that no range covers.

    Each stretch comes with the index of the first range that starts after it, or
    ``len(ranges)`` when none does, so the same index means the same gap.
    ``first`` is the index of the first range that can reach ``start``. The times
    are all Timestamps or all integer nanoseconds.
    """
    holes = []
    cursor = start
    following = len(ranges)
    for index in range(first, len(ranges)):
        range_start, range_end = ranges[index]
        if range_end < cursor:
            continue
        if range_start >= end:
            following = index
            break
        if range_start > cursor:
            holes.append((index, cursor, range_start))
        cursor = max(cursor, range_end)
    if cursor < end:
        holes.append((following, cursor, end))
    return holes


def _group_by_gap(holes: list[_Hole]) -> list[list[_Hole]]:
    """Group holes by gap, each group in event order, the groups in time order."""
    groups: defaultdict[int, list[_Hole]] = defaultdict(list)
    for hole in holes:
        groups[hole.gap].append(hole)
    ordered = [
        sorted(group, key=lambda hole: (hole.event_time, hole.user, hole.start))
        for group in groups.values()
    ]
    ordered.sort(key=lambda group: (*_stretch(group), group[0].gap))
    return ordered


def _stretch(group: list[_Hole]) -> tuple[int, int]:
    """Return the earliest start and the latest end of the holes in ``group``."""
    return min(hole.start for hole in group), max(hole.end for hole in group)


def _event_span(group: list[_Hole]) -> str:
    """Return "between FIRST and LAST" over the event times in ``group``.

    When every event has the same time, return "at TIME" instead.
    """
    first = _format_ns(group[0].event_time)
    last = _format_ns(group[-1].event_time)
    if first == last:
        return f"at {first}"
    return f"between {first} and {last}"


def _example_users(group: list[_Hole]) -> str:
    """Name the first few distinct users in ``group`` and count the others."""
    users = list(dict.fromkeys(hole.user for hole in group))
    # The list is in brackets and its last entry follows " and ", so a user with
    # a space or a closing bracket is quoted too. A real UPN has neither.
    named = [list_entry(user, reserved=" )") for user in users[:_EXAMPLE_USERS]]
    more = len(users) - len(named)
    if more:
        # Beside a count of revocations or bursts, a bare "and 51 more" reads as
        # the rest of that count. The noun shows that it counts users, and one
        # user can have several.
        return f"{', '.join(named)} and {Counted(more, 'other user')}"
    if len(named) == 1:
        return f"user {named[0]}"
    return f"users {', '.join(named[:-1])} and {named[-1]}"


def audit_coverage_warnings(
    data: LoadedData, findings: Iterable[Finding], params: DetectionParams
) -> list[str]:
    """Name each stand-alone burst whose look-back window no audit export covers.

    A ``push_bombing`` finding states that no admin revocation of the user came in
    the ``max_lag`` before the burst. That is only known where audit data covers the
    ``max_lag`` before it.
    The audit data covers the first to last audit record, split wherever more than
    :func:`audit_quiet_limit` passes without an audit record in any file.
    """
    bursts = [f for f in findings if f.finding_type == FindingType.PUSH_BOMBING]
    if not bursts:
        return []
    limit = audit_quiet_limit(params)
    # Ranges of different files are joined too, so a silence counts the same whether
    # one file or two hold its ends, and one export per day leaves no gap at midnight.
    ranges = _join_ranges(covered_ranges(data.audit, limit, data.files, "audit"), limit)
    if not ranges:
        reported = Counted(len(bursts), "burst is", "bursts are")
        return [
            f"no audit data was loaded: {reported} reported as push_bombing "
            "because no revocation could be seen, not because none happened"
        ]
    # Joined ranges are disjoint and sorted, so their ends are sorted too.
    ends = [end for _, end in ranges]
    holes = []
    for finding in bursts:
        first = finding.first_prompt_time
        if first is None:
            continue
        user = finding.target_upn or finding.target_user_id
        look_back = first - params.max_lag
        reachable = bisect.bisect_left(ends, look_back)
        uncovered = _uncovered(ranges, look_back, first, reachable)
        for gap, hole_start, hole_end in uncovered:
            holes.append(
                _Hole(gap, hole_start.value, hole_end.value, first.value, str(user))
            )
    return [_audit_warning(group) for group in _group_by_gap(holes)]


def audit_quiet_limit(params: DetectionParams) -> pd.Timedelta:
    """Return the longest stretch without an audit record that stays covered.

    The limit is never below ``max_lag``, the limit the sign-in coverage uses,
    because audit records are sparser than sign-ins.
    """
    return max(params.max_lag, MIN_AUDIT_QUIET_LIMIT)


def _join_ranges(
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]], max_gap: pd.Timedelta
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Join sorted ranges that overlap or lie at most ``max_gap`` apart."""
    joined: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for start, end in ranges:
        if joined and start - joined[-1][1] <= max_gap:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def _audit_warning(group: list[_Hole]) -> str:
    """Describe one audit gap and the bursts whose look-back window reaches it."""
    start, end = _stretch(group)
    stretch = f"audit data does not cover {_format_ns(start)} to {_format_ns(end)}"
    if len(group) == 1:
        hole = group[0]
        return (
            f"{stretch}, before the burst of {hole.user} at "
            f"{_format_ns(hole.event_time)}: a revocation there would not be "
            "seen, so this burst may be a revocation chain"
        )
    return (
        f"{stretch}, before {len(group)} bursts that began {_event_span(group)} "
        f"({_example_users(group)}): a revocation there would not be seen, so "
        "these bursts may be revocation chains"
    )
