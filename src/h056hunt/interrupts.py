"""Ctrl-C handling of the ``h056`` console script outside a command's work.

The script starts scan workers and imports pandas before click runs, and it runs
the exit handlers itself after the output is written. A KeyboardInterrupt raised in
those stretches lands inside an import, a fork handler or an exit handler. Python
then prints a traceback, or prints "Exception ignored" and goes on, and a worker
left waiting for tasks kept the process from ending. The handler that
:func:`exit_on_interrupt` installs stops the workers and ends the process at once.
Inside a command's work, Ctrl-C raises KeyboardInterrupt as usual, and the CLI
reports it with the same exit status.

This module imports nothing beyond the standard library, so the script can install
its handler before anything else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SignalHandler = Callable[[int, FrameType | None], None]

# The exit status of an interrupted run, as h056hunt.cli.ExitCode.INTERRUPTED.
INTERRUPTED = 130
# How long a terminated worker gets to end before it is killed.
WORKER_STOP_SECONDS = 2.0

# Functions that remove this process's temporary files. The interrupt handler
# skips the exit handlers, so it runs these itself.
_cleanups: list[Callable[[], None]] = []

# The handler that exit_on_interrupt installed last; None when it was never called,
# as when a test runs the CLI inside the test process.
_exit_handler: SignalHandler | None = None


def exit_on_interrupt(message: str | None, status: int = INTERRUPTED) -> None:
    """Make Ctrl-C stop the workers, write ``message`` and end the process.

    The process ends with ``status`` at once, without unwinding the stack or
    running exit handlers, so nothing that Python would report as ignored runs.
    ``message`` is written to stderr as an ``h056: ERROR:`` line unless it is
    None. Call this only from the main thread.
    """
    global _exit_handler

    def end_process(signum: int, frame: FrameType | None) -> None:
        stop_workers()
        for cleanup in _cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        if message is not None:
            # os.write, because the interrupted code may be inside sys.stderr.
            with contextlib.suppress(OSError):
                os.write(2, f"h056: ERROR: {message}\n".encode())
        os._exit(status)

    signal.signal(signal.SIGINT, end_process)
    _exit_handler = end_process


def add_cleanup(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` before an interrupt ends the process without exit handlers.

    Register it with :mod:`atexit` as well, for a process that ends normally.
    """
    _cleanups.append(cleanup)


def raise_on_interrupt() -> None:
    """Let Ctrl-C raise KeyboardInterrupt again, if :func:`exit_on_interrupt`
    changed what it does."""
    if _exit_handler is not None and signal.getsignal(signal.SIGINT) is _exit_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def keep_status_on_interrupt(status: int) -> None:
    """Make Ctrl-C end the process with ``status``, once a command's work is done.

    Does nothing unless :func:`exit_on_interrupt` was called before, so a run of
    the CLI inside another program, such as a test, keeps its own handler.
    """
    if _exit_handler is not None:
        exit_on_interrupt(None, status)


def stop_workers() -> None:
    """Terminate every worker process that multiprocessing started, and reap it.

    A worker that does not end within :data:`WORKER_STOP_SECONDS` is killed.
    """
    multiprocessing = sys.modules.get("multiprocessing")
    # A Ctrl-C can come while the module is still being imported, before it
    # defines active_children. No worker exists then.
    active_children = getattr(multiprocessing, "active_children", None)
    if active_children is None:
        return
    try:
        children = active_children()
    except Exception:
        # Logging is not safe inside a signal handler, so the failure is not
        # logged. The process ends right after this call anyway.
        return
    for child in children:
        child.terminate()
    for child in children:
        child.join(WORKER_STOP_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold Ctrl-C back inside the block, then deliver it.

    SIGINT is blocked in this thread, so processes forked inside the block start
    with it blocked too. Another thread, such as one of OpenBLAS or Arrow, can
    still receive the signal, and Python then runs the handler in the main thread
    at once. So in the main thread a handler that only notes the signal replaces
    the usual one until the block ends.
    """
    noted: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        noted.append(signum)

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous_handler = signal.signal(signal.SIGINT, note) if in_main_thread else None
    try:
        yield
    finally:
        # signal.signal runs the handler of a signal that arrived meanwhile first.
        # A previous handler of None was not installed from Python.
        if in_main_thread:
            signal.signal(signal.SIGINT, previous_handler or signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        if noted:
            signal.raise_signal(signal.SIGINT)
