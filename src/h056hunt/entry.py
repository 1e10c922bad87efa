"""The ``h056`` console script: import the command line, then run it.

Importing pandas and pyarrow takes about half a second. A Ctrl-C in that time
would end the process with a traceback from deep inside the import, so it gets the
same one-line message and exit status as an interrupted run.
"""

from __future__ import annotations

import sys

# The exit status of an interrupted run, as h056hunt.cli.ExitCode.INTERRUPTED.
INTERRUPTED = 130


def run() -> None:
    """Import the command line and run it; end with status 130 on an early Ctrl-C."""
    try:
        # The scan of large inputs starts first and runs while pandas is imported.
        from h056hunt.early_scan import start

        start(sys.argv[1:])
        from h056hunt.cli import run as run_command
    except KeyboardInterrupt:
        sys.stderr.write("h056: ERROR: interrupted while starting; nothing was read\n")
        raise SystemExit(INTERRUPTED) from None
    run_command()
