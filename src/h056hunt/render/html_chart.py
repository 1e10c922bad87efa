"""Inline SVG timeline charts for the HTML report, drawn without any library.

One chart shows one finding on a time axis: the revocation as a vertical line, each
MFA prompt as a circle coloured by its outcome, an approval as a larger ringed
circle, and a rejected revoked token as a square. Markers closer than their own width
stack upwards, so every prompt stays visible. A legend below the axis names the
marker kinds the chart uses.

Every text that comes from a log goes through :func:`esc`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING

import pandas as pd

from h056hunt.render.text import format_time, plain
from h056hunt.render.timeline import (
    APPROVAL,
    REVOCATION,
    REVOKED_TOKEN_REJECTED,
    event_label,
    event_outcome,
)

if TYPE_CHECKING:
    from h056hunt.findings import Finding, TimelineEvent

WIDTH = 900
MARGIN_LEFT = 30
MARGIN_RIGHT = 30
AXIS_Y = 120
MARKER_RADIUS = 6
STACK_STEP = 14
REVOCATION_LABEL_WIDTH = 75
LEGEND_Y = 165
HEIGHT = 190
XPosition = Callable[[pd.Timestamp], float]
# Colours per prompt outcome and per other marker, chosen to stay apart for the
# common kinds of colour blindness as far as eight colours allow.
OUTCOME_COLOURS = {
    "declined": "#d9480f",
    "unanswered": "#868e96",
    "fraud": "#c2255c",
    "wrong_number": "#f59f00",
    "other_denial": "#7048e8",
    "interrupt": "#1c7ed6",
    "approved": "#2b8a3e",
}
REVOCATION_COLOUR = "#212529"
REJECTED_COLOUR = "#495057"
# Tick steps in seconds. The chart takes the smallest step that gives at most 8
# ticks.
TICK_STEPS = (
    1,
    5,
    10,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    21600,
    43200,
    86400,
    604800,
)
MAX_TICKS = 8


def esc(value: object) -> str:
    """Return log text safe for HTML text and attribute values.

    :func:`~h056hunt.render.text.plain` first shows control and bidirectional
    characters as visible escapes. Then ``html.escape`` with ``quote=True`` turns
    ``& < > " '`` into character references.
    """
    return html.escape(plain(value), quote=True)


def timeline_chart(finding: Finding, tz: tzinfo | None, chart_id: str) -> str:
    """Return an inline ``<svg>`` element with the timeline of one finding."""
    return "".join(timeline_chart_pieces(finding, tz, chart_id))


def timeline_chart_pieces(
    finding: Finding, tz: tzinfo | None, chart_id: str
) -> Iterator[str]:
    """Yield the text of :func:`timeline_chart` in pieces, one marker at a time.

    A campaign's chart has a marker per revocation, so its markers are not held as
    one text.
    """
    events = list(finding.timeline)
    if not events:
        yield '<p class="muted">This finding has no timeline events.</p>'
        return
    start, end = _axis_range(events)
    span = int((end - start).value)

    def x_of(time: pd.Timestamp) -> float:
        usable = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        return round(MARGIN_LEFT + usable * float((time - start).value) / span, 1)

    title = f"Timeline of finding {finding.finding_id}"
    parts = [
        f'<svg class="timeline" id="{chart_id}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{esc(title)}</title>',
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{AXIS_Y}" '
        f'x2="{WIDTH - MARGIN_RIGHT}" y2="{AXIS_Y}" stroke="#adb5bd"/>',
    ]
    parts += _ticks(start, end, x_of, tz)
    yield "\n".join(parts)
    for part in _markers(events, x_of, tz):
        yield "\n"
        yield part
    for part in [*_legend(events), "</svg>"]:
        yield "\n"
        yield part


def _axis_range(events: list[TimelineEvent]) -> tuple[pd.Timestamp, pd.Timestamp]:
    times = [pd.Timestamp(event.time) for event in events]
    first, last = min(times), max(times)
    if first == last:
        return first - pd.Timedelta(minutes=1), last + pd.Timedelta(minutes=1)
    padding = (last - first) * 0.04
    return first - padding, last + padding


def _ticks(
    start: pd.Timestamp, end: pd.Timestamp, x_of: XPosition, tz: tzinfo | None
) -> list[str]:
    seconds = (end - start).total_seconds()
    step = next(
        (step for step in TICK_STEPS if seconds / step <= MAX_TICKS), TICK_STEPS[-1]
    )
    # Ticks fall on whole steps of the displayed wall-clock time, so with a zone of
    # +05:30 an hourly tick reads 10:00, not 10:30.
    offset = _utc_offset_seconds(start, tz)
    first_tick = -(-(int(start.timestamp()) + offset) // step) * step - offset
    parts = []
    tick = pd.Timestamp(first_tick, unit="s", tz="UTC")
    while tick <= end:
        x = x_of(tick)
        label = (
            format_time(tick, tz)[11:19]
            if step < 86400
            else (format_time(tick, tz)[:10])
        )
        parts.append(
            f'<line class="tick" x1="{x}" y1="{AXIS_Y}" x2="{x}" y2="{AXIS_Y + 5}" '
            'stroke="#adb5bd"/>'
            f'<text class="tick-label" x="{x}" y="{AXIS_Y + 18}" '
            f'text-anchor="middle">{label}</text>'
        )
        tick += pd.Timedelta(seconds=step)
    parts.append(
        f'<text class="axis-start" x="{MARGIN_LEFT}" y="14">'
        f"{format_time(start, tz)[:10]}</text>"
    )
    return parts


def _utc_offset_seconds(time: pd.Timestamp, tz: tzinfo | None) -> int:
    if tz is None:
        return 0
    offset = time.tz_convert(tz).utcoffset() or timedelta(0)
    return int(offset.total_seconds())


def _markers(
    events: list[TimelineEvent], x_of: XPosition, tz: tzinfo | None
) -> Iterator[str]:
    # Revocation lines first, so prompt markers are drawn on top of them.
    ordered = sorted(
        events, key=lambda event: (event.kind != REVOCATION, event.time.value)
    )
    last_x_by_level: dict[int, float] = {}
    last_label_x = -1e9
    for event in ordered:
        x = x_of(event.time)
        tooltip = _tooltip(event, tz)
        if event.kind == REVOCATION:
            # A campaign has many revocations, so only those with room get a label.
            label = ""
            if x - last_label_x >= REVOCATION_LABEL_WIDTH:
                label = (
                    f'<text x="{x + 4}" y="32" class="marker-label">revocation</text>'
                )
                last_label_x = x
            yield (
                f'<g class="marker revocation-marker"><title>{tooltip}</title>'
                f'<line x1="{x}" y1="24" x2="{x}" y2="{AXIS_Y}" '
                f'stroke="{REVOCATION_COLOUR}" stroke-width="2" '
                f'stroke-dasharray="4 3"/>{label}</g>'
            )
            continue
        level = _free_level(last_x_by_level, x)
        y = AXIS_Y - 12 - level * STACK_STEP
        yield _marker_shape(event, x, y, tooltip)


def _free_level(last_x_by_level: dict[int, float], x: float) -> int:
    """Return the lowest stack level whose last marker is at least 2 radii away."""
    level = 0
    while x - last_x_by_level.get(level, -1e9) < 2 * MARKER_RADIUS:
        level += 1
    last_x_by_level[level] = x
    return level


def _marker_shape(event: TimelineEvent, x: float, y: float, tooltip: str) -> str:
    outcome = event_outcome(event.kind)
    if outcome is None:
        size = MARKER_RADIUS * 2 - 2
        return (
            f'<rect class="marker rejected-marker" x="{x - size / 2}" '
            f'y="{y - size / 2}" width="{size}" height="{size}" '
            f'fill="{REJECTED_COLOUR}"><title>{tooltip}</title></rect>'
        )
    colour = OUTCOME_COLOURS.get(outcome, REJECTED_COLOUR)
    css_outcome = outcome if outcome in OUTCOME_COLOURS else "other"
    if event.kind == APPROVAL:
        return (
            f'<circle class="marker prompt-marker approval-marker outcome-approved" '
            f'cx="{x}" cy="{y}" r="{MARKER_RADIUS + 2}" fill="{colour}" '
            f'stroke="#000" stroke-width="2"><title>{tooltip}</title></circle>'
        )
    return (
        f'<circle class="marker prompt-marker outcome-{css_outcome}" cx="{x}" '
        f'cy="{y}" r="{MARKER_RADIUS}" fill="{colour}"><title>{tooltip}</title>'
        "</circle>"
    )


def _tooltip(event: TimelineEvent, tz: tzinfo | None) -> str:
    parts = [format_time(event.time, tz), event_label(event.kind), event.description]
    if event.ip_address:
        parts.append(f"from {event.ip_address}")
    return esc(" | ".join(parts))


def _legend(events: list[TimelineEvent]) -> list[str]:
    kinds = {event.kind for event in events}
    entries: list[tuple[str, str, str]] = []
    if REVOCATION in kinds:
        entries.append(("line", REVOCATION_COLOUR, "revocation"))
    outcomes = {event_outcome(kind) for kind in kinds} - {None}
    for outcome, colour in OUTCOME_COLOURS.items():
        if outcome in outcomes:
            entries.append(("circle", colour, outcome.replace("_", " ")))
    if REVOKED_TOKEN_REJECTED in kinds:
        entries.append(("rect", REJECTED_COLOUR, "revoked token rejected"))
    parts = ['<g class="legend">']
    x = MARGIN_LEFT
    for shape, colour, label in entries:
        if shape == "line":
            parts.append(
                f'<line x1="{x}" y1="{LEGEND_Y - 6}" x2="{x}" y2="{LEGEND_Y + 6}" '
                f'stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>'
            )
        elif shape == "rect":
            parts.append(
                f'<rect x="{x - 5}" y="{LEGEND_Y - 5}" width="10" height="10" '
                f'fill="{colour}"/>'
            )
        else:
            parts.append(f'<circle cx="{x}" cy="{LEGEND_Y}" r="5" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 10}" y="{LEGEND_Y + 4}" class="legend-label">{label}</text>'
        )
        x += 24 + 7 * len(label)
    parts.append("</g>")
    return parts
