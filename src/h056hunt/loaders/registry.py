"""Pick the loader for a file from its content, never from its name.

A file whose first character is ``{`` or ``[`` is JSON; anything else is read as
delimited text. Inside each family, records or headers decide the exact shape.
"""

from __future__ import annotations

from h056hunt.loaders import csv_export, json_export
from h056hunt.loaders.sink import FileSink


def load_text(text: str, sink: FileSink, *, strict: bool) -> None:
    """Route the decoded text of one file to the JSON or the CSV loader."""
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped[0] in "[{":
        json_export.load_json_text(text, sink, strict=strict)
    else:
        csv_export.load_csv_text(text, sink, strict=strict)
