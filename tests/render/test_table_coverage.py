"""Tests that the table counts coverage gaps, which -q hides from stderr."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from h056hunt.cli import main

NOTE = "COVERAGE: the input data has 1 coverage gap, where"


def hunt(*args: str) -> Result:
    return CliRunner().invoke(
        main, ["hunt", "--fail-on", "none", *args], env={"COLUMNS": "400"}
    )


def test_quiet_table_counts_gap(sample_logs_dir: Path) -> None:
    result = hunt("--audit", str(sample_logs_dir / "audit.json"), "-q")

    assert result.exit_code == 0
    assert result.stdout.startswith(NOTE)
    assert "coverage:" not in result.stderr


def test_complete_inputs_have_no_note(sample_logs_dir: Path) -> None:
    audit = str(sample_logs_dir / "audit.json")
    signin = str(sample_logs_dir / "signin.json")

    result = hunt("--audit", audit, "--signin", signin, "-q")

    assert result.exit_code == 0
    assert "COVERAGE:" not in result.stdout
