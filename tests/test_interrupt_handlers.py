"""Tests for Ctrl-C handling outside a command's work and for stopping workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from h056hunt import interrupts
from h056hunt.loaders import fastpath

# A process that starts a worker, installs the exit handler, and signals itself.
# It prints the worker's id, then whether Ctrl-C raised KeyboardInterrupt.
CHILD = """
import multiprocessing, os, signal, sys, time
from h056hunt import interrupts
worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
worker.start()
print(worker.pid, flush=True)
interrupts.exit_on_interrupt("interrupted while testing")
for step in sys.argv[1:]:
    if step == "raise":
        interrupts.raise_on_interrupt()
    elif step == "keep":
        interrupts.keep_status_on_interrupt(7)
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    worker.terminate()
"""


def _run_child(*steps: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, *steps],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _still_running(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return Path(f"/proc/{pid}").exists()


def test_exit_handler_writes_one_line() -> None:
    completed = _run_child()
    worker = int(completed.stdout.split()[0])

    assert completed.returncode == interrupts.INTERRUPTED
    assert completed.stderr == "h056: ERROR: interrupted while testing\n"
    assert completed.stdout.split()[1:] == []
    assert not _still_running(worker)


def test_kept_status_exits_silently() -> None:
    completed = _run_child("keep")
    worker = int(completed.stdout.split()[0])

    assert completed.returncode == 7
    assert completed.stderr == ""
    assert not _still_running(worker)


def test_raise_on_interrupt_restores_exception() -> None:
    completed = _run_child("raise")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[1:] == ["KeyboardInterrupt"]
    assert completed.stderr == ""


def test_keep_status_in_process_does_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)

    interrupts.keep_status_on_interrupt(7)
    interrupts.raise_on_interrupt()

    assert signal.getsignal(signal.SIGINT) is before


def test_held_delivers_signal_after_block() -> None:
    # A thread started before the block keeps SIGINT unblocked, as OpenBLAS's
    # and Arrow's threads do, so the signal is delivered to it.
    sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
    before = signal.getsignal(signal.SIGINT)
    steps = []

    with pytest.raises(KeyboardInterrupt), interrupts.held():
        sender.start()
        sender.join()
        time.sleep(0.05)
        steps.append("end of block")

    assert steps == ["end of block"]
    assert signal.getsignal(signal.SIGINT) is before


def test_held_without_signal_raises_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)

    with interrupts.held():
        pass

    assert signal.getsignal(signal.SIGINT) is before


def test_workers_stopped_at_once_on_interrupt() -> None:
    started = time.monotonic()

    with pytest.raises(KeyboardInterrupt), fastpath._workers(2) as pool:
        pool.submit(time.sleep, 30)
        workers = [process.pid for process in pool._processes.values()]
        raise KeyboardInterrupt

    assert time.monotonic() - started < 10
    assert [pid for pid in workers if _still_running(pid)] == []


def test_scan_pool_stopped_at_once_on_interrupt() -> None:
    started = time.monotonic()

    with pytest.raises(KeyboardInterrupt), fastpath.ScanPool() as pool:
        executor = fastpath._worker_pool(2)
        pool._executor = executor
        executor.submit(time.sleep, 30)
        workers = [process.pid for process in executor._processes.values()]
        raise KeyboardInterrupt

    assert time.monotonic() - started < 10
    assert pool._executor is None
    assert [pid for pid in workers if _still_running(pid)] == []


def test_stop_workers_during_multiprocessing_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Ctrl-C while multiprocessing is half imported finds no workers to stop."""
    half_loaded = types.ModuleType("multiprocessing")
    monkeypatch.setitem(sys.modules, "multiprocessing", half_loaded)

    interrupts.stop_workers()

    assert not hasattr(half_loaded, "active_children")
