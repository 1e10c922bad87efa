"""Findings as plain dicts: the versioned shape of every machine-readable output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from h056hunt.findings import Evidence, Finding, TimelineEvent
from h056hunt.lazy_sequence import map_slices
from h056hunt.render.text import format_time

SCHEMA_VERSION = "1.5"

_NAT_NANOSECONDS = np.iinfo(np.int64).min


def format_times(times: Sequence[pd.Timestamp | None]) -> list[str]:
    """Return ``format_time(time)`` of every time, formatting each distinct time once.

    A campaign lists thousands of revocation times, in its evidence and again in its
    timeline, and formatting each time on its own dominated its record. None and NaT
    give "", as in ``format_time``.
    """
    nanoseconds = np.array(
        [
            time.value if isinstance(time, pd.Timestamp) else _nanoseconds(time)
            for time in times
        ],
        dtype=np.int64,
    )
    return format_nanoseconds(nanoseconds)


def format_nanoseconds(nanoseconds: np.ndarray) -> list[str]:
    """Return :func:`format_times` of times given as int64 nanoseconds since the
    epoch in UTC, where the minimum int64 stands for NaT, as in NumPy."""
    distinct, positions = np.unique(nanoseconds, return_inverse=True)
    by_time = _format_distinct(distinct).to_numpy(zero_copy_only=False)
    formatted: list[str] = by_time[positions].tolist()
    return formatted


def format_nanoseconds_array(nanoseconds: np.ndarray) -> pa.StringArray:
    """Return the texts of :func:`format_nanoseconds` as an Arrow string array."""
    distinct, positions = np.unique(nanoseconds, return_inverse=True)
    return _format_distinct(distinct).take(pa.array(positions.ravel()))


def _format_distinct(distinct: np.ndarray) -> pa.StringArray:
    missing = distinct == _NAT_NANOSECONDS
    # Arrow casts naive nanosecond times to "YYYY-MM-DD HH:MM:SS.fffffffff" in one
    # call. The 30,232 times of a 15,116-target campaign took 8 ms, not 19 ms.
    stamps = pa.array(distinct, mask=missing).cast(pa.timestamp("ns"))
    texts = pc.replace_substring(stamps.cast(pa.string()), " ", "T")
    texts = pc.utf8_rtrim(pc.utf8_rtrim(texts, characters="0"), characters=".")
    return pc.binary_join_element_wise(texts, "Z", "").fill_null("")


def _nanoseconds(time: object) -> int:
    if isinstance(time, pd.Timestamp):
        return int(time.value)
    if time is None or pd.isna(time):
        return _NAT_NANOSECONDS
    return int(pd.Timestamp(time).value)


def finding_record(finding: Finding, *, partial: bool = False) -> dict[str, Any]:
    """Return a finding as a JSON-ready dict with ISO 8601 UTC times.

    ``evidence``, ``timeline`` and ``campaign_targets`` are lazy sequences of
    dicts, made a slice at a time when read, because a campaign can list tens of
    thousands of them. :func:`h056hunt.render.jsonl.dumps` writes them as lists.

    Args:
        finding: the finding.
        partial: True when some input was not read completely, so the finding may be
            incomplete; every machine-readable output carries this flag.
    """
    actor = finding.actor
    return {
        "schema_version": SCHEMA_VERSION,
        "finding_id": finding.finding_id,
        "finding_type": finding.finding_type.value,
        "severity": finding.severity.label,
        "score": finding.score,
        "score_factors": [
            {"name": factor.name, "points": factor.points, "fact": factor.fact}
            for factor in finding.score_factors
        ],
        "target_user_id": finding.target_user_id,
        "target_upn": finding.target_upn,
        "target_display_name": finding.target_display_name,
        "signin_upns": list(finding.extra.get("signin_upns", [])),
        "actor": None
        if actor is None
        else {
            "type": actor.type,
            "id": actor.id,
            "upn": actor.upn,
            "display_name": actor.display_name,
            "ip": actor.ip,
            "app_id": actor.app_id,
            "service_principal_id": actor.service_principal_id,
            "label": actor.label,
        },
        "revocation_time": format_time(finding.revocation_time) or None,
        "first_prompt_time": format_time(finding.first_prompt_time) or None,
        "last_prompt_time": format_time(finding.last_prompt_time) or None,
        "prompt_counts": dict(finding.prompt_counts),
        "denied_prompts": finding.denied_prompts,
        "peak_denials_in_window": finding.extra.get("peak_denials"),
        "approved": finding.approved,
        "approval_time": format_time(finding.approval_time) or None,
        "source_ips": list(finding.source_ips),
        "countries": list(finding.countries),
        "user_agents": list(finding.user_agents),
        "other_revocation_ids": list(finding.extra.get("other_revocations", [])),
        "matched_by_upn": bool(finding.extra.get("upn_fallback", False)),
        "step_times_replaced": int(finding.extra.get("step_times_replaced", 0)),
        "step_times_unreadable": int(finding.extra.get("step_times_unreadable", 0)),
        "evidence": map_slices(finding.evidence, _evidence_records),
        "timeline": map_slices(finding.timeline, _timeline_records),
        "summary": finding.summary,
        "campaign_targets": map_slices(finding.extra.get("targets", []), list),
        "shared_origins": dict(finding.extra.get("shared_origins", {})),
        "partial_input": partial,
    }


def _evidence_records(items: Sequence[Evidence]) -> list[dict[str, Any]]:
    times = format_times([item.time for item in items])
    return [
        {
            "kind": item.kind,
            "record_id": item.record_id,
            "time": time,
            "file": item.file,
            "line": item.line,
            "record": item.record,
            "outcome": item.outcome,
            "detail": item.detail,
        }
        for item, time in zip(items, times, strict=True)
    ]


def _timeline_records(events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    times = format_times([event.time for event in events])
    return [
        {
            "time": time,
            "kind": event.kind,
            "description": event.description,
            "ip_address": event.ip_address,
            "country": event.country,
            "record_id": event.record_id,
        }
        for event, time in zip(events, times, strict=True)
    ]
