"""A damaged convert manifest ends the run with an input error, never exit 70.

Each case converts a small export with the real CLI, edits one field of the
manifest, and hunts the folder. The error must name the manifest and the field.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.loaders.parquet import _REPORT_FIELDS, MANIFEST_NAME
from h056hunt.loaders.sink import FileReport

USER_ID = "11111111-1111-4111-8111-111111111111"
Edit = Callable[[dict[str, Any]], None]


def _signin(index: int) -> dict[str, Any]:
    return {
        "id": f"S{index}",
        "createdDateTime": f"2026-03-02T10:0{index}:00Z",
        "userId": USER_ID,
        "userPrincipalName": "victim@contoso.example",
        "status": {"errorCode": 500121},
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("manifest")
    signin = folder / "signin.json"
    signin.write_text(json.dumps({"value": [_signin(1), _signin(2)]}))
    out = folder / "lake"
    result = CliRunner().invoke(
        main, ["convert", "--signin", str(signin), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def _edited_copy(converted: Path, tmp_path: Path, edit: Edit) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(converted, copy)
    manifest = copy / MANIFEST_NAME
    document = json.loads(manifest.read_text())
    edit(document)
    manifest.write_text(json.dumps(document))
    return copy


def _hunt(folder: Path) -> Result:
    return CliRunner().invoke(
        main, ["hunt", "--signin", str(folder), "--format", "json", "--fail-on", "none"]
    )


def _signin_table(document: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = document["tables"]["signin"]
    return table


def _first_file(document: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = document["files"][0]
    return record


CASES: dict[str, tuple[Edit, str]] = {
    "partitions missing": (
        lambda d: _signin_table(d).pop("partitions"),
        "tables.signin.partitions",
    ),
    "rows as text": (
        lambda d: _signin_table(d).update(rows="many"),
        "tables.signin.rows",
    ),
    "tables as a list": (lambda d: d.update(tables=[]), "tables"),
    "file entry as text": (lambda d: d.update(files=["x"]), "files[0]"),
    "file entry without path": (lambda d: d.update(files=[{"bogus": 1}]), "files[0]"),
    "array of unknown dtype": (
        lambda d: _first_file(d)["time_ranges"]["signin"].update(dtype="no-such-type"),
        "files[0].time_ranges.signin.dtype",
    ),
    "bad timestamp": (
        lambda d: _first_file(d)["time_min"]["signin"].update(
            {"$timestamp": "not a time"}
        ),
        "files[0].time_min.signin.$timestamp",
    ),
    "records seen negative": (
        lambda d: _first_file(d).update(records_seen=-1),
        "files[0].records_seen",
    ),
    "unreadable entry short": (
        lambda d: d.update(unreadable=[["a"]]),
        "unreadable[0]",
    ),
    "conflict without log": (
        lambda d: d.update(conflicts=[{"record_id": "x"}]),
        "conflicts[0].log",
    ),
    "absolute partition": (
        lambda d: _signin_table(d).update(partitions=["/etc/passwd"]),
        "tables.signin.partitions[0]",
    ),
    "partition above folder": (
        lambda d: _signin_table(d).update(partitions=["../../etc/passwd"]),
        "tables.signin.partitions[0]",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_manifest_is_input_error(
    converted: Path, tmp_path: Path, case: str
) -> None:
    edit, field = CASES[case]
    folder = _edited_copy(converted, tmp_path, edit)

    result = _hunt(folder)

    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr
    assert MANIFEST_NAME in result.stderr
    assert f"invalid manifest field {field}:" in result.stderr


def test_partition_symlink_out_of_folder(converted: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.parquet"
    first = json.loads((converted / MANIFEST_NAME).read_text())
    partition = _signin_table(first)["partitions"][0]
    shutil.copy(converted / partition, outside)
    folder = _edited_copy(
        converted, tmp_path, lambda d: _signin_table(d).update(partitions=["link"])
    )
    (folder / "link").symlink_to(outside)

    result = _hunt(folder)

    assert result.exit_code == 2, result.output
    assert "outside the convert folder" in result.stderr


def test_intact_manifest_still_reads(converted: Path, tmp_path: Path) -> None:
    folder = _edited_copy(converted, tmp_path, lambda d: None)

    result = _hunt(folder)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run"]["records"]["loaded"] == 2


def test_report_fields_all_decoded() -> None:
    # A FileReport field without a decoder would be dropped when a folder is read.
    assert set(_REPORT_FIELDS) == {item.name for item in fields(FileReport)}


def test_long_manifest_value_cut(converted: Path, tmp_path: Path) -> None:
    # A hand-edited manifest can hold a value of any length, and the error that
    # quotes it cuts it as a log value is cut.
    long_time = "9" * 5_000
    folder = _edited_copy(
        converted,
        tmp_path,
        lambda d: _first_file(d)["time_min"]["signin"].update(
            {"$timestamp": long_time}
        ),
    )

    result = _hunt(folder)

    assert result.exit_code == 2, result.output
    assert long_time not in result.stderr
    assert len(result.stderr) < 1_000
    assert "invalid timestamp '99999" in result.stderr
    assert "'…[+4,800 characters]" in result.stderr


def test_long_manifest_key_cut(converted: Path, tmp_path: Path) -> None:
    long_key = "k" * 5_000

    def add_key(document: dict[str, Any]) -> None:
        _first_file(document)["time_min"][long_key] = {"$timestamp": "not a time"}

    result = _hunt(_edited_copy(converted, tmp_path, add_key))

    assert result.exit_code == 2, result.output
    assert long_key not in result.stderr
    assert len(result.stderr) < 1_000
    # The field path is shown bare, cut where the key runs past 200 characters.
    assert "invalid manifest field files[0].time_min.kkkk" in result.stderr
    assert "…[+4,829 characters]: invalid timestamp 'not a time'" in result.stderr
