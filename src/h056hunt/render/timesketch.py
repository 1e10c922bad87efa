"""Timesketch output: JSON Lines with one event per timeline entry of each finding.

Timesketch's import guide (``docs/guides/user/import-from-json-csv.md`` in the
timesketch repository) names ``message``, ``datetime`` (ISO 8601) and
``timestamp_desc`` as mandatory, and keeps any other key as an event attribute.
``timestamp`` is microseconds since the Unix epoch, as in that guide's examples.

Lines are sorted by time, then finding id, then position in the finding's timeline,
so the output does not depend on the order of the findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from h056hunt.render.jsonl import dumps
from h056hunt.render.partial import needs_notice, notice_event
from h056hunt.render.records import SCHEMA_VERSION
from h056hunt.render.text import format_time
from h056hunt.render.timeline import (
    REVOCATION,
    event_label,
    event_outcome,
    evidence_sources,
)

if TYPE_CHECKING:
    from h056hunt.findings import Finding, TimelineEvent
    from h056hunt.render.context import RenderContext

DATA_TYPE = "h056hunt:finding:event"


def event_records(
    finding: Finding, *, partial: bool = False
) -> list[tuple[tuple[int, str, int], dict[str, Any]]]:
    """Return the events of one finding, each with its sort key."""
    sources = evidence_sources(finding.evidence)
    user = finding.target_upn or finding.target_user_id
    records = []
    for position, event in enumerate(finding.timeline):
        record = _event_record(finding, event, user, sources, partial)
        records.append(((event.time.value, finding.finding_id, position), record))
    return records


def _event_record(
    finding: Finding,
    event: TimelineEvent,
    user: str | None,
    sources: dict[str, str],
    partial: bool,
) -> dict[str, Any]:
    description = event_label(event.kind)
    actor = finding.actor
    return {
        "message": _message(finding, event, description, user),
        "datetime": format_time(event.time),
        "timestamp": event.time.value // 1000,
        "timestamp_desc": description,
        "data_type": DATA_TYPE,
        "schema_version": SCHEMA_VERSION,
        "event_kind": event.kind,
        "finding_id": finding.finding_id,
        "finding_type": finding.finding_type.value,
        "severity": finding.severity.label,
        "score": finding.score,
        "user": user,
        "user_id": finding.target_user_id,
        "actor": actor.label if actor else None,
        "ip": event.ip_address,
        "country": event.country,
        "outcome": event_outcome(event.kind),
        "detail": event.description,
        "record_id": event.record_id,
        "source": sources.get(event.record_id or ""),
        "partial_input": partial,
    }


def _message(
    finding: Finding, event: TimelineEvent, description: str, user: str | None
) -> str:
    """Return one line: what happened, to whom, by whom, from where, which finding.

    A campaign has no single target, so its revocation events name only the actor;
    their detail names the user.
    """
    is_revocation = event.kind == REVOCATION
    subject = description
    if user:
        subject += f" of {user}" if is_revocation else f" for {user}"
    if is_revocation and finding.actor is not None:
        subject += f" by {finding.actor.label}"
    if event.ip_address:
        subject += f" from {event.ip_address}"
    return (
        f"{subject}: {event.description} "
        f"[{finding.severity.label} {finding.finding_type.value} {finding.finding_id}]"
    )


def render_timesketch(
    findings: list[Finding], stream: TextIO, context: RenderContext
) -> None:
    """Write every timeline event of every finding as one JSON line, sorted."""
    events = []
    for finding in findings:
        events.extend(event_records(finding, partial=context.partial))
    events.sort(key=lambda item: item[0])
    for _, record in events:
        stream.write(dumps(record))
        stream.write("\n")
    if needs_notice(findings, context):
        stream.write(dumps(notice_event(context)) + "\n")
