"""The path at the start of an input error is escaped as a log value is.

A path is the user's or a folder's text, so a real escape character in it and
the same escape written out as text must print differently, and neither may
reach the terminal raw.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import Result

from cli_runs import run_cli


def error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if "h056: ERROR:" in line]
    assert lines, result.stderr
    return lines[0]


def test_escape_and_its_text_differ(tmp_path: Path) -> None:
    real = tmp_path / "real\x1b[31m.json"
    written = tmp_path / "written\\x1b[31m.json"
    for path in (real, written):
        os.symlink(tmp_path / "missing", path)

    real_line = error_line(run_cli(["hunt", "--signin", str(real)]))
    written_line = error_line(run_cli(["hunt", "--signin", str(written)]))

    assert "\x1b" not in real_line
    assert "real\\x1b[31m.json: cannot read this input" in real_line
    # The backslash of the written-out escape is doubled, so it reads as text.
    assert "written\\\\x1b[31m.json: cannot read this input" in written_line


def test_long_path_shown_whole(tmp_path: Path) -> None:
    folder = tmp_path / ("d" * 240)
    folder.mkdir()
    path = folder / ("f" * 200 + ".json")
    path.write_text("{broken\n", "utf-8")

    result = run_cli(["hunt", "--signin", str(path)])

    assert result.exit_code == 2, result.stderr
    # The user needs the whole path to find the file.
    assert f"{path}, line 1" in error_line(result)
    assert "characters]" not in error_line(result)


def test_missing_pattern_escaped_as_value(tmp_path: Path) -> None:
    written = str(tmp_path / "no\\x1bfile\x1b.json")

    result = run_cli(["hunt", "--signin", written])

    assert result.exit_code == 2, result.stderr
    line = error_line(result)
    assert "\x1b" not in line
    assert "no\\\\x1bfile\\x1b.json: no such file, folder" in line


def test_dash_input_says_stdin_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = run_cli(["hunt", "--audit", "-", "--signin", "-"])

    assert result.exit_code == 2, result.stderr
    assert "does not read an export from standard input" in error_line(result)
    assert "hint: save the export to a file and give its path" in result.stderr


def test_file_named_dash_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text("just notes\n", "utf-8")

    result = run_cli(["inspect", "-"])

    # A file named "-" is a path like any other.
    assert "standard input" not in result.stderr
    assert "not a log export" in result.stdout + result.stderr
