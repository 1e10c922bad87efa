"""The hunt on Apache Spark, with the local engine's code in every stage.

1. Load: each file is read by the local per-file loader on a worker; records are
   de-duplicated and steps joined in Spark (:mod:`h056hunt.engines.spark_load`).
2. Prepare and detect: revocations are found from the few audit rows that
   ``find_revocations`` uses, and the per-user kernel runs through
   ``applyInPandas`` (:mod:`h056hunt.engines.spark_detect`).
3. Finish: the driver collects only the rows that :func:`h056hunt.hunt.finish`
   reads and runs it, with the campaigns found per actor on Spark:

   * sign-ins and audit rows of matched users and of their revokers;
   * the matched users' sign-ins and steps, to rebuild their prompts;
   * the file reports, whose stored time ranges and spans coverage reads, plus
     the few rows that stand in for a report without them.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from functools import partial

import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from h056hunt import schema
from h056hunt.config import HuntConfig
from h056hunt.detect.chains import DetectionParams
from h056hunt.detect.revocations import find_revocations
from h056hunt.engines.session import (
    engine_settings,
    pandas3_warning_ignored,
    spark_session,
)
from h056hunt.engines.spark_campaigns import spark_campaigns
from h056hunt.engines.spark_detect import (
    USER_KEY,
    count_denial_steps_without_signin,
    detect_matches,
    keyed_signins,
    rebuild_matches,
    revocation_rows,
    upn_index,
    user_prompts,
    user_steps,
)
from h056hunt.engines.spark_frames import (
    from_arrow,
    from_spark_batch,
    spark_ddl,
    spark_schema,
    to_batch,
    to_spark_table,
)
from h056hunt.engines.spark_load import (
    SparkFrames,
    default_parallelism,
    load_with_spark,
)
from h056hunt.hunt import (
    HuntResult,
    admin_revocations,
    context_keys,
    finish,
    hunt_inputs,
    rows_for_keys,
)
from h056hunt.load import LoadedData, LoadOptions
from h056hunt.loaders.sink import FileReport

logger = logging.getLogger(__name__)


def hunt_on_spark(
    master: str,
    settings: dict[str, str],
    audit_inputs: list[str],
    signin_inputs: list[str],
    options: LoadOptions,
    params: DetectionParams,
    config: HuntConfig,
    *,
    verbose: bool = False,
) -> tuple[LoadedData, HuntResult]:
    """Start a Spark session, hunt, and stop the session (the CLI's entry point)."""
    with spark_session(master, settings, verbose=verbose) as spark:
        return run_spark_hunt(
            spark, audit_inputs, signin_inputs, options, params, config
        )


def run_spark_hunt(
    spark: SparkSession,
    audit_inputs: list[str],
    signin_inputs: list[str],
    options: LoadOptions,
    params: DetectionParams,
    config: HuntConfig,
) -> tuple[LoadedData, HuntResult]:
    """Hunt with an existing Spark session, such as a notebook's.

    Returns:
        The rows the finishing stage read, with the accounting of every input
        file, and the hunt result. ``result.prompts`` holds the matched users'
        prompts only; ``result.prompt_count`` counts every prompt.

    Raises:
        UsageError: an input matches nothing.
        InputError: strict mode and a file is malformed, or a file cannot be read.
    """
    with engine_settings(spark), pandas3_warning_ignored():
        with _stage("load"):
            frames = load_with_spark(spark, audit_inputs, signin_inputs, options)
        try:
            return _hunt(spark, frames, params, config)
        finally:
            for frame in frames.cached:
                frame.unpersist()


def _hunt(
    spark: SparkSession,
    frames: SparkFrames,
    params: DetectionParams,
    config: HuntConfig,
) -> tuple[LoadedData, HuntResult]:
    with _stage("revocations"):
        index = upn_index(frames.signin, frames.audit)
        candidates = revocation_rows(frames.audit, params)
        revocations, near_misses = find_revocations(
            candidates, params.revocation_activities, index
        )
    keyed = keyed_signins(frames.signin, index)
    keyed = keyed.persist(StorageLevel.MEMORY_AND_DISK)
    frames.cached.append(keyed)
    steps = user_steps(frames.steps, keyed).persist(StorageLevel.MEMORY_AND_DISK)
    frames.cached.append(steps)
    unjoined_steps = count_denial_steps_without_signin(frames.steps, frames.signin)
    with _stage("detection"):
        rows = detect_matches(
            keyed, steps, revocations, params, index, default_parallelism(spark)
        )
    statistics = [row for row in rows if row["match_index"] < 0]
    matched = sorted({row["user_key"] for row in rows if row["match_index"] >= 0})

    with _stage("matched users' prompts"):
        matched_steps = steps.where(F.col(USER_KEY).isin(matched))
        prompt_signins = _collect(
            keyed.where(F.col(USER_KEY).isin(matched)), schema.SIGNIN_SCHEMA
        )
        prompt_steps = _collect(matched_steps, schema.STEP_SCHEMA)
        prompts = user_prompts(prompt_signins, prompt_steps, index)
    inputs = hunt_inputs(
        revocations,
        near_misses,
        prompts,
        prompt_count=sum(int(row["prompt_count"]) for row in statistics),
        prompt_fallback_rows=sum(int(row["fallback_prompts"]) for row in statistics),
        denial_step_times_replaced=sum(
            int(row["denial_step_times_replaced"]) for row in statistics
        ),
        denial_step_times_unreadable=sum(
            int(row["denial_step_times_unreadable"]) for row in statistics
        ),
        denial_steps_without_signin=unjoined_steps,
    )
    matches = rebuild_matches(rows, prompts, revocations)

    with _stage("context"):
        keys = context_keys(matches)
        step_records = matched_steps.select("record_id").distinct()
        data = LoadedData(
            audit=_context_audit(frames.audit, keys, frames.files),
            signin=_context_signins(frames.signin, keys, params, frames.files),
            steps=_collect(
                frames.steps.join(step_records, "record_id", "left_semi"),
                schema.STEP_SCHEMA,
            ),
            files=frames.files,
            unreadable=frames.unreadable,
            conflicts=frames.conflicts,
        )
    with _stage("campaigns"):
        admin = admin_revocations(revocations)
        campaigns = spark_campaigns(spark, admin, matches, params)
    result = finish(matches, data, inputs, params, config, campaigns)
    return data, result


@contextlib.contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log how long one stage of the Spark run took."""
    started = time.monotonic()
    yield
    logger.info("spark: %s took %.1f s", name, time.monotonic() - started)


def _collect(frame: DataFrame, arrow_schema: pa.Schema) -> pd.DataFrame:
    """Collect a Spark frame into a canonical frame in the local engine's order.

    An audit or sign-in record that two selections both returned is kept once.
    """
    collected = from_arrow(frame.toArrow(), arrow_schema)
    if arrow_schema.equals(schema.STEP_SCHEMA):
        order = ["record_id", "step_index", "step_time"]
    else:
        collected = collected.drop_duplicates("record_id")
        order = ["event_time", "record_id"]
    return collected.sort_values(order, kind="stable").reset_index(drop=True)


def _context_signins(
    signin: DataFrame,
    keys: set[str],
    params: DetectionParams,
    reports: list[FileReport],
) -> pd.DataFrame:
    """Collect the sign-ins of ``keys`` and what coverage needs of the rest.

    Coverage reads a file's stored time ranges from its report. For a file without
    them it reads the file's sign-in times, and then the first and last sign-in of
    every ``max_lag``-wide bucket give the same covered ranges, because two
    sign-ins in one bucket are never more than ``max_lag`` apart.
    """
    rows = _select_by_key(signin, schema.SIGNIN_SCHEMA, "user_id", keys)
    stored = {report.path for report in reports if "signin" in report.time_ranges}
    unstored = signin.where(~F.col("source_file").isin(sorted(stored)))
    if not unstored.isEmpty():
        width = max(int(params.max_lag.value), 1)
        time = F.col("event_time")
        bucketed = unstored.withColumn("_bucket", time - F.pmod(time, F.lit(width)))
        bucket = Window.partitionBy("source_file", "_bucket")
        earliest = bucket.orderBy(time.asc(), F.col("record_id").asc())
        latest = bucket.orderBy(time.desc(), F.col("record_id").desc())
        edges = (
            bucketed.withColumn("_first", F.row_number().over(earliest))
            .withColumn("_last", F.row_number().over(latest))
            .where((F.col("_first") == 1) | (F.col("_last") == 1))
            .drop("_bucket", "_first", "_last")
        )
        rows = rows.unionByName(edges)
    return _collect(rows, schema.SIGNIN_SCHEMA)


def _context_audit(
    audit: DataFrame, keys: set[str], reports: list[FileReport]
) -> pd.DataFrame:
    """Collect the audit rows that target ``keys``.

    The audit time span comes from the file reports; when none has one, the first
    and last audit record come along to set it.
    """
    rows = _select_by_key(audit, schema.AUDIT_SCHEMA, "target_id", keys)
    if not any("audit" in report.time_min for report in reports):
        time = F.col("event_time")
        first = audit.orderBy(time.asc(), F.col("record_id").asc()).limit(1)
        last = audit.orderBy(time.desc(), F.col("record_id").desc()).limit(1)
        rows = rows.unionByName(first).unionByName(last)
    return _collect(rows, schema.AUDIT_SCHEMA)


def _select_by_key(
    frame: DataFrame, arrow_schema: pa.Schema, column: str, keys: set[str]
) -> DataFrame:
    """Select the rows ``rows_for_keys`` selects, filtering most rows in Spark.

    Lower-casing agrees between Spark and Python for ids of hex digits and hyphens,
    the form of Entra object ids, so those are compared in Spark; any other value
    goes to ``rows_for_keys`` on a worker.
    """
    value = F.col(column)
    hex_id = value.rlike("^[0-9A-Fa-f-]*$")
    plain = frame.where(hex_id & F.lower(value).isin(sorted(keys)))
    kernel = partial(
        _rows_for_keys, arrow_schema=arrow_schema, column=column, keys=frozenset(keys)
    )
    other = frame.where(value.isNotNull() & ~hex_id)
    ddl = spark_ddl(spark_schema(arrow_schema))
    return plain.unionByName(other.mapInPandas(kernel, ddl))


def _rows_for_keys(
    batches: Iterator[pd.DataFrame],
    *,
    arrow_schema: pa.Schema,
    column: str,
    keys: frozenset[str],
) -> Iterator[pd.DataFrame]:
    """Keep the rows the context stage selects by key (runs on a worker)."""
    for batch in batches:
        frame = from_spark_batch(batch, arrow_schema)
        selected = rows_for_keys(frame, column, set(keys)).drop(columns="_key")
        yield to_batch(to_spark_table(selected, arrow_schema))
