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
have started at start-up in a worker (see :mod:`~h056hunt.loaders.csv_early`).
``pyarrow.csv`` then reads only the time, table and user id columns, a block at a
time, and keeps a few facts per row. A row is decoded when it contains a literal, a
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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from numpy.lib.stride_tricks import sliding_window_view

from h056hunt import timeranges
from h056hunt.errors import InputError
from h056hunt.loaders import csv_early, csv_export, csv_scan, entra, prefilter
from h056hunt.loaders.csv_log_analytics import AUDIT_TABLES
from h056hunt.loaders.csv_scan import (
    Columns,
    Layout,
    RowScan,
    ScanPlan,
    plan_scan,
    read_row,
    scan_rows,
)
from h056hunt.loaders.csv_table import CsvRecord
from h056hunt.loaders.fastpath import (
    FileChanged,
    FileIdentity,
    check_unchanged,
    enabled,
)
from h056hunt.loaders.fields import NULL_PLACEHOLDERS
from h056hunt.loaders.fields import text as field_text
from h056hunt.loaders.prefilter import LogSpec
from h056hunt.loaders.scan_decode import RecordingSink, Unsupported, replay
from h056hunt.loaders.sink import FileSink
from h056hunt.loaders.upn_search import UpnSearch
from h056hunt.timeparse import parse_time_column

logger = logging.getLogger(__name__)

# Characters that Python's str.strip() removes from ASCII text.
ASCII_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
# The start of a slash date whose day and month order the sink may infer.
_DAY_MONTH_START = r"^\d{1,2}/\d{1,2}/"
SIGNIN_TABLES = frozenset(entra.SIGNIN_EVENT_TYPE_BY_SOURCE)


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
) -> CsvFastFile:
    """Load one CSV file through the fast path into ``sink``.

    Raises:
        Unsupported: the plain path must read the file; ``sink`` is untouched.
    """
    # NOTE: the row offsets and user codes that the second pass reads stay in
    # memory, 12 bytes a row, and the read takes 10 bytes a row more for times and
    # masks. So this path's memory still grows with the row count of the file.
    identity = FileIdentity.of(path)
    plan, handler = plan_scan(
        path,
        revocation_activities=revocation_activities,
        max_record_bytes=max_record_bytes,
    )
    layout = plan.layout
    spec = plan.spec
    columns = plan.columns
    early = csv_early.take_early(path, display, plan, identity)
    # pyarrow reads the columns in a thread while this one scans the bytes or waits
    # for the scan started early. Its reader releases the interpreter lock, so the
    # two overlap on two cores.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="h056-csv") as reader:
        facts_read = reader.submit(
            _read_row_facts, path, layout, columns, spec, display, sink.dayfirst
        )
        scan, scanned_early = _scan_or_take(early, path, display, plan)
        facts = facts_read.result()
    rows = len(scan.starts) - 1
    if len(facts.keep) != rows:
        raise Unsupported("pyarrow and the line scan count different rows")
    keep = facts.keep & facts.parsed
    times = facts.times
    keep[scan.hit_rows] = False
    user_codes, user_ids = facts.user_codes, facts.user_ids
    if spec.log == "signin" and columns.upn is not None:
        # A sign-in without a user id is matched by UPN in the plain path, and the
        # second pass finds rows by user id only, so such a row is decoded now.
        missing = np.flatnonzero(keep & (user_codes < 0))
        has_upn = _rows_with_upn(path, layout, scan.starts, missing, columns.upn)
        keep[missing[has_upn]] = False
    user_codes[~keep] = -1
    decoded_rows = np.flatnonzero(~keep)
    recorder = RecordingSink(display)
    _route_rows(path, layout, scan.starts, decoded_rows, recorder)
    replay(recorder.calls, sink, 0, 0)
    nanoseconds = times[keep]
    sink.add_prefiltered(
        spec.log,
        Counter({handler.shape: int(keep.sum())}),
        timeranges.from_nanoseconds(nanoseconds),
    )
    logger.debug("%s: %d of %d CSV rows decoded", display, rows - int(keep.sum()), rows)
    return CsvFastFile(
        path=path,
        display=display,
        requested_log=sink.report.requested_log,
        spec=spec,
        dayfirst=sink.dayfirst,
        layout=layout,
        starts=scan.starts,
        user_codes=user_codes,
        user_ids=user_ids,
        decoded_rows=decoded_rows,
        identity=identity,
        scanned_early=scanned_early,
    )


def _scan_or_take(
    early: Future[RowScan] | None, path: Path, display: str, plan: ScanPlan
) -> tuple[RowScan, bool]:
    """Return the result of the scan started early, or scan the file now.

    The flag is True when the result comes from the scan started early.

    Raises:
        Unsupported: the scan, early or not, found a row the fast path cannot read.
    """
    if early is not None:
        try:
            return early.result(), True
        except Unsupported:
            # The scan of the same plan and file raises the same reason here.
            raise
        except Exception as error:
            # Any other failure, such as a worker that ended abruptly, is left to
            # the scan in this process, so it ends as a run without an early scan.
            logger.debug(
                "%s: the CSV scan started early failed, so it runs again: %r",
                display,
                error,
            )
    return scan_rows(path, plan.layout, plan.spec, plan.max_record_bytes), False


@dataclass
class _RowFacts:
    """The facts that the pre-filter reads of each data row of a CSV file.

    Attributes:
        keep: whether the row's log is the spec's (see :func:`_prefilterable`).
        times: the event time in int64 nanoseconds, where ``parsed`` is True.
        parsed: whether the row's event time parsed.
        user_codes: an index into ``user_ids``, or -1 for a row without a user id
            or of an audit export.
        user_ids: the distinct lower-cased user ids, in order of first row.
    """

    keep: np.ndarray
    times: np.ndarray
    parsed: np.ndarray
    user_codes: np.ndarray
    user_ids: list[str]


def _read_row_facts(
    path: Path,
    layout: Layout,
    columns: Columns,
    spec: LogSpec,
    display: str,
    dayfirst: bool | None,
) -> _RowFacts:
    """Read the columns the pre-filter needs a block of rows at a time.

    Only the facts of each row are kept, not its cells, so the memory of the read
    is that of one block. Reading these columns of a 522 MB file into one table
    raised the peak RSS by 277 MiB, for 38 MiB of cells.

    Raises:
        Unsupported: pyarrow finds a row with another number of cells, or a time
            cell needs the plain path (see :func:`_event_times`).
    """
    keep: list[np.ndarray] = []
    times: list[np.ndarray] = []
    parsed: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    user_ids = _UserIds()

    def add(group: list[pa.RecordBatch]) -> None:
        batch = pa.Table.from_batches(group).combine_chunks().to_batches()[0]
        keep.append(_prefilterable(batch, columns, spec))
        batch_times, batch_parsed = _event_times(batch, columns, display, dayfirst)
        times.append(batch_times)
        parsed.append(batch_parsed)
        codes.append(_user_codes(batch, columns, spec, user_ids))

    group: list[pa.RecordBatch] = []
    rows = 0
    try:
        for batch in _open_columns(path, layout, columns):
            # A batch's cells point into the buffer of its whole block of text, so
            # the batch is copied before it waits for the rest of its group.
            group.append(batch.take(np.arange(batch.num_rows)))
            rows += batch.num_rows
            if rows >= GROUP_ROWS:
                add(group)
                group, rows = [], 0
        if rows:
            add(group)
    except (pa.ArrowInvalid, OSError) as error:
        raise Unsupported(f"pyarrow cannot read the CSV: {error}") from error
    return _RowFacts(
        keep=np.concatenate(keep) if keep else np.zeros(0, dtype=bool),
        times=np.concatenate(times) if times else np.zeros(0, dtype=np.int64),
        parsed=np.concatenate(parsed) if parsed else np.zeros(0, dtype=bool),
        user_codes=np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32),
        user_ids=user_ids.ids(),
    )


# The bytes of CSV text that pyarrow parses at a time. Reading the columns of a
# 522 MB export in 16 MiB blocks raised the peak RSS by 531 MiB, in 1 MiB blocks
# by 73 MiB, and the smaller blocks took 0.43 s less CPU.
READ_BLOCK_BYTES = 1024 * 1024
# The rows whose facts are found together. For the 400,000 rows of a 522 MB export,
# finding them per 1 MiB block of about 800 rows took 2.5 s of CPU, against 1.4 s
# in groups of 65,536 rows. Groups of 32,768 rows peaked at 223 MiB against 251 MiB
# for 0.05 s more CPU.
GROUP_ROWS = 32 * 1024


def _open_columns(
    path: Path, layout: Layout, columns: Columns
) -> pa_csv.CSVStreamingReader:
    """Open a reader of the columns the pre-filter needs, as strings named by
    position."""
    names = [str(position) for position in range(len(layout.header.names))]
    wanted = sorted(
        {
            str(position)
            for position in (
                columns.time,
                columns.envelope_time,
                columns.table,
                columns.category,
                columns.user,
            )
            if position is not None
        }
    )
    return pa_csv.open_csv(
        path,
        memory_pool=_reader_pool(),
        # One thread: with pyarrow's thread pool the read took ten times the
        # CPU time on 2 cores (1.85 s against 0.19 s for 130 MB).
        read_options=pa_csv.ReadOptions(
            skip_rows=1,
            column_names=names,
            use_threads=False,
            block_size=READ_BLOCK_BYTES,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=layout.delimiter,
            double_quote=True,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pa_csv.ConvertOptions(
            include_columns=wanted,
            column_types=dict.fromkeys(wanted, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _reader_pool() -> pa.MemoryPool:
    """Return a pool of pyarrow's bundled allocators for the CSV reader's blocks.

    The reader frees the buffers of each block while the copies of its cells stay,
    which fragments the C library's heap. On a 522 MB export, read in groups of
    65,536 rows, the peak RSS of the read was 301 MiB with that heap and 251 MiB
    with mimalloc.
    """
    for make_pool in (pa.mimalloc_memory_pool, pa.jemalloc_memory_pool):
        try:
            return make_pool()
        except NotImplementedError:
            continue
    return pa.default_memory_pool()


def _cells(batch: pa.RecordBatch, position: int | None) -> pa.Array | None:
    if position is None:
        return None
    return batch.column(str(position))


def _prefilterable(
    batch: pa.RecordBatch, columns: Columns, spec: LogSpec
) -> np.ndarray:
    """Return a mask of the rows whose log is the spec's without decoding them.

    Mirrors the table rules of :mod:`~h056hunt.loaders.csv_log_analytics` for the
    exact, ASCII ``Type`` or ``Category`` cells; rows with other cells are decoded.
    """
    rows = batch.num_rows
    if columns.header_log is not None:
        return np.full(rows, columns.header_log == spec.log)
    tables = AUDIT_TABLES if spec.log == "audit" else SIGNIN_TABLES
    value_set = pa.array(sorted(tables), pa.string())
    kind = _cells(batch, columns.table)
    if kind is None:
        kind = _cells(batch, columns.category)
    if kind is None:
        return np.zeros(rows, dtype=bool)
    matches = pc.and_(
        pc.string_is_ascii(kind), pc.is_in(pc.utf8_lower(kind), value_set=value_set)
    )
    return _mask(matches)


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False))


def _text(cells: pa.Array) -> pa.Array:
    """Return ``fields.text`` of ASCII cells: stripped, null for placeholders."""
    trimmed = pc.utf8_trim(cells, characters=ASCII_WHITESPACE)
    placeholder = pc.is_in(
        pc.utf8_lower(trimmed), value_set=pa.array(sorted(NULL_PLACEHOLDERS))
    )
    return pc.if_else(placeholder, pa.scalar(None, pa.string()), trimmed)


def _event_times(
    batch: pa.RecordBatch, columns: Columns, display: str, dayfirst: bool | None
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the event time of every row as the sink would.

    Returns int64 nanoseconds and a mask of the rows whose time parsed.

    Raises:
        Unsupported: a time cell that is not ASCII, a column the plain path would
            reject, or, without a user date order, a day-month slash date, because
            the sink infers the order from the decoded rows only.
    """
    primary = _cells(batch, columns.time)
    assert primary is not None
    envelope = _cells(batch, columns.envelope_time)
    sources = [primary] if envelope is None else [primary, envelope]
    for cells in sources:
        if not pc.all(pc.string_is_ascii(cells)).as_py() and len(cells):
            raise Unsupported("a time cell that is not ASCII")
    event = _text(primary)
    if envelope is not None:
        event = pc.coalesce(event, _text(envelope))
    if dayfirst is None and len(event):
        slash = pc.match_substring_regex(event, _DAY_MONTH_START)
        if pc.any(slash).as_py():
            raise Unsupported("a day-month date, without a date order")
    nanoseconds, parsed = prefilter.iso_nanoseconds(_iso_windows(event))
    parsed &= _mask(pc.is_valid(event))
    others = np.flatnonzero(~parsed)
    if not len(others):
        return nanoseconds, parsed
    # The times in other forms, and the missing ones, go through the plain path's
    # parser, which gives the same value for the ISO times read above.
    try:
        times, _ = parse_time_column(
            event.take(pa.array(others)).to_pylist(),
            path=display,
            column="event_time",
            dayfirst=dayfirst,
        )
    except InputError as error:
        raise Unsupported(f"the time column needs the plain path: {error}") from error
    parsed[others] = times.notna().to_numpy()
    nanoseconds[others] = times.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return nanoseconds, parsed


def _iso_windows(cells: pa.Array) -> np.ndarray:
    """Return the bytes of each cell in the form that
    :func:`~h056hunt.loaders.prefilter.iso_nanoseconds` reads.

    Each row contains the cell's first ``ISO_WIDTH`` bytes, then a quote where the
    cell ends, as a JSON string would have, then zero bytes.
    """
    width = prefilter.ISO_WIDTH
    count = len(cells)
    if not count:
        return np.zeros((0, width), dtype=np.uint8)
    _, offsets_buffer, data_buffer = cells.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)
    offsets = offsets[cells.offset : cells.offset + count + 1]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    padded = np.concatenate((data[: offsets[-1]], np.zeros(width, dtype=np.uint8)))
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    windows = sliding_window_view(padded, width)[starts]
    windows[np.arange(width)[None, :] >= lengths[:, None]] = 0
    short = np.flatnonzero(lengths < width)
    windows[short, lengths[short]] = ord('"')
    return windows


class _UserIds:
    """The distinct lower-cased user ids of a file, each with its index."""

    def __init__(self) -> None:
        self._known = pa.array([], pa.string())

    def codes(self, distinct: pa.Array) -> np.ndarray:
        """Return the index of each of the ``distinct`` ids, adding the new ones."""
        found = pc.index_in(distinct, value_set=self._known)
        is_new = pc.is_null(found)
        new = distinct.filter(is_new)
        codes = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        codes[_mask(is_new)] = np.arange(
            len(self._known), len(self._known) + len(new), dtype=np.int32
        )
        if len(new):
            self._known = pa.concat_arrays([self._known, new])
        return codes

    def ids(self) -> list[str]:
        """Return the ids in index order."""
        ids: list[str] = self._known.to_pylist()
        return ids


def _user_codes(
    batch: pa.RecordBatch, columns: Columns, spec: LogSpec, user_ids: _UserIds
) -> np.ndarray:
    """Return per-row indexes into the lower-cased user ids, -1 for a row without
    an id or of an audit export.

    ``user_ids`` gives each id its index, adding the ids it did not have.
    """
    cells = _cells(batch, columns.user)
    if spec.log != "signin" or cells is None:
        return np.full(batch.num_rows, -1, dtype=np.int32)
    users = pc.utf8_lower(_text(cells))
    ascii_rows = _mask(pc.string_is_ascii(cells))
    if not ascii_rows.all():
        values = users.to_pylist()
        for row in np.flatnonzero(~ascii_rows).tolist():
            # Python's strip and lower() differ from pyarrow's outside ASCII.
            value = cells[row].as_py().strip()
            lowered = value.lower()
            values[row] = None if lowered in NULL_PLACEHOLDERS else lowered
        users = pa.array(values, pa.string())
    encoded = users.dictionary_encode()
    if not len(encoded.dictionary):
        return np.full(batch.num_rows, -1, dtype=np.int32)
    known = user_ids.codes(encoded.dictionary)
    local = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
    valid = pc.is_valid(encoded).to_numpy(zero_copy_only=False)
    return np.where(valid, known[local], -1).astype(np.int32)


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
