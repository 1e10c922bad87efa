"""Tests for splitting the context rows of a hunt by user and actor key."""

from __future__ import annotations

import pandas as pd

from h056hunt.hunt import _grants_by_user, _split_by


def test_split_by_keeps_frame_order() -> None:
    frame = pd.DataFrame(
        {
            "_key": pd.Series(["b", "a", None, "b", "a"], dtype="string[pyarrow]"),
            "value": [1, 2, 3, 4, 5],
        }
    ).set_axis([50, 40, 30, 20, 10])

    groups = _split_by(frame, "_key")

    assert list(groups) == ["b", "a"]
    pd.testing.assert_frame_equal(groups["b"], frame[frame["_key"] == "b"])
    pd.testing.assert_frame_equal(groups["a"], frame[frame["_key"] == "a"])


def test_split_by_empty_frame() -> None:
    frame = pd.DataFrame({"_key": pd.Series([], dtype="string[pyarrow]")})

    assert _split_by(frame, "_key") == {}


def test_grants_by_user_lower_cases_ids() -> None:
    grants = pd.DataFrame(
        {
            "user_id": pd.Series(["ABC", "abc", None, "Def"], dtype="string[pyarrow]"),
            "record_id": ["S1", "S2", "S3", "S4"],
        }
    )

    groups = _grants_by_user(grants)

    assert sorted(groups) == ["abc", "def"]
    assert groups["abc"]["record_id"].tolist() == ["S1", "S2"]
    assert groups["def"]["record_id"].tolist() == ["S4"]


def test_split_by_many_keys() -> None:
    # A mass revocation makes thousands of keys; each must still get exactly its
    # own rows, in frame order, with the original index.
    keys = [f"user-{index % 5000}" for index in range(20_000)]
    frame = pd.DataFrame(
        {"_key": pd.Series(keys, dtype="string[pyarrow]"), "value": range(20_000)}
    ).set_axis(range(40_000, 0, -2))

    groups = _split_by(frame, "_key")

    assert len(groups) == 5000
    for key in ("user-0", "user-1234", "user-4999"):
        pd.testing.assert_frame_equal(groups[key], frame[frame["_key"] == key])
    assert groups.get("user-5000", frame.iloc[0:0]).empty
