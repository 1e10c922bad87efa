"""Tests that every report names a campaign's users with the same label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main


def hunt(sample_logs_dir: Path, *args: str) -> Result:
    inputs = ["--audit", str(sample_logs_dir / "audit.json")]
    inputs += ["--signin", str(sample_logs_dir / "signin.json")]
    return CliRunner().invoke(
        main,
        ["hunt", *inputs, "--fail-on", "none", *args],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    )


@pytest.fixture
def campaign(sample_logs_dir: Path) -> tuple[str, str]:
    """Return the sample campaign's finding id and its expected label."""
    report = json.loads(hunt(sample_logs_dir, "--format", "json").stdout)
    found = [
        finding
        for finding in report["findings"]
        if finding["finding_type"] == "revocation_campaign"
    ]
    assert len(found) == 1
    count = len(found[0]["campaign_targets"])
    return found[0]["finding_id"], f"{count} users (campaign)"


def test_table_row_names_campaign(
    sample_logs_dir: Path, campaign: tuple[str, str]
) -> None:
    _, label = campaign

    result = hunt(sample_logs_dir)

    row = next(line for line in result.stdout.splitlines() if "campaign " in line)
    assert label in row


def test_details_heading_names_campaign(
    sample_logs_dir: Path, campaign: tuple[str, str]
) -> None:
    finding_id, label = campaign

    result = hunt(sample_logs_dir, "--details")

    heading = f"CRITICAL revocation_campaign {finding_id}: {label}"
    assert heading in result.stdout.splitlines()


def test_markdown_names_campaign(
    sample_logs_dir: Path, campaign: tuple[str, str]
) -> None:
    _, label = campaign
    escaped = label.replace("(", "\\(").replace(")", "\\)")

    result = hunt(sample_logs_dir, "--format", "markdown")

    lines = result.stdout.splitlines()
    heading = next(line for line in lines if "revocation_campaign:" in line)
    row = next(line for line in lines if "| revocation_campaign |" in line)
    assert heading.endswith(f"revocation_campaign: {escaped}")
    assert f"| {escaped} |" in row
    assert "unknown user" not in result.stdout


def test_html_names_campaign(sample_logs_dir: Path, campaign: tuple[str, str]) -> None:
    _, label = campaign

    result = hunt(sample_logs_dir, "--format", "html")

    assert f"revocation_campaign: {label}" in result.stdout
    assert f"<td>{label}</td>" in result.stdout
    assert "revocation_campaign: -" not in result.stdout
