"""Column widths for rich tables that keep identifiers whole on narrow terminals.

rich 15 shrinks the widest wrapping columns first, so a UPN, an IP address or a time
could be split mid-token while the prose next to it kept its width, and the pieces
could no longer be copied. The tables here set every column's width instead. Some
columns keep their natural width and never wrap. The others wrap at spaces and give
up width in a set order, down to a minimum.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text


def text_width(text: Text) -> int:
    """Return the width of the longest line of ``text``, in terminal cells."""
    return max(cell_len(line) for line in text.plain.split("\n"))


def longest_word(text: Text) -> int:
    """Return the width of the longest run of non-space characters of ``text``."""
    return max((cell_len(word) for word in text.plain.split()), default=0)


def table_border(columns: int, *, compact: bool = False) -> int:
    """Return the cells that a table's edges, separators and padding take.

    The boxes used here (SIMPLE, SIMPLE_HEAVY, MINIMAL) draw a one-cell edge on
    each side and a one-cell separator between columns, and each column is padded
    by one space on each side. A compact table (``show_edge=False`` and
    ``pad_edge=False``) drops the edges and the padding at both ends, 4 cells.
    """
    if compact:
        return 3 * (columns - 1)
    return 2 + (columns - 1) + 2 * columns


def natural_widths(
    columns: Iterable[str], rows: Iterable[dict[str, Text]]
) -> dict[str, int]:
    """Return each column's width without wrapping, over the header and ``rows``."""
    names = list(columns)
    widths = {name: cell_len(name) for name in names}
    for cells in rows:
        for name in names:
            widths[name] = max(widths[name], text_width(cells[name]))
    return widths


def shrink_to_fit(
    natural: dict[str, int],
    total_width: int,
    groups: tuple[tuple[str, ...], ...],
    minimums: dict[str, int],
    *,
    compact: bool = False,
) -> dict[str, int] | None:
    """Return widths of every column that fit a table into ``total_width``, or None.

    The columns named in ``groups`` give up width group by group, the widest first
    within a group, down to their ``minimums`` (never below one cell or above their
    natural width). Every other column keeps its natural width. None means the
    table does not fit even at the minimums. ``compact`` sizes the borders of a
    compact table (see :func:`table_border`).
    """
    widths = dict(natural)
    border = table_border(len(widths), compact=compact)
    excess = sum(widths.values()) + border - total_width
    for group in groups:
        names = [name for name in group if name in widths]
        floors = {
            name: max(1, min(minimums.get(name, 1), natural[name])) for name in names
        }
        while excess > 0:
            shrinkable = [name for name in names if widths[name] > floors[name]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=widths.__getitem__)
            widths[widest] -= 1
            excess -= 1
    if excess > 0:
        return None
    return widths


def fold_widths(
    natural: dict[str, int], total_width: int, *, compact: bool = False
) -> dict[str, int]:
    """Return widths that fit a table into ``total_width`` when every column may
    fold: each column gets an equal share, capped at its natural width, and what a
    capped column leaves goes to the others in column order. A column keeps at
    least one cell, so a very narrow terminal still gets a table that overflows.
    """
    room = max(len(natural), total_width - table_border(len(natural), compact=compact))
    widths = {name: 1 for name in natural}
    room -= len(natural)
    while room > 0:
        growing = [name for name in natural if widths[name] < natural[name]]
        if not growing:
            break
        share = max(1, room // len(growing))
        for name in growing:
            step = min(share, natural[name] - widths[name], room)
            widths[name] += step
            room -= step
            if not room:
                break
    return widths


def titled_table(title: str, *, compact: bool) -> Table:
    """Return an empty run-summary table with ``title`` above it on the left; a
    compact one has no edges and no padding at its ends."""
    return Table(
        title=title,
        box=box.SIMPLE,
        title_justify="left",
        show_edge=not compact,
        pad_edge=not compact,
    )
