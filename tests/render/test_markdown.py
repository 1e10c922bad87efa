"""Tests for the markdown hunt report: sections, coverage and injection safety."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_inputs import (
    CASES,
    LIST_AGENTS,
    LIST_COUNTRIES,
    case_args,
    hostile_logs,
    hunt,
    hunt_in_both_orders,
    list_value_logs,
    sample_log_args,
)

from h056hunt.render.markdown import _LineWriter
from h056hunt.render.markdown_text import md_code, md_text

SECTIONS = (
    "# Hunt report: session revocation followed by MFA push bombing",
    "## Summary",
    "## Hypothesis",
    "## Scope",
    "## Data sources and coverage",
    "## Method and thresholds",
    "## Findings",
    "## False-positive notes",
    "## Should this hunt become a standing detection?",
)
SCRIPT = "<script>alert(1)</script>"
LINK = "[x](javascript:alert(1))"
PIPES = "a|b\nc"


def unescaped(text: str, char: str) -> int:
    """Count ``char`` not preceded by an odd number of backslashes."""
    count = 0
    for match in re.finditer(re.escape(char), text):
        backslashes = len(text[: match.start()]) - len(
            text[: match.start()].rstrip("\\")
        )
        count += backslashes % 2 == 0
    return count


def table_blocks(text: str) -> list[list[str]]:
    """Return the lines of each table: runs of lines that start with a bar."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SCRIPT, "\\<script\\>alert\\(1\\)\\</script\\>"),
        (LINK, "\\[x\\]\\(javascript:alert\\(1\\)\\)"),
        (PIPES, "a\\|b c"),
        ("see http://evil.example", "see http\\://evil.example"),
        ("www.evil.example", "www\\.evil.example"),
        ("dave@contoso.example", "dave\\@contoso.example"),
        ("back\\slash `tick`", "back\\\\slash \\`tick\\`"),
        ("# heading *bold* _em_ !", "\\# heading \\*bold\\* \\_em\\_ \\!"),
        ("bidi \u202e", "bidi \\\\u202e"),
        (None, ""),
    ],
)
def test_md_text_escapes(value: object, expected: str) -> None:
    assert md_text(value) == expected


@pytest.mark.parametrize("value", ["---", "- - -", "   -----", "-\t-\t-", "--- "])
def test_md_text_starts_no_rule(value: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    parser = markdown_it.MarkdownIt("commonmark")
    expected = value.replace("\t", " ")

    for line in (md_text(value), f"* {md_text(value)}"):
        rendered = parser.render(line)
        assert "<hr" not in rendered, (line, rendered)
        assert expected.strip() in rendered, (line, rendered)


def test_md_code_neutralises_backticks() -> None:
    assert md_code("a`b|c\nd") == "`a'b\\|c d`"
    assert md_code("a|b", in_table=False) == "`a|b`"
    assert md_code("") == "-"


@pytest.mark.parametrize("case", sorted(CASES))
def test_markdown_cases_have_peak_sections(cases_dir: Path, case: str) -> None:
    result = hunt("--format", "markdown", *case_args(cases_dir, case))

    assert result.exit_code == 0, result.stderr
    positions = [result.stdout.find(section + "\n") for section in SECTIONS]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert "T1550.001" in result.stdout
    assert "T1621" in result.stdout
    assert "Minimum denied prompts: 3" in result.stdout
    assert "Warning: partial input" not in result.stdout
    assert "<" not in result.stdout.replace("\\<", "")


def test_markdown_br08_recommends_detection(cases_dir: Path) -> None:
    text = hunt("--format", "markdown", *case_args(cases_dir, "BR-08")).stdout

    assert "| 1 | critical | 95 | revocation\\_chain" not in text
    assert "| 1 | critical | 95 | revocation_chain | dave\\@contoso.example" in text
    assert "**Yes.** 1 revocation chain ended with an approved prompt" in text
    assert "| 2022-12-26T11:02:40Z | MFA prompt approved |" in text
    assert "BR-08.json:4`" in text
    assert "BR-08_audit.json:1`" in text


def test_markdown_br08_coverage_gap(cases_dir: Path) -> None:
    text = hunt("--format", "markdown", *case_args(cases_dir, "BR-08")).stdout

    assert "* Coverage gaps (1):" in text
    assert "This verdict is provisional" in text
    assert "Sign-in log covers 2022-12-26T11:00:05Z to 2022-12-26T11:00:05Z." in text


def test_markdown_br11_notes_security_automation(cases_dir: Path) -> None:
    text = hunt("--format", "markdown", *case_args(cases_dir, "BR-11")).stdout
    notes = text.split("## False-positive notes")[1].split("## Should")[0]

    assert "soar-playbook" in notes
    assert "(an app) revoked the sessions of ken\\@contoso.example" in notes
    assert "Findings with denials only" in notes


def test_markdown_tz_changes_shown_times(cases_dir: Path) -> None:
    args = case_args(cases_dir, "BR-08")
    text = hunt("--format", "markdown", "--tz", "Europe/Berlin", *args).stdout

    assert (
        "Times in tables, timelines and time spans are shown in Europe/Berlin;" in text
    )
    assert "| 2022-12-26T12:02:40+01:00 | MFA prompt approved |" in text


def test_markdown_escapes_hostile_names(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, [SCRIPT, LINK, PIPES])
    result = hunt("--format", "markdown", "--audit", audit, "--signin", signin)
    text = result.stdout

    assert result.exit_code == 0, result.stderr
    assert SCRIPT not in text
    assert "](javascript:" not in text
    assert unescaped(text, "<") == 0
    assert unescaped(text, "[") == 0
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in text
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in text
    assert "a\\|b c" in text
    assert "a|b\nc" not in text


def test_markdown_tables_keep_their_columns(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, [SCRIPT, LINK, PIPES])
    text = hunt("--format", "markdown", "--audit", audit, "--signin", signin).stdout

    blocks = table_blocks(text)
    assert len(blocks) >= 7
    for block in blocks:
        widths = {unescaped(line, "|") for line in block}
        assert len(widths) == 1, block


def test_markdown_renders_without_html_or_links(tmp_path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    audit, signin = hostile_logs(tmp_path, [SCRIPT, LINK, PIPES])
    text = hunt("--format", "markdown", "--audit", audit, "--signin", signin).stdout
    # Raw HTML on, so any unescaped tag would come through to the rendered page.
    parser = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    rendered = parser.render(text)

    assert "<script" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "<a " not in rendered
    assert "[x](javascript:alert(1))" in rendered
    findings_table = rendered.split("<table>")[2].split("</table>")[0]
    rows = findings_table.count("<tr>")
    assert rows == 4
    assert findings_table.count("<td>") == 3 * 11


def test_markdown_lists_show_each_value(tmp_path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    audit, signin = list_value_logs(tmp_path)
    result = hunt("--format", "markdown", "--audit", audit, "--signin", signin)
    assert result.exit_code == 0, result.stderr
    parser = markdown_it.MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(result.stdout)

    # Each user agent and country is the text of its own nested list item.
    plain_items = []
    depth = 0
    for token in tokens:
        if token.type == "list_item_open":
            depth += 1
        elif token.type == "list_item_close":
            depth -= 1
        elif token.type == "inline" and depth == 2:
            plain_items.append(_inline_text(parser, token.content))
    for value in [*LIST_AGENTS, *LIST_COUNTRIES]:
        assert plain_items.count(value) == 1, value
    # Each source IP is a code span of its own in the findings table.
    rendered = parser.render(result.stdout)
    findings_table = rendered.split("<table>")[2].split("</table>")[0]
    for minute in (5, 6, 7):
        assert f"<code>203.0.113.{minute}</code>" in findings_table
    # The false-positive notes name each user in a list item of its own.
    assert (
        "  * Findings with denials only, no approval and no fraud report:\n"
        "    * lists\\@contoso.example\n" in result.stdout
    )


def _inline_text(parser: Any, source: str) -> str:
    """Return the text that ``source`` renders to, without markup."""
    children = parser.parseInline(source)[0].children
    return "".join(child.content for child in children)


def test_markdown_partial_banner(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve"])
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"id": "cut-', encoding="utf-8")
    result = hunt(
        "--lenient",
        "--format",
        "markdown",
        "--audit",
        audit,
        "--signin",
        signin,
        "--signin",
        str(broken),
    )
    lines = result.stdout.splitlines()

    assert result.exit_code == 0, result.stderr
    assert lines[2].startswith("> **Warning: partial input.**")
    assert "some input was not read completely" in result.stdout


def test_markdown_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[str], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory"])
    first, second = hunt_in_both_orders(
        "markdown", audit, signin, lambda: foreign_tz("Asia/Kathmandu")
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_markdown_sample_logs(sample_logs_dir: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    result = hunt("--format", "markdown", *args)
    document = json.loads(hunt("--format", "json", *args).stdout)

    assert result.exit_code == 0, result.stderr
    for finding in document["findings"]:
        assert f"`{finding['finding_id']}`" in result.stdout
    for block in table_blocks(result.stdout):
        assert len({unescaped(line, "|") for line in block}) == 1, block


def test_markdown_sample_files_show_prefiltered(sample_logs_dir: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    text = hunt("--format", "markdown", *args).stdout
    run = json.loads(hunt("--format", "json", *args).stdout)["run"]
    records = run["records"]

    header = next(line for line in text.splitlines() if line.startswith("| File |"))
    assert "| Skipped | Pre-filtered |" in header
    for item in run["files"]:
        row = next(line for line in text.splitlines() if item["path"] in line)
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[6:8] == [str(item["skipped"]), str(item["prefiltered"])]
    totals = (
        f"* Records: {records['seen']} seen, {records['loaded']} loaded, "
        f"{records['duplicates']} duplicate, {records['skipped']} skipped, "
        f"{records['prefiltered']} not needed by the hunt (pre-filtered)."
    )
    assert totals in text


@pytest.mark.parametrize(
    "lines",
    [
        ["# Title", "", "text", ""],
        ["", "", "text"],
        ["a\n", "", "b\n\n", "", ""],
        ["", ""],
        ["only"],
        [],
        ["a", "\n\n", "b", "c\n"],
    ],
    ids=repr,
)
def test_line_writer_matches_one_join(lines: list[str]) -> None:
    stream = io.StringIO()
    writer = _LineWriter(stream)

    # Written in two calls, to cross the point where trailing newlines wait.
    half = len(lines) // 2
    writer.write(lines[:half])
    writer.write(iter(lines[half:]))
    writer.close()

    assert stream.getvalue() == "\n".join(lines).rstrip("\n") + "\n"
