"""Read Log Analytics and portal CSV exports fast: pre-filter rows, decode few.

The fast path takes plain UTF-8 CSV files whose header the plain path maps with
:class:`~h056hunt.loaders.csv_log_analytics.LogAnalyticsRows` (sign-in or audit
tables) or :class:`~h056hunt.loaders.csv_portal.AuditRows`, and whose every row is
one line. Portal sign-in downloads are left to the plain path, because their
authentication steps sit in another file.

One pass over the raw bytes (:func:`~h056hunt.loaders.csv_scan.scan_rows`) finds
the line starts, checks the quoting and searches the literals of
:func:`~h056hunt.loaders.prefilter.signin_spec` or
:func:`~h056hunt.loaders.prefilter.audit_spec`. For ``h056 hunt`` that pass may
have started at start-up in the workers, one byte range each (see
:mod:`~h056hunt.loaders.csv_early`). The same pass finds the time, table and user
id cells of every row and keeps a few facts per row (see
:mod:`~h056hunt.loaders.csv_cells`). A row is decoded when it contains a literal, a
``\\u`` escape, a time that does not parse, or a table of another log. A sign-in
row without a user id but with a UPN is decoded too, because the plain path matches
it by UPN. Decoding goes through the plain path's ``csv`` parsing and row mapping,
with the same line and record numbers.
Every other row is counted as pre-filtered, with its time in the file's time ranges
and its user id kept for :meth:`CsvFastFile.read_context`.

Any file that the fast path cannot read exactly as the plain path does, such as
one outside the quoting rules of :mod:`~h056hunt.loaders.csv_scan`, raises
:class:`~h056hunt.loaders.fastpath.Unsupported` before the sink is touched, and the
plain path reads it.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from h056hunt import timeranges
from h056hunt.loaders import csv_early, csv_export, csv_scan
from h056hunt.loaders.csv_scan import (
    Layout,
    RowScan,
    ScanPlan,
    join_scans,
    plan_scan,
    read_row,
    scan_rows,
)
from h056hunt.loaders.csv_table import CsvRecord
from h056hunt.loaders.entra import id_unless_nil
from h056hunt.loaders.fastpath import (
    FileChanged,
    FileIdentity,
    ScanPool,
    check_unchanged,
    enabled,
    worker_count,
)
from h056hunt.loaders.fields import text as field_text
from h056hunt.loaders.prefilter import LogSpec
from h056hunt.loaders.scan_decode import RecordingSink, Unsupported, replay
from h056hunt.loaders.sink import FileSink
from h056hunt.loaders.upn_search import UpnSearch

logger = logging.getLogger(__name__)


@dataclass
class CsvFastFile:
    """A CSV file read by the fast path, with what the second pass needs.

    Attributes:
        starts: byte offset of each data row, then the end of the last row.
        user_codes: per row, an index into ``user_ids`` for a pre-filtered sign-in
            with a user id, else -1.
        user_ids: the lower-cased user ids that ``user_codes`` index.
        decoded_rows: the rows that the first pass decoded, in order.
    """

    path: Path
    display: str
    requested_log: str
    spec: LogSpec
    dayfirst: bool | None
    layout: Layout
    starts: np.ndarray
    user_codes: np.ndarray
    user_ids: list[str]
    decoded_rows: np.ndarray
    identity: FileIdentity | None = None
    # Why the second pass could not read the file again, once it has tried.
    changed: str | None = None
    # Whether the byte scan ran in a worker started at start-up.
    scanned_early: bool = False

    def read_context(self, wanted: set[bytes]) -> FileSink | None:
        """Route the pre-filtered rows of the ``wanted`` lower-cased user ids.

        Returns a new sink with those rows, or None when the file has none.

        Raises:
            FileChanged: the file is not what the first pass read, or reading its
                rows again failed.
        """
        names = {user.decode("utf-8", "replace") for user in wanted}
        codes = [code for code, user in enumerate(self.user_ids) if user in names]
        if not codes:
            return None
        rows = np.flatnonzero(np.isin(self.user_codes, codes))
        return self._route_unchanged(rows)

    def read_upn_candidates(self, search: UpnSearch) -> FileSink | None:
        """Route the pre-filtered rows that ``search`` marks.

        Returns a new sink with those rows, or None when the file has none.

        Raises:
            FileChanged: the file is not what the first pass read, or reading it
                again failed.
        """
        if search.every_line:
            rows = np.arange(len(self.starts) - 1)
        else:
            check_unchanged(self.path, self.identity)
            try:
                rows = _marked_rows(self.path, self.layout, self.starts, search)
            except OSError as error:
                raise FileChanged(f"reading it again failed: {error}") from error
        rows = np.setdiff1d(rows, self.decoded_rows, assume_unique=True)
        if not len(rows):
            return None
        return self._route_unchanged(rows)

    def _route_unchanged(self, rows: np.ndarray) -> FileSink:
        """Route ``rows`` into a new sink, checking the file before and after."""
        sink = FileSink(self.display, self.requested_log, self.dayfirst)
        check_unchanged(self.path, self.identity)
        try:
            _route_rows(self.path, self.layout, self.starts, rows, sink)
        except (OSError, UnicodeDecodeError, Unsupported) as error:
            check_unchanged(self.path, self.identity)
            raise FileChanged(f"reading it again failed: {error}") from error
        check_unchanged(self.path, self.identity)
        return sink


def try_load(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    fast_path: bool,
    revocation_activities: tuple[str, ...],
    max_record_bytes: int,
    pool: ScanPool | None = None,
) -> CsvFastFile | None:
    """Load a file through the CSV fast path; None when the plain path must read it."""
    if not enabled(fast_path):
        return None
    try:
        if path.stat().st_size < csv_scan.MIN_BYTES:
            return None
        return load_file(
            path,
            display,
            sink,
            revocation_activities=revocation_activities,
            max_record_bytes=max_record_bytes,
            pool=pool,
        )
    except OSError:
        return None
    except (Unsupported, UnicodeDecodeError) as reason:
        # A row that no longer decodes means the file changed after the scan
        # checked it; the plain path reads it and reports what it finds.
        logger.debug("%s: read by the plain path: %s", display, reason)
        return None


def load_file(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    revocation_activities: tuple[str, ...],
    max_record_bytes: int,
    pool: ScanPool | None = None,
) -> CsvFastFile:
    """Load one CSV file through the fast path into ``sink``.

    Without a scan started early, the file's byte ranges are scanned in the
    workers of ``pool``, or in this process when there is no pool.

    Raises:
        Unsupported: the plain path must read the file; ``sink`` is untouched.
    """
    # NOTE: the row offsets and user codes that the second pass reads stay in
    # memory, 12 bytes a row, and the scan's facts take 10 bytes a row more for
    # times and masks. So this path's memory still grows with the row count of
    # the file.
    identity = FileIdentity.of(path)
    plan, handler = plan_scan(
        path,
        revocation_activities=revocation_activities,
        max_record_bytes=max_record_bytes,
        dayfirst=sink.dayfirst,
    )
    layout = plan.layout
    spec = plan.spec
    columns = plan.columns
    scans = csv_early.take_early(path, display, plan, identity)
    started_early = scans is not None
    if scans is None and pool is not None:
        spans = csv_scan.split_spans(path, layout, worker_count())
        logger.debug("%s: scanning %d byte ranges in the workers", display, len(spans))
        scans = pool.submit_calls(
            csv_early.scan_in_worker, [(path, plan, display, span) for span in spans]
        )
    try:
        scan, in_workers = _join_or_scan(scans, path, display, plan)
    except Unsupported as reason:
        # A large export of a shape the fast path reads, so the slower read is
        # worth a word at -v.
        logger.info(
            "%s: the CSV fast path cannot read this file, so every row is parsed: %s",
            display,
            reason,
        )
        raise
    scanned_early = started_early and in_workers
    starts, facts = scan.starts, scan.facts
    rows = len(starts) - 1
    keep = facts.keep & facts.parsed
    keep[scan.hit_rows] = False
    user_codes, user_ids = facts.user_codes, facts.user_ids
    if spec.log == "signin" and columns.upn is not None:
        # A sign-in without a user id, or with the nil GUID as its id, is matched
        # by UPN in the plain path, and the second pass finds rows by user id
        # only, so such a row is decoded now.
        nil_codes = [
            code for code, user in enumerate(user_ids) if id_unless_nil(user) is None
        ]
        no_id = (user_codes < 0) | np.isin(user_codes, nil_codes)
        missing = np.flatnonzero(keep & no_id)
        has_upn = _rows_with_upn(path, layout, starts, missing, columns.upn)
        keep[missing[has_upn]] = False
    user_codes[~keep] = -1
    decoded_rows = np.flatnonzero(~keep)
    prefiltered = int(keep.sum())
    time_ranges = timeranges.from_nanoseconds(facts.times[keep])
    # The times and masks take 10 bytes a row, which the decoding below need not
    # keep alive.
    del scan, facts, keep
    recorder = RecordingSink(display)
    _route_rows(path, layout, starts, decoded_rows, recorder)
    replay(recorder.calls, sink, 0, 0)
    sink.add_prefiltered(spec.log, Counter({handler.shape: prefiltered}), time_ranges)
    logger.debug("%s: %d of %d CSV rows decoded", display, rows - prefiltered, rows)
    return CsvFastFile(
        path=path,
        display=display,
        requested_log=sink.report.requested_log,
        spec=spec,
        dayfirst=sink.dayfirst,
        layout=layout,
        starts=starts,
        user_codes=user_codes,
        user_ids=user_ids,
        decoded_rows=decoded_rows,
        identity=identity,
        scanned_early=scanned_early,
    )


def _join_or_scan(
    scans: list[Future[RowScan]] | None, path: Path, display: str, plan: ScanPlan
) -> tuple[RowScan, bool]:
    """Join the scans of the file's ranges in the workers, or scan it here.

    The flag is True when the result comes from the workers.

    Raises:
        Unsupported: a scan found a row the fast path cannot read.
    """
    if scans is not None:
        try:
            parts = [future.result() for future in scans]
            # The futures would keep each part alive beside the joined scan.
            scans.clear()
            return join_scans(parts), True
        except Unsupported:
            # The scan of the same plan and file raises the same reason here.
            raise
        except Exception as error:
            # Any other failure, such as a worker that ended abruptly, is left to
            # the scan in this process.
            logger.debug(
                "%s: the CSV scan in the workers failed, so it runs here: %r",
                display,
                error,
            )
    return join_scans([scan_rows(path, plan, display)]), False


def _rows_with_upn(
    path: Path, layout: Layout, starts: np.ndarray, rows: np.ndarray, column: int
) -> np.ndarray:
    """Return a mask of ``rows`` whose UPN cell the plain path reads as a UPN, or
    that do not split into cells here."""
    found = np.ones(len(rows), dtype=bool)
    if not len(rows):
        return found
    with path.open("rb") as raw:
        for index, row in enumerate(rows.tolist()):
            line = read_row(raw, starts, row).decode("utf-8")
            try:
                cells = next(
                    csv.reader(iter([line]), delimiter=layout.delimiter, strict=True)
                )
            except (csv.Error, StopIteration):
                continue
            if column < len(cells) and field_text(cells[column]) is None:
                found[index] = False
    return found


def _marked_rows(
    path: Path, layout: Layout, starts: np.ndarray, search: UpnSearch
) -> np.ndarray:
    """Return the data rows of which ``search`` marks a line, in order."""
    found: list[np.ndarray] = []
    with path.open("rb") as raw:
        raw.seek(layout.data_start)
        position = layout.data_start
        carry = b""
        while True:
            data = raw.read(csv_scan.CHUNK_BYTES)
            chunk = carry + data
            if not chunk:
                break
            cut = len(chunk) if not data else chunk.rfind(b"\n") + 1
            if cut == 0:
                carry = chunk
                continue
            offsets = np.array(search.hits(chunk, cut), dtype=np.int64) + position
            found.append(np.searchsorted(starts, offsets, side="right") - 1)
            position += cut
            carry = chunk[cut:]
            if not data:
                break
    rows = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
    return rows[(rows >= 0) & (rows < len(starts) - 1)]


def _route_rows(
    path: Path,
    layout: Layout,
    starts: np.ndarray,
    rows: np.ndarray,
    sink: Any,
) -> None:
    """Split the given rows with the ``csv`` module and map them as the plain path
    does, with its line and record numbers.

    Raises:
        Unsupported: a row does not split into the header's number of cells.
    """
    handler = csv_export.choose_handler(layout.header)
    assert handler is not None
    width = len(layout.header.names)
    with path.open("rb") as raw:
        for row in rows.tolist():
            text = read_row(raw, starts, row).decode("utf-8")
            try:
                cells = next(
                    csv.reader(iter([text]), delimiter=layout.delimiter, strict=True)
                )
            except (csv.Error, StopIteration) as error:
                raise Unsupported(
                    f"row {row + 1} does not split as expected"
                ) from error
            if len(cells) != width:
                raise Unsupported(f"row {row + 1} has {len(cells)} cells")
            record = CsvRecord(
                cells=cells, header=layout.header, line=row + 2, number=row + 1
            )
            handler.add(record, sink)
