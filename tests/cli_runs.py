"""Ways to run the h056 command that several test modules share."""

from __future__ import annotations

import sys
from pathlib import Path

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
