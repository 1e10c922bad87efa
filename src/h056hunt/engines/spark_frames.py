"""Move canonical frames between pandas and Spark without losing a nanosecond.

Spark timestamps have microsecond resolution, but Entra writes 7 fractional digits
and the canonical frames keep nanoseconds. Inside Spark every time column is
therefore a ``bigint`` of nanoseconds since the epoch. A missing time is numpy's NaT
value (the smallest int64) instead of null, because Spark hands a nullable ``bigint``
column with nulls to pandas as float64, which cannot store nanosecond times exactly.
Other integer columns with nulls do arrive as float64; they stay exact because record
numbers and error codes are far below 2**53.

Nothing here imports pyspark, so the kernels that use it run on any worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from h056hunt import schema

# numpy's NaT: the int64 value a datetime64[ns] column stores for a missing time.
NAT_NANOSECONDS = int(np.iinfo(np.int64).min)
_SPARK_TYPES = {
    pa.string(): "string",
    pa.int64(): "bigint",
    pa.bool_(): "boolean",
}


def spark_field(field: pa.Field) -> pa.Field:
    """Return the field as Spark stores it: a time column becomes int64 nanoseconds."""
    if pa.types.is_timestamp(field.type):
        return pa.field(field.name, pa.int64())
    return field


def spark_schema(arrow_schema: pa.Schema, extra: Sequence[pa.Field] = ()) -> pa.Schema:
    """Return the Arrow schema of Spark batches for a canonical schema plus extras."""
    return pa.schema([*(spark_field(field) for field in arrow_schema), *extra])


def spark_ddl(arrow_schema: pa.Schema) -> str:
    """Return a Spark DDL schema string for an Arrow schema of Spark types."""
    return ", ".join(
        f"{field.name} {_SPARK_TYPES[field.type]}" for field in arrow_schema
    )


def time_columns(arrow_schema: pa.Schema) -> list[str]:
    """Return the names of a canonical schema's time columns."""
    return [field.name for field in arrow_schema if pa.types.is_timestamp(field.type)]


def to_spark_table(frame: pd.DataFrame, arrow_schema: pa.Schema) -> pa.Table:
    """Convert a canonical frame to an Arrow table of Spark types."""
    table = pa.Table.from_pandas(
        frame[arrow_schema.names], schema=arrow_schema, preserve_index=False
    )
    columns = []
    for field, column in zip(arrow_schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            column = pc.fill_null(pc.cast(column, pa.int64()), NAT_NANOSECONDS)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=spark_schema(arrow_schema))


def union_tables(tables: Iterable[pa.Table], target: pa.Schema) -> pa.Table:
    """Stack tables whose columns are subsets of ``target``; the rest become null."""
    aligned = []
    for table in tables:
        columns = [
            table.column(field.name)
            if field.name in table.column_names
            else pa.nulls(len(table), field.type)
            for field in target
        ]
        aligned.append(pa.Table.from_arrays(columns, schema=target))
    if not aligned:
        return target.empty_table()
    return pa.concat_tables(aligned)


def to_batch(table: pa.Table) -> pd.DataFrame:
    """Return an Arrow table as a pandas batch that Spark converts without loss.

    pyspark 4.3 rejects an Arrow-backed pandas column of more than one chunk, and
    one of no chunk, which a table of no rows can have.
    """
    if table.num_rows == 0:
        table = table.schema.empty_table()
    return table.combine_chunks().to_pandas(types_mapper=pd.ArrowDtype)


def from_spark_batch(batch: pd.DataFrame, arrow_schema: pa.Schema) -> pd.DataFrame:
    """Convert a pandas batch from Spark to a canonical frame.

    Columns of ``arrow_schema`` that the batch lacks become nulls, so a kernel may
    receive only the columns it reads.
    """
    arrays = []
    for field in arrow_schema:
        if field.name not in batch.columns:
            arrays.append(pa.nulls(len(batch), field.type))
        elif pa.types.is_timestamp(field.type):
            arrays.append(_times(batch[field.name].to_numpy(), field.type))
        else:
            arrays.append(pa.Array.from_pandas(batch[field.name], type=field.type))
    table = pa.Table.from_arrays(arrays, schema=arrow_schema)
    return schema.frame_from_table(table)


def from_arrow(table: pa.Table, arrow_schema: pa.Schema) -> pd.DataFrame:
    """Convert an Arrow table collected from Spark to a canonical frame."""
    arrays = []
    for field in arrow_schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(len(table), field.type))
            continue
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            values = column.to_numpy(zero_copy_only=False)
            arrays.append(_times(values, field.type))
        else:
            arrays.append(column.combine_chunks().cast(field.type))
    return schema.frame_from_table(pa.Table.from_arrays(arrays, schema=arrow_schema))


def _times(values: np.ndarray, time_type: pa.DataType) -> pa.Array:
    if values.dtype != np.int64:
        # A null time reached Python as float64 and may have lost digits.
        raise ValueError(
            f"time column arrived as {values.dtype}, not int64 nanoseconds; "
            "fill missing times with NAT_NANOSECONDS before handing them over"
        )
    nanoseconds = pa.array(values, type=pa.int64(), mask=values == NAT_NANOSECONDS)
    return nanoseconds.cast(time_type)
