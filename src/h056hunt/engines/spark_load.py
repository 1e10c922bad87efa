"""Build the canonical frames with Spark, reading each file with the local loader.

Every file goes whole to one task, which runs the local engine's per-file step (the
record router, the sink and the per-file time parsing). Evidence therefore keeps its
line and record numbers, and the day-first decision still reads all of a file's
dates. The task returns the file's canonical rows, its accounting, its log messages
and any input error. The driver replays the messages and raises the error in the
local engine's reading order. De-duplication and the joining of authentication
steps then run in Spark with the local engine's rules.

NOTE: one file must fit in one Python worker's memory. Diagnostic-settings exports
write one blob per hour, which keeps files small.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial, reduce
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from h056hunt import errors, load, schema
from h056hunt.conflict_log import ConflictWarnings
from h056hunt.engines.spark_frames import (
    NAT_NANOSECONDS,
    from_arrow,
    spark_ddl,
    spark_schema,
    time_columns,
    to_batch,
    to_spark_table,
    union_tables,
)
from h056hunt.engines.spark_inputs import InputPlan, PlannedFile, plan_inputs
from h056hunt.engines.worker_logs import (
    captured_logs,
    error_from_record,
    error_record,
    replay,
)
from h056hunt.load import Conflict, LoadOptions
from h056hunt.loaders import tool_files
from h056hunt.loaders.parquet import Manifest, report_from_record, report_record
from h056hunt.loaders.sink import FileReport, FileSink
from h056hunt.sources import InputFile, is_uri, raise_for_unreadable

logger = logging.getLogger(__name__)

CANONICAL = {
    "audit": schema.AUDIT_SCHEMA,
    "signin": schema.SIGNIN_SCHEMA,
    "steps": schema.STEP_SCHEMA,
}
SOURCE_COLUMNS = {"source_file", "source_line", "source_record", "source_shape"}
_EXTRA = [
    pa.field("_log", pa.string()),
    pa.field("_order", pa.int64()),
    pa.field("_report", pa.string()),
]


def _union_schema() -> pa.Schema:
    fields: dict[str, pa.Field] = {}
    for arrow_schema in CANONICAL.values():
        for item in spark_schema(arrow_schema):
            fields.setdefault(item.name, item)
    return pa.schema([*fields.values(), *_EXTRA])


NORMALISED_SCHEMA = _union_schema()


@dataclass
class SparkFrames:
    """The canonical frames as Spark DataFrames, with the accounting of the inputs.

    Time columns are int64 nanoseconds, as :mod:`h056hunt.engines.spark_frames`
    describes.
    """

    audit: DataFrame
    signin: DataFrame
    steps: DataFrame
    files: list[FileReport] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    cached: list[DataFrame] = field(default_factory=list)


def load_with_spark(
    spark: SparkSession,
    audit_inputs: list[str],
    signin_inputs: list[str],
    options: LoadOptions,
) -> SparkFrames:
    """Read, normalise and de-duplicate every input, as ``load_logs`` does.

    Raises:
        UsageError: an input matches nothing.
        InputError: strict mode and a file is malformed, or a file cannot be read.
    """
    plan = plan_inputs(spark, audit_inputs, signin_inputs)
    if options.strict:
        entries = [entry for found in plan.unreadable.values() for entry in found]
        # A path given to both options is listed once.
        raise_for_unreadable(
            list(dict.fromkeys(entries)),
            load.unread_formats(_local_files(plan), options),
        )
    frames = {log: _empty(spark, log) for log in CANONICAL}
    cached = []
    normalised = _normalise(spark, plan, options) if plan.files else None
    if normalised is not None:
        cached.append(normalised)
    reports = _replay_reports(normalised, plan)
    if normalised is not None:
        for log in CANONICAL:
            columns = spark_schema(CANONICAL[log]).names
            selected = normalised.where(F.col("_log") == log).select(*columns)
            frames[log] = selected
    unreadable = [entry for entries in plan.unreadable.values() for entry in entries]
    conflicts: list[Conflict] = []
    for manifest in plan.manifests:
        for log, frame in _read_converted(spark, manifest).items():
            frames[log] = frames[log].unionByName(frame)
        for report in manifest.files:
            report.converted_in = manifest.root
            report.given_to = tuple(plan.manifest_options[manifest.root.rstrip("/")])
        reports.extend(manifest.files)
        unreadable.extend(manifest.unreadable)
        conflicts.extend(Conflict(**item) for item in manifest.conflicts)
    by_path = {report.path: report for report in reports}
    new_conflicts: list[Conflict] = []
    for log in ("audit", "signin"):
        kept, duplicates, found = _deduplicate(frames[log], log)
        for path, count in duplicates.items():
            by_path[path].duplicates += count
            by_path[path].duplicates_by_log[log] += count
            by_path[path].loaded[log] -= count
        new_conflicts.extend(found)
        frames[log] = kept.persist(StorageLevel.MEMORY_AND_DISK)
        cached.append(frames[log])
    # The manifests' conflicts were logged when their folders were converted.
    conflict_warnings = ConflictWarnings()
    conflict_warnings.add(new_conflicts)
    conflict_warnings.log_remainder()
    conflicts.extend(new_conflicts)
    steps = _combine_steps(frames["steps"], frames["signin"])
    steps = steps.persist(StorageLevel.MEMORY_AND_DISK)
    cached.append(steps)
    return SparkFrames(
        audit=frames["audit"],
        signin=frames["signin"],
        steps=steps,
        files=reports,
        unreadable=unreadable,
        conflicts=conflicts,
        cached=cached,
    )


def _empty(spark: SparkSession, log: str) -> DataFrame:
    return spark.createDataFrame([], spark_ddl(spark_schema(CANONICAL[log])))


def _normalise(spark: SparkSession, plan: InputPlan, options: LoadOptions) -> DataFrame:
    """Return the union rows of every planned file, read on the workers."""
    local = [item for item in plan.files if item.uri_input is None]
    inputs = None
    if local:
        table = pa.table(
            {
                "_order": [item.order for item in local],
                "location": [item.location for item in local],
                "display": [item.display for item in local],
                "requested_log": [item.requested_log for item in local],
                "check_log": [item.check_log for item in local],
                "source": [item.source for item in local],
                "convert_folder": [item.convert_folder for item in local],
                "content": pa.nulls(len(local), pa.binary()),
            }
        )
        inputs = spark.createDataFrame(table).repartition(
            min(len(local), 4 * default_parallelism(spark))
        )
    for uri in dict.fromkeys(item.uri_input for item in plan.files if item.uri_input):
        listed = _uri_files(spark, uri, [i for i in plan.files if i.uri_input == uri])
        inputs = listed if inputs is None else inputs.unionByName(listed)
    if inputs is None:
        raise ValueError("no files to read; call _normalise only with planned files")
    level = logging.getLogger("h056hunt").getEffectiveLevel()
    # The fast path skips records that a second, driver-side pass reads later;
    # a worker reads its file whole instead.
    plain = replace(options, fast_path=False)
    kernel = partial(parse_files, options=plain, log_level=level)
    normalised = inputs.mapInPandas(kernel, spark_ddl(NORMALISED_SCHEMA))
    return normalised.persist(StorageLevel.MEMORY_AND_DISK)


def default_parallelism(spark: SparkSession) -> int:
    """Return how many tasks the session runs at once, such as its cores."""
    try:
        return max(int(spark.sparkContext.defaultParallelism), 1)
    except (AttributeError, NotImplementedError):
        # Spark Connect sessions have no SparkContext.
        return int(spark.conf.get("spark.sql.shuffle.partitions") or 200)


def _uri_files(spark: SparkSession, uri: str, planned: list[PlannedFile]) -> DataFrame:
    chosen = spark.createDataFrame(
        pa.table(
            {
                "location": [item.location for item in planned],
                "_order": [item.order for item in planned],
                "display": [item.display for item in planned],
                "requested_log": [item.requested_log for item in planned],
                "check_log": [item.check_log for item in planned],
                "source": [item.source for item in planned],
                "convert_folder": [item.convert_folder for item in planned],
            }
        )
    )
    reader = spark.read.format("binaryFile").option("recursiveFileLookup", "true")
    files = reader.load(uri).select(F.col("path").alias("location"), "content")
    joined = files.join(F.broadcast(chosen), "location")
    return joined.select(
        "_order",
        "location",
        "display",
        "requested_log",
        "check_log",
        "source",
        "convert_folder",
        "content",
    )


def _local_files(plan: InputPlan) -> list[InputFile]:
    """Return each local file of ``plan`` once, in reading order.

    NOTE: files listed under a URI input are read only on the workers, so a
    strict run still stops at the first of them in a format h056hunt does not
    read.
    """
    files: dict[str, InputFile] = {}
    for item in plan.files:
        if item.uri_input is None and item.location not in files:
            files[item.location] = InputFile(
                path=Path(item.location),
                display=item.display,
                source=item.source,
                convert_folder=item.convert_folder,
            )
    return list(files.values())


def parse_files(
    batches: Iterator[pd.DataFrame], *, options: LoadOptions, log_level: int
) -> Iterator[pd.DataFrame]:
    """Read each file of the batches with the local loader (runs on a worker)."""
    for batch in batches:
        for row in batch.to_dict("records"):
            yield to_batch(_parse_file(row, options, log_level))


def _parse_file(row: dict[str, Any], options: LoadOptions, log_level: int) -> pa.Table:
    display = str(row["display"])
    order = int(row["_order"])
    sink = FileSink(display, str(row["requested_log"]), options.dayfirst)
    messages: list[list[Any]] = []
    error = None
    frames = None

    with captured_logs(messages, log_level):
        try:
            with _local_copy(str(row["location"]), row["content"]) as path:
                # The local engine's own per-file step, error handling included.
                input_file = InputFile(
                    path=path,
                    display=display,
                    source=str(row["source"]),
                    convert_folder=str(row["convert_folder"]),
                )
                frames = load._load_file(
                    input_file,
                    sink,
                    options,
                    fast_files=[],
                )
        except errors.InputError as caught:
            error = caught

    tables = []
    if frames is not None:
        for log, frame in (
            ("audit", frames.audit),
            ("signin", frames.signin),
            ("steps", frames.steps),
        ):
            table = to_spark_table(frame, CANONICAL[log])
            tables.append(_tagged(table, log, order))

    payload = {
        "report": report_record(sink.report),
        "messages": messages,
        "error": error_record(error),
    }
    report = pa.table({"_report": [json.dumps(payload)]})
    tables.append(_tagged(report, "report", order))
    return union_tables(tables, NORMALISED_SCHEMA)


def _tagged(table: pa.Table, log: str, order: int) -> pa.Table:
    rows = len(table)
    table = table.append_column("_log", pa.array([log] * rows, pa.string()))
    return table.append_column("_order", pa.array([order] * rows, pa.int64()))


@contextlib.contextmanager
def _local_copy(location: str, content: Any) -> Iterator[Path]:
    """Yield a local path to the file: itself, or a temporary copy of its bytes."""
    if not isinstance(content, bytes | bytearray):
        yield Path(location)
        return
    handle, name = tempfile.mkstemp(prefix="h056-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _replay_reports(normalised: DataFrame | None, plan: InputPlan) -> list[FileReport]:
    """Replay each file's log messages and errors in reading order; return reports.

    Raises:
        InputError: the first file, in reading order, whose loading raised.
    """
    payloads = {}
    if normalised is not None:
        rows = (
            normalised.where(F.col("_log") == "report")
            .select("_order", "_report")
            .toArrow()
            .to_pylist()
        )
        payloads = {int(row["_order"]): json.loads(row["_report"]) for row in rows}
    reports = []
    checked = []
    sources = {}
    # Warned before the messages of the files, as load_logs does.
    tool_files.warn_convert_folders(
        [
            InputFile(
                path=Path(item.location),
                display=item.display,
                source=item.source,
                convert_folder=item.convert_folder,
            )
            for item in plan.files
        ],
        [manifest.root for manifest in plan.manifests],
    )
    for log, unreadable in plan.unreadable.items():
        for path, reason in unreadable:
            logging.getLogger("h056hunt.load").warning("%s: %s; not read", path, reason)
        for planned in (item for item in plan.files if item.requested_log == log):
            payload = payloads[planned.order]
            replay(payload["messages"])
            if payload["error"] is not None:
                raise error_from_record(payload["error"])
            report = report_from_record(payload["report"])
            if not planned.check_log:
                # The file was given to both options and read once.
                report.given_to = ("audit", "signin")
            reports.append(report)
            if planned.check_log:
                checked.append(report)
                sources[report.path] = planned.source
    load.warn_misplaced_files(checked, sources)
    return reports


def _read_converted(spark: SparkSession, manifest: Manifest) -> dict[str, DataFrame]:
    """Read the Parquet tables of a convert folder as Spark frames."""
    frames = {}
    root = manifest.root.rstrip("/")
    if not is_uri(root):
        # Spark resolves a relative path against the directory its JVM started in,
        # which is not this process's once it has changed directory.
        root = os.path.abspath(root)
    for log, arrow_schema in CANONICAL.items():
        paths = [f"{root}/{p}" for p in manifest.partitions[log]]
        if not paths:
            frames[log] = _empty(spark, log)
            continue
        table = spark.read.parquet(*paths)
        times = set(time_columns(arrow_schema))
        frame = table.select(
            *(
                F.coalesce(F.col(name), F.lit(NAT_NANOSECONDS)).alias(name)
                if name in times
                else F.col(name)
                for name in arrow_schema.names
            )
        )
        # The tables store absolute paths, which become the paths the reports show.
        renamed: dict[bool | float | int | str, bool | float | int | str | None] = {
            stored: shown
            for stored, shown in manifest.input_paths.items()
            if stored != shown
        }
        if renamed:
            frame = frame.replace(renamed, subset=["source_file"])
        frames[log] = frame
    return frames


def _present(name: str, arrow_schema: pa.Schema) -> Column:
    column = F.col(name)
    if name in time_columns(arrow_schema):
        return column.isNotNull() & (column != F.lit(NAT_NANOSECONDS))
    return column.isNotNull()


def _deduplicate(
    frame: DataFrame, log: str
) -> tuple[DataFrame, Counter[str], list[Conflict]]:
    """Keep one copy per record id with the local engine's rule.

    The most complete copy wins, then the first file in path order, then the first
    record. Copies whose field values differ are collected and handed to the local
    engine's de-duplication, which names the conflicting columns and warns.
    """
    arrow_schema = CANONICAL[log]
    content = [name for name in arrow_schema.names if name not in SOURCE_COLUMNS]
    completeness = reduce(
        lambda total, name: total + _present(name, arrow_schema).cast("int"),
        content,
        F.lit(0),
    )
    copies = frame.groupBy("record_id").count().where(F.col("count") > 1)
    copies = copies.select("record_id")
    if copies.isEmpty():
        return frame, Counter(), []
    repeated = frame.join(copies, "record_id", "left_semi")
    order = Window.partitionBy("record_id").orderBy(
        completeness.desc(),
        F.col("source_file").asc_nulls_last(),
        F.col("source_record").asc_nulls_last(),
    )
    ranked = repeated.withColumn("_rank", F.row_number().over(order))
    singles = frame.join(copies, "record_id", "left_anti")
    kept = singles.unionByName(ranked.where(F.col("_rank") == 1).drop("_rank"))
    dropped = ranked.where(F.col("_rank") > 1).groupBy("source_file").count()
    duplicates = Counter(
        {str(row["source_file"]): int(row["count"]) for row in dropped.collect()}
    )
    return kept, duplicates, _conflicts(repeated, log, content, arrow_schema)


def _conflicts(
    repeated: DataFrame, log: str, content: list[str], arrow_schema: pa.Schema
) -> list[Conflict]:
    compared = [name for name in content if name != "record_id"]
    distinct = repeated.groupBy("record_id").agg(
        *(
            F.countDistinct(F.when(_present(name, arrow_schema), F.col(name))).alias(
                name
            )
            for name in compared
        )
    )
    differs = reduce(lambda left, right: left | right, (F.col(n) > 1 for n in compared))
    ids = distinct.where(differs).select("record_id")
    rows = from_arrow(
        repeated.join(ids, "record_id", "left_semi").toArrow(), arrow_schema
    )
    if rows.empty:
        return []
    _, _, _, found = load._deduplicate(rows, log)
    return found


def _combine_steps(steps: DataFrame, signin: DataFrame) -> DataFrame:
    """Keep the steps of kept sign-ins and of files without sign-ins, once each."""
    kept_sources = signin.select("record_id", "source_file", "source_record")
    files_with_signins = signin.select("source_file").distinct()
    from_kept = steps.join(
        kept_sources, ["record_id", "source_file", "source_record"], "left_semi"
    )
    detached = steps.join(files_with_signins, "source_file", "left_anti")
    content = [
        name for name in steps.columns if name not in ("source_file", "source_record")
    ]
    return from_kept.unionByName(detached).dropDuplicates(content)
