"""Say where the sign-in data does not cover a revocation's follow-up window.

A quiet result means nothing only where the data was there: a revocation whose
follow-up window lies partly outside every sign-in export was not looked at.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable

import pandas as pd

from h056hunt import timeranges
from h056hunt.detect.chains import DetectionParams
from h056hunt.findings import Finding, FindingType
from h056hunt.load import LoadedData
from h056hunt.loaders.sink import FileReport
from h056hunt.render.text import format_time
from h056hunt.schema import rows_of

# The revocation fields a coverage warning reads.
_COVERAGE_COLUMNS = ("target_upn", "user_key", "revocation_time")


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
    ranges = covered_ranges(data.signin, params.max_lag, data.files)
    if not ranges:
        return [
            f"no sign-in data was loaded: {len(admin)} revocation(s) cannot be "
            "followed, so no chain can be found (not looked at, not clean)"
        ]
    # The furthest end among the ranges up to each one: every range before the
    # first whose running end reaches a start lies wholly before that start.
    reach = list(itertools.accumulate((end for _, end in ranges), max))
    warnings = []
    for revocation in rows_of(admin, _COVERAGE_COLUMNS):
        # A target named only by its object id has a missing (NA) UPN.
        target = revocation.target_upn
        user = target if isinstance(target, str) else revocation.user_key
        start = revocation.revocation_time
        end = start + params.max_lag
        first = bisect.bisect_left(reach, start)
        for hole_start, hole_end in _uncovered(ranges, start, end, first):
            # A stretch shorter than the burst window cannot hide a whole burst.
            if hole_end - hole_start < params.burst_window:
                continue
            warnings.append(
                f"sign-in data does not cover {format_time(hole_start)} to "
                f"{format_time(hole_end)}, inside the follow-up window of the "
                f"revocation of {user} at "
                f"{format_time(start)}: a quiet result there means not looked at"
            )
    return warnings


def covered_ranges(
    signin: pd.DataFrame,
    max_gap: pd.Timedelta,
    reports: Iterable[FileReport] = (),
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return the sorted time ranges that the sign-in files cover.

    A file whose report carries its time ranges (every file the loaders read, the
    records a pre-filter passed over included) covers those; for any other file the
    ranges come from its rows in ``signin``.

    NOTE: stored ranges have one-second resolution, so a ``max_gap`` below a second
    still joins times up to a second apart.
    """
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    stored = set()
    gap = max(int(max_gap.value), 0)
    for report in reports:
        parts = report.time_ranges.get("signin")
        if parts is None:
            continue
        stored.add(report.path)
        for start, end in timeranges.merge([parts], gap).tolist():
            ranges.append((_timestamp(start), _timestamp(end)))
    if signin.empty:
        return sorted(ranges)
    for path, times in signin.groupby("source_file", sort=True)["event_time"]:
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


def _uncovered(
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]],
    start: pd.Timestamp,
    end: pd.Timestamp,
    first: int = 0,
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return the stretches of ``[start, end]`` that no range covers.

    ``first`` is the index of the first range that can reach ``start``.
    """
    holes = []
    cursor = start
    for index in range(first, len(ranges)):
        range_start, range_end = ranges[index]
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


def audit_coverage_warnings(
    data: LoadedData, findings: Iterable[Finding], params: DetectionParams
) -> list[str]:
    """Name each stand-alone burst whose look-back window no audit export covers.

    A ``push_bombing`` finding states that no revocation of the user came before the
    burst. That is only known where audit data covers the ``max_lag`` before it. Audit
    records are sparse, so each audit file covers its whole first-to-last span.
    """
    bursts = [f for f in findings if f.finding_type == FindingType.PUSH_BOMBING]
    if not bursts:
        return []
    ranges = sorted(
        (report.time_min["audit"], report.time_max["audit"])
        for report in data.files
        if "audit" in report.time_min
    )
    if not ranges:
        return [
            f"no audit data was loaded: {len(bursts)} burst(s) are reported as "
            "push_bombing because no revocation could be seen, not because none "
            "happened"
        ]
    warnings = []
    for finding in bursts:
        first = finding.first_prompt_time
        if first is None:
            continue
        for hole_start, hole_end in _uncovered(ranges, first - params.max_lag, first):
            user = finding.target_upn or finding.target_user_id
            warnings.append(
                f"audit data does not cover {format_time(hole_start)} to "
                f"{format_time(hole_end)}, before the burst of {user} at "
                f"{format_time(first)}: a revocation there would not be seen, so "
                "this burst may be a revocation chain"
            )
    return warnings
