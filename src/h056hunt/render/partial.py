"""The notice a line-per-finding output writes when partial input left it empty.

``jsonl``, ``csv`` and ``timesketch`` carry ``partial_input`` on every finding, so a
partial run with no finding would write nothing that marks the input as partial. Such
a run writes one notice instead, so a quiet result never reads as clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from h056hunt.plurals import Counted
from h056hunt.render.records import SCHEMA_VERSION
from h056hunt.render.text import format_time
from h056hunt.sources import name_paths

if TYPE_CHECKING:
    from h056hunt.render.context import RenderContext

NOTICE_RECORD_TYPE = "partial_input_notice"
NOTICE_DATA_TYPE = "h056hunt:run:partial_input"
# The first words of the partial-input line of the table and of the run summary.
PARTIAL_HEADLINE = "PARTIAL INPUT: some input was not read completely"
NOTICE_MESSAGE = (
    "No findings, but some input was not read completely: a quiet result may mean "
    "not read, not clean."
)
_EPOCH = pd.Timestamp(0, tz="UTC")


def needs_notice(findings: list[Any], context: RenderContext) -> bool:
    """Tell whether a line-per-finding output must write the partial-input notice."""
    return context.partial and not findings


def incomplete_files(context: RenderContext) -> list[str]:
    """Return the files read only in part and the paths not read, sorted."""
    data = context.data
    partial = {report.path for report in data.files if report.partial}
    partial.update(path for path, _ in data.unreadable)
    return sorted(partial)


def describe_unread(paths: Iterable[str], escape: Callable[[str], str]) -> str:
    """Return "2 input paths were not read at all: a.json, b.json", or "" for none.

    The first :data:`~h056hunt.sources.PATHS_NAMED` paths are named and the rest
    counted. Paths come from the input, so each name goes through ``escape``, the
    output format's escaping of file names.
    """
    unique = sorted(set(paths))
    if not unique:
        return ""
    count = Counted(len(unique), "input path was", "input paths were")
    return f"{count} not read at all: {name_paths([escape(p) for p in unique])}"


def notice_record(context: RenderContext) -> dict[str, Any]:
    """Return the notice as the one record of a ``jsonl`` output."""
    return {
        "schema_version": SCHEMA_VERSION,
        "record_type": NOTICE_RECORD_TYPE,
        "partial_input": True,
        "message": NOTICE_MESSAGE,
        "incomplete_files": incomplete_files(context),
    }


def notice_event(context: RenderContext) -> dict[str, Any]:
    """Return the notice as a Timesketch event at the last time read.

    Timesketch needs a time for every event; with no record read at all, the notice
    sits at the Unix epoch.
    """
    times = [
        span[1]
        for span in (context.data.time_span("audit"), context.data.time_span("signin"))
        if span is not None
    ]
    moment = max(times) if times else _EPOCH
    return {
        "message": f"h056hunt: {NOTICE_MESSAGE}",
        "datetime": format_time(moment),
        "timestamp": pd.Timestamp(moment).value // 1000,
        "timestamp_desc": "Partial input",
        "data_type": NOTICE_DATA_TYPE,
        "schema_version": SCHEMA_VERSION,
        "partial_input": True,
        "incomplete_files": incomplete_files(context),
    }
