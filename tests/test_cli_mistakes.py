"""Tests for the messages and exit codes of mistakes a new user makes."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import SAMPLE_HUNT, SAMPLE_INPUTS, SAMPLES, SCRIPT, simulate_small
from h056hunt.cli import main

AUDIT = str(SAMPLES / "audit.json")
SIGNIN = str(SAMPLES / "signin.json")


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


def test_convert_out_under_file(a_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["convert", "--audit", AUDIT, "--out", str(a_file / "lake")]
    )

    assert result.exit_code == 2
    assert f"{a_file} is a file" in result.stderr
    assert "internal error" not in result.stderr


def test_convert_folder_mode_is_usual(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    result = CliRunner().invoke(main, ["convert", "--audit", AUDIT, "--out", str(out)])
    umask = os.umask(0)
    os.umask(umask)

    assert result.exit_code == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_convert_empty_signin_writes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    out = tmp_path / "lake"
    result = CliRunner().invoke(
        main,
        ["convert", "--audit", AUDIT, "--signin", str(empty), "--out", str(out)],
    )

    assert result.exit_code == 2
    assert "nothing was converted" in result.stderr
    assert str(empty) in result.stderr
    assert not out.exists()


def test_simulate_out_under_file(a_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["simulate", "--noise", "1", "--out", str(a_file / "sim")]
    )

    assert result.exit_code == 2
    assert f"{a_file} is a file, so the output folder cannot" in result.stderr
    assert "hint:" in result.stderr


def test_hunt_output_under_file(a_file: Path) -> None:
    result = CliRunner().invoke(
        main, [*SAMPLE_HUNT, "--output", str(a_file / "findings.jsonl")]
    )

    assert result.exit_code == 2
    assert "is a file, not a folder" in result.stderr


def test_hunt_output_empty_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty name is the current folder, which no findings file can replace.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", ""])

    assert result.exit_code == 2
    assert "an empty name names a folder" in result.stderr
    assert "free space" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_hunt_output_existing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", str(folder)])

    assert result.exit_code == 2
    assert f"{str(folder)!r} names a folder" in result.stderr
    assert "give a file name" in result.stderr
    assert list(folder.iterdir()) == []


def test_hunt_output_trailing_separator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pathlib drops the trailing "/", so "out/" once wrote a file named "out".
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", "out/"])

    assert result.exit_code == 2
    assert "'out/' names a folder" in result.stderr
    assert "such as out/findings.jsonl" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["findings.csv.bz2", "findings.jsonl.XZ", "report.tar.gz", "f.zip"]
)
def test_hunt_output_other_compression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Text or gzip under such a name would not open with the tool its name names.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", name])

    assert result.exit_code == 2
    assert "findings are written as text or gzip" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        (".gz", "findings.jsonl.gz"),
        (".jsonl", "findings.jsonl"),
        (".HTML.gz", "findings.HTML.gz"),
        (".txt", "findings.txt"),
        (".bz2", "findings.jsonl"),
    ],
)
def test_hunt_output_only_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, suggestion: str
) -> None:
    # pathlib reads ".gz" as a hidden file's name with no extension, so the
    # output would be neither compressed nor in the format of the extension.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", name])

    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"{name!r} has no file name before its extension" in message
    assert f"such as {suggestion!r}" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "single"),
    [
        ("out.html.gz.gz", "out.html.gz"),
        ("findings.jsonl.GZ.gz", "findings.jsonl.GZ"),
        ("f.gz.gz.gz", "f.gz"),
    ],
)
def test_hunt_output_repeated_gzip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, single: str
) -> None:
    # The output is compressed once, so one gunzip would leave gzip data.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", name])

    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"{name!r} ends in .gz more than once" in message
    assert f"name it {single!r}" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "missing\x1b[31m/findings.jsonl",
        "findings\x1b[31m.csv.bz2",
        "notes\x1b[31m.txt/findings.jsonl",
    ],
)
def test_hunt_output_error_escapes_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # click prints a usage error as it is when stderr is a terminal.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes\x1b[31m.txt").write_text("a file\n", encoding="utf-8")

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", name])

    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "\\x1b[31m" in result.stderr


@pytest.mark.parametrize("option", ["--max-record-size", "--max-decompressed-size"])
def test_size_past_limit_rejected(option: str) -> None:
    # 2**63 bytes overflowed the C size of a file read with --no-fast-path.
    result = CliRunner().invoke(
        main, [*SAMPLE_HUNT, "--no-fast-path", option, "8388608T"]
    )

    assert result.exit_code == 2
    assert "it must be at most 1048576T" in result.stderr
    assert "internal error" not in result.stderr


def test_closed_stdout_keeps_verdict() -> None:
    # The reader is gone before the first write, as when `head` has read enough.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(
            [str(SCRIPT), *SAMPLE_HUNT, "--quiet"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)

    assert completed.returncode == 1
    assert completed.stderr == b""


def test_lenient_unusable_signin_is_partial(tmp_path: Path) -> None:
    prose = tmp_path / "notes.txt"
    prose.write_text("hello\nworld\n", encoding="utf-8")
    arguments = ["hunt", "--audit", AUDIT, "--signin", str(prose), "--format", "json"]
    result = CliRunner().invoke(main, [*arguments, "--lenient"])

    assert result.exit_code in (0, 1)
    assert json.loads(result.stdout)["run"]["partial"] is True
    assert "--signin inputs contain no usable record" in result.stderr


def test_labels_as_signin_names_reason(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    simulate = CliRunner().invoke(
        main, ["simulate", "--noise", "0", "--users", "30", "--out", str(folder)]
    )
    assert simulate.exit_code == 0, simulate.stderr
    labels = str(folder / "labels.json")

    result = CliRunner().invoke(main, ["hunt", "--audit", AUDIT, "--signin", labels])

    assert result.exit_code == 2
    assert f"the only record of {labels!r} was skipped, so nothing was hunted. " in (
        result.stderr
    )
    assert "Reason: h056 simulate labels (the simulated scenarios" in result.stderr
    assert "((" not in result.stderr
    assert "))" not in result.stderr


def test_portal_signin_without_auth_details_warns(tmp_path: Path) -> None:
    folder = simulate_small(tmp_path / "portal", "portal-csv", "portal-csv")
    audit = str(folder / "audit.csv")
    warning = "without its AuthDetails file"

    alone = CliRunner().invoke(
        main, ["hunt", "--audit", audit, "--signin", str(folder / "signin.csv")]
    )
    together = CliRunner().invoke(
        main, ["hunt", "--audit", audit, "--signin", str(folder)]
    )

    assert warning in alone.stderr
    assert warning not in together.stderr


def test_config_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "h056.toml"
    config.write_text("[thresholds]\nmin_denials = 50\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "-v"])

    assert result.exit_code in (0, 1), result.stderr
    assert "using settings from h056.toml" in result.stderr


@pytest.mark.usefixtures("without_config_files")
def test_missing_config_is_named() -> None:
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "-v"])

    assert result.exit_code in (0, 1), result.stderr
    assert "no config file found" in result.stderr
    assert "the built-in settings apply" in result.stderr


def test_missing_config_names_xdg_path(without_config_files: Path) -> None:
    searched = without_config_files / "config" / "h056hunt" / "config.toml"

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "-v"])

    assert result.exit_code in (0, 1), result.stderr
    assert f"./h056.toml, {searched}), so the built-in settings" in result.stderr


def test_xdg_config_file_is_read(without_config_files: Path) -> None:
    config = without_config_files / "config" / "h056hunt" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[thresholds]\nmin_denials = 50\n", encoding="utf-8")

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "-v"])

    assert result.exit_code in (0, 1), result.stderr
    assert f"using settings from {config}" in result.stderr


def test_invalid_toml_hint_names_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "h056.toml"
    config.write_text("thresholds = [\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, SAMPLE_HUNT)

    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr
    assert "[thresholds], [working_hours] and [allowlist]" in result.stderr


def test_zip_archive_named(tmp_path: Path) -> None:
    archive = tmp_path / "signins.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(SIGNIN, "signin.json")

    result = CliRunner().invoke(
        main, ["hunt", "--audit", AUDIT, "--signin", str(archive)]
    )

    assert result.exit_code == 2
    assert "zip archive" in result.stderr
    assert "extract it" in result.stderr


@pytest.mark.parametrize("name", ["", "-", " *** ", "the", "A, an"])
def test_activity_name_without_words_rejected(name: str) -> None:
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--revocation-activity", name])

    assert result.exit_code == 2
    assert "has no letters or digits besides the articles" in result.stderr


@pytest.mark.parametrize("name", ["-", "The"])
def test_config_activity_name_without_words_rejected(tmp_path: Path, name: str) -> None:
    config = tmp_path / "h056.toml"
    config.write_text(
        f'revocation_activities = ["Revoke all", "{name}"]\n', encoding="utf-8"
    )

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--config", str(config)])

    assert result.exit_code == 2
    assert "revocation_activities" in result.stderr
    assert "without letters or digits besides the articles" in result.stderr


def test_unquoted_pattern_gets_hint() -> None:
    # What the shell passes for an unquoted sample_logs/*.json after --audit.
    result = CliRunner().invoke(
        main, ["hunt", "--signin", SIGNIN, "--audit", AUDIT, SIGNIN]
    )

    assert result.exit_code == 2
    assert "unexpected extra argument" in result.stderr
    assert "quote a pattern" in result.stderr


def test_audit_for_both_options_exits_two() -> None:
    audit = str(SAMPLES / "audit.json")
    result = CliRunner().invoke(
        main, ["hunt", "--fail-on", "none", "--audit", audit, "--signin", audit]
    )

    assert result.exit_code == 2, result.output
    assert "no input contains a sign-in record, so no prompt" in result.stderr
    assert f"the --signin inputs are {audit!r}" in result.stderr
    assert "they hold audit records only" in result.stderr


def test_signin_for_both_options_exits_two() -> None:
    signin = str(SAMPLES / "signin.json")
    result = CliRunner().invoke(main, ["hunt", "--audit", signin, "--signin", signin])

    assert result.exit_code == 2, result.output
    assert "no input contains an audit record" in result.stderr
    assert "they hold sign-in records only" in result.stderr


def test_mixed_folder_for_both_options_hunts(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    result = CliRunner().invoke(
        main,
        ["hunt", "--fail-on", "none", "--audit", str(folder), "--signin", str(folder)],
    )

    assert result.exit_code == 0, result.output


def test_same_file_for_both_lenient_warns() -> None:
    audit = str(SAMPLES / "audit.json")
    result = CliRunner().invoke(
        main,
        ["hunt", "--lenient", "--fail-on", "none", "--audit", audit, "--signin", audit],
    )

    assert result.exit_code == 0, result.output
    assert "no sign-in data was loaded" in result.stderr
    # The warning names what the inputs contain, as the strict run's error does.
    assert "WARNING: no input contains a sign-in record" in result.stderr
    assert f"the --signin inputs are {audit!r}; they hold audit records only" in (
        result.stderr
    )


def test_one_log_only_lenient_warns_once() -> None:
    signin = str(SAMPLES / "signin.json")
    result = CliRunner().invoke(
        main, ["hunt", "--lenient", "--fail-on", "none", "--signin", signin]
    )

    assert result.exit_code == 0, result.output
    # A hunt of one log was asked for, so the missing audit log is no mistake.
    assert "no input contains" not in result.stderr


def test_audit_as_only_signin_exits_two() -> None:
    audit = str(SAMPLES / "audit.json")
    result = CliRunner().invoke(main, ["hunt", "-q", "--signin", audit])

    assert result.exit_code == 2
    assert "no input contains a sign-in record, so no prompt" in result.output
    assert "they hold audit records only" in result.output


def test_auth_details_alone_exits_two(tmp_path: Path) -> None:
    out = simulate_small(tmp_path / "portal", "portal-csv", "portal-csv")
    steps = out / "signin_AuthDetails.csv"

    alone = CliRunner().invoke(
        main, ["hunt", "-q", "--audit", str(out / "audit.csv"), "--signin", str(steps)]
    )
    paired = CliRunner().invoke(
        main,
        [
            "hunt",
            "-q",
            "--fail-on",
            "none",
            "--audit",
            str(out / "audit.csv"),
            "--signin",
            str(steps),
            "--signin",
            str(out / "signin.csv"),
        ],
    )

    assert alone.exit_code == 2
    assert "they hold authentication step rows only" in alone.output
    assert paired.exit_code == 0, paired.output


def test_swapped_options_still_hunt() -> None:
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "-q",
            "--fail-on",
            "none",
            "--format",
            "jsonl",
            "--audit",
            str(SAMPLES / "signin.json"),
            "--signin",
            str(SAMPLES / "audit.json"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) > 1


def test_missing_config_names_the_search(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--config", str(missing)])

    assert result.exit_code == 2
    assert f"{missing}: cannot read config file: No such file" in result.stderr
    assert "Errno" not in result.stderr
    assert "$H056_CONFIG" in result.stderr


def test_invalid_toml_points_to_keys(tmp_path: Path) -> None:
    config = tmp_path / "h056.toml"
    config.write_text("[thresholds\n", encoding="utf-8")
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--config", str(config)])

    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr
    assert "docs/detection.md" in result.stderr


def test_simulate_too_few_users_names_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["simulate", "--users", "20", "--out", str(tmp_path / "sim")]
    )

    assert result.exit_code == 2
    assert "pass --users " in result.output
    assert "users=" not in result.output


def test_parquet_part_names_convert_folder(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    converted = CliRunner().invoke(
        main, ["convert", *SAMPLE_INPUTS[1:], "--out", str(lake), "-q"]
    )
    assert converted.exit_code == 0, converted.output
    part = next((lake / "audit").rglob("*.parquet"))

    single = CliRunner().invoke(
        main, ["hunt", "--audit", str(part), "--signin", str(SAMPLES / "signin.json")]
    )
    whole = CliRunner().invoke(
        main,
        ["hunt", "--audit", str(lake), "--signin", str(lake), "--fail-on", "none"],
    )

    # The part is skipped with its folder's warning, so --audit has no record.
    assert single.exit_code == 2
    assert f"{lake}: a folder written by h056 convert" in single.stderr
    assert "give the folder itself as an input" in single.stderr
    assert "no usable record" in single.stderr
    assert "UTF-8" not in single.stderr
    assert whole.exit_code == 0, whole.output


def test_parquet_copy_names_convert_folder(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    converted = CliRunner().invoke(
        main, ["convert", *SAMPLE_INPUTS[1:], "--out", str(lake), "-q"]
    )
    assert converted.exit_code == 0, converted.output
    # A part copied out of its convert folder has no manifest above it.
    copy = tmp_path / "part.parquet"
    shutil.copy(next((lake / "audit").rglob("*.parquet")), copy)

    result = CliRunner().invoke(
        main, ["hunt", "--audit", str(copy), "--signin", str(SAMPLES / "signin.json")]
    )

    assert result.exit_code == 2
    assert "the file is Parquet" in result.stderr
    assert "_h056_manifest.json" in result.stderr
    assert "UTF-8" not in result.stderr


def test_all_skipped_names_reason_without_summary(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"scenarios": []}), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["convert", "--audit", str(labels), "--out", str(tmp_path / "lake")]
    )

    assert result.exit_code == 2
    assert "the only record of" in result.stderr
    assert "Reason: unrecognised record" in result.stderr
    assert "run summary" not in result.stderr


@pytest.mark.parametrize(
    ("shape", "warned"), [("purview-ual-csv", True), ("graph-page", False)]
)
def test_purview_signins_warn_of_missing_steps(
    tmp_path: Path, shape: str, warned: bool
) -> None:
    folder = simulate_small(tmp_path / shape, shape, "graph-page")
    signins = next(folder.glob("signin*"))

    result = CliRunner().invoke(
        main,
        ["hunt", "--fail-on", "none", "--audit", str(folder / "audit.json")]
        + ["--signin", str(signins)],
    )

    assert result.exit_code == 0, result.stderr
    assert ("carry no authentication steps" in result.stderr) is warned


@pytest.mark.parametrize(
    ("extra", "warning"),
    [
        (["--format", "jsonl", "--details"], "--details changes only the table"),
        (["--format", "csv", "--tz", "Europe/Berlin"], "--format csv writes every"),
        (["--spark-master", "local[2]"], "--spark-master applies only with"),
    ],
)
def test_unused_option_warns(extra: list[str], warning: str) -> None:
    result = CliRunner().invoke(main, [*SAMPLE_INPUTS, "--fail-on", "none", *extra])

    assert result.exit_code == 0, result.stderr
    assert warning in result.stderr


def test_used_options_do_not_warn() -> None:
    result = CliRunner().invoke(
        main,
        [*SAMPLE_INPUTS, "--fail-on", "none", "--details", "--tz", "Europe/Berlin"],
    )

    assert result.exit_code == 0, result.stderr
    assert "WARNING" not in result.stderr


def test_bare_paths_to_hunt_name_the_options() -> None:
    result = CliRunner().invoke(
        main, ["hunt", str(SAMPLES / "audit.json"), str(SAMPLES / "signin.json")]
    )

    assert result.exit_code == 2
    assert "give the audit export with --audit" in result.output


def test_inspect_audit_option_explains_bare_paths() -> None:
    result = CliRunner().invoke(main, ["inspect", "--audit", str(SAMPLES)])

    assert result.exit_code == 2
    assert "takes the paths themselves" in result.output
    assert "--quiet" not in result.output


def test_double_gzip_named(tmp_path: Path) -> None:
    twice = tmp_path / "signin.json.gz"
    twice.write_bytes(
        gzip.compress(gzip.compress((SAMPLES / "signin.json").read_bytes()))
    )

    result = CliRunner().invoke(
        main, ["hunt", "--audit", str(SAMPLES / "audit.json"), "--signin", str(twice)]
    )

    assert result.exit_code == 2
    assert "compressed twice" in result.stderr
    assert "UTF-8" not in result.stderr


def test_empty_time_says_missing(tmp_path: Path) -> None:
    record = {
        "id": "x1",
        "createdDateTime": "",
        "userId": "00000000-0000-4000-8000-000000000001",
        "status": {"errorCode": 500121},
    }
    signins = tmp_path / "signins.ndjson"
    signins.write_text(json.dumps(record) + "\n", encoding="utf-8")

    result = CliRunner().invoke(
        main, ["hunt", "--signin", str(signins), "--lenient", "--fail-on", "none"]
    )

    assert "line 1: missing timestamp in createdDateTime; record skipped" in (
        result.stderr
    )
    assert "None" not in result.stderr


def _write_signins(folder: Path, times: list[str]) -> Path:
    """Write one successful sign-in of one user per time, as NDJSON."""
    signins = folder / "signins.ndjson"
    lines = [
        json.dumps(
            {
                "id": f"x{index}",
                "createdDateTime": time,
                "userId": "00000000-0000-4000-8000-000000000001",
                "status": {"errorCode": 0},
            }
        )
        + "\n"
        for index, time in enumerate(times)
    ]
    signins.write_text("".join(lines), encoding="utf-8")
    return signins


def test_invalid_times_warned_five_then_counted(tmp_path: Path) -> None:
    invalid = [f"2026-02-{30 + index % 2}T10:00:00Z" for index in range(8)]
    signins = _write_signins(tmp_path, [*invalid, "2026-03-02T10:00Z"])

    result = CliRunner().invoke(
        main, ["hunt", "--signin", str(signins), "--fail-on", "none"]
    )

    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("record skipped") == 5
    assert (
        "3 more records skipped for the same reason (invalid timestamp in "
        "createdDateTime), not listed one by one" in result.stderr
    )
    assert "skipped 8: invalid timestamp" in result.stderr


@pytest.mark.parametrize("mode", [[], ["--lenient"]], ids=["strict", "lenient"])
def test_date_order_contradicted_stops(tmp_path: Path, mode: list[str]) -> None:
    """--dayfirst on dates that read only month-first would skip 3/13 and swap day
    and month in 3/2, so the run stops and names the option to use."""
    signins = _write_signins(tmp_path, ["3/2/2026 10:00:00", "3/13/2026 10:00:00"])

    result = CliRunner().invoke(
        main, ["hunt", "--signin", str(signins), "--dayfirst", *mode]
    )

    assert result.exit_code == 2
    assert "month-first dates such as '3/13/2026 10:00:00'" in result.stderr
    assert "rerun with --monthfirst" in result.stderr
    assert result.stdout == ""


def test_graph_error_line_named(tmp_path: Path) -> None:
    # The fast path reads these lines through a sink that records each call.
    records = json.loads((SAMPLES / "signin.json").read_text(encoding="utf-8"))
    error = {
        "error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges\x1b[31m to complete the operation.",
        }
    }
    lines = [json.dumps(record) for record in records["value"]] + [json.dumps(error)]
    signin = tmp_path / "signin.ndjson"
    signin.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = CliRunner().invoke(
        main, ["hunt", "--fail-on", "none", "--audit", AUDIT, "--signin", str(signin)]
    )

    assert result.exit_code == 0, result.output
    assert f"line {len(lines)}: skipped a Microsoft Graph error" in result.stderr
    assert "Authorization_RequestDenied" in result.stderr
    assert "Insufficient privileges\\x1b[31m to complete" in result.stderr
    assert "\x1b" not in result.stderr
    assert "skipped 1: error object inside the export" in result.stderr


def test_command_list_not_truncated() -> None:
    result = CliRunner().invoke(main, ["--help"], env={"COLUMNS": "80"})

    lines = result.output.split("Commands:\n", 1)[1].splitlines()
    listed = {line.split()[0]: line for line in lines if line.strip()}
    assert result.exit_code == 0
    assert set(listed) == {"convert", "hunt", "inspect", "simulate"}
    for name, line in listed.items():
        assert not line.endswith("..."), f"{name}: {line!r}"
        assert line.endswith("."), f"{name}: {line!r}"


@pytest.mark.parametrize("option", ["--max-lag", "--burst-window", "--campaign-window"])
def test_long_window_option_rejected(option: str) -> None:
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, option, "100000d"])

    assert result.exit_code == 2
    assert "invalid duration '100000d': it must be at most 20d" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("key", ["max_lag", "actor_lookback", "persistence_window"])
def test_config_long_window_rejected(tmp_path: Path, key: str) -> None:
    config = tmp_path / "h056.toml"
    config.write_text(f'[thresholds]\n{key} = "99999999d"\n', encoding="utf-8")

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--config", str(config)])

    assert result.exit_code == 2
    assert f"thresholds.{key}" in result.stderr
    assert "it must be at most 20d" in result.stderr


@pytest.mark.parametrize("option", ["--min-denials", "--campaign-min-targets"])
def test_count_past_int64_rejected(option: str) -> None:
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, option, str(2**63)])

    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("key", ["min_denials", "campaign_min_targets"])
def test_config_count_past_int64_rejected(tmp_path: Path, key: str) -> None:
    config = tmp_path / "h056.toml"
    config.write_text(f"[thresholds]\n{key} = {2**63}\n", encoding="utf-8")

    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--config", str(config)])

    assert result.exit_code == 2
    assert f"thresholds.{key}" in result.stderr
    assert f"from 1 to {2**63 - 1}" in result.stderr


def test_count_help_hides_int64_bound() -> None:
    result = CliRunner().invoke(main, ["hunt", "--help"])

    assert result.exit_code == 0, result.output
    assert str(2**63 - 1) not in result.stdout
    assert "a burst [default: 5]. [x>=1]" in " ".join(result.stdout.split())
    assert "a campaign [default: 3]. [x>=1]" in " ".join(result.stdout.split())


@pytest.mark.parametrize("option", ["--min-denials", "--campaign-min-targets"])
def test_count_below_one_message(option: str) -> None:
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, option, "0"])

    assert result.exit_code == 2
    assert f"Invalid value for '{option}': 0 is not in the range x>=1" in result.stderr
    assert str(2**63 - 1) not in result.stderr


@pytest.mark.parametrize("option", ["--min-denials", "--campaign-min-targets"])
def test_count_past_int64_names_limit(option: str) -> None:
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, option, str(2**63)])

    assert result.exit_code == 2
    assert f"{2**63} is larger than {2**63 - 1}" in result.stderr


def test_lenient_run_of_junk_only_exits_two(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"foo": 1}\n', encoding="utf-8")
    (tmp_path / "b.json").write_text("not json\n", encoding="utf-8")
    folder = str(tmp_path)

    result = CliRunner().invoke(
        main, ["hunt", "--lenient", "--audit", folder, "--signin", folder]
    )

    # A run that looked at nothing gives no verdict, not a clean exit 0.
    assert result.exit_code == 2, result.output
    assert "no input contains a usable record: all 2 records of" in result.stderr
    assert "so nothing was hunted" in result.stderr
    assert "Records: 2 seen, 0 loaded, 0 duplicate, 2 skipped" in result.stderr


def test_lenient_unusable_signin_warned_once(tmp_path: Path) -> None:
    junk = tmp_path / "signin.json"
    junk.write_text('{"foo": 1}\n', encoding="utf-8")

    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--lenient",
            "--fail-on",
            "none",
            "--audit",
            AUDIT,
            "--signin",
            str(junk),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "the --signin inputs contain no usable record" in result.stderr
    # That warning already explains why no sign-in was read.
    assert "no input contains a sign-in record" not in result.stderr
    partial = [line for line in result.stderr.splitlines() if "PARTIAL INPUT" in line]
    assert partial == [
        "PARTIAL INPUT: some input was not read completely; results may be incomplete."
    ]
    assert result.stdout.startswith(
        "PARTIAL INPUT: some input was not read completely;"
    )


def test_choices_accept_any_case() -> None:
    arguments = ["hunt", "--audit", AUDIT, "--signin", SIGNIN]

    upper = CliRunner().invoke(
        main, [*arguments, "--fail-on", "None", "--format", "JSON"]
    )
    lower = CliRunner().invoke(
        main, [*arguments, "--fail-on", "none", "--format", "json"]
    )
    failing = CliRunner().invoke(main, [*arguments, "--fail-on", "High", "-q"])

    assert upper.exit_code == lower.exit_code == 0, upper.output
    assert json.loads(upper.stdout)["findings"] == json.loads(lower.stdout)["findings"]
    assert failing.exit_code == 1, failing.output


@pytest.mark.parametrize(
    "name",
    [".gz.gz", ".html.gz.gz", ".bz2.gz", "x.tar.gz.gz", "x.zip.gz.gz", ".tar.gz.gz"],
)
def test_hunt_output_suggestion_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # A name that an --output error suggests must pass every name check itself.
    monkeypatch.chdir(tmp_path)
    rejected = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", name])
    message = " ".join(rejected.stderr.split())
    assert rejected.exit_code == 2
    suggestion = re.search(r"(?:such as|name it) '([^']+)'", message)
    assert suggestion is not None, message

    accepted = CliRunner().invoke(
        main, [*SAMPLE_HUNT, "--fail-on", "none", "--output", suggestion[1]]
    )

    assert accepted.exit_code == 0, accepted.stderr
    assert (tmp_path / suggestion[1]).is_file()


def _name_past_limit(folder: Path) -> str:
    """Return a file name one character longer than the file system allows."""
    return "n" * (os.pathconf(folder, "PC_NAME_MAX") + 1)


@pytest.mark.parametrize("suffix", ["", "/x.json", "*", "/**/*.json"])
def test_hunt_input_name_past_limit(tmp_path: Path, suffix: str) -> None:
    long_input = str(tmp_path / _name_past_limit(tmp_path)) + suffix
    result = CliRunner().invoke(
        main, ["hunt", "--audit", long_input, "--signin", SIGNIN]
    )

    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr
    assert long_input in result.stderr


def test_inspect_name_past_limit(tmp_path: Path) -> None:
    long_input = str(tmp_path / _name_past_limit(tmp_path))
    result = CliRunner().invoke(main, ["inspect", long_input])

    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr


def test_hunt_output_name_past_limit(tmp_path: Path) -> None:
    output = tmp_path / _name_past_limit(tmp_path)
    result = CliRunner().invoke(main, [*SAMPLE_HUNT, "--output", str(output)])

    assert result.exit_code == 2, result.exception
    assert "cannot be checked" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("below", ["", "lake"])
def test_convert_out_name_past_limit(tmp_path: Path, below: str) -> None:
    out = tmp_path / _name_past_limit(tmp_path) / below
    result = CliRunner().invoke(main, ["convert", "--audit", AUDIT, "--out", str(out)])

    assert result.exit_code == 2, result.stderr
    assert "the output folder cannot be checked" in result.stderr
    assert "internal error" not in result.stderr
    assert "hint:" in result.stderr


def test_simulate_out_name_past_limit(tmp_path: Path) -> None:
    out = tmp_path / _name_past_limit(tmp_path)
    result = CliRunner().invoke(main, ["simulate", "--noise", "1", "--out", str(out)])

    assert result.exit_code == 2, result.exception
    assert "the output folder cannot be checked" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "arguments",
    [
        ["hunt", "--audit", "", "--signin", SIGNIN],
        ["hunt", "--audit", AUDIT, "--signin", ""],
        ["inspect", AUDIT, ""],
        ["convert", "--audit", "", "--out", "lake"],
    ],
)
def test_empty_input_value_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str]
) -> None:
    # An export in the current folder would be read if "" stood for that folder.
    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLES / "audit.json", tmp_path / "audit.json")
    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 2, result.stderr
    assert "an empty value names no file" in result.stderr
    assert not (tmp_path / "lake").exists()


def archive_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Write the sample exports and one file of each kind that h056hunt does not
    read into a folder, and return the folder and each such file's kind."""
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(AUDIT, folder / "audit.json")
    shutil.copy(SIGNIN, folder / "signin.json")

    with zipfile.ZipFile(folder / "a.zip", "w") as bundle:
        bundle.write(SIGNIN, "signin.json")
    subprocess.run(
        ["tar", "-cf", str(folder / "b.tar"), "-C", str(SAMPLES), "signin.json"],
        check=True,
    )
    heads = {
        "c.7z": b"7z\xbc\xaf\x27\x1c",
        "d.bz2": b"BZh9",
        "e.xz": b"\xfd7zXZ\x00",
        "f.zst": b"\x28\xb5\x2f\xfd",
        "g.lz4": b"\x04\x22\x4d\x18",
        "h.parquet": b"PAR1",
    }
    for name, head in heads.items():
        (folder / name).write_bytes(head + b"\x00" * 600)

    # gzip around a zip archive is recognised by the decompressed bytes.
    inner = (folder / "a.zip").read_bytes()
    (folder / "i.zip.gz").write_bytes(gzip.compress(inner))

    kinds = {
        "a.zip": "zip archive",
        "b.tar": "tar archive",
        "c.7z": "7z archive",
        "d.bz2": "bzip2-compressed",
        "e.xz": "xz-compressed",
        "f.zst": "zstd-compressed",
        "g.lz4": "lz4-compressed",
        "h.parquet": "Parquet",
        "i.zip.gz": "zip archive",
    }
    return folder, kinds


def test_strict_names_every_archive(tmp_path: Path) -> None:
    folder, kinds = archive_folder(tmp_path)

    result = CliRunner().invoke(
        main, ["hunt", "--audit", str(folder), "--signin", str(folder)]
    )

    assert result.exit_code == 2
    for name, kind in kinds.items():
        assert f"'{folder / name}' ({kind})" in result.stderr, name
    assert f"{len(kinds)} files" in result.stderr
    assert "extract" in result.stderr
    assert "decompress" in result.stderr
    assert "--out folder of h056 convert" in result.stderr


def test_lenient_skips_each_archive(tmp_path: Path) -> None:
    folder, kinds = archive_folder(tmp_path)

    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--lenient",
            "--fail-on",
            "none",
            "--format",
            "json",
            "--audit",
            str(folder),
            "--signin",
            str(folder),
        ],
    )

    assert result.exit_code == 0, result.stderr
    files = {
        Path(item["path"]).name: item
        for item in json.loads(result.stdout)["run"]["files"]
    }
    for name in kinds:
        assert files[name]["records_seen"] == 1, name
        assert files[name]["skipped"] == 1, name


def test_strict_names_archives_and_symlinks(tmp_path: Path) -> None:
    folder, kinds = archive_folder(tmp_path)
    (folder / "gone.json").symlink_to(folder / "missing.json")

    result = CliRunner().invoke(
        main, ["hunt", "--audit", str(folder), "--signin", str(folder)]
    )

    assert result.exit_code == 2
    assert "dangling symlink" in result.stderr
    for name, kind in kinds.items():
        assert f"'{folder / name}' ({kind})" in result.stderr, name
