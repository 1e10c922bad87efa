"""The default terminal output: a rich table of findings and optional timelines.

Every log field goes into a :class:`rich.text.Text` after :func:`plain`, so neither
rich markup nor terminal escape sequences in a field can take effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import NamedTuple

from rich import box
from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from h056hunt.findings import Finding, FindingType, Severity, TimelineEvent
from h056hunt.lazy_sequence import SLICE_SIZE
from h056hunt.plurals import Counted
from h056hunt.render.column_widths import (
    fold_widths,
    longest_word,
    natural_widths,
    shrink_to_fit,
    text_width,
)
from h056hunt.render.partial import PARTIAL_HEADLINE, describe_unread
from h056hunt.render.text import (
    display_text,
    escape_unsafe,
    format_duration,
    format_short_time,
    format_time,
    join_shown,
    plain,
    user_label,
)
from h056hunt.render.timeline import evidence_source

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}
# Column sets from widest to narrowest; the table uses the first that fits with
# every identifier whole.
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
    ("Severity", "User", "Revoked at", "Approved"),
    ("Severity", "User", "Approved"),
)
RIGHT_ALIGNED_COLUMNS = frozenset({"Score", "Denied"})
# Columns of UPNs and object ids. They keep each cell on one line, so it can be
# copied, unless not even the narrowest layout fits them.
IDENTIFIER_COLUMNS = frozenset({"User", "Revoked by"})
# Entra ID takes a userPrincipalName of at most 113 characters. A longer value in
# an identifier column is no real identifier, and log fields are attacker-controlled:
# kept whole, one such value would take every other column away from the table.
# So an identifier column with such a value folds, first of all columns, down to
# its longest value that is not over this length.
IDENTIFIER_WHOLE_MAX = 113
# Columns whose cells wrap at spaces; the others keep each cell on one line. They
# give up width in this order, widest first within a group, down to the larger of
# their minimum and their longest word, so no word is split.
WRAP_GROUPS: tuple[tuple[str, ...], ...] = (
    # A service principal's name and id ("Microsoft Entra Connect Sync (service
    # principal <id>)", 84 cells) wrap at their spaces, each word whole, along with
    # the prose. Otherwise such a label kept 66 cells at 200 columns while Prompts
    # and Summary shrank to their minimums. A UPN has no space, so its longest word
    # is the whole UPN and it never wraps here.
    ("Summary", "Prompts", "Revoked by"),
    ("Revoked at",),
)
WRAPPING_COLUMNS = frozenset(name for group in WRAP_GROUPS for name in group)
WRAP_MINIMUM_WIDTHS = {"Prompts": 14, "Summary": 24}
# The --details tables keep every column but their prose one whole while the prose
# column still gets this many cells.
DETAIL_PROSE_MINIMUM_WIDTH = 16
# A timeline gives the IP address and country columns of their own only while its
# Detail column keeps this many cells, or its longest text when that is shorter.
# Below it, the origin goes into the Detail text, because 16 cells split most
# descriptions and record ids over several lines. Without this minimum, the sample
# logs' timelines got an 18-cell Detail column at 100 columns, and 32 at 80.
ORIGIN_COLUMNS_DETAIL_MINIMUM_WIDTH = 40
TIMELINE_PROSE = "Detail"
# A --details timeline is printed as tables of at most this many rows.
TIMELINE_ROWS_PER_TABLE = SLICE_SIZE
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
    unread_paths: Sequence[str] = (),
) -> None:
    """Print one row per finding, most severe first, and timelines on request.

    Narrow terminals get a compact border and then fewer columns
    (:data:`TABLE_LAYOUTS`), so that UPNs and object ids stay whole on one line
    while other cells wrap at spaces within the terminal's width; ``--details``
    has everything.

    Args:
        suppressed: how many findings allowlist entries set aside.
        suppressed_listed: ``--show-suppressed`` lists them on stderr, so the
            hint to use it is left out.
        coverage_gaps: how many coverage warnings the run summary lists. A line
            above the table counts them, because ``-q`` hides the summary.
        unread_paths: the input paths that could not be read at all. The
            partial-input line names them, because ``-q`` hides the warnings.
    """
    if partial:
        # Quoted, so a path that contains ", " still reads as one.
        unread = describe_unread(unread_paths, lambda path: escape_unsafe(repr(path)))
        console.print(
            Text(
                f"{PARTIAL_HEADLINE}; "
                + (f"{unread}; " if unread else "")
                + "results may be incomplete.",
                style="bold yellow",
            )
        )
    if coverage_gaps:
        console.print(
            Text(
                f"COVERAGE: the input data has "
                f"{Counted(coverage_gaps, 'coverage gap')}, where "
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
    layout = _fit_layout(rows, console.width)
    table = Table(
        box=box.SIMPLE_HEAVY,
        show_lines=False,
        show_edge=not layout.compact,
        pad_edge=not layout.compact,
    )
    for name in layout.columns:
        wraps = name in layout.wrapping
        table.add_column(
            name,
            justify="right" if name in RIGHT_ALIGNED_COLUMNS else "left",
            no_wrap=not wraps,
            overflow="fold" if wraps else "ellipsis",
            width=layout.widths.get(name),
        )
    for cells in rows:
        table.add_row(*(cells[name] for name in layout.columns))
    console.print(table)
    if layout.compact:
        # The compact border has no blank bottom edge to set the table apart.
        console.print()
    hidden = [name for name in TABLE_LAYOUTS[0] if name not in layout.columns]
    if hidden:
        console.print(
            Text(
                f"Left out at this width: {', '.join(hidden)}. A wider terminal "
                "shows them, --details adds each finding's summary and timeline, "
                "and --format csv or json gives every field.",
                style="dim",
            )
        )
    if tz is not None:
        console.print(Text(_time_zone_note(layout.columns, tz), style="dim"))
    if suppressed:
        console.print(
            Text(
                f"{Counted(suppressed, 'more finding')} suppressed by allowlist "
                f"entries{hint}."
            )
        )
    if details:
        for finding in findings:
            _render_details(finding, console, tz)


def _time_zone_note(columns: tuple[str, ...], tz: tzinfo) -> str:
    """Build the line that names the --tz zone, naming only the columns shown."""
    if "Summary" in columns:
        shown_times = "Times in this table, its Summary column included, and in the"
    elif "Revoked at" in columns:
        shown_times = "Times in this table and in the"
    else:
        shown_times = "Times in the"
    return (
        f"{shown_times} --details timelines are shown in {plain(str(tz))}. The "
        "finding summaries under --details, score-factor facts and coverage "
        "warnings are in UTC."
    )


class TableLayout(NamedTuple):
    """The columns of a findings table, their widths and its border style."""

    columns: tuple[str, ...]
    widths: dict[str, int]
    wrapping: frozenset[str]
    compact: bool


def _fit_layout(rows: list[dict[str, Text]], console_width: int) -> TableLayout:
    """Pick the widest layout that fits, the columns that wrap and every width.

    rich 15's own column collapse ignores ``min_width`` and then re-applies it, so a
    table could come out wider than the terminal and lose its right edge. Setting
    every column's width here keeps the table within ``console_width`` with every
    character kept. Within a layout the compact border, 4 cells narrower, comes
    before wrapping Revoked at (see :func:`_shrink_steps`). When no layout fits
    with the identifiers whole, the narrowest layout wraps them as well, and when
    even that does not fit, every column wraps.
    """
    for columns in TABLE_LAYOUTS:
        wrapping = WRAPPING_COLUMNS.intersection(columns)
        minimums = {
            name: max(
                WRAP_MINIMUM_WIDTHS.get(name, 1),
                max(longest_word(cells[name]) for cells in rows),
            )
            for name in wrapping
        }
        natural = natural_widths(columns, rows)
        overlong = tuple(
            name
            for name in columns
            if name in IDENTIFIER_COLUMNS and natural[name] > IDENTIFIER_WHOLE_MAX
        )
        for name in overlong:
            minimums[name] = max(
                (
                    width
                    for cells in rows
                    if (width := text_width(cells[name])) <= IDENTIFIER_WHOLE_MAX
                ),
                default=cell_len(name),
            )
        wrapping = wrapping.union(overlong)
        for groups, compact in _shrink_steps():
            widths = shrink_to_fit(
                natural,
                console_width,
                ((overlong,) if overlong else ()) + groups,
                minimums,
                compact=compact,
            )
            if widths is not None:
                return TableLayout(columns, widths, frozenset(wrapping), compact)
    columns = TABLE_LAYOUTS[-1]
    natural = natural_widths(columns, rows)
    with_identifiers = WRAPPING_COLUMNS | IDENTIFIER_COLUMNS
    for wrapping in (with_identifiers.intersection(columns), frozenset(columns)):
        group = tuple(name for name in columns if name in wrapping)
        widths = shrink_to_fit(natural, console_width, (group,), {}, compact=True)
        if widths is not None:
            return TableLayout(columns, widths, wrapping, True)
    # Not even one cell per column fits: rich crops the table.
    return TableLayout(columns, {}, frozenset(columns), True)


def _shrink_steps() -> list[tuple[tuple[tuple[str, ...], ...], bool]]:
    """Return the wrap groups and border of each try at fitting one layout.

    Each further group of :data:`WRAP_GROUPS` is allowed to wrap only after the
    groups before it failed with both the normal and the compact border. So a
    table that fits with Summary and Prompts wrapped keeps the normal border, and
    Revoked at wraps only when the compact border is not enough.
    """
    return [
        (WRAP_GROUPS[:count], compact)
        for count in range(1, len(WRAP_GROUPS) + 1)
        for compact in (False, True)
    ]


def _cells(finding: Finding, tz: tzinfo | None) -> dict[str, Text]:
    return {
        "Severity": Text(
            finding.severity.label, style=SEVERITY_STYLES[finding.severity]
        ),
        "Score": Text(str(finding.score)),
        "Type": Text(finding.finding_type.value),
        "User": Text(display_text(user_label(finding))),
        "Revoked by": Text(display_text(finding.actor.label) if finding.actor else "-"),
        "Revoked at": Text(format_short_time(finding.revocation_time, tz) or "-"),
        "Prompts": Text(_prompt_summary(finding)),
        "Summary": Text(display_text(_short_summary(finding, tz))),
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
        parts.append("no revocation joined")
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
    # A campaign whose targets got no prompt, such as one of directory sync, would
    # otherwise show an empty cell that reads as a value cut off.
    return ", ".join(parts) or "none"


def _render_details(finding: Finding, console: Console, tz: tzinfo | None) -> None:
    heading = Text()
    heading.append(
        f"{finding.severity.label.upper()} ", SEVERITY_STYLES[finding.severity]
    )
    heading.append(f"{finding.finding_type.value} {finding.finding_id}: ")
    heading.append(display_text(user_label(finding)))
    console.print()
    console.print(heading)
    console.print(Text(display_text(finding.summary)))
    factor_rows = [
        {
            "Points": Text(str(factor.points)),
            "Factor": Text(factor.name),
            "Fact": Text(display_text(factor.fact)),
        }
        for factor in finding.score_factors
    ]
    console.print(
        _details_table(("Points", "Factor", "Fact"), factor_rows, "Fact", console)
    )
    _print_timeline(finding.timeline, console, tz)
    sources = sorted({evidence_source(item) for item in finding.evidence})
    # File paths are shown whole: a responder opens the evidence from them.
    console.print(Text("Evidence: " + join_shown(sources, cut=False), style="dim"))


class TimelineLayout(NamedTuple):
    """The columns and time format of a ``--details`` timeline.

    Attributes:
        columns: the column names, in order.
        short_time: times to the second, as the findings table shows them.
        origin_in_detail: the IP address and country follow the detail text
            instead of having columns.
    """

    columns: tuple[str, ...]
    short_time: bool
    origin_in_detail: bool


# Layouts from widest to narrowest; a timeline uses the first that fits with its
# times, event kinds and IP addresses whole and a wide enough Detail column. With
# the sample logs the first needs 122 columns, the second 114, and the third fits
# in 80.
TIMELINE_LAYOUTS = (
    TimelineLayout(("Time", "Event", "Detail", "IP", "Country"), False, False),
    TimelineLayout(("Time", "Event", "Detail", "IP", "Country"), True, False),
    TimelineLayout(("Time", "Event", "Detail"), True, True),
)


def _timeline_rows(
    events: Sequence[TimelineEvent], tz: tzinfo | None, layout: TimelineLayout
) -> list[dict[str, Text]]:
    rows = []
    for event in events:
        when = (
            format_short_time(event.time, tz)
            if layout.short_time
            else format_time(event.time, tz)
        )
        detail = display_text(event.description)
        # The origin ends in a bracket, so a value with a closing bracket is
        # quoted too and cannot end it early.
        origin = join_shown(
            [value for value in (event.ip_address, event.country) if value],
            reserved=")",
        )
        row = {"Time": Text(when), "Event": Text(event.kind)}
        if layout.origin_in_detail:
            row["Detail"] = Text(f"{detail} (from {origin})" if origin else detail)
        else:
            row["Detail"] = Text(detail)
            row["IP"] = Text(display_text(event.ip_address))
            row["Country"] = Text(display_text(event.country))
        rows.append(row)
    return rows


def _print_timeline(
    timeline: Sequence[TimelineEvent], console: Console, tz: tzinfo | None
) -> None:
    """Print a timeline as tables of :data:`TIMELINE_ROWS_PER_TABLE` rows that
    share one layout and read as one table.

    A campaign's timeline has an event per target, tens of thousands in a mass
    revocation. As one rich table, all its rows and their rendered lines were held
    at once. The layout and widths come from walks over the events, one per layout
    tried, so every part lines up with the first, which alone has the header.
    """
    slices = range(0, len(timeline), TIMELINE_ROWS_PER_TABLE)
    layout = TIMELINE_LAYOUTS[-1]
    widths = None
    natural: dict[str, int] = {}
    for layout in TIMELINE_LAYOUTS:
        natural = {name: cell_len(name) for name in layout.columns}
        for start in slices:
            part = timeline[start : start + TIMELINE_ROWS_PER_TABLE]
            rows = _timeline_rows(part, tz, layout)
            for name, width in natural_widths(layout.columns, rows).items():
                natural[name] = max(natural[name], width)
        minimum = DETAIL_PROSE_MINIMUM_WIDTH
        if not layout.origin_in_detail:
            minimum = max(
                minimum,
                min(ORIGIN_COLUMNS_DETAIL_MINIMUM_WIDTH, natural[TIMELINE_PROSE]),
            )
        widths = shrink_to_fit(
            natural,
            console.width,
            ((TIMELINE_PROSE,),),
            {TIMELINE_PROSE: minimum},
            compact=True,
        )
        if widths is not None:
            break
    if not len(timeline):
        console.print(
            _timeline_table(layout, widths, natural, [], console, header=True)
        )
    for start in slices:
        part = timeline[start : start + TIMELINE_ROWS_PER_TABLE]
        rows = _timeline_rows(part, tz, layout)
        console.print(
            _timeline_table(layout, widths, natural, rows, console, header=not start)
        )


def _timeline_table(
    layout: TimelineLayout,
    widths: dict[str, int] | None,
    natural: dict[str, int],
    rows: list[dict[str, Text]],
    console: Console,
    *,
    header: bool,
) -> Table:
    """Build one part of a timeline table, without edges so the parts join.

    When even the narrowest layout does not fit, every column folds at a width of
    its own (:func:`fold_widths`), the same in every part.
    """
    table = Table(box=box.MINIMAL, show_header=header, show_edge=False, pad_edge=False)
    if widths is None:
        folded = fold_widths(natural, console.width, compact=True)
        for name in layout.columns:
            table.add_column(name, overflow="fold", width=folded[name])
    else:
        for name in layout.columns:
            table.add_column(
                name,
                no_wrap=name != TIMELINE_PROSE,
                overflow="fold",
                width=widths[name],
            )
    for cells in rows:
        table.add_row(*(cells[name] for name in layout.columns))
    return table


def _details_table(
    columns: tuple[str, ...],
    rows: list[dict[str, Text]],
    prose: str,
    console: Console,
) -> Table:
    """Build a ``--details`` table whose columns other than ``prose`` stay whole.

    Times, event kinds and IP addresses then keep one line each, and only the
    ``prose`` column wraps. When that column cannot keep
    :data:`DETAIL_PROSE_MINIMUM_WIDTH` cells, every column wraps as rich shrinks it.
    """
    natural = natural_widths(columns, rows)
    widths = shrink_to_fit(
        natural,
        console.width,
        ((prose,),),
        {prose: DETAIL_PROSE_MINIMUM_WIDTH},
        compact=True,
    )
    table = Table(box=box.MINIMAL, show_header=True, show_edge=False, pad_edge=False)
    for name in columns:
        justify: JustifyMethod = "right" if name == "Points" else "left"
        if widths is None:
            table.add_column(name, justify=justify, overflow="fold")
        else:
            table.add_column(
                name,
                justify=justify,
                no_wrap=name != prose,
                overflow="fold",
                width=widths[name],
            )
    for cells in rows:
        table.add_row(*(cells[name] for name in columns))
    return table
