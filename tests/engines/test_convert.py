"""Tests for ``h056 convert`` and for reading its Parquet folders back locally."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli_runs import SAMPLES
from h056hunt import convert as convert_module
from h056hunt.cli import main
from h056hunt.convert import convert_logs
from h056hunt.errors import InputError, UsageError
from h056hunt.load import LoadOptions, load_logs
from h056hunt.loaders.parquet import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    find_manifest,
    parse_manifest,
    report_from_record,
    report_record,
)
from h056hunt.loaders.sink import FileReport
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

HUNT_ARGS = ["--format", "jsonl", "--fail-on", "none"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    result = simulate(SimulationConfig(users=30, days=2, seed=7), folder)
    return Path(result.audit_path), Path(result.signin_path)


@pytest.fixture(scope="module")
def converted(
    corpus: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    audit, signin = corpus
    out = tmp_path_factory.mktemp("lake") / "h056"
    convert_logs([str(audit)], [str(signin)], out)
    return out


def _hunt(*args: str) -> str:
    result = CliRunner().invoke(main, ["hunt", *args, *HUNT_ARGS])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_convert_partitions_by_date(converted: Path) -> None:
    manifest = json.loads((converted / MANIFEST_NAME).read_text())
    signin_parts = manifest["tables"]["signin"]["partitions"]
    assert manifest["format"] == MANIFEST_FORMAT
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert signin_parts == sorted(signin_parts)
    assert signin_parts[0].startswith("signin/date=2026-03-02/")
    for log in ("audit", "signin", "steps"):
        table = manifest["tables"][log]
        rows = sum(
            pq.read_metadata(converted / p).num_rows for p in table["partitions"]
        )
        assert rows == table["rows"]


def test_convert_then_hunt_identical(
    corpus: tuple[Path, Path], converted: Path
) -> None:
    audit, signin = corpus
    raw = _hunt("--audit", str(audit), "--signin", str(signin))
    assert raw
    assert _hunt("--audit", str(converted)) == raw
    assert _hunt("--signin", str(converted / MANIFEST_NAME)) == raw


def test_converted_accounting_holds(corpus: tuple[Path, Path], converted: Path) -> None:
    audit, signin = corpus
    raw = load_logs([str(audit)], [str(signin)], LoadOptions(fast_path=False))
    data = load_logs([str(converted)], [str(converted)])
    # Only the fields that name the folder and the options it was given to differ.
    display_fields = {"converted_in", "given_to"}
    assert [
        {k: v for k, v in report_record(r).items() if k not in display_fields}
        for r in data.files
    ] == [
        {k: v for k, v in report_record(r).items() if k not in display_fields}
        for r in raw.files
    ]
    assert [r.converted_in for r in data.files] == [str(converted)] * 2
    assert [r.given_to for r in data.files] == [("audit", "signin")] * 2
    for report in data.files:
        skipped = sum(report.skipped.values())
        total = report.loaded_total - report.loaded["steps"]
        assert report.records_seen == total + report.duplicates + skipped
    pd.testing.assert_frame_equal(data.signin, raw.signin)
    pd.testing.assert_frame_equal(data.audit, raw.audit)
    pd.testing.assert_frame_equal(data.steps, raw.steps)


def test_converted_and_raw_deduplicate(
    corpus: tuple[Path, Path], converted: Path
) -> None:
    _, signin = corpus
    data = load_logs([str(converted)], [str(signin)])
    copies = {r.path: r for r in data.files if r.path == str(signin)}
    assert len(data.signin) == len(load_logs([str(converted)], []).signin)
    assert sum(report.duplicates for report in copies.values()) > 0


def test_convert_rejects_nonempty_folder(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    audit, _ = corpus
    (tmp_path / "keep.txt").write_text("earlier output")
    with pytest.raises(UsageError, match="not empty"):
        convert_logs([str(audit)], [], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_convert_cli_writes_folder(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    audit, signin = corpus
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["convert", "--audit", str(audit), "--signin", str(signin), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "rows" in result.stderr
    assert (out / MANIFEST_NAME).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("error_number", "hint"),
    [
        (errno.ENOSPC, "free space on that disk, or name a folder on a larger disk"),
        (errno.EROFS, "name a folder on a writable disk"),
    ],
)
def test_convert_write_failure_exits_2(
    corpus: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error_number: int,
    hint: str,
) -> None:
    audit, signin = corpus
    out = tmp_path / "out"

    def fail_write(*arguments: object, **keywords: object) -> None:
        raise OSError(error_number, os.strerror(error_number))

    monkeypatch.setattr(convert_module.pq, "write_table", fail_write)

    result = CliRunner().invoke(
        main,
        ["convert", "--audit", str(audit), "--signin", str(signin), "--out", str(out)],
    )

    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr
    assert f"{out}: writing the Parquet tables failed" in result.stderr
    assert hint in result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_convert_write_failure_removes_parents(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, signin = corpus
    out = tmp_path / "new" / "deeper" / "lake"

    def fail_write(*arguments: object, **keywords: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(convert_module.pq, "write_table", fail_write)

    result = CliRunner().invoke(
        main,
        ["convert", "--audit", str(audit), "--signin", str(signin), "--out", str(out)],
    )

    assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []


def test_convert_write_failure_keeps_given_folder(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, signin = corpus
    out = tmp_path / "lake"
    out.mkdir()

    def fail_write(*arguments: object, **keywords: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(convert_module.pq, "write_table", fail_write)

    result = CliRunner().invoke(
        main,
        ["convert", "--audit", str(audit), "--signin", str(signin), "--out", str(out)],
    )

    assert result.exit_code == 2, result.output
    assert out.is_dir()
    assert list(tmp_path.iterdir()) == [out]


def test_convert_out_inside_input_warns(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    audit, signin = corpus
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(audit, folder)
    shutil.copy(signin, folder)
    inside = folder / "lake"
    outside = tmp_path / "lake"
    inputs = ["convert", "--audit", str(folder), "--signin", str(folder)]
    runner = CliRunner()

    warned = runner.invoke(main, [*inputs, "--out", str(inside)])
    quiet = runner.invoke(main, [*inputs, "--out", str(outside)])
    message = " ".join(warned.stderr.split())

    assert warned.exit_code == 0, warned.output
    assert quiet.exit_code == 0, quiet.output
    assert f"--out {str(inside)!r} is inside the input folder {str(folder)!r}" in (
        message
    )
    assert "a later hunt of that folder skips the convert folder" in message
    assert "is inside the input folder" not in quiet.stderr


@pytest.mark.parametrize(("pattern", "read_later"), [("*", True), ("*.*", False)])
def test_convert_out_reached_by_glob_warns(
    corpus: tuple[Path, Path], tmp_path: Path, pattern: str, read_later: bool
) -> None:
    audit, signin = corpus
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(audit, folder)
    shutil.copy(signin, folder)
    glob_input = str(folder / pattern)
    out = folder / "lake"
    arguments = ["convert", "--audit", glob_input, "--signin", glob_input]

    result = CliRunner().invoke(main, [*arguments, "--out", str(out)])
    message = " ".join(result.stderr.split())

    assert result.exit_code == 0, result.output
    warning = f"--out {str(out)!r} would be read by the glob pattern {glob_input!r}"
    assert (warning in message) is read_later, message
    if read_later:
        assert "a later hunt with that pattern skips the convert folder" in message


def test_convert_quiet_prints_nothing(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    audit, signin = corpus
    inputs = ["convert", "--audit", str(audit), "--signin", str(signin)]
    runner = CliRunner()

    default_run = runner.invoke(main, [*inputs, "--out", str(tmp_path / "default_run")])
    quiet = runner.invoke(main, [*inputs, "--out", str(tmp_path / "quiet"), "-q"])
    help_text = " ".join(runner.invoke(main, ["convert", "--help"]).output.split())

    assert default_run.exit_code == 0, default_run.output
    assert default_run.stderr.startswith(f"wrote {tmp_path / 'default_run'}: ")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert quiet.stdout == ""
    assert "-q, --quiet Only errors: no warnings and no line naming the rows" in (
        help_text
    )
    assert "findings" not in help_text


def test_convert_line_uses_summary_words(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    audit, signin = corpus
    out = tmp_path / "words"
    audit_rows = len(audit.read_text(encoding="utf-8").splitlines())
    signin_rows = len(signin.read_text(encoding="utf-8").splitlines())

    result = CliRunner().invoke(
        main,
        ["convert", "--audit", str(audit), "--signin", str(signin), "--out", str(out)],
    )

    assert result.exit_code == 0, result.output
    line = result.stderr.strip()
    assert f"{audit_rows} audit rows, " in line
    assert f"{signin_rows} sign-in rows, " in line
    assert " authentication step rows" in line
    assert "signin" not in line.replace(str(out), "")
    assert "rows rows" not in line


def test_convert_verbose_names_rows_once(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    audit, signin = corpus
    out = tmp_path / "verbose"

    result = CliRunner().invoke(
        main,
        ["convert", "--audit", str(audit), "--signin", str(signin)]
        + ["--out", str(out), "-v"],
    )

    assert result.exit_code == 0, result.output
    assert result.stderr.count(f"wrote {out}") == 1
    assert "records seen in" in result.stderr


def test_foreign_manifest_is_export_folder(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"format": "someone-else"}))
    assert find_manifest(str(tmp_path)) is None
    data = load_logs([str(tmp_path)], [])
    assert data.skipped()
    assert data.audit.empty


def test_manifest_version_mismatch_rejected() -> None:
    text = json.dumps({"format": MANIFEST_FORMAT, "schema_version": 99})
    with pytest.raises(InputError) as caught:
        parse_manifest(text, "lake")
    assert caught.value.reason == "unsupported_schema_version"
    assert "lake/_h056_manifest.json" in str(caught.value)


def test_manifest_column_mismatch_rejected(converted: Path) -> None:
    document = json.loads((converted / MANIFEST_NAME).read_text())
    document["tables"]["signin"]["columns"].pop()
    with pytest.raises(InputError) as caught:
        parse_manifest(json.dumps(document), str(converted))
    assert caught.value.reason == "schema_mismatch"


def test_missing_partition_is_input_error(converted: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / MANIFEST_NAME).write_text((converted / MANIFEST_NAME).read_text())
    with pytest.raises(InputError) as caught:
        load_logs([str(copy)], [])
    assert caught.value.reason == "unreadable"


def test_report_record_covers_every_field() -> None:
    report = FileReport(path="a.json", requested_log="signin")
    assert set(report_record(report)) == {item.name for item in fields(FileReport)}


def test_report_round_trip() -> None:
    report = FileReport(path="a.json", requested_log="signin")
    report.shapes = Counter({"graph": 3})
    report.records_seen = 5
    report.loaded = Counter({"signin": 3, "steps": 1})
    report.duplicates = 1
    report.skipped = Counter({"invalid timestamp": 1})
    report.partial = True
    report.error = "line 9: cut off"
    report.time_min = {"signin": pd.Timestamp("2026-03-02T10:00:00.1234567Z")}
    report.time_max = {"signin": pd.Timestamp("2026-03-02T11:00:00.0000001Z")}
    report.present_columns = {"signin": {"user_id", "event_time"}}
    if "time_ranges" in {item.name for item in fields(FileReport)}:
        report.time_ranges = {"signin": np.array([[1, 2]], dtype=np.int64)}
    rebuilt = report_from_record(json.loads(json.dumps(report_record(report))))
    for item in fields(FileReport):
        expected = getattr(report, item.name)
        actual = getattr(rebuilt, item.name)
        assert type(actual) is type(expected), item.name
        if item.name == "time_ranges":
            assert all(np.array_equal(actual[k], expected[k]) for k in expected)
        else:
            assert actual == expected, item.name


LATER_SIGNIN = {
    "id": "later-signin-1",
    "createdDateTime": "2026-03-05T10:00:00Z",
    "userId": "later-user-1",
    "userPrincipalName": "later.user@contoso.example",
    "status": {"errorCode": 0},
}


@pytest.fixture
def folder_with_stray_files(converted: Path, tmp_path: Path) -> Path:
    """Copy the convert folder and put files inside it that convert did not
    write: a later sign-in export, as a user who saves new exports into their
    lake folder does, a file that is no export, and a hidden file."""
    copy = tmp_path / "lake"
    shutil.copytree(converted, copy)
    (copy / "later").mkdir()
    (copy / "later" / "signins.ndjson").write_text(
        json.dumps(LATER_SIGNIN) + "\n", "utf-8"
    )
    (copy / "Thumbs.db").write_text("not an export\n", "utf-8")
    (copy / ".notes").write_text("not an export\n", "utf-8")
    return copy


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_stray_files_in_convert_folder_read(
    folder_with_stray_files: Path, path_option: list[str]
) -> None:
    later = f"{folder_with_stray_files}/later/signins.ndjson"
    other = f"{folder_with_stray_files}/Thumbs.db"
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--signin",
            str(folder_with_stray_files),
            "--format",
            "json",
            "--fail-on",
            "none",
            *path_option,
        ],
    )

    assert result.exit_code == 0, result.output
    assert "because h056 convert did not write them" in result.stderr
    assert repr(later) in result.stderr
    assert repr(other) in result.stderr
    assert ".notes" not in result.stderr
    run = json.loads(result.stdout)["run"]
    files = {item["path"]: item for item in run["files"]}
    assert files[later]["records_seen"] == 1
    assert files[later]["loaded"]["signin"] == 1
    assert files[later]["converted_in"] is None
    assert files[other]["skipped_by_reason"] == {"not a log export (file)": 1}
    assert not [path for path in files if ".notes" in path]
    for item in run["files"]:
        loaded = sum(item["loaded"].values())
        total = loaded + item["duplicates"] + item["skipped"]
        assert item["records_seen"] == total, item


def test_stray_copy_of_original_counted_duplicate(
    converted: Path, corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(converted, copy)
    shutil.copy(corpus[1], copy / "signins-again.ndjson")
    stray = f"{copy}/signins-again.ndjson"

    result = CliRunner().invoke(
        main,
        ["hunt", "--signin", str(copy), "--format", "json", "--fail-on", "none"],
    )

    assert result.exit_code == 0, result.output
    files = {item["path"]: item for item in json.loads(result.stdout)["run"]["files"]}
    assert files[stray]["records_seen"] > 0
    assert files[stray]["duplicates"] == files[stray]["records_seen"]


def test_converted_summary_names_folder(
    corpus: tuple[Path, Path], converted: Path
) -> None:
    audit, signin = corpus
    result = CliRunner().invoke(
        main,
        ["hunt", "--audit", str(converted), "--fail-on", "none"],
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    for original in (audit, signin):
        rows = [line for line in result.stderr.splitlines() if str(original) in line]
        assert len(rows) == 1, result.stderr
        assert f"{converted} (converted from {original})" in rows[0]
        # The folder was given to --audit only, so every row shows audit.
        assert rows[0].split()[4] == "audit", rows[0]


def test_converted_json_names_folder(
    corpus: tuple[Path, Path], converted: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["hunt", "--signin", str(converted), "--format", "json", "--fail-on", "none"],
    )
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["run"]["files"]
    assert sorted(item["path"] for item in files) == sorted(map(str, corpus))
    for item in files:
        assert item["converted_in"] == str(converted)
        assert item["given_to"] == ["signin"]


def test_raw_json_has_no_convert_folder(corpus: tuple[Path, Path]) -> None:
    audit, signin = corpus
    result = CliRunner().invoke(
        main,
        ["hunt", "--audit", str(audit), "--signin", str(signin), "--format", "json"]
        + ["--fail-on", "none"],
    )
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["run"]["files"]
    assert [item["converted_in"] for item in files] == [None, None]
    assert [item["given_to"] for item in files] == [["audit"], ["signin"]]


def test_inspect_names_convert_folder(
    corpus: tuple[Path, Path], converted: Path
) -> None:
    result = CliRunner().invoke(main, ["inspect", str(converted), "--format", "json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(record["path"] for record in records) == sorted(map(str, corpus))
    assert {record["converted_in"] for record in records} == {str(converted)}
    table = CliRunner().invoke(
        main, ["inspect", str(converted)], env={"COLUMNS": "400"}
    )
    assert table.exit_code == 0, table.output
    for original in corpus:
        assert f"{converted} (converted from {original})" in table.stdout


def test_missing_log_names_converted_files(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    _, signin = corpus
    out = tmp_path / "signins"
    convert_logs([], [str(signin)], out)

    result = CliRunner().invoke(main, ["hunt", "--audit", str(out)])

    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"the --audit inputs are {str(out)!r} (converted from {str(signin)!r})" in (
        message
    )
    assert "they hold sign-in records only" in message


# A convert folder of one log, hunted with the export it came from: every record of
# the folder is a copy of one in that export. AUDIT and SIGNIN stand for the exports,
# FOLDER for the folder.
COPIED_FOLDER_RUNS = [
    ("signin", ["--audit", "FOLDER", "--signin", "SIGNIN"]),
    ("signin", ["--audit", "FOLDER", "--signin", "FOLDER", "--signin", "SIGNIN"]),
    ("signin", ["--audit", "SIGNIN", "--audit", "FOLDER", "--signin", "SIGNIN"]),
    ("audit", ["--audit", "AUDIT", "--signin", "FOLDER"]),
    ("audit", ["--audit", "AUDIT", "--audit", "FOLDER", "--signin", "FOLDER"]),
    ("audit", ["--signin", "AUDIT", "--signin", "FOLDER"]),
]


@pytest.mark.parametrize(("log", "arguments"), COPIED_FOLDER_RUNS)
def test_missing_log_names_copied_folder(
    corpus: tuple[Path, Path], tmp_path: Path, log: str, arguments: list[str]
) -> None:
    audit, signin = corpus
    folder = tmp_path / "converted"
    if log == "audit":
        convert_logs([str(audit)], [], folder)
    else:
        convert_logs([], [str(signin)], folder)
    paths = {"AUDIT": str(audit), "SIGNIN": str(signin), "FOLDER": str(folder)}

    result = CliRunner().invoke(
        main, ["hunt", *[paths.get(item, item) for item in arguments]]
    )

    message = " ".join(result.stderr.split())
    noun = "audit records" if log == "audit" else "sign-in records"
    assert result.exit_code == 2, result.output
    assert f"{folder} (converted from " in message
    assert f"they hold {noun} only" in message


@pytest.fixture
def relative_conversion(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """Convert copies of the exports named relative to the working directory, as a
    user in the exports' folder would, and return that folder and the output."""
    audit, signin = corpus
    work = tmp_path / "work"
    (work / "exports").mkdir(parents=True)
    for original in (audit, signin):
        (work / "exports" / original.name).write_bytes(original.read_bytes())
    monkeypatch.chdir(work)
    convert_logs(
        [f"exports/{audit.name}"], [f"exports/{signin.name}"], Path("converted")
    )
    return work, work / "converted"


def test_manifest_stores_absolute_paths(
    corpus: tuple[Path, Path], relative_conversion: tuple[Path, Path]
) -> None:
    work, out = relative_conversion
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    stored = sorted(entry["path"] for entry in manifest["files"])
    tables = {
        value
        for log in ("audit", "signin", "steps")
        for part in manifest["tables"][log]["partitions"]
        for value in pq.read_table(out / part, columns=["source_file"])
        .column("source_file")
        .to_pylist()
    }

    expected = sorted(str(work / "exports" / path.name) for path in corpus)
    assert stored == expected
    assert tables == set(expected)


def test_hunt_elsewhere_names_real_paths(
    relative_conversion: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work, out = relative_conversion
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    result = CliRunner().invoke(
        main, ["hunt", "--audit", str(out), *HUNT_ARGS], env={"COLUMNS": "400"}
    )

    assert result.exit_code == 0, result.output
    files = {
        item["file"]
        for line in result.stdout.splitlines()
        for item in json.loads(line)["evidence"]
    }
    assert files
    for name in files:
        assert Path(name).is_file(), name
    assert f"(converted from {work / 'exports'}/" in result.stderr


def test_hunt_below_shows_relative_paths(
    corpus: tuple[Path, Path], relative_conversion: tuple[Path, Path]
) -> None:
    audit, signin = corpus
    raw = _hunt(
        "--audit", f"exports/{audit.name}", "--signin", f"exports/{signin.name}"
    )

    result = CliRunner().invoke(
        main, ["hunt", "--audit", "converted", *HUNT_ARGS], env={"COLUMNS": "400"}
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == raw
    assert f"converted (converted from exports/{audit.name})" in result.stderr


def test_converted_conflict_kept_file_shown_as_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signins = json.loads((SAMPLES / "signin.json").read_text(encoding="utf-8"))
    records = signins["value"][:3]
    changed = {**records[0], "ipAddress": "203.0.113.9"}
    exports = tmp_path / "exports"
    exports.mkdir()
    for name, value in (("a.json", records), ("b.json", [changed])):
        (exports / name).write_text(json.dumps({"value": value}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    converted = CliRunner().invoke(
        main, ["convert", "--signin", "exports", "--out", "converted"]
    )
    assert converted.exit_code == 0, converted.output

    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            str(SAMPLES / "audit.json"),
            "--signin",
            "converted",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    )

    assert result.exit_code == 0, result.output
    (conflict,) = json.loads(result.stdout)["run"]["conflicts"]
    assert conflict["files"] == ["exports/a.json", "exports/b.json"]
    assert conflict["kept_file"] in conflict["files"]


def test_relative_manifest_path_shown_as_stored(
    converted: Path, tmp_path: Path
) -> None:
    # A manifest from a release that stored the paths as given to convert.
    copy = tmp_path / "old"
    shutil.copytree(converted, copy)
    manifest = json.loads((copy / MANIFEST_NAME).read_text())
    for entry in manifest["files"]:
        entry["path"] = f"exports/{Path(entry['path']).name}"
    (copy / MANIFEST_NAME).write_text(json.dumps(manifest))

    found = find_manifest(str(copy))

    assert found is not None
    assert {report.path for report in found.files} == {
        f"exports/{Path(entry['path']).name}" for entry in manifest["files"]
    }


def test_lenient_convert_of_junk_only_exits_two(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.json").write_text('{"foo": 1}\n', encoding="utf-8")
    (junk / "b.json").write_text("not json\n", encoding="utf-8")
    out = tmp_path / "converted"

    result = CliRunner().invoke(
        main,
        ["convert", "--lenient", "--audit", str(junk), "--out", str(out)],
    )

    assert result.exit_code == 2, result.output
    assert "the --audit inputs contain no usable record" in result.stderr
    assert "so nothing was converted" in result.stderr
    assert not out.exists()


def test_files_table_shows_given_to(tmp_path: Path) -> None:
    # A convert folder given to --audit only: its sign-in export was read with
    # --signin by convert, and the table names the option that named it now.
    lake = tmp_path / "lake"
    convert_logs([str(SAMPLES / "audit.json")], [str(SAMPLES / "signin.json")], lake)
    inputs = ["hunt", "--audit", str(lake), "--fail-on", "none"]

    table = CliRunner().invoke(
        main, [*inputs, "--output", str(tmp_path / "f.txt")], env={"COLUMNS": "300"}
    )
    report = CliRunner().invoke(main, [*inputs, "--format", "json"])

    assert table.exit_code == 0, table.output
    files = json.loads(report.stdout)["run"]["files"]
    signin = next(item for item in files if item["path"].endswith("signin.json"))
    assert signin["given_as"] == "signin"
    assert signin["given_to"] == ["audit"]
    header = next(line for line in table.stderr.splitlines() if "Shape" in line)
    assert "Given to" in header
    row = next(line for line in table.stderr.splitlines() if "signin.json" in line)
    assert "  audit  " in row


def test_stray_warning_once_per_folder(folder_with_stray_files: Path) -> None:
    link = folder_with_stray_files.parent / "link"
    link.symlink_to(folder_with_stray_files)
    folder = str(folder_with_stray_files)
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            folder,
            "--audit",
            f"{folder}/",
            "--signin",
            f"{folder}/.",
            "--signin",
            str(link),
            "--fail-on",
            "none",
        ],
    )

    assert result.exit_code == 0, result.output
    assert result.stderr.count("because h056 convert did not write") == 1


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_cut_manifest_named_damaged(
    converted: Path, tmp_path: Path, cut: float
) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(converted, copy)
    manifest = copy / MANIFEST_NAME
    text = manifest.read_text("utf-8")
    manifest.write_text(text[: int(len(text) * cut)], "utf-8")

    result = CliRunner().invoke(main, ["hunt", "--lenient", "--signin", str(copy)])

    assert result.exit_code == 2, result.output
    assert f"{manifest}: the manifest is not valid JSON" in result.stderr
    assert "changed or damaged after h056 convert wrote it" in result.stderr
    assert "re-export" not in result.stderr
    assert "reads only as a whole folder" not in result.stderr


def test_manifest_array_with_format_rejected() -> None:
    text = json.dumps([{"format": MANIFEST_FORMAT, "schema_version": 1}])
    with pytest.raises(InputError) as caught:
        parse_manifest(text, "lake")
    assert caught.value.reason == "invalid_manifest"


def test_foreign_manifest_array_is_export() -> None:
    assert parse_manifest(json.dumps([{"format": "someone-else"}]), "lake") is None
