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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from h056hunt import schema, timeranges
from h056hunt.loaders.fields import replace_surrogates
from h056hunt.timeparse import parse_time_column

logger = logging.getLogger(__name__)

LOGS = ("audit", "signin")
# Source columns whose slash dates are month first unless the user says otherwise:
# Azure Monitor writes the diagnostic envelope ``time`` in US 12-hour form.
MONTH_FIRST_COLUMNS = frozenset({"time"})
# UPNs are case-insensitive; one case lets rows from different exports compare equal.
# Entra always writes the guest marker as ``#EXT#``, so it keeps that spelling.
UPN_COLUMNS = ("user_upn", "actor_upn", "target_upn")
GUEST_MARKER = "#EXT#"
_MAX_WARNINGS_PER_REASON = 5


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

    @property
    def shape(self) -> str:
        """The shapes found, most common first, or ``unknown`` when none was."""
        if not self.shapes:
            return "unknown"
        return ",".join(name for name, _ in self.shapes.most_common())

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


class FileSink:
    """Receive rows from a loader for one file.

    Args:
        path: the file as shown to the user.
        requested_log: ``audit`` or ``signin``, the option the file was given to.
        dayfirst: the user's date-order override, or None to infer it per column.
    """

    def __init__(self, path: str, requested_log: str, dayfirst: bool | None) -> None:
        self.report = FileReport(path=path, requested_log=requested_log)
        self._dayfirst = dayfirst
        self._audit: list[dict[str, Any]] = []
        self._signin: list[dict[str, Any]] = []
        self._steps: list[dict[str, Any]] = []
        self._time_columns: dict[str, Counter[str]] = {
            log: Counter() for log in (*LOGS, "steps")
        }
        self._skip_warnings: Counter[str] = Counter()
        self._prefiltered_ranges: dict[str, list[np.ndarray]] = {
            log: [] for log in LOGS
        }

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
        self._time_columns["audit"][time_column] += 1

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
        self._time_columns["signin"][time_column] += 1
        self._add_step_rows(row["record_id"], steps, record)

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

    def _count(self, shape: str) -> None:
        self.report.records_seen += 1
        self.report.shapes[shape] += 1

    def _with_source(
        self, row: dict[str, Any], shape: str, line: int | None, record: int
    ) -> dict[str, Any]:
        row["source_file"] = self.path
        row["source_line"] = line
        row["source_record"] = record
        row["source_shape"] = shape
        if not row.get("record_id"):
            row["record_id"] = _content_id(row)
        return row

    def _add_step_rows(
        self, record_id: str, steps: list[dict[str, Any]], record: int
    ) -> None:
        for step in steps:
            step["record_id"] = record_id
            step["source_file"] = self.path
            step["source_record"] = record
            self._steps.append(step)

    def finish(self) -> FileFrames:
        """Parse times, count rows with bad times as skipped, and build the frames.

        Raises:
            AmbiguousDateError: every date of a time column reads both day-first and
                month-first and the user gave no override.
        """
        audit = self._build("audit", self._audit, schema.AUDIT_SCHEMA)
        # The frames hold the values now; dropping the row dicts at once lowers the
        # peak while the next frame is built.
        self._audit = []
        signin = self._build("signin", self._signin, schema.SIGNIN_SCHEMA)
        self._signin = []
        steps = self._build_steps()
        self._steps = []
        self.report.loaded["audit"] += len(audit)
        self.report.loaded["signin"] += len(signin)
        self.report.step_rows = len(steps)
        for log, frame in (("audit", audit), ("signin", signin)):
            self.report.present_columns[log] = {
                column for column in frame.columns if frame[column].notna().any()
            }
            ranges = timeranges.merge(
                [timeranges.from_times(frame["event_time"])]
                + self._prefiltered_ranges[log]
            )
            if len(ranges):
                self.report.time_ranges[log] = ranges
                self.report.time_min[log] = _timestamp(ranges[:, 0].min())
                self.report.time_max[log] = _timestamp(ranges[:, 1].max())
        return FileFrames(audit=audit, signin=signin, steps=steps)

    def _build(
        self, log: str, rows: list[dict[str, Any]], arrow_schema: Any
    ) -> pd.DataFrame:
        if not rows:
            return schema.empty_frame(arrow_schema)
        columns = self._time_columns[log]
        column = columns.most_common(1)[0][0]
        dayfirst = self._dayfirst
        if dayfirst is None and MONTH_FIRST_COLUMNS & set(columns):
            dayfirst = False
        raw_times = [row.get("event_time") for row in rows]
        times, failures = parse_time_column(
            raw_times, path=self.path, column=column, dayfirst=dayfirst
        )
        bad = set(failures)
        bad.update(index for index, value in enumerate(raw_times) if value is None)
        kept = []
        kept_index = []
        for index, row in enumerate(rows):
            if index in bad:
                reason = (
                    "missing timestamp"
                    if raw_times[index] is None
                    else ("invalid timestamp")
                )
                logger.warning(
                    "%s, line %s: %s %r in %s; record skipped",
                    self.path,
                    row.get("source_line") or f"record {row['source_record']}",
                    reason,
                    raw_times[index],
                    column,
                )
                self.skip(
                    reason,
                    line=row.get("source_line"),
                    record=row["source_record"],
                    seen=False,
                )
                continue
            kept_index.append(index)
            for name in UPN_COLUMNS:
                value = row.get(name)
                if isinstance(value, str):
                    row[name] = value.lower().replace(
                        GUEST_MARKER.lower(), GUEST_MARKER
                    )
            kept.append(row)
        # The parsed times go in as one array: converting Timestamp objects one by
        # one costs more than building every other column.
        event_times = pa.Array.from_pandas(times.iloc[kept_index])
        return schema.frame_from_rows(
            kept, arrow_schema, columns={"event_time": event_times}
        )

    def _build_steps(self) -> pd.DataFrame:
        if not self._steps:
            return schema.empty_frame(schema.STEP_SCHEMA)
        raw_times = [step.get("step_time") for step in self._steps]
        times, _ = parse_time_column(
            raw_times,
            path=self.path,
            column="authenticationStepDateTime",
            dayfirst=self._dayfirst,
        )
        for step, value in zip(self._steps, times.tolist(), strict=True):
            step["step_time"] = None if pd.isna(value) else value
        return schema.frame_from_rows(self._steps, schema.STEP_SCHEMA)


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
