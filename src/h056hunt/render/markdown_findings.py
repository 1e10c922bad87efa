"""The findings half of the Markdown hunt report: table, timelines and conclusions.

The false-positive notes and the standing-detection verdict are reasoned from the
findings and the run summary, so they name the actors and users they are about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from h056hunt.findings import FindingType
from h056hunt.plurals import Counted
from h056hunt.render.markdown_text import (
    md_bullets,
    md_cell,
    md_code,
    md_code_list,
    md_text,
    table,
    table_lines,
)
from h056hunt.render.step_times import finding_step_time_counts, sentence_case
from h056hunt.render.text import format_time, user_label
from h056hunt.render.timeline import event_label, evidence_sources

if TYPE_CHECKING:
    from h056hunt.findings import Finding

NO_REVOCATION = "no revocation joined to the burst"
# An actor whose revocations precede bursts for this many users or more is named as
# either a helpdesk routine or a campaign.
MANY_TARGETS = 2


def findings_table_lines(findings: list[Finding], tz: tzinfo | None) -> list[str]:
    """Return the findings section heading and one table row per finding."""
    lines = ["## Findings", ""]
    if not findings:
        return [*lines, "No findings.", ""]
    rows = [
        [
            str(number),
            finding.severity.label,
            str(finding.score),
            finding.finding_type.value,
            md_cell(user_label(finding)),
            md_cell(finding.actor.label if finding.actor else NO_REVOCATION),
            format_time(finding.revocation_time, tz) or "-",
            str(finding.denied_prompts),
            format_time(finding.approval_time, tz) if finding.approved else "no",
            md_code_list(finding.source_ips),
            md_code(finding.finding_id),
        ]
        for number, finding in enumerate(findings, start=1)
    ]
    header = [
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
        "Finding id",
    ]
    return [*lines, *table(header, rows), ""]


def finding_section_lines(
    number: int, finding: Finding, tz: tzinfo | None
) -> Iterator[str]:
    """Yield one finding's summary, score factors and timeline, line by line.

    A campaign's targets and timeline rows are made as they are read.
    """
    user = md_text(user_label(finding) or "unknown user")
    lines = [
        f"### {number}. {finding.severity.label} {finding.finding_type.value}: {user}",
        "",
        md_text(finding.summary),
        "",
        f"* Finding id: {md_code(finding.finding_id, in_table=False)}",
        f"* Target user id: {md_code(finding.target_user_id, in_table=False)}",
        f"* Display name: {md_text(finding.target_display_name) or '-'}",
        *md_bullets("User agents", finding.user_agents),
        *md_bullets("Countries", finding.countries),
    ]
    if finding.extra.get("upn_fallback"):
        lines.append(
            "* Matched by user principal name, because a record had no "
            "user object id: check that the accounts are the same."
        )
    step_times = finding_step_time_counts(
        finding.extra.get("step_times_replaced", 0),
        finding.extra.get("step_times_unreadable", 0),
    )
    if step_times is not None:
        lines.append(f"* {sentence_case(step_times)}.")
    yield from lines
    yield from _campaign_target_lines(finding, tz)

    lines = ["", "Score factors:", ""]
    lines += table(
        ["Points", "Factor", "Fact"],
        [
            [str(factor.points), md_text(factor.name), md_cell(factor.fact)]
            for factor in finding.score_factors
        ],
    )

    lines += ["", "Timeline:", ""]
    yield from lines
    sources = evidence_sources(finding.evidence)
    rows = (
        [
            format_time(event.time, tz),
            event_label(event.kind),
            md_cell(event.description),
            md_cell(event.ip_address),
            md_cell(event.country),
            md_code(event.record_id),
            md_code(sources.get(event.record_id or "")),
        ]
        for event in finding.timeline
    )
    header = ["Time", "Event", "Detail", "IP", "Country", "Record", "Source"]
    yield from table_lines(header, rows)
    yield ""


def _campaign_target_lines(finding: Finding, tz: tzinfo | None) -> Iterator[str]:
    targets = finding.extra.get("targets", [])
    if not targets:
        return
    rows = (
        [
            md_cell(target.get("upn") or target.get("user_id")),
            format_time(target.get("revocation_time"), tz) or "-",
            "yes" if target.get("bombed") else "no",
            "yes" if target.get("approved") else "no",
            md_code(target.get("finding_id")),
        ]
        for target in targets
    )
    header = ["Target", "Revoked at", "Bombed", "Approved", "Finding id"]
    yield from ["", "Targets:", ""]
    yield from table_lines(header, rows)


def false_positive_lines(findings: list[Finding]) -> list[str]:
    """Return the false-positive notes, naming the findings each note applies to."""
    lines = [
        "## False-positive notes",
        "",
        "* **Helpdesk revocations.** A helpdesk agent revokes sessions when a user "
        "reports a lost phone or asks for a reset; the user then signs in again and "
        "may fumble or deny a few prompts. Check whether the prompts came from the "
        "user's usual IP addresses and devices, and whether a ticket exists.",
    ]
    for actor, users in _targets_by_actor(findings).items():
        if len(users) >= MANY_TARGETS and actor != NO_REVOCATION:
            lines.append(
                f"  * {md_text(actor)} revoked the sessions of {len(users)} users "
                "with findings: either a helpdesk routine or a campaign across "
                "several accounts."
            )
    lines.append(
        "* **Users who habitually deny.** Some users deny every prompt they did not "
        "expect, or leave prompts unanswered, so a burst of plain denials with no "
        "approval and no fraud report can be a legitimate sign-in gone wrong. "
        "Compare with the user's earlier prompts."
    )
    plain_denials = [
        finding
        for finding in findings
        if not finding.approved
        and not finding.prompt_counts.get("fraud")
        and finding.finding_type is not FindingType.REVOCATION_CAMPAIGN
    ]
    if plain_denials:
        lines += md_bullets(
            "Findings with denials only, no approval and no fraud report",
            (finding.target_upn or finding.target_user_id for finding in plain_denials),
            indent="  ",
        )
    lines.append(
        "* **Security automation.** A SOAR playbook or another app that revokes "
        "sessions in response to an alert puts its revocation right before the "
        "attacker's next attempt, or before the user's own sign-in after a "
        "password reset. The finding may be real, but the revocation is the "
        "response, not the cause."
    )
    for finding in findings:
        if finding.finding_type is FindingType.REVOCATION_CAMPAIGN:
            continue
        if finding.actor is not None and finding.actor.type == "app":
            lines.append(
                f"  * {md_text(finding.actor.label)} (an app) revoked the sessions "
                f"of {md_text(finding.target_upn or finding.target_user_id)}."
            )
    return [*lines, ""]


def _targets_by_actor(findings: list[Finding]) -> dict[str, set[str]]:
    targets: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        if finding.finding_type is FindingType.REVOCATION_CAMPAIGN:
            continue
        actor = finding.actor.label if finding.actor else NO_REVOCATION
        targets[actor].add(finding.target_user_id or finding.target_upn or "")
    return dict(sorted(targets.items()))


def conclusion_lines(findings: list[Finding], run: dict[str, Any]) -> list[str]:
    """Return whether the hunt should become a standing detection, and why."""
    lines = ["## Should this hunt become a standing detection?", ""]
    lines += [_verdict(findings, run["detection"]), ""]

    campaigns = [
        f for f in findings if f.finding_type is FindingType.REVOCATION_CAMPAIGN
    ]
    if campaigns:
        lines += [
            f"{Counted(len(campaigns), 'campaign')}: one principal revoked the "
            "sessions of many users in a short time. Whether that was an attacker "
            "with an admin role or a response to an incident, a standing detection "
            "should report it.",
            "",
        ]

    thresholds = run["thresholds"]
    lines.append(
        f"Thresholds to start from: {thresholds['min_denials']} denied prompts within "
        f"{thresholds['burst_window']}, first denial within {thresholds['max_lag']} "
        "of the revocation."
    )

    caveats = []
    if run["partial"]:
        caveats.append("some input was not read completely")
    if run["coverage_warnings"]:
        # Each warning names one gap in the sign-in or audit data, or a log with
        # no records at all, however many revocations or bursts it touches.
        caveats.append(
            f"the input data has "
            f"{Counted(len(run['coverage_warnings']), 'coverage gap')}"
        )
    if caveats:
        lines += [
            "",
            "This verdict is provisional because " + " and ".join(caveats) + ".",
        ]
    return [*lines, ""]


def _verdict(findings: list[Finding], detection: dict[str, Any]) -> str:
    """Return the verdict paragraph, from the strongest evidence found."""
    chains = [f for f in findings if f.finding_type is FindingType.REVOCATION_CHAIN]
    bursts = [f for f in findings if f.finding_type is FindingType.PUSH_BOMBING]
    approved_chains = [finding for finding in chains if finding.approved]
    if approved_chains:
        approved = Counted(len(approved_chains), "revocation chain")
        urgency = (
            "It needs incident response now, and a standing detection would have "
            "raised it within minutes."
            if len(approved_chains) == 1
            else "These need incident response now, and a standing detection would "
            "have raised them within minutes."
        )
        return (
            f"**Yes.** {approved} ended with an approved prompt, which is the "
            "outcome the hypothesis predicts: the adversary most likely holds a "
            f"fresh session. {urgency}"
        )
    if chains:
        return (
            f"**Yes.** {Counted(len(chains), 'revocation chain')} matched the "
            "hypothesis, though no prompt was approved. The pattern occurs in this "
            "tenant, so a standing detection should watch for the approval that "
            "would follow."
        )
    if bursts:
        return (
            f"**Partly.** {Counted(len(bursts), 'burst')} of denied prompts had no "
            "earlier revocation. An MFA fatigue detection on bursts alone is "
            "worth running, but the revocation join adds little until a chain "
            "appears."
        )
    if detection["admin_revocations"] == 0:
        return (
            "**Not decided.** The audit data contains no revocation by another "
            "principal, so the hypothesis was not tested. Rerun the hunt over a "
            "period that includes revocations."
        )
    return (
        "**Not yet.** No burst followed the "
        f"{Counted(detection['admin_revocations'], 'revocation')} by another "
        "principal, so this data shows no sign that the pattern occurs here. Keep "
        "it as a scheduled hunt and promote it to a standing detection when it "
        "finds a chain."
    )
