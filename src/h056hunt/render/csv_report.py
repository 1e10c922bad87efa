"""CSV output: one row per finding with flat columns, safe to open in a spreadsheet.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula,
and log fields such as display names and user agents are written by whoever signed
in. :func:`neutralise_formula` puts an apostrophe before such a cell, also when the
formula character follows leading whitespace or the cell starts with a tab or a
carriage return, so the spreadsheet shows the text instead of running it.

The file is also printed to terminals, so every text cell first goes through
:func:`~h056hunt.render.text.plain`: control characters, escape sequences and
bidirectional overrides become visible escapes. Line feeds stay, inside the quoted
cell, because a spreadsheet shows them as line breaks and a terminal cannot be made
to act on them; a carriage return, which overwrites the line on a terminal, does not.

A cell that holds a list (``source_ips``, ``countries``, ``user_agents``) holds it
as a JSON array, such as ``["203.0.113.5", "198.51.100.7"]``, because a user agent
can contain any separator. :func:`~h056hunt.render.text.json_text` writes it with
every unsafe character as a JSON escape, so a JSON parser returns the exact values.
Such a cell starts with ``[``, which no spreadsheet runs as a formula.

Every text cell is quoted (``csv.QUOTE_NONNUMERIC``): with ``"\\n"`` as the line
terminator, the ``csv`` module would otherwise leave a bare carriage return unquoted,
and a reader would split the row there.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, TextIO

from h056hunt.detect.prompts import OUTCOMES
from h056hunt.render.partial import NOTICE_MESSAGE, needs_notice
from h056hunt.render.text import format_time, json_text, plain

if TYPE_CHECKING:
    from h056hunt.findings import Finding
    from h056hunt.render.context import RenderContext

FORMULA_PREFIXES = ("=", "+", "-", "@")
PROMPT_COUNT_COLUMNS = tuple(f"prompts_{outcome}" for outcome in OUTCOMES)
COLUMNS = (
    "finding_id",
    "finding_type",
    "severity",
    "score",
    "target_user_id",
    "target_upn",
    "target_display_name",
    "actor_type",
    "actor_label",
    "actor_ip",
    "revocation_time",
    "first_prompt_time",
    "last_prompt_time",
    *PROMPT_COUNT_COLUMNS,
    "denied_prompts",
    "approved",
    "approval_time",
    "source_ips",
    "countries",
    "user_agents",
    "score_factors",
    "summary",
    "partial_input",
    # New columns go last, so every earlier column keeps its position.
    "step_times_replaced",
    "step_times_unreadable",
)
# Columns whose cell is a JSON array. Their text is already terminal-safe.
LIST_COLUMNS = frozenset({"source_ips", "countries", "user_agents"})


def neutralise_formula(cell: str) -> str:
    """Return ``cell`` with a leading apostrophe when a spreadsheet would run it.

    >>> neutralise_formula('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("alice@contoso.example")
    'alice@contoso.example'
    """
    if cell[:1] in ("\t", "\r"):
        return "'" + cell
    stripped = cell.lstrip()
    if stripped and stripped[0] in FORMULA_PREFIXES:
        return "'" + cell
    return cell


def finding_row(finding: Finding, *, partial: bool = False) -> list[str | int]:
    """Return one finding as the cells of :data:`COLUMNS`, formulas neutralised."""
    actor = finding.actor
    counts = [finding.prompt_counts.get(outcome, 0) for outcome in OUTCOMES]
    factors = "; ".join(
        f"{factor.name}={factor.points}" for factor in finding.score_factors
    )
    cells: list[str | int] = [
        finding.finding_id,
        finding.finding_type.value,
        finding.severity.label,
        finding.score,
        finding.target_user_id or "",
        finding.target_upn or "",
        finding.target_display_name or "",
        actor.type if actor else "",
        actor.label if actor else "",
        (actor.ip or "") if actor else "",
        format_time(finding.revocation_time),
        format_time(finding.first_prompt_time),
        format_time(finding.last_prompt_time),
        *counts,
        finding.denied_prompts,
        _flag(finding.approved),
        format_time(finding.approval_time),
        json_text(list(finding.source_ips)),
        json_text(list(finding.countries)),
        json_text(list(finding.user_agents)),
        factors,
        finding.summary,
        _flag(partial),
        int(finding.extra.get("step_times_replaced", 0)),
        int(finding.extra.get("step_times_unreadable", 0)),
    ]
    return [
        _safe_cell(column, cell) for column, cell in zip(COLUMNS, cells, strict=True)
    ]


def _safe_cell(column: str, cell: str | int) -> str | int:
    if not isinstance(cell, str):
        return cell
    if column not in LIST_COLUMNS:
        cell = _terminal_safe(cell)
    return neutralise_formula(cell)


def _terminal_safe(cell: str) -> str:
    return "\n".join(plain(line) for line in cell.split("\n"))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def render_csv(findings: list[Finding], stream: TextIO, context: RenderContext) -> None:
    """Write a header row and one row per finding."""
    writer = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(COLUMNS)
    for finding in findings:
        writer.writerow(finding_row(finding, partial=context.partial))
    if needs_notice(findings, context):
        # A row with no finding, so the partial_input column still marks the run.
        notice = dict.fromkeys(COLUMNS, "")
        notice["summary"] = NOTICE_MESSAGE
        notice["partial_input"] = "true"
        writer.writerow(notice.values())
