"""A folder given as input that contains no file stops the run with exit code 2.

An empty file already does; an empty folder used to report "No findings." over no
data at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from h056hunt.cli import main


@pytest.mark.parametrize("option", ["--signin", "--audit"])
def test_empty_folder_exits_two(tmp_path: Path, option: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()

    result = CliRunner().invoke(main, ["hunt", option, str(folder)])

    assert result.exit_code == 2, result.output
    assert str(folder) in result.stderr
    assert "no file to read" in result.stderr
    assert "No findings" not in result.stdout


def test_folder_of_hidden_files_and_empty_folders(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "day1" / "hour0").mkdir(parents=True)
    (folder / ".signin.json").write_text("{}")

    result = CliRunner().invoke(main, ["hunt", "--signin", str(folder)])

    assert result.exit_code == 2, result.output
    assert "names start with '.'" in result.stderr


def test_empty_folders_named_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder whose name contains ", " must not read as two folders.
    monkeypatch.chdir(tmp_path)
    Path("a, b").mkdir()
    Path("c").mkdir()

    result = CliRunner().invoke(main, ["hunt", "--signin", "a, b", "--signin", "c"])

    assert result.exit_code == 2, result.output
    assert "'a, b', 'c': no file to read in these folders" in result.stderr


def test_inspect_empty_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", str(tmp_path)])

    assert result.exit_code == 2, result.output
    assert str(tmp_path) in result.stderr


@pytest.mark.parametrize(
    "arguments",
    [["inspect", "{folder}"], ["convert", "--audit", "{folder}", "--out", "{out}"]],
)
def test_empty_folder_error_names_no_hunt(tmp_path: Path, arguments: list[str]) -> None:
    # The error is shared by hunt, inspect and convert, so it speaks of reading.
    folder = tmp_path / "exports"
    folder.mkdir()
    filled = [
        argument.format(folder=folder, out=tmp_path / "lake") for argument in arguments
    ]

    result = CliRunner().invoke(main, filled)

    assert result.exit_code == 2, result.output
    assert "no file to read in this folder" in result.stderr
    assert "hunt" not in result.stderr


def write_one_denial(path: Path) -> Path:
    """Write a Graph page that contains one denied sign-in."""
    record = {
        "id": "S1",
        "createdDateTime": "2026-03-02T10:05:00Z",
        "userId": "11111111-1111-4111-8111-111111111111",
        "status": {"errorCode": 500121},
    }
    path.write_text(json.dumps({"value": [record]}))
    return path


def test_empty_folder_beside_file_still_hunts(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    signin = write_one_denial(tmp_path / "signin.json")

    result = CliRunner().invoke(
        main, ["hunt", "--signin", str(empty), "--signin", str(signin)]
    )

    assert result.exit_code == 0, result.output


def test_empty_folder_beside_file_warns(tmp_path: Path) -> None:
    empty = tmp_path / "day2"
    empty.mkdir()
    signin = write_one_denial(tmp_path / "signin.json")

    result = CliRunner().invoke(
        main, ["hunt", "--signin", str(signin), "--signin", str(empty)]
    )

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith(f"h056: WARNING: {empty}: no file to read")
