"""Timesketch output: JSON Lines with one event per timeline entry of each finding.

Timesketch's import guide (``docs/guides/user/import-from-json-csv.md`` in the
timesketch repository) names ``message``, ``datetime`` (ISO 8601) and
``timestamp_desc`` as mandatory, and keeps any other key as an event attribute.
``timestamp`` is microseconds since the Unix epoch, as in that guide's examples.

Lines are sorted by time, then finding id, then position in the finding's timeline,
so the output does not depend on the order of the findings.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
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

# An event record with its sort key, which is the time in nanoseconds, the finding
# id and the event's position in the finding's timeline.
SortedEvent = tuple[tuple[int, str, int], dict[str, Any]]


def event_records(finding: Finding, *, partial: bool = False) -> list[SortedEvent]:
    """Return the events of one finding, each with its sort key."""
    return list(_keyed_events(finding, partial))


def _keyed_events(finding: Finding, partial: bool) -> Iterator[SortedEvent]:
    """Yield the events of one finding with their sort keys, in timeline order."""
    sources = evidence_sources(finding.evidence)
    user = finding.target_upn or finding.target_user_id
    for position, event in enumerate(finding.timeline):
        record = _event_record(finding, event, user, sources, partial)
        yield (event.time.value, finding.finding_id, position), record


def _events_by_key(finding: Finding, partial: bool) -> Iterable[SortedEvent]:
    """Return the events of one finding with their sort keys, sorted by key.

    A timeline in time order is already in key order, so its events are made as
    they are read. Any other timeline is sorted whole.
    """
    if _in_time_order(finding.timeline):
        return _keyed_events(finding, partial)
    return sorted(_keyed_events(finding, partial), key=_sort_key)


def _in_time_order(timeline: Iterable[TimelineEvent]) -> bool:
    previous: int | None = None
    for event in timeline:
        value = event.time.value
        if previous is not None and value < previous:
            return False
        previous = value
    return True


def _sort_key(item: SortedEvent) -> tuple[int, str, int]:
    return item[0]


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
    """Write every timeline event of every finding as one JSON line, sorted.

    The findings' sorted events are merged, so the lines are those of one sort
    of all events, while a campaign's events are made as they are written.
    """
    keyed = [_events_by_key(finding, context.partial) for finding in findings]
    # heapq.merge orders as sorted(itertools.chain(...)) does, so events with equal
    # keys keep the order of the findings, as in one stable sort.
    for _, record in heapq.merge(*keyed, key=_sort_key):
        stream.write(dumps(record))
        stream.write("\n")
    if needs_notice(findings, context):
        stream.write(dumps(notice_event(context)) + "\n")
