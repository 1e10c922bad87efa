"""Run the detection kernels on Spark and rebuild their results on the driver.

* Revocations: each partition of the audit frame runs ``find_revocations`` and keeps
  the rows it used. Those rows are few, so the driver collects them and runs
  ``find_revocations`` once more over all of them, which pairs rows across
  partitions exactly as the local engine does.
* Prompts and matches: sign-ins are keyed by user, each authentication step follows
  its sign-in to that user, and ``groupBy(...).cogroup(...).applyInPandas`` over
  groups of whole users runs ``extract_prompts`` and ``detect_all``, which calls
  ``detect_user`` per user. A match comes back as the positions of its prompts in
  the user's prompt list.
* Campaigns: :mod:`h056hunt.engines.spark_campaigns`.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from h056hunt import schema
from h056hunt.detect.chains import DetectionParams, Match, detect_all

# _normalised_upns is how build_upn_index folds UPNs; pairs folded elsewhere
# could name other users.
from h056hunt.detect.identity import _normalised_upns, is_object_id, user_keys

# _is_user_signin is the filter extract_prompts applies first; keying sign-ins with
# the same function keeps each user's group equal to what extract_prompts sees.
from h056hunt.detect.prompts import (
    _is_user_signin,
    denial_step_time_counts,
    denial_steps,
    extract_prompts,
)
from h056hunt.detect.revocations import find_revocations
from h056hunt.engines.spark_frames import (
    from_arrow,
    from_spark_batch,
    spark_ddl,
    spark_schema,
    to_batch,
    to_spark_table,
)

# The sign-in and step columns that extract_prompts reads; the shuffle by user
# carries only these. If it ever reads another column, the driver's check in
# rebuild_matches fails loudly instead of the engines silently disagreeing.
PROMPT_SIGNIN_COLUMNS = (
    "record_id",
    "request_id",
    "correlation_id",
    "event_time",
    "user_id",
    "user_upn",
    "user_display_name",
    "signin_event_type",
    "app_display_name",
    "ip_address",
    "country",
    "city",
    "user_agent",
    "error_code",
    "failure_reason",
    "additional_details",
    "source_file",
    "source_line",
    "source_record",
)
PROMPT_STEP_COLUMNS = (
    "record_id",
    "step_index",
    "step_time",
    "step_time_unreadable",
    "method",
    "result_detail",
    "succeeded",
)
USER_KEY = "_user_key"
GROUP = "_group"
# Sign-ins per group of users in the detection kernel: enough rows that a pandas
# call's fixed cost does not dominate, few enough that a group of about 50 MB fits
# any worker. MIN_ spreads a small run over the cores instead of one group.
SIGNINS_PER_GROUP = 50_000
MIN_SIGNINS_PER_GROUP = 5_000
KEYED_SCHEMA = pa.schema(
    [
        *(spark_schema(schema.SIGNIN_SCHEMA).field(n) for n in PROMPT_SIGNIN_COLUMNS),
        pa.field(USER_KEY, pa.string()),
    ]
)
MATCH_SCHEMA = pa.schema(
    [
        pa.field("user_key", pa.string()),
        pa.field("match_index", pa.int64()),
        pa.field("revocation_id", pa.string()),
        pa.field("peak_denials", pa.int64()),
        pa.field("other_revocations", pa.string()),
        pa.field("prompt_position", pa.int64()),
        pa.field("prompt_record_id", pa.string()),
        pa.field("prompt_time", pa.int64()),
        pa.field("in_burst", pa.bool_()),
        pa.field("is_approval", pa.bool_()),
        pa.field("prompt_count", pa.int64()),
        pa.field("fallback_prompts", pa.int64()),
        pa.field("denial_step_times_replaced", pa.int64()),
        pa.field("denial_step_times_unreadable", pa.int64()),
    ]
)


def revocation_rows(audit: DataFrame, params: DetectionParams) -> pd.DataFrame:
    """Collect the audit rows that ``find_revocations`` uses, as a canonical frame."""
    kernel = partial(_revocation_rows, activities=params.revocation_activities)
    ddl = spark_ddl(spark_schema(schema.AUDIT_SCHEMA))
    table = audit.mapInPandas(kernel, ddl).toArrow()
    rows = from_arrow(table, schema.AUDIT_SCHEMA)
    return rows.sort_values(["event_time", "record_id"], kind="stable").reset_index(
        drop=True
    )


def _revocation_rows(
    batches: Iterator[pd.DataFrame], *, activities: tuple[str, ...]
) -> Iterator[pd.DataFrame]:
    for batch in batches:
        frame = from_spark_batch(batch, schema.AUDIT_SCHEMA)
        revocations, near_misses = find_revocations(frame, activities)
        used = {
            str(record) for ids in revocations["related_record_ids"] for record in ids
        }
        used.update(near_misses["record_id"].astype(str))
        keep = frame["record_id"].astype(str).isin(used).to_numpy()
        yield to_batch(to_spark_table(frame[keep], schema.AUDIT_SCHEMA))


def upn_index(signin: DataFrame, audit: DataFrame) -> dict[str, str]:
    """Return the entries of ``build_upn_index`` that a row without an id needs.

    The local engine maps every normalised UPN seen with exactly one object id, in
    sign-ins and in audit targets and actors. Only UPNs of rows without an id are
    looked up, so only those entries reach the driver.
    """
    if _rows_without_id(signin, "user_id", "user_upn").isEmpty() and (
        _rows_without_id(audit, "target_id", "target_upn").isEmpty()
    ):
        return {}
    pairs = signin.select(F.col("user_id").alias("id"), F.col("user_upn").alias("upn"))
    for prefix in ("target", "actor"):
        pairs = pairs.unionByName(
            audit.select(
                F.col(f"{prefix}_id").alias("id"), F.col(f"{prefix}_upn").alias("upn")
            )
        )
    folded = pairs.mapInPandas(
        _upn_pairs, "upn string, object_id string, has_id boolean"
    )
    known = folded.where(F.col("object_id").isNotNull())
    unique = (
        known.groupBy("upn")
        .agg(F.countDistinct("object_id").alias("ids"), F.min("object_id").alias("id"))
        .where(F.col("ids") == 1)
    )
    needed = folded.where(~F.col("has_id")).select("upn").distinct()
    rows = unique.join(needed, "upn", "left_semi").select("upn", "id").collect()
    return {str(row["upn"]): str(row["id"]) for row in rows}


def _rows_without_id(frame: DataFrame, id_column: str, upn_column: str) -> DataFrame:
    """Return rows that may lack an id but carry a UPN, a superset of those that do.

    An id that strips to nothing has no letter or digit, whatever Unicode spaces it
    has, so the test needs no Python.
    """
    identifier = F.col(id_column)
    missing = identifier.isNull() | ~identifier.rlike("[0-9A-Za-z]")
    return frame.where(missing & F.col(upn_column).isNotNull())


def _upn_pairs(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Fold ids and UPNs as build_upn_index and user_keys do (runs on a worker)."""
    for batch in batches:
        ids = batch["id"].astype("string").str.strip().str.lower()
        upns = _normalised_upns(batch["upn"])
        has_id = (ids.notna() & (ids != "")).fillna(False)
        object_ids = ids.map(
            lambda value: (
                value if isinstance(value, str) and is_object_id(value) else None
            )
        )
        frame = pd.DataFrame(
            {
                "upn": upns.astype(object).where(upns.notna(), None),
                "object_id": object_ids.astype(object).where(object_ids.notna(), None),
                "has_id": has_id.astype(bool),
            }
        )
        yield frame[frame["upn"].notna()]


def keyed_signins(signin: DataFrame, index: dict[str, str]) -> DataFrame:
    """Return the user sign-ins with their join key, in the columns prompts need."""
    columns = [*PROMPT_SIGNIN_COLUMNS]
    kernel = partial(_key_signins, index=index)
    return signin.select(*columns).mapInPandas(kernel, spark_ddl(KEYED_SCHEMA))


def _key_signins(
    batches: Iterator[pd.DataFrame], *, index: dict[str, str]
) -> Iterator[pd.DataFrame]:
    sub_schema = pa.schema(
        [schema.SIGNIN_SCHEMA.field(n) for n in PROMPT_SIGNIN_COLUMNS]
    )
    for batch in batches:
        frame = from_spark_batch(batch, schema.SIGNIN_SCHEMA)
        keys, _ = user_keys(frame["user_id"], frame["user_upn"], index)
        keep = (_is_user_signin(frame) & keys.notna()).to_numpy(dtype=bool)
        table = to_spark_table(frame[keep], sub_schema)
        key_values = keys[keep].astype(object).to_list()
        table = table.append_column(USER_KEY, pa.array(key_values, pa.string()))
        yield to_batch(table)


def user_steps(steps: DataFrame, keyed: DataFrame) -> DataFrame:
    """Give each authentication step the key of the user whose prompts it can make.

    ``extract_prompts`` joins a step to the user sign-in with its record id, else to
    the first user sign-in (by time, then record id) whose request id is the step's
    record id, as a portal AuthDetails download stores it.
    """
    columns = [*PROMPT_STEP_COLUMNS]
    # The key gets a column of its own, so cogrouping steps with the keyed
    # sign-ins they came from is not an ambiguous self-join.
    owners = keyed.select("record_id", F.col(USER_KEY).alias("_owner"))
    by_record = steps.select(*columns).join(owners, "record_id")
    unmatched = steps.select(*columns).join(
        keyed.select("record_id"), "record_id", "left_anti"
    )
    first = Window.partitionBy("request_id").orderBy("event_time", "record_id")
    requests = (
        keyed.where(F.col("request_id").isNotNull())
        .withColumn("_rank", F.row_number().over(first))
        .where(F.col("_rank") == 1)
        .select(F.col("request_id").alias("_request"), F.col(USER_KEY).alias("_owner"))
    )
    by_request = unmatched.join(
        requests, unmatched["record_id"] == requests["_request"]
    ).drop("_request")
    steps_of_users = by_record.unionByName(by_request)
    return steps_of_users.withColumnRenamed("_owner", USER_KEY)


def count_denial_steps_without_signin(steps: DataFrame, signin: DataFrame) -> int:
    """Count the denial steps whose key matches no sign-in by record id or by
    request id, as :func:`~h056hunt.detect.prompts.denial_steps_without_signin`
    does on the local engine."""
    requests = signin.where(F.col("request_id").isNotNull()).select(
        F.col("request_id").alias("record_id")
    )
    loose = (
        steps.select("record_id", "result_detail", "succeeded")
        .join(signin.select("record_id"), "record_id", "left_anti")
        .join(requests, "record_id", "left_anti")
    )
    counts = loose.mapInPandas(_count_denial_steps, "denials long")
    total = counts.agg(F.sum("denials")).first()
    return int(total[0] or 0) if total is not None else 0


def _count_denial_steps(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Yield the number of denial steps in each batch (runs on a worker)."""
    for batch in batches:
        yield pd.DataFrame({"denials": [int(denial_steps(batch).sum())]})


def detect_matches(
    keyed: DataFrame,
    steps: DataFrame,
    revocations: pd.DataFrame,
    params: DetectionParams,
    index: dict[str, str],
    parallelism: int,
) -> list[dict[str, Any]]:
    """Run ``extract_prompts`` and ``detect_user`` for every user; collect results.

    Users go to groups by a hash of their key, and each group runs the local
    engine's ``extract_prompts`` and ``detect_all`` once. A group holds whole users,
    so every user's prompts and matches are the ones the local engine finds; one
    pandas call per group instead of per user saves its fixed cost per call.

    Args:
        keyed: user sign-ins from :func:`keyed_signins`.
        steps: steps from :func:`user_steps`.
        revocations: every revocation.
        params: thresholds.
        index: UPNs to object ids, from :func:`upn_index`.
        parallelism: the fewest groups worth making, such as the number of cores.

    Returns:
        One row per prompt of each match, plus one row per group with its prompt
        count, UPN-keyed prompt count and counts of denial step times replaced
        and unreadable (``match_index`` is -1 there).
    """
    rows = keyed.count()
    groups = max(
        math.ceil(rows / SIGNINS_PER_GROUP),
        min(parallelism, math.ceil(rows / MIN_SIGNINS_PER_GROUP)),
        1,
    )
    group = F.pmod(F.xxhash64(F.col(USER_KEY)), F.lit(groups))

    def kernel(signins: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
        return _detect_group(
            signins, steps, revocations=revocations, params=params, index=index
        )

    keyed_groups = keyed.withColumn(GROUP, group).groupBy(GROUP)
    step_groups = steps.withColumn(GROUP, group).groupBy(GROUP)
    results = keyed_groups.cogroup(step_groups).applyInPandas(
        kernel, spark_ddl(MATCH_SCHEMA)
    )
    return list(results.toArrow().to_pylist())


def _detect_group(
    signins: pd.DataFrame,
    steps: pd.DataFrame,
    *,
    revocations: pd.DataFrame,
    params: DetectionParams,
    index: dict[str, str],
) -> pd.DataFrame:
    """Find the matches of one group of users (runs on a worker)."""
    if signins.empty:
        return to_batch(MATCH_SCHEMA.empty_table())
    prompts = user_prompts(
        from_spark_batch(signins, schema.SIGNIN_SCHEMA),
        from_spark_batch(steps, schema.STEP_SCHEMA),
        index,
    )
    fallback = int(prompts["upn_fallback"].sum()) if len(prompts) else 0
    replaced, unreadable = denial_step_time_counts(prompts)
    rows: list[dict[str, Any]] = [
        {
            "match_index": -1,
            "prompt_count": len(prompts),
            "fallback_prompts": fallback,
            "denial_step_times_replaced": replaced,
            "denial_step_times_unreadable": unreadable,
        }
    ]
    users = set(prompts["user_key"].astype(str))
    own = revocations[revocations["user_key"].isin(users)] if users else revocations
    # A user's prompts are one block of the sorted frame; positions are sent
    # relative to the block so the driver can find them in its own frame.
    starts = {
        str(key): int(block.index[0])
        for key, block in prompts.groupby("user_key", sort=False)
    }
    number = 0
    previous = None
    for match in detect_all(own, prompts, params):
        number = number + 1 if match.user_key == previous else 0
        previous = match.user_key
        rows.extend(_match_rows(number, match, starts[match.user_key]))
    columns = {f.name: [row.get(f.name) for row in rows] for f in MATCH_SCHEMA}
    return to_batch(pa.table(columns, schema=MATCH_SCHEMA))


def user_prompts(
    signins: pd.DataFrame, steps: pd.DataFrame, index: dict[str, str]
) -> pd.DataFrame:
    """Run ``extract_prompts`` on frames in the order the local loader leaves them."""
    signins = signins.sort_values(["event_time", "record_id"], kind="stable")
    steps = steps.sort_values(["record_id", "step_index", "step_time"], kind="stable")
    return extract_prompts(
        signins.reset_index(drop=True), steps.reset_index(drop=True), index
    )


def _match_rows(index: int, match: Match, start: int) -> Iterator[dict[str, Any]]:
    """Describe one match by the positions of its prompts in the user's list."""
    denials = set(match.denials.index)
    approval = match.approval.name if match.approval is not None else None
    revocation = match.revocation
    times = match.prompts["prompt_time"].to_numpy(dtype="datetime64[ns]")
    for label, record_id, time in zip(
        match.prompts.index,
        match.prompts["record_id"],
        times.view(np.int64),
        strict=True,
    ):
        yield {
            "user_key": match.user_key,
            "match_index": index,
            "revocation_id": None
            if revocation is None
            else str(revocation["revocation_id"]),
            "peak_denials": int(match.peak_denials),
            "other_revocations": json.dumps(list(match.other_revocations)),
            "prompt_position": int(label) - start,
            "prompt_record_id": str(record_id),
            "prompt_time": int(time),
            "in_burst": label in denials,
            "is_approval": label == approval,
        }


def rebuild_matches(
    rows: list[dict[str, Any]], prompts: pd.DataFrame, revocations: pd.DataFrame
) -> list[Match]:
    """Rebuild the matches from kernel rows, in ``detect_all`` order.

    Args:
        rows: the match rows of :func:`detect_matches`.
        prompts: the prompts of the matched users, from :func:`user_prompts` over
            the same sign-ins and steps the kernel saw.
        revocations: every revocation.

    Raises:
        RuntimeError: a prompt position does not point at the prompt the kernel
            saw, which means the two prompt lists differ.
    """
    by_user = {
        str(key): frame.reset_index(drop=True)
        for key, frame in prompts.groupby("user_key", sort=False)
    }
    revocation_rows = {
        str(row["revocation_id"]): row for _, row in revocations.iterrows()
    }
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["match_index"] >= 0:
            grouped[(row["user_key"], row["match_index"])].append(row)
    matches = []
    for (key, _), members in sorted(grouped.items()):
        own = by_user.get(key)
        positions = [int(row["prompt_position"]) for row in members]
        _check_positions(key, own, members)
        assert own is not None
        span = own.iloc[positions]
        burst = [bool(row["in_burst"]) for row in members]
        approvals = [row for row in members if row["is_approval"]]
        revocation_id = members[0]["revocation_id"]
        matches.append(
            Match(
                user_key=key,
                revocation=None
                if revocation_id is None
                else revocation_rows[revocation_id],
                prompts=span,
                denials=span[burst],
                approval=own.iloc[int(approvals[0]["prompt_position"])]
                if approvals
                else None,
                peak_denials=int(members[0]["peak_denials"]),
                other_revocations=json.loads(members[0]["other_revocations"]),
            )
        )
    return matches


def _check_positions(
    key: str, own: pd.DataFrame | None, members: list[dict[str, Any]]
) -> None:
    times = (
        own["prompt_time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        if own is not None
        else np.array([], dtype=np.int64)
    )
    for row in members:
        position = int(row["prompt_position"])
        if (
            own is None
            or position >= len(own)
            or str(own["record_id"].iloc[position]) != row["prompt_record_id"]
            or int(times[position]) != int(row["prompt_time"])
        ):
            raise RuntimeError(
                f"the prompts rebuilt on the driver for user {key!r} differ from the "
                f"worker's at position {position}; the Spark engine's prompt "
                "columns no longer cover what extract_prompts reads"
            )
