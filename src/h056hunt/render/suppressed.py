"""The "Suppressed findings" table that ``--show-suppressed`` prints on stderr.

rich would fold every column of the table to fit a narrow terminal, splitting
finding ids, types, severities and UPNs mid-word. This module sets the widths
itself, as the findings table does. Finding, Type, Severity and User keep each
cell on one line, and Entry and Reason wrap at spaces. When that does not fit,
each suppressed finding gets a block of "key: value" lines instead.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from h056hunt.render.column_widths import (
    longest_word,
    natural_widths,
    shrink_to_fit,
    titled_table,
)
from h056hunt.render.hanging import HANG_COLUMNS, print_hanging
from h056hunt.render.text import display_text, user_label
from h056hunt.suppress import Suppression

TITLE = "Suppressed findings"
COLUMNS = ("Finding", "Type", "Severity", "User", "Entry", "Reason")
# Columns whose cells wrap at spaces. They give up width, widest first, down to
# the larger of this minimum and their longest word, so no word is split.
WRAP_MINIMUM_WIDTHS = {"Entry": 12, "Reason": 16}


def render_suppressed(suppressed: list[Suppression], console: Console) -> None:
    """List each suppressed finding with the allowlist entry and its reason.

    The table tries the normal and then the compact border within
    ``console.width``. When neither fits, each finding gets a block: its id, then
    one ``key: value`` line per other column, wrapped at spaces.
    """
    if not suppressed:
        console.print(Text("No finding was suppressed."))
        return
    rows = [_cells(item) for item in suppressed]
    for compact in (False, True):
        widths = _fit(rows, console.width, compact)
        if widths is not None:
            _print_table(rows, widths, compact, console)
            return
    _print_blocks(rows, console)


def _cells(item: Suppression) -> dict[str, Text]:
    finding = item.finding
    return {
        "Finding": Text(finding.finding_id),
        "Type": Text(finding.finding_type.value),
        "Severity": Text(finding.severity.label),
        "User": Text(display_text(user_label(finding) or "-")),
        "Entry": Text(display_text(item.entry)),
        "Reason": Text(display_text(item.reason)),
    }


def _fit(
    rows: list[dict[str, Text]], width: int, compact: bool
) -> dict[str, int] | None:
    """Return column widths that fit ``width`` with every word whole, or None."""
    minimums = {
        name: max(minimum, max(longest_word(row[name]) for row in rows))
        for name, minimum in WRAP_MINIMUM_WIDTHS.items()
    }
    natural = natural_widths(COLUMNS, rows)
    groups = (tuple(WRAP_MINIMUM_WIDTHS),)
    return shrink_to_fit(natural, width, groups, minimums, compact=compact)


def _print_table(
    rows: list[dict[str, Text]],
    widths: dict[str, int],
    compact: bool,
    console: Console,
) -> None:
    table = titled_table(TITLE, compact=compact)
    for name in COLUMNS:
        wraps = name in WRAP_MINIMUM_WIDTHS
        table.add_column(
            name,
            no_wrap=not wraps,
            overflow="fold" if wraps else "ellipsis",
            width=widths[name],
        )
    for cells in rows:
        table.add_row(*(cells[name] for name in COLUMNS))
    console.print(table)
    if compact:
        # The compact border has no blank bottom edge to set the table apart.
        console.print()


def _print_blocks(rows: list[dict[str, Text]], console: Console) -> None:
    """Print each finding as its id and then one "key: value" line per column."""
    console.print(Text(TITLE, style="italic"))
    for cells in rows:
        console.print()
        print_hanging(console, cells["Finding"].plain, indent=0)
        for name in COLUMNS[1:]:
            print_hanging(console, f"{name}: {cells[name].plain}", indent=HANG_COLUMNS)
    console.print()
