"""Find campaigns per revoking actor on Spark, in the local engine's order.

``find_campaigns`` runs for each actor through ``groupBy(actor).applyInPandas`` and
returns the revocation ids of each campaign. The driver rebuilds every campaign from
its own revocation rows and matches, as ``find_all_campaigns`` would have built it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import SparkSession

from h056hunt.detect.campaigns import Campaign, actor_key, find_campaigns
from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.engines.spark_frames import spark_ddl, to_batch

CAMPAIGN_SCHEMA = pa.schema(
    [
        pa.field("actor_key", pa.string()),
        pa.field("campaign_index", pa.int64()),
        pa.field("revocation_id", pa.string()),
    ]
)


def spark_campaigns(
    spark: SparkSession,
    admin: pd.DataFrame,
    matches: list[Match],
    params: DetectionParams,
) -> list[Campaign]:
    """Run ``find_campaigns`` per actor on Spark, in ``find_all_campaigns`` order.

    Args:
        admin: admin revocations, from ``admin_revocations``.
        matches: the rebuilt matches.
        params: thresholds.
    """
    if not len(admin):
        return []
    times = admin["revocation_time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    table = pa.table(
        {
            "_actor_key": [actor_key(row) for _, row in admin.iterrows()],
            "revocation_id": _texts(admin["revocation_id"]),
            "revocation_time": pa.array(times, pa.int64()),
            **{
                name: pa.array(_texts(admin[name]), pa.string())
                for name in ("user_key", "actor_id", "actor_upn", "actor_display_name")
            },
        }
    )

    def kernel(batch: pd.DataFrame) -> pd.DataFrame:
        return _campaigns_of_actor(batch, params=params)

    frame = spark.createDataFrame(table).groupBy("_actor_key")
    rows = frame.applyInPandas(kernel, spark_ddl(CAMPAIGN_SCHEMA)).toArrow().to_pylist()
    members: dict[tuple[str, int], list[str]] = defaultdict(list)
    for row in rows:
        members[(row["actor_key"], row["campaign_index"])].append(row["revocation_id"])
    positions = {str(rid): index for index, rid in enumerate(admin["revocation_id"])}
    chains = [match for match in matches if match.revocation is not None]
    campaigns = []
    for (key, _), ids in sorted(members.items()):
        wanted = set(ids)
        campaigns.append(
            Campaign(
                actor_key=key,
                revocations=admin.iloc[[positions[rid] for rid in ids]],
                chains=[
                    chain
                    for chain in chains
                    if str(chain.revocation["revocation_id"]) in wanted  # type: ignore[index]
                ],
            )
        )
    return campaigns


def _texts(values: pd.Series) -> list[str | None]:
    return [None if pd.isna(value) else str(value) for value in values]


def _campaigns_of_actor(
    batch: pd.DataFrame, *, params: DetectionParams
) -> pd.DataFrame:
    """Find one actor's campaigns (runs on a worker)."""
    frame = batch.copy()
    nanoseconds = frame["revocation_time"].to_numpy(dtype=np.int64)
    frame["revocation_time"] = pd.to_datetime(nanoseconds, utc=True)
    for name in (
        "revocation_id",
        "user_key",
        "actor_id",
        "actor_upn",
        "actor_display_name",
    ):
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    rows: dict[str, list[Any]] = {
        "actor_key": [],
        "campaign_index": [],
        "revocation_id": [],
    }
    for index, campaign in enumerate(find_campaigns(frame, [], params)):
        for revocation_id in campaign.revocations["revocation_id"]:
            rows["actor_key"].append(str(batch["_actor_key"].iloc[0]))
            rows["campaign_index"].append(index)
            rows["revocation_id"].append(str(revocation_id))
    return to_batch(pa.table(rows, schema=CAMPAIGN_SCHEMA))
