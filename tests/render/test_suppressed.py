"""Tests for the "Suppressed findings" table of ``--show-suppressed`` on stderr.

Each run goes through the real CLI with ``COLUMNS`` set, over exports and an
allowlist written by the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from report_inputs import hostile_logs
from rich.cells import cell_len

from h056hunt.cli import main
from h056hunt.render.suppressed import COLUMNS, TITLE

# Three users, each revoked and then denying three prompts: three findings, of
# which the allowlist below suppresses the first two.
USERS = ["Alice", "Bob", "Carol"]
SUPPRESSED_UPNS = ["user0@contoso.example", "user1@contoso.example"]
GROUP = "quarterly-drill"
REASON = "break-glass account exercise, approved by the identity team"


def hunt_suppressed(tmp_path: Path, columns: int) -> Result:
    audit, signin = hostile_logs(tmp_path, USERS)
    config = tmp_path / "h056.toml"
    config.write_text(
        f"[[allowlist.targets]]\nusers = {json.dumps(SUPPRESSED_UPNS)}\n"
        f'group = "{GROUP}"\nreason = "{REASON}"\n',
        encoding="utf-8",
    )
    arguments = ["hunt", "--audit", audit, "--signin", signin]
    arguments += ["--min-denials", "3", "--config", str(config), "--fail-on", "none"]
    arguments += ["--show-suppressed", "--format", "json"]
    return CliRunner().invoke(
        main, arguments, env={"COLUMNS": str(columns)}, catch_exceptions=False
    )


def suppressed_section(stderr: str) -> list[str]:
    """Return the lines of stderr from the table's title on."""
    lines = stderr.splitlines()
    return lines[lines.index(TITLE) :]


def tokens(lines: list[str]) -> set[str]:
    return {token for line in lines for token in line.split()}


@pytest.mark.parametrize(
    ("columns", "as_table"), [(60, False), (80, False), (120, True), (200, True)]
)
def test_suppressed_keeps_words_whole(
    tmp_path: Path, columns: int, as_table: bool
) -> None:
    result = hunt_suppressed(tmp_path, columns)

    suppressed = json.loads(result.stdout)["run"]["suppressed"]
    section = suppressed_section(result.stderr)
    found = tokens(section)
    header = [line.split() for line in section if line.split()[:1] == ["Finding"]]
    assert result.exit_code == 0, result.stderr
    assert len(suppressed) == 2
    assert max(cell_len(line) for line in section) <= columns
    assert (header == [list(COLUMNS)]) is as_table
    for item in suppressed:
        assert item["finding_id"] in found
        assert item["finding_type"] in found
    for upn in SUPPRESSED_UPNS:
        assert upn in found
    for word in [*f"target group {GROUP}".split(), *REASON.split()]:
        assert word in found


@pytest.mark.parametrize("columns", [60, 80])
def test_suppressed_blocks_on_narrow_terminal(tmp_path: Path, columns: int) -> None:
    result = hunt_suppressed(tmp_path, columns)

    suppressed = json.loads(result.stdout)["run"]["suppressed"]
    section = suppressed_section(result.stderr)
    first = section.index(suppressed[0]["finding_id"])
    assert section[first + 1] == f"  Type: {suppressed[0]['finding_type']}"
    assert section[first + 2] == "  Severity: high"
    assert section[first + 3] == f"  User: {SUPPRESSED_UPNS[0]}"
    assert section[first + 4] == f"  Entry: target group {GROUP}"
    reason = " ".join(section[first + 5 :]).split("  Reason: ", 1)[1]
    assert " ".join(reason.split()).startswith(REASON)
