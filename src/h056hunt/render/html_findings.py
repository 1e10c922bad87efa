"""The findings parts of the HTML report: the table, the campaign view and details.

The campaign view groups findings by who revoked the sessions, so one revoker's
targets sit together with who was bombed and who approved a prompt. A campaign
finding also lists the targets that were revoked but never bombed.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from h056hunt.findings import FindingType
from h056hunt.plurals import Counted
from h056hunt.render.html_chart import esc, timeline_chart_pieces
from h056hunt.render.step_times import finding_step_time_counts, sentence_case
from h056hunt.render.text import format_time, user_label
from h056hunt.render.timeline import event_label, evidence_sources

if TYPE_CHECKING:
    from h056hunt.findings import Finding

NO_REVOCATION = "No revocation before the burst"
# A part of the page, which is a text or an iterable of pieces written one after
# another. The report puts a newline between two parts, never between pieces.
Part = str | Iterable[str]


def _anchor(finding: Finding) -> str:
    return f"finding-{esc(finding.finding_id)}"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], css: str) -> str:
    return "".join(_table_pieces(header, rows, css))


def _table_pieces(
    header: tuple[str, ...], rows: Iterable[tuple[str, ...]], css: str
) -> Iterator[str]:
    """Yield the text of :func:`_table` in pieces, reading one row at a time."""
    head = "".join(f"<th>{name}</th>" for name in header)
    yield f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>'
    for row in rows:
        yield "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
    yield "</tbody></table>"


def _severity(finding: Finding) -> str:
    label = finding.severity.label
    return f'<span class="severity severity-{label}">{label}</span>'


def _user(finding: Finding) -> str:
    return esc(user_label(finding) or "-")


def _approved(finding: Finding, tz: tzinfo | None) -> str:
    if not finding.approved:
        return "no"
    approval = esc(format_time(finding.approval_time, tz))
    return f'<span class="approved-yes">yes, {approval}</span>'


def value_list(values: Iterable[object]) -> str:
    """Return log values as a list with one item each, or ``-`` when there is none.

    A value such as a user agent can contain any separator, so values are never
    joined into one text.
    """
    items = "".join(f"<li>{esc(value)}</li>" for value in values)
    return f'<ul class="values">{items}</ul>' if items else "-"


def findings_table_section(findings: list[Finding], tz: tzinfo | None) -> list[str]:
    """Return the findings section with one table row per finding."""
    parts = ['<section id="findings">', "<h2>Findings</h2>"]
    if not findings:
        return [*parts, "<p>No findings.</p>", "</section>"]
    header = (
        "#",
        "Severity",
        "Score",
        "Type",
        "User",
        "Revoked by",
        "Revoked at",
        "Denied",
        "Approved",
        "Source IPs",
        "Details",
    )
    rows = [
        (
            str(number),
            _severity(finding),
            str(finding.score),
            esc(finding.finding_type.value),
            _user(finding),
            esc(finding.actor.label if finding.actor else NO_REVOCATION),
            esc(format_time(finding.revocation_time, tz) or "-"),
            str(finding.denied_prompts),
            _approved(finding, tz),
            value_list(finding.source_ips),
            f'<a href="#{_anchor(finding)}"><code>{esc(finding.finding_id)}</code></a>',
        )
        for number, finding in enumerate(findings, start=1)
    ]
    table = _table(header, rows, "findings-table")
    return [*parts, f'<div class="scroll">{table}</div>', "</section>"]


def campaign_section(findings: list[Finding], tz: tzinfo | None) -> list[Part]:
    """Return the campaign view: per revoker, each target, bombed and approved."""
    parts: list[Part] = ['<section id="campaigns">', "<h2>Campaign view</h2>"]
    groups = _targets_by_actor(findings, tz)
    if not groups:
        return [*parts, "<p>No findings to group.</p>", "</section>"]
    header = ("Target", "Revoked at", "Bombed", "Denied", "Approved", "Finding")
    for actor, targets in groups:
        bombed = sum(1 for target in targets if target["bombed"])
        approved = sum(1 for target in targets if target["approved"])
        parts.append(
            f"<h3>{esc(actor)}</h3><p>{Counted(len(targets), 'target')}, "
            f"{bombed} bombed with MFA prompts, {approved} approved a prompt.</p>"
        )
        rows = (
            (
                esc(target["user"]),
                esc(target["revoked_at"] or "-"),
                "yes" if target["bombed"] else "no",
                esc(target["denied"]),
                '<span class="approved-yes">yes</span>' if target["approved"] else "no",
                target["link"],
            )
            for target in targets
        )
        parts.append(_table_pieces(header, rows, "campaign-table"))
    return [*parts, "</section>"]


def _targets_by_actor(
    findings: list[Finding], tz: tzinfo | None
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Group bombed targets of chains and bursts, and unbombed campaign targets."""
    groups: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for finding in findings:
        if finding.finding_type is FindingType.REVOCATION_CAMPAIGN:
            continue
        actor = finding.actor.label if finding.actor else NO_REVOCATION
        user = finding.target_upn or finding.target_user_id or "-"
        groups[actor][f"{user}|{finding.finding_id}"] = {
            "user": user,
            "revoked_at": format_time(finding.revocation_time, tz),
            "bombed": True,
            "denied": str(finding.denied_prompts),
            "approved": finding.approved,
            "link": f'<a href="#{_anchor(finding)}"><code>'
            f"{esc(finding.finding_id)}</code></a>",
        }
    for finding in findings:
        if finding.finding_type is not FindingType.REVOCATION_CAMPAIGN:
            continue
        actor = finding.actor.label if finding.actor else NO_REVOCATION
        # One text serves every target of the campaign.
        link = f'<a href="#{_anchor(finding)}">campaign</a>'
        for target in finding.extra.get("targets", []):
            if target.get("bombed"):
                continue
            user = target.get("upn") or target.get("user_id") or "-"
            revoked = target.get("revocation_time") or ""
            groups[actor][f"{user}|revocation {target.get('revocation_id')}"] = {
                "user": user,
                "revoked_at": format_time(revoked, tz) if revoked else "",
                "bombed": False,
                "denied": "0",
                "approved": False,
                "link": link,
            }
    ordered = []
    for actor, targets in groups.items():
        rows = [targets[key] for key in sorted(targets)]
        ordered.append((actor, rows))
    ordered.sort(
        key=lambda item: (
            -sum(1 for row in item[1] if row["approved"]),
            -sum(1 for row in item[1] if row["bombed"]),
            item[0],
        )
    )
    return ordered


def finding_detail_section(
    number: int, finding: Finding, tz: tzinfo | None
) -> list[Part]:
    """Return one finding's summary, chart, score factors and timeline table.

    The chart and the timeline table are parts made as they are written.
    """
    facts = [
        ("Finding id", f"<code>{esc(finding.finding_id)}</code>"),
        ("Target user id", esc(finding.target_user_id or "-")),
        ("Display name", esc(finding.target_display_name or "-")),
        ("Revoked by", esc(finding.actor.label if finding.actor else NO_REVOCATION)),
        ("Source IPs", value_list(finding.source_ips)),
        ("Countries", value_list(finding.countries)),
        ("User agents", value_list(finding.user_agents)),
        ("Approved", _approved(finding, tz)),
    ]
    step_times = finding_step_time_counts(
        finding.extra.get("step_times_replaced", 0),
        finding.extra.get("step_times_unreadable", 0),
    )
    if step_times is not None:
        facts.append(("Step times", esc(sentence_case(step_times))))
    chart_id = f"chart-{esc(finding.finding_id)}"
    parts: list[Part] = [
        f'<section class="finding" id="{_anchor(finding)}">',
        f"<h3>{number}. {_severity(finding)} {esc(finding.finding_type.value)}: "
        f"{_user(finding)}</h3>",
        f"<p>{esc(finding.summary)}</p>",
        '<dl class="facts">'
        + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
        + "</dl>",
        itertools.chain(
            ['<div class="chart">'],
            timeline_chart_pieces(finding, tz, chart_id),
            ["</div>"],
        ),
        _table(
            ("Points", "Factor", "Fact"),
            [
                (str(factor.points), esc(factor.name), esc(factor.fact))
                for factor in finding.score_factors
            ],
            "factors-table",
        ),
    ]
    sources = evidence_sources(finding.evidence)
    rows = (
        (
            esc(format_time(event.time, tz)),
            esc(event_label(event.kind)),
            esc(event.description),
            esc(event.ip_address or "-"),
            esc(event.country or "-"),
            f"<code>{esc(event.record_id or '-')}</code>",
            f"<code>{esc(sources.get(event.record_id or '', '-'))}</code>",
        )
        for event in finding.timeline
    )
    header = ("Time", "Event", "Detail", "IP", "Country", "Record", "Source")
    parts += [_table_pieces(header, rows, "timeline-table"), "</section>"]
    return parts
