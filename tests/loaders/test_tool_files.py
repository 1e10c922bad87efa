"""Files that h056hunt writes itself are skipped by name when a hunt reads them.

A hunt's findings (``--output``), a config file and a convert folder can sit in the
folder of the exports they came from. Each test writes such files with the command
that makes them and hunts the folder through the CLI. Each file must count as one
record seen and one skipped under its own reason, on the fast path and with
``--no-fast-path`` alike. Other tests check that no real or simulated export is
taken for such a file.
"""

from __future__ import annotations

import gzip
import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli_runs import SAMPLE_INPUTS, SAMPLES
from h056hunt.cli import main
from h056hunt.config import load_config
from h056hunt.loaders import tool_files
from h056hunt.loaders.tool_files import (
    CONFIG_FILE_REASON,
    CONVERT_FOLDER_REASON,
    FINDINGS_OUTPUT_REASON,
)
from h056hunt.render import (
    csv_report,
    html_report,
    markdown,
    partial,
    table,
    timesketch,
)
from h056hunt.simulate.config import SHAPES, SimulationConfig
from h056hunt.simulate.output import simulate
from h056hunt.sources import InputFile

# The --output name and --format of each findings file, one per output format.
OUTPUTS = {
    "findings.json": "json",
    "findings.jsonl": "jsonl",
    "findings.csv": "csv",
    "findings.html": "html",
    "findings.md": "markdown",
    "timesketch.jsonl": "timesketch",
    "findings.txt": "table",
}
PATH_OPTIONS = {"fast": [], "plain": ["--no-fast-path"]}


def run(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments))


def write_findings(
    folder: Path, name: str, output_format: str, hunt: list[str] = SAMPLE_INPUTS
) -> Path:
    """Run ``hunt``, the sample logs' hunt by default, and write the findings to
    ``folder / name``."""
    path = folder / name
    result = run(
        *hunt,
        "--format",
        output_format,
        "--output",
        str(path),
        "--fail-on",
        "none",
    )
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def findings_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every findings format, plain and gzip-compressed, by file name."""
    folder = tmp_path_factory.mktemp("findings")
    written = {}
    for name, output_format in OUTPUTS.items():
        for file_name in (name, name + ".gz"):
            written[file_name] = write_findings(folder, file_name, output_format)
    return written


def hunt_json(audit: Path, signin: Path, *extra: str) -> Result:
    """Hunt ``audit`` and ``signin`` with the options ``extra``, which may add
    inputs, writing the JSON report."""
    return run(
        "hunt",
        *("--audit", str(audit), "--signin", str(signin)),
        *("--format", "json", "--fail-on", "none"),
        *extra,
    )


def hunt_folder(folder: Path, *extra: str) -> Result:
    return hunt_json(folder, folder, *extra)


def file_reports(result: Result) -> dict[str, dict[str, Any]]:
    """Return the run summary's file entries of a JSON hunt, by file name."""
    assert result.exit_code == 0, result.stderr
    files = json.loads(result.stdout)["run"]["files"]
    return {Path(item["path"]).name: item for item in files}


def with_exports(folder: Path) -> Path:
    """Copy the sample exports into ``folder``, which is made if needed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("audit.json", "signin.json"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def recognised(path: Path) -> tool_files.ToolFile | None:
    return tool_files.recognise(
        InputFile(path=path, display=str(path)), max_decompressed_bytes=2**30
    )


def narrow_table(
    folder: Path, arguments: list[str], width: int
) -> tuple[str, tool_files.ToolFile | None]:
    """Hunt with ``arguments`` at ``width`` columns, save the table output as a
    file in ``folder``, and return the output and what that file is found to be."""
    result = CliRunner().invoke(main, arguments, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    path = folder / "findings.txt"
    path.write_text(result.stdout, encoding="utf-8")
    return result.stdout, recognised(path)


@pytest.mark.parametrize("path_option", list(PATH_OPTIONS))
def test_findings_files_skipped_once(
    tmp_path: Path, findings_files: dict[str, Path], path_option: str
) -> None:
    folder = with_exports(tmp_path / "exports")
    for name, path in findings_files.items():
        shutil.copy(path, folder / name)

    result = hunt_folder(folder, *PATH_OPTIONS[path_option])
    reports = file_reports(result)

    for name in findings_files:
        report = reports[name]
        assert report["records_seen"] == 1, name
        assert report["skipped_by_reason"] == {FINDINGS_OUTPUT_REASON: 1}, name
        assert report["partial"] is False, name
        assert f"{folder / name}: h056 findings output (" in result.stderr
    assert reports["signin.json"]["skipped"] == 0
    assert "unrecognised" not in result.stderr
    assert result.stderr.count("h056 findings output (") == len(findings_files)
    assert "move it out of the input folder" in result.stderr


def test_findings_fast_and_plain_agree(
    tmp_path: Path, findings_files: dict[str, Path]
) -> None:
    folder = with_exports(tmp_path / "exports")
    for name, path in findings_files.items():
        shutil.copy(path, folder / name)

    fast = hunt_folder(folder)
    plain = hunt_folder(folder, "--no-fast-path")

    fast_document = json.loads(fast.stdout)
    plain_document = json.loads(plain.stdout)
    assert fast_document["findings"] == plain_document["findings"]
    fast_reports = file_reports(fast)
    plain_reports = file_reports(plain)
    for name in findings_files:
        assert fast_reports[name] == plain_reports[name], name


def test_findings_kind_named(findings_files: dict[str, Path]) -> None:
    kinds = {
        "findings.json": "JSON",
        "findings.jsonl": "JSON Lines",
        "findings.csv": "CSV",
        "findings.html": "HTML",
        "findings.md": "Markdown",
        "timesketch.jsonl": "Timesketch JSON Lines",
        "findings.txt": "table",
    }
    for name, kind in kinds.items():
        for file_name in (name, name + ".gz"):
            found = recognised(findings_files[file_name])
            assert found is not None, file_name
            assert found.kind == f"h056 findings output ({kind})", file_name


def test_long_first_finding_recognised(
    findings_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A mass revocation's finding can be longer than the part of the file read,
    # so its first keys must be enough.
    monkeypatch.setattr(tool_files, "HEAD_BYTES", 300)

    for name in ("findings.json", "findings.jsonl", "findings.jsonl.gz"):
        found = recognised(findings_files[name])
        assert found is not None, name
        assert found.reason == FINDINGS_OUTPUT_REASON


def test_whole_document_recognised(
    findings_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read whole, the JSON document is recognised by its top-level keys.
    monkeypatch.setattr(tool_files, "HEAD_BYTES", 4 * 1024 * 1024)

    for name in ("findings.json", "findings.json.gz", "findings.jsonl"):
        found = recognised(findings_files[name])
        assert found is not None, name
        assert found.reason == FINDINGS_OUTPUT_REASON


def test_no_findings_recognised(tmp_path: Path) -> None:
    audit, signin = quiet_exports(tmp_path)
    outputs = {"empty.json": "json", "empty.csv": "csv", "empty.md": "markdown"}

    for name, output_format in outputs.items():
        path = tmp_path / name
        result = run(
            "hunt",
            "--audit",
            str(audit),
            "--signin",
            str(signin),
            "--format",
            output_format,
            "--output",
            str(path),
        )
        assert result.exit_code == 0, result.stderr
        found = recognised(path)
        assert found is not None, name
        assert found.reason == FINDINGS_OUTPUT_REASON, name


def test_findings_given_directly(
    tmp_path: Path, findings_files: dict[str, Path]
) -> None:
    result = run(
        "hunt",
        "--audit",
        str(SAMPLES / "audit.json"),
        "--signin",
        str(SAMPLES / "signin.json"),
        "--signin",
        str(findings_files["findings.jsonl"]),
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    report = file_reports(result)["findings.jsonl"]

    assert report["skipped_by_reason"] == {FINDINGS_OUTPUT_REASON: 1}
    # The exports were given too, so the advice must not ask for them.
    assert "give the audit and sign-in exports" not in result.stderr
    assert (
        "leave it out of the inputs, which take only audit and sign-in exports"
        in result.stderr
    )


def test_findings_alone_not_hunted(
    tmp_path: Path, findings_files: dict[str, Path]
) -> None:
    folder = tmp_path / "only-findings"
    folder.mkdir()
    shutil.copy(findings_files["findings.jsonl"], folder / "findings.jsonl")

    result = run(
        "hunt",
        "--audit",
        str(SAMPLES / "audit.json"),
        "--signin",
        str(folder),
        "--fail-on",
        "none",
    )

    assert result.exit_code == 2
    assert "contain no usable record" in result.stderr
    assert "h056 findings output (JSON Lines)" in result.stderr
    # The audit export was given, so the advice must not ask for it.
    assert "give the audit and sign-in exports" not in result.stderr


def test_config_given_directly(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(CONFIG_TEXT, "utf-8")

    result = run(
        "hunt",
        "--audit",
        str(SAMPLES / "audit.json"),
        "--signin",
        str(SAMPLES / "signin.json"),
        "--audit",
        str(config),
        "--format",
        "json",
        "--fail-on",
        "none",
    )

    assert result.exit_code == 0, result.stderr
    assert f"{config}: h056 config file, not an export" in result.stderr
    assert "give the audit and sign-in exports" not in result.stderr
    assert "leave it out of the inputs" in result.stderr


def quiet_exports(folder: Path, *, cut_off: bool = False) -> tuple[Path, Path]:
    """Write an audit and a sign-in export that give no finding. With ``cut_off``,
    the sign-in export ends in a cut-off line, which makes a lenient run partial."""
    audit = folder / "audit.json"
    record = {
        "id": "audit-1",
        "activityDisplayName": "Add user",
        "activityDateTime": "2025-01-02T02:00:00Z",
        "result": "success",
        "initiatedBy": {"user": {"id": "admin-1"}},
        "targetResources": [{"id": "user-1", "type": "User"}],
    }
    audit.write_text(json.dumps({"value": [record]}), "utf-8")
    signin = folder / "signin.json"
    line = {
        "id": "signin-1",
        "createdDateTime": "2025-01-02T03:00:00Z",
        "userId": "user-1",
        "status": {"errorCode": 0},
    }
    text = json.dumps(line) + "\n"
    if cut_off:
        text += '{"id": "cut'
    signin.write_text(text, "utf-8")
    return audit, signin


def partial_empty_outputs(folder: Path) -> dict[str, Path]:
    """Write each line-per-finding format of a partial run without findings, which
    contains only the partial-input notice."""
    audit, signin = quiet_exports(folder, cut_off=True)
    written = {}
    (folder / "out").mkdir()
    for name, output_format in (
        ("notice.jsonl", "jsonl"),
        ("notice.csv", "csv"),
        ("notice-timesketch.jsonl", "timesketch"),
    ):
        hunt = ["hunt", "--audit", str(audit), "--signin", str(signin), "--lenient"]
        written[name] = write_findings(folder / "out", name, output_format, hunt)
    return written


def test_partial_input_notice_recognised(tmp_path: Path) -> None:
    written = partial_empty_outputs(tmp_path)

    for name, path in written.items():
        assert partial.NOTICE_MESSAGE in path.read_text("utf-8"), name
        found = recognised(path)
        assert found is not None, name
        assert found.reason == FINDINGS_OUTPUT_REASON, name


def write_table(path: Path, audit: Path, *signins: Path) -> Path:
    """Write the table format of a lenient hunt to ``path``."""
    signin_options = [part for signin in signins for part in ("--signin", str(signin))]
    hunt = ["hunt", "--audit", str(audit), *signin_options, "--lenient"]
    return write_findings(path.parent, path.name, "table", hunt)


def test_table_variants_recognised(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    audit, signin = quiet_exports(quiet)
    broken = tmp_path / "broken"
    broken.mkdir()
    _, cut_signin = quiet_exports(broken, cut_off=True)
    tables = {
        "no findings": write_table(tmp_path / "quiet.txt", audit, signin),
        "partial, no findings": write_table(
            tmp_path / "partial-quiet.txt", audit, cut_signin
        ),
        "partial, findings": write_table(
            tmp_path / "partial.txt",
            SAMPLES / "audit.json",
            SAMPLES / "signin.json",
            cut_signin,
        ),
    }

    assert "PARTIAL INPUT" in tables["partial, findings"].read_text("utf-8")
    assert "Severity" in tables["partial, findings"].read_text("utf-8")
    assert "No findings." in tables["partial, no findings"].read_text("utf-8")
    for case, path in tables.items():
        found = recognised(path)
        assert found is not None, case
        assert found.kind == "h056 findings output (table)", case


@pytest.mark.parametrize("width", [20, 40, 60, 90, 200])
@pytest.mark.parametrize("details", [[], ["--details"]], ids=["table", "details"])
def test_narrow_table_recognised(
    tmp_path: Path, width: int, details: list[str]
) -> None:
    # A narrow terminal, or COLUMNS on a pipe, picks a layout without the Score
    # column, and below about 30 columns the Severity header folds.
    output, found = narrow_table(
        tmp_path, [*SAMPLE_INPUTS, "--fail-on", "none", "-q", *details], width
    )

    assert found is not None, output[:400]
    assert found.kind == "h056 findings output (table)"


@pytest.mark.parametrize("width", [10, 14, 16, 20, 40])
def test_narrow_partial_table_recognised(tmp_path: Path, width: int) -> None:
    # The partial-input line wraps first, as "PARTIAL INPUT:" alone at 14 to 18
    # columns and as "PARTIAL" alone below that.
    _, cut_signin = quiet_exports(tmp_path, cut_off=True)
    output, found = narrow_table(
        tmp_path,
        [*SAMPLE_INPUTS, "--signin", str(cut_signin), "--lenient"]
        + ["--fail-on", "none", "-q"],
        width,
    )

    assert output.startswith("PARTIAL")
    assert found is not None, output[:400]
    assert found.kind == "h056 findings output (table)"


@pytest.mark.parametrize("width", [12, 16, 21, 40])
@pytest.mark.parametrize("suppressed", [False, True], ids=["none", "suppressed"])
def test_narrow_no_findings_recognised(
    tmp_path: Path, width: int, suppressed: bool
) -> None:
    # "No findings reported; 1 suppressed by allowlist entries ..." wraps after
    # "No findings" at 21 columns or fewer.
    audit, signin = quiet_exports(tmp_path)
    signin.write_text(
        "".join(json.dumps(denied(minute)) + "\n" for minute in range(1, 6)), "utf-8"
    )
    config = tmp_path / "allow.toml"
    config.write_text(
        '[[allowlist.source_ips]]\ncidr = "192.0.2.0/24"\nreason = "MFA load test"\n',
        "utf-8",
    )
    arguments = ["hunt", "--audit", str(audit), "--signin", str(signin)]
    arguments += ["--fail-on", "none", "-q"]
    arguments += ["--config", str(config)] if suppressed else ["--min-denials", "9"]

    output, found = narrow_table(tmp_path, arguments, width)

    assert output.startswith("No findings"), output
    assert ("suppressed" in output) is suppressed
    assert found is not None, output
    assert found.kind == "h056 findings output (table)"


def denied(minute: int) -> dict[str, Any]:
    """Build a denied push prompt of user-1 from 192.0.2.10 at 03:``minute``."""
    return {
        "id": f"denied-{minute}",
        "createdDateTime": f"2025-01-02T03:{minute:02d}:00Z",
        "userId": "user-1",
        "ipAddress": "192.0.2.10",
        "status": {
            "errorCode": 500121,
            "additionalDetails": "MFA denied; user declined the authentication",
        },
    }


def test_table_header_lookalike_not_recognised(tmp_path: Path) -> None:
    # The folded header must spell Severity in the first column, above the rule.
    path = tmp_path / "notes.txt"
    path.write_text("Seve   User\nrain   Other\n\u2501\u2501\u2501\n", encoding="utf-8")

    assert recognised(path) is None


def test_markers_match_writers() -> None:
    assert tool_files.REPORT_TITLE == html_report.TITLE
    assert tool_files.REPORT_TITLE == markdown.TITLE
    first = len(tool_files.CSV_FIRST_COLUMNS)
    assert csv_report.COLUMNS[:first] == tool_files.CSV_FIRST_COLUMNS
    assert tool_files.NOTICE_RECORD_TYPE == partial.NOTICE_RECORD_TYPE
    prefix = tool_files.TIMESKETCH_DATA_TYPE_PREFIX
    assert timesketch.DATA_TYPE.startswith(prefix)
    assert partial.NOTICE_DATA_TYPE.startswith(prefix)
    assert partial.PARTIAL_HEADLINE.startswith(tool_files._TABLE_BANNERS[0])
    for layout in table.TABLE_LAYOUTS:
        assert layout[0] == tool_files._TABLE_FIRST_COLUMN, layout


CONFIG_TEXT = """\
# Thresholds of this tenant
[thresholds]
min_denials = 4

[[allowlist.actors]]
match = "svc-helpdesk@contoso.example"
reason = "helpdesk automation"
"""


@pytest.mark.parametrize("path_option", list(PATH_OPTIONS))
def test_config_file_in_folder_skipped(tmp_path: Path, path_option: str) -> None:
    folder = with_exports(tmp_path / "exports")
    (folder / "h056.toml").write_text(CONFIG_TEXT, "utf-8")
    # A key that the config file does not have still names it as a config file.
    (folder / "other.toml").write_text(
        'revocation_activities = ["Revoke user sessions"]\nthreshold = 3\n', "utf-8"
    )

    result = hunt_folder(folder, *PATH_OPTIONS[path_option])
    reports = file_reports(result)

    for name in ("h056.toml", "other.toml"):
        assert reports[name]["records_seen"] == 1, name
        assert reports[name]["skipped_by_reason"] == {CONFIG_FILE_REASON: 1}, name
        assert f"{folder / name}: h056 config file, not an export" in result.stderr
    assert "invalid JSON" not in result.stderr


def large_config_text(entries: int) -> str:
    """Return a config file with ``entries`` actor allowlist entries, and with
    the revocation activities as a multi-line array at its end."""
    parts = ["[thresholds]\nmin_denials = 4\n"]
    for index in range(entries):
        parts.append(
            "\n[[allowlist.actors]]\n"
            f'match = "svc-automation-{index:05d}@contoso.example"\n'
            f'reason = "automation account {index}, approved by the security team"\n'
        )
    parts.append('\nrevocation_activities = [\n  "Revoke user sessions",\n]\n')
    return "".join(parts)


@pytest.mark.parametrize("path_option", list(PATH_OPTIONS))
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_large_config_in_folder_skipped(
    tmp_path: Path, path_option: str, newline: str
) -> None:
    # A long allowlist makes the file larger than the part that recognition reads.
    folder = with_exports(tmp_path / "exports")
    config = folder / "h056.toml"
    config.write_text(large_config_text(1500), "utf-8", newline=newline)

    result = hunt_folder(folder, *PATH_OPTIONS[path_option])
    reports = file_reports(result)

    assert config.stat().st_size > tool_files.HEAD_BYTES
    assert reports["h056.toml"]["records_seen"] == 1
    assert reports["h056.toml"]["skipped_by_reason"] == {CONFIG_FILE_REASON: 1}
    assert f"{config}: h056 config file, not an export" in result.stderr


def test_config_found_in_hunted_folder(without_config_files: Path) -> None:
    folder = with_exports(without_config_files)
    (folder / "h056.toml").write_text(CONFIG_TEXT, "utf-8")

    result = run(
        "hunt",
        "--audit",
        ".",
        "--signin",
        ".",
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    document = json.loads(result.stdout)
    reports = file_reports(result)

    # The file is both the run's config and a file of the hunted folder.
    assert document["run"]["thresholds"]["min_denials"] == 4
    assert reports["h056.toml"]["skipped_by_reason"] == {CONFIG_FILE_REASON: 1}
    assert load_config(folder / "h056.toml").params.min_denials == 4


@pytest.mark.parametrize("command", ["hunt", "inspect"])
def test_config_in_use_not_warned(without_config_files: Path, command: str) -> None:
    folder = with_exports(without_config_files)
    (folder / "h056.toml").write_text(CONFIG_TEXT, "utf-8")
    (folder / "other.toml").write_text(CONFIG_TEXT, "utf-8")
    if command == "hunt":
        arguments = ["hunt", "--audit", ".", "--signin", ".", "--fail-on", "none"]
    else:
        arguments = ["inspect", "."]

    result = run(*arguments, "-v")

    # Moving the config file in use out of the folder would drop its settings,
    # so only the other config file gets the warning that advises it.
    assert "h056.toml: h056 config file" not in result.stderr
    assert "h056.toml: the config file of this run" in result.stderr
    assert "other.toml: h056 config file, not an export" in result.stderr


def test_given_config_in_folder_not_warned(tmp_path: Path) -> None:
    folder = with_exports(tmp_path / "exports")
    config = folder / "tenant.toml"
    config.write_text(CONFIG_TEXT, "utf-8")

    result = run(
        "hunt",
        "--config",
        str(config),
        *("--audit", str(folder), "--signin", str(folder)),
        *("--format", "json", "--fail-on", "none"),
    )
    reports = file_reports(result)

    assert reports["tenant.toml"]["skipped_by_reason"] == {CONFIG_FILE_REASON: 1}
    assert "tenant.toml: h056 config file" not in result.stderr


def convert_into(folder: Path, out: Path) -> None:
    result = run(
        "convert",
        "--audit",
        str(folder / "audit.json"),
        "--signin",
        str(folder / "signin.json"),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("path_option", list(PATH_OPTIONS))
def test_convert_folder_inside_input_skipped(tmp_path: Path, path_option: str) -> None:
    folder = with_exports(tmp_path / "exports")
    lake = folder / "lake"
    convert_into(folder, lake)
    lake_files = sorted(str(path) for path in lake.rglob("*") if path.is_file())

    # The run is strict, the default, and reads on past the Parquet files.
    result = hunt_folder(folder, *PATH_OPTIONS[path_option])
    files = json.loads(result.stdout)["run"]["files"]
    in_lake = {item["path"]: item for item in files if item["path"] in lake_files}

    assert sorted(in_lake) == lake_files
    for path, report in in_lake.items():
        assert report["records_seen"] == 1, path
        assert report["skipped_by_reason"] == {CONVERT_FOLDER_REASON: 1}, path
        assert report["partial"] is False, path
    warning = f"{lake}: a folder written by h056 convert inside an input folder"
    assert result.stderr.count(warning) == 1
    assert f"its {len(lake_files)} files were skipped" in result.stderr
    assert "file is Parquet" not in result.stderr


def test_convert_folder_matched_by_glob(tmp_path: Path) -> None:
    folder = with_exports(tmp_path / "exports")
    convert_into(folder, folder / "lake")
    pattern = str(folder / "*")

    result = run(
        "hunt",
        "--audit",
        pattern,
        "--signin",
        pattern,
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    reports = file_reports(result)

    assert reports["_h056_manifest.json"]["skipped_by_reason"] == {
        CONVERT_FOLDER_REASON: 1
    }
    assert reports["audit.json"]["skipped"] == 0
    # The folder was matched by the pattern, not found inside an input folder.
    warning = " ".join(result.stderr.split())
    assert (
        f"{folder / 'lake'}: a folder written by h056 convert found through the "
        f"glob pattern {shlex.quote(pattern)}, so its" in warning
    )
    assert "change the pattern so that it leaves the folder out" in warning
    assert "inside an input folder" not in warning


def hunt_with_exports(folder: Path, *extra: str) -> Result:
    """Hunt the sample exports in ``folder`` with the options ``extra``."""
    return hunt_json(folder / "audit.json", folder / "signin.json", *extra)


def skip_reasons(result: Result) -> dict[str, dict[str, int]]:
    """Return the skip reasons of each file of a JSON hunt, by its path."""
    assert result.exit_code == 0, result.stderr
    files = json.loads(result.stdout)["run"]["files"]
    return {item["path"]: item["skipped_by_reason"] for item in files}


@pytest.mark.parametrize("path_option", list(PATH_OPTIONS))
def test_convert_parquet_glob_skipped(tmp_path: Path, path_option: str) -> None:
    folder = with_exports(tmp_path / "exports")
    lake = folder / "sub" / "lake"
    convert_into(folder, lake)
    parquet_files = sorted(str(path) for path in lake.rglob("*.parquet"))
    pattern = str(folder / "sub" / "**" / "*.parquet")

    result = hunt_with_exports(folder, "--signin", pattern, *PATH_OPTIONS[path_option])
    reasons = skip_reasons(result)

    assert len(parquet_files) > 1
    for path in parquet_files:
        assert reasons[path] == {CONVERT_FOLDER_REASON: 1}, path
    warning = " ".join(result.stderr.split())
    assert warning.count(f"{lake}: a folder written by h056 convert") == 1
    assert f"found through the glob pattern {shlex.quote(pattern)}" in warning
    assert f"its {len(parquet_files)} files were skipped" in warning
    assert "file is Parquet" not in warning


def test_convert_folder_listing_glob_skipped(tmp_path: Path) -> None:
    # lake/* matches the manifest and the table folders, not the folder itself.
    folder = with_exports(tmp_path / "exports")
    lake = tmp_path / "lake"
    convert_into(folder, lake)
    lake_files = sorted(str(path) for path in lake.rglob("*") if path.is_file())

    result = hunt_with_exports(folder, "--signin", str(lake / "*"))
    reasons = skip_reasons(result)

    for path in lake_files:
        assert reasons[path] == {CONVERT_FOLDER_REASON: 1}, path
    assert "file is Parquet" not in result.stderr
    assert result.stderr.count(f"{lake}: a folder written by h056 convert") == 1


def test_convert_files_named_skipped(tmp_path: Path) -> None:
    # A Parquet file and a table folder of a convert folder, each named directly.
    folder = with_exports(tmp_path / "exports")
    lake = tmp_path / "lake"
    convert_into(folder, lake)
    parquet_file = sorted((lake / "audit").rglob("*.parquet"))[0]
    signin_files = sorted(str(path) for path in (lake / "signin").rglob("*.parquet"))

    result = hunt_with_exports(
        folder, "--audit", str(parquet_file), "--signin", str(lake / "signin")
    )
    reasons = skip_reasons(result)

    assert reasons[str(parquet_file)] == {CONVERT_FOLDER_REASON: 1}
    for path in signin_files:
        assert reasons[path] == {CONVERT_FOLDER_REASON: 1}, path
    warning = " ".join(result.stderr.split())
    assert warning.count(f"{lake}: a folder written by h056 convert") == 1
    assert f"contains the input {shlex.quote(str(parquet_file))}" in warning
    assert f"its {1 + len(signin_files)} files were skipped" in warning
    assert "inside an input folder" not in warning
    assert "file is Parquet" not in warning


def test_convert_file_alone_not_hunted(tmp_path: Path) -> None:
    folder = with_exports(tmp_path / "exports")
    lake = tmp_path / "lake"
    convert_into(folder, lake)
    parquet_file = sorted((lake / "signin").rglob("*.parquet"))[0]

    # Strict: the one sign-in input contains no usable record.
    result = run(
        "hunt", "--audit", str(folder / "audit.json"), "--signin", str(parquet_file)
    )

    assert result.exit_code == 2
    assert "no usable record" in result.stderr
    assert f"{lake}: a folder written by h056 convert" in result.stderr


def test_convert_file_by_symlink_skipped(tmp_path: Path) -> None:
    folder = with_exports(tmp_path / "exports")
    lake = tmp_path / "lake"
    convert_into(folder, lake)
    part = sorted((lake / "signin").rglob("*.parquet"))[0]
    (folder / "linked.parquet").symlink_to(part)

    result = hunt_folder(folder)
    reasons = skip_reasons(result)

    assert reasons[str(folder / "linked.parquet")] == {CONVERT_FOLDER_REASON: 1}
    # No part of the path as found leads to the folder, so its real path names it.
    warning = " ".join(result.stderr.split())
    assert f"{lake.resolve()}: a folder written by h056 convert" in warning
    assert f"reached through a symlink in the input {folder}" in warning
    assert "inside an input folder" not in warning
    assert "file is Parquet" not in warning


def test_convert_files_of_given_folder(tmp_path: Path) -> None:
    # The folder is read whole, so the warning does not ask to give it.
    folder = with_exports(tmp_path / "exports")
    lake = tmp_path / "lake"
    convert_into(folder, lake)
    parquet_files = sorted(str(path) for path in lake.rglob("*.parquet"))
    pattern = str(lake / "**" / "*.parquet")

    result = run(
        "hunt",
        "--audit",
        str(lake),
        "--signin",
        pattern,
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    reasons = skip_reasons(result)
    reports = file_reports(result)

    assert reports["signin.json"]["loaded"]["signin"] > 0
    for path in parquet_files:
        assert reasons[path] == {CONVERT_FOLDER_REASON: 1}, path
    warning = " ".join(result.stderr.split())
    assert f"{lake}: a folder written by h056 convert found through" in warning
    assert "another input gives the folder itself, which is read whole" in warning
    assert "give the folder itself as an input" not in warning


def test_convert_folder_given_still_read(tmp_path: Path) -> None:
    folder = with_exports(tmp_path / "exports")
    lake = tmp_path / "lake"
    convert_into(folder, lake)

    result = hunt_folder(lake)
    reports = file_reports(result)

    assert reports["signin.json"]["loaded"]["signin"] > 0
    assert "written by h056 convert inside" not in result.stderr


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample exports and one simulated export of every shape, plain and
    gzip-compressed."""
    folder = tmp_path_factory.mktemp("exports")
    exports = sorted(SAMPLES.glob("*.json"))
    for shape in SHAPES:
        for compress in (False, True):
            out = folder / f"{shape}-{compress}"
            config = SimulationConfig(
                users=24,
                days=1,
                seed=5,
                signin_shape=shape,
                audit_shape=shape,
                gzip=compress,
            )
            written = simulate(config, out)
            exports += [written.audit_path, written.signin_path]
    return exports


def test_simulated_exports_not_tool_files(exports: list[Path]) -> None:
    # The simulator's labels.json keeps its own shape and reason too.
    for path in exports:
        assert recognised(path) is None, path


def test_simulated_exports_still_loaded(exports: list[Path]) -> None:
    logs = [path for path in exports if path.name != "labels.json"]
    arguments = [part for path in logs for part in ("--audit", str(path))]
    arguments += [part for path in logs for part in ("--signin", str(path))]

    result = run(
        "hunt", *arguments, "--format", "json", "--fail-on", "none", "--monthfirst"
    )
    files = json.loads(result.stdout)["run"]["files"]

    assert result.exit_code == 0, result.stderr
    for report in files:
        assert FINDINGS_OUTPUT_REASON not in report["skipped_by_reason"]
        assert CONFIG_FILE_REASON not in report["skipped_by_reason"]
        # Every shape repeats the records of one seed, so most copies count as
        # duplicates, which are records read as exports too.
        assert report["records_seen"] > report["skipped"], report["path"]


def test_real_exports_not_tool_files(real_logs_dir: Path, tmp_path: Path) -> None:
    exports = [
        path
        for path in sorted(real_logs_dir.rglob("*"))
        if path.is_file() and path.suffix != ".md"
    ]

    assert exports
    for number, path in enumerate(exports):
        assert recognised(path) is None, path
        compressed = tmp_path / f"{number}-{path.name}.gz"
        compressed.write_bytes(gzip.compress(path.read_bytes()))
        assert recognised(compressed) is None, path


def test_real_exports_still_loaded(real_logs_dir: Path) -> None:
    result = hunt_folder(real_logs_dir)
    files = json.loads(result.stdout)["run"]["files"]

    assert files
    for report in files:
        reasons = report["skipped_by_reason"]
        assert FINDINGS_OUTPUT_REASON not in reasons, report["path"]
        assert CONFIG_FILE_REASON not in reasons, report["path"]
        assert CONVERT_FOLDER_REASON not in reasons, report["path"]


def test_copied_finding_text_not_recognised(
    tmp_path: Path, findings_files: dict[str, Path]
) -> None:
    # A user can set their display name, so a sign-in can carry a finding's text.
    finding_line = findings_files["findings.jsonl"].read_text("utf-8").split("\n")[0]
    table_text = findings_files["findings.txt"].read_text("utf-8")[:400]
    signin = {
        "id": "signin-1",
        "createdDateTime": "2025-01-02T03:00:00Z",
        "userId": "user-1",
        "userDisplayName": finding_line,
        "appDisplayName": table_text,
        "status": {"errorCode": 0},
    }
    export = tmp_path / "signin.ndjson"
    export.write_text(json.dumps(signin) + "\n", "utf-8")

    result = run(
        "hunt",
        "--audit",
        str(SAMPLES / "audit.json"),
        "--signin",
        str(export),
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    report = file_reports(result)["signin.ndjson"]

    assert recognised(export) is None
    assert report["loaded"]["signin"] + report["prefiltered"] == 1


@pytest.mark.parametrize("command", ["hunt", "inspect"])
def test_convert_folder_advice_fits_command(tmp_path: Path, command: str) -> None:
    folder = with_exports(tmp_path / "exports")
    convert_into(folder, folder / "lake")
    if command == "hunt":
        arguments = ["hunt", "--audit", str(folder), "--signin", str(folder)]
        arguments += ["--fail-on", "none"]
    else:
        arguments = ["inspect", str(folder)]

    result = run(*arguments)

    warning = " ".join(result.stderr.split())
    assert "a folder written by h056 convert inside an input folder" in warning
    if command == "inspect":
        # inspect takes paths, not the --audit and --signin options.
        assert "--audit" not in warning
        assert "to describe it, give the folder itself as a path" in warning
    else:
        assert "give the folder itself as an input (such as --audit or" in warning


@pytest.mark.parametrize("path_option", list(PATH_OPTIONS))
def test_tool_file_shapes_named(
    tmp_path: Path, findings_files: dict[str, Path], path_option: str
) -> None:
    folder = with_exports(tmp_path / "exports")
    shutil.copy(findings_files["findings.csv"], folder / "findings.csv")
    (folder / "h056.toml").write_text(CONFIG_TEXT, "utf-8")
    lake = folder / "lake"
    convert_into(folder, lake)
    lake_files = sorted(str(path) for path in lake.rglob("*") if path.is_file())

    result = hunt_folder(folder, *PATH_OPTIONS[path_option])
    files = json.loads(result.stdout)["run"]["files"]
    shapes = {item["path"]: item["shape"] for item in files}

    assert shapes[str(folder / "findings.csv")] == "h056-findings"
    assert shapes[str(folder / "h056.toml")] == "h056-config"
    for path in lake_files:
        assert shapes[path] == "h056-convert-folder", path
    assert "unknown" not in shapes.values()


def hunt_folder_as(folder: Path, output_format: str) -> Result:
    """Hunt ``folder`` with the run summary laid out for 200 columns."""
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            str(folder),
            "--signin",
            str(folder),
            "--format",
            output_format,
            "--fail-on",
            "none",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.stderr
    return result


def test_convert_folder_one_summary_row(tmp_path: Path) -> None:
    folder = with_exports(tmp_path / "exports")
    lake = folder / "lake"
    convert_into(folder, lake)
    file_count = sum(1 for path in lake.rglob("*") if path.is_file())
    folder_cell = f"{lake} ({file_count} files)"

    text = hunt_folder_as(folder, "table").stderr
    markdown_text = hunt_folder_as(folder, "markdown").stdout
    html_text = hunt_folder_as(folder, "html").stdout

    summary_lines = [line for line in text.splitlines() if str(lake) in line]
    assert len(summary_lines) == 2, summary_lines
    assert "a folder written by h056 convert" in summary_lines[0]
    assert folder_cell in summary_lines[1]
    assert "h056-convert-folder" in summary_lines[1]
    assert f" {file_count} " in summary_lines[1]
    markdown_rows = [line for line in markdown_text.splitlines() if str(lake) in line]
    assert len(markdown_rows) == 1, markdown_rows
    assert markdown_rows[0].startswith(f"| `{lake}` ({file_count} files) |")
    # HTML breaks paths after each separator, so the row is found by its shape.
    html_rows = [
        line
        for line in html_text.splitlines()
        if "<td>h056-convert-folder</td>" in line
    ]
    assert len(html_rows) == 1, html_rows
    assert f"lake</code> ({file_count} files)</td>" in html_rows[0]
    # JSON keeps one record per file, each with its folder.
    files = json.loads(hunt_folder(folder).stdout)["run"]["files"]
    in_lake = [item for item in files if item["path"].startswith(f"{lake}/")]
    assert len(in_lake) == file_count
    for item in in_lake:
        assert item["in_convert_folder"] == str(lake), item["path"]
    exports = [item for item in files if item not in in_lake]
    for item in exports:
        assert item["in_convert_folder"] is None, item["path"]
