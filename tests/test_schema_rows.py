"""Tests for building canonical frames from row dicts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from h056hunt.schema import AUDIT_SCHEMA, SIGNIN_SCHEMA, frame_from_rows


def test_rows_missing_keys_are_null() -> None:
    frame = frame_from_rows(
        [{"record_id": "a", "error_code": 500121}, {"record_id": "b"}], SIGNIN_SCHEMA
    )

    assert list(frame.columns) == SIGNIN_SCHEMA.names
    assert frame["record_id"].tolist() == ["a", "b"]
    assert frame["error_code"].iloc[0] == 500121
    assert frame["error_code"].isna().iloc[1]
    assert frame["user_upn"].isna().all()


def test_rows_unknown_keys_ignored() -> None:
    frame = frame_from_rows([{"record_id": "a", "not_a_field": "x"}], AUDIT_SCHEMA)

    assert "not_a_field" not in frame.columns
    assert frame["record_id"].tolist() == ["a"]


def test_rows_prepared_column_wins() -> None:
    times = pa.array(["2026-03-02T10:00:00Z"], type=pa.string())
    frame = frame_from_rows(
        [{"record_id": "a", "event_time": "ignored"}],
        pa.schema([("record_id", pa.string()), ("event_time", pa.string())]),
        {"event_time": times},
    )

    assert frame["event_time"].tolist() == ["2026-03-02T10:00:00Z"]


def test_no_rows_empty_frame() -> None:
    frame = frame_from_rows([], SIGNIN_SCHEMA)

    assert frame.empty
    assert list(frame.columns) == SIGNIN_SCHEMA.names


def test_rows_wrong_type_raises() -> None:
    with pytest.raises(pa.ArrowException):
        frame_from_rows([{"error_code": "not a number"}], SIGNIN_SCHEMA)
