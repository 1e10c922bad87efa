"""Load every input file into the canonical frames and account for every record.

Duplicates (the same record id from overlapping exports, pages or files) are kept once:
the most complete copy wins, ties go to the first file in sorted path order, so the
order of the files on the command line never changes the result.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np
import pandas as pd
import pyarrow as pa

from h056hunt import schema
from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.conflict_log import ConflictWarnings
from h056hunt.detect.identity import upn_pair_columns, upns_without_id
from h056hunt.errors import InputError, MessageText, ProgramText
from h056hunt.heap import release_free_memory
from h056hunt.loaders import (
    csv_early,
    csv_fastpath,
    fastpath,
    parquet,
    registry,
    tool_files,
)
from h056hunt.loaders.sink import FileFrames, FileReport, FileSink
from h056hunt.loaders.upn_search import UpnSearch
from h056hunt.log_format import quote_names
from h056hunt.plurals import Counted
from h056hunt.sources import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    UNREAD_FORMAT_LABELS,
    Expansion,
    InputFile,
    expand_inputs,
    raise_for_unreadable,
)
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES, open_input

logger = logging.getLogger(__name__)

_SOURCE_COLUMNS = {"source_file", "source_line", "source_record", "source_shape"}
# Skip reason of the pre-filtered records of a file that changed before the second
# pass could read them.
CHANGED_FILE_REASON = "pre-filtered, not read again: the file changed while it was read"
# Skip reason of the pre-filtered records of a file whose second pass stopped at a
# line that does not decode.
UNDECODED_LINE_REASON = (
    "pre-filtered, not read again: a line read again does not decode"
)
# A file read by the line-per-record JSON fast path or by the CSV fast path.
FastPathFile = fastpath.FastFile | csv_fastpath.CsvFastFile


@dataclass(frozen=True)
class LoadOptions:
    """How strictly to read inputs and how to read ambiguous dates.

    Attributes:
        strict: stop at the first malformed file instead of keeping its complete
            records, and stop before reading when an input path cannot be read.
        dayfirst: the user's date order for ambiguous slash dates, or None to infer
            it per file and column.
        describe_only: the caller only describes files (``inspect``), so a file that
            cannot be read at all is reported rather than stopping the run.
        max_decompressed_bytes: the maximum size one gzip file may expand to, in bytes.
        max_record_bytes: the longest line or record read; a longer one is skipped
            (lenient) or rejected (strict) without being decoded.
        fast_path: pre-filter large line-per-record files and decode only the
            records the hunt can use (see :mod:`h056hunt.loaders.fastpath`).
        revocation_activities: the audit activities the hunt treats as
            revocations; the fast path keeps every audit record that names one.
        config_file: the config file whose settings the run uses, or None. Found
            among the inputs, it is skipped without the warning that advises
            moving it, because moving it would drop those settings.
    """

    strict: bool = True
    dayfirst: bool | None = None
    describe_only: bool = False
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    fast_path: bool = True
    revocation_activities: tuple[str, ...] = DEFAULT_REVOCATION_ACTIVITIES
    config_file: Path | None = None


@dataclass
class Conflict:
    """Two copies of one record id whose field values differ.

    Attributes:
        kept_file, kept_record: the file and record number of the copy that was
            kept. A convert folder written before they were recorded has neither.
    """

    log: str
    record_id: str
    columns: list[str]
    files: list[str]
    kept_file: str | None = None
    kept_record: int | None = None


@dataclass
class LoadedData:
    """The canonical frames of a run and the accounting behind them."""

    audit: pd.DataFrame
    signin: pd.DataFrame
    steps: pd.DataFrame
    files: list[FileReport] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    context: _ContextLoader | None = None
    conflict_warnings: ConflictWarnings = field(default_factory=ConflictWarnings)

    @property
    def partial(self) -> bool:
        """True when some input was not read completely."""
        return bool(self.unreadable) or any(report.partial for report in self.files)

    def skipped(self) -> Counter[str]:
        """Skipped records per reason over all files."""
        total: Counter[str] = Counter()
        for report in self.files:
            total.update(report.skipped)
        return total

    def time_span(self, log: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Return the first and last event time of a log, or None when it is empty.

        The span runs over every record of every file, pre-filtered ones included.
        """
        spans = [
            (report.time_min[log], report.time_max[log])
            for report in self.files
            if log in report.time_min
        ]
        if spans:
            return min(first for first, _ in spans), max(last for _, last in spans)
        frame = self.audit if log == "audit" else self.signin
        if frame.empty:
            return None
        return frame["event_time"].min(), frame["event_time"].max()

    def read_context(self, user_keys: set[str]) -> bool:
        """Load the sign-ins of these users that the fast path passed over.

        Args:
            user_keys: user join keys and lower-cased object ids, as
                :func:`h056hunt.hunt.context_keys` returns them.

        Returns:
            True when rows were added to ``signin`` and ``steps``.
        """
        if self.context is None:
            return False
        return self.context.read(self, user_keys)

    def read_request_context(self, request_ids: set[str]) -> bool:
        """Load the pre-filtered sign-ins of the users whose sign-ins have these
        request ids, so that steps keyed by request id can join them.

        A portal AuthDetails download keys its steps by request id. Its denials can
        belong to sign-ins whose own text has no denial, which the fast path
        pre-filtered.

        Returns:
            True when rows were added to ``signin`` and ``steps``.
        """
        if self.context is None or not request_ids:
            return False
        users = self.context.users_of_requests(request_ids)
        return bool(users) and self.context.read(self, users)

    def upns_without_id(self) -> set[str]:
        """Return the normalised UPNs of the sign-ins and audit targets that have
        no object id, which are the UPNs that user keys are looked up by."""
        upns = upns_without_id(self.signin["user_id"], self.signin["user_upn"])
        return upns | upns_without_id(self.audit["target_id"], self.audit["target_upn"])

    def prefiltered_upn_pairs(
        self, upns: set[str] | None = None
    ) -> list[tuple[pd.Series, pd.Series]]:
        """Return the (ids, UPNs) column pairs of the records that the fast path
        pre-filtered and that may hold the UPN of a loaded sign-in or audit target
        without an object id.

        Together with the pairs of ``signin`` and ``audit``, they give
        :func:`~h056hunt.detect.identity.build_upn_index` every id that the plain
        path would find for each such UPN. The records are not added to the data.
        ``upns`` is :meth:`upns_without_id` when the caller has it already.
        """
        if self.context is None:
            return []
        if upns is None:
            upns = self.upns_without_id()
        if not upns:
            return []
        return self.context.upn_pairs(upns)


ProgressCallback = Callable[[InputFile, int], None]


def load_logs(
    audit_inputs: list[str],
    signin_inputs: list[str],
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    *,
    convert_folders_read: Collection[str] = (),
    stray_files: Collection[str] = (),
) -> LoadedData:
    """Read, normalise and de-duplicate every audit and sign-in input.

    ``convert_folders_read`` names the convert folders that the caller reads
    whole, so that the warning about their files found here does not ask to
    give them. ``stray_files`` are inputs inside those folders that h056
    convert did not write: they are read as exports, not skipped as files of
    the folder.

    Raises:
        UsageError: an input path matches nothing.
        InputError: strict mode and an input path cannot be read or a file is
            malformed.
        AmbiguousDateError: a file's dates could be day-first or month-first.
    """
    options = options or LoadOptions()
    if parquet.holds_converted(audit_inputs, signin_inputs):
        return parquet.load_with_converted(
            audit_inputs, signin_inputs, options, progress
        )
    reports: list[FileReport] = []
    frames: list[FileFrames] = []
    # A file given to both options is read once: each record routes itself by content.
    read_paths: set[str] = set()
    fast_files: list[tuple[FastPathFile, FileReport]] = []
    expansions = {
        log: expand_inputs(inputs)
        for log, inputs in (("audit", audit_inputs), ("signin", signin_inputs))
        if inputs
    }
    for expansion in expansions.values():
        for item in expansion.files:
            if item.source in stray_files:
                item.convert_folder = ""
    unreadable = _unreadable_entries(expansions)
    if options.strict and not options.describe_only:
        raise_for_unreadable(
            unreadable, unread_formats(_unique_files(expansions), options)
        )
    for path, reason in unreadable:
        logger.warning("%s: %s; not read", path, reason)
    _warn_empty_patterns(expansions)
    logger.info(
        "inputs: %s to read, %s not readable",
        Counted(len({str(item.path) for item in _all_files(expansions)}), "file"),
        Counted(len(unreadable), "path"),
    )
    given_twice = _given_to_both(expansions)
    # Files that h056hunt wrote, such as findings, are skipped before any scan.
    written_by_tool = _find_tool_files(expansions, options)
    tool_files.warn_convert_folders(
        _unique_files(expansions),
        convert_folders_read,
        describing=options.describe_only,
    )
    # Files given to one option only, checked for the other log's records.
    checked: list[FileReport] = []
    # The input value, such as a folder, that found each file, by its display path.
    sources: dict[str, str] = {}
    with fastpath.ScanPool() as pool:
        pending = _start_fast_files(expansions, options, pool, written_by_tool)
        fastpath.discard_early()
        whole_files = fastpath.WholeFiles(
            pool, list(pending.values()), _pool_whole_files(expansions)
        )
        for requested_log, expansion in expansions.items():
            for input_file in expansion.files:
                if str(input_file.path) in read_paths:
                    logger.debug("%s: already read", input_file.display)
                    continue
                read_paths.add(str(input_file.path))
                sink = FileSink(input_file.display, requested_log, options.dayfirst)
                if str(input_file.path) in given_twice:
                    sink.report.given_to = ("audit", "signin")
                file_pending = pending.get(str(input_file.path))
                whole_files.advance(file_pending)
                result = _load_file(
                    input_file,
                    sink,
                    options,
                    fast_files=fast_files,
                    pending=file_pending,
                    pool=pool,
                    written_by_tool=written_by_tool,
                )
                reports.append(sink.report)
                if result is not None and str(input_file.path) not in given_twice:
                    checked.append(sink.report)
                    sources[input_file.display] = input_file.source
                if result is not None:
                    frames.append(result)
                    # Only the list refers to the frames, so that combining
                    # them can free each one.
                    result = None
                if progress is not None:
                    progress(input_file, sink.report.records_seen)
        # The CSV fast path takes its early scans as it reads each file.
        csv_early.discard_early()
    warn_misplaced_files(checked, sources)
    if not fast_files:
        data = _combine(frames, reports, unreadable)
        data.conflict_warnings.log_remainder()
        release_free_memory()
        return data
    # The count of unnamed conflicts waits for the last read of pre-filtered
    # records, in _ContextLoader.read.
    context = _ContextLoader(fast_files, frames, reports, strict=options.strict)
    # From here the context loader alone refers to the per-file frames, and it
    # frees them once it has combined them.
    frames.clear()
    data = context.combine(unreadable)
    data.context = context
    # Combining freed the per-file frames.
    release_free_memory()
    return data


def _warn_empty_patterns(expansions: dict[str, Expansion]) -> None:
    """Warn once for each input that matched only folders without a file."""
    patterns = dict.fromkeys(
        pattern
        for expansion in expansions.values()
        for pattern in expansion.empty_patterns
    )
    for pattern in patterns:
        logger.warning(
            "%s: no file to read in this folder or the folders inside, so it adds no "
            "record to the hunt",
            pattern,
        )


def _unreadable_entries(expansions: dict[str, Expansion]) -> list[tuple[str, str]]:
    """Return each unreadable path once, also when both options named it."""
    entries: list[tuple[str, str]] = []
    for expansion in expansions.values():
        for entry in expansion.unreadable:
            if entry not in entries:
                entries.append(entry)
    return entries


def _all_files(expansions: dict[str, Expansion]) -> list[InputFile]:
    return [item for expansion in expansions.values() for item in expansion.files]


def _unique_files(expansions: dict[str, Expansion]) -> list[InputFile]:
    """Return each input file once, as the first option that named it found it."""
    files: dict[str, InputFile] = {}
    for item in _all_files(expansions):
        files.setdefault(str(item.path), item)
    return list(files.values())


def _find_tool_files(
    expansions: dict[str, Expansion], options: LoadOptions
) -> dict[str, tool_files.ToolFile]:
    """Return the input files that h056hunt wrote, by path, with what each is."""
    found: dict[str, tool_files.ToolFile] = {}
    for input_file in _unique_files(expansions):
        tool_file = tool_files.recognise(
            input_file, max_decompressed_bytes=options.max_decompressed_bytes
        )
        if tool_file is not None:
            found[str(input_file.path)] = tool_file
    return found


def unread_formats(
    files: Iterable[InputFile], options: LoadOptions
) -> list[InputError]:
    """Return the error of each input file whose first bytes show a format that
    h056hunt does not read, such as a zip archive, in the order of ``files``.

    A strict run names them all at once, in place of stopping at the first. The
    files of a convert folder are skipped without being read, so they are not
    checked.
    """
    found: list[InputError] = []
    for input_file in files:
        if input_file.convert_folder:
            continue
        try:
            with open_input(
                input_file.path,
                input_file.display,
                max_decompressed_bytes=options.max_decompressed_bytes,
            ):
                pass
        except InputError as error:
            # Other faults, such as corrupt gzip data, stop the run when the
            # file is read, with the record they are found at.
            if error.reason in UNREAD_FORMAT_LABELS:
                found.append(error)
    return found


def _given_to_both(expansions: dict[str, Expansion]) -> set[str]:
    if len(expansions) < 2:
        return set()
    audit, signin = (
        {str(item.path) for item in expansion.files}
        for expansion in expansions.values()
    )
    return audit & signin


def _pool_whole_files(expansions: dict[str, Expansion]) -> bool:
    """Apply :func:`~h056hunt.loaders.fastpath.pool_whole_files` to each input
    file once."""
    paths = {str(item.path): item.path for item in _all_files(expansions)}
    return fastpath.pool_whole_files(list(paths.values()))


def _start_fast_files(
    expansions: dict[str, Expansion],
    options: LoadOptions,
    pool: fastpath.ScanPool,
    written_by_tool: Mapping[str, tool_files.ToolFile],
) -> dict[str, fastpath.PendingFile]:
    """Queue the scan of every file the fast path can read, in reading order.

    The files in ``written_by_tool`` are skipped whole, so none is scanned.
    """
    pending: dict[str, fastpath.PendingFile] = {}
    if not fastpath.enabled(options.fast_path):
        return pending
    tried: set[str] = set()
    for expansion in expansions.values():
        for input_file in expansion.files:
            key = str(input_file.path)
            if key in tried or key in written_by_tool:
                continue
            tried.add(key)
            try:
                pending[key] = fastpath.start_file(
                    input_file.path,
                    input_file.display,
                    revocation_activities=options.revocation_activities,
                    max_decompressed_bytes=options.max_decompressed_bytes,
                    max_record_bytes=options.max_record_bytes,
                    pool=pool,
                )
            except fastpath.Unsupported as reason:
                logger.debug(
                    "%s: read by the plain path: %s", input_file.display, reason
                )
    return pending


def _load_file(
    input_file: InputFile,
    sink: FileSink,
    options: LoadOptions,
    *,
    fast_files: list[tuple[FastPathFile, FileReport]],
    pending: fastpath.PendingFile | None = None,
    pool: fastpath.ScanPool | None = None,
    written_by_tool: Mapping[str, tool_files.ToolFile] | None = None,
) -> FileFrames | None:
    """Read one input file into ``sink`` and return its frames.

    Args:
        written_by_tool: the input files that h056hunt wrote, as
            :func:`_find_tool_files` returns them, or None to check this file here.

    Returns:
        None when a lenient run or ``inspect`` skipped the whole file after an
        error.
    """
    started = time.perf_counter()
    if written_by_tool is None:
        tool_file = tool_files.recognise(
            input_file, max_decompressed_bytes=options.max_decompressed_bytes
        )
    else:
        tool_file = written_by_tool.get(str(input_file.path))
    if tool_file is not None:
        tool_files.skip_file(
            sink, tool_file, input_file, config_file=options.config_file
        )
        return sink.finish()
    try:
        fast_file = _load_fast(input_file, sink, pending, options, pool)
        if fast_file is not None:
            fast_files.append((fast_file, sink.report))
        else:
            registry.load_file(
                input_file.path,
                input_file.display,
                sink,
                strict=options.strict,
                max_decompressed_bytes=options.max_decompressed_bytes,
                max_record_bytes=options.max_record_bytes,
            )
        if sink.report.records_seen == 0 and not sink.report.skipped:
            logger.warning("%s: the file contains no records", sink.path)
        frames = sink.finish()
    except InputError as error:
        # A date order that the dates contradict or cannot show is the user's
        # option to fix, for every file, so lenient hunts stop there too.
        stops_hunt = error.reason in (
            "unreadable",
            "ambiguous_date_order",
            "contradicted_date_order",
        )
        if options.strict or (stops_hunt and not options.describe_only):
            raise
        _skip_whole_file(sink, error)
        return None
    # A scan queued at start-up ran while the command line was imported, so the
    # time here leaves that part out.
    started_early = fast_file is not None and (
        (pending is not None and pending.identity is not None)
        or (isinstance(fast_file, csv_fastpath.CsvFastFile) and fast_file.scanned_early)
    )
    logger.info(
        "%s: %s shape, %s path, %s seen in %.2f s%s",
        input_file.display,
        sink.report.shape,
        "fast" if fast_file is not None else "plain",
        Counted(sink.report.records_seen, "record"),
        time.perf_counter() - started,
        " after its scan started at start-up" if started_early else "",
    )
    return frames


def _load_fast(
    input_file: InputFile,
    sink: FileSink,
    pending: fastpath.PendingFile | None,
    options: LoadOptions,
    pool: fastpath.ScanPool | None = None,
) -> FastPathFile | None:
    """Finish the fast-path read of a file; None when the plain path must read it.

    A CSV file's scan runs in the workers of ``pool`` unless it started early.
    """
    if pending is None:
        return csv_fastpath.try_load(
            input_file.path,
            input_file.display,
            sink,
            fast_path=options.fast_path,
            revocation_activities=options.revocation_activities,
            max_record_bytes=options.max_record_bytes,
            pool=pool,
        )
    try:
        return pending.complete(sink, strict=options.strict)
    except fastpath.Unsupported as reason:
        logger.debug("%s: read by the plain path: %s", input_file.display, reason)
        return None


def _skip_whole_file(sink: FileSink, error: InputError) -> None:
    """Count every record of a file that could not be read as skipped.

    A file rejected before any record was counted, such as a zip archive, counts
    as one skipped record, as a tab-separated file or a lone JSON ``null`` does.
    Its records cannot be counted, and a file with none seen would read as an
    empty export.
    """
    # The note follows the message, not the error's hint line. The hint is the
    # program's text, escaped as the hint of a printed error is.
    if error.hint:
        hint = error.hint
        if not isinstance(hint, MessageText):
            hint = ProgramText(hint)
        logger.warning("%s (file skipped)\n  hint: %s", error.message, hint)
    else:
        logger.warning("%s (file skipped)", error.message)
    report = sink.report
    report.partial = True
    report.error = error.message
    report.loaded.clear()
    # The records counted as pre-filtered are skipped with the rest of the file.
    report.prefiltered.clear()
    # The reason code in words, such as "ambiguous date order". The file's error
    # keeps the whole message.
    reason = f"file not read: {error.reason.replace('_', ' ')}"
    if report.records_seen == 0:
        sink.skip(reason, line=None, record=None)
        return
    unaccounted = report.records_seen - sum(report.skipped.values())
    if unaccounted > 0:
        sink.skip(reason, line=None, record=None, count=unaccounted, seen=False)


# Beyond this many misplaced files in one folder, one warning line names the
# first few and counts the rest.
MISPLACED_FILES_LISTED = 3


# The words that messages use for each log.
_LOG_WORDS = {"audit": "audit", "signin": "sign-in"}


def warn_misplaced_files(
    reports: list[FileReport], sources: Mapping[str, str] | None = None
) -> None:
    """Warn about files given to one log's option that contain only the other's.

    Their records are used as what they are. ``sources`` maps a report's path to
    the input value that found it. When that is a folder or a glob pattern, the
    warning names it with its option, because the advice to pass the file itself
    with the other option would not match what the user typed. A folder with more
    than :data:`MISPLACED_FILES_LISTED` such files from one input gets one line in
    place of one per file. The run summary lists every file with the option it
    was given to. The input value is quoted as a shell word, so the advice can be
    pasted without the shell expanding a glob pattern or splitting at a space.
    """
    sources = sources or {}
    groups: dict[tuple[str, str, str], list[FileReport]] = {}
    for report in reports:
        other = "signin" if report.requested_log == "audit" else "audit"
        # The fast path decodes only the records that the hunt may need, so the
        # records that it pre-filtered count toward their log as well.
        requested_count = (
            report.loaded[report.requested_log]
            + report.prefiltered[report.requested_log]
        )
        other_count = report.loaded[other] + report.prefiltered[other]
        if requested_count == 0 and other_count > 0:
            folder = str(PurePath(report.path).parent)
            source = sources.get(report.path) or report.path
            if PurePath(source) == PurePath(report.path):
                # A file named directly, also as ./name: the short advice fits.
                source = report.path
            groups.setdefault((folder, report.requested_log, source), []).append(report)
    for (folder, requested_log, source), misplaced in groups.items():
        other = "signin" if requested_log == "audit" else "audit"
        given_option = f"--{requested_log}"
        other_option = f"--{other}"
        if len(misplaced) <= MISPLACED_FILES_LISTED:
            for report in misplaced:
                _warn_misplaced_file(report, given_option, other_option, source)
            continue
        names = [PurePath(report.path).name for report in misplaced]
        logger.warning(
            "%s: %s given as %s data through %s %s contain only %s records: %s; "
            "they are used as %s data (next time pass %s with %s too, or pass "
            "those files with %s instead)",
            folder,
            Counted(len(misplaced), "file"),
            _LOG_WORDS[requested_log],
            given_option,
            shlex.quote(source),
            _LOG_WORDS[other],
            quote_names(names),
            _LOG_WORDS[other],
            shlex.quote(source),
            other_option,
            other_option,
        )


def _warn_misplaced_file(
    report: FileReport, given_option: str, other_option: str, source: str
) -> None:
    """Warn about one file that contains only the other log's records."""
    requested_log = _LOG_WORDS[given_option.removeprefix("--")]
    other = _LOG_WORDS[other_option.removeprefix("--")]
    if source == report.path:
        logger.warning(
            "%s was given as %s data but contains only %s records; they are "
            "used as %s data (pass it with %s next time)",
            report.path,
            requested_log,
            other,
            other,
            other_option,
        )
        return
    logger.warning(
        "%s was given as %s data through %s %s but contains only %s records; they "
        "are used as %s data (next time pass %s with %s too, or pass that file "
        "with %s instead)",
        report.path,
        requested_log,
        given_option,
        shlex.quote(source),
        other,
        other,
        shlex.quote(source),
        other_option,
        other_option,
    )


@dataclass
class _Counts:
    """A file's counts before cross-file de-duplication, which each round of the
    second pass combines again from the start."""

    duplicates: int
    duplicates_by_log: Counter[str]
    loaded: Counter[str]


@dataclass
class _CombinedLog:
    """One log's per-file frames and what :func:`_deduplicate` made of them.

    Attributes:
        dropped: the copies that de-duplication left out of ``frame``.
    """

    parts: list[pd.DataFrame]
    frame: pd.DataFrame
    duplicates: Counter[str]
    conflicts: list[Conflict]
    dropped: pd.DataFrame | None = None

    def combines(self, parts: list[pd.DataFrame]) -> bool:
        """Tell whether ``parts`` are the same frame objects, in the same order."""
        return len(parts) == len(self.parts) and all(
            part is mine for part, mine in zip(parts, self.parts, strict=True)
        )

    def collapse(self) -> list[pd.DataFrame]:
        """Replace ``parts`` with the combined frame and the dropped copies.

        They contain the same rows as the per-file frames. :func:`_deduplicate`
        ranks and orders rows by their values alone, because no two rows share
        a file and record number, so adding rows to either list gives the same
        result. The per-file frames can then be freed instead of staying beside
        the combined frame until the run ends.
        """
        parts = [self.frame] if len(self.frame) else []
        if self.dropped is not None and len(self.dropped):
            parts.append(self.dropped)
        self.parts = parts
        # ``dropped`` stays, because a round that adds no rows to this log
        # reuses this object and collapses it again.
        # The caller appends to its own list, which must not be this one.
        return list(parts)


def _combine(
    frames: list[FileFrames],
    reports: list[FileReport],
    unreadable: list[tuple[str, str]],
    conflict_warnings: ConflictWarnings | None = None,
    earlier: dict[str, _CombinedLog] | None = None,
) -> LoadedData:
    """Concatenate the per-file frames, drop duplicates and log the conflicts.

    Args:
        conflict_warnings: the conflict warnings of this run, or None to start
            new ones. The caller logs their remainder when loading ends.
        earlier: each log's result of the caller's previous call, which this
            call reuses for a log whose per-file frames are the same objects and
            replaces otherwise. The per-file frames must not change in place.
    """
    parts, step_parts = _non_empty_parts(frames)
    return _combine_parts(
        parts, step_parts, reports, unreadable, conflict_warnings, earlier
    )


def _non_empty_parts(
    frames: list[FileFrames],
) -> tuple[dict[str, list[pd.DataFrame]], list[pd.DataFrame]]:
    """Return each log's non-empty frames of ``frames``, and the non-empty step
    frames."""
    parts = {
        log: [getattr(part, log) for part in frames if len(getattr(part, log))]
        for log in ("audit", "signin")
    }
    return parts, [part.steps for part in frames if len(part.steps)]


def _combine_parts(
    parts_by_log: dict[str, list[pd.DataFrame]],
    step_parts: list[pd.DataFrame],
    reports: list[FileReport],
    unreadable: list[tuple[str, str]],
    conflict_warnings: ConflictWarnings | None = None,
    earlier: dict[str, _CombinedLog] | None = None,
) -> LoadedData:
    """Do the work of :func:`_combine` on each log's non-empty frames and the
    non-empty step frames."""
    if conflict_warnings is None:
        conflict_warnings = ConflictWarnings()
    by_path = {report.path: report for report in reports}
    conflicts: list[Conflict] = []
    combined: dict[str, pd.DataFrame] = {}
    for log, arrow_schema in (
        ("audit", schema.AUDIT_SCHEMA),
        ("signin", schema.SIGNIN_SCHEMA),
    ):
        parts = parts_by_log[log]
        previous = earlier.get(log) if earlier is not None else None
        if previous is not None and previous.combines(parts):
            # The same per-file frames give the same result, and a round of the
            # second pass often adds rows to one log only.
            frame, duplicates, found = (
                previous.frame,
                previous.duplicates,
                previous.conflicts,
            )
        else:
            frame, dropped, duplicates, found = _deduplicate(
                _concat(parts, arrow_schema), log
            )
            if earlier is not None:
                earlier[log] = _CombinedLog(parts, frame, duplicates, found, dropped)
        for path, count in duplicates.items():
            by_path[path].duplicates += count
            by_path[path].duplicates_by_log[log] += count
            by_path[path].loaded[log] -= count
        conflicts.extend(found)
        combined[log] = frame
    conflict_warnings.add(conflicts)
    steps = _combine_steps(step_parts, combined["signin"])
    return LoadedData(
        audit=combined["audit"],
        signin=combined["signin"],
        steps=steps,
        files=reports,
        unreadable=unreadable,
        conflicts=conflicts,
        conflict_warnings=conflict_warnings,
    )


def _concat(parts: list[pd.DataFrame], arrow_schema: pa.Schema) -> pd.DataFrame:
    if parts:
        return pd.concat(parts, ignore_index=True)
    return schema.empty_frame(arrow_schema)


def _deduplicate(
    frame: pd.DataFrame, log: str
) -> tuple[pd.DataFrame, pd.DataFrame | None, Counter[str], list[Conflict]]:
    """Return the kept rows, the dropped copies (None when there are none), the
    count of dropped copies per file, and the conflicts among copies.

    Both the kept rows and the copies that are dropped depend on the rows'
    values alone, not on their order in ``frame``.
    """
    if frame.empty:
        return frame, None, Counter(), []
    if frame["record_id"].is_unique:
        # Each id is unique, so (event_time, record_id) orders the rows fully and
        # ranking the copies first would not change the result.
        kept = frame.sort_values(["event_time", "record_id"], kind="stable")
        return kept.reset_index(drop=True), None, Counter(), []
    content = [column for column in frame.columns if column not in _SOURCE_COLUMNS]
    ranked = frame.assign(_completeness=frame[content].notna().sum(axis=1))
    ranked = ranked.sort_values(
        ["record_id", "_completeness", "source_file", "source_record"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    repeated = ranked.duplicated("record_id", keep="first")
    dropped = ranked[repeated]
    duplicates = Counter(dropped["source_file"].astype(str).tolist())
    conflicts = _find_conflicts(ranked, repeated, content, log)
    kept = ranked[~repeated].drop(columns="_completeness")
    kept = kept.sort_values(["event_time", "record_id"], kind="stable")
    return (
        kept.reset_index(drop=True),
        dropped.drop(columns="_completeness"),
        duplicates,
        conflicts,
    )


def _find_conflicts(
    ranked: pd.DataFrame,
    repeated: pd.Series,
    content: list[str],
    log: str,
) -> list[Conflict]:
    if not repeated.any():
        return []
    ids = set(ranked.loc[repeated, "record_id"])
    groups = ranked[ranked["record_id"].isin(ids)]
    compared = [column for column in content if column != "record_id"]
    # Count the values of every column in one grouped call, because a loop over
    # each duplicated record and column took minutes when an export was given twice.
    # Graph exports give sign-in times to the second and diagnostic exports to
    # 100 ns, so the copies of one record compare their times to the second.
    times = [
        column
        for column in compared
        if pd.api.types.is_datetime64_any_dtype(groups[column].dtype)
    ]
    if times:
        groups = groups.assign(
            **{column: groups[column].dt.floor("s") for column in times}
        )
    by_record = groups.groupby("record_id", sort=True)
    differs = by_record[compared].nunique(dropna=True) > 1
    conflicting = differs[differs.to_numpy().any(axis=1)]
    if conflicting.empty:
        return []
    files = by_record["source_file"].agg(lambda paths: sorted(set(paths.astype(str))))
    # ``ranked`` puts the kept copy of each record first.
    kept = (
        ranked.loc[
            ranked["record_id"].isin(set(conflicting.index)),
            ["record_id", "source_file", "source_record"],
        ]
        .drop_duplicates("record_id", keep="first")
        .set_index("record_id")
    )
    conflicts = []
    for record_id, row in conflicting.iterrows():
        conflicts.append(
            Conflict(
                log=log,
                record_id=str(record_id),
                columns=[column for column in compared if row[column]],
                files=files[record_id],
                kept_file=str(kept.at[record_id, "source_file"]),
                kept_record=int(kept.at[record_id, "source_record"]),
            )
        )
    return conflicts


def _combine_steps(parts: list[pd.DataFrame], signin: pd.DataFrame) -> pd.DataFrame:
    if not parts:
        return schema.empty_frame(schema.STEP_SCHEMA)
    steps = pd.concat(parts, ignore_index=True)
    sources = ["record_id", "source_file", "source_record"]
    # The distinct files are converted to text, not every row's file.
    files_with_signins = set(signin["source_file"].drop_duplicates().astype(str))
    # The join finds positions on the key columns alone, in the order of an
    # inner merge of every column, and the rows are taken once.
    positions = (
        steps[sources]
        .assign(_position=np.arange(len(steps)))
        .merge(signin[sources], on=sources, how="inner")["_position"]
        .to_numpy()
    )
    if len(positions) == len(steps) and (positions == np.arange(len(steps))).all():
        from_kept = steps
    else:
        from_kept = steps.iloc[positions].reset_index(drop=True)
    detached = steps[~steps["source_file"].astype(str).isin(files_with_signins)]
    steps = pd.concat([from_kept, detached], ignore_index=True)
    content = [
        column
        for column in steps.columns
        if column not in ("source_file", "source_record")
    ]
    steps = steps.drop_duplicates(content).sort_values(
        ["record_id", "step_index", "step_time"], kind="stable"
    )
    return steps.reset_index(drop=True)


class _ContextLoader:
    """Read the users who matter from fast-path files and fold them into the data.

    Keeps every copy of each record, as each log's combined frame and the copies
    that de-duplication dropped, and each report's counts before de-duplication.
    Adding rows then re-runs the de-duplication over every copy of a record.
    """

    def __init__(
        self,
        fast_files: list[tuple[FastPathFile, FileReport]],
        frames: list[FileFrames],
        reports: list[FileReport],
        *,
        strict: bool = True,
    ) -> None:
        self.reader = fastpath.ContextReader(
            [fast for fast, _ in fast_files], strict=strict
        )
        self.report_of = {id(fast): report for fast, report in fast_files}
        # Each log's frames to combine, and the step frames.
        self.parts, self.step_parts = _non_empty_parts(frames)
        self.reports = reports
        self.conflict_warnings = ConflictWarnings()
        # Each log's last combined frames, which a round that adds no rows to
        # that log reuses.
        self.combined: dict[str, _CombinedLog] = {}
        # Calls of read() that had object ids to read.
        self.rounds = 0
        self.before = {
            id(report): _Counts(
                report.duplicates,
                Counter(report.duplicates_by_log),
                Counter(report.loaded),
            )
            for report in reports
        }
        self._searched_upns: set[str] = set()
        self._upn_pairs: list[tuple[pd.Series, pd.Series]] = []

    def combine(self, unreadable: list[tuple[str, str]]) -> LoadedData:
        """Combine the frames read so far, as :func:`_combine` does, and keep
        each log's result in place of its per-file frames."""
        data = _combine_parts(
            self.parts,
            self.step_parts,
            self.reports,
            unreadable,
            self.conflict_warnings,
            self.combined,
        )
        for log, result in self.combined.items():
            self.parts[log] = result.collapse()
        return data

    def read(self, data: LoadedData, user_keys: set[str]) -> bool:
        new_ids = len(self.reader.unread(user_keys))
        if not new_ids:
            # The hunt calls again after each round with the users of its new
            # matches. When they contain no new id, the data is final.
            if self.rounds:
                logger.debug(
                    "second pass: done after %s, because the matches name no "
                    "object id that was not read before",
                    Counted(self.rounds, "round"),
                )
            else:
                logger.debug(
                    "second pass: nothing to read, because the matches name no "
                    "object id"
                )
            self.conflict_warnings.log_remainder()
            return False
        self.rounds += 1
        started = time.perf_counter()
        records = 0
        found = self.reader.read(user_keys)
        while self.reader.changed_files:
            self._skip_changed(self.reader.changed_files.pop())
        for fast_file, sink in found:
            frames = sink.finish()
            report = self.report_of[id(fast_file)]
            self._absorb(report, sink.report)
            parts, step_parts = _non_empty_parts([frames])
            for log, log_parts in parts.items():
                self.parts[log].extend(log_parts)
            self.step_parts.extend(step_parts)
            records += sink.report.records_seen
        # A round that finds nothing logs at debug level.
        logger.log(
            logging.INFO if found else logging.DEBUG,
            "second pass round %d: read %s for %s from %d of %s in %.2f s",
            self.rounds,
            Counted(records, "pre-filtered record"),
            Counted(new_ids, "new object id"),
            len(found),
            Counted(len(self.report_of), "fast-path file"),
            time.perf_counter() - started,
        )
        if records == 0:
            # No record was added, so the data is final.
            self.conflict_warnings.log_remainder()
            return False
        for report in self.reports:
            before = self.before[id(report)]
            report.duplicates = before.duplicates
            report.duplicates_by_log = Counter(before.duplicates_by_log)
            report.loaded = Counter(before.loaded)
        # The steps are combined again from the per-file step frames, so the
        # combined steps of the previous round are freed before the new ones
        # are built. If combining raises, ``data`` is left without steps.
        data.steps = schema.empty_frame(schema.STEP_SCHEMA)
        combined = self.combine(data.unreadable)
        data.audit = combined.audit
        data.signin = combined.signin
        data.steps = combined.steps
        data.conflicts = combined.conflicts
        # The frames this round replaced are freed now.
        release_free_memory()
        return True

    def users_of_requests(self, request_ids: set[str]) -> set[str]:
        """Return the lower-cased object ids of the pre-filtered sign-ins whose
        request id is one of ``request_ids``.

        The files are searched for the ids as raw text, so every block is read
        again, and the candidate lines are decoded. No row is added to the data.
        """
        started = time.perf_counter()
        # Request ids are matched exactly, and the raw search folds case, so it
        # finds every line that can match.
        search = UpnSearch.for_upns({request.casefold() for request in request_ids})
        found = self.reader.read_upn_candidates(search)
        while self.reader.changed_files:
            self._skip_changed(self.reader.changed_files.pop())
        users: set[str] = set()
        for _, sink in found:
            if not sink.report.records_seen:
                continue
            signin = sink.finish().signin
            rows = signin[signin["request_id"].isin(request_ids).to_numpy(bool)]
            ids = rows["user_id"].dropna().astype(str).str.strip().str.lower()
            users |= {user for user in ids if user}
        logger.info(
            "%s keyed by request id matched no decoded sign-in: found %s "
            "among the pre-filtered records in %.2f s",
            Counted(len(request_ids), "step request"),
            Counted(len(users), "user"),
            time.perf_counter() - started,
        )
        return users

    def upn_pairs(self, upns: set[str]) -> list[tuple[pd.Series, pd.Series]]:
        """Read the (ids, UPNs) pairs of the records that may hold ``upns`` from the
        fast-path files; each UPN is searched for once per run."""
        new = upns - self._searched_upns
        if not new:
            return list(self._upn_pairs)
        self._searched_upns |= new

        started = time.perf_counter()
        search = UpnSearch.for_upns(new)
        found = self.reader.read_upn_candidates(search)
        while self.reader.changed_files:
            self._skip_changed(self.reader.changed_files.pop())

        records = 0
        files = 0
        for _, sink in found:
            if not sink.report.records_seen:
                continue
            frames = sink.finish()
            records += sink.report.records_seen
            files += 1
            self._upn_pairs += upn_pair_columns(frames.signin, frames.audit)

        reason = (
            "every pre-filtered record, because a UPN cannot be searched for in raw "
            "text"
            if search.every_line
            else "the pre-filtered records that may hold one"
        )
        logger.info(
            "%s of records without a user object id: read %s, %s "
            "from %d of %d fast-path files in %.2f s",
            Counted(len(new), "UPN"),
            reason,
            Counted(records, "record"),
            files,
            len(self.report_of),
            time.perf_counter() - started,
        )
        return list(self._upn_pairs)

    def _skip_changed(
        self, fast_file: fastpath.FastFile | csv_fastpath.CsvFastFile
    ) -> None:
        """Mark a file that changed before the second pass partial.

        Its pre-filtered records could not be read back, so they become skipped.
        """
        report = self.report_of[id(fast_file)]
        report.partial = True
        if report.error is None:
            report.error = fast_file.changed
        not_read = sum(report.prefiltered.values())
        report.prefiltered.clear()
        reason = CHANGED_FILE_REASON
        if (fast_file.changed or "").startswith(fastpath.BROKEN_LINE_MESSAGE):
            reason = UNDECODED_LINE_REASON
        if not_read:
            report.skipped[reason] += not_read

    def _absorb(self, report: FileReport, context: FileReport) -> None:
        """Move records from the pre-filtered count to what the second pass found."""
        _subtract_read_back(report, context)
        before = self.before[id(report)]
        before.loaded.update(context.loaded)
        # The sink counts the exact copies it dropped while reading as duplicates.
        before.duplicates += context.duplicates
        before.duplicates_by_log.update(context.duplicates_by_log)
        report.skipped.update(context.skipped)
        report.step_rows += context.step_rows
        report.denial_step_times_unreadable += context.denial_step_times_unreadable
        for log, columns in context.present_columns.items():
            report.present_columns.setdefault(log, set()).update(columns)


def _subtract_read_back(report: FileReport, context: FileReport) -> None:
    """Subtract the records that a second pass read from the pre-filtered counts.

    Pre-filtered records are counted under their own log, also in a file given to
    the other log's option, so each loaded record comes off its own log.
    Duplicates and skipped records carry no log: they come off the logs that still
    have pre-filtered records, the requested log first.
    """
    remaining = context.records_seen
    for log, count in context.loaded.items():
        subtracted = min(count, report.prefiltered[log], remaining)
        if subtracted > 0:
            report.prefiltered[log] -= subtracted
            remaining -= subtracted
    logs = sorted(report.prefiltered, key=lambda log: log != context.requested_log)
    for log in logs:
        subtracted = min(report.prefiltered[log], remaining)
        if subtracted > 0:
            report.prefiltered[log] -= subtracted
            remaining -= subtracted
    if remaining:
        # Records read back beyond the counts come off the requested log, so the
        # total stays exact.
        report.prefiltered[context.requested_log] -= remaining
