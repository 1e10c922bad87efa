"""Quick paths of the detection phase against the plain computations they skip."""

from __future__ import annotations

import random

import pandas as pd

from h056hunt import schema
from h056hunt.coverage import _maybe_uncovered, _uncovered
from h056hunt.detect.chains import _rows
from h056hunt.detect.keyed_rows import RowsByKey
from h056hunt.detect.revocations import find_revocations

DAY = pd.Timestamp("2026-03-02", tz="UTC")


def test_revocations_without_any_target_are_dropped() -> None:
    rows = [
        {
            "record_id": f"A{number}",
            "event_time": DAY + pd.Timedelta(minutes=number),
            "activity": "Revoke user sessions",
            "result": "success",
            "actor_type": "user",
            "actor_id": "00000000-0000-4000-8000-00000000ad01",
            "source_file": "audit.json",
        }
        for number in range(3)
    ]
    audit = schema.frame_from_rows(rows, schema.AUDIT_SCHEMA)

    revocations, near_misses = find_revocations(audit)

    assert len(revocations) == 0
    assert len(near_misses) == 0


def test_covered_windows_have_no_holes() -> None:
    generator = random.Random(7)
    max_lag = pd.Timedelta(minutes=30)
    for _ in range(200):
        ranges = []
        for _ in range(generator.randint(1, 6)):
            start = DAY + pd.Timedelta(minutes=generator.randint(0, 600))
            ranges.append(
                (start, start + pd.Timedelta(minutes=generator.randint(0, 90)))
            )
        ranges.sort()
        reach = []
        for _, end in ranges:
            reach.append(max(end, reach[-1]) if reach else end)
        times = [
            DAY + pd.Timedelta(minutes=generator.randint(-60, 700)) for _ in range(50)
        ]
        admin = pd.DataFrame(
            {"revocation_time": pd.Series(times, dtype="datetime64[ns, UTC]")}
        )

        checked = set(_maybe_uncovered(admin, ranges, reach, max_lag).tolist())

        for position, start in enumerate(times):
            if position in checked:
                continue
            assert _uncovered(ranges, start, start + max_lag) == []


def test_revocations_with_missing_time_are_checked() -> None:
    ranges = [(DAY, DAY + pd.Timedelta(hours=5))]
    admin = pd.DataFrame(
        {
            "revocation_time": pd.Series(
                [DAY + pd.Timedelta(hours=1), pd.NaT], dtype="datetime64[ns, UTC]"
            )
        }
    )

    checked = _maybe_uncovered(admin, ranges, [ranges[0][1]], pd.Timedelta(hours=2))

    assert checked.tolist() == [1]


def test_columns_of_matches_iteration() -> None:
    frame = pd.DataFrame(
        {
            "text": pd.array(["a", None, "c"], dtype="string[pyarrow]"),
            "number": pd.array([1, None, 3], dtype="int64[pyarrow]"),
            "time": pd.Series(
                [DAY, pd.NaT, DAY + pd.Timedelta(seconds=1)],
                dtype="datetime64[ns, UTC]",
            ),
        }
    )

    columns = schema.columns_of(frame, ["time", "text", "number"])

    assert columns[0] == list(frame["time"])
    assert columns[1][0] == "a"
    assert columns[1][1] is pd.NA
    assert columns[2] == [1, pd.NA, 3]
    assert [tuple(row) for row in schema.rows_of(frame)] == list(
        frame.itertuples(index=False)
    )


def revocation_frame() -> pd.DataFrame:
    """Build revocations with missing actors, lines and UPN-keyed targets."""
    rows = []
    for number in range(6):
        rows.append(
            {
                "record_id": f"A{number}",
                "event_time": DAY + pd.Timedelta(minutes=number),
                "activity": "Revoke user sessions",
                "result": "success",
                "actor_type": "user",
                "actor_id": None
                if number % 2
                else "00000000-0000-4000-8000-0000000000ad",
                "target_id": None
                if number == 3
                else f"00000000-0000-4000-8000-{number:012d}",
                "target_upn": f"user{number % 4}@contoso.example",
                "source_file": "audit.json",
                "source_line": None if number == 4 else number,
            }
        )
    audit = schema.frame_from_rows(rows, schema.AUDIT_SCHEMA)
    revocations, _ = find_revocations(audit)
    return revocations


def test_rows_match_iterrows() -> None:
    revocations = revocation_frame()

    rows = list(_rows(revocations))

    expected = [row for _, row in revocations.iterrows()]
    # iterrows gives an Arrow list value as a NumPy array, where iterating the
    # column gives a list.
    for want in expected:
        want["related_record_ids"] = want["related_record_ids"].tolist()
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        pd.testing.assert_series_equal(row, want, check_exact=True)
        assert [type(value) for value in row] == [type(value) for value in want]


def test_rows_by_key_matches_groupby() -> None:
    frame = pd.DataFrame(
        {
            "user_key": pd.array(["b", "a", None, "b", "c", "a"], dtype="string"),
            "value": range(6),
        },
        index=[10, 11, 12, 13, 14, 15],
    )

    for sort in (True, False):
        split = list(RowsByKey(frame, frame["user_key"], sort=sort).items())

        expected = list(frame.groupby("user_key", sort=sort))
        assert [key for key, _ in split] == [key for key, _ in expected]
        for (_, rows), (_, want) in zip(split, expected, strict=True):
            pd.testing.assert_frame_equal(rows, want)
