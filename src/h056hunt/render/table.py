"""The default terminal output: a rich table of findings and optional timelines.

Every log field goes into a :class:`rich.text.Text` after :func:`plain`, so neither
rich markup nor terminal escape sequences in a field can take effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from h056hunt.findings import Finding, FindingType, Severity
from h056hunt.render.text import (
    format_duration,
    format_short_time,
    format_time,
    plain,
    user_label,
)

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}
# Column sets from widest to narrowest; the table uses the first that fits.
TABLE_LAYOUTS: tuple[tuple[str, ...], ...] = (
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
    ("Severity", "Score", "User", "Revoked by", "Revoked at", "Denied", "Approved"),
    ("Severity", "Score", "User", "Revoked at", "Denied", "Approved"),
)
RIGHT_ALIGNED_COLUMNS = frozenset({"Score", "Denied"})
# Columns whose cells wrap and fold; the others keep each cell on one line.
FOLDING_COLUMNS = frozenset({"User", "Revoked by", "Prompts", "Summary"})
# Folding columns give up width in this order, widest first within a group, down to
# their minimum. A layout that does not fit at these minimums gives way to the next
# one; the last layout lets them shrink to one character.
FOLD_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Summary", "Prompts"),
    ("User", "Revoked by"),
)
FOLD_MINIMUM_WIDTHS = {"User": 16, "Revoked by": 16, "Prompts": 14, "Summary": 24}
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
    coverage_gaps: int = 0,
) -> None:
    """Print one row per finding, most severe first, and timelines on request.

    Narrow terminals get fewer columns (:data:`TABLE_LAYOUTS`), and long cells
    wrap within the terminal's width; ``--details`` has everything.

    Args:
        suppressed: how many findings allowlist entries set aside.
        suppressed_listed: ``--show-suppressed`` lists them on stderr, so the
            hint to use it is left out.
        coverage_gaps: how many coverage warnings the run summary lists. A line
            above the table counts them, because ``-q`` hides the summary.
    """
    if partial:
        console.print(
            Text(
                "PARTIAL INPUT: some records could not be read; these results may be "
                "incomplete.",
                style="bold yellow",
            )
        )
    if coverage_gaps:
        console.print(
            Text(
                f"COVERAGE: the input data has {coverage_gaps} coverage gap(s), where "
                "a quiet result means not looked at. The run summary on stderr lists "
                "them unless -q is given.",
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
    rows = [_cells(finding, tz) for finding in findings]
    columns, widths, folding = _fit_layout(rows, console.width)
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False)
    for name in columns:
        fold = name in folding
        table.add_column(
            name,
            justify="right" if name in RIGHT_ALIGNED_COLUMNS else "left",
            no_wrap=not fold,
            overflow="fold" if fold else "ellipsis",
            width=widths.get(name),
        )
    for cells in rows:
        table.add_row(*(cells[name] for name in columns))
    console.print(table)
    if tz is not None:
        console.print(
            Text(
                f"Times in this table, its Summary column included, and in the "
                f"--details timelines are shown in {plain(str(tz))}. The finding "
                "summaries under --details, score-factor facts and coverage "
                "warnings are in UTC.",
                style="dim",
            )
        )
    if suppressed:
        console.print(
            Text(f"{suppressed} more finding(s) suppressed by allowlist entries{hint}.")
        )
    if details:
        for finding in findings:
            _render_details(finding, console, tz)


def _fit_layout(
    rows: list[dict[str, Text]], console_width: int
) -> tuple[tuple[str, ...], dict[str, int], frozenset[str]]:
    """Pick the widest layout that fits, the columns that fold and their widths.

    rich 15's own column collapse ignores ``min_width`` and then re-applies it, so a
    table could come out wider than the terminal and lose its right edge. Setting
    the folding columns' widths here keeps every table within ``console_width``
    with every character kept. When even the last layout does not fit with one
    character per folding column, every column folds.
    """
    for position, columns in enumerate(TABLE_LAYOUTS):
        last = position == len(TABLE_LAYOUTS) - 1
        widths = _fold_widths(
            rows, columns, console_width, FOLDING_COLUMNS, FOLD_GROUPS, last
        )
        if widths is not None:
            return columns, widths, FOLDING_COLUMNS
    columns = TABLE_LAYOUTS[-1]
    every_column = frozenset(columns)
    widths = _fold_widths(rows, columns, console_width, every_column, (columns,), True)
    return columns, widths or {}, every_column


def _fold_widths(
    rows: list[dict[str, Text]],
    columns: tuple[str, ...],
    console_width: int,
    folding: frozenset[str],
    groups: tuple[tuple[str, ...], ...],
    relaxed: bool,
) -> dict[str, int] | None:
    """Return the widths of the folding columns, or None if they cannot fit.

    Columns give up width group by group, widest first within a group, down to
    :data:`FOLD_MINIMUM_WIDTHS`, or to one character when ``relaxed``.
    """
    cell_rows = [_headers(columns), *rows]
    natural = {
        name: max(_text_width(cells[name]) for cells in cell_rows) for name in columns
    }
    # SIMPLE_HEAVY draws a one-character edge on each side and a one-character
    # separator between columns; each column is padded by one space on each side.
    border = 2 + (len(columns) - 1) + 2 * len(columns)
    fixed = sum(natural[name] for name in columns if name not in folding)
    widths = {name: natural[name] for name in columns if name in folding}
    excess = sum(widths.values()) - (console_width - border - fixed)
    for group in groups:
        names = [name for name in group if name in widths]
        minimums = {
            name: 1 if relaxed else min(FOLD_MINIMUM_WIDTHS[name], natural[name])
            for name in names
        }
        while excess > 0:
            shrinkable = [name for name in names if widths[name] > minimums[name]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=widths.__getitem__)
            widths[widest] -= 1
            excess -= 1
    if excess > 0:
        return None
    return widths


def _headers(columns: tuple[str, ...]) -> dict[str, Text]:
    return {name: Text(name) for name in columns}


def _text_width(text: Text) -> int:
    return max(cell_len(line) for line in text.plain.split("\n"))


def _cells(finding: Finding, tz: tzinfo | None) -> dict[str, Text]:
    return {
        "Severity": Text(
            finding.severity.label, style=SEVERITY_STYLES[finding.severity]
        ),
        "Score": Text(str(finding.score)),
        "Type": Text(finding.finding_type.value),
        "User": Text(plain(user_label(finding))),
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
    heading.append(plain(user_label(finding)))
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
