"""The path at the start of an error is escaped as a log value is.

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


# A folder name that contains the text of an escape and of a cut mark. Shown
# unescaped, it reads as a folder named with an escape character and a cut.
WRITTEN_ESCAPE = "w\\x1b\\u2026[+3 characters]"
SHOWN_ESCAPE = "w\\\\x1b\\\\u2026[+3 characters]"


def test_empty_folder_error_escapes_path(tmp_path: Path) -> None:
    folder = tmp_path / WRITTEN_ESCAPE
    folder.mkdir()

    line = error_line(run_cli(["hunt", "--signin", str(folder)]))

    assert f"{SHOWN_ESCAPE}: no file to read in this folder" in line


def test_output_folder_errors_escape_path(tmp_path: Path) -> None:
    folder = tmp_path / WRITTEN_ESCAPE
    folder.mkdir()
    (folder / "old.txt").write_text("earlier output\n", "utf-8")
    audit = str(Path(__file__).resolve().parents[2] / "sample_logs" / "audit.json")

    not_empty = error_line(run_cli(["convert", "--audit", audit, "--out", str(folder)]))
    under_file = error_line(
        run_cli(["convert", "--audit", audit, "--out", str(folder / "old.txt" / "x")])
    )

    assert f"{SHOWN_ESCAPE}: the output folder exists and is not empty" in not_empty
    assert f"{SHOWN_ESCAPE}/old.txt is a file, so the output folder" in under_file


def test_config_errors_escape_path(tmp_path: Path) -> None:
    folder = tmp_path / WRITTEN_ESCAPE
    folder.mkdir()
    broken = folder / "broken.toml"
    broken.write_text("min_denials = [\n", "utf-8")
    unknown = folder / "unknown.toml"
    unknown.write_text("[thresholds]\nbogus = 1\n", "utf-8")
    hours = folder / "hours.toml"
    hours.write_text("[working_hours]\nstart = 3\nend = 3\n", "utf-8")

    def config_error(config: Path) -> str:
        return error_line(run_cli(["hunt", "--config", str(config), "--signin", "x"]))

    assert f"{SHOWN_ESCAPE}/broken.toml: invalid TOML" in config_error(broken)
    assert f"{SHOWN_ESCAPE}/unknown.toml: thresholds.bogus" in config_error(unknown)
    assert f"{SHOWN_ESCAPE}/hours.toml: working_hours: start" in config_error(hours)
