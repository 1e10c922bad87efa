"""The run as a plain dict: inputs, record accounting, coverage and thresholds.

The ``json`` report writes this record as its ``run`` member, and the Markdown and
HTML reports read their input sections from it. Files are sorted by path, so the order
of the inputs on the command line never changes the output.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import pandas as pd

from h056hunt import __version__
from h056hunt.render.text import format_duration, format_time

if TYPE_CHECKING:
    from h056hunt.detect.chains import DetectionParams
    from h056hunt.loaders.sink import FileReport
    from h056hunt.render.context import RenderContext

LOG_NAMES = ("audit", "signin")


def run_record(context: RenderContext, tz: tzinfo | None = None) -> dict[str, Any]:
    """Return the run summary as a JSON-ready dict.

    Args:
        context: the run facts.
        tz: time zone for the times. None writes ISO 8601 UTC, which every
            machine-readable output uses.
    """
    data = context.data
    result = context.result
    files = sorted(data.files, key=lambda report: (report.path, report.requested_log))
    skipped = data.skipped()
    revocations = result.revocations
    admin_revocations = 0
    if len(revocations):
        admin_revocations = int((~revocations["is_self_revocation"].astype(bool)).sum())
    near_misses = sorted(set(result.near_misses["activity"].dropna().astype(str)))
    return {
        "tool": {"name": "h056hunt", "version": __version__},
        "partial": context.partial,
        "files": [_file_record(report, tz) for report in files],
        "unreadable": [
            {"path": path, "reason": reason} for path, reason in sorted(data.unreadable)
        ],
        "records": {
            "seen": sum(report.records_seen for report in files),
            "loaded": sum(report.loaded_total for report in files),
            "duplicates": sum(report.duplicates for report in files),
            "prefiltered": sum(sum(report.prefiltered.values()) for report in files),
            "skipped": sum(skipped.values()),
            "skipped_by_reason": dict(sorted(skipped.items())),
        },
        "conflicts": sorted(
            (
                {
                    "log": conflict.log,
                    "record_id": conflict.record_id,
                    "columns": sorted(conflict.columns),
                    "files": sorted(conflict.files),
                    "kept_file": conflict.kept_file,
                    "kept_record": conflict.kept_record,
                }
                for conflict in data.conflicts
            ),
            key=lambda item: (item["log"], item["record_id"]),
        ),
        "time_span": {log: _span_record(data.time_span(log), tz) for log in LOG_NAMES},
        "detection": {
            "revocations": len(revocations),
            "admin_revocations": admin_revocations,
            "prompts": result.prompt_count,
            "findings": len(result.findings),
            "records_matched_by_upn": result.upn_fallback_rows,
            "denial_step_times_replaced": result.denial_step_times_replaced,
            "denial_step_times_unreadable": result.denial_step_times_unreadable,
            "denial_steps_without_signin": result.denial_steps_without_signin,
            "unmatched_revocation_activities": near_misses,
        },
        "coverage_warnings": list(result.coverage_warnings),
        "suppressed": [
            {
                "finding_id": item.finding.finding_id,
                "finding_type": item.finding.finding_type.value,
                "entry": item.entry,
                "reason": item.reason,
            }
            for item in result.suppressed
        ],
        "thresholds": thresholds_record(context.params),
    }


def thresholds_record(params: DetectionParams) -> dict[str, Any]:
    """Return the detection thresholds with durations in seconds and as text."""
    return {
        "max_lag_seconds": _seconds(params.max_lag),
        "max_lag": format_duration(params.max_lag),
        "burst_window_seconds": _seconds(params.burst_window),
        "burst_window": format_duration(params.burst_window),
        "min_denials": params.min_denials,
        "chain_only": params.chain_only,
        "revocation_activities": list(params.revocation_activities),
        "campaign_min_targets": params.campaign_min_targets,
        "campaign_window_seconds": _seconds(params.campaign_window),
        "campaign_window": format_duration(params.campaign_window),
        "actor_lookback_seconds": _seconds(params.actor_lookback),
        "actor_lookback": format_duration(params.actor_lookback),
        "persistence_window_seconds": _seconds(params.persistence_window),
        "persistence_window": format_duration(params.persistence_window),
    }


def _seconds(delta: pd.Timedelta) -> int | float:
    """Return whole seconds as an int, so ``7200`` is not written as ``7200.0``."""
    seconds = pd.Timedelta(delta).total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _file_record(report: FileReport, tz: tzinfo | None) -> dict[str, Any]:
    return {
        "path": report.path,
        "converted_in": report.converted_in,
        "in_convert_folder": report.in_convert_folder,
        "given_as": report.requested_log,
        "given_to": list(report.given_options),
        "shape": report.shape,
        "shapes": dict(sorted(report.shapes.items())),
        "records_seen": report.records_seen,
        "loaded": {name: report.loaded[name] for name in (*LOG_NAMES, "steps")},
        "duplicates": report.duplicates,
        "skipped": sum(report.skipped.values()),
        "skipped_by_reason": dict(sorted(report.skipped.items())),
        "prefiltered": sum(report.prefiltered.values()),
        "denial_step_times_unreadable": report.denial_step_times_unreadable,
        "partial": report.partial,
        "error": report.error,
        "time_span": {
            log: _span_record(
                (report.time_min[log], report.time_max[log])
                if log in report.time_min
                else None,
                tz,
            )
            for log in LOG_NAMES
        },
    }


def _span_record(
    span: tuple[pd.Timestamp, pd.Timestamp] | None, tz: tzinfo | None
) -> dict[str, str] | None:
    if span is None:
        return None
    return {"first": format_time(span[0], tz), "last": format_time(span[1], tz)}
