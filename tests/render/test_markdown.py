"""Tests for the markdown hunt report: sections, coverage and injection safety."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.render.markdown_text import md_code, md_text

CASES = {
    "BR-08": ("BR-08_audit.json", "BR-08.json"),
    "BR-03": ("BR-03_audit.json", "BR-03.json"),
    "BR-11": ("BR-11.json", "BR-11_signins.json"),
}
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
DENIED = "MFA denied; user declined the authentication"
SCRIPT = "<script>alert(1)</script>"
LINK = "[x](javascript:alert(1))"
PIPES = "a|b\nc"


def hunt(*args: str) -> Result:
    """Run ``h056 hunt`` in-process; findings never change the exit code."""
    return CliRunner().invoke(
        main, ["hunt", "-q", "--min-denials", "3", "--fail-on", "none", *args]
    )


def case_args(cases_dir: Path, case: str) -> list[str]:
    audit, signin = CASES[case]
    return ["--audit", str(cases_dir / audit), "--signin", str(cases_dir / signin)]


def write_graph_page(path: Path, records: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return str(path)


def hostile_logs(tmp_path: Path, names: list[str]) -> tuple[str, str]:
    """Write one revocation and three 500121 sign-ins per name, one user each.

    The name is the revoker's display name, the target's display name and the
    sign-ins' user agent.
    """
    audits = []
    signins = []
    for index, name in enumerate(names):
        user_id = f"00000000-0000-4000-8000-0000000001{index:02d}"
        upn = f"user{index}@contoso.example"
        audits.append(
            {
                "id": f"Directory_HOSTILE_{index}",
                "category": "UserManagement",
                "result": "success",
                "activityDisplayName": "Revoke user sessions",
                "activityDateTime": f"2025-03-01T1{index}:00:00Z",
                "initiatedBy": {
                    "user": {
                        "id": "00000000-0000-4000-8000-00000000ad07",
                        "displayName": name,
                        "userPrincipalName": None,
                        "ipAddress": "198.51.100.7",
                    }
                },
                "targetResources": [
                    {"id": user_id, "type": "User", "userPrincipalName": upn}
                ],
            }
        )
        signins += [
            {
                "id": f"hostile-{index}-{minute}",
                "createdDateTime": f"2025-03-01T1{index}:{minute:02d}:00Z",
                "userPrincipalName": upn,
                "userDisplayName": name,
                "userId": user_id,
                "ipAddress": "203.0.113.5",
                "userAgent": name,
                "originalRequestId": f"request-{index}-{minute}",
                "status": {"errorCode": 500121, "additionalDetails": DENIED},
            }
            for minute in (5, 6, 7)
        ]
    return (
        write_graph_page(tmp_path / "audit.json", audits),
        write_graph_page(tmp_path / "signin.json", signins),
    )


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
    assert "**Yes.** 1 revocation chain(s) ended with an approved prompt" in text
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

    assert "Times are shown in Europe/Berlin." in text
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


@pytest.fixture
def foreign_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Return a switch to a far-off process time zone, undone after the test."""

    def switch() -> None:
        monkeypatch.setenv("TZ", "Asia/Kathmandu")
        time.tzset()

    yield switch
    monkeypatch.undo()
    time.tzset()


def test_markdown_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory"])
    more = write_graph_page(tmp_path / "more.json", [])
    first = hunt(
        "--format", "markdown", "--audit", audit, "--signin", signin, "--signin", more
    )
    foreign_tz()
    second = hunt(
        "--format", "markdown", "--signin", more, "--signin", signin, "--audit", audit
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_markdown_sample_logs(sample_logs_dir: Path) -> None:
    audit = sample_logs_dir / "audit.json"
    signin = sample_logs_dir / "signin.json"
    if not (audit.is_file() and signin.is_file()):
        pytest.skip(f"{sample_logs_dir} has no audit.json and signin.json yet")
    args = ["--audit", str(audit), "--signin", str(signin)]
    result = hunt("--format", "markdown", *args)
    document = json.loads(hunt("--format", "json", *args).stdout)

    assert result.exit_code == 0, result.stderr
    for finding in document["findings"]:
        assert f"`{finding['finding_id']}`" in result.stdout
    for block in table_blocks(result.stdout):
        assert len({unescaped(line, "|") for line in block}) == 1, block
