"""Tests that reports state which times ``--tz`` converts and which stay UTC."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from h056hunt.cli import main

ZONE = "America/New_York"
UTC_PARTS = "finding summaries, score-factor facts and coverage warnings are in UTC"


def hunt(sample_logs_dir: Path, *args: str) -> Result:
    inputs = ["--audit", str(sample_logs_dir / "audit.json")]
    inputs += ["--signin", str(sample_logs_dir / "signin.json")]
    return CliRunner().invoke(
        main,
        ["hunt", *inputs, "--fail-on", "none", *args],
        env={"COLUMNS": "400"},
        catch_exceptions=False,
    )


def test_markdown_names_converted_times(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir, "--format", "markdown", "--tz", ZONE)

    note = (
        "* Times in tables, timelines and time spans are shown in America/New\\_York;"
    )
    assert note in result.stdout
    assert UTC_PARTS in result.stdout
    assert "Times are shown in America" not in result.stdout


def test_markdown_utc_note_without_tz(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir, "--format", "markdown")

    assert "* Times are shown in UTC." in result.stdout.splitlines()


def test_html_names_converted_times(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir, "--format", "html", "--tz", ZONE)

    note = f"Times in tables, timelines and time spans are shown in {ZONE};"
    assert note in result.stdout
    assert UTC_PARTS in result.stdout


def test_table_names_converted_times(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir, "--tz", ZONE)

    note = (
        f"Times in this table and in the --details timelines are shown in {ZONE}; "
        "finding summaries and score-factor facts are in UTC."
    )
    assert note in result.stdout.splitlines()


def test_table_without_tz_has_no_note(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir)

    assert "Times in this table" not in result.stdout
