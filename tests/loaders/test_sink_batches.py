"""Tests that rows converted to Arrow in batches build the same frames as one batch."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from h056hunt.load import LoadedData, load_logs
from h056hunt.loaders import sink

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"
DENIED = "MFA denied; user declined the authentication"


def audit(index: int, when: str | None) -> dict[str, Any]:
    return {
        "id": f"A{index}",
        "activityDateTime": when,
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "category": "UserManagement",
        "result": "success",
        "correlationId": f"c-{index}",
        "initiatedBy": {
            "user": {
                "id": "00000000-0000-4000-8000-0000000000aa",
                "userPrincipalName": "Admin@Contoso.example",
            }
        },
        "targetResources": [
            {
                "id": f"00000000-0000-4000-8000-{index:012d}",
                "type": "User",
                "userPrincipalName": f"Guest{index}_Fabrikam.com#EXT#@Contoso.example",
            }
        ],
    }


def signin(index: int, when: str | None) -> dict[str, Any]:
    return {
        "id": f"S{index}",
        "createdDateTime": when,
        "userId": f"00000000-0000-4000-8000-{index:012d}",
        "userPrincipalName": f"User{index}@Contoso.example",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
        "authenticationDetails": [
            {
                "authenticationStepDateTime": when if index % 3 else "not a time",
                "authenticationMethod": "Mobile app notification",
                "succeeded": False,
                "authenticationStepResultDetail": DENIED,
            }
        ],
    }


def times(count: int) -> list[str | None]:
    """Return event times with a missing and an unreadable one among them."""
    values: list[str | None] = [
        f"2025-02-03T10:{minute:02d}:00.1234567Z" for minute in range(count)
    ]
    values[2] = None
    values[5] = "yesterday"
    return values


def load_files(tmp_path: Path) -> LoadedData:
    audit_path = tmp_path / "audit.json"
    audit_path.write_text(
        json.dumps({"value": [audit(i, when) for i, when in enumerate(times(11))]})
    )
    signin_path = tmp_path / "signin.json"
    signin_path.write_text(
        json.dumps({"value": [signin(i, when) for i, when in enumerate(times(11))]})
    )
    return load_logs(
        [str(audit_path), str(SAMPLE_LOGS / "audit.json")],
        [str(signin_path), str(SAMPLE_LOGS / "signin.json")],
    )


def test_small_batches_same_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = load_files(tmp_path)
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    batched = load_files(tmp_path)

    pd.testing.assert_frame_equal(batched.audit, whole.audit)
    pd.testing.assert_frame_equal(batched.signin, whole.signin)
    pd.testing.assert_frame_equal(batched.steps, whole.steps)


def test_small_batches_same_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    data = load_files(tmp_path)

    reports = {Path(report.path): report for report in data.files}
    expected = Counter({"missing timestamp": 1, "invalid timestamp": 1})
    assert reports[tmp_path / "audit.json"].skipped == expected
    assert reports[tmp_path / "signin.json"].skipped == expected


def test_small_batches_lower_upns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    data = load_files(tmp_path)

    mine = data.audit[data.audit["record_id"].str.fullmatch(r"A\d+")]
    assert len(mine) == 9
    assert set(mine["actor_upn"]) == {"admin@contoso.example"}
    assert mine["target_upn"].str.endswith("#EXT#@contoso.example").all()
    users = data.signin[data.signin["record_id"].str.fullmatch(r"S\d+")]
    assert users["user_upn"].str.fullmatch(r"user\d+@contoso\.example").all()


def test_unreadable_step_time_kept_as_null(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink, "ROW_BATCH", 3)
    data = load_files(tmp_path)

    steps = data.steps[data.steps["record_id"].str.fullmatch(r"S\d+")]
    # Sign-ins 2 and 5 are skipped for their times, and with them their steps.
    # The steps of sign-ins 0, 3, 6 and 9 have a time that cannot be read.
    assert len(steps) == 9
    assert steps["step_time"].isna().sum() == 4
