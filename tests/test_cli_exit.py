"""Tests for the h056 console script, which ends the process without teardown."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import SAMPLE_HUNT, SCRIPT
from h056hunt import cli
from h056hunt.cli import main

HUNT = SAMPLE_HUNT


def _script(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, timeout=120, check=False
    )


def test_script_output_matches_in_process_run() -> None:
    completed = _script(*HUNT)
    in_process = CliRunner().invoke(main, HUNT)

    assert completed.returncode == in_process.exit_code == 1
    assert completed.stdout == in_process.stdout_bytes
    assert completed.stdout.endswith(b"}\n")


def test_script_writes_output_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "findings.jsonl"

    completed = _script(*HUNT, "--output", str(target))

    assert completed.returncode == 1
    assert target.read_bytes() == _script(*HUNT).stdout


def test_script_exit_codes_of_errors(tmp_path: Path) -> None:
    missing = _script("hunt", "--audit", str(tmp_path / "missing.json"))
    unknown = _script("hunt", "--no-such-option")
    version = _script("--version")

    assert missing.returncode == 2
    assert b"missing.json" in missing.stderr
    assert unknown.returncode == 2
    assert b"No such option" in unknown.stderr
    assert version.returncode == 0
    assert version.stdout.startswith(b"h056, version ")


def test_script_under_profiler_writes_report(tmp_path: Path) -> None:
    # A profiler writes its report at interpreter exit, which a hard exit skips.
    report = tmp_path / "hunt.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(report), str(SCRIPT)]

    completed = subprocess.run(
        [*command, *HUNT], capture_output=True, timeout=120, check=False
    )

    assert completed.stdout.endswith(b"}\n")
    assert report.stat().st_size > 0


def test_interrupt_while_starting_gives_one_line() -> None:
    # Importing pandas and pyarrow takes far longer than 0.15 s, so the signal
    # arrives while the script starts.
    process = subprocess.Popen(
        [str(SCRIPT), *HUNT], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(0.15)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert b"Traceback" not in stderr
    assert b"interrupted" in stderr
    assert stdout == b""


def test_output_to_fifo_written_in_place(tmp_path: Path) -> None:
    # A rename over the path would replace the pipe, and as root a device such as
    # /dev/null, with a regular file.
    fifo = tmp_path / "findings.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()

    completed = _script(*HUNT, "--output", str(fifo))
    reader.join(timeout=60)

    assert completed.returncode == 1
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received == [_script(*HUNT).stdout]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_full_disk_on_stdout_is_exit_2() -> None:
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [str(SCRIPT), *HUNT], stdout=full, stderr=subprocess.PIPE, timeout=120
        )

    assert completed.returncode == 2
    assert b"No space left on device" in completed.stderr
    assert b"internal error" not in completed.stderr


def test_empty_signin_page_summary_without_findings(tmp_path: Path) -> None:
    page = tmp_path / "signin.json"
    page.write_text('{"value": []}')
    audit = SAMPLE_HUNT[SAMPLE_HUNT.index("--audit") + 1]

    result = CliRunner().invoke(main, ["hunt", "--audit", audit, "--signin", str(page)])

    assert result.exit_code == 2
    assert "Sign-in log: no records" in result.stderr
    assert "the --signin inputs contain no records at all" in result.stderr
    # The run failed, so the summary gives no count of findings.
    assert "findings:" not in result.stderr


@pytest.mark.parametrize("writes_output", [True, False])
def test_interrupt_message_names_output_if_given(
    writes_output: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def work() -> int:
        raise KeyboardInterrupt

    status = cli._run_work(work, False, writes_output)

    assert status == 130
    message = caplog.records[-1].getMessage()
    assert "anything printed so far is incomplete" in message
    assert ("--output" in message) == writes_output
