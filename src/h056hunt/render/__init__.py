"""Output formats, one module each, listed in :data:`RENDERERS`."""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import TextIO, cast

from rich.console import Console

from h056hunt.findings import Finding
from h056hunt.render.context import RenderContext, Renderer
from h056hunt.render.csv_report import render_csv
from h056hunt.render.json_report import render_json
from h056hunt.render.jsonl import dumps, render_jsonl
from h056hunt.render.partial import needs_notice, notice_record
from h056hunt.render.table import render_table
from h056hunt.render.timesketch import render_timesketch
from h056hunt.render.trimmed_stream import TrimmedStream


def _table_width(is_terminal: bool) -> int | None:
    """Use the terminal's width or ``COLUMNS``; files and pipes get 200 columns."""
    if is_terminal or os.environ.get("COLUMNS", "").isdigit():
        return None
    return 200


def _table(findings: list[Finding], stream: TextIO, context: RenderContext) -> None:
    if not context.is_terminal:
        # Pipes and files get no trailing spaces and no leading blank line.
        stream = cast(TextIO, TrimmedStream(stream))
    console = Console(
        file=stream,
        no_color=context.no_color or not context.is_terminal,
        highlight=False,
        # False would make rich drop colours even on a terminal.
        force_terminal=context.is_terminal,
        width=_table_width(context.is_terminal),
    )
    render_table(
        findings,
        console,
        details=context.details,
        tz=context.tz,
        partial=context.partial,
        suppressed=len(context.result.suppressed),
        suppressed_listed=context.suppressed_listed,
        coverage_gaps=len(context.result.coverage_warnings),
        unread_paths=[path for path, _ in context.data.unreadable],
    )


def _jsonl(findings: list[Finding], stream: TextIO, context: RenderContext) -> None:
    render_jsonl(findings, stream, partial=context.partial)
    if needs_notice(findings, context):
        stream.write(dumps(notice_record(context)) + "\n")


def _markdown(findings: list[Finding], stream: TextIO, context: RenderContext) -> None:
    # Imported on use, like the HTML report: a hunt that prints a table or JSON
    # then starts faster.
    from h056hunt.render.markdown import render_markdown

    render_markdown(findings, stream, context)


def _html(findings: list[Finding], stream: TextIO, context: RenderContext) -> None:
    from h056hunt.render.html_report import render_html

    render_html(findings, stream, context)


RENDERERS: dict[str, Renderer] = {
    "table": _table,
    "jsonl": _jsonl,
    "json": render_json,
    "csv": render_csv,
    "markdown": _markdown,
    "html": _html,
    "timesketch": render_timesketch,
}

# The format that each --output file name extension names, for runs without
# --format. A .txt file could contain the table, csv or markdown, so .txt is not
# listed. Timesketch output is JSON Lines too, but .jsonl names the jsonl format.
EXTENSION_FORMATS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}


# An --output name with this extension, in any case, gets gzip-compressed output.
GZIP_EXTENSION = ".gz"


# Extensions of compressed files and archives other than gzip, which --output
# cannot write, because findings written as text under such a name would not open.
OTHER_COMPRESSION_EXTENSIONS = frozenset(
    {".7z", ".bz2", ".lz4", ".lzma", ".tar", ".tgz", ".xz", ".z", ".zip", ".zst"}
)


def unwritable_compression(path: PurePath) -> str | None:
    """Return the extension of ``path`` that names a compression or archive format
    other than gzip, such as ``.bz2`` or ``.tar`` in ``findings.tar.gz``, or None."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == GZIP_EXTENSION:
        suffixes.pop()
    if suffixes and suffixes[-1] in OTHER_COMPRESSION_EXTENSIONS:
        return path.suffixes[len(suffixes) - 1]
    return None


def is_gzip_output(path: PurePath) -> bool:
    """Return whether output written to ``path`` is gzip-compressed."""
    return path.suffix.lower() == GZIP_EXTENSION


def format_for_extension(path: PurePath) -> str | None:
    """Return the output format that the extension of ``path`` names, or None.

    The match ignores case. A compressed name such as ``findings.jsonl.gz`` names
    the format of the extension before ``.gz``.
    """
    if is_gzip_output(path):
        path = PurePath(path.stem)
    return EXTENSION_FORMATS.get(path.suffix.lower())


# --output extensions of plain text, which the default table format suits.
TEXT_EXTENSIONS = frozenset({".txt", ".log"})


def format_extension(path: PurePath) -> str:
    """Return the extension of ``path`` that would name its format, looking through
    a trailing ``.gz``: ``.xlsx`` for ``f.xlsx.gz``, and ``""`` for ``f`` or ``f.gz``.
    """
    if is_gzip_output(path):
        path = PurePath(path.stem)
    return path.suffix


def names_other_file_type(path: PurePath) -> bool:
    """Tell whether ``path`` has no extension, or one such as ``.xlsx`` that names
    neither an output format nor plain text. A trailing ``.gz`` is looked through.
    """
    suffix = format_extension(path).lower()
    return suffix not in EXTENSION_FORMATS and suffix not in TEXT_EXTENSIONS


# Every extension that --output reads, so a name made of them alone, such as
# ".gz" or ".jsonl", names no file before its extension.
KNOWN_EXTENSIONS = frozenset(
    {
        *EXTENSION_FORMATS,
        GZIP_EXTENSION,
        *TEXT_EXTENSIONS,
        *OTHER_COMPRESSION_EXTENSIONS,
    }
)


def names_only_extension(path: PurePath) -> bool:
    """Tell whether the name of ``path`` starts with an extension that --output
    reads, such as ``.gz`` or ``.html.gz``.

    pathlib reads such a name as a hidden file without an extension, so
    ``.jsonl`` would get the table and ``.gz`` no compression.
    """
    name = path.name
    if not name.startswith("."):
        return False
    first = "." + name[1:].split(".", 1)[0].lower()
    return first in KNOWN_EXTENSIONS


def repeated_gzip(path: PurePath) -> bool:
    """Tell whether ``path`` ends in ``.gz`` more than once, as ``f.jsonl.gz.gz``
    does, although the output is compressed only once."""
    suffixes = [suffix.lower() for suffix in path.suffixes[-2:]]
    return suffixes == [GZIP_EXTENSION, GZIP_EXTENSION]


def extension_fits(output_format: str, path: PurePath) -> bool:
    """Return whether the extension of ``path`` suits ``output_format``.

    An extension that names no format suits every format. Timesketch output is
    JSON Lines, so it suits the extensions of ``jsonl`` too.
    """
    named = format_for_extension(path)
    if named is None or named == output_format:
        return True
    return output_format == "timesketch" and named == "jsonl"
