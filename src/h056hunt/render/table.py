"""The default terminal output: a rich table of findings and optional timelines.

Every log field goes into a :class:`rich.text.Text` after :func:`plain`, so neither
rich markup nor terminal escape sequences in a field can take effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from h056hunt.findings import Finding, FindingType, Severity
from h056hunt.render.text import (
    format_duration,
    format_short_time,
    format_time,
    plain,
)

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}
# Columns shown at each terminal width, widest layout first: (minimum width, names).
TABLE_LAYOUTS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        150,
        (
            "Severity",
            "Score",
            "Type",
            "User",
            "Revoked by",
            "Revoked at",
            "Prompts",
            "Summary",
        ),
    ),
    (
        100,
        ("Severity", "Score", "User", "Revoked by", "Revoked at", "Denied", "Approved"),
    ),
    (0, ("Severity", "Score", "User", "Revoked at", "Denied", "Approved")),
)
COLUMN_OPTIONS: dict[str, dict[str, object]] = {
    "Severity": {"no_wrap": True},
    "Score": {"justify": "right", "no_wrap": True},
    "Type": {"no_wrap": True},
    "User": {"overflow": "fold", "min_width": 16},
    "Revoked by": {"overflow": "fold", "min_width": 16},
    "Revoked at": {"no_wrap": True},
    "Prompts": {"overflow": "fold", "min_width": 14},
    "Summary": {"overflow": "fold", "ratio": 1, "min_width": 24},
    "Denied": {"justify": "right", "no_wrap": True},
    "Approved": {"no_wrap": True},
}
OUTCOME_LABELS = (
    ("declined", "declined"),
    ("unanswered", "unanswered"),
    ("fraud", "fraud"),
    ("wrong_number", "wrong number"),
    ("other_denial", "other denial"),
    ("approved", "approved"),
    ("interrupt", "interrupt"),
)


def render_table(
    findings: Sequence[Finding],
    console: Console,
    *,
    details: bool = False,
    tz: tzinfo | None = None,
    partial: bool = False,
    suppressed: int = 0,
    suppressed_listed: bool = False,
) -> None:
    """Print one row per finding, most severe first, and timelines on request.

    Narrow terminals get fewer columns (:data:`TABLE_LAYOUTS`) so words do not
    break; ``--details`` has everything.

    Args:
        suppressed: how many findings allowlist entries set aside.
        suppressed_listed: ``--show-suppressed`` lists them on stderr, so the
            hint to use it is left out.
    """
    if partial:
        console.print(
            Text(
                "PARTIAL INPUT: some records could not be read; these results may be "
                "incomplete.",
                style="bold yellow",
            )
        )
    hint = "" if suppressed_listed else " (--show-suppressed lists them)"
    if not findings:
        message = "No findings."
        if suppressed:
            message = (
                f"No findings reported; {suppressed} suppressed by allowlist "
                f"entries{hint}."
            )
        console.print(Text(message, style="green"))
        return
    columns = _columns_for(console.width)
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False)
    for name in columns:
        table.add_column(name, **COLUMN_OPTIONS[name])
    for finding in findings:
        cells = _cells(finding, tz)
        table.add_row(*(cells[name] for name in columns))
    console.print(table)
    if suppressed:
        console.print(
            Text(f"{suppressed} more finding(s) suppressed by allowlist entries{hint}.")
        )
    if details:
        for finding in findings:
            _render_details(finding, console, tz)


def _columns_for(width: int) -> tuple[str, ...]:
    for minimum, names in TABLE_LAYOUTS:
        if width >= minimum:
            return names
    return TABLE_LAYOUTS[-1][1]


def _cells(finding: Finding, tz: tzinfo | None) -> dict[str, Text]:
    user = finding.target_upn or finding.target_user_id
    if finding.finding_type == FindingType.REVOCATION_CAMPAIGN:
        user = f"{len(finding.extra.get('targets', []))} users (campaign)"
    return {
        "Severity": Text(
            finding.severity.label, style=SEVERITY_STYLES[finding.severity]
        ),
        "Score": Text(str(finding.score)),
        "Type": Text(finding.finding_type.value),
        "User": Text(plain(user)),
        "Revoked by": Text(plain(finding.actor.label) if finding.actor else "-"),
        "Revoked at": Text(format_short_time(finding.revocation_time, tz) or "-"),
        "Prompts": Text(_prompt_summary(finding)),
        "Summary": Text(plain(_short_summary(finding, tz))),
        "Denied": Text(str(finding.denied_prompts)),
        "Approved": Text("yes" if finding.approved else "no"),
    }


def _short_summary(finding: Finding, tz: tzinfo | None) -> str:
    """Return the facts the other columns do not show; ``--details`` has the prose."""
    if finding.finding_type == FindingType.REVOCATION_CAMPAIGN:
        targets = finding.extra.get("targets", [])
        bombed = sum(1 for target in targets if target["bombed"])
        approved = sum(1 for target in targets if target["approved"])
        return f"{len(targets)} users revoked, {bombed} bombed, {approved} approved"
    parts = []
    first = finding.first_prompt_time
    last = finding.extra.get("last_denial_time", finding.last_prompt_time)
    if finding.revocation_time is not None and first is not None:
        parts.append(
            f"first denial {format_duration(first - finding.revocation_time)} after"
        )
    elif finding.finding_type == FindingType.PUSH_BOMBING:
        parts.append("no revocation before")
    if first is not None and last is not None:
        parts.append(
            f"{finding.denied_prompts} denied over {format_duration(last - first)}"
        )
    if finding.approval_time is not None:
        parts.append(f"approved {format_short_time(finding.approval_time, tz)}")
    return "; ".join(parts)


def _prompt_summary(finding: Finding) -> str:
    parts = [
        f"{finding.prompt_counts[key]} {label}"
        for key, label in OUTCOME_LABELS
        if finding.prompt_counts.get(key)
    ]
    return ", ".join(parts)


def _render_details(finding: Finding, console: Console, tz: tzinfo | None) -> None:
    heading = Text()
    heading.append(
        f"{finding.severity.label.upper()} ", SEVERITY_STYLES[finding.severity]
    )
    heading.append(f"{finding.finding_type.value} {finding.finding_id}: ")
    heading.append(plain(finding.target_upn or finding.target_user_id))
    console.print()
    console.print(heading)
    console.print(Text(plain(finding.summary)))
    factors = Table(box=box.MINIMAL, show_header=True)
    factors.add_column("Points", justify="right")
    factors.add_column("Factor")
    factors.add_column("Fact", overflow="fold")
    for factor in finding.score_factors:
        factors.add_row(str(factor.points), factor.name, Text(plain(factor.fact)))
    console.print(factors)
    timeline = Table(box=box.MINIMAL, show_header=True)
    for name in ("Time", "Event", "Detail", "IP", "Country"):
        timeline.add_column(name, overflow="fold")
    for event in finding.timeline:
        timeline.add_row(
            format_time(event.time, tz),
            event.kind,
            Text(plain(event.description)),
            Text(plain(event.ip_address)),
            Text(plain(event.country)),
        )
    console.print(timeline)
    sources = sorted(
        {f"{item.file}:{item.line or item.record}" for item in finding.evidence}
    )
    console.print(Text("Evidence: " + plain(", ".join(sources)), style="dim"))
