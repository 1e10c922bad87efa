"""HTML output: one self-contained page with the run, findings, campaigns and charts.

The page loads nothing: the style sheet and the SVG charts are inline, it has no
script, and its Content-Security-Policy forbids every other resource. Every value
from a log or an input path goes through :func:`~h056hunt.render.html_chart.esc`,
which applies ``html.escape(..., quote=True)``. Times are UTC unless the run has a
display time zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from h056hunt.plurals import Counted
from h056hunt.render.convert_rows import table_records
from h056hunt.render.html_chart import esc
from h056hunt.render.html_findings import (
    Part,
    campaign_section,
    finding_detail_section,
    findings_table_section,
    value_list,
)
from h056hunt.render.html_style import CONTENT_SECURITY_POLICY, STYLE_SHEET
from h056hunt.render.partial import describe_unread
from h056hunt.render.run_summary import run_record
from h056hunt.render.step_times import (
    file_unreadable_steps,
    run_step_time_counts,
    sentence_case,
    steps_without_signin,
)
from h056hunt.render.text import time_zone_note

if TYPE_CHECKING:
    from collections.abc import Iterable

    from h056hunt.findings import Finding
    from h056hunt.render.context import RenderContext

TITLE = "Hunt report: session revocation followed by MFA push bombing"


def render_html(
    findings: list[Finding], stream: TextIO, context: RenderContext
) -> None:
    """Write the report as one HTML document."""
    run = run_record(context, context.tz)
    zone = None if context.tz is None else esc(str(context.tz))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(TITLE)}</title>",
        f"<style>{STYLE_SHEET}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(TITLE)}</h1>",
        f'<p class="muted">Written by {esc(run["tool"]["name"])} '
        f"{esc(run['tool']['version'])}. {time_zone_note(zone)} "
        "ATT&amp;CK T1550.001 (application access token) and T1621 (MFA request "
        "generation).</p>",
    ]
    if run["partial"]:
        unread = describe_unread(
            (item["path"] for item in run["unreadable"]),
            lambda path: f"<code>{esc(path)}</code>",
        )
        parts.append(
            '<div class="banner partial-banner" role="alert">Partial input: some '
            "input was not read completely, so these results may be incomplete. "
            + (f"{unread}. " if unread else "")
            + "A quiet result does not mean the data is clean.</div>"
        )
    parts += _run_section(run)
    parts += findings_table_section(findings, context.tz)
    # Each section is written when it is made, so the page is never held as one
    # text, and a campaign's chart and timeline rows are made as they are written.
    page = _PartWriter(stream)
    page.write(parts)
    page.write(campaign_section(findings, context.tz))
    if findings:
        page.write(['<section id="details">', "<h2>Finding details</h2>"])
        for number, finding in enumerate(findings, start=1):
            page.write(finding_detail_section(number, finding, context.tz))
        page.write(["</section>"])
    page.write(["</body>", "</html>"])
    stream.write("\n")


class _PartWriter:
    """Write parts of the page with a newline between two parts.

    A part that is not a string is an iterable of pieces, written one after
    another with no newline between them.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = False

    def write(self, parts: Iterable[Part]) -> None:
        """Write ``parts``, each after a newline unless it is the first part."""
        for part in parts:
            if self._started:
                self._stream.write("\n")
            self._started = True
            if isinstance(part, str):
                self._stream.write(part)
                continue
            for piece in part:
                self._stream.write(piece)


def _run_section(run: dict[str, Any]) -> list[str]:
    records = run["records"]
    detection = run["detection"]
    facts = [
        (
            "Records",
            f"{records['seen']} seen, {records['loaded']} loaded, "
            f"{records['duplicates']} duplicate, {records['skipped']} skipped, "
            f"{records['prefiltered']} not needed by the hunt (pre-filtered)",
        ),
        ("Audit log", _span(run["time_span"]["audit"])),
        ("Sign-in log", _span(run["time_span"]["signin"])),
        (
            "Revocations",
            f"{detection['revocations']} "
            f"({detection['admin_revocations']} by another principal)",
        ),
        (
            "MFA prompts in decoded sign-ins"
            if run["records"]["prefiltered"]
            else "MFA prompts",
            str(detection["prompts"]),
        ),
        ("Findings", str(detection["findings"])),
        ("Partial input", "yes" if run["partial"] else "no"),
    ]
    parts = ['<section id="run">', "<h2>Run summary</h2>", '<dl class="facts">']
    parts += [f"<dt>{esc(name)}</dt><dd>{esc(value)}</dd>" for name, value in facts]
    parts.append("</dl>")
    parts += _files_table(run["files"])

    notes = _run_notes(run)
    if notes:
        items = "".join(f"<li>{esc(note)}</li>" for note in notes)
        parts.append(f"<ul>{items}</ul>")

    parts += _coverage(run["coverage_warnings"])
    parts += _thresholds_table(run["thresholds"])
    parts.append("</section>")
    return parts


def _run_notes(run: dict[str, Any]) -> list[str]:
    """Return skipped records, unread files, step time counts, near misses and
    suppressions as text."""
    notes = [
        f"Skipped {count}: {reason}"
        for reason, count in run["records"]["skipped_by_reason"].items()
    ]
    notes += [
        f"Not read: {item['path']}: {item['reason']}" for item in run["unreadable"]
    ]
    notes += [
        f"Stopped reading {item['path']}: {item['error']}"
        for item in run["files"]
        if item["error"]
    ]
    step_times = run_step_time_counts(run["detection"])
    if step_times is not None:
        notes.append(sentence_case(step_times))
    unjoined = steps_without_signin(run["detection"]["denial_steps_without_signin"])
    if unjoined is not None:
        notes.append(unjoined)
    for item in run["files"]:
        steps = file_unreadable_steps(item["denial_step_times_unreadable"])
        if steps is not None:
            notes.append(f"{item['path']}: {steps}")
    notes += [
        f"Possible revocation activity, not matched: {activity}"
        for activity in run["detection"]["unmatched_revocation_activities"]
    ]
    notes += [
        f"Suppressed {item['finding_id']} by {item['entry']}: {item['reason']}"
        for item in run["suppressed"]
    ]
    if run["conflicts"]:
        notes.append(
            f"{Counted(len(run['conflicts']), 'record id')} had copies that differ, "
            "and the most complete copy was kept"
        )
    return notes


def _file_cell(item: dict[str, Any]) -> str:
    path = f"<code>{_path_breaks(esc(item['path']))}</code>"
    if "file_count" in item:
        return f"{path} ({Counted(item['file_count'], 'file')})"
    if item["converted_in"] is None:
        return path
    folder = f"<code>{_path_breaks(esc(item['converted_in']))}</code>"
    return f"{folder} (converted from {path})"


def _files_table(files: list[dict[str, Any]]) -> list[str]:
    if not files:
        return ["<p>No input file was read.</p>"]
    header = (
        "File",
        "Given to",
        "Shape",
        "Seen",
        "Audit",
        "Sign-in",
        "AuthDetails CSV rows",
        "Duplicates",
        "Skipped",
        "Pre-filtered",
        "Audit span",
        "Sign-in span",
        "Partial",
    )
    rows = []
    for item in table_records(files):
        loaded = item["loaded"]
        cells = (
            _file_cell(item),
            esc(", ".join(item["given_to"])),
            esc(item["shape"]),
            str(item["records_seen"]),
            str(loaded["audit"]),
            str(loaded["signin"]),
            str(loaded["steps"]),
            str(item["duplicates"]),
            str(item["skipped"]),
            str(item["prefiltered"]),
            esc(_span(item["time_span"]["audit"])),
            esc(_span(item["time_span"]["signin"])),
            "<strong>yes</strong>" if item["partial"] else "no",
        )
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return [
        '<div class="scroll"><table class="files">',
        "<thead><tr>"
        + "".join(f"<th>{name}</th>" for name in header)
        + "</tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table></div>",
    ]


def _path_breaks(escaped: str) -> str:
    """Return an escaped path with a line break opportunity after each separator,
    so a long path wraps between folder names rather than inside them."""
    return escaped.replace("/", "/<wbr>").replace("\\", "\\<wbr>")


def _coverage(warnings: list[str]) -> list[str]:
    if not warnings:
        return [
            "<p>Coverage: the sign-in data covers the follow-up window of every "
            "revocation by another principal.</p>"
        ]
    items = "".join(f"<li>{esc(warning)}</li>" for warning in warnings)
    return [
        f"<p>Coverage gaps ({len(warnings)}): a quiet result inside a gap means not "
        "looked at, not clean.</p>",
        f'<ul class="warnings">{items}</ul>',
    ]


def _thresholds_table(thresholds: dict[str, Any]) -> list[str]:
    rows = [
        ("Maximum lag from revocation to first denial", thresholds["max_lag"]),
        ("Burst window", thresholds["burst_window"]),
        ("Minimum denied prompts", str(thresholds["min_denials"])),
        ("Chain only", "yes" if thresholds["chain_only"] else "no"),
        ("Campaign: minimum targets", str(thresholds["campaign_min_targets"])),
        ("Campaign window", thresholds["campaign_window"]),
        ("Revoker lookback", thresholds["actor_lookback"]),
        ("Persistence window after approval", thresholds["persistence_window"]),
    ]
    cells = [(name, esc(value)) for name, value in rows]
    cells.append(
        ("Revocation activities", value_list(thresholds["revocation_activities"]))
    )
    body = "".join(
        f"<tr><th>{esc(name)}</th><td>{cell}</td></tr>" for name, cell in cells
    )
    return ["<h3>Thresholds</h3>", f'<table class="thresholds">{body}</table>']


def _span(span: dict[str, str] | None) -> str:
    if span is None:
        return "no records"
    return f"{span['first']} to {span['last']}"
