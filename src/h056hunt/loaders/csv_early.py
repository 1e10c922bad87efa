"""Start the byte scan of large CSV files while pandas is still being imported.

:func:`start_early` plans each file as :func:`~h056hunt.loaders.csv_fastpath.load_file`
would, with the settings of a run that gives no option to change them, and queues
:func:`~h056hunt.loaders.csv_scan.scan_rows` in the workers of
:func:`~h056hunt.loaders.fastpath.early_executor`. The run plans the file again and
:func:`take_early` hands it the queued scan only when both plans are equal and the
file's size, modification time and inode have not changed since the scan was
queued. Every other queued scan is discarded, with a debug log line that gives the
reason, and cancelled if it has not started.

This module imports no pandas or pyarrow, so the workers fork from a small process.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from h056hunt.loaders import csv_scan, fastpath
from h056hunt.loaders.csv_scan import RowScan, ScanPlan
from h056hunt.loaders.fastpath import FileIdentity, Unsupported

logger = logging.getLogger(__name__)


@dataclass
class EarlyScan:
    """A byte scan queued at start-up, with the plan and file it was queued for."""

    display: str
    plan: ScanPlan
    identity: FileIdentity
    futures: list[Future[RowScan]]


# Scans queued by start_early until the run takes or discards them, by path.
_early_scans: dict[str, EarlyScan] = {}


def start_early(
    files: list[tuple[Path, str]],
    *,
    revocation_activities: tuple[str, ...],
    max_record_bytes: int,
    dayfirst: bool | None = None,
) -> None:
    """Queue the byte scan of each large CSV file that the fast path can read.

    ``files`` contains each path with its name as shown to the user, in reading
    order, and ``dayfirst`` is the date order the run will read slash dates in.
    Files that are too small, that are not CSV or that this function cannot plan
    are left to the run.
    """
    for path, display in files:
        key = str(path)
        if key in _early_scans:
            continue
        try:
            identity = FileIdentity.of(path)
            if identity.size < csv_scan.MIN_BYTES:
                continue
            plan, _ = csv_scan.plan_scan(
                path,
                revocation_activities=revocation_activities,
                max_record_bytes=max_record_bytes,
                dayfirst=dayfirst,
            )
            spans = csv_scan.split_spans(path, plan.layout, fastpath.worker_count())
        except (Unsupported, OSError):
            continue
        executor = fastpath.early_executor()
        futures: list[Future[RowScan]] = []
        try:
            for span in spans:
                futures.append(
                    executor.submit(scan_in_worker, path, plan, display, span)
                )
        except BrokenProcessPool as error:
            # A worker ended while the ranges were queued. The run scans this
            # file and the rest itself.
            logger.debug("%s: the CSV scan could not start early: %r", display, error)
            for future in futures:
                future.cancel()
            return
        _early_scans[key] = EarlyScan(display, plan, identity, futures)


def take_early(
    path: Path, display: str, plan: ScanPlan, identity: FileIdentity
) -> list[Future[RowScan]] | None:
    """Return the scans of the ranges queued for ``path`` if its plan and file
    match, else None.

    ``identity`` is the file as the run found it before planning. A queued scan
    that does not match is cancelled.
    """
    early = _early_scans.pop(str(path), None)
    if early is None:
        return None
    if early.plan != plan:
        _cancel(early, display, "does not match this run's settings")
    elif early.identity != identity:
        _cancel(early, display, "was of the file before it changed")
    else:
        logger.debug("%s: using the CSV scan started early", display)
        return early.futures
    return None


def discard_early() -> None:
    """Cancel the queued scans that no :func:`take_early` call took."""
    for early in _early_scans.values():
        _cancel(early, early.display, "was not taken by the CSV fast path")
    _early_scans.clear()


def _cancel(early: EarlyScan, display: str, reason: str) -> None:
    # A scan that has already started runs to its end, and its result is dropped.
    logger.debug(
        "%s: the CSV scan started early %s, so it is discarded", display, reason
    )
    for future in early.futures:
        future.cancel()


def scan_in_worker(
    path: Path, plan: ScanPlan, display: str, span: tuple[int, int]
) -> RowScan:
    """Scan one byte range of a file in a scan worker."""
    with fastpath.scan_running():
        return csv_scan.scan_rows(path, plan, display, span)
