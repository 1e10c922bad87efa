"""Wrapped lines with a hanging indent, for the run summary and `h056 inspect`."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

# Continuation lines start this many columns further in than the first line, so a
# wrapped warning reads as one entry, apart from the next one.
HANG_COLUMNS = 2


def print_hanging(
    console: Console, text: str, *, indent: int = 2, style: str = ""
) -> None:
    """Print ``text`` wrapped at word boundaries with a hanging indent.

    The first line starts after ``indent`` spaces and each continuation line after
    ``indent + HANG_COLUMNS``. A word longer than a line folds; no character is
    dropped. ``text`` must already be safe for a terminal (see ``plain``).
    """
    hang = indent + HANG_COLUMNS
    width = max(console.width - hang, 1)
    lines = Text(text, style=style).wrap(console, width, overflow="fold")
    for number, line in enumerate(lines):
        margin = " " * (indent if number == 0 else hang)
        line.rstrip()
        console.print(Text(margin) + line, no_wrap=True, crop=False)
