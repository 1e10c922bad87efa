"""Tests for the table output and run summary at 60 to 200 columns.

Each run goes through the real CLI with ``COLUMNS`` set. CliRunner's streams are no
terminal, so these runs also show what a pipe or a file receives.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len

from h056hunt.cli import main
from h056hunt.render.input_files import COLUMNS, fold_path
from h056hunt.render.text import plain

WIDTHS = [60, 80, 100, 200]
HEADER_WORDS = {word for name in COLUMNS for word in name.split()}
# A gap of three or more spaces separates the columns of a summary table.
COLUMN_GAP = re.compile(r" {3,}")


def hunt(audit: str | Path, signin: str | Path, columns: int, *extra: str) -> Result:
    return CliRunner().invoke(
        main,
        ["hunt", "--audit", str(audit), "--signin", str(signin), *extra],
        env={"COLUMNS": str(columns)},
        catch_exceptions=False,
    )


@pytest.fixture(autouse=True)
def in_sample_parent(sample_logs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the folder above the sample logs, as the README's first command."""
    monkeypatch.chdir(sample_logs_dir.parent)


def sample_run(sample_logs_dir: Path, columns: int, *extra: str) -> Result:
    audit = Path(sample_logs_dir.name, "audit.json")
    signin = Path(sample_logs_dir.name, "signin.json")
    return hunt(audit, signin, columns, "--fail-on", "none", *extra)


def input_files_section(stderr: str) -> list[str]:
    """Return the lines of the "Input files" section, up to the "Records:" line."""
    lines = stderr.splitlines()
    start = lines.index("Input files")
    end = next(i for i, line in enumerate(lines) if line.startswith("Records:"))
    return lines[start + 1 : end]


def table_paths(section: list[str]) -> list[str]:
    """Rebuild the File cells of an "Input files" table, joining folded lines."""
    rule = next(i for i, line in enumerate(section) if line.strip().startswith("─"))
    paths: list[str] = []
    for line in section[rule + 1 :]:
        if not line.strip():
            break
        fields = COLUMN_GAP.split(line.strip())
        if len(fields) > 1:
            paths.append(fields[0])
        else:
            paths[-1] += fields[0]
    return paths


def run_record(sample_logs_dir: Path) -> dict[str, Any]:
    result = sample_run(sample_logs_dir, 200, "--format", "json")
    record: dict[str, Any] = json.loads(result.stdout)["run"]
    return record


@pytest.mark.parametrize("columns", WIDTHS)
def test_output_fits_width(sample_logs_dir: Path, columns: int) -> None:
    result = sample_run(sample_logs_dir, columns)

    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        lines = text.splitlines()
        assert max(cell_len(line) for line in lines) <= columns, name
        assert "…" not in text, name


@pytest.mark.parametrize("columns", WIDTHS)
def test_output_has_no_trailing_spaces(sample_logs_dir: Path, columns: int) -> None:
    result = sample_run(sample_logs_dir, columns, "--details")

    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        lines = text.splitlines()
        assert lines[0].strip(), f"{name} starts with a blank line"
        trailing = [line for line in lines if line != line.rstrip()]
        assert trailing == [], name


def test_pipe_output_has_no_trailing_spaces(sample_logs_dir: Path) -> None:
    # Without COLUMNS, a pipe gets the 200-column table.
    environment = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    command = [str(Path(sys.executable).with_name("h056")), "hunt"]
    command += ["--audit", str(sample_logs_dir / "audit.json")]
    command += ["--signin", str(sample_logs_dir / "signin.json")]
    result = subprocess.run(
        [*command, "--fail-on", "none"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )

    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        lines = text.splitlines()
        assert lines[0].strip(), f"{name} starts with a blank line"
        assert [line for line in lines if line != line.rstrip()] == [], name
        assert max(cell_len(line) for line in lines) <= 200, name
    # The 200-column table is wide enough for every column with the normal border.
    assert result.stdout.startswith("  Severity   Score   Type")
    assert "  File " in result.stderr


@pytest.mark.parametrize("columns", WIDTHS)
def test_input_files_keeps_header_words(sample_logs_dir: Path, columns: int) -> None:
    result = sample_run(sample_logs_dir, columns)

    section = input_files_section(result.stderr)
    if any("─" in line for line in section):
        rule = next(i for i, line in enumerate(section) if "─" in line)
        words = {word for line in section[:rule] for word in line.split()}
        assert "File" in words
        assert words <= HEADER_WORDS
    else:
        keys = [line.split(":")[0].strip() for line in section if ": " in line]
        assert keys
        assert set(keys) <= set(COLUMNS)


@pytest.mark.parametrize("columns", WIDTHS)
def test_input_files_keeps_paths_whole(sample_logs_dir: Path, columns: int) -> None:
    result = sample_run(sample_logs_dir, columns)

    section = input_files_section(result.stderr)
    for name in ("audit.json", "signin.json"):
        path = str(Path(sample_logs_dir.name, name))
        assert any(path in line for line in section), path


def test_input_files_drops_zero_columns(sample_logs_dir: Path) -> None:
    record = run_record(sample_logs_dir)
    # The sample logs have no duplicates, skipped records or AuthDetails rows.
    assert all(entry["duplicates"] == 0 for entry in record["files"])
    assert all(entry["skipped"] == 0 for entry in record["files"])
    assert all(entry["loaded"]["steps"] == 0 for entry in record["files"])

    wide = input_files_section(sample_run(sample_logs_dir, 200).stderr)
    narrow = input_files_section(sample_run(sample_logs_dir, 100).stderr)

    assert any("AuthDetails CSV rows" in line for line in wide)
    assert any("Dupes" in line for line in wide)
    assert not any("AuthDetails" in line for line in narrow)
    assert not any("Dupes" in line for line in narrow)
    assert not any("Skipped" in line for line in narrow)
    assert any("Pre-filtered" in line for line in narrow)


def test_input_files_folds_at_separators(
    sample_logs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = Path("exports", "tenant-a", "2026-03")
    (tmp_path / folder).mkdir(parents=True)
    for name in ("audit.json", "signin.json"):
        shutil.copy(sample_logs_dir / name, tmp_path / folder / name)
    monkeypatch.chdir(tmp_path)
    audit = str(folder / "audit.json")
    signin = str(folder / "signin.json")

    narrow = input_files_section(hunt(audit, signin, 80).stderr)
    wide = input_files_section(hunt(audit, signin, 100).stderr)

    assert table_paths(narrow) == [audit, signin]
    assert not any(audit in line for line in narrow)
    assert any(line.startswith("exports/tenant-a/ ") for line in narrow)
    assert table_paths(wide) == [audit, signin]
    assert any(audit in line for line in wide)


def test_input_files_blocks_at_60(sample_logs_dir: Path) -> None:
    record = run_record(sample_logs_dir)

    section = input_files_section(sample_run(sample_logs_dir, 60).stderr)

    assert not any("─" in line for line in section)
    for entry in record["files"]:
        start = section.index(entry["path"])
        block = section[start + 1 : start + len(COLUMNS)]
        assert block[0] == f"  Given to: {', '.join(entry['given_to'])}"
        assert block[1] == f"  Shape: {entry['shape']}"
        assert block[2] == f"  Seen: {entry['records_seen']}"
        assert block[3] == f"  Audit: {entry['loaded']['audit']}"
        assert block[4] == f"  Sign-in: {entry['loaded']['signin']}"
        assert block[5] == f"  AuthDetails CSV rows: {entry['loaded']['steps']}"
        assert block[6] == f"  Dupes: {entry['duplicates']}"
        assert block[7] == f"  Skipped: {entry['skipped']}"
        assert block[8] == f"  Pre-filtered: {entry['prefiltered']}"


@pytest.mark.parametrize("columns", WIDTHS)
def test_table_keeps_upns_whole(sample_logs_dir: Path, columns: int) -> None:
    jsonl = sample_run(sample_logs_dir, 200, "--format", "jsonl").stdout
    findings = [json.loads(line) for line in jsonl.splitlines()]

    lines = sample_run(sample_logs_dir, columns).stdout.splitlines()

    upns = [finding["target_upn"] for finding in findings if finding["target_upn"]]
    assert upns
    for upn in upns:
        assert any(upn in line for line in lines), upn


def test_table_at_80_keeps_one_line_per_finding(sample_logs_dir: Path) -> None:
    jsonl = sample_run(sample_logs_dir, 200, "--format", "jsonl").stdout
    findings = [json.loads(line) for line in jsonl.splitlines()]

    lines = sample_run(sample_logs_dir, 80).stdout.splitlines()

    assert lines[0].split() == ["Severity", "User", "Revoked", "at", "Approved"]
    body = lines[2 : lines.index("")]
    assert len(body) == len(findings)
    for line, finding in zip(body, findings, strict=True):
        assert line.split()[0] == finding["severity"]
        if finding["finding_type"] == "revocation_chain":
            assert finding["target_upn"] in line
            assert finding["revocation_time"][:10] in line


@pytest.mark.parametrize(
    ("path", "width", "expected"),
    [
        ("a/b/c.json", 80, ["a/b/c.json"]),
        (
            "exports/tenant-a/2026-03/audit.json",
            20,
            ["exports/tenant-a/", "2026-03/audit.json"],
        ),
        ("abcdefghij/k", 4, ["abcd", "efgh", "ij/k"]),
        # Escapes are never cut, and their backslash is no separator.
        ("d/\x1b[31m.json", 6, ["d/", "\\x1b[3", "1m.jso", "n"]),
        ("ab\x1b", 5, ["ab", "\\x1b"]),
        # The text "\x1b" keeps its doubled backslash when a piece is cut.
        ("d/ab\\x1b", 3, ["d/", "ab", "\\\\x", "1b"]),
    ],
)
def test_fold_path_cuts_after_separators(
    path: str, width: int, expected: list[str]
) -> None:
    lines = fold_path(path, width)

    assert lines == expected
    assert "".join(lines) == plain(path)
    assert all(cell_len(line) <= width for line in lines)


@pytest.mark.skipif(os.sep != "/", reason="a backslash separates folders on Windows")
def test_fold_path_keeps_backslash_names() -> None:
    lines = fold_path("logs/x\\y/a.json", 9)

    assert lines == ["logs/x\\y/", "a.json"]
