"""The h056 script with standard output or standard error closed at start."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cli_runs import SAMPLE_HUNT, SCRIPT

HUNT = SAMPLE_HUNT


def _script_with_closed(
    descriptor: int, *args: str
) -> subprocess.CompletedProcess[bytes]:
    # The shell closes the descriptor before it runs the script, so Python starts
    # with sys.stdout or sys.stderr set to None.
    command = f'exec "$0" "$@" {descriptor}>&-'
    # Capture only the stream that stays open.
    open_stream = "stderr" if descriptor == 1 else "stdout"
    captured = {open_stream: subprocess.PIPE}
    return subprocess.run(
        ["sh", "-c", command, str(SCRIPT), *args],
        timeout=120,
        check=False,
        **captured,
    )


def test_closed_stdout_is_input_error() -> None:
    completed = _script_with_closed(1, *HUNT)

    assert completed.returncode == 2
    assert b"standard output is closed" in completed.stderr
    assert b"--output" in completed.stderr
    assert b"Traceback" not in completed.stderr


def test_closed_stdout_with_output_file(tmp_path: Path) -> None:
    target = tmp_path / "findings.jsonl"

    completed = _script_with_closed(1, *HUNT, "--output", str(target))

    assert completed.returncode == 1
    assert target.read_bytes().endswith(b"}\n")


def test_closed_stderr_still_writes_findings() -> None:
    expected = subprocess.run(
        [str(SCRIPT), *HUNT], capture_output=True, timeout=120, check=False
    )

    completed = _script_with_closed(2, *HUNT)

    assert expected.returncode == 1
    assert completed.returncode == 1
    assert completed.stdout == expected.stdout
    assert completed.stdout.endswith(b"}\n")
