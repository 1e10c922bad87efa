"""Ways to run the h056 command that several test modules share."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from h056hunt.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
# The console script that the venv's pip install wrote beside this interpreter.
SCRIPT = Path(sys.executable).with_name("h056")
# A hunt of the shipped samples, without output options.
SAMPLE_INPUTS = [
    "hunt",
    "--audit",
    str(SAMPLES / "audit.json"),
    "--signin",
    str(SAMPLES / "signin.json"),
]
SAMPLE_HUNT = [*SAMPLE_INPUTS, "--format", "jsonl"]


def run_cli(arguments: list[str]) -> Result:
    """Run the CLI in-process and put the ``h056hunt`` logger back afterwards."""
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        return CliRunner().invoke(main, arguments)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def hunt_files(audit: Path, signin: Path, *extra: str) -> Result:
    """Run ``h056 hunt`` in this process over one audit and one sign-in input,
    never failing on findings."""
    return CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            str(audit),
            "--signin",
            str(signin),
            "--fail-on",
            "none",
            *extra,
        ],
    )


def hunt_jsonl(audit: Path, signin: Path, *extra: str) -> Result:
    """Run :func:`hunt_files` writing jsonl."""
    return hunt_files(audit, signin, "--format", "jsonl", *extra)


def details_lines(audit: Path | str, signin: Path | str, columns: int) -> list[str]:
    """Return the stdout lines of a quiet ``--details`` table run at ``columns``
    wide, with bursts from three denials on."""
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "-q",
            "--min-denials",
            "3",
            "--fail-on",
            "none",
            "--details",
            "--audit",
            str(audit),
            "--signin",
            str(signin),
        ],
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


# Run summary fields that differ between the fast and the plain path for every
# file: the fast path counts the records that it does not decode as pre-filtered.
PREFILTER_FIELDS = ("loaded", "prefiltered", "prompts")


def problem_lines(stderr: str) -> list[str]:
    """Return the error, warning and hint lines of a run's stderr."""
    return [
        line
        for line in stderr.splitlines()
        if "ERROR" in line or "WARNING" in line or line.startswith("  hint:")
    ]


def without_prefilter_fields(value: Any) -> Any:
    """Return a JSON report without the fields that :data:`PREFILTER_FIELDS` names."""
    if isinstance(value, dict):
        return {
            key: without_prefilter_fields(item)
            for key, item in value.items()
            if key not in PREFILTER_FIELDS
        }
    if isinstance(value, list):
        return [without_prefilter_fields(item) for item in value]
    return value


def assert_fast_same_as_plain(
    audit: Path, signin: Path, checked: Path, *extra: str, fast_path: bool = True
) -> Result:
    """Hunt with and without ``--no-fast-path`` and assert the same result.

    Compares the exit codes, the error, warning and hint lines, the jsonl findings
    byte for byte and the json report without :data:`PREFILTER_FIELDS`. The debug
    log must show that ``checked`` was read by the fast path, or by the plain path
    when ``fast_path`` is False.

    Returns:
        The fast path's json run, or its jsonl run when it stopped with exit code
        2 and wrote no report.
    """
    plain = ("--no-fast-path",)
    fast_jsonl = hunt_files(audit, signin, "-vv", "--format", "jsonl", *extra)
    plain_jsonl = hunt_files(audit, signin, "-vv", "--format", "jsonl", *plain, *extra)

    assert fast_jsonl.exit_code == plain_jsonl.exit_code
    assert problem_lines(fast_jsonl.stderr) == problem_lines(plain_jsonl.stderr)
    assert fast_jsonl.stdout_bytes == plain_jsonl.stdout_bytes
    if plain_jsonl.exit_code == 2:
        # A run that stops at an input error writes no report in any format.
        assert not fast_jsonl.stdout_bytes
        fast_json = fast_jsonl
    else:
        fast_json = hunt_files(audit, signin, "-vv", "--format", "json", *extra)
        plain_json = hunt_files(
            audit, signin, "-vv", "--format", "json", *plain, *extra
        )
        assert fast_json.exit_code == plain_json.exit_code
        assert problem_lines(fast_json.stderr) == problem_lines(plain_json.stderr)
        fast_report = json.loads(fast_json.stdout)
        plain_report = json.loads(plain_json.stdout)
        assert fast_report["findings"] == plain_report["findings"]
        assert without_prefilter_fields(fast_report) == without_prefilter_fields(
            plain_report
        )
    # With -vv the run logs why a file goes to the plain path, before reading it.
    plain_read = f"{checked.name}: read by the plain path" in fast_json.stderr
    assert plain_read is not fast_path, fast_json.stderr
    if fast_json.exit_code != 2:
        fast_read = f"{checked.name}: graph shape, fast path" in fast_json.stderr
        assert fast_read is fast_path, fast_json.stderr
    return fast_json


def simulate_small(out: Path, signin_shape: str, audit_shape: str) -> Path:
    """Simulate a 30-user, 2-noise tenant in the given export shapes into ``out``."""
    result = CliRunner().invoke(
        main,
        ["simulate", "--users", "30", "--noise", "2"]
        + ["--signin-shape", signin_shape, "--audit-shape", audit_shape]
        + ["--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out
