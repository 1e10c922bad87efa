"""The canonical frames every loader produces, declared once.

Three frames leave the loaders:

* ``audit``: one row per directory-audit record.
* ``signin``: one row per sign-in record, interactive or not.
* ``steps``: one row per ``authenticationDetails`` step, joined to ``signin`` by
  ``record_id``.

Timestamps are ``datetime64[ns, UTC]`` so 7 and 9 fractional digits survive. Strings are
pyarrow-backed. ``docs/schema.md`` documents every column; keep the two in step.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

TIMESTAMP = pa.timestamp("ns", tz="UTC")
STRING = pa.string()
INT64 = pa.int64()
BOOL = pa.bool_()

# Columns every frame carries so a finding can point back to the raw record.
SOURCE_FIELDS: list[tuple[str, pa.DataType]] = [
    ("source_file", STRING),
    ("source_line", INT64),
    ("source_record", INT64),
    ("source_shape", STRING),
]

AUDIT_FIELDS: list[tuple[str, pa.DataType]] = [
    ("record_id", STRING),
    ("event_time", TIMESTAMP),
    ("activity", STRING),
    ("category", STRING),
    ("result", STRING),
    ("correlation_id", STRING),
    ("logged_by_service", STRING),
    ("actor_type", STRING),
    ("actor_id", STRING),
    ("actor_upn", STRING),
    ("actor_display_name", STRING),
    ("actor_ip", STRING),
    ("actor_app_id", STRING),
    ("actor_service_principal_id", STRING),
    ("target_type", STRING),
    ("target_id", STRING),
    ("target_upn", STRING),
    ("target_display_name", STRING),
    ("modified_properties", STRING),
    ("included_updated_properties", STRING),
    ("user_agent", STRING),
    *SOURCE_FIELDS,
]

SIGNIN_FIELDS: list[tuple[str, pa.DataType]] = [
    ("record_id", STRING),
    ("request_id", STRING),
    ("correlation_id", STRING),
    ("event_time", TIMESTAMP),
    ("user_id", STRING),
    ("user_upn", STRING),
    ("user_display_name", STRING),
    ("user_type", STRING),
    ("signin_event_type", STRING),
    ("is_interactive", BOOL),
    ("app_id", STRING),
    ("app_display_name", STRING),
    ("resource_display_name", STRING),
    ("ip_address", STRING),
    ("country", STRING),
    ("city", STRING),
    ("user_agent", STRING),
    ("client_app", STRING),
    ("device_name", STRING),
    ("operating_system", STRING),
    ("browser", STRING),
    ("error_code", INT64),
    ("failure_reason", STRING),
    ("additional_details", STRING),
    ("conditional_access_status", STRING),
    ("authentication_requirement", STRING),
    ("mfa_auth_method", STRING),
    ("mfa_auth_detail", STRING),
    ("risk_level_during_signin", STRING),
    ("risk_level_aggregated", STRING),
    ("risk_state", STRING),
    *SOURCE_FIELDS,
]

STEP_FIELDS: list[tuple[str, pa.DataType]] = [
    ("record_id", STRING),
    ("step_index", INT64),
    ("step_time", TIMESTAMP),
    # True when the step had a time that could not be read, so step_time is
    # missing for a reason other than an absent value.
    ("step_time_unreadable", BOOL),
    ("method", STRING),
    ("method_detail", STRING),
    ("succeeded", BOOL),
    ("result_detail", STRING),
    ("requirement", STRING),
    ("source_file", STRING),
    ("source_record", INT64),
]

AUDIT_SCHEMA = pa.schema(AUDIT_FIELDS)
SIGNIN_SCHEMA = pa.schema(SIGNIN_FIELDS)
STEP_SCHEMA = pa.schema(STEP_FIELDS)

AUDIT_COLUMNS = [name for name, _ in AUDIT_FIELDS]
SIGNIN_COLUMNS = [name for name, _ in SIGNIN_FIELDS]
STEP_COLUMNS = [name for name, _ in STEP_FIELDS]

# Time columns hold raw strings until the loader parses them per file, so the day-first
# decision can use every value of the file at once.
AUDIT_TIME_COLUMNS = ["event_time"]
SIGNIN_TIME_COLUMNS = ["event_time"]
STEP_TIME_COLUMNS = ["step_time"]


def frame_from_table(table: pa.Table) -> pd.DataFrame:
    """Convert an Arrow table of a canonical schema to pandas with Arrow-backed columns.

    Timestamps become numpy ``datetime64[ns, UTC]`` so pandas time arithmetic and
    ``merge_asof`` work; the rest stay Arrow-backed.
    """
    frame = table.to_pandas(types_mapper=_arrow_dtype_for)
    for field in table.schema:
        if pa.types.is_timestamp(field.type):
            frame[field.name] = pd.to_datetime(frame[field.name], utc=True).astype(
                "datetime64[ns, UTC]"
            )
    return frame


def _arrow_dtype_for(arrow_type: pa.DataType) -> Any:
    if pa.types.is_timestamp(arrow_type):
        return None
    return pd.ArrowDtype(arrow_type)


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    """Return a frame with no rows and the columns and dtypes of ``schema``.

    Each file's sink builds an empty frame for each log the file lacks, and
    converting the empty table took about 1.5 ms on the 2-core benchmark machine,
    against 0.1 ms for a copy.
    """
    template = _EMPTY_FRAMES.get(schema)
    if template is None:
        template = _EMPTY_FRAMES[schema] = frame_from_table(schema.empty_table())
    return template.copy()


# The empty frame of each schema that empty_frame has built, copied for each call.
_EMPTY_FRAMES: dict[pa.Schema, pd.DataFrame] = {}


def frame_from_rows(
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    columns: Mapping[str, pa.Array] | None = None,
) -> pd.DataFrame:
    """Build a canonical frame from row dicts whose values already have schema types.

    Keys missing from a row become nulls; keys not in the schema are ignored.
    ``columns`` gives ready-made arrays for some fields, one value per row, which
    the rows' own values for those fields do not override.
    """
    rows = list(rows)
    prepared = columns or {}
    # Arrow reads the row dicts into one struct array in a single pass, which takes
    # half the time of one Python list per field on a loaded audit file.
    row_fields = pa.struct([field for field in schema if field.name not in prepared])
    row_columns = pa.array(rows, type=row_fields)
    arrays = [
        prepared[field.name].cast(field.type)
        if field.name in prepared
        else row_columns.field(field.name)
        for field in schema
    ]
    return frame_from_table(pa.Table.from_arrays(arrays, schema=schema))


def rows_of(
    frame: pd.DataFrame, columns: Iterable[str] | None = None
) -> list[tuple[Any, ...]]:
    """Return the rows as ``frame.itertuples(index=False)`` gives them, faster.

    ``columns`` limits the fields to those columns, in that order, which saves
    converting values the caller does not read. The values are those of
    :func:`columns_of`. On a mass revocation of thousands of rows this is several
    times quicker.
    """
    if columns is not None:
        frame = frame[list(columns)]
    row_type = collections.namedtuple(  # type: ignore[misc]
        "Row", list(frame.columns), rename=True
    )
    return [row_type._make(values) for values in zip(*columns_of(frame), strict=True)]


def columns_of(
    frame: pd.DataFrame, columns: Iterable[str] | None = None
) -> list[list[Any]]:
    """Return one list of values per column, as iterating each column gives them.

    ``columns`` limits the lists to those columns, in that order.

    Arrow-backed string, integer, float and boolean columns are converted in one
    call each. Their nulls become the column's missing-value marker, as pandas
    iteration gives them. Every other column is iterated by pandas.
    """
    if frame.columns.is_unique:
        # Each column is looked up by name, because selecting the columns as a
        # frame first copies them, which cost more than converting a few rows.
        names = frame.columns if columns is None else columns
        selected = [frame[name] for name in names]
    else:
        if columns is not None:
            frame = frame[list(columns)]
        selected = [frame.iloc[:, position] for position in range(frame.shape[1])]
    return [column_values(column) for column in selected]


def column_values(column: pd.Series) -> list[Any]:
    """Return the values of one column, as iterating it gives them."""
    array = column.array
    arrow_type = getattr(array.dtype, "pyarrow_dtype", None)
    if isinstance(array, pd.arrays.ArrowExtensionArray) and (
        arrow_type is None or _converts_plainly(arrow_type)
    ):
        values = array.__arrow_array__()
        if not values.null_count:
            return values.to_pylist()  # type: ignore[no-any-return]
        missing = array.dtype.na_value
        return [missing if value is None else value for value in values.to_pylist()]
    return list(column)


def _converts_plainly(arrow_type: pa.DataType) -> bool:
    """Tell whether ``to_pylist`` gives the values pandas iteration gives."""
    return bool(
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_boolean(arrow_type)
    )
