"""Tests for extracting the prompts of added sign-in rows only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from h056hunt import schema
from h056hunt.detect.prompts import PromptExtractor, _digest, extract_prompts

USER_ID = "00000000-0000-4000-8000-000000000b0b"
OTHER_ID = "00000000-0000-4000-8000-000000000c0c"
DENIED = "MFA denied; user declined the authentication"
START = pd.Timestamp("2024-05-14T09:00:00Z")


def signin_row(number: int, **values: Any) -> dict[str, Any]:
    row = {
        "record_id": f"S{number}",
        "request_id": f"R{number}",
        "event_time": START + pd.Timedelta(minutes=number),
        "user_id": USER_ID,
        "user_upn": "bob@contoso.example",
        "signin_event_type": "interactiveUser",
        "error_code": 500121,
        "additional_details": DENIED,
        "source_file": "signins.json",
        "source_record": number,
    }
    row.update(values)
    return row


def step_row(record_id: str, index: int, **values: Any) -> dict[str, Any]:
    row = {
        "record_id": record_id,
        "step_index": index,
        "step_time": START + pd.Timedelta(seconds=30 * (index + 1)),
        "method": "Mobile app notification",
        "succeeded": False,
        "result_detail": DENIED,
        "source_file": "signins.json",
        "source_record": 1,
    }
    row.update(values)
    return row


def signins(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = schema.frame_from_rows(rows, schema.SIGNIN_SCHEMA)
    return frame.sort_values(["event_time", "record_id"]).reset_index(drop=True)


def steps(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = schema.frame_from_rows(rows, schema.STEP_SCHEMA)
    return frame.sort_values(["record_id", "step_index"]).reset_index(drop=True)


class CountingIndex:
    """A UPN index factory that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, str]:
        self.calls += 1
        return {}


def extract_twice(
    first: tuple[pd.DataFrame, pd.DataFrame],
    second: tuple[pd.DataFrame, pd.DataFrame],
) -> tuple[pd.DataFrame, int]:
    """Return the second call's prompts and how often the index was built."""
    extractor = PromptExtractor()
    index = CountingIndex()
    extractor.extract(*first, index)
    return extractor.extract(*second, index), index.calls


def test_added_rows_match_full_extraction() -> None:
    first_rows = [signin_row(number) for number in range(1, 5)]
    added_rows = [
        signin_row(5, error_code=0, additional_details="MFA successfully completed"),
        signin_row(6, user_id=OTHER_ID, error_code=50074),
    ]
    first_steps = [step_row("S1", 0), step_row("S1", 1)]
    added_steps = [step_row("S6", 0)]
    first = (signins(*first_rows), steps(*first_steps))
    second = (
        signins(*first_rows, *added_rows),
        steps(*first_steps, *added_steps),
    )

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 1


def test_changed_row_reads_all_again() -> None:
    first_rows = [signin_row(number) for number in range(1, 4)]
    changed = [signin_row(1, additional_details="MFA successfully completed")]
    first = (signins(*first_rows), steps())
    second = (signins(*changed, *first_rows[1:], signin_row(4)), steps())

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 2


def test_row_without_user_id_reads_all_again() -> None:
    first_rows = [signin_row(number) for number in range(1, 4)]
    added = signin_row(4, user_id=None)
    first = (signins(*first_rows), steps())
    second = (signins(*first_rows, added), steps())

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 2


def test_step_without_signin_reads_all_again() -> None:
    first_rows = [signin_row(number) for number in range(1, 4)]
    # A portal download keys its steps by request id; this one names S2's request.
    detached = step_row("R2", 0, source_file="authdetails.csv")
    first = (signins(*first_rows), steps())
    second = (signins(*first_rows, signin_row(4)), steps(detached))

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 2


def test_no_added_rows_same_prompts() -> None:
    rows = [signin_row(number) for number in range(1, 4)]
    data = (signins(*rows), steps(step_row("S1", 0)))

    prompts, index_calls = extract_twice(data, data)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*data, {}))
    assert index_calls == 1


def test_added_earlier_copy_replaces_prompt() -> None:
    # Both rows describe one challenge of request R1. The added row is earlier,
    # so it replaces the prompt of the first call.
    first_rows = [signin_row(2, request_id="R1"), signin_row(3)]
    added_rows = [signin_row(1, request_id="R1")]
    no_steps = steps()
    first = (signins(*first_rows), no_steps)
    second = (signins(*first_rows, *added_rows), no_steps)

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 1
    assert prompts["record_id"].tolist() == ["S1", "S3"]


def test_changed_step_reads_all_again() -> None:
    rows = [signin_row(number) for number in range(1, 4)]
    first = (signins(*rows), steps(step_row("S1", 0)))
    approved = step_row(
        "S1", 0, succeeded=True, result_detail="MFA successfully completed"
    )
    second = (signins(*rows, signin_row(4)), steps(approved))

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 2
    assert "approved" in prompts["outcome"].tolist()


def test_removed_row_reads_all_again() -> None:
    rows = [signin_row(number) for number in range(1, 5)]
    first = (signins(*rows), steps())
    second = (signins(*rows[1:], signin_row(5)), steps())

    prompts, index_calls = extract_twice(first, second)

    pd.testing.assert_frame_equal(prompts, extract_prompts(*second, {}))
    assert index_calls == 2


def test_digest_follows_values_not_buffers() -> None:
    rows = [
        signin_row(1, error_code=None, user_agent=None),
        signin_row(2, city="Zürich"),
        signin_row(3, event_time=None),
    ]
    frame = signins(*rows)
    # The same rows after other rows, so the columns are slices of other buffers.
    longer = signins(signin_row(0, city="Lyon"), *rows)
    every_row = np.ones(len(frame), dtype=bool)
    last_three = np.array([False, True, True, True])

    assert _digest(frame, every_row) == _digest(longer, last_three)
    assert _digest(frame, every_row) != _digest(longer, np.ones(4, dtype=bool))
    changed = signins(*rows[:2], signin_row(3, event_time=None, city="Lyon"))
    assert _digest(frame, every_row) != _digest(changed, every_row)
    # The first row with an error code where it had none.
    with_code = signins(signin_row(1, user_agent=None), *rows[1:])
    assert _digest(frame, every_row) != _digest(with_code, every_row)


def test_mixed_object_column_reads_all_again() -> None:
    rows = [signin_row(number) for number in range(1, 4)]
    first_frame = signins(*rows)
    # A column of Python objects of mixed types has no Arrow form to hash.
    first_frame["user_agent"] = pd.Series([1, "agent", 2.5], dtype=object)
    second_frame = signins(*rows, signin_row(4))
    second_frame["user_agent"] = pd.Series([1, "agent", 2.5, None], dtype=object)

    assert _digest(first_frame, np.ones(3, dtype=bool)) is None

    prompts, index_calls = extract_twice(
        (first_frame, steps()), (second_frame, steps())
    )

    pd.testing.assert_frame_equal(prompts, extract_prompts(second_frame, steps(), {}))
    assert index_calls == 2
