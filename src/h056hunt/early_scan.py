"""Start the scan of a hunt's large inputs while pandas is still being imported.

Importing pandas and pyarrow took about half a second of one core on the 2-core
benchmark machine, and the other core idled meanwhile. The console script calls
:func:`start` before it imports the command line. For ``h056 hunt`` it expands the
``--audit`` and ``--signin`` inputs and queues the fast-path scan of every large
plain file, with the settings of a run that gives no option to change them. The
run itself later plans each file again and takes a queued scan only when the task
and byte ranges come out the same and the file has not changed since (see
:func:`~h056hunt.loaders.fastpath.start_file`), so a setting read later, such as a
config file's activity names, never changes a result: at worst the early scan is
discarded. A CSV file gets the byte scan of the CSV fast path, under the same rule
(see :mod:`~h056hunt.loaders.csv_early`), with the date order of ``--dayfirst`` or
``--monthfirst``, which its scan needs for times that are not ISO 8601.

This module and the fast path's scan import no pandas or pyarrow, so the workers
fork from a small process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.config_search import find_config_file
from h056hunt.errors import H056Error
from h056hunt.loaders import csv_early, fastpath
from h056hunt.sources import DEFAULT_MAX_DECOMPRESSED_BYTES, expand_inputs
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES

_INPUT_OPTIONS = {"--audit": "audit", "--signin": "signin"}
# Options that turn the fast path off, run elsewhere, or change the size limits
# that every task carries. With any of them nothing starts early.
_STOP_OPTIONS = frozenset(
    {
        "--no-fast-path",
        "--engine",
        "--max-decompressed-size",
        "--max-record-size",
        "--help",
        "-h",
    }
)
# Options that can change the audit activities, which the audit pre-filter uses.
_ACTIVITY_OPTIONS = frozenset({"--config", "--revocation-activity"})


def start(arguments: list[str]) -> None:
    """Queue the scan of the large plain files that ``h056 hunt`` will read.

    ``arguments`` are the command-line arguments after the program name. Nothing
    starts for another command, for options this module does not follow, or when
    an input cannot be expanded, which the run then reports as usual. Audit files
    start only when no config file or option can change the activity names.
    """
    inputs = _hunt_inputs(arguments)
    if inputs is None or not fastpath.enabled(True):
        return
    audit_patterns, signin_patterns, activities_may_change = inputs
    if activities_may_change or find_config_file(None) is not None:
        audit_patterns = []
    files = []
    try:
        with _quiet():
            for patterns in (audit_patterns, signin_patterns):
                if patterns:
                    expansion = expand_inputs(patterns)
                    files += [(item.path, item.display) for item in expansion.files]
    except (H056Error, OSError):
        return
    fastpath.start_early(
        files,
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED_BYTES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
    )
    # Every file goes to both planners: the JSON planner skipped the CSV files,
    # and the CSV planner skips a JSON file at its first character.
    csv_early.start_early(
        files,
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
        dayfirst=_date_order(arguments),
    )


def _hunt_inputs(arguments: list[str]) -> tuple[list[str], list[str], bool] | None:
    """Return the audit and sign-in patterns of a hunt and whether an option can
    change the audit activities; None when nothing should start early."""
    if not arguments or arguments[0] != "hunt":
        return None
    patterns: dict[str, list[str]] = {"audit": [], "signin": []}
    activities_may_change = False
    tokens = iter(arguments[1:])
    for token in tokens:
        if token == "--":
            return None
        name, equals, value = token.partition("=")
        if name in _STOP_OPTIONS:
            return None
        if name in _ACTIVITY_OPTIONS:
            activities_may_change = True
        if name in _INPUT_OPTIONS:
            pattern = value if equals else next(tokens, None)
            if pattern is None:
                return None
            patterns[_INPUT_OPTIONS[name]].append(pattern)
    return patterns["audit"], patterns["signin"], activities_may_change


def _date_order(arguments: list[str]) -> bool | None:
    """Return the date order that ``--dayfirst`` or ``--monthfirst`` requests, or
    None. The CLI rejects both together, and the run's plan then differs."""
    dayfirst = "--dayfirst" in arguments
    monthfirst = "--monthfirst" in arguments
    if dayfirst == monthfirst:
        return None
    return dayfirst


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep messages of the package off stderr before the CLI configures logging."""
    package = logging.getLogger("h056hunt")
    handler = logging.NullHandler()
    package.addHandler(handler)
    try:
        yield
    finally:
        package.removeHandler(handler)
