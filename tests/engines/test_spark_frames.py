"""Tests for moving canonical frames in and out of Spark batches, without Spark."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from h056hunt import schema
from h056hunt.engines.spark_frames import (
    NAT_NANOSECONDS,
    from_arrow,
    from_spark_batch,
    to_batch,
    to_spark_table,
    union_tables,
)


def _steps() -> pd.DataFrame:
    return schema.frame_from_rows(
        [
            {
                "record_id": "r1",
                "step_index": 0,
                "step_time": pd.Timestamp("2026-03-02T10:00:00.1234567Z"),
                "method": "Mobile app notification",
                "succeeded": False,
                "result_detail": "MFA denied; user declined the authentication",
                "source_file": "signin.json",
                "source_record": 1,
            },
            {"record_id": "r2", "step_index": 1, "step_time": None, "succeeded": None},
        ],
        schema.STEP_SCHEMA,
    )


def test_times_become_nanoseconds() -> None:
    table = to_spark_table(_steps(), schema.STEP_SCHEMA)
    assert table.schema.field("step_time").type == pa.int64()
    assert table.column("step_time").to_pylist() == [
        pd.Timestamp("2026-03-02T10:00:00.1234567Z").value,
        NAT_NANOSECONDS,
    ]


def test_batch_round_trip_exact() -> None:
    frame = _steps()
    batch = to_batch(to_spark_table(frame, schema.STEP_SCHEMA))
    pd.testing.assert_frame_equal(from_spark_batch(batch, schema.STEP_SCHEMA), frame)


def test_spark_style_batch_round_trip() -> None:
    frame = _steps()
    batch = to_spark_table(frame, schema.STEP_SCHEMA).to_pandas()
    # Spark hands integers with nulls to pandas as float64, booleans as objects.
    batch["source_record"] = batch["source_record"].astype("float64")
    batch["succeeded"] = batch["succeeded"].astype(object)
    pd.testing.assert_frame_equal(from_spark_batch(batch, schema.STEP_SCHEMA), frame)


def test_float_times_rejected() -> None:
    batch = to_spark_table(_steps(), schema.STEP_SCHEMA).to_pandas()
    batch["step_time"] = batch["step_time"].astype("float64")
    with pytest.raises(ValueError, match="int64 nanoseconds"):
        from_spark_batch(batch, schema.STEP_SCHEMA)


def test_missing_columns_become_null() -> None:
    batch = to_batch(to_spark_table(_steps(), schema.STEP_SCHEMA))
    frame = from_spark_batch(batch[["record_id", "step_time"]], schema.STEP_SCHEMA)
    assert list(frame.columns) == schema.STEP_COLUMNS
    assert frame["method"].isna().all()


def test_union_and_arrow_round_trip() -> None:
    frame = _steps()
    table = to_spark_table(frame, schema.STEP_SCHEMA)
    target = table.schema.append(pa.field("_log", pa.string()))
    stacked = union_tables([table, table.slice(0, 1)], target)
    assert stacked.num_rows == 3
    assert stacked.column("_log").null_count == 3
    restored = from_arrow(stacked.slice(0, 2), schema.STEP_SCHEMA)
    pd.testing.assert_frame_equal(restored, frame)


def test_empty_batch_has_one_chunk() -> None:
    # A filter that keeps no row can leave an Arrow column with no chunk at all,
    # which pyspark 4.3 rejects as it does a column of several chunks.
    column = pa.chunked_array([], type=pa.string())
    table = pa.Table.from_arrays([column], names=["record_id"])

    batch = to_batch(table)

    assert len(batch) == 0
    assert batch["record_id"].array._pa_array.num_chunks == 1
