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
   * the first and last sign-in of every file in every ``max_lag``-wide time
     bucket, from which coverage computes the same covered ranges as from every
     sign-in, because two sign-ins in one bucket are never more than ``max_lag``
     apart;
   * the first and last audit record, which set the audit time span.
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
    pandas3_warning_ignored,
    prepare_session,
    spark_session,
)
from h056hunt.engines.spark_campaigns import spark_campaigns
from h056hunt.engines.spark_detect import (
    USER_KEY,
    detect_matches,
    keyed_signins,
    rebuild_matches,
    revocation_rows,
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
from h056hunt.engines.spark_load import SparkFrames, load_with_spark
from h056hunt.hunt import (
    HuntResult,
    admin_revocations,
    context_keys,
    finish,
    hunt_inputs,
    rows_for_keys,
)
from h056hunt.load import LoadedData, LoadOptions

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
    prepare_session(spark)
    with pandas3_warning_ignored():
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
        candidates = revocation_rows(frames.audit, params)
        revocations, near_misses = find_revocations(
            candidates, params.revocation_activities
        )
    keyed = keyed_signins(frames.signin).persist(StorageLevel.MEMORY_AND_DISK)
    frames.cached.append(keyed)
    steps = user_steps(frames.steps, keyed)
    with _stage("detection"):
        rows = detect_matches(keyed, steps, revocations, params)
    statistics = [row for row in rows if row["match_index"] < 0]
    matched = sorted({row["user_key"] for row in rows if row["match_index"] >= 0})

    with _stage("matched users' prompts"):
        matched_steps = steps.where(F.col(USER_KEY).isin(matched))
        prompt_signins = _collect(
            keyed.where(F.col(USER_KEY).isin(matched)), schema.SIGNIN_SCHEMA
        )
        prompt_steps = _collect(matched_steps, schema.STEP_SCHEMA)
        prompts = user_prompts(prompt_signins, prompt_steps)
    inputs = hunt_inputs(
        revocations,
        near_misses,
        prompts,
        prompt_count=sum(int(row["prompt_count"]) for row in statistics),
        prompt_fallback_rows=sum(int(row["fallback_prompts"]) for row in statistics),
    )
    matches = rebuild_matches(rows, prompts, revocations)

    with _stage("context"):
        keys = context_keys(matches)
        step_records = matched_steps.select("record_id").distinct()
        data = LoadedData(
            audit=_context_audit(frames.audit, keys),
            signin=_context_signins(frames.signin, keys, params),
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
    signin: DataFrame, keys: set[str], params: DetectionParams
) -> pd.DataFrame:
    """Collect the sign-ins of ``keys`` and the edges of every coverage bucket."""
    ddl = spark_ddl(spark_schema(schema.SIGNIN_SCHEMA))
    kernel = partial(
        _rows_for_keys,
        arrow_schema=schema.SIGNIN_SCHEMA,
        column="user_id",
        keys=frozenset(keys),
    )
    context = signin.mapInPandas(kernel, ddl)
    width = max(int(params.max_lag.value), 1)
    time = F.col("event_time")
    bucketed = signin.withColumn("_bucket", time - F.pmod(time, F.lit(width)))
    bucket = Window.partitionBy("source_file", "_bucket")
    earliest = bucket.orderBy(time.asc(), F.col("record_id").asc())
    latest = bucket.orderBy(time.desc(), F.col("record_id").desc())
    edges = (
        bucketed.withColumn("_first", F.row_number().over(earliest))
        .withColumn("_last", F.row_number().over(latest))
        .where((F.col("_first") == 1) | (F.col("_last") == 1))
        .drop("_bucket", "_first", "_last")
    )
    return _collect(context.unionByName(edges), schema.SIGNIN_SCHEMA)


def _context_audit(audit: DataFrame, keys: set[str]) -> pd.DataFrame:
    """Collect the audit rows that target ``keys``, and the first and last row."""
    ddl = spark_ddl(spark_schema(schema.AUDIT_SCHEMA))
    kernel = partial(
        _rows_for_keys,
        arrow_schema=schema.AUDIT_SCHEMA,
        column="target_id",
        keys=frozenset(keys),
    )
    context = audit.mapInPandas(kernel, ddl)
    time = F.col("event_time")
    first = audit.orderBy(time.asc(), F.col("record_id").asc()).limit(1)
    last = audit.orderBy(time.desc(), F.col("record_id").desc()).limit(1)
    rows = context.unionByName(first).unionByName(last)
    return _collect(rows, schema.AUDIT_SCHEMA)


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
