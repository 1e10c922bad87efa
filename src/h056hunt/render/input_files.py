"""The "Input files" table of the run summary, fitted to the terminal's width.

rich would fold every column of a wide table down to a few cells, splitting header
words and paths mid-name. This module sets the widths itself instead. Header words
and cells stay whole, paths fold only at path separators, and when even that does
not fit, each file gets a block of "key: value" lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from h056hunt.render.column_widths import (
    longest_word,
    natural_widths,
    shrink_to_fit,
    titled_table,
)
from h056hunt.render.convert_rows import (
    folder_label,
    group_by_convert_folder,
    ordered_union,
)
from h056hunt.render.hanging import HANG_COLUMNS
from h056hunt.render.text import plain, plain_units

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileReport

TITLE = "Input files"
COLUMNS = (
    "File",
    "Given to",
    "Shape",
    "Seen",
    "Audit",
    "Sign-in",
    "AuthDetails CSV rows",
    "Dupes",
    "Skipped",
    "Pre-filtered",
)
# Count columns left out when the table does not fit and every file has 0 there.
# The "Records:" line below the table still gives the total of duplicates, skipped
# and pre-filtered records.
DROPPABLE_WHEN_ZERO = ("AuthDetails CSV rows", "Dupes", "Skipped", "Pre-filtered")
# A path folds after the platform's separators: "/", and "\" on Windows too.
SEPARATORS = "".join(sep for sep in (os.sep, os.altsep) if sep)
PATH_PIECE = re.compile(f"[^{re.escape(SEPARATORS)}]*(?:[{re.escape(SEPARATORS)}]|$)")
# The columns that a convert folder's row sums over its files.
COUNT_COLUMNS = COLUMNS[3:]


def render_input_files(files: Sequence[FileReport], console: Console) -> None:
    """Print one row per input file, or one block per file on narrow terminals.

    The files that the run skipped as part of a convert folder share one row,
    which names the folder and the number of its files. The table tries, in this
    order, until one fits ``console.width``: every column with the normal and
    then the compact border, the same without the columns of
    :data:`DROPPABLE_WHEN_ZERO` that are 0 for every file, and that compact table
    again with paths folded at separators. Header words, counts and shapes never
    split.
    """
    rows: list[dict[str, Text]] = []
    paths: list[str] = []
    for folder, reports in group_by_convert_folder(
        files, lambda report: report.in_convert_folder
    ):
        if folder is None:
            rows.append(_cells(reports[0]))
            paths.append(reports[0].shown_path)
        else:
            paths.append(folder_label(folder, len(reports)))
            rows.append(_folder_cells(paths[-1], reports))
    narrow_columns = tuple(
        name
        for name in COLUMNS
        if name not in DROPPABLE_WHEN_ZERO
        or any(row[name].plain != "0" for row in rows)
    )
    attempts = (
        (COLUMNS, False, False),
        (COLUMNS, True, False),
        (narrow_columns, False, False),
        (narrow_columns, True, False),
        (narrow_columns, True, True),
    )
    for columns, compact, fold_paths in attempts:
        minimum_path_width = _longest_piece(paths) if fold_paths else None
        widths = _fit(columns, rows, console.width, compact, minimum_path_width)
        if widths is not None:
            _print_table(columns, rows, paths, widths, compact, console)
            return
    _print_blocks(rows, paths, console)


def _cells(report: FileReport) -> dict[str, Text]:
    return {
        "File": Text(plain(report.shown_path)),
        "Given to": Text(", ".join(report.given_options)),
        "Shape": Text(plain(report.shape)),
        "Seen": Text(str(report.records_seen)),
        "Audit": Text(str(report.loaded["audit"])),
        "Sign-in": Text(str(report.loaded["signin"])),
        "AuthDetails CSV rows": Text(str(report.loaded["steps"])),
        "Dupes": Text(str(report.duplicates)),
        "Skipped": Text(str(sum(report.skipped.values()))),
        "Pre-filtered": Text(str(sum(report.prefiltered.values()))),
    }


def _folder_cells(label: str, reports: list[FileReport]) -> dict[str, Text]:
    """Return the cells of one row for the files of a convert folder, with
    each count summed over them."""
    file_cells = [_cells(report) for report in reports]
    cells = {
        "File": Text(plain(label)),
        "Given to": Text(
            ", ".join(ordered_union(report.given_options for report in reports))
        ),
        "Shape": Text(
            plain(",".join(ordered_union(report.shapes for report in reports)))
        ),
    }
    for name in COUNT_COLUMNS:
        cells[name] = Text(str(sum(int(row[name].plain) for row in file_cells)))
    return cells


def _fit(
    columns: tuple[str, ...],
    rows: list[dict[str, Text]],
    width: int,
    compact: bool,
    minimum_path_width: int | None,
) -> dict[str, int] | None:
    """Return column widths that fit ``width``, or None.

    Headers wrap at spaces, down to their longest word but never below their widest
    cell. Then File narrows down to ``minimum_path_width``, unless that is None.
    """
    natural = natural_widths(columns, rows)
    others = tuple(name for name in columns if name != "File")
    minimums = {
        name: max(
            longest_word(Text(name)),
            max((cell_len(row[name].plain) for row in rows), default=0),
        )
        for name in others
    }
    groups: tuple[tuple[str, ...], ...] = (others,)
    if minimum_path_width is not None:
        minimums["File"] = minimum_path_width
        groups = (others, ("File",))
    return shrink_to_fit(natural, width, groups, minimums, compact=compact)


def _print_table(
    columns: tuple[str, ...],
    rows: list[dict[str, Text]],
    paths: list[str],
    widths: dict[str, int],
    compact: bool,
    console: Console,
) -> None:
    table = titled_table(TITLE, compact=compact)
    for name in columns:
        table.add_column(name, overflow="fold", width=widths[name])
    for row, path in zip(rows, paths, strict=True):
        cells = dict(row)
        cells["File"] = Text("\n".join(fold_path(path, widths["File"])))
        table.add_row(*(cells[name] for name in columns))
    console.print(table)
    if compact:
        # The compact border has no blank bottom edge to set the table apart.
        console.print()


def _print_blocks(
    rows: list[dict[str, Text]], paths: list[str], console: Console
) -> None:
    """Print each file as its path and then one "key: value" line per column."""
    console.print(Text(TITLE, style="italic"))
    for row, path in zip(rows, paths, strict=True):
        console.print()
        for line in fold_path(path, console.width):
            console.print(Text(line), no_wrap=True, crop=False)
        for name in COLUMNS[1:]:
            entry = f"{' ' * HANG_COLUMNS}{name}: {row[name].plain}"
            console.print(Text(entry), overflow="fold")
    console.print()


def fold_path(path: str, width: int) -> list[str]:
    """Split ``path`` into lines of at most ``width`` cells, after separators.

    ``path`` is the raw path, and the lines show it through :func:`plain`, so an
    escape such as ``\\x1b`` is never taken for a separator or split. A piece
    between separators that is wider than ``width`` is cut into chunks of up to
    ``width`` cells, so no character is dropped.
    """
    width = max(width, 1)
    lines: list[str] = []
    current = ""
    for units in _shown_pieces(path):
        escaped = "".join(units)
        if current and cell_len(current + escaped) > width:
            lines.append(current)
            current = ""
        if cell_len(escaped) > width:
            chunks = _chunks(units, width)
            lines.extend(chunks[:-1])
            escaped = chunks[-1]
        current += escaped
    if current:
        lines.append(current)
    return lines or [""]


def _shown_pieces(path: str) -> list[list[str]]:
    """Return ``path`` cut after each separator, each piece as the units that
    :func:`plain_units` shows for the whole path."""
    # The whole path is escaped at once, because whether a backslash is doubled
    # depends on the character after it, which may start the next piece.
    units = plain_units(path)
    pieces = []
    start = 0
    for piece in PATH_PIECE.findall(path):
        if piece:
            pieces.append(units[start : start + len(piece)])
            start += len(piece)
    return pieces


def _longest_piece(paths: list[str]) -> int:
    """Return the width of the widest piece of ``paths``, as :func:`plain` shows it."""
    return max(
        (cell_len("".join(units)) for path in paths for units in _shown_pieces(path)),
        default=1,
    )


def _chunks(units: list[str], width: int) -> list[str]:
    """Cut a piece's shown units into lines of up to ``width`` cells, escapes
    kept whole.

    An escape or a character wider than ``width`` gets a line of its own.
    """
    chunks = [""]
    for escaped in units:
        if chunks[-1] and cell_len(chunks[-1] + escaped) > width:
            chunks.append("")
        chunks[-1] += escaped
    return chunks
