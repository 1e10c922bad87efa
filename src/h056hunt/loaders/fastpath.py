"""Read large one-record-per-line exports fast: pre-filter, decode little, in parallel.

The fast path takes newline-delimited JSON and Graph pages, Event Hub bodies or JSON
arrays written one record per line, plain or gzip. The first pass splits a plain file
into one byte range per core, aligned to line starts, and decodes only the lines that
:class:`~h056hunt.loaders.prefilter.LineScanner` marks as possibly relevant. Those go
through the same :func:`~h056hunt.loaders.json_export.route_record` as the plain path,
with the same line and record numbers. After detection, :class:`ContextReader`
re-reads only the index blocks that contain sign-ins of the users and revokers who
matter. In a large gzip file it starts inflating at the checkpoint before each such
block, which the first pass took (see :class:`GzipIndex`). When a decoded record
lacks a user id, :meth:`ContextReader.read_upn_candidates` reads every block for the
records that may pair its UPN with an id.

A line that does not decode to one record is read by the plain path's readers where
it sits (see :mod:`~h056hunt.loaders.scan_decode`). Any file the fast path cannot
read exactly as the plain path does (another shape, a value that the plain path reads
across lines, a time that is not ISO 8601, a line over the size limit) raises
:class:`Unsupported` before anything reaches the sink, and the caller reads it with
the plain path.
"""

from __future__ import annotations

import atexit
import bisect
import gc
import io
import itertools
import json
import logging
import mmap
import multiprocessing
import os
import signal
import weakref
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import numpy as np

from h056hunt import interrupts, timeranges
from h056hunt.errors import InputError
from h056hunt.loaders import document_tail, prefilter, spill
from h056hunt.loaders.broken_lines import BrokenLine, BrokenLineReader, LineTrial
from h056hunt.loaders.prefilter import LineScanner, LineStart, LogSpec, ScanResult
from h056hunt.loaders.scan_decode import (
    ENVELOPE_KEYS,
    RangeDecoder,
    RangeOutcome,
    RecordingSink,
    is_envelope,
    replay,
    route_line,
    settle_trial,
)
from h056hunt.loaders.scan_decode import Unsupported as Unsupported
from h056hunt.loaders.spill import PairFile
from h056hunt.plurals import Counted
from h056hunt.sources import GZIP_MAGIC

if TYPE_CHECKING:
    from h056hunt.loaders.csv_fastpath import CsvFastFile
    from h056hunt.loaders.sink import FileSink
    from h056hunt.loaders.upn_search import UpnSearch

logger = logging.getLogger(__name__)
_Result = TypeVar("_Result")

# Setting this environment variable to 1 turns the fast path off, like --no-fast-path.
DISABLE_ENV = "H056_NO_FAST_PATH"
CHUNK_BYTES = 8 * 1024 * 1024
# Files smaller than this are not split into ranges: starting workers costs more.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
# Files too small to split go to the workers whole, one task each, when those of at
# least this size add up to PARALLEL_MIN_BYTES, so that several scan at once. A
# smaller file, or a run with fewer such bytes, is scanned in this process.
POOLED_FILE_MIN_BYTES = 1024 * 1024
# Files sent whole that may be queued or done ahead of the file being loaded, per
# worker. Each done file keeps up to spill.PIECE_MEMORY_BYTES of decoded rows in
# this process until it is loaded, so the workers must not run far ahead.
WHOLE_FILES_AHEAD_PER_WORKER = 2
MAX_WORKERS = 4
# Bytes kept free past the data in a scan buffer, so a fixed-width window read after
# a key near the end stays inside the buffer.
WINDOW_SLACK = 128
_PEEK_BYTES = 64 * 1024
_UTF8_MARK = b"\xef\xbb\xbf"

_gzip_module: Any
_zlib_module: Any
try:
    from isal import igzip, isal_zlib

    _gzip_module, _zlib_module = igzip, isal_zlib
except ImportError:  # pragma: no cover - isal ships wheels for common platforms
    import gzip

    _gzip_module, _zlib_module = gzip, zlib

_checkpoint_zlib: Any
try:
    # zlib-ng's decompressor objects can be copied, which ISA-L's cannot, and the
    # copies are the gzip checkpoints. Inflating through them took 2.8 s of CPU for
    # 4.2 GB of content on the 2-core benchmark machine, ISA-L's GzipFile 2.1 s.
    from zlib_ng import zlib_ng as _checkpoint_zlib
except ImportError:  # pragma: no cover - zlib-ng ships wheels for common platforms
    _checkpoint_zlib = None

# Faults of reading or decompressing; the plain path reports them properly.
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    _zlib_module.error,
)
if _checkpoint_zlib is not None:
    _READ_ERRORS += (_checkpoint_zlib.error,)

# Minimum decompressed bytes between two gzip checkpoints. The second pass inflates
# from the checkpoint before each block it reads, about half the spacing per block.
GZIP_CHECKPOINT_BYTES = 1024 * 1024
# Past this many checkpoints, every other one is dropped and the spacing doubles. A
# checkpoint is a zlib-ng decompressor with its 32 KiB window, which measured 41 KiB
# in all with zlib-ng 1.1.0, so the checkpoints of one file take about 41 MiB at most.
GZIP_MAX_CHECKPOINTS = 1024
# Compressed bytes read at a time; a checkpoint can only be taken between reads.
GZIP_READ_BYTES = 128 * 1024
# Bounds of the decompressed bytes that one inflate call returns. A call returns no
# more than the read needs, within these bounds, so the second pass inflates little
# past the end of a block.
_GZIP_MIN_PIECE_BYTES = 32 * 1024
_GZIP_MAX_PIECE_BYTES = 256 * 1024
# An inflater with an index is the first pass, which fills whole scan chunks. It
# inflates pieces of up to this size, with a quarter of the calls and copies that
# 256 KiB pieces take.
_GZIP_STREAM_PIECE_BYTES = 1024 * 1024


def enabled(requested: bool) -> bool:
    """Tell whether the fast path runs: requested and not turned off by the env."""
    return requested and os.environ.get(DISABLE_ENV, "") not in ("1", "true", "yes")


@dataclass
class RangePlan:
    """One byte range of a file and where its lines and records start.

    Offsets are in the decompressed content; ``line`` and ``record`` count the lines
    and records before the range.
    """

    start: int
    end: int | None
    line: int = 0
    record: int = 0


@dataclass(frozen=True)
class FileIdentity:
    """The size, modification time and inode of a file, compared to detect a change."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        """Stat ``path``. Raises OSError when it cannot be."""
        status = os.stat(path)
        return cls(status.st_size, status.st_mtime_ns, status.st_ino)


@dataclass
class FastFile:
    """The index of one fast-path file that the second pass reads blocks by.

    ``identity`` is the file as it was before the first pass, which found it the
    same after its scan, or None when it could not be checked. ``changed`` gives
    the reason when the second pass found the file changed and read nothing from
    it. ``gzip_index`` contains the checkpoints that the second pass starts
    inflating from, when the first pass took them. ``record_shifts`` contains
    ``(line, count)`` of each broken line that the plain path counts as
    ``count + 1`` records, sorted by the 0-based line of the file, so the second
    pass numbers the records after it as the plain path does.
    """

    path: Path
    display: str
    requested_log: str
    spec: LogSpec
    container: bool
    compressed: bool
    max_decompressed_bytes: int
    dayfirst: bool | None
    ranges: list[RangePlan]
    block_offsets: np.ndarray
    block_ends: np.ndarray
    block_lines: np.ndarray
    block_records: np.ndarray
    user_index: list[tuple[PairFile, int]]
    identity: FileIdentity | None = None
    changed: str | None = None
    gzip_index: GzipIndex | None = None
    record_shifts: list[tuple[int, int]] = field(default_factory=list)


@contextmanager
def open_content(path: Path, compressed: bool) -> Iterator[io.BufferedIOBase]:
    """Open a file's content, decompressing gzip with ISA-L when it is installed."""
    with path.open("rb") as raw:
        if not compressed:
            yield raw
            return
        with _gzip_module.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped


@dataclass(frozen=True)
class GzipCheckpoint:
    """A point of a gzip file where inflating can start again.

    A copy of ``decompressor``, fed the file's bytes from ``compressed_offset`` on,
    returns the content from ``content_offset`` on. None means that a gzip member
    starts at ``compressed_offset``.
    """

    compressed_offset: int
    content_offset: int
    decompressor: Any = None


class GzipIndex:
    """The checkpoints of one gzip file, taken while the first pass inflates it."""

    def __init__(self) -> None:
        self.checkpoints = [GzipCheckpoint(0, 0)]
        self.spacing = GZIP_CHECKPOINT_BYTES

    def due(self, content_offset: int) -> bool:
        """Tell whether a checkpoint at ``content_offset`` would be kept."""
        return content_offset - self.checkpoints[-1].content_offset >= self.spacing

    def add(self, checkpoint: GzipCheckpoint) -> None:
        """Append a checkpoint; past the maximum count, keep every other one."""
        self.checkpoints.append(checkpoint)
        if len(self.checkpoints) > GZIP_MAX_CHECKPOINTS:
            self.checkpoints = self.checkpoints[::2]
            self.spacing *= 2

    def before(self, content_offset: int) -> GzipCheckpoint:
        """Return the last checkpoint at or before ``content_offset``."""
        index = bisect.bisect_right(
            self.checkpoints,
            content_offset,
            key=lambda checkpoint: checkpoint.content_offset,
        )
        return self.checkpoints[max(index - 1, 0)]


class GzipInflater:
    """Inflate a gzip file with zlib-ng, starting at a checkpoint.

    Members are read one after another, as :class:`gzip.GzipFile` reads them: zero
    bytes may pad the end of a member, and each member's checksum and length are
    verified. With an ``index``, a checkpoint joins it each time ``index.spacing``
    more bytes of content have been inflated.

    NOTE: zlib-ng rejects a member header with reserved flag bits set or a wrong
    header CRC, which :class:`gzip.GzipFile` accepts. The fast path then raises
    :class:`Unsupported` and the plain path reads the file.
    """

    def __init__(
        self,
        raw: BinaryIO,
        start: GzipCheckpoint,
        index: GzipIndex | None = None,
    ) -> None:
        raw.seek(start.compressed_offset)
        self._raw = raw
        self._index = index
        self._max_piece = (
            _GZIP_STREAM_PIECE_BYTES if index is not None else _GZIP_MAX_PIECE_BYTES
        )
        self._compressed_offset = start.compressed_offset
        # Content offset at the end of the output inflated so far.
        self._inflated = start.content_offset
        self._decompressor: Any = None
        if start.decompressor is not None:
            self._decompressor = start.decompressor.copy()
        # True when the last inflate call filled its output limit, so the
        # decompressor may have more output without new input.
        self._pending = self._decompressor is not None
        self._member_ended = False
        self._input = b""
        self._output = memoryview(b"")

    @property
    def position(self) -> int:
        """Content offset of the next byte that a read returns."""
        return self._inflated - len(self._output)

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Fill ``buffer`` unless the content ends first; return the bytes written.

        Raises:
            EOFError: the file ends inside a gzip member.
            zlib_ng.error: the data is not gzip, or a checksum or length differs.
        """
        with memoryview(buffer) as view:
            filled = 0
            while filled < len(view):
                remaining = len(view) - filled
                if not self._output and not self._inflate_next(remaining):
                    break
                count = min(len(view) - filled, len(self._output))
                view[filled : filled + count] = self._output[:count]
                self._output = self._output[count:]
                filled += count
        return filled

    def read(self, size: int = -1) -> bytes:
        """Return ``size`` bytes of content, fewer at its end; all with -1."""
        if size < 0:
            parts = [bytes(self._output)]
            self._output = memoryview(b"")
            while self._inflate_next(_GZIP_MAX_PIECE_BYTES):
                parts.append(bytes(self._output))
                self._output = memoryview(b"")
            return b"".join(parts)
        buffer = bytearray(size)
        del buffer[self.readinto(buffer) :]
        return bytes(buffer)

    def skip(self, size: int) -> None:
        """Inflate and drop ``size`` bytes of content, fewer at its end."""
        while size > 0:
            if not self._output and not self._inflate_next(size):
                return
            count = min(size, len(self._output))
            self._output = self._output[count:]
            size -= count

    def _inflate_next(self, size: int) -> bool:
        """Set the next inflated piece as the output; return False at the end.

        The piece is at most ``size`` bytes long, kept within the piece bounds.
        """
        # An empty slice of the last piece keeps the whole piece alive. Released
        # first, its memory is reused: 19k page faults instead of 165k on 4.2 GB.
        self._output = memoryview(b"")
        limit = min(max(size, _GZIP_MIN_PIECE_BYTES), self._max_piece)
        while True:
            if self._decompressor is not None and (self._input or self._pending):
                piece = self._inflate_piece(limit)
                if piece:
                    self._output = memoryview(piece)
                    return True
            elif self._input:
                if self._member_ended:
                    self._input = self._input.lstrip(b"\x00")
                if self._input:
                    # wbits 31 reads one gzip member, header and trailer included.
                    self._decompressor = _checkpoint_zlib.decompressobj(wbits=31)
            elif not self._read_input():
                return False

    def _inflate_piece(self, limit: int) -> bytes:
        decompressor = self._decompressor
        piece: bytes = decompressor.decompress(self._input, limit)
        self._inflated += len(piece)
        self._pending = len(piece) == limit
        if decompressor.eof:
            self._input = decompressor.unused_data
            self._decompressor = None
            self._pending = False
            self._member_ended = True
            return piece
        self._input = decompressor.unconsumed_tail
        # A copy shares the decompressor's unconsumed input, so checkpoints are
        # taken only when none is left.
        if (
            self._index is not None
            and not self._input
            and self._index.due(self._inflated)
        ):
            self._index.add(
                GzipCheckpoint(
                    self._compressed_offset, self._inflated, decompressor.copy()
                )
            )
        return piece

    def _read_input(self) -> bool:
        data = self._raw.read(GZIP_READ_BYTES)
        if not data:
            if self._decompressor is not None:
                raise EOFError("the gzip data ends inside a member")
            return False
        self._compressed_offset += len(data)
        self._input = data
        return True


@contextmanager
def _open_gzip_stream(
    path: Path, index: GzipIndex | None
) -> Iterator[io.BufferedIOBase | GzipInflater]:
    """Open gzip content that records checkpoints in ``index``, if one is given."""
    if index is None:
        with open_content(path, compressed=True) as stream:
            yield stream
        return
    with path.open("rb") as raw:
        yield GzipInflater(raw, index.checkpoints[0], index)


class ScanPool:
    """Worker processes shared by the fast-path files of one run.

    Files are submitted in command-line order and the workers take their ranges in
    that order, so while this process replays and builds the frames of one file the
    workers already scan the next. The pool starts at the first parallel file.
    """

    def __init__(self) -> None:
        global _early_executor
        # The workers that :func:`start_early` forked, if any, serve this pool.
        self._executor: ProcessPoolExecutor | None = _early_executor
        _early_executor = None

    def submit(self, tasks: list[_Task]) -> list[Future[RangeOutcome]]:
        """Queue the scan of each task's range, in new workers if one has died."""
        return self.submit_calls(_scan_task, [(task,) for task in tasks])

    def submit_calls(
        self, function: Callable[..., _Result], calls: list[tuple[Any, ...]]
    ) -> list[Future[_Result]]:
        """Queue ``function`` once per argument tuple, in new workers if one has
        died."""
        if self._executor is None:
            self._executor = _worker_pool(worker_count())
        try:
            return [self._executor.submit(function, *call) for call in calls]
        except BrokenProcessPool:
            # A worker of an early scan that this run discarded may have ended
            # abruptly, as when the system kills it, and the executor then takes
            # no more tasks.
            self.close()
            self._executor = _worker_pool(worker_count())
            return [self._executor.submit(function, *call) for call in calls]

    def close(self) -> None:
        """Stop the workers; scans still queued are cancelled."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ScanPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self._executor is not None and _is_interrupt(exc_type):
            # close() would wait for the running scans, which take seconds.
            _stop_pool(self._executor)
            self._executor = None
        self.close()


@dataclass
class PendingFile:
    """A fast-path file whose scan may still run in a :class:`ScanPool`."""

    task: _Task
    framing: _Framing
    ranges: list[RangePlan]
    futures: list[Future[RangeOutcome]] | None = None
    # The file as it was before an early scan was queued; None for other scans.
    identity: FileIdentity | None = None
    # The file as it was before its ranges were planned. The scan's outcomes are
    # used only if the file still has this identity after the scan, and the
    # second pass checks the file against it.
    scan_identity: FileIdentity | None = None

    def poolable(self, whole_files: bool) -> bool:
        """Tell whether the workers should scan this file: always when it is
        split into ranges. A file too small to split qualifies only with
        ``whole_files``, from :data:`POOLED_FILE_MIN_BYTES` on, and for gzip only
        below :func:`_pooled_gzip_max_bytes`."""
        if len(self.ranges) > 1:
            return True
        if not whole_files or self.scan_identity is None:
            return False
        size = self.scan_identity.size
        if self.task.compressed:
            return POOLED_FILE_MIN_BYTES <= size < _pooled_gzip_max_bytes()
        return size >= POOLED_FILE_MIN_BYTES

    def complete(self, sink: FileSink, *, strict: bool = True) -> FastFile:
        """Wait for the scan, route its decoded records into ``sink``, index it.

        The plain path's readers read what the fast path cannot decode alone. In
        newline-delimited JSON, the line reader reads each such line (see
        :mod:`~h056hunt.loaders.broken_lines`), and a last line that the file ends
        in without a line end. In a page or array, the document reader reads the
        file from its first such element line on (see
        :mod:`~h056hunt.loaders.document_tail`).

        Raises:
            Unsupported: the plain path must read the file; ``sink`` is untouched.
            InputError: strict mode and a line is malformed, as the plain path
                reports it.
        """
        whole = self.task
        framing = self.framing
        ranges, outcomes, gzip_index = self._outcomes()
        tail = None
        if whole.container:
            tail = _container_tail(whole, ranges, outcomes, framing, gzip_index)
        else:
            _check_outcomes(outcomes, framing)
            _finish_trials(whole, ranges, outcomes, framing, gzip_index)
            broken = sum(len(outcome.broken_lines) for outcome in outcomes)
            if broken:
                logger.debug(
                    "%s: %d line(s) that do not decode alone are read by the plain "
                    "path's line reader",
                    whole.display,
                    broken,
                )
        # Checked before anything reaches the sink, so the plain path can still
        # read the file as it is now.
        self._raise_if_changed()
        line = framing.first_line
        record = 0
        record_shifts: list[tuple[int, int]] = []
        reader = BrokenLineReader(
            sink, strict=strict, max_record_bytes=whole.limits.max_record_bytes
        )
        for plan, outcome in zip(ranges, outcomes, strict=True):
            plan.line = line
            plan.record = record
            try:
                replay(
                    outcome.take_calls(),
                    sink,
                    line,
                    record,
                    _broken_line_reading(reader, outcome.broken_lines),
                )
            except OSError as error:
                raise InputError(
                    whole.display,
                    f"the decoded records kept in a temporary file were lost: {error}",
                    reason="unreadable",
                    hint="make sure nothing cleans the temporary directory (TMPDIR) "
                    "during a run, then rerun",
                ) from error
            record_shifts += [
                (line + shifted, n) for shifted, n in outcome.record_shifts
            ]
            line += outcome.scan.lines
            record += outcome.scan.records + outcome.record_shift
        scans = [outcome.scan for outcome in outcomes]
        prefiltered: Counter[str] = Counter()
        for scan in scans:
            prefiltered.update(scan.prefiltered)
        time_ranges = [part for scan in scans for part in scan.time_ranges]
        sink.add_prefiltered(
            whole.spec.log,
            prefiltered,
            timeranges.merge(time_ranges),
        )
        cut_off_line = outcomes[-1].scan.cut_off_line
        if tail is not None:
            assert framing.opening is not None
            # NOTE: this read comes after the identity check, so a change made
            # during it is seen only when a second pass reads the file.
            logger.debug(
                "%s: the plain path's document reader reads the file from line %d, "
                "which the fast path cannot read",
                whole.display,
                line + 1,
            )
            document_tail.read_tail(
                sink,
                lambda: _content_at(whole.path, whole.compressed, tail, gzip_index),
                opening_line=framing.first_line - 1,
                opening=framing.opening.decode(),
                line=line,
                offset=tail,
                has_utf8_mark=framing.has_utf8_mark,
                complete_records=record,
                strict=strict,
                max_record_bytes=whole.limits.max_record_bytes,
            )
        elif cut_off_line is not None:
            last = BrokenLine(line, record, cut_off_line.offset, [cut_off_line.text])
            last.at_end = True
            reader.read(last, line=line, record=record)
        return _fast_file(
            whole.path,
            whole.display,
            sink,
            whole.spec,
            whole.container,
            whole.compressed,
            whole.limits,
            ranges,
            scans,
            gzip_index,
            record_shifts,
            self.scan_identity,
        )

    def _raise_if_changed(self) -> None:
        """Raise Unsupported unless the file has the identity it had before the
        scan. A file replaced, cut or written to meanwhile may have given the
        ranges different content, or the scanned lines may be gone.

        NOTE: a rewrite in place that keeps the size and the modification time,
        as within one tick of the file system's clock, is not seen.
        """
        try:
            check_unchanged(self.task.path, self.scan_identity)
        except FileChanged as error:
            raise Unsupported(
                f"the file changed while it was scanned: {error}"
            ) from error

    def _outcomes(
        self,
    ) -> tuple[list[RangePlan], list[RangeOutcome], GzipIndex | None]:
        """Wait for the scan of every range, or run it; return the ranges, their
        outcomes and the gzip checkpoints taken on the way.

        Raises:
            Unsupported: a worker ended abruptly, or the file cannot be read.
        """
        whole = self.task
        try:
            if self.futures is not None:
                return self.ranges, [future.result() for future in self.futures], None
            if whole.compressed and whole.path.stat().st_size >= _stream_min_bytes():
                return _run_stream(whole, self.framing.first_offset)
            tasks = [replace(whole, plan=plan) for plan in self.ranges]
            return self.ranges, _run(tasks), None
        except BrokenProcessPool as error:
            # A worker ended without a result, as when the system kills it.
            raise Unsupported(f"a scan worker ended abruptly: {error}") from error


def _broken_line_reading(
    reader: BrokenLineReader, broken_lines: list[BrokenLine]
) -> Callable[[int, int, int], None]:
    """Return the replay's callback that reads one range's broken lines."""

    def read(index: int, line: int, record: int) -> None:
        reader.read(broken_lines[index], line=line, record=record)

    return read


def start_file(
    path: Path,
    display: str,
    *,
    revocation_activities: tuple[str, ...],
    max_decompressed_bytes: int,
    max_record_bytes: int,
    pool: ScanPool | None = None,
) -> PendingFile:
    """Plan the fast-path read of one file and queue its scan in ``pool``.

    The first record decides which literals pre-filter the file: a sign-in's or an
    audit record's; ``revocation_activities`` are the audit activities to keep.
    A file large enough to split is queued as one task per range. A file too
    small to split is queued by :class:`WholeFiles`, or else scanned in
    :meth:`PendingFile.complete`, as is every file without a pool.

    Raises:
        Unsupported: the plain path must read the file.
    """
    try:
        # Taken first, so that any change from here on shows after the scan.
        scan_identity = FileIdentity.of(path)
        compressed, framing = _detect(path)
    except _READ_ERRORS as error:
        raise Unsupported(f"the file cannot be read here: {error}") from error
    if b'"activityDateTime"' in framing.first_record:
        spec = prefilter.audit_spec(revocation_activities)
    elif b'"createdDateTime"' in framing.first_record:
        spec = prefilter.signin_spec()
    else:
        raise Unsupported("the first record is neither a sign-in nor an audit record")
    container = framing.opening is not None
    limits = _Limits(max_decompressed_bytes, max_record_bytes)
    whole = _Task(
        path, display, spec, container, compressed, RangePlan(0, None), limits
    )
    if compressed:
        ranges = [RangePlan(framing.first_offset, None)]
    else:
        ranges = _plan_ranges(
            path, framing.first_offset, path.stat().st_size, framing.first_line
        )
    early = _claim_early(whole, ranges)
    if early is not None:
        return early
    pending = PendingFile(whole, framing, ranges, scan_identity=scan_identity)
    if pool is not None and len(ranges) > 1:
        pending.futures = pool.submit([replace(whole, plan=plan) for plan in ranges])
    return pending


class WholeFiles:
    """Queue the files too small to split in the workers, one task each, a few
    ahead of the file being loaded.

    Args:
        pool: the workers.
        files: the run's pending files in reading order. Those that
            :meth:`PendingFile.poolable` allows with ``whole_files`` and that are
            not split are queued here, unless an early scan queued them already.
        whole_files: the result of :func:`pool_whole_files` for the run's inputs.
    """

    def __init__(
        self, pool: ScanPool, files: list[PendingFile], whole_files: bool
    ) -> None:
        self._pool = pool
        self._ahead = WHOLE_FILES_AHEAD_PER_WORKER * worker_count()
        whole = [
            pending
            for pending in files
            if len(pending.ranges) == 1 and pending.poolable(whole_files)
        ]
        self._waiting = deque(item for item in whole if item.futures is None)
        self._queued = deque(item for item in whole if item.futures is not None)

    def advance(self, loading: PendingFile | None) -> None:
        """Queue waiting files until the window is full, then take ``loading``,
        the file about to be loaded, out of it. A file loaded while still waiting
        is scanned by :meth:`PendingFile.complete`."""
        while self._waiting and len(self._queued) < self._ahead:
            pending = self._waiting.popleft()
            pending.futures = self._pool.submit(
                [replace(pending.task, plan=plan) for plan in pending.ranges]
            )
            self._queued.append(pending)
        if loading is not None:
            # Pending files compare by identity: equal fields are not the same file.
            for line in (self._queued, self._waiting):
                remaining = [item for item in line if item is not loading]
                line.clear()
                line.extend(remaining)


def _stream_min_bytes() -> int:
    """Return the compressed size from which this process inflates a gzip file
    while the workers scan its chunks (see :func:`_run_stream`)."""
    return PARALLEL_MIN_BYTES // 16


def _pooled_gzip_max_bytes() -> int:
    """Return the compressed size below which a gzip file among many goes to a
    worker whole.

    Alone, a gzip file from :func:`_stream_min_bytes` on is inflated here while
    the workers scan it, with checkpoints for the second pass. Among many, each
    such file started its own two workers: twelve 4.5 MB files of 44 MB content
    took 0.17 to 0.36 s each, where a worker inflates and scans one in about 70
    ms of CPU. Without checkpoints the second pass inflates such a file again
    from its start, which up to this size costs less.
    """
    return PARALLEL_MIN_BYTES // 4


def pool_whole_files(paths: list[Path]) -> bool:
    """Tell whether the files too small to split are worth scanning in the
    workers: those of at least :data:`POOLED_FILE_MIN_BYTES` add up to
    :data:`PARALLEL_MIN_BYTES`.

    Each file is sized on disk, so a gzip file counts at its compressed size.
    """
    total = 0
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if POOLED_FILE_MIN_BYTES <= size < PARALLEL_MIN_BYTES:
            total += size
    return total >= PARALLEL_MIN_BYTES


# Workers forked and scans queued by start_early, until a ScanPool or start_file
# takes them.
_early_executor: ProcessPoolExecutor | None = None
_early_files: dict[str, PendingFile] = {}


def start_early(
    files: list[tuple[Path, str]],
    *,
    revocation_activities: tuple[str, ...],
    max_decompressed_bytes: int,
    max_record_bytes: int,
) -> None:
    """Fork the scan workers and queue the scan of each large plain file now,
    and of smaller files as :meth:`PendingFile.poolable` allows.

    ``files`` contains each path with its name as shown to the user, in reading
    order. A later :func:`start_file` call takes a queued scan only when it plans
    the same task and ranges, which covers the settings, the display name and the
    file's size. The file's size, modification time and inode must also be the same
    as when the scan was queued. Scans that no call takes are cancelled by
    :func:`discard_early`, and the workers are stopped at exit if no
    :class:`ScanPool` took them. A file that this function cannot plan is left to
    the later call.
    """
    whole_files = pool_whole_files([path for path, _ in files])
    whole_ahead = WHOLE_FILES_AHEAD_PER_WORKER * worker_count()
    for path, display in files:
        key = str(path)
        if key in _early_files:
            continue
        try:
            identity = FileIdentity.of(path)
            pending = start_file(
                path,
                display,
                revocation_activities=revocation_activities,
                max_decompressed_bytes=max_decompressed_bytes,
                max_record_bytes=max_record_bytes,
            )
        except (Unsupported, OSError):
            continue
        # The other files are scanned by this process when they are loaded. Of the
        # files too small to split, the first few go now and WholeFiles the rest.
        if not pending.poolable(whole_files):
            continue
        if len(pending.ranges) < 2:
            if not whole_ahead:
                continue
            whole_ahead -= 1
        executor = early_executor()
        pending.futures = [
            executor.submit(_scan_task, replace(pending.task, plan=plan))
            for plan in pending.ranges
        ]
        pending.identity = identity
        _early_files[key] = pending


def early_executor() -> ProcessPoolExecutor:
    """Return the workers for scans queued at start-up, forking them at first use.

    The next :class:`ScanPool` takes them over. Workers that no pool took are
    stopped at exit.
    """
    global _early_executor
    if _early_executor is None:
        _early_executor = _worker_pool(worker_count())
        atexit.register(_stop_early)
    return _early_executor


def discard_early() -> None:
    """Cancel the early scans that no :func:`start_file` call took."""
    for pending in _early_files.values():
        _cancel_early(pending, "does not match this run's settings")
    _early_files.clear()


def _claim_early(task: _Task, ranges: list[RangePlan]) -> PendingFile | None:
    """Return the early scan of ``task`` over ``ranges``, if one was queued."""
    early = _early_files.pop(str(task.path), None)
    if early is None:
        return None
    if early.task != task or early.ranges != ranges:
        _cancel_early(early, "does not match this run's settings")
    elif _identity_or_none(task.path) != early.identity:
        # A file that grew by less than a line keeps its ranges, and the early
        # scan has not read the added lines.
        _cancel_early(early, "was of the file before it changed")
    else:
        logger.debug("%s: using the scan started early", task.display)
        return early
    return None


def _cancel_early(pending: PendingFile, reason: str) -> None:
    """Cancel an early scan that the run does not take, and log why."""
    logger.debug(
        "%s: the scan started early %s, so it is discarded",
        pending.task.display,
        reason,
    )
    for future in pending.futures or ():
        future.cancel()


def _identity_or_none(path: Path) -> FileIdentity | None:
    try:
        return FileIdentity.of(path)
    except OSError:
        return None


def _stop_early() -> None:
    """Stop early workers that no ScanPool took: the run ended before loading."""
    global _early_executor
    _early_files.clear()
    executor = _early_executor
    if executor is None:
        return
    _early_executor = None
    # A queued scan can run for seconds, and shutdown() waits for running ones.
    for child in multiprocessing.active_children():
        child.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def load_file(
    path: Path,
    display: str,
    sink: FileSink,
    *,
    revocation_activities: tuple[str, ...],
    max_decompressed_bytes: int,
    max_record_bytes: int,
    strict: bool = True,
) -> FastFile:
    """Load one file through the fast path into ``sink``, scanning it now.

    Raises:
        Unsupported: the plain path must read the file; ``sink`` is untouched.
        InputError: strict mode and the file ends in a cut-off line.
    """
    pending = start_file(
        path,
        display,
        revocation_activities=revocation_activities,
        max_decompressed_bytes=max_decompressed_bytes,
        max_record_bytes=max_record_bytes,
    )
    return pending.complete(sink, strict=strict)


@dataclass(frozen=True)
class _Limits:
    max_decompressed_bytes: int
    max_record_bytes: int


@dataclass
class _Framing:
    """The start of a file's records and the opening line of a container."""

    first_offset: int
    first_line: int
    opening: bytes | None
    first_record: bytes = b""
    has_utf8_mark: bool = False


@dataclass(frozen=True)
class _Task:
    path: Path
    display: str
    spec: LogSpec
    container: bool
    compressed: bool
    plan: RangePlan
    limits: _Limits


def _detect(path: Path) -> tuple[bool, _Framing]:
    """Return whether the file is gzip and where its records start.

    Raises:
        Unsupported: the content is not one JSON record or container per line.
    """
    with path.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    with open_content(path, compressed) as stream:
        head = stream.read(_PEEK_BYTES)
    offset = len(_UTF8_MARK) if head.startswith(_UTF8_MARK) else 0
    line = 0
    while True:
        newline = head.find(b"\n", offset)
        if newline < 0:
            raise Unsupported("the first record line is longer than the peek window")
        text = head[offset:newline].strip()
        if text:
            break
        offset = newline + 1
        line += 1
    has_mark = head.startswith(_UTF8_MARK)
    if text.startswith(b"{") and text.endswith(b"}"):
        value = _loads(text)
        if not isinstance(value, dict) or is_envelope(value):
            raise Unsupported("the first line is not a single record")
        return compressed, _Framing(offset, line, None, text, has_mark)
    if text == b"[" or (text.startswith(b"{") and text.endswith(b"[")):
        following = head.find(b"\n", newline + 1)
        record = head[newline + 1 : following if following >= 0 else len(head)]
        return compressed, _Framing(newline + 1, line + 1, text, record, has_mark)
    raise Unsupported("the file does not start with a record or a container")


def _loads(text: bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Unsupported(f"a line is not valid JSON: {error}") from error


def worker_count() -> int:
    """Return the number of scan workers: one per core, at most MAX_WORKERS."""
    # macOS has no sched_getaffinity, so there the machine's CPU count is used.
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return min(MAX_WORKERS, cores)


def _plan_ranges(
    path: Path, start: int, size: int | None, first_line: int
) -> list[RangePlan]:
    """Split ``[start, size)`` into one range per core, each starting a line."""
    workers = worker_count()
    if size is None or size - start < PARALLEL_MIN_BYTES or workers < 2:
        return [RangePlan(start, None)]
    cuts = [start]
    with path.open("rb") as raw:
        for part in range(1, workers):
            position = _next_line_start(raw, start + (size - start) * part // workers)
            if cuts[-1] < position < size:
                cuts.append(position)
    ends: list[int | None] = [*cuts[1:], None]
    return [RangePlan(begin, end) for begin, end in zip(cuts, ends, strict=True)]


def _next_line_start(raw: BinaryIO, position: int) -> int:
    """Return the offset after the first newline at or after ``position``.

    Raises:
        Unsupported: no newline within a chunk; such a line is not read here.
    """
    raw.seek(position)
    scanned = 0
    while scanned < CHUNK_BYTES:
        block = raw.read(_PEEK_BYTES)
        if not block:
            return position + scanned
        newline = block.find(b"\n")
        if newline >= 0:
            return position + scanned + newline + 1
        scanned += len(block)
    raise Unsupported("a line is longer than the scan buffer")


def _run(tasks: list[_Task]) -> list[RangeOutcome]:
    if len(tasks) == 1:
        task = tasks[0]
        return [_scan(task, _chunks(task, task.plan.start, task.plan.end))]
    with _workers(len(tasks)) as pool:
        return list(pool.map(_scan_task, tasks))


# True in a worker process while it runs a scan, which Ctrl-C may then stop.
_scanning = False


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """Start forked scan workers that a Ctrl-C interrupts only inside a scan.

    The workers are forked here, while the objects of this process are frozen out
    of the collector's sight. A collection in a worker then does not write to, and
    so copy, every page it inherited. Ctrl-C is held back while the workers start
    (see :func:`h056hunt.interrupts.held`). An interrupt inside the fork handlers
    of the logging module was printed as ignored and lost, and one inside the
    executor's start left a worker waiting for tasks, which kept the process from
    ending.
    """
    # The workers write their index files into a folder that this process removes.
    spill.folder()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
    )
    # The CLI freezes its start-up objects already; that freeze stays.
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        # A Ctrl-C that came meanwhile is raised when the block ends.
        with interrupts.held():
            # With the fork start method, the first task starts every worker.
            pool.submit(int).result()
    except KeyboardInterrupt:
        _stop_pool(pool)
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if not frozen_before:
            gc.unfreeze()
    return pool


@contextmanager
def _workers(count: int) -> Iterator[ProcessPoolExecutor]:
    """Start ``count`` scan workers for the block, and stop them when it ends.

    On Ctrl-C the workers are terminated at once; otherwise the running tasks end
    first.
    """
    pool = _worker_pool(count)
    try:
        yield pool
    except KeyboardInterrupt:
        _stop_pool(pool)
        raise
    except BaseException:
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def _is_interrupt(exc_type: type[BaseException] | None) -> bool:
    return exc_type is not None and issubclass(exc_type, KeyboardInterrupt)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Terminate the workers after Ctrl-C, without waiting for their tasks.

    Every worker process of the run is terminated, because the run ends.
    """
    interrupts.stop_workers()
    pool.shutdown(wait=False, cancel_futures=True)


def _start_worker() -> None:
    """Let Ctrl-C interrupt a worker's scans; the fork left it held back."""
    signal.signal(signal.SIGINT, _interrupt_scan)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _interrupt_scan(signum: int, frame: object) -> None:
    """Raise KeyboardInterrupt in a scanning worker and ignore Ctrl-C in an idle one.

    An idle worker waits on the task queue, and a KeyboardInterrupt there ends it
    with a traceback on stderr. Inside a task, the executor returns the interrupt to
    the main process as the task's exception instead.
    """
    if _scanning:
        raise KeyboardInterrupt


@contextmanager
def scan_running() -> Iterator[None]:
    """Let Ctrl-C interrupt the scan that a worker runs inside this block."""
    global _scanning
    _scanning = True
    try:
        yield
    finally:
        _scanning = False


def _scan_task(task: _Task) -> RangeOutcome:
    """Scan one range and decode its lines; report problems in the outcome."""
    with scan_running():
        return _scan(task, _chunks(task, task.plan.start, task.plan.end))


# Chunk slots shared with the workers of _run_stream. The mapping is anonymous and
# made before the workers fork, so every worker sees the slots the reader fills.
_slots: mmap.mmap | None = None


def _scan_slot(task: _Task, offset: int, length: int) -> RangeOutcome:
    """Scan the chunk of whole lines that the reading process put in a slot."""
    assert _slots is not None
    # The slot is scanned in place: the reading process refills it only after this
    # scan has returned, and the scan copies out every line it keeps.
    with (
        memoryview(_slots) as view,
        view[offset : offset + length + WINDOW_SLACK] as chunk,
        scan_running(),
    ):
        return _scan(task, iter([(chunk, length)]))


def _run_stream(
    task: _Task, start: int
) -> tuple[list[RangePlan], list[RangeOutcome], GzipIndex | None]:
    """Read a stream that cannot be split, such as gzip, and scan it in parallel.

    This process decompresses into shared slots and cuts chunks at line ends; the
    workers scan them. Two slots per worker bound the memory, and a slot is filled
    again only after its scan has finished. With zlib-ng installed, the checkpoints
    taken on the way are returned for the second pass; without it, ISA-L inflates
    and None is returned.
    """
    global _slots
    gzip_index = GzipIndex() if _checkpoint_zlib is not None else None
    workers = worker_count()
    count = 2 * workers
    slot_bytes = CHUNK_BYTES + WINDOW_SLACK
    _slots = mmap.mmap(-1, count * slot_bytes)
    plans: list[RangePlan] = []
    outcomes: list[RangeOutcome | None] = []
    pending: deque[tuple[int, int, Future[RangeOutcome]]] = deque()
    free = list(range(count))
    try:
        with (
            _workers(workers) as pool,
            _open_gzip_stream(task.path, gzip_index) as stream,
        ):
            _skip_to(stream, start, compressed=True)
            position = start
            carry = b""
            bytes_in_memory = 0
            while True:
                if not free:
                    index, slot, future = pending.popleft()
                    outcome = outcomes[index] = future.result()
                    free.append(slot)
                    # Each chunk's decoded rows wait here until the whole stream is
                    # read, so past a size they go to files, as a range's would.
                    bytes_in_memory += outcome.packed_calls.memory_bytes
                    if bytes_in_memory > spill.PIECE_MEMORY_BYTES:
                        for done in outcomes:
                            if done is not None:
                                done.packed_calls.spill()
                        bytes_in_memory = 0
                slot = free.pop()
                base = slot * slot_bytes
                _slots[base : base + len(carry)] = carry
                room = CHUNK_BYTES - len(carry)
                # The slice is released even when readinto raises, because the
                # traceback keeps it alive and an exported slice stops the mmap
                # from closing.
                with (
                    memoryview(_slots) as view,
                    view[base + len(carry) : base + CHUNK_BYTES] as target,
                ):
                    read = stream.readinto(target)
                filled = len(carry) + read
                if position + filled - start > task.limits.max_decompressed_bytes:
                    raise Unsupported("gzip content expands past its limit")
                cut = filled
                # A read that does not fill the slot ends the content, so a last
                # line without a line end is scanned with the lines before it.
                if read == room:
                    cut = _slots.rfind(b"\n", base, base + filled) + 1 - base
                    if cut <= 0:
                        raise Unsupported("a line is longer than the scan buffer")
                if not cut:
                    break
                carry = _slots[base + cut : base + filled]
                plan = RangePlan(position, position + cut)
                plans.append(plan)
                outcomes.append(None)
                future = pool.submit(_scan_slot, replace(task, plan=plan), base, cut)
                pending.append((len(outcomes) - 1, slot, future))
                position += cut
                if not read:
                    break
            for index, _, future in pending:
                outcomes[index] = future.result()
    except _READ_ERRORS as error:
        raise Unsupported(f"the file cannot be read here: {error}") from error
    finally:
        _slots.close()
        _slots = None
    if plans:
        plans[-1].end = None
    scanned = [outcome for outcome in outcomes if outcome is not None]
    return plans, scanned, gzip_index


def _scan(
    task: _Task, chunks: Iterator[tuple[memoryview | bytearray, int]]
) -> RangeOutcome:
    scanner = LineScanner(
        task.spec,
        container=task.container,
        path=task.display,
        start_offset=task.plan.start,
        max_line_bytes=task.limits.max_record_bytes,
    )
    outcome = RangeOutcome(scanner.result)
    decoder = RangeDecoder(
        outcome,
        task.display,
        container=task.container,
        max_record_bytes=task.limits.max_record_bytes,
    )
    offset = task.plan.start
    try:
        for buffer, length in chunks:
            scanner.feed(buffer, length)
            if scanner.result.unsupported:
                break
            # A page or array is read from its first faulty element line on by the
            # plain path's document reader, so the scan stops there.
            if not decoder.chunk(scanner.result, buffer, length, offset):
                break
            offset += length
    except Unsupported as error:
        _mark_unsupported(scanner.result, error)
    except _READ_ERRORS as error:
        scanner.result.unsupported = f"the file cannot be read here: {error}"
    scan = scanner.finish()
    outcome.scan = scan
    if scan.unsupported:
        outcome.packed_calls.discard()
        return outcome
    decoder.finish()
    return outcome


def _mark_unsupported(scan: ScanResult, error: Unsupported) -> None:
    scan.unsupported = error.reason
    scan.unsupported_line = error.line


def _chunks(
    task: _Task,
    start: int,
    end: int | None,
    *,
    gzip_index: GzipIndex | None = None,
) -> Iterator[tuple[memoryview | bytearray, int]]:
    """Yield ``(buffer, length)``: the first ``length`` bytes are whole lines.

    The buffer is reused, so memory stays at one chunk. A gzip file is inflated
    from the checkpoint of ``gzip_index`` before ``start``, or from its start.

    Reading copies every byte into the buffer, yet it costs less CPU than the
    memory maps that scan workers used until 5 December 2026. With the searches
    run piece by piece, the two workers' scan of the 1M benchmark file took 3.3
    to 3.5 s of CPU mapped and 3.1 to 3.2 s read (four runs each). A file that
    shrank under a map also ended its worker with SIGBUS.

    Raises:
        Unsupported: a line is longer than a chunk, gzip content expands past
            its limit, or a plain file ends before ``start`` or ``end``.
    """
    limits = task.limits
    buffer = bytearray(CHUNK_BYTES + WINDOW_SLACK)
    carry = 0
    position = start
    with _content_at(task.path, task.compressed, start, gzip_index) as stream:
        if end is None and not isinstance(stream, GzipInflater) and not task.compressed:
            # The size at the start bounds the read, so lines appended meanwhile
            # are not scanned, and a file that shrinks is noticed below.
            end = os.fstat(stream.fileno()).st_size
            if end < start:
                # The file shrank before this range opened it, maybe after an
                # earlier range had read lines that are now gone.
                raise Unsupported(
                    f"the file changed while it was read: it ends at byte {end}, "
                    f"before the range that starts at byte {start}"
                )
        while True:
            room = len(buffer) - WINDOW_SLACK - carry
            if end is not None:
                room = min(room, end - position)
            read = (
                stream.readinto(memoryview(buffer)[carry : carry + room]) if room else 0
            )
            position += read
            if not read and end is not None and position < end:
                raise Unsupported(
                    f"the file changed while it was read: it ends at byte "
                    f"{position}, before byte {end}"
                )
            if task.compressed and position > limits.max_decompressed_bytes:
                raise Unsupported("gzip content expands past its limit")
            filled = carry + read
            at_end = read == 0 or (end is not None and position >= end)
            if at_end:
                if filled:
                    yield buffer, filled
                return
            cut = buffer.rfind(b"\n", 0, filled) + 1
            if cut == 0:
                # No export writes a record this long on one line; the plain path
                # reads or skips it in bounded memory.
                raise Unsupported("a line is longer than the scan buffer")
            yield buffer, cut
            carry = filled - cut
            buffer[:carry] = buffer[cut:filled]


@contextmanager
def _content_at(
    path: Path, compressed: bool, offset: int, gzip_index: GzipIndex | None = None
) -> Iterator[io.BufferedIOBase | GzipInflater]:
    """Open a file's content at ``offset``, inflating gzip from the checkpoint of
    ``gzip_index`` before it, or from the start without one."""
    if compressed and gzip_index is not None:
        with path.open("rb") as raw:
            inflater = GzipInflater(raw, gzip_index.before(offset))
            inflater.skip(offset - inflater.position)
            yield inflater
        return
    with open_content(path, compressed) as stream:
        _skip_to(stream, offset, compressed)
        yield stream


def _skip_to(
    stream: io.BufferedIOBase | GzipInflater, offset: int, compressed: bool
) -> None:
    if isinstance(stream, GzipInflater):
        stream.skip(offset)
        return
    if not compressed:
        stream.seek(offset)
        return
    remaining = offset
    while remaining:
        skipped = len(stream.read(min(remaining, CHUNK_BYTES)))
        if not skipped:
            return
        remaining -= skipped


def _check_outcomes(outcomes: list[RangeOutcome], framing: _Framing) -> None:
    """Raise Unsupported unless every range scanned cleanly."""
    line = framing.first_line
    for outcome in outcomes:
        _raise_if_unsupported(outcome.scan, line)
        line += outcome.scan.lines


def _raise_if_unsupported(scan: ScanResult, line: int) -> None:
    """Raise the Unsupported that a range's scan, starting at ``line``, found."""
    if scan.unsupported is None:
        return
    if scan.unsupported_line is None:
        raise Unsupported(scan.unsupported)
    raise Unsupported(scan.unsupported, line=line + scan.unsupported_line)


def _finish_trials(
    task: _Task,
    ranges: list[RangePlan],
    outcomes: list[RangeOutcome],
    framing: _Framing,
    gzip_index: GzipIndex | None,
) -> None:
    """Finish the trials of broken lines that needed lines past their range.

    The lines after the range are read from the file, up to its end when the
    trial needs them all.

    Raises:
        Unsupported: the plain path reads such a line with a record of a later
            line (see :func:`~h056hunt.loaders.scan_decode.settle_trial`).
    """
    line = framing.first_line
    for outcome in outcomes:
        for index, broken in enumerate(outcome.broken_lines):
            if broken.records is not None:
                continue
            trial = LineTrial(
                BrokenLine(broken.line, broken.record, broken.offset),
                task.display,
                task.limits.max_record_bytes,
            )
            logger.debug(
                "%s, line %d: reading the lines after its scan range, which the plain "
                "path's line reader reads with it",
                task.display,
                line + broken.line + 1,
            )
            after = broken.offset + sum(map(len, broken.lines))
            with _content_at(task.path, task.compressed, after, gzip_index) as stream:
                lines = itertools.chain(broken.lines, _stream_lines(stream))
                if not any(trial.feed(raw) for raw in lines):
                    trial.finish()
            try:
                settle_trial(trial, outcome)
            except Unsupported as error:
                raise Unsupported(error.reason, line=line + broken.line) from error
            outcome.broken_lines[index] = trial.broken
        line += outcome.scan.lines


def _stream_lines(stream: io.BufferedIOBase | GzipInflater) -> Iterator[bytes]:
    """Yield the lines of a stream from its position, each with its line end."""
    parts: list[bytes] = []
    while block := stream.read(_PEEK_BYTES):
        start = 0
        while (end := block.find(b"\n", start)) >= 0:
            parts.append(block[start : end + 1])
            yield b"".join(parts)
            parts = []
            start = end + 1
        parts.append(block[start:])
    if any(parts):
        yield b"".join(parts)


def _container_tail(
    task: _Task,
    ranges: list[RangePlan],
    outcomes: list[RangeOutcome],
    framing: _Framing,
    gzip_index: GzipIndex | None,
) -> int | None:
    """Find the line of a page or array from which the plain path's document
    reader must read the file, and cut the scan off before it.

    That is the first element line that does not decode, that lacks its comma
    while another element follows, or that the file ends in without a line end.
    The reader fails at that line or after it, or reads a value there that spans
    lines. Either way the lines before it are the fast path's.

    Returns:
        The line's byte offset, with ``ranges`` and ``outcomes`` cut off before
        it, or None when the container is whole and closes once at its end.

    Raises:
        Unsupported: a range before the line did not scan cleanly, or the
            container does not have the form in which the reader is in an array
            of records at the line.
    """
    found = _first_element_fault(outcomes, framing)
    if found is None:
        _check_closing(outcomes, framing)
        return None
    index, start, text = found
    plan = ranges[index]
    del ranges[index + 1 :]
    del outcomes[index + 1 :]
    plan.end = start.offset
    # The range is scanned again up to the line, so its counts, time ranges and
    # index blocks leave out the lines from it on.
    head = replace(task, plan=RangePlan(plan.start, start.offset))
    chunks = _chunks(head, plan.start, start.offset, gzip_index=gzip_index)
    outcomes[index] = _scan(head, chunks)
    _check_outcomes(outcomes, framing)
    _check_tail_form(outcomes, framing)
    first_element = not any(outcome.scan.records for outcome in outcomes)
    if first_element and text is not None and not _is_clean_text(text):
        # The plain path decodes the first two lines of a file on their own
        # before it reads the document, and so reports such a line twice.
        raise Unsupported("the first element line is not valid UTF-8 or has a NUL")
    return start.offset


def _first_element_fault(
    outcomes: list[RangeOutcome], framing: _Framing
) -> tuple[int, LineStart, bytes | None] | None:
    """Return the range, the start and the text, when known, of the first element
    line from which the plain path's document reader must read; see
    :func:`_container_tail`.

    Raises:
        Unsupported: a range before that line did not scan cleanly.
    """
    last_element = _last_element_line(outcomes, framing)
    cut_off = outcomes[-1].scan.cut_off_line
    line = framing.first_line
    for index, outcome in enumerate(outcomes):
        scan = outcome.scan
        _raise_if_unsupported(scan, line)
        found: list[tuple[LineStart, bytes | None]] = []
        if outcome.fault is not None:
            fault = outcome.fault
            found.append((LineStart(fault.line, fault.offset), fault.lines[0]))
        for missing in scan.missing_commas:
            # The last element has no comma, unless a cut-off line follows it.
            if cut_off is not None or line + missing.line != last_element:
                found.append((missing, None))
        if scan.cut_off_line is not None:
            last = scan.cut_off_line
            found.append((LineStart(last.line, last.offset), last.text))
        if found:
            start, text = min(found, key=lambda item: item[0].line)
            return index, start, text
        line += scan.lines
    return None


def _last_element_line(outcomes: list[RangeOutcome], framing: _Framing) -> int | None:
    """Return the file's 0-based line of the last element the scan counted."""
    last = None
    line = framing.first_line
    for outcome in outcomes:
        if outcome.scan.last_element_line is not None:
            last = line + outcome.scan.last_element_line
        line += outcome.scan.lines
    return last


def _is_clean_text(text: bytes) -> bool:
    """Tell whether a line is valid UTF-8 without a NUL character."""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in text


def _check_closing(outcomes: list[RangeOutcome], framing: _Framing) -> None:
    """Raise Unsupported unless a container closes once, at its end, after an
    element line without a comma."""
    closing = [
        (index, outcome.scan)
        for index, outcome in enumerate(outcomes)
        if outcome.scan.closing_line is not None
    ]
    if len(closing) != 1 or closing[0][0] != len(outcomes) - 1:
        raise Unsupported("the container does not close once at its end")
    last = closing[0][1]
    assert framing.opening is not None
    document = _loads(framing.opening + last.closing_text)
    if not isinstance(document, list) and not (
        isinstance(document, dict) and is_envelope(document)
    ):
        raise Unsupported("the container is not an array or an envelope")
    missing = []
    line = framing.first_line
    for outcome in outcomes:
        missing += [line + start.line for start in outcome.scan.missing_commas]
        line += outcome.scan.lines
    last_element = _last_element_line(outcomes, framing)
    if missing != ([] if last_element is None else [last_element]):
        raise Unsupported("the last element line has a comma")


def _check_tail_form(outcomes: list[RangeOutcome], framing: _Framing) -> None:
    """Raise Unsupported unless the plain path's document reader reads every
    element before the line where the fast path hands it the file, and is then in
    an array of records.

    The opening must start an array of records: ``[``, or an object whose last
    member before the line end is an envelope array.
    """
    if any(outcome.scan.closing_line is not None for outcome in outcomes):
        raise Unsupported("a closing line comes before a faulty element line")
    if any(outcome.scan.missing_commas for outcome in outcomes):
        raise Unsupported("an element line before a faulty one lacks its comma")
    assert framing.opening is not None
    if framing.opening == b"[":
        return
    document = _loads(framing.opening + b"]}")
    if not isinstance(document, dict) or list(document)[-1:] not in (
        [key] for key in ENVELOPE_KEYS
    ):
        raise Unsupported("the opening line does not end in an envelope array")


def _fast_file(
    path: Path,
    display: str,
    sink: FileSink,
    spec: LogSpec,
    container: bool,
    compressed: bool,
    limits: _Limits,
    ranges: list[RangePlan],
    scans: list[ScanResult],
    gzip_index: GzipIndex | None = None,
    record_shifts: list[tuple[int, int]] | None = None,
    identity: FileIdentity | None = None,
) -> FastFile:
    shifts = record_shifts or []
    offsets: list[int] = []
    ends: list[int] = []
    lines: list[int] = []
    records: list[int] = []
    user_index: list[tuple[PairFile, int]] = []
    for plan, scan in zip(ranges, scans, strict=True):
        range_end = plan.end if plan.end is not None else np.iinfo(np.int64).max
        base = len(offsets)
        offsets.extend(scan.block_offsets)
        # A range of blank lines opens no block, so it adds no end either. A gzip
        # chunk of nothing but line feeds is such a range.
        if scan.block_offsets:
            ends.extend([*scan.block_offsets[1:], range_end])
        for line, record in zip(scan.block_lines, scan.block_records, strict=True):
            lines.append(plan.line + line)
            shift = _records_between(shifts, plan.line, plan.line + line)
            records.append(plan.record + record + shift)
        if len(scan.user_index):
            user_index.append((scan.user_index, base))
    fast_file = FastFile(
        path=path,
        display=display,
        requested_log=sink.report.requested_log,
        spec=spec,
        container=container,
        compressed=compressed,
        max_decompressed_bytes=limits.max_decompressed_bytes,
        dayfirst=sink.dayfirst,
        ranges=ranges,
        block_offsets=np.array(offsets, dtype=np.int64),
        block_ends=np.array(ends, dtype=np.int64),
        block_lines=np.array(lines, dtype=np.int64),
        block_records=np.array(records, dtype=np.int64),
        user_index=user_index,
        identity=identity,
        gzip_index=gzip_index,
        record_shifts=shifts,
    )
    # The index files are removed when the file's index is dropped. Forked workers
    # that inherited a copy never remove them.
    weakref.finalize(
        fast_file, _remove_index, [pairs for pairs, _ in user_index], os.getpid()
    )
    return fast_file


def _records_between(shifts: list[tuple[int, int]], first: int, last: int) -> int:
    """Return the records beyond one each that the broken lines on the file's
    0-based lines ``first`` to ``last - 1`` count. ``shifts`` is sorted by line."""
    if not shifts:
        return 0
    start = bisect.bisect_left(shifts, (first,))
    stop = bisect.bisect_left(shifts, (last,))
    return sum(count for _, count in shifts[start:stop])


def _remove_index(index: list[PairFile], owner: int) -> None:
    if os.getpid() == owner:
        for pairs in index:
            pairs.remove()


def _blocks_of_users(fast_file: FastFile, hashes: np.ndarray) -> np.ndarray:
    """Return the sorted blocks of ``fast_file`` that index one of ``hashes``.

    When an index file cannot be read, because something removed or cut it during
    the run, every block is returned. The second pass still keeps only the lines
    of the requested users, so the result is the same, only slower.
    """
    found = [np.empty(0, dtype=np.int64)]
    try:
        for pairs, base in fast_file.user_index:
            for part in pairs.slices():
                hashed = (part & np.uint64(0xFFFFFFFF)).astype(np.uint32)
                hit = np.isin(hashed, hashes)
                if hit.any():
                    found.append((part[hit] >> np.uint64(32)).astype(np.int64) + base)
    except OSError as error:
        logger.warning(
            "%s: the index of its pre-filtered records could not be read (%s); "
            "reading every block of the file again instead",
            fast_file.display,
            error,
        )
        return np.arange(len(fast_file.block_offsets), dtype=np.int64)
    return np.unique(np.concatenate(found))


class FileChanged(Exception):
    """Raised when a fast-path file differs from the one the first pass indexed."""


# The message of a second pass stopped by a line that does not decode.
BROKEN_LINE_MESSAGE = "a pre-filtered line read again does not decode"


class UndecodedLine(FileChanged):
    """Raised when the second pass cannot decode a line of an unchanged file."""


# The second pass splits a file's blocks among worker processes when they cost at
# least this many bytes to read (see _block_runs). Cheaper reads stay in this
# process, because forking and stopping the workers costs more than it saves. On
# the 2-core benchmark machine, with about 10 ms to fork one worker, splitting
# broke even at about 16 MiB for a plain file and 10 to 13 MiB for gzip.
CONTEXT_PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Scanning a byte of a block costs about this many times as much as inflating one.
# The second pass over the 1M-sign-in benchmark files took 1.8 to 2.5 ms of CPU per
# MiB scanned and 0.56 ms per MiB inflated, on its 2-core machine.
_INFLATE_COST_RATIO = 4


class ContextReader:
    """Read pre-filtered records from fast-path files again: the sign-ins of
    chosen users, or the records that may hold chosen UPNs.

    A file that changed since the first pass is not read. In strict mode that raises
    :class:`InputError`. Otherwise the file's ``changed`` is set, the file joins
    ``changed_files``, and no rows of it are returned.

    A file whose blocks take at least ``parallel_min_bytes`` to read (see
    :func:`_group_blocks`) is read by this process and forked workers together, one
    contiguous group of blocks each. The default is
    :data:`CONTEXT_PARALLEL_MIN_BYTES`.
    """

    def __init__(
        self,
        files: list[FastFile | CsvFastFile],
        *,
        strict: bool = True,
        parallel_min_bytes: int | None = None,
    ) -> None:
        self.files = files
        self.strict = strict
        self.parallel_min_bytes = parallel_min_bytes
        self.changed_files: list[FastFile | CsvFastFile] = []
        self._read: set[bytes] = set()

    def unread(self, user_ids: set[str]) -> set[bytes]:
        """Return the lower-cased object ids of ``user_ids`` that no call read yet.

        Keys that are not object ids (``upn:...``) are left out.
        """
        wanted = {
            key.lower().encode()
            for key in user_ids
            if key and not key.startswith("upn:")
        }
        return wanted - self._read

    def read(self, user_ids: set[str]) -> list[tuple[FastFile | CsvFastFile, FileSink]]:
        """Route the pre-filtered lines of ``user_ids`` into one new sink per file.

        Ids already read by an earlier call are not read again. Keys that are not
        object ids (``upn:...``) are ignored, because context rows are matched by
        object id. Workers started for this call are shut down before it
        returns.

        Raises:
            InputError: strict mode and a file changed since the first pass read it.
        """
        wanted = self.unread(user_ids)
        self._read |= wanted
        if not wanted:
            return []
        windows = b"".join(prefilter.user_window(key) for key in sorted(wanted))
        hashes = np.append(prefilter.user_hashes(windows)[0], prefilter.UNKNOWN_USER)

        def blocks_of(fast_file: FastFile) -> np.ndarray:
            if fast_file.spec.user_key is None or not fast_file.user_index:
                return np.empty(0, dtype=np.int64)
            return _blocks_of_users(fast_file, hashes)

        return self._read_files(
            blocks_of, lambda csv_file: csv_file.read_context(wanted), wanted
        )

    def read_upn_candidates(
        self, search: UpnSearch
    ) -> list[tuple[FastFile | CsvFastFile, FileSink]]:
        """Route the pre-filtered lines that ``search`` marks into one new sink per
        file, from every block of every file, audit files too.

        Raises:
            InputError: strict mode and a file changed since the first pass read it.
        """

        def blocks_of(fast_file: FastFile) -> np.ndarray:
            return np.arange(len(fast_file.block_offsets))

        return self._read_files(
            blocks_of,
            lambda csv_file: csv_file.read_upn_candidates(search),
            set(),
            search,
        )

    def _read_files(
        self,
        blocks_of: Callable[[FastFile], np.ndarray],
        read_csv: Callable[[CsvFastFile], FileSink | None],
        wanted: set[bytes],
        upn_search: UpnSearch | None = None,
    ) -> list[tuple[FastFile | CsvFastFile, FileSink]]:
        """Route the blocks that ``blocks_of`` picks in each JSON file, and the rows
        that ``read_csv`` routes in each CSV file, into one new sink per file read.

        Files that changed since the first pass are skipped or rejected, as
        :meth:`_reject_changed` decides.
        """
        # Imported here because csv_fastpath builds on this module and the sink
        # module imports pandas, which the scan workers do without.
        from h056hunt.loaders import csv_fastpath
        from h056hunt.loaders.sink import FileSink

        found: list[tuple[FastFile | CsvFastFile, FileSink]] = []
        min_bytes = self.parallel_min_bytes
        if min_bytes is None:
            min_bytes = CONTEXT_PARALLEL_MIN_BYTES
        with _BlockPool(self.files, min_bytes) as pool:
            for index, fast_file in enumerate(self.files):
                if fast_file.changed is not None:
                    continue
                if isinstance(fast_file, csv_fastpath.CsvFastFile):
                    try:
                        csv_sink = read_csv(fast_file)
                    except FileChanged as error:
                        self._reject_changed(fast_file, error)
                        continue
                    if csv_sink is not None:
                        found.append((fast_file, csv_sink))
                    continue
                blocks = blocks_of(fast_file)
                if not len(blocks):
                    continue
                sink = FileSink(
                    fast_file.display, fast_file.requested_log, fast_file.dayfirst
                )
                try:
                    _read_unchanged_blocks(
                        pool, index, blocks, wanted, sink, upn_search
                    )
                except FileChanged as error:
                    self._reject_changed(fast_file, error)
                    continue
                found.append((fast_file, sink))
        return found

    def _reject_changed(
        self, fast_file: FastFile | CsvFastFile, error: FileChanged
    ) -> None:
        if isinstance(error, UndecodedLine):
            message = f"{BROKEN_LINE_MESSAGE}: {error}"
            hint = (
                "the fast path checks only the lines it decodes: rerun with "
                "--no-fast-path to have every line checked and this one reported "
                "where it is, or with --lenient"
            )
        else:
            message = f"the file changed while it was read: {error}"
            hint = (
                "hunt a copy that nothing writes to, or rerun with --lenient to "
                "keep the records read before the change"
            )
        if self.strict:
            raise InputError(
                fast_file.display, message, reason="file_changed", hint=hint
            )
        logger.warning(
            "%s: %s; its pre-filtered records were not read again",
            fast_file.display,
            message,
        )
        fast_file.changed = message
        self.changed_files.append(fast_file)


def _read_unchanged_blocks(
    pool: _BlockPool,
    index: int,
    blocks: np.ndarray,
    wanted: set[bytes],
    sink: FileSink,
    upn_search: UpnSearch | None = None,
) -> None:
    """Read ``blocks`` of ``pool.files[index]``, checking the file before and after.

    Raises:
        FileChanged: the file's size, modification time or inode is not what the
            first pass saw, or reading it failed where the first pass did not.
    """
    fast_file = pool.files[index]
    assert isinstance(fast_file, FastFile)
    _check_unchanged(fast_file)
    try:
        pool.read(index, blocks.tolist(), wanted, sink, upn_search)
    except _READ_ERRORS as error:
        _check_unchanged(fast_file)
        raise FileChanged(f"reading it again failed: {error}") from error
    except Unsupported as error:
        _check_unchanged(fast_file)
        # The file is as the first pass saw it, so a pre-filtered line of a
        # requested user is broken: not valid UTF-8, with a NUL character, or not
        # valid JSON. The first pass does not check the lines it skips.
        raise UndecodedLine(str(error)) from error
    _check_unchanged(fast_file)


def _check_unchanged(fast_file: FastFile) -> None:
    check_unchanged(fast_file.path, fast_file.identity)


def check_unchanged(path: Path, was: FileIdentity | None) -> None:
    """Raise FileChanged unless ``path`` still has the identity ``was``."""
    if was is None:
        raise FileChanged("it could not be checked after the first pass")
    try:
        now = FileIdentity.of(path)
    except OSError as error:
        raise FileChanged(f"it can no longer be read: {error}") from error
    if now.inode != was.inode:
        raise FileChanged("it was replaced by another file")
    if now.size != was.size:
        raise FileChanged(
            f"its size went from {Counted(was.size, 'byte')} to "
            f"{Counted(now.size, 'byte')}"
        )
    if now.mtime_ns != was.mtime_ns:
        raise FileChanged("its modification time changed")


# The fast-path files of the second pass while its workers run. They are set before
# the workers fork, so the workers inherit them with their gzip checkpoints, whose
# zlib-ng decompressors cannot be pickled.
_context_files: list[FastFile | CsvFastFile] = []


@dataclass(frozen=True)
class _BlockGroup:
    """Ascending blocks of ``_context_files[file]`` that one worker reads."""

    file: int
    blocks: list[int]
    wanted: set[bytes]
    upn_search: UpnSearch | None = None


class _BlockPool:
    """Read the blocks of the second pass in this process and in forked workers.

    The workers fork at the first file whose blocks are split into groups, and stop
    when the pool closes. This process reads the first group of a file while the
    workers read the others, then replays their sink calls in block order. When a
    worker dies, its group and every later one are read in this process.
    """

    def __init__(self, files: list[FastFile | CsvFastFile], min_bytes: int) -> None:
        self.files = files
        self.min_bytes = min_bytes
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False

    def read(
        self,
        index: int,
        blocks: list[int],
        wanted: set[bytes],
        sink: FileSink,
        upn_search: UpnSearch | None = None,
    ) -> None:
        """Route the pre-filtered lines of ``wanted`` in ``blocks``, and those that
        ``upn_search`` marks, into ``sink``.

        Raises:
            OSError, EOFError, zlib.error: reading a block in this process failed.
            Unsupported: decoding a block failed, or a worker's read failed.
        """
        fast_file = self.files[index]
        assert isinstance(fast_file, FastFile)
        groups = [blocks]
        if not self._broken:
            groups = _group_blocks(fast_file, blocks, worker_count(), self.min_bytes)
        if len(groups) == 1:
            _read_blocks(fast_file, blocks, wanted, sink, upn_search)
            return
        logger.debug(
            "%s: second pass reads %d blocks in %d groups, the first in this process",
            fast_file.display,
            len(blocks),
            len(groups),
        )
        executor = self._start(len(groups) - 1)
        futures = [
            executor.submit(_read_group, _BlockGroup(index, group, wanted, upn_search))
            for group in groups[1:]
        ]
        try:
            _read_blocks(fast_file, groups[0], wanted, sink, upn_search)
            for group, future in zip(groups[1:], futures, strict=True):
                try:
                    calls = future.result()
                except BrokenProcessPool as error:
                    self._note_broken(error)
                    _read_blocks(fast_file, group, wanted, sink, upn_search)
                    continue
                replay(calls, sink, 0, 0)
        finally:
            # Groups still queued after a failure are not read.
            for future in futures:
                future.cancel()

    def close(self) -> None:
        """Tell the workers to stop and cancel the groups still queued.

        The executor's manager thread joins the workers in the background, which
        saves the 6 ms a join took on the benchmark machine. The interpreter waits
        for that thread at exit, so no worker outlives the run.
        """
        global _context_files
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        _context_files = []

    def _start(self, workers: int) -> ProcessPoolExecutor:
        """Fork ``workers`` workers unless they run already.

        This process reads a group too, so a file split into N groups needs N - 1
        workers. Every worker adds to the start-up time, so no more are started
        than the first split file needs, and the groups of later files may queue.
        """
        global _context_files
        if self._executor is None:
            _context_files = self.files
            self._executor = _worker_pool(workers)
        return self._executor

    def _note_broken(self, error: BrokenProcessPool) -> None:
        if not self._broken:
            logger.warning(
                "a second-pass worker ended abruptly (%s), so its blocks and the "
                "later ones are read in the main process",
                error,
            )
        self._broken = True

    def __enter__(self) -> _BlockPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self._executor is not None and _is_interrupt(exc_type):
            _stop_pool(self._executor)
            self._executor = None
        self.close()


def _read_group(group: _BlockGroup) -> list[tuple[Any, ...]]:
    """Read one group of blocks in a worker and return the sink calls it made."""
    fast_file = _context_files[group.file]
    assert isinstance(fast_file, FastFile)
    recorder = RecordingSink(fast_file.display)
    with scan_running():
        try:
            _read_blocks(
                fast_file, group.blocks, group.wanted, recorder, group.upn_search
            )
        except _READ_ERRORS as error:
            # zlib-ng's error class cannot be pickled, so the main process gets
            # the same message in an Unsupported.
            raise Unsupported(str(error)) from error
    return recorder.calls


def _group_blocks(
    fast_file: FastFile, blocks: list[int], count: int, min_bytes: int
) -> list[list[int]]:
    """Split ``blocks`` into at most ``count`` contiguous groups of about equal cost.

    The cost of a run of blocks is the bytes of content read or inflated for it (see
    :func:`_block_runs`). Runs are never split, so each group of a gzip file starts
    inflating at a checkpoint and no content is inflated twice. Blocks that cost
    less than ``min_bytes`` in all stay in one group.

    NOTE: adjacent blocks of a gzip file form one run, so a read of a long stretch
    of them, as when many users are requested, stays in one group.
    """
    runs = _block_runs(fast_file, blocks)
    total = sum(cost for _, cost in runs)
    if count < 2 or len(runs) < 2 or total < min_bytes:
        return [blocks]
    groups: list[list[int]] = [[]]
    done = 0
    for run, cost in runs:
        # A new group starts at the run whose middle lies past the share of the
        # total that the groups so far should take.
        share = total * len(groups) / count
        if groups[-1] and len(groups) < count and done + cost / 2 > share:
            groups.append([])
        groups[-1].extend(run)
        done += cost
    return groups


def _block_runs(fast_file: FastFile, blocks: list[int]) -> list[tuple[list[int], int]]:
    """Return the runs of ``blocks`` that one stream reads, with their cost.

    The cost is in bytes scanned: the bytes of the blocks plus a
    :data:`_INFLATE_COST_RATIO` share of the bytes inflated for them. A plain file
    is read by seeking, so each block is a run of its own. A gzip run starts at a
    checkpoint and inflates from there to its last block's end. A gzip file without
    checkpoints is one run from its start. The last block of a file ends at an
    unknown offset, so its length is taken as one index block.
    """
    open_end = np.iinfo(np.int64).max
    lengths = {}
    for block in blocks:
        start = int(fast_file.block_offsets[block])
        end = int(fast_file.block_ends[block])
        lengths[block] = end - start if end != open_end else prefilter.INDEX_BLOCK_BYTES
    if not fast_file.compressed:
        return [([block], lengths[block]) for block in blocks]
    if fast_file.gzip_index is None:
        return [(blocks, sum(lengths.values()))]
    runs = []
    for checkpoint, run in _gzip_runs(fast_file, fast_file.gzip_index, blocks):
        last = run[-1]
        end = int(fast_file.block_offsets[last]) + lengths[last]
        inflated = end - checkpoint.content_offset
        scanned = sum(lengths[block] for block in run)
        runs.append((run, scanned + inflated // _INFLATE_COST_RATIO))
    return runs


def _gzip_runs(
    fast_file: FastFile, index: GzipIndex, blocks: list[int]
) -> list[tuple[GzipCheckpoint, list[int]]]:
    """Split ascending ``blocks`` into runs that one inflater reads in turn.

    A run starts at the checkpoint before its first block. The next block joins the
    run unless the checkpoint before that block lies past the run's end, because
    starting at that checkpoint then inflates less.
    """
    runs: list[tuple[GzipCheckpoint, list[int]]] = []
    reached = 0
    for block in blocks:
        checkpoint = index.before(int(fast_file.block_offsets[block]))
        if not runs or reached < checkpoint.content_offset:
            runs.append((checkpoint, []))
        runs[-1][1].append(block)
        reached = int(fast_file.block_ends[block])
    return runs


def _read_blocks(
    fast_file: FastFile,
    blocks: list[int],
    wanted: set[bytes],
    sink: FileSink | RecordingSink,
    upn_search: UpnSearch | None = None,
) -> None:
    for block, data in _block_contents(fast_file, blocks):
        start = int(fast_file.block_offsets[block])
        scanner = LineScanner(
            fast_file.spec,
            container=fast_file.container,
            path=fast_file.display,
            start_offset=start,
            wanted=wanted,
            upn_search=upn_search,
        )
        scanner.feed(bytearray(data) + bytes(WINDOW_SLACK), len(data))
        scan = scanner.finish()
        line = int(fast_file.block_lines[block])
        record = int(fast_file.block_records[block])
        for decoded in scan.decode:
            absolute = line + decoded.line
            shift = _records_between(fast_file.record_shifts, line, absolute)
            route_line(
                decoded.text,
                sink,
                absolute,
                record + decoded.record + shift,
                container=fast_file.container,
            )


def _block_contents(
    fast_file: FastFile, blocks: list[int]
) -> Iterator[tuple[int, bytes]]:
    """Yield each of ``blocks`` in ascending order with its content.

    A plain file is read by seeking. A gzip file with checkpoints is inflated run
    by run (see :func:`_gzip_runs`). A gzip file without them is inflated once from
    its start up to the last block.
    """
    if fast_file.compressed and fast_file.gzip_index is not None:
        yield from _gzip_block_contents(fast_file, fast_file.gzip_index, blocks)
        return
    with open_content(fast_file.path, fast_file.compressed) as stream:
        position = 0
        for block in blocks:
            start = int(fast_file.block_offsets[block])
            end = int(fast_file.block_ends[block])
            if fast_file.compressed:
                _skip_to(stream, start - position, compressed=True)
                data = _read_upto(stream, end - start)
                position = start + len(data)
            else:
                stream.seek(start)
                data = _read_upto(stream, end - start)
            yield block, data


def _gzip_block_contents(
    fast_file: FastFile, index: GzipIndex, blocks: list[int]
) -> Iterator[tuple[int, bytes]]:
    with fast_file.path.open("rb") as raw:
        for checkpoint, run in _gzip_runs(fast_file, index, blocks):
            inflater = GzipInflater(raw, checkpoint)
            for block in run:
                start = int(fast_file.block_offsets[block])
                end = int(fast_file.block_ends[block])
                inflater.skip(start - inflater.position)
                yield block, _read_upto(inflater, end - start)


def _read_upto(stream: io.BufferedIOBase | GzipInflater, size: int) -> bytes:
    """Read ``size`` bytes or to the end; a huge size reads one line past EOF."""
    if size > 2**40:
        return stream.read()
    parts = []
    while size > 0:
        part = stream.read(min(size, CHUNK_BYTES))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)
