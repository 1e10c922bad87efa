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
        f"Times in this table, its Summary column included, and in the --details "
        f"timelines are shown in {ZONE}. The finding summaries under --details, "
        "score-factor facts and coverage warnings are in UTC."
    )
    # The note may wrap, so its words are compared with the spacing collapsed.
    assert note in " ".join(result.stdout.split())


def test_table_without_tz_has_no_note(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir)

    assert "Times in this table" not in result.stdout


def test_markdown_lists_every_threshold(sample_logs_dir: Path) -> None:
    result = hunt(sample_logs_dir, "--format", "markdown")

    method = result.stdout.split("## Method and thresholds")[1].split("\n## ")[0]
    for label in (
        "* Maximum lag from revocation to first denial: 2h (7200 s)",
        "* Burst window: 30m (1800 s)",
        "* Minimum denied prompts: 5",
        "* Chain only: no",
        "* Campaign: minimum targets: 3",
        "* Campaign window: 1h (3600 s)",
        "* Revoker lookback: 24h (86400 s)",
        "* Persistence window after approval: 1h (3600 s)",
    ):
        assert label in method.splitlines()
    assert "* Revocation activities: `Revoke user sessions`" in method.replace(
        "`Update StsRefreshTokenValidFrom Timestamp`, `Invalidate all refresh tokens "
        "for user`, `Invalidate all refresh tokens for a user`, ",
        "",
    )


def test_narrow_table_note_names_shown_columns(sample_logs_dir: Path) -> None:
    inputs = ["--audit", str(sample_logs_dir / "audit.json")]
    inputs += ["--signin", str(sample_logs_dir / "signin.json")]
    notes = {}
    for columns in ("80", "60"):
        result = CliRunner().invoke(
            main,
            ["hunt", *inputs, "--fail-on", "none", "--tz", ZONE],
            env={"COLUMNS": columns},
            catch_exceptions=False,
        )
        notes[columns] = " ".join(result.stdout.split())

    # At 80 columns the table has Revoked at but no Summary column.
    assert (
        "Left out at this width: Score, Type, Revoked by, Prompts, Summary"
        in (notes["80"])
    )
    assert (
        f"Times in this table and in the --details timelines are shown in {ZONE}."
        in (notes["80"])
    )
    assert "Summary column included" not in notes["80"]
    # At 60 columns it has no time column at all.
    assert "Revoked at" in notes["60"].split("Left out at this width:")[1]
    assert f"Times in the --details timelines are shown in {ZONE}." in notes["60"]
    assert "Times in this table" not in notes["60"]
