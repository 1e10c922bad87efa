"""Collect one file's canonical rows and account for every record in it.

Loaders push rows into a :class:`FileSink`; at the end of the file the sink parses the
time columns for the whole file at once (so the day-first decision sees every value),
turns rows with bad times into counted skips, and builds the canonical frames.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from h056hunt import schema, timeranges
from h056hunt.detect.prompts import denial_steps
from h056hunt.errors import InputValue, MessageText, ProgramText
from h056hunt.heap import release_free_memory
from h056hunt.loaders import copies
from h056hunt.loaders.entra import AuditValuesSink, UnreadableSteps
from h056hunt.loaders.fields import replace_surrogates
from h056hunt.plurals import Counted
from h056hunt.timeparse import parse_time_column

if TYPE_CHECKING:
    from h056hunt.loaders.scan_decode import AuditBatch

logger = logging.getLogger(__name__)

LOGS = ("audit", "signin")
# Source columns whose slash dates are month first unless the user says otherwise:
# Azure Monitor writes the diagnostic envelope ``time`` in US 12-hour form.
MONTH_FIRST_COLUMNS = frozenset({"time"})
# UPNs are case-insensitive; one case lets rows from different exports compare equal.
# Entra always writes the guest marker as ``#EXT#``, so it keeps that spelling.
UPN_COLUMNS = ("user_upn", "actor_upn", "target_upn")
GUEST_MARKER = "#EXT#"
_LOWER_GUEST_MARKER = GUEST_MARKER.lower()
# Id columns whose GUID values are lower-cased. RFC 4122 (section 3) reads the hex
# digits of a GUID without case, so ids that differ only in case name one record,
# request, correlation, user or app, and copies of a record that differ so are
# duplicates, not conflicts. Only a value that is a whole GUID is folded. An audit
# id such as ``Directory_<guid>_<suffix>`` keeps its case, because its suffix is
# not a GUID, and two ids that differ there in case could be different records.
GUID_ID_COLUMNS = frozenset(
    {"record_id", "request_id", "correlation_id", "user_id", "app_id"}
    | {"actor_id", "actor_app_id", "actor_service_principal_id", "target_id"}
)
_GUID = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_MAX_WARNINGS_PER_REASON = 5
# Places of sign-ins with unreadable authenticationDetails named in the warning.
UNREADABLE_STEPS_NAMED = 5
# Rows are turned into Arrow arrays this many at a time. As row dicts, the 45k
# revocations of a three-day simulated audit log took 131 MiB; as Arrow, 27 MiB.
ROW_BATCH = 4096


@dataclass
class FileReport:
    """The accounting of one input file: records seen, loaded, skipped and why."""

    path: str
    requested_log: str
    shapes: Counter[str] = field(default_factory=Counter)
    records_seen: int = 0
    loaded: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    partial: bool = False
    error: str | None = None
    time_min: dict[str, pd.Timestamp] = field(default_factory=dict)
    time_max: dict[str, pd.Timestamp] = field(default_factory=dict)
    present_columns: dict[str, set[str]] = field(default_factory=dict)
    # Records the fast path counted but did not decode, by log.
    prefiltered: Counter[str] = field(default_factory=Counter)
    # Int64 nanosecond ranges of every event time of the file, by log; see
    # h056hunt.timeranges.
    time_ranges: dict[str, np.ndarray] = field(default_factory=dict)
    step_rows: int = 0
    # Denial steps whose time was present but could not be read. Other steps are
    # not counted, because the fast path does not decode most of them.
    denial_step_times_unreadable: int = 0
    # The convert folder, as the user gave it, whose manifest stored this report.
    converted_in: str | None = None
    # The convert folder, as its warning names it, that contains this file when
    # the run skipped the file as part of that folder (see loaders.tool_files).
    in_convert_folder: str | None = None
    # The input options that named this file, or the convert folder that contains
    # its records, when these differ from requested_log alone.
    given_to: tuple[str, ...] = ()
    # The copies counted in ``duplicates``, by log. A manifest written before this
    # field existed lacks the copies that its conversion dropped.
    duplicates_by_log: Counter[str] = field(default_factory=Counter)

    @property
    def shown_path(self) -> str:
        """The file as messages name it: a convert folder's file names the folder."""
        if self.converted_in is None:
            return self.path
        return f"{self.converted_in} (converted from {self.path})"

    @property
    def quoted_path(self) -> str:
        """:attr:`shown_path` with each path quoted with ``repr()``, for messages
        that list files."""
        if self.converted_in is None:
            return repr(self.path)
        return f"{self.converted_in!r} (converted from {self.path!r})"

    @property
    def given_options(self) -> tuple[str, ...]:
        """The logs whose options named this file or its convert folder."""
        return self.given_to or (self.requested_log,)

    @property
    def shape(self) -> str:
        """The shapes found, most common first, or ``unknown`` when none was."""
        if not self.shapes:
            return "unknown"
        return ",".join(name for name, _ in self.shapes.most_common())

    @property
    def records_by_log(self) -> Counter[str]:
        """Records of the file by log: loaded, pre-filtered or dropped as copies
        of records that another file or an earlier line contains."""
        records = Counter(self.loaded)
        records.update(self.prefiltered)
        records.update(self.duplicates_by_log)
        return +records

    @property
    def loaded_total(self) -> int:
        """Records kept after de-duplication, over both logs."""
        return self.loaded["audit"] + self.loaded["signin"] + self.loaded["steps"]


@dataclass
class FileFrames:
    """The canonical frames built from one file."""

    audit: pd.DataFrame
    signin: pd.DataFrame
    steps: pd.DataFrame


class FileSink(AuditValuesSink):
    """Receive rows from a loader for one file.

    Args:
        path: the file as shown to the user.
        requested_log: ``audit`` or ``signin``, the option the file was given to.
        dayfirst: the user's date-order override, or None to infer it per column.
    """

    def __init__(self, path: str, requested_log: str, dayfirst: bool | None) -> None:
        self.report = FileReport(path=path, requested_log=requested_log)
        self._dayfirst = dayfirst
        self._audit = _RowBuffer(schema.AUDIT_SCHEMA, "event_time")
        self._signin = _RowBuffer(schema.SIGNIN_SCHEMA, "event_time")
        self._steps = _RowBuffer(schema.STEP_SCHEMA, "step_time")
        self._time_columns: dict[str, Counter[str]] = {
            log: Counter() for log in (*LOGS, "steps")
        }
        self._audit_time_columns = self._time_columns["audit"]
        self._signin_time_columns = self._time_columns["signin"]
        self._skip_warnings: Counter[str] = Counter()
        # Warnings about records skipped for their time, by reason.
        self._time_warnings: Counter[str] = Counter()
        self._prefiltered_ranges: dict[str, list[np.ndarray]] = {
            log: [] for log in LOGS
        }
        # Exact copies dropped while the file is read (see h056hunt.loaders.copies).
        self._copies = {log: copies.DroppedCopies() for log in LOGS}
        self._compact_at = dict.fromkeys(LOGS, copies.COMPACT_ROWS)
        self._dropped_step_rows = 0
        # The record numbers of the first sign-ins with an unreadable
        # authenticationDetails value, and how many there are in all.
        self._unreadable_steps: list[int] = []
        self._unreadable_steps_count = 0

    @property
    def path(self) -> str:
        """The file as shown to the user."""
        return self.report.path

    @property
    def dayfirst(self) -> bool | None:
        """The user's date-order override, or None to infer it per column."""
        return self._dayfirst

    def add_prefiltered(
        self, log: str, shapes: Counter[str], time_ranges: np.ndarray
    ) -> None:
        """Count records that a pre-filter proved the hunt does not need.

        Args:
            log: the log the records belong to.
            shapes: how many records of each export shape.
            time_ranges: the ranges of their event times, in stored resolution.
        """
        count = sum(shapes.values())
        self.report.records_seen += count
        self.report.shapes.update(shapes)
        self.report.prefiltered[log] += count
        self._prefiltered_ranges[log].append(time_ranges)

    def add_audit(
        self,
        row: dict[str, Any],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Add one audit row whose ``event_time`` is still raw text."""
        self._count(shape)
        self._audit.append(self._with_source(row, shape, line, record))
        self._audit_time_columns[time_column] += 1
        if len(self._audit) >= self._compact_at["audit"]:
            self._drop_copies("audit")

    def add_audit_batch(self, batch: AuditBatch, *, line: int, record: int) -> None:
        """Add the rows of ``batch`` as :meth:`add_audit` would add them one by one.

        ``line`` and ``record`` are added to the batch's line and record numbers.
        """
        count = len(batch.lines)
        report = self.report
        report.records_seen += count
        report.shapes[batch.shape] += count
        self._audit_time_columns[batch.time_column] += count
        columns: dict[str, Sequence[Any]] = dict(
            zip(batch.fields, batch.columns, strict=True)
        )
        if not all(columns["record_id"]):
            columns["record_id"] = _record_ids(batch)
        columns["source_line"] = [number + line for number in batch.lines]
        columns["source_record"] = [number + record for number in batch.records]
        constants = {"source_file": report.path, "source_shape": batch.shape}
        self._audit.extend(columns, constants, count)
        if len(self._audit) >= self._compact_at["audit"]:
            self._drop_copies("audit")

    def add_signin(
        self,
        row: dict[str, Any],
        steps: list[dict[str, Any]],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Add one sign-in row and its authentication steps (times still raw)."""
        self._count(shape)
        row = self._with_source(row, shape, line, record)
        self._signin.append(row)
        self._signin_time_columns[time_column] += 1
        if type(steps) is UnreadableSteps:
            self._unreadable_steps_count += 1
            if len(self._unreadable_steps) < UNREADABLE_STEPS_NAMED:
                self._unreadable_steps.append(record)
        self._add_step_rows(row["record_id"], steps, record)
        if len(self._signin) >= self._compact_at["signin"]:
            self._drop_copies("signin")

    def add_steps(
        self,
        record_id: str,
        steps: list[dict[str, Any]],
        *,
        shape: str,
        record: int,
    ) -> None:
        """Add authentication steps that arrive apart from their sign-in record."""
        self._count(shape)
        self.report.loaded["steps"] += 1
        self._add_step_rows(record_id, steps, record)

    def skip(
        self,
        reason: str,
        *,
        line: int | None,
        record: int | None,
        count: int = 1,
        seen: bool = True,
    ) -> None:
        """Count records that are not used, with the reason the summary shows.

        Args:
            reason: the text every report shows. A reason built from a field value
                can contain a lone surrogate, which is replaced with U+FFFD here.
            seen: False when the records were already counted as seen.
        """
        reason = replace_surrogates(reason)
        if seen:
            self.report.records_seen += count
        self.report.skipped[reason] += count
        self._skip_warnings[reason] += 1
        if self._skip_warnings[reason] <= _MAX_WARNINGS_PER_REASON:
            where = f"line {line}" if line is not None else f"record {record}"
            logger.debug("%s, %s: skipped: %s", self.path, where, reason)

    def skip_as_shape(
        self, shape: str, reason: str, *, line: int | None, record: int | None
    ) -> None:
        """Count a record of a known shape that contains no log records as skipped."""
        self._count(shape)
        self.skip(reason, line=line, record=record, seen=False)

    def skip_with_warning(
        self, reason: str, message: str, *, line: int | None, record: int | None
    ) -> None:
        """Count a record as skipped with ``reason`` and warn with ``message``.

        Only the first few records of a file with the same reason are warned; the
        run summary counts them all.
        """
        self.skip(reason, line=line, record=record)
        warned = self._skip_warnings[reason]
        if warned > _MAX_WARNINGS_PER_REASON:
            return
        where = f"line {line}" if line is not None else f"record {record}"
        later = (
            "; later records of this file skipped for this reason are counted, not "
            "listed"
            if warned == _MAX_WARNINGS_PER_REASON
            else ""
        )
        logger.warning("%s, %s: %s%s", self.path, where, message, later)

    def _count(self, shape: str) -> None:
        report = self.report
        report.records_seen += 1
        report.shapes[shape] += 1

    def _with_source(
        self, row: dict[str, Any], shape: str, line: int | None, record: int
    ) -> dict[str, Any]:
        row["source_file"] = self.report.path
        row["source_line"] = line
        row["source_record"] = record
        row["source_shape"] = shape
        if not row.get("record_id"):
            row["record_id"] = _content_id(row)
        return row

    def _drop_copies(self, log: str) -> None:
        """Drop the rows of ``log`` that repeat an earlier row of the file exactly.

        A dropped sign-in's steps go too when each repeats an earlier step row,
        because the frames would keep neither: de-duplication keeps only the first
        sign-in's steps, or one of identical steps when the file keeps no sign-in.
        """
        rows = self._audit if log == "audit" else self._signin
        # Copies share a record id. Most files repeat none, and checking the ids
        # alone spares a copy of every row, about as much memory as the rows.
        if not len(copies.repeated_ids(rows.field_values("record_id"))):
            self._compact_at[log] = max(copies.COMPACT_ROWS, 2 * len(rows))
            return
        raw_times, values = rows.take()
        firsts = copies.first_copies(raw_times, values, copies.SOURCE_FIELDS)
        positions = np.arange(len(raw_times), dtype=np.int64)
        if firsts is None or (firsts == positions).all():
            rows.restore(raw_times, values)
            self._compact_at[log] = max(copies.COMPACT_ROWS, 2 * len(rows))
            return
        is_first = firsts == positions
        renumbered = np.cumsum(is_first) - 1
        dropped = np.flatnonzero(~is_first)
        sources = values.take(pa.array(dropped))
        lines = sources.field("source_line").fill_null(-1).to_numpy()
        records = sources.field("source_record").to_numpy()
        found = self._copies[log]
        found.first = renumbered[firsts[found.first]]
        found.add(renumbered[firsts[dropped]], lines, records)
        if log == "signin":
            self._drop_copied_steps(records)
        rows.restore(
            [raw_times[position] for position in np.flatnonzero(is_first).tolist()],
            values.filter(pa.array(is_first)),
        )
        self._compact_at[log] = max(copies.COMPACT_ROWS, 2 * len(rows))

    def _drop_copied_steps(self, records: np.ndarray) -> None:
        """Drop the step rows of the dropped sign-ins at ``records`` that repeat an
        earlier step row of the file."""
        raw_times, values = self._steps.take()
        firsts = copies.first_copies(raw_times, values, copies.STEP_SOURCE_FIELDS)
        if firsts is None:
            self._steps.restore(raw_times, values)
            return
        step_records = values.field("source_record").to_numpy()
        repeats = firsts != np.arange(len(raw_times), dtype=np.int64)
        dropped = repeats & np.isin(step_records, records)
        self._dropped_step_rows += int(dropped.sum())
        self._steps.restore(
            [raw_times[position] for position in np.flatnonzero(~dropped).tolist()],
            values.filter(pa.array(~dropped)),
        )

    def _add_step_rows(
        self, record_id: str, steps: list[dict[str, Any]], record: int
    ) -> None:
        path = self.report.path
        for step in steps:
            step["record_id"] = record_id
            step["source_file"] = path
            step["source_record"] = record
            self._steps.append(step)

    def finish(self) -> FileFrames:
        """Parse times, count rows with bad times as skipped, and build the frames.

        Raises:
            AmbiguousDateError: every date of a time column reads both day-first and
                month-first and the user gave no override.
        """
        audit = self._build("audit", self._audit)
        signin = self._build("signin", self._signin)
        steps = self._build_steps()
        self._warn_unreadable_steps()
        self.report.loaded["audit"] += len(audit)
        self.report.loaded["signin"] += len(signin)
        self.report.step_rows = len(steps) + self._dropped_step_rows
        for log, frame in (("audit", audit), ("signin", signin)):
            if len(frame):
                has_values = frame.notna().any()
                self.report.present_columns[log] = {
                    column for column, present in has_values.items() if present
                }
                loaded_ranges = [timeranges.from_times(frame["event_time"])]
            else:
                # The frame of a log the file lacks; the checks cost a few ms each.
                self.report.present_columns[log] = set()
                loaded_ranges = []
            ranges = timeranges.merge(loaded_ranges + self._prefiltered_ranges[log])
            if len(ranges):
                self.report.time_ranges[log] = ranges
                self.report.time_min[log] = _timestamp(ranges[:, 0].min())
                self.report.time_max[log] = _timestamp(ranges[:, 1].max())
        # The rows and the copies the build made are freed by now, and most of
        # that memory would stay resident otherwise.
        release_free_memory()
        return FileFrames(audit=audit, signin=signin, steps=steps)

    def _build(self, log: str, rows: _RowBuffer) -> pd.DataFrame:
        if not len(rows):
            return schema.empty_frame(rows.schema)
        columns = self._time_columns[log]
        column = columns.most_common(1)[0][0]
        dayfirst = self._dayfirst
        if dayfirst is None and MONTH_FIRST_COLUMNS & set(columns):
            dayfirst = False
        raw_times, values = rows.take()
        times, failures = parse_time_column(
            raw_times, path=self.path, column=column, dayfirst=dayfirst
        )
        bad = set(failures)
        bad.update(index for index, value in enumerate(raw_times) if value is None)
        found = self._copies[log]
        copy_is_bad = np.isin(found.first, sorted(bad))
        copies = int((~copy_is_bad).sum())
        self.report.duplicates += copies
        self.report.duplicates_by_log[log] += copies
        if bad:
            self._skip_bad_times(
                sorted(bad), raw_times, values, column, found, copy_is_bad
            )
        # The parsed times go in as one array: converting Timestamp objects one by
        # one costs more than building every other column.
        if not bad:
            # A filter that keeps every row would still copy them all.
            return rows.frame(values, pa.Array.from_pandas(times))
        valid = np.ones(len(raw_times), dtype=bool)
        valid[list(bad)] = False
        event_times = pa.Array.from_pandas(times[valid])
        return rows.frame(values.filter(pa.array(valid)), event_times)

    def _skip_bad_times(
        self,
        bad: list[int],
        raw_times: list[Any],
        values: pa.StructArray,
        column: str,
        found: copies.DroppedCopies,
        copy_is_bad: np.ndarray,
    ) -> None:
        """Warn about and count as skipped the rows at ``bad``, whose time is
        missing or cannot be read, and the copies in ``found`` of those rows, marked
        in ``copy_is_bad``, in record order."""
        sources = values.take(pa.array(bad)).to_pylist()
        entries = [
            (row["source_record"], row.get("source_line"), raw_times[index])
            for index, row in zip(bad, sources, strict=True)
        ]
        for first, line, record in zip(
            found.first[copy_is_bad].tolist(),
            found.lines[copy_is_bad].tolist(),
            found.records[copy_is_bad].tolist(),
            strict=True,
        ):
            entries.append((record, None if line < 0 else line, raw_times[first]))
        if copy_is_bad.any():
            entries.sort(key=lambda entry: entry[0])
        suppressed: Counter[str] = Counter()
        # The column name comes from the file's header, so it is cut as other
        # field text is, and shown bare.
        shown_column = MessageText(InputValue(column, quoted=False))
        for record, line, raw_time in entries:
            reason = "missing timestamp" if raw_time is None else "invalid timestamp"
            where = line or f"record {record}"
            self._time_warnings[reason] += 1
            if self._time_warnings[reason] > _MAX_WARNINGS_PER_REASON:
                suppressed[reason] += 1
            elif raw_time is None:
                logger.warning(
                    "%s, line %s: missing timestamp in %s; record skipped",
                    self.path,
                    where,
                    shown_column,
                )
            else:
                logger.warning(
                    "%s, line %s: %s %r in %s; record skipped",
                    self.path,
                    where,
                    reason,
                    raw_time,
                    shown_column,
                )
            self.skip(reason, line=line, record=record, seen=False)
        for reason, count in sorted(suppressed.items()):
            logger.warning(
                "%s: %s skipped for the same reason (%s in %s), not listed one by "
                "one; the run summary counts them",
                self.path,
                Counted(count, "more record"),
                reason,
                shown_column,
            )

    def _warn_unreadable_steps(self) -> None:
        """Warn once about the sign-ins whose authenticationDetails could not be
        read, naming where the first ones are."""
        count = self._unreadable_steps_count
        if not count:
            return
        where = "record " + ", ".join(map(str, self._unreadable_steps))
        if count > len(self._unreadable_steps):
            where += " and more"
        logger.warning(
            "%s: %s an authenticationDetails value that is neither a list nor "
            "JSON text of one (%s), so their authentication steps were not read "
            "and denials recorded only there are not seen; export the file again",
            self.path,
            Counted(count, "sign-in has", "sign-ins have"),
            ProgramText(where),
        )

    def _build_steps(self) -> pd.DataFrame:
        if not len(self._steps):
            return schema.empty_frame(schema.STEP_SCHEMA)
        raw_times, values = self._steps.take()
        times, failures = parse_time_column(
            raw_times,
            path=self.path,
            column="authenticationStepDateTime",
            dayfirst=self._dayfirst,
        )
        # A step whose time cannot be read keeps its row, with no time and a mark
        # that distinguishes it from a step without a time.
        unreadable = np.zeros(len(raw_times), dtype=bool)
        unreadable[failures] = True
        steps = self._steps.frame(
            values,
            pa.Array.from_pandas(times),
            {"step_time_unreadable": pa.array(unreadable)},
        )
        if failures:
            counted = denial_steps(steps) & unreadable
            self.report.denial_step_times_unreadable += int(counted.sum())
        return steps


class _RowBuffer:
    """Rows of one canonical table, turned into Arrow arrays a batch at a time.

    The time field stays a list of raw values until the whole file is read, so
    that the day-first decision uses every value of the file. User principal
    names are lower-cased as each batch is converted.

    Args:
        arrow_schema: the canonical schema of the rows.
        time_field: the field whose values stay raw.
    """

    def __init__(self, arrow_schema: pa.Schema, time_field: str) -> None:
        self.schema = arrow_schema
        self._time_field = time_field
        self._row_type = pa.struct(
            [field for field in arrow_schema if field.name != time_field]
        )
        self._upn_fields = [name for name in UPN_COLUMNS if name in arrow_schema.names]
        self._pending: list[dict[str, Any]] = []
        self._batches: list[pa.StructArray] = []
        self._raw_times: list[Any] = []

    def __len__(self) -> int:
        return len(self._raw_times)

    def append(self, row: dict[str, Any]) -> None:
        """Add a row whose values have the schema's types, but for the raw time."""
        self._raw_times.append(row.get(self._time_field))
        self._pending.append(row)
        if len(self._pending) >= ROW_BATCH:
            self._convert_pending()

    def take(self) -> tuple[list[Any], pa.StructArray]:
        """Return the raw times and the other fields of every row, and empty the
        buffer, so the frame that is built next does not sit beside the rows."""
        self._convert_pending()
        raw_times = self._raw_times
        values = pa.concat_arrays(self._batches or [pa.array([], self._row_type)])
        self._raw_times = []
        self._batches = []
        return raw_times, values

    def field_values(self, name: str) -> pa.Array:
        """Return the values of one field of every row, in order."""
        self._convert_pending()
        batches = self._batches or [pa.array([], self._row_type)]
        return pa.concat_arrays([batch.field(name) for batch in batches])

    def restore(self, raw_times: list[Any], values: pa.StructArray) -> None:
        """Put back rows that :meth:`take` returned, or a selection of them."""
        self._raw_times = raw_times
        self._batches = [values]

    def frame(
        self,
        values: pa.StructArray,
        times: pa.Array,
        derived: Mapping[str, pa.Array] | None = None,
    ) -> pd.DataFrame:
        """Build the canonical frame from rows that :meth:`take` returned, and
        their parsed times.

        ``derived`` gives the values of fields that the rows leave null, such
        as those computed while the times were parsed.
        """
        derived = derived or {}
        arrays = [
            times.cast(field.type)
            if field.name == self._time_field
            else derived[field.name]
            if field.name in derived
            else _fold_guids(values.field(field.name))
            if field.name in GUID_ID_COLUMNS
            else values.field(field.name)
            for field in self.schema
        ]
        return schema.frame_from_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def extend(
        self,
        columns: Mapping[str, Sequence[Any]],
        constants: Mapping[str, Any],
        count: int,
    ) -> None:
        """Add ``count`` rows given by column, as :meth:`append` would add them.

        A field in ``constants`` has that value in every row, and a field in
        neither mapping is null.
        """
        if self._pending:
            self._convert_pending()
        self._raw_times.extend(columns[self._time_field])
        arrays = []
        for row_field in self._row_type:
            name = row_field.name
            if name in constants:
                values: Sequence[Any] = [constants[name]] * count
            else:
                values = columns.get(name) or [None] * count
            if name in self._upn_fields:
                values = [
                    value.lower().replace(_LOWER_GUEST_MARKER, GUEST_MARKER)
                    if isinstance(value, str)
                    else value
                    for value in values
                ]
            arrays.append(pa.array(values, type=row_field.type))
        self._batches.append(
            pa.StructArray.from_arrays(arrays, fields=list(self._row_type))
        )

    def _convert_pending(self) -> None:
        if not self._pending:
            return
        for name in self._upn_fields:
            for row in self._pending:
                value = row.get(name)
                if isinstance(value, str):
                    row[name] = value.lower().replace(_LOWER_GUEST_MARKER, GUEST_MARKER)
        # Arrow reads the row dicts into one struct array in a single pass.
        self._batches.append(pa.array(self._pending, type=self._row_type))
        self._pending = []


def _record_ids(batch: AuditBatch) -> list[str]:
    """Return the record id of each row, or the content id of a row without one."""
    fields = batch.fields
    record_ids = batch.columns[fields.index("record_id")]
    result = []
    for index, record_id in enumerate(record_ids):
        if not record_id:
            row = {
                name: values[index]
                for name, values in zip(fields, batch.columns, strict=True)
            }
            record_id = _content_id(row)
        result.append(record_id)
    return result


def _fold_guids(ids: pa.Array) -> pa.Array:
    """Return ``ids`` with every value that is a whole GUID in lower case."""
    # Most exports write GUIDs in lower case, and the comparison spares the regular
    # expression for them.
    has_upper = pc.fill_null(pc.not_equal(ids, pc.ascii_lower(ids)), False)
    if not pc.any(has_upper).as_py():
        return ids
    is_guid = pc.match_substring_regex(ids, _GUID)
    return pc.if_else(pc.and_(has_upper, is_guid), pc.ascii_lower(ids), ids)


def _timestamp(nanoseconds: np.int64) -> pd.Timestamp:
    return pd.Timestamp(int(nanoseconds), unit="ns", tz="UTC")


def _content_id(row: dict[str, Any]) -> str:
    """Return a stable id for a record that has none, from its canonical content."""
    content = {
        key: value
        for key, value in row.items()
        if not key.startswith("source_") and value is not None
    }
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, default=str).encode()
    ).hexdigest()
    return f"sha256:{digest[:32]}"
