"""Check the README's "What it prints" excerpt against a hunt of the sample logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from h056hunt.cli import main

REPOSITORY = Path(__file__).resolve().parents[1]
COMMAND = "$ h056 hunt --audit sample_logs/audit.json --signin sample_logs/signin.json"
# The excerpt leaves findings out where it has this line.
ELISION = "  ..."

# A config file of the user's would change the findings.
pytestmark = pytest.mark.usefixtures("without_config_files")


def readme_excerpt() -> list[str]:
    """Return the lines of the README's text block after the sample command."""
    lines = (REPOSITORY / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(COMMAND) + 1
    end = lines.index("```", start)
    return lines[start:end]


def test_readme_sample_matches_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPOSITORY)
    monkeypatch.delenv("COLUMNS", raising=False)
    arguments = COMMAND.removeprefix("$ h056 ").split()

    result = CliRunner().invoke(main, arguments, catch_exceptions=False)

    produced = result.stdout.splitlines() + result.stderr.splitlines()
    excerpt = readme_excerpt()
    assert result.exit_code == 1
    assert ELISION in excerpt
    for line in excerpt:
        if line != ELISION:
            assert line in produced, f"README line not in the output: {line!r}"
