"""Tests for the run summary on stderr and the inspect output: wrapped lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len

from h056hunt.cli import main

USER_ID = "00000000-0000-4000-8000-000000000b0b"


def write_page(path: Path, records: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return str(path)


def revocation() -> dict[str, Any]:
    return {
        "id": "Directory_0001",
        "category": "UserManagement",
        "result": "success",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2024-05-14T09:00:05.1234567Z",
        "initiatedBy": {
            "user": {
                "id": "00000000-0000-4000-8000-00000000ad01",
                "userPrincipalName": "secadmin@contoso.example",
            }
        },
        "targetResources": [
            {"id": USER_ID, "type": "User", "userPrincipalName": "bob@contoso.example"}
        ],
    }


def denial(number: int, minute: int) -> dict[str, Any]:
    return {
        "id": f"5a000000-0000-4000-8000-00000000000{number}",
        "createdDateTime": f"2024-05-14T09:{minute:02d}:10Z",
        "userPrincipalName": "bob@contoso.example",
        "userId": USER_ID,
        "status": {
            "errorCode": 500121,
            "additionalDetails": "MFA denied; user declined the authentication",
        },
    }


@pytest.fixture
def gap_inputs(tmp_path: Path) -> list[str]:
    """A revocation whose follow-up window reaches past the end of the sign-ins."""
    audit = write_page(tmp_path / "audit.json", [revocation()])
    signin = write_page(tmp_path / "signin.json", [denial(1, 3), denial(2, 6)])
    return ["--audit", audit, "--signin", signin, "--max-lag", "2h"]


def invoke(args: list[str], columns: int) -> Result:
    return CliRunner().invoke(
        main, args, env={"COLUMNS": str(columns)}, catch_exceptions=False
    )


def warning_lines(output: str, first: str) -> list[str]:
    """Return the line starting with ``first`` and its continuation lines."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    block = [lines[start]]
    indent = len(first) - len(first.lstrip()) + 2
    for line in lines[start + 1 :]:
        if not line.startswith(" " * indent) or line[indent] == " ":
            break
        block.append(line)
    return block


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_summary_coverage_hanging_indent(gap_inputs: list[str], columns: int) -> None:
    report = invoke(["hunt", *gap_inputs, "--format", "json"], columns)
    warning = json.loads(report.stdout)["run"]["coverage_warnings"][0]

    result = invoke(["hunt", *gap_inputs, "--fail-on", "none"], columns)

    block = warning_lines(result.stderr, "  coverage: ")
    assert len(block) > 1
    assert all(cell_len(line) <= columns for line in block)
    assert all(line.startswith("    ") for line in block[1:])
    assert " ".join(line.strip() for line in block) == f"coverage: {warning}"


def test_inspect_coverage_hanging_indent(gap_inputs: list[str]) -> None:
    paths = [gap_inputs[1], gap_inputs[3]]
    report = invoke(["hunt", *gap_inputs, "--format", "json"], 80)
    warning = json.loads(report.stdout)["run"]["coverage_warnings"][0]

    result = invoke(["inspect", *paths, "--max-lag", "2h"], 80)

    block = warning_lines(result.stdout, "coverage: ")
    assert all(line.startswith("  ") for line in block[1:])
    assert " ".join(line.strip() for line in block) == f"coverage: {warning}"
