"""Tests for turning sign-in rows and steps into MFA prompts with outcomes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from h056hunt import schema
from h056hunt.detect.prompts import (
    APPROVED,
    DECLINED,
    FRAUD,
    INTERRUPT,
    OTHER_DENIAL,
    UNANSWERED,
    WRONG_NUMBER,
    classify_detail,
    extract_prompts,
)

USER_ID = "00000000-0000-4000-8000-000000000b0b"
DENIED = "MFA denied; user declined the authentication"
PUSH = "Mobile app notification"
START = pd.Timestamp("2024-05-14T09:00:00Z")


def signin_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    full = []
    for number, row in enumerate(rows, start=1):
        values = {
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
        values.update(row)
        full.append(values)
    return schema.frame_from_rows(full, schema.SIGNIN_SCHEMA)


def step_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    full = []
    for index, row in enumerate(rows):
        values = {
            "record_id": "S1",
            "step_index": index,
            "step_time": START + pd.Timedelta(seconds=30 * (index + 1)),
            "method": PUSH,
            "succeeded": False,
            "result_detail": DENIED,
            "source_file": "signins.json",
            "source_record": 1,
        }
        values.update(row)
        full.append(values)
    return schema.frame_from_rows(full, schema.STEP_SCHEMA)


NO_STEPS = schema.empty_frame(schema.STEP_SCHEMA)


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("MFA denied; user declined the authentication", DECLINED),
        ("MFA Denied; User declined the authentication. ", DECLINED),
        ("MFA denied; user did not respond to mobile app notification", UNANSWERED),
        ("MFA denied; user never entered the verification code", UNANSWERED),
        ("MFA denied; Phone App Reported Fraud", FRAUD),
        ("MFA denied; user reported fraud", FRAUD),
        ("MFA denied; user did not select the correct number", WRONG_NUMBER),
        ("MFA denied; duplicate authentication attempt", OTHER_DENIAL),
        ("MFA denied; something new", OTHER_DENIAL),
        ("Azure Multi-Factor Authentication denied; declined", DECLINED),
        ("MFA successfully completed", APPROVED),
        ("MFA completed in Azure AD", APPROVED),
        ("MFA required in Azure AD", None),
        ("Correct password", None),
        (None, None),
    ],
)
def test_classify_detail(detail: str | None, expected: str | None) -> None:
    assert classify_detail(detail) == expected


def test_status_denials_per_outcome() -> None:
    details = [
        "MFA denied; user declined the authentication",
        "MFA denied; user did not respond to mobile app notification",
        "MFA denied; Phone App Reported Fraud",
        "MFA denied; user did not select the correct number",
        "MFA denied; duplicate authentication attempt",
    ]
    signin = signin_frame(*({"additional_details": text} for text in details))

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [
        DECLINED,
        UNANSWERED,
        FRAUD,
        WRONG_NUMBER,
        OTHER_DENIAL,
    ]


def test_unknown_denial_keeps_text() -> None:
    signin = signin_frame({"additional_details": "MFA denied; something new"})

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [OTHER_DENIAL]
    assert prompts["detail"].tolist() == ["MFA denied; something new"]


def test_mfa_failure_without_detail() -> None:
    signin = signin_frame({"additional_details": None})

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [OTHER_DENIAL]


@pytest.mark.parametrize("code", [50074, 50076])
def test_interrupt_codes(code: int) -> None:
    signin = signin_frame(
        {"error_code": code, "additional_details": "MFA required in Azure AD"}
    )

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [INTERRUPT]


def test_session_expiry_is_interrupt() -> None:
    signin = signin_frame({"error_code": 70044, "additional_details": None})

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [INTERRUPT]


def test_other_failure_codes_ignored() -> None:
    signin = signin_frame(
        {"error_code": 50140, "additional_details": None},
        {"error_code": 0, "additional_details": "MFA requirement satisfied by claim"},
    )

    assert extract_prompts(signin, NO_STEPS).empty


def test_status_approval() -> None:
    signin = signin_frame(
        {"error_code": 0, "additional_details": "MFA completed in Azure AD"}
    )

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [APPROVED]


def test_same_request_denials_collapse() -> None:
    signin = signin_frame({"request_id": "R1"}, {"request_id": "R1"})

    prompts = extract_prompts(signin, NO_STEPS)

    assert len(prompts) == 1
    assert prompts["record_id"].tolist() == ["S1"]


# One request id as a Graph export and an export that writes GUIDs in upper case
# give it. A GUID names the same value in either case.
REQUEST_ID = "3f6c2a9e-41d7-4b0a-9c55-8e2d7b1a0c4f"


def test_request_id_case_collapses() -> None:
    signin = signin_frame(
        {"request_id": REQUEST_ID}, {"request_id": REQUEST_ID.upper()}
    )

    prompts = extract_prompts(signin, NO_STEPS)

    assert len(prompts) == 1
    assert prompts["record_id"].tolist() == ["S1"]


def test_correlation_id_case_collapses() -> None:
    same_time = START + pd.Timedelta(minutes=5)
    signin = signin_frame(
        {"request_id": None, "correlation_id": "C0FFEE", "event_time": same_time},
        {"request_id": None, "correlation_id": "c0ffee", "event_time": same_time},
    )

    prompts = extract_prompts(signin, NO_STEPS)

    assert len(prompts) == 1


def test_interrupt_and_denial_same_request() -> None:
    signin = signin_frame(
        {"request_id": "R1", "error_code": 50074, "additional_details": None},
        {"request_id": "R1"},
    )

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["outcome"].tolist() == [INTERRUPT, DECLINED]


def test_request_key_fallback_correlation_time() -> None:
    same_time = START + pd.Timedelta(minutes=5)
    signin = signin_frame(
        {"request_id": None, "correlation_id": "c1", "event_time": same_time},
        {"request_id": None, "correlation_id": "c1", "event_time": same_time},
        {"request_id": None, "correlation_id": "c1"},
    )

    prompts = extract_prompts(signin, NO_STEPS)

    assert len(prompts) == 2


def test_service_principal_never_prompts() -> None:
    signin = signin_frame(
        {"signin_event_type": "servicePrincipal"},
        {"signin_event_type": "managedIdentity"},
        {"signin_event_type": "ServicePrincipal"},
    )

    assert extract_prompts(signin, NO_STEPS).empty


def test_non_interactive_user_prompts() -> None:
    signin = signin_frame({"signin_event_type": "nonInteractiveUser"})

    assert len(extract_prompts(signin, NO_STEPS)) == 1


def test_steps_win_over_status() -> None:
    signin = signin_frame({"error_code": 500121})
    steps = step_frame({})

    prompts = extract_prompts(signin, steps)

    assert len(prompts) == 1
    assert prompts["from_step"].tolist() == [True]
    assert prompts["prompt_time"].tolist() == [START + pd.Timedelta(seconds=30)]


def test_steps_each_become_prompt() -> None:
    signin = signin_frame({"error_code": 50140, "additional_details": None})
    steps = step_frame(
        {"method": "Password", "succeeded": True, "result_detail": "Correct password"},
        {},
        {},
        {},
        {"succeeded": True, "result_detail": "MFA successfully completed"},
    )

    prompts = extract_prompts(signin, steps)

    assert prompts["outcome"].tolist() == [DECLINED, DECLINED, DECLINED, APPROVED]


def test_approval_step_time() -> None:
    signin = signin_frame({"error_code": 0, "additional_details": None})
    approval_time = START + pd.Timedelta(minutes=3)
    steps = step_frame(
        {
            "succeeded": True,
            "result_detail": "MFA successfully completed",
            "step_time": approval_time,
        }
    )

    prompts = extract_prompts(signin, steps)

    assert prompts["outcome"].tolist() == [APPROVED]
    assert prompts["prompt_time"].tolist() == [approval_time]


def test_failed_approval_step_ignored() -> None:
    signin = signin_frame({"error_code": 0, "additional_details": None})
    steps = step_frame(
        {"succeeded": False, "result_detail": "MFA successfully completed"}
    )

    assert extract_prompts(signin, steps).empty


def test_succeeded_denial_step_ignored() -> None:
    signin = signin_frame({"error_code": 0, "additional_details": None})
    steps = step_frame({"succeeded": True})

    assert extract_prompts(signin, steps).empty


@pytest.mark.parametrize(
    ("first", "second"), [("R1", "R1"), (REQUEST_ID, REQUEST_ID.upper())]
)
def test_duplicate_steps_collapse(first: str, second: str) -> None:
    # Two copies of one sign-in (say interactive and Log Analytics) share a request,
    # whose id may be written in either case.
    signin = signin_frame({"request_id": first}, {"request_id": second})
    step_time = START + pd.Timedelta(seconds=30)
    steps = step_frame(
        {"record_id": "S1", "step_time": step_time},
        {"record_id": "S2", "step_time": step_time, "source_record": 2},
    )

    prompts = extract_prompts(signin, steps)

    assert len(prompts) == 1


def test_step_without_time_uses_event_time() -> None:
    signin = signin_frame({})
    steps = step_frame({"step_time": None})

    prompts = extract_prompts(signin, steps)

    assert prompts["prompt_time"].tolist() == [START + pd.Timedelta(minutes=1)]


def test_user_key_is_object_id() -> None:
    signin = signin_frame({"user_id": USER_ID.upper()})

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["user_key"].tolist() == [USER_ID]
    assert prompts["upn_fallback"].tolist() == [False]


def test_user_key_upn_fallback() -> None:
    signin = signin_frame({"user_id": None, "user_upn": "Bob@Contoso.example"})

    prompts = extract_prompts(signin, NO_STEPS)

    assert prompts["user_key"].tolist() == ["upn:bob@contoso.example"]
    assert prompts["upn_fallback"].tolist() == [True]


def test_no_signins() -> None:
    empty = schema.empty_frame(schema.SIGNIN_SCHEMA)

    assert extract_prompts(empty, NO_STEPS).empty


@pytest.mark.parametrize("missing", ["step_time", "method"])
def test_steps_missing_field_stay_apart(missing: str) -> None:
    # Three requests, each with one denied step that lacks the field: three prompts.
    signin = signin_frame({}, {}, {})
    steps = step_frame(
        *({"record_id": f"S{number}", missing: None} for number in (1, 2, 3))
    )

    prompts = extract_prompts(signin, steps)

    assert len(prompts) == 3
    assert sorted(prompts["record_id"]) == ["S1", "S2", "S3"]


def test_repeated_step_without_time_collapses() -> None:
    # Two copies of one request's step, both without a time, are one prompt.
    signin = signin_frame({"request_id": "R1"}, {"request_id": "R1"})
    steps = step_frame(
        {"record_id": "S1", "step_time": None, "step_index": 0},
        {"record_id": "S2", "step_time": None, "step_index": 0, "source_record": 2},
    )

    prompts = extract_prompts(signin, steps)

    assert len(prompts) == 1


def test_steps_without_time_in_one_signin_stay_apart() -> None:
    # One sign-in with three denied pushes whose steps lack times: three prompts.
    signin = signin_frame({})
    steps = step_frame({"step_time": None}, {"step_time": None}, {"step_time": None})

    prompts = extract_prompts(signin, steps)

    assert len(prompts) == 3
