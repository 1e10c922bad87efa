"""Describe input files before hunting: shape, counts, time range, missing fields."""

from __future__ import annotations

from typing import Any

import pandas as pd

from h056hunt.loaders.sink import FileReport
from h056hunt.render.text import format_time

# Canonical columns the detection relies on, with what is lost when a file lacks them.
# A tuple of columns needs any one of them.
NEEDED_SIGNIN_FIELDS = (
    ("user_id", "userId: prompts are joined by normalised UPN, which is less reliable"),
    ("error_code", "status.errorCode: denials without step details cannot be found"),
    ("additional_details", "status.additionalDetails: denial reasons are unavailable"),
    ("request_id", "originalRequestId: prompts cannot be collapsed per request"),
    ("ip_address", "ipAddress: source IPs of prompts are unknown"),
    (
        ("risk_level_during_signin", "risk_state"),
        "riskLevelDuringSignIn and riskState: a revoker's risky sign-ins cannot "
        "raise a finding's score",
    ),
)
NEEDED_AUDIT_FIELDS = (
    ("target_id", "targetResources id: revocations are joined by UPN"),
    ("actor_type", "initiatedBy: the revoker is unknown"),
    ("correlation_id", "correlationId: paired Update user rows cannot be merged"),
)
STEPS_FIELD = (
    "authenticationDetails",
    "authenticationDetails: step-level outcomes are unavailable",
)


def logs_held(report: FileReport) -> str:
    """Name the logs a file contains: ``audit``, ``signin``, both, ``steps`` for a
    file of authentication steps alone, or ``none``."""
    held = [
        log
        for log in ("audit", "signin")
        if report.loaded[log] or report.prefiltered[log] or _had(report, log)
    ]
    if held:
        return "+".join(held)
    # A portal AuthDetails download contains the steps of sign-ins in another file.
    return "steps" if report.loaded["steps"] else "none"


def _had(report: FileReport, log: str) -> bool:
    return bool(report.present_columns.get(log))


def files_with_steps(signin: pd.DataFrame, steps: pd.DataFrame) -> set[str]:
    """Return the sign-in files whose records have authentication steps.

    Steps count wherever they came from: a portal AuthDetails download gives the
    steps of the sign-ins in another file, joined by request id.
    """
    if signin.empty or steps.empty:
        return set()
    keys = set(steps["record_id"].astype(str))
    has_steps = signin["record_id"].astype(str).isin(keys) | signin[
        "request_id"
    ].astype(str).isin(keys)
    return set(signin.loc[has_steps, "source_file"].astype(str))


def missing_fields(report: FileReport, has_steps: bool | None = None) -> list[str]:
    """Return the detection inputs a file lacks, each with what is lost.

    Args:
        report: the file's load report.
        has_steps: whether the run contains steps for this file's sign-ins; None reads
            it from the file alone.
    """
    missing = []
    if _had(report, "signin"):
        present = report.present_columns["signin"]
        for names, text in NEEDED_SIGNIN_FIELDS:
            # An entry with several columns needs any one of them.
            alternatives = (names,) if isinstance(names, str) else names
            if not any(name in present for name in alternatives):
                missing.append(text)
        if not (report.step_rows > 0 if has_steps is None else has_steps):
            missing.append(STEPS_FIELD[1])
    if _had(report, "audit"):
        present = report.present_columns["audit"]
        missing.extend(
            text for name, text in NEEDED_AUDIT_FIELDS if name not in present
        )
    return missing


def file_record(report: FileReport, has_steps: bool | None = None) -> dict[str, Any]:
    """Return the JSON-ready description of one file that ``inspect`` prints."""
    times_min = [value for value in report.time_min.values()]
    times_max = [value for value in report.time_max.values()]
    return {
        "path": report.path,
        "converted_in": report.converted_in,
        "shape": report.shape,
        "log": logs_held(report),
        "records_seen": report.records_seen,
        "loaded": report.loaded_total,
        "loaded_by_log": {
            "audit": report.loaded["audit"],
            "signin": report.loaded["signin"],
            "steps": report.loaded["steps"],
        },
        "duplicates": report.duplicates,
        "prefiltered": sum(report.prefiltered.values()),
        "skipped": dict(sorted(report.skipped.items())),
        "denial_step_times_unreadable": report.denial_step_times_unreadable,
        "partial": report.partial,
        "error": report.error,
        "time_min": format_time(min(times_min)) if times_min else None,
        "time_max": format_time(max(times_max)) if times_max else None,
        "missing_fields": missing_fields(report, has_steps),
    }


def unread_record(path: str, reason: str) -> dict[str, Any]:
    """Return the :func:`file_record` shape for a path that was not read: no
    records, partial, and the reason as its error."""
    return {
        "path": path,
        "converted_in": None,
        "shape": None,
        "log": None,
        "records_seen": 0,
        "loaded": 0,
        "loaded_by_log": {"audit": 0, "signin": 0, "steps": 0},
        "duplicates": 0,
        "prefiltered": 0,
        "skipped": {},
        "denial_step_times_unreadable": 0,
        "partial": True,
        "error": f"not read: {reason}",
        "time_min": None,
        "time_max": None,
        "missing_fields": [],
    }
