"""Tests for joining revocations to later prompt bursts of the same user."""

from __future__ import annotations

from typing import Any

import pandas as pd

from h056hunt import schema
from h056hunt.detect.chains import (
    DetectionParams,
    Match,
    _strictly_increasing,
    detect_all,
)
from h056hunt.detect.prompts import extract_prompts
from h056hunt.detect.revocations import find_revocations

USER_ID = "00000000-0000-4000-8000-000000000b0b"
OTHER_ID = "00000000-0000-4000-8000-000000000c0c"
ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"
DENIED = "MFA denied; user declined the authentication"
T0 = pd.Timestamp("2024-05-14T09:00:00Z")
NS = pd.Timedelta(1, "ns")
PARAMS = DetectionParams(
    max_lag=pd.Timedelta(minutes=60),
    burst_window=pd.Timedelta(minutes=10),
    min_denials=3,
)


def at(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


def audit_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    full = []
    for number, row in enumerate(rows, start=1):
        values = {
            "record_id": f"A{number}",
            "event_time": T0,
            "activity": "Update StsRefreshTokenValidFrom Timestamp",
            "result": "success",
            "actor_type": "user",
            "actor_id": ADMIN_ID,
            "actor_upn": "secadmin@contoso.example",
            "target_type": "User",
            "target_id": USER_ID,
            "target_upn": "bob@contoso.example",
            "source_file": "audit.json",
            "source_record": number,
        }
        values.update(row)
        full.append(values)
    return schema.frame_from_rows(full, schema.AUDIT_SCHEMA)


def signin_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    full = []
    for number, row in enumerate(rows, start=1):
        values = {
            "record_id": f"S{number:03d}",
            "request_id": f"R{number:03d}",
            "user_id": USER_ID,
            "user_upn": "bob@contoso.example",
            "error_code": 500121,
            "additional_details": DENIED,
            "ip_address": "203.0.113.5",
            "source_file": "signins.json",
            "source_record": number,
        }
        values.update(row)
        full.append(values)
    return schema.frame_from_rows(full, schema.SIGNIN_SCHEMA)


def denials_at(*times: pd.Timestamp) -> list[dict[str, Any]]:
    return [{"event_time": time} for time in times]


def detect(
    audit_rows: list[dict[str, Any]],
    signin_rows: list[dict[str, Any]],
    params: DetectionParams = PARAMS,
) -> list[Match]:
    audit = (
        audit_frame(*audit_rows)
        if audit_rows
        else schema.empty_frame(schema.AUDIT_SCHEMA)
    )
    revocations, _ = find_revocations(audit, params.revocation_activities)
    prompts = extract_prompts(
        signin_frame(*signin_rows), schema.empty_frame(schema.STEP_SCHEMA)
    )
    return detect_all(revocations, prompts, params)


def chains(matches: list[Match]) -> list[Match]:
    return [match for match in matches if match.revocation is not None]


def standalone(matches: list[Match]) -> list[Match]:
    return [match for match in matches if match.revocation is None]


def test_chain_after_revocation() -> None:
    matches = detect([{}], denials_at(at(3), at(4), at(5)))

    assert len(matches) == 1
    assert matches[0].revocation is not None
    assert matches[0].revocation["revocation_id"] == "A1"
    assert len(matches[0].denials) == 3


def test_denials_exactly_window_apart() -> None:
    matches = detect([{}], denials_at(at(1), at(6), at(11)))

    assert len(chains(matches)) == 1


def test_denials_one_nanosecond_past_window() -> None:
    matches = detect([{}], denials_at(at(1), at(6), at(11) + NS))

    assert matches == []


def test_equal_timestamps_count() -> None:
    matches = detect([{}], denials_at(at(2), at(2), at(2)))

    assert len(chains(matches)) == 1
    assert len(chains(matches)[0].denials) == 3


def test_burst_across_ten_minute_boundary() -> None:
    matches = detect([{}], denials_at(at(18), at(19), at(21)))

    assert len(chains(matches)) == 1


def test_denial_at_revocation_time_not_after() -> None:
    matches = detect([{}], denials_at(at(0), at(1), at(2)))

    assert chains(matches) == []
    assert len(standalone(matches)) == 1


def test_burst_at_max_lag_counts() -> None:
    matches = detect([{}], denials_at(at(60), at(61), at(62)))

    assert len(chains(matches)) == 1


def test_burst_past_max_lag_standalone() -> None:
    matches = detect([{}], denials_at(at(60) + NS, at(61), at(62)))

    assert chains(matches) == []
    assert len(standalone(matches)) == 1


def test_burst_before_revocation_standalone() -> None:
    matches = detect([{"event_time": at(30)}], denials_at(at(1), at(2), at(3)))

    assert chains(matches) == []
    assert len(standalone(matches)) == 1


def test_self_revocation_gives_push_bombing() -> None:
    self_revoked = {"actor_id": USER_ID, "actor_upn": "bob@contoso.example"}

    matches = detect([self_revoked], denials_at(at(3), at(4), at(5)))

    assert chains(matches) == []
    assert len(standalone(matches)) == 1


def test_chain_only_hides_push_bombing() -> None:
    params = DetectionParams(
        max_lag=PARAMS.max_lag,
        burst_window=PARAMS.burst_window,
        min_denials=3,
        chain_only=True,
    )

    matches = detect([], denials_at(at(3), at(4), at(5)), params)

    assert matches == []


def test_chain_only_keeps_chain() -> None:
    params = DetectionParams(
        max_lag=PARAMS.max_lag,
        burst_window=PARAMS.burst_window,
        min_denials=3,
        chain_only=True,
    )

    matches = detect([{}], denials_at(at(3), at(4), at(5)), params)

    assert len(chains(matches)) == 1


def test_two_revocations_one_burst() -> None:
    audit_rows = [
        {"event_time": at(0), "correlation_id": "c1"},
        {"event_time": at(10), "correlation_id": "c2"},
    ]

    matches = detect(audit_rows, denials_at(at(12), at(13), at(14)))

    assert len(matches) == 1
    assert matches[0].revocation is not None
    assert matches[0].revocation["revocation_id"] == "A2"
    assert matches[0].other_revocations == ["A1"]


def test_revocation_of_other_user_ignored() -> None:
    matches = detect([{"target_id": OTHER_ID}], denials_at(at(3), at(4), at(5)))

    assert chains(matches) == []
    assert len(standalone(matches)) == 1


def test_users_not_mixed() -> None:
    rows = denials_at(at(3), at(4)) + [{"event_time": at(5), "user_id": OTHER_ID}]

    assert detect([{}], rows) == []


def test_approval_after_burst_attached() -> None:
    rows = denials_at(at(3), at(4), at(5)) + [
        {
            "event_time": at(7),
            "error_code": 0,
            "additional_details": "MFA completed in Azure AD",
        }
    ]

    matches = detect([{}], rows)

    assert matches[0].approval is not None
    assert matches[0].approval["prompt_time"] == at(7)
    assert len(matches[0].prompts) == 4


def test_late_approval_not_attached() -> None:
    rows = denials_at(at(3), at(4), at(5)) + [
        {
            "event_time": at(16),
            "error_code": 0,
            "additional_details": "MFA completed in Azure AD",
        }
    ]

    matches = detect([{}], rows)

    assert matches[0].approval is None


def test_peak_denials_reported() -> None:
    matches = detect([{}], denials_at(at(3), at(4), at(5), at(6), at(7)))

    assert matches[0].peak_denials == 5


def test_strictly_increasing_times() -> None:
    times = pd.Series([at(0), at(1), at(2)])

    assert _strictly_increasing(times)
    assert _strictly_increasing(times.iloc[:0])
    assert not _strictly_increasing(pd.Series([at(0), at(0), at(2)]))
    assert not _strictly_increasing(pd.Series([at(1), at(0)]))
    assert not _strictly_increasing(pd.Series([at(0), pd.NaT]))


def test_unsorted_prompts_sorted_by_time_and_id() -> None:
    times = [("S3", 2), ("S2", 1), ("S1", 1), ("S0", 3)]
    signins = signin_frame(
        *(
            {"record_id": record_id, "event_time": at(minutes)}
            for record_id, minutes in times
        )
    )
    prompts = extract_prompts(signins, schema.empty_frame(schema.STEP_SCHEMA))
    revocations, _ = find_revocations(
        schema.empty_frame(schema.AUDIT_SCHEMA), PARAMS.revocation_activities
    )

    matches = detect_all(revocations, prompts.iloc[::-1], PARAMS)

    assert [match.prompts["record_id"].tolist() for match in matches] == [
        ["S1", "S2", "S3", "S0"]
    ]
