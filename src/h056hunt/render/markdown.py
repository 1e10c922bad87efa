"""Markdown output: a hunt report in the PEAK shape, ready for a wiki or a ticket.

PEAK (Prepare, Execute, Act with Knowledge) is a threat hunting framework whose hunt
reports state the hypothesis, the scope as actor, behaviour, location and evidence,
the data and method, the findings, and whether the hunt should become a standing
detection. This module writes the preparation and data sections;
:mod:`h056hunt.render.markdown_findings` writes the findings and the conclusions.

Every log value goes through :func:`~h056hunt.render.markdown_text.md_text` or
:func:`~h056hunt.render.markdown_text.md_code`, and the report contains no raw
HTML.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from h056hunt.plurals import Counted
from h056hunt.render.convert_rows import table_records
from h056hunt.render.markdown_findings import (
    conclusion_lines,
    false_positive_lines,
    finding_section_lines,
    findings_table_lines,
)
from h056hunt.render.markdown_text import md_code, md_text, table
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
HYPOTHESIS = (
    "An adversary who controls an administrator account, or an app with directory "
    "write rights, revokes the sign-in sessions and refresh tokens of chosen users "
    "(ATT&CK T1550.001, Use Alternate Authentication Material: Application Access "
    "Token). The users must sign in again, so a prompt is expected, and the "
    "adversary, who holds their passwords, sends MFA push prompts until one user "
    "approves (ATT&CK T1621, Multi-Factor Authentication Request Generation). In the "
    "logs this is an audit record that revokes a user's sessions, then a burst of "
    "denied MFA prompts for that user, sometimes ending in an approval."
)


def render_markdown(
    findings: list[Finding], stream: TextIO, context: RenderContext
) -> None:
    """Write the hunt report as GitHub Flavored Markdown.

    Each section is written as it is made, so a campaign's timeline is never held
    whole, as lines or as one document.
    """
    run = run_record(context, context.tz)
    document = _LineWriter(stream)
    lines: list[str] = [f"# {TITLE}", ""]
    lines += _banner_lines(run)
    lines += _summary_lines(findings, run, context)
    lines += ["## Hypothesis", "", HYPOTHESIS, ""]
    lines += _scope_lines(run)
    lines += _data_source_lines(run)
    lines += _method_lines(run)
    lines += findings_table_lines(findings, context.tz)
    document.write(lines)
    for number, finding in enumerate(findings, start=1):
        document.write(finding_section_lines(number, finding, context.tz))
    document.write(false_positive_lines(findings))
    document.write(conclusion_lines(findings, run))
    document.close()


class _LineWriter:
    """Write lines joined by newlines, as a text that ends in exactly one newline.

    The bytes are those of ``"\\n".join(lines).rstrip("\\n") + "\\n"`` over every
    line written, but each line is written when it comes. Newlines at the end of
    what was written so far wait until a later line has other text.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = False
        self._newlines = ""

    def write(self, lines: Iterable[str]) -> None:
        """Write ``lines``, each after a newline unless it is the first line."""
        for line in lines:
            text = f"\n{line}" if self._started else line
            self._started = True
            body = text.rstrip("\n")
            if body:
                self._stream.write(self._newlines)
                self._stream.write(body)
                self._newlines = text[len(body) :]
            else:
                self._newlines += text

    def close(self) -> None:
        """End the text with one newline, dropping the newlines that wait."""
        self._stream.write("\n")


def _banner_lines(run: dict[str, Any]) -> list[str]:
    if not run["partial"]:
        return []
    unread = describe_unread(
        (item["path"] for item in run["unreadable"]),
        lambda path: md_code(path, in_table=False),
    )
    return [
        "> **Warning: partial input.** Some input was not read completely, so these "
        "results may be incomplete. "
        + (f"{unread}. " if unread else "")
        + "A quiet result here does not mean the data is clean; see the data "
        "sources below.",
        "",
    ]


def _summary_lines(
    findings: list[Finding], run: dict[str, Any], context: RenderContext
) -> list[str]:
    zone = None if context.tz is None else md_text(str(context.tz))
    severities = Counter(finding.severity.label for finding in findings)
    by_severity = ", ".join(
        f"{severities[label]} {label}"
        for label in ("critical", "high", "medium", "low")
        if severities[label]
    )
    approved = sum(1 for finding in findings if finding.approved)
    detection = run["detection"]
    lines = [
        "## Summary",
        "",
        f"* Findings: {len(findings)}" + (f" ({by_severity})" if by_severity else ""),
        f"* Findings where a prompt was approved: {approved}",
        f"* Revocations seen: {detection['revocations']} "
        f"({detection['admin_revocations']} by another principal); "
        f"{_prompts_label(run)}: {detection['prompts']}",
        f"* {time_zone_note(zone)}",
        f"* Written by {run['tool']['name']} {run['tool']['version']}.",
        "",
    ]
    return lines


def _scope_lines(run: dict[str, Any]) -> list[str]:
    activities = ", ".join(
        md_code(name, in_table=False)
        for name in run["thresholds"]["revocation_activities"]
    )
    return [
        "## Scope",
        "",
        "* **Actor:** whoever holds a user's password and a stolen token, and keeps "
        "access after an administrator revokes the user's sessions; for example an "
        "adversary-in-the-middle phishing operator.",
        "* **Behaviour:** an administrator, helpdesk agent or automation revokes a "
        "user's sessions; shortly after, the user receives a burst of MFA push "
        "prompts and denies them, ignores them, reports fraud or approves one.",
        "* **Location:** the Microsoft Entra ID tenant whose audit and sign-in logs "
        "were exported; the files and time spans are listed under data sources.",
        f"* **Evidence:** audit records with the revocation activities {activities}; "
        "sign-in records with error 500121 or denied MFA steps in "
        "`authenticationDetails`; approvals in the same records.",
        "",
    ]


def _data_source_lines(run: dict[str, Any]) -> list[str]:
    lines = ["## Data sources and coverage", ""]
    lines += _files_table_lines(run["files"])

    records = run["records"]
    lines += [
        "",
        f"* Records: {records['seen']} seen, {records['loaded']} loaded, "
        f"{records['duplicates']} duplicate, {records['skipped']} skipped, "
        f"{records['prefiltered']} not needed by the hunt (pre-filtered).",
    ]
    for reason, count in records["skipped_by_reason"].items():
        lines.append(f"* Skipped {count}: {md_text(reason)}.")
    for log, label in (("audit", "Audit"), ("signin", "Sign-in")):
        lines.append(f"* {label} log covers {_span_text(run['time_span'][log])}.")
    step_times = run_step_time_counts(run["detection"])
    if step_times is not None:
        lines.append(f"* {sentence_case(step_times)}.")
    unjoined = steps_without_signin(run["detection"]["denial_steps_without_signin"])
    if unjoined is not None:
        lines.append(f"* {unjoined}.")

    lines += _problem_lines(run)
    lines += _coverage_lines(run)
    lines.append("")
    return lines


def _file_cell(item: dict[str, Any]) -> str:
    if "file_count" in item:
        return f"{md_code(item['path'])} ({Counted(item['file_count'], 'file')})"
    if item["converted_in"] is None:
        return md_code(item["path"])
    return f"{md_code(item['converted_in'])} (converted from {md_code(item['path'])})"


def _files_table_lines(files: list[dict[str, Any]]) -> list[str]:
    if not files:
        return ["No input file was read."]
    rows = []
    for item in table_records(files):
        loaded = item["loaded"]
        rows.append(
            [
                _file_cell(item),
                md_text(", ".join(item["given_to"])),
                md_text(item["shape"]),
                str(item["records_seen"]),
                f"{loaded['audit']} / {loaded['signin']} / {loaded['steps']}",
                str(item["duplicates"]),
                str(item["skipped"]),
                str(item["prefiltered"]),
                _span_text(item["time_span"]["audit"]),
                _span_text(item["time_span"]["signin"]),
                "**yes**" if item["partial"] else "no",
            ]
        )
    header = [
        "File",
        "Given to",
        "Shape",
        "Seen",
        "Loaded audit / sign-in / AuthDetails CSV rows",
        "Duplicates",
        "Skipped",
        "Pre-filtered",
        "Audit span",
        "Sign-in span",
        "Partial",
    ]
    return table(header, rows)


def _problem_lines(run: dict[str, Any]) -> list[str]:
    """Return unread files, conflicts, near misses and suppressions as list items."""
    lines = []
    for item in run["unreadable"]:
        lines.append(
            f"* Not read: {md_code(item['path'], in_table=False)}: "
            f"{md_text(item['reason'])}."
        )
    for item in run["files"]:
        if item["error"]:
            lines.append(
                f"* Stopped reading {md_code(item['path'], in_table=False)}: "
                f"{md_text(item['error'])}."
            )
    for item in run["files"]:
        steps = file_unreadable_steps(item["denial_step_times_unreadable"])
        if steps is not None:
            lines.append(f"* {md_code(item['path'], in_table=False)}: {steps}.")
    if run["conflicts"]:
        lines.append(
            f"* {Counted(len(run['conflicts']), 'record id')} had copies that differ, "
            "and the most complete copy was kept."
        )
    for activity in run["detection"]["unmatched_revocation_activities"]:
        lines.append(
            f"* Possible revocation activity, not matched: "
            f"{md_code(activity, in_table=False)}."
        )
    for item in run["suppressed"]:
        lines.append(
            f"* Suppressed {md_code(item['finding_id'], in_table=False)} by "
            f"{md_text(item['entry'])}: {md_text(item['reason'])}."
        )
    return lines


def _coverage_lines(run: dict[str, Any]) -> list[str]:
    warnings = run["coverage_warnings"]
    if not warnings:
        return [
            "* Coverage: the sign-in data covers the follow-up window of every "
            "revocation by another principal."
        ]
    lines = [
        f"* Coverage gaps ({len(warnings)}): a quiet result inside a gap means "
        "not looked at, not clean."
    ]
    lines.extend(f"  * {md_text(warning)}" for warning in warnings)
    return lines


def _span_text(span: dict[str, str] | None) -> str:
    if span is None:
        return "no records"
    return f"{span['first']} to {span['last']}"


def _method_lines(run: dict[str, Any]) -> list[str]:
    thresholds = run["thresholds"]
    chain_only = (
        "only revocation chains are reported"
        if thresholds["chain_only"]
        else "bursts not joined to a revocation are reported too"
    )
    return [
        "## Method and thresholds",
        "",
        "1. Find audit records that revoke a user's sessions; drop self-revocations.",
        "2. Turn sign-in records and their `authenticationDetails` steps into MFA "
        "prompts, one per challenge, each with an outcome: declined, unanswered, "
        "fraud, wrong number, other denial, approved or interrupt.",
        f"3. Find a burst: at least {thresholds['min_denials']} denied prompts for one "
        f"user within a sliding window of {thresholds['burst_window']}.",
        f"4. Join each revocation to the first burst of the same user whose first "
        f"denial comes within {thresholds['max_lag']} after it; {chain_only}.",
        "5. Score each finding from named factors and note an approval after the "
        "burst.",
        "",
        f"* Maximum lag from revocation to first denial: {thresholds['max_lag']} "
        f"({thresholds['max_lag_seconds']} s)",
        f"* Burst window: {thresholds['burst_window']} "
        f"({thresholds['burst_window_seconds']} s)",
        f"* Minimum denied prompts: {thresholds['min_denials']}",
        f"* Chain only: {'yes' if thresholds['chain_only'] else 'no'}",
        f"* Campaign: minimum targets: {thresholds['campaign_min_targets']}",
        f"* Campaign window: {thresholds['campaign_window']} "
        f"({thresholds['campaign_window_seconds']} s)",
        f"* Revoker lookback: {thresholds['actor_lookback']} "
        f"({thresholds['actor_lookback_seconds']} s)",
        f"* Persistence window after approval: {thresholds['persistence_window']} "
        f"({thresholds['persistence_window_seconds']} s)",
        "* Revocation activities: "
        + ", ".join(
            md_code(name, in_table=False)
            for name in thresholds["revocation_activities"]
        ),
        "",
    ]


def _prompts_label(run: dict[str, Any]) -> str:
    """Name the prompt count by what was decoded: pre-filtered sign-ins are not."""
    if run["records"]["prefiltered"]:
        return "MFA prompts seen in decoded sign-ins"
    return "MFA prompts seen"
