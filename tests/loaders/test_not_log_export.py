"""Messages for files that are valid JSON or gzip but hold no log records.

Each test writes the file and runs ``h056 hunt`` through the CLI, with an audit file
beside it so the run has records to hunt.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.loaders.csv_export import TAB_SEPARATED_REASON
from h056hunt.loaders.json_export import JSON_SCALAR_REASON

AUDIT = {
    "id": "audit-1",
    "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
    "activityDateTime": "2025-01-02T03:00:00Z",
    "result": "success",
    "initiatedBy": {"user": {"id": "admin-id", "userPrincipalName": "a@x.example"}},
    "targetResources": [{"id": "user-id", "type": "User"}],
}


def run_hunt(folder: Path, signin: Path, *extra: str) -> Result:
    audit = folder / "audit.json"
    audit.write_text(json.dumps({"value": [AUDIT]}), "utf-8")
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    arguments = ["hunt", "--audit", str(audit), "--signin", str(signin)]
    try:
        return CliRunner().invoke(
            main, [*arguments, "--format", "json", "--fail-on", "none", *extra]
        )
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def file_report(result: Result, name: str) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    files = json.loads(result.stdout)["run"]["files"]
    (found,) = [item for item in files if item["path"].endswith(name)]
    assert isinstance(found, dict)
    return found


SCALARS = {
    "null": ("null", "null"),
    "number": ("42", "number"),
    "string": ('"hello"', "string"),
    "boolean": ("true", "boolean"),
    "string with blank lines": ('\n  "hello"  \n\n', "string"),
}


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
@pytest.mark.parametrize("mode", [[], ["--lenient"]], ids=["strict", "lenient"])
@pytest.mark.parametrize("case", list(SCALARS))
def test_json_scalar_named_as_json(
    tmp_path: Path, case: str, mode: list[str], path_option: list[str]
) -> None:
    text, type_name = SCALARS[case]
    signin = tmp_path / "signin.json"
    signin.write_text(text, "utf-8")

    result = run_hunt(tmp_path, signin, *mode, *path_option)

    assert "neither JSON" not in result.stderr
    assert "valid JSON but not a log export" in result.stderr
    assert f"one JSON {type_name}, not an object or an array" in result.stderr
    if not mode:
        # Strict: the only sign-in file was skipped, so nothing was hunted.
        assert result.exit_code == 2
        assert "--signin inputs contain no usable record" in result.stderr
        return
    report = file_report(result, "signin.json")
    assert report["records_seen"] == 1
    assert report["skipped_by_reason"] == {JSON_SCALAR_REASON: 1}


def test_prose_line_still_not_json(tmp_path: Path) -> None:
    signin = tmp_path / "signin.json"
    signin.write_text("hello world\n", "utf-8")

    result = run_hunt(tmp_path, signin, "--lenient")
    report = file_report(result, "signin.json")

    assert "neither JSON nor a delimited header" in result.stderr
    assert report["skipped_by_reason"] == {"not a log export (file)": 1}


def test_cut_gzip_page_names_gzip(tmp_path: Path) -> None:
    records = [
        {
            "id": f"signin-{number}",
            "createdDateTime": f"2025-01-02T03:{number:02d}:00Z",
            "userId": "user-id",
            "status": {"errorCode": 0},
        }
        for number in range(40)
    ]
    whole = gzip.compress(json.dumps({"value": records}, indent=2).encode())
    signin = tmp_path / "signin.json.gz"
    signin.write_bytes(whole[: len(whole) // 2])

    result = run_hunt(tmp_path, signin, "--lenient")
    report = file_report(result, "signin.json.gz")

    assert "line 0" not in result.stderr
    assert "column None" not in result.stderr
    assert "corrupt or truncated gzip data" in result.stderr
    assert report["partial"] is True
    assert report["skipped_by_reason"] == {"corrupt or cut-off gzip data": 1}
    loaded = sum(report["loaded"].values())
    assert report["records_seen"] == loaded + report["skipped"]


TAB_SEPARATED_SIGNINS = (
    "Date (UTC)\tRequest ID\tUser ID\tUsername\tSign-in error code\n"
    "2025-01-02T03:10:00Z\treq-1\tuser-id\tu@x.example\t500121\n"
)


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_tab_separated_named_as_such(tmp_path: Path, path_option: list[str]) -> None:
    signin = tmp_path / "signin.csv"
    signin.write_text(TAB_SEPARATED_SIGNINS, "utf-8")

    strict = run_hunt(tmp_path, signin, *path_option)
    lenient = run_hunt(tmp_path, signin, "--lenient", *path_option)
    report = file_report(lenient, "signin.csv")

    # The file has a delimited header, so the prose message would mislead.
    assert "neither JSON nor a delimited header" not in strict.stderr
    assert "tab-separated" in strict.stderr
    assert "comma- or semicolon-separated" in strict.stderr
    assert strict.exit_code == 2
    assert "Traceback" not in strict.stderr
    assert report["skipped_by_reason"] == {TAB_SEPARATED_REASON: 1}


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_unrecognised_header_quoted_once(
    tmp_path: Path, path_option: list[str]
) -> None:
    signin = tmp_path / "other.csv"
    # A column name with a backslash that reads like an escape.
    signin.write_text("co\\x41l,other\n1,2\n", encoding="utf-8")

    result = run_hunt(tmp_path, signin, "--lenient", *path_option)

    assert result.exit_code == 0, result.stderr
    # repr() doubles the backslash once, and the log formatter keeps it so.
    assert "(first columns: 'co\\\\x41l', 'other'); 1 row skipped" in result.stderr


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_unrecognised_header_long_names_cut(
    tmp_path: Path, path_option: list[str]
) -> None:
    signin = tmp_path / "other.csv"
    names = [f"{'x' * 3000}{number}" for number in range(6)]
    signin.write_text(",".join(names) + "\n" + ",".join("1" * 6) + "\n", "utf-8")

    result = run_hunt(tmp_path, signin, "--lenient", *path_option)

    (warning,) = [
        line for line in result.stderr.splitlines() if "first columns" in line
    ]
    assert result.exit_code == 0, result.stderr
    assert "…[+2,801 characters]" in warning
    assert warning.endswith(", ...); 1 row skipped")
    assert len(warning) < 2000


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_columns_not_in_utc_bounded(tmp_path: Path, path_option: list[str]) -> None:
    signin = tmp_path / "la.csv"
    local = [f"c{number} [{'L' * 3000}]" for number in range(2)]
    local += [f"d{number} [local]" for number in range(100)]
    header = ["TimeGenerated [UTC]", "Category", "UserPrincipalName", "UserId", "Id"]
    row = ["2025-01-02T03:01:00Z", "SignInLogs", "b@x.example", "user-id", "S1"]
    text = ",".join(header + local) + "\n" + ",".join(row + ["x"] * len(local))
    signin.write_text(text + "\n", "utf-8")

    result = run_hunt(tmp_path, signin, *path_option)

    (warning,) = [line for line in result.stderr.splitlines() if "not marked" in line]
    assert result.exit_code == 0, result.stderr
    assert "…[+2,802 characters]" in warning
    assert "'d2 [local]' and 97 more are not marked [UTC]" in warning
    assert len(warning) < 2000
