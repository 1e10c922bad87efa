"""Terminal output of ``h056 inspect``."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from h056hunt.render.hanging import print_hanging
from h056hunt.render.input_files import fold_path
from h056hunt.render.step_times import file_unreadable_steps
from h056hunt.render.text import display_text, escape_unsafe, plain, shown_message

PREFILTERED_NOTE = (
    "Pre-filtered records are counted without being decoded. 'h056 hunt' decodes"
    " the pre-filtered records of the users its detection examines and counts them"
    " as loaded, so it can report more loaded records for a file than this does."
)


def render_inspection(
    records: list[dict[str, Any]],
    coverage: list[str],
    unreadable: list[tuple[str, str]],
    console: Console,
) -> None:
    """Print one block per file, then unreadable paths and coverage warnings."""
    for record in records:
        # The path is printed above the table and split only after a separator,
        # because a table title wraps at the table's width, inside a name.
        heading = record["path"]
        if record["converted_in"] is not None:
            heading = f"{record['converted_in']} (converted from {heading})"
        path_lines = fold_path(heading, console.width)
        console.print(Text("\n".join(path_lines), style="bold"))
        table = Table(box=box.SIMPLE, show_header=False)
        table.add_column("Field")
        table.add_column("Value", overflow="fold")
        loaded = record["loaded_by_log"]
        rows = [
            ("shape", record["shape"]),
            ("log", record["log"]),
            ("records seen", str(record["records_seen"])),
            (
                "loaded",
                f"{record['loaded']} (audit {loaded['audit']}, sign-in "
                f"{loaded['signin']}, AuthDetails CSV rows {loaded['steps']})",
            ),
            ("duplicates", str(record["duplicates"])),
            ("not needed by the hunt (pre-filtered)", str(record["prefiltered"])),
            ("time range", _time_range(record)),
        ]
        cells = [(name, display_text(value)) for name, value in rows]
        # Skip reasons and errors are the program's messages, whose quoted values
        # repr() has escaped already.
        for reason, count in record["skipped"].items():
            cells.append(("skipped", f"{count}: {shown_message(reason)}"))
        steps = file_unreadable_steps(record["denial_step_times_unreadable"])
        if steps is not None:
            cells.append(("step times", steps))
        if record["error"]:
            cells.append(("PARTIAL", shown_message(record["error"])))
        for missing in record["missing_fields"]:
            cells.append(("missing", display_text(missing)))
        for name, text in cells:
            table.add_row(name, Text(text))
        console.print(table)
    if any(record["prefiltered"] for record in records):
        print_hanging(console, PREFILTERED_NOTE, indent=0)
    for path, reason in unreadable:
        text = f"not read: {plain(path)}: {escape_unsafe(reason)}"
        print_hanging(console, text, indent=0, style="yellow")
    for warning in coverage:
        print_hanging(
            console, f"coverage: {display_text(warning)}", indent=0, style="yellow"
        )


def _time_range(record: dict[str, Any]) -> str:
    """Return a file's time range as text, or a note that it has none."""
    # The range spans audit and sign-in records, pre-filtered ones included, so
    # a file of AuthDetails CSV rows has none.
    if record["time_min"] is None and record["time_max"] is None:
        return "none, because the file has no audit or sign-in record"
    return f"{record['time_min'] or '-'} to {record['time_max'] or '-'}"
