"""Ctrl-C during a run: exit code 130, one message, and no output file half written.

A real Ctrl-C sends SIGINT to every process of the terminal's foreground group, so
the tests start the CLI in its own session and signal the whole group, once the
input file is open.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import pytest
from hostile import run_cli

from h056hunt import render
from h056hunt.findings import Finding
from h056hunt.render.context import RenderContext

RECORDS = 500_000
RECORD = json.dumps(
    {
        "id": "S{number}",
        "createdDateTime": "2025-01-02T03:04:05Z",
        "userId": "user-{user}",
        "userPrincipalName": "user{user}@contoso.example",
        "ipAddress": "203.0.113.5",
        "status": {
            "errorCode": 500121,
            "additionalDetails": "MFA denied; user declined the authentication",
        },
    }
)
TEMPLATE = (
    RECORD.replace("{", "{{")
    .replace("}", "}}")
    .replace("{{number}}", "{number}")
    .replace("{{user}}", "{user}")
)
ARGUMENTS = ["--fail-on", "none", "--format", "jsonl"]


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 100 MB of sign-ins, enough to take seconds to load."""
    path = tmp_path_factory.mktemp("big") / "signins.json"
    with path.open("w", encoding="utf-8") as stream:
        for number in range(RECORDS):
            stream.write(TEMPLATE.format(number=number, user=number % 500) + "\n")
    return path


def group_has_open(group: int, path: Path) -> bool:
    """Tell whether a process of process group ``group`` has ``path`` open.

    The group matters because loading may happen in worker processes.
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            targets = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        if str(path) in targets:
            return True
    return False


def wait_until_open(process: subprocess.Popen[bytes], path: Path) -> None:
    """Wait until the run has ``path`` open, so loading has begun."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the run ended before it was interrupted")
        if group_has_open(process.pid, path):
            return
        time.sleep(0.05)
    pytest.fail(f"the run did not open {path} within 60 s")


def interrupt_while_loading(
    arguments: list[str], path: Path, environment: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run the CLI, send Ctrl-C's SIGINT while it loads; return exit code, stderr."""
    with subprocess.Popen(
        [str(Path(sys.executable).with_name("h056")), *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, **(environment or {})},
    ) as process:
        try:
            wait_until_open(process, path)
            time.sleep(0.3)
            os.killpg(process.pid, signal.SIGINT)
            _, errors = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
    return process.returncode, errors.decode()


pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").exists(), reason="open files are read from /proc"
)


@pytest.mark.parametrize(
    "environment", [{}, {"H056_NO_FAST_PATH": "1"}], ids=["default", "plain_path"]
)
def test_ctrl_c_exits_130_without_traceback(
    big_export: Path, environment: dict[str, str]
) -> None:
    code, errors = interrupt_while_loading(
        ["hunt", "--signin", str(big_export), *ARGUMENTS], big_export, environment
    )

    assert code == 130, errors
    assert "Traceback" not in errors
    assert "h056: ERROR: interrupted" in errors


def test_ctrl_c_leaves_no_output_file(big_export: Path, tmp_path: Path) -> None:
    target = tmp_path / "findings.jsonl"

    code, errors = interrupt_while_loading(
        ["hunt", "--signin", str(big_export), "--output", str(target), *ARGUMENTS],
        big_export,
    )

    assert code == 130, errors
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_keeps_previous_output(big_export: Path, tmp_path: Path) -> None:
    target = tmp_path / "findings.jsonl"
    target.write_text("previous run\n", encoding="utf-8")

    code, errors = interrupt_while_loading(
        ["hunt", "--signin", str(big_export), "--output", str(target), *ARGUMENTS],
        big_export,
    )

    assert code == 130, errors
    assert target.read_text(encoding="utf-8") == "previous run\n"
    assert list(tmp_path.iterdir()) == [target]


def children_of(parent: int) -> list[int]:
    """Return the ids of the running processes whose parent is ``parent``."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii")
        except OSError:
            continue
        # The state and the parent id follow the command name, in brackets.
        state, parent_id = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent_id) == parent and state != "Z":
            children.append(int(entry.name))
    return children


def wait_for_workers(process: subprocess.Popen[bytes]) -> list[int]:
    """Wait until the run has forked its early scan workers; return their ids."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the run ended before it forked scan workers")
        workers = children_of(process.pid)
        if workers:
            return workers
        time.sleep(0.005)
    pytest.fail("the run forked no scan worker within 60 s")


def still_running(pids: list[int]) -> list[int]:
    """Wait up to 10 s for the processes to end; return those still running."""
    deadline = time.monotonic() + 10
    running = pids
    while running and time.monotonic() < deadline:
        time.sleep(0.05)
        running = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    return running


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="one core: the scan starts no workers"
)
def test_ctrl_c_while_starting_exits_quietly(big_export: Path, tmp_path: Path) -> None:
    # The console script forks the early scan's workers, then imports pandas for
    # about half a second. The delays spread the signal over that time and into
    # the run; the group signal is what a terminal's Ctrl-C sends.
    messages = []
    for delay in (0.0, 0.05, 0.15, 0.4):
        for whole_group in (False, True):
            # The run's folder of index files goes in here and must be removed.
            temporary = tmp_path / f"tmp-{delay}-{whole_group}"
            temporary.mkdir()
            process = subprocess.Popen(
                [str(Path(sys.executable).with_name("h056")), "hunt"]
                + ["--signin", str(big_export), *ARGUMENTS],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env={**os.environ, "TMPDIR": str(temporary)},
            )
            try:
                workers = wait_for_workers(process)
                time.sleep(delay)
                if whole_group:
                    os.killpg(process.pid, signal.SIGINT)
                else:
                    process.send_signal(signal.SIGINT)
                signalled = time.monotonic()
                _, output = process.communicate(timeout=60)
                seconds_to_exit = time.monotonic() - signalled
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.communicate()
            errors = output.decode()

            assert process.returncode == 130, (delay, errors)
            # Waiting for the workers' scans to end took 10 s and more.
            assert seconds_to_exit < 5
            assert "Traceback" not in errors
            assert "Exception ignored" not in errors
            assert len(errors.splitlines()) == 1, errors
            assert errors.startswith("h056: ERROR: interrupted")
            assert still_running(workers) == []
            assert list(temporary.iterdir()) == []
            messages.append(errors)

    assert any("interrupted while starting" in message for message in messages)


def test_inspect_ctrl_c_exits_130(big_export: Path) -> None:
    code, errors = interrupt_while_loading(["inspect", str(big_export)], big_export)

    assert code == 130, errors
    assert "Traceback" not in errors


def write_then_interrupt(
    findings: list[Finding], stream: TextIO, context: RenderContext
) -> None:
    stream.write('{"finding_id": "half')
    stream.flush()
    raise KeyboardInterrupt


def small_export(folder: Path) -> Path:
    path = folder / "signins.json"
    path.write_text(TEMPLATE.format(number=1, user=1) + "\n", encoding="utf-8")
    return path


def test_interrupted_write_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(render.RENDERERS, "jsonl", write_then_interrupt)
    exports = tmp_path / "in"
    exports.mkdir()
    target = tmp_path / "out" / "findings.jsonl"
    target.parent.mkdir()

    result = run_cli(
        ["hunt", "--signin", str(small_export(exports)), "--output", str(target)]
        + ARGUMENTS
    )

    assert result.exit_code == 130
    assert "Traceback" not in result.stderr
    assert list(target.parent.iterdir()) == []


def test_completed_write_replaces_file(tmp_path: Path) -> None:
    exports = tmp_path / "in"
    exports.mkdir()
    target = tmp_path / "out" / "findings.jsonl"
    target.parent.mkdir()
    target.write_text("previous run\n", encoding="utf-8")
    previous_inode = target.stat().st_ino

    result = run_cli(
        ["hunt", "--signin", str(small_export(exports)), "--output", str(target)]
        + ARGUMENTS
    )

    assert result.exit_code == 0, result.stderr
    assert target.read_text(encoding="utf-8") == ""
    assert target.stat().st_ino != previous_inode
    assert list(target.parent.iterdir()) == [target]


def test_failed_run_keeps_previous_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "cut', encoding="utf-8")
    target = tmp_path / "out" / "findings.jsonl"
    target.parent.mkdir()
    target.write_text("previous run\n", encoding="utf-8")

    result = run_cli(
        ["hunt", "--signin", str(broken), "--output", str(target), *ARGUMENTS]
    )

    assert result.exit_code == 2
    assert target.read_text(encoding="utf-8") == "previous run\n"
    assert list(target.parent.iterdir()) == [target]
