"""The error that stops a run repeats the advice of the warnings about skipped
files, which ``-q`` hides.

Each case runs ``h056 hunt`` through the CLI with and without ``-q`` and reads the
``hint:`` line of the final error.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from cli_runs import run_cli

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
TAB_SEPARATED_SIGNINS = (
    "Date (UTC)\tRequest ID\tUser ID\tUsername\tSign-in error code\n"
    "2025-01-02T03:10:00Z\treq-1\tuser-id\tu@x.example\t500121\n"
)
TAB_ADVICE = (
    "save or export each tab-separated file as comma- or semicolon-separated CSV"
)
GRAPH_ADVICE = (
    "check the permissions of the account that exported the log and the query, "
    "then export again"
)
FINDINGS_ADVICE = (
    "leave the h056 findings output out of the inputs, which take only audit and "
    "sign-in exports"
)
CONVERT_ADVICE = (
    "give a folder written by h056 convert itself as an input, not the files inside it"
)
QUIET_OPTIONS = pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["loud", "quiet"])


def hint_line(result: Result) -> str:
    """Return the ``hint:`` line of the error that ended the run."""
    lines = result.stderr.splitlines()
    errors = [index for index, line in enumerate(lines) if "h056: ERROR:" in line]
    assert errors, result.stderr
    following = lines[errors[-1] + 1]
    assert following.startswith("  hint: "), result.stderr
    return following


def write_tab_separated(folder: Path) -> Path:
    path = folder / "signin.txt"
    path.write_text(TAB_SEPARATED_SIGNINS, "utf-8")
    return path


def write_graph_error(folder: Path) -> Path:
    path = folder / "signin.json"
    error = {"code": "Authorization_RequestDenied", "message": "Insufficient"}
    path.write_text(json.dumps({"error": error}), "utf-8")
    return path


def write_findings_output(folder: Path) -> Path:
    path = folder / "findings.json"
    arguments = ["--audit", str(SAMPLES / "audit.json")]
    arguments += ["--signin", str(SAMPLES / "signin.json")]
    result = run_cli(
        ["hunt", *arguments, "--format", "json", "--output", str(path)]
        + ["--fail-on", "none", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    return path


def write_convert_folder(folder: Path) -> Path:
    """Convert the sample sign-ins and return a folder that contains the result,
    so the hunt reaches the convert folder's files one by one."""
    outer = folder / "exports"
    outer.mkdir()
    result = run_cli(
        [
            "convert",
            "--signin",
            str(SAMPLES / "signin.json"),
            "--out",
            str(outer / "lake"),
            "-q",
        ]
    )
    assert result.exit_code == 0, result.stderr
    return outer


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "tab-separated": (write_tab_separated, TAB_ADVICE),
    "graph error": (write_graph_error, GRAPH_ADVICE),
    "findings output": (write_findings_output, FINDINGS_ADVICE),
    "convert folder files": (write_convert_folder, CONVERT_ADVICE),
}


@QUIET_OPTIONS
@pytest.mark.parametrize("case", sorted(CASES))
def test_no_usable_record_gives_advice(
    tmp_path: Path, case: str, quiet: list[str]
) -> None:
    write, advice = CASES[case]
    signin = write(tmp_path)

    result = run_cli(["hunt", "--signin", str(signin), *quiet])

    assert result.exit_code == 2, result.stderr
    assert "no usable record" in result.stderr
    assert advice in hint_line(result)


@QUIET_OPTIONS
def test_lenient_nothing_usable_gives_advice(tmp_path: Path, quiet: list[str]) -> None:
    signin = write_tab_separated(tmp_path)

    result = run_cli(["hunt", "--signin", str(signin), "--lenient", *quiet])

    assert result.exit_code == 2, result.stderr
    assert "no input contains a usable record" in result.stderr
    assert TAB_ADVICE in hint_line(result)


@QUIET_OPTIONS
def test_missing_log_gives_advice(tmp_path: Path, quiet: list[str]) -> None:
    # The audit copy given with --signin makes the option's records usable, so
    # the run stops because no sign-in record was found.
    signin = write_tab_separated(tmp_path)
    audit_copy = tmp_path / "audit-copy.json"
    shutil.copy(SAMPLES / "audit.json", audit_copy)
    arguments = ["--audit", str(SAMPLES / "audit.json")]
    arguments += ["--signin", str(signin), "--signin", str(audit_copy)]

    result = run_cli(["hunt", *arguments, *quiet])

    assert result.exit_code == 2, result.stderr
    assert "no input contains a sign-in record" in result.stderr
    assert TAB_ADVICE in hint_line(result)
    assert "give the sign-in log export with --signin" in hint_line(result)


@QUIET_OPTIONS
def test_generic_hint_without_advice(tmp_path: Path, quiet: list[str]) -> None:
    # A file that is not a log export has no advice of its own.
    signin = tmp_path / "notes.txt"
    signin.write_text("just some notes\n", "utf-8")

    result = run_cli(["hunt", "--signin", str(signin), *quiet])

    assert result.exit_code == 2, result.stderr
    hint = hint_line(result)
    assert hint == "  hint: check that the files are the exports you meant to give"


@QUIET_OPTIONS
def test_convert_gives_advice(tmp_path: Path, quiet: list[str]) -> None:
    signin = write_tab_separated(tmp_path)
    out = tmp_path / "lake"

    result = run_cli(["convert", "--signin", str(signin), "--out", str(out), *quiet])

    assert result.exit_code == 2, result.stderr
    assert "so nothing was converted" in result.stderr
    assert TAB_ADVICE in hint_line(result)


@QUIET_OPTIONS
def test_lenient_hint_points_to_warnings_that_are_shown(
    tmp_path: Path, quiet: list[str]
) -> None:
    signin = tmp_path / "notes.txt"
    signin.write_text("just some notes\n", "utf-8")

    result = run_cli(["hunt", "--signin", str(signin), "--lenient", *quiet])

    assert result.exit_code == 2, result.stderr
    hint = hint_line(result)
    if quiet:
        # -q hides every warning, so no warning above gives the reason.
        assert "h056: WARNING" not in result.stderr
        assert "warnings above" not in hint
        assert "rerun without -q" in hint
    else:
        assert "h056: WARNING" in result.stderr
        assert "the warnings above say why records were skipped" in hint
