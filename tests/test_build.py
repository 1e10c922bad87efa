"""Tests for turning a campaign's revocations into a finding."""

from __future__ import annotations

import pandas as pd

from h056hunt.build import build_campaign_finding
from h056hunt.detect.chains import DetectionParams

TEXT = "string[pyarrow]"
T0 = pd.Timestamp("2024-05-14T09:00:00Z")


def campaign_revocations() -> pd.DataFrame:
    times = [T0, T0 + pd.Timedelta("90s"), T0 + pd.Timedelta("120.25s")]
    return pd.DataFrame(
        {
            "revocation_id": ["R1", "R2", "R3"],
            "revocation_time": pd.Series(times),
            "target_id": pd.Series(["u1", "u2", None], dtype=TEXT),
            "target_upn": pd.Series(["a@contoso.example", None, ""], dtype=TEXT),
            "activity": pd.Series(["Revoke sessions"] * 3, dtype=TEXT),
            "actor_type": pd.Series(["user"] * 3, dtype=TEXT),
            "actor_id": pd.Series(["admin"] * 3, dtype=TEXT),
            "actor_upn": pd.Series(["admin@contoso.example"] * 3, dtype=TEXT),
            "actor_display_name": pd.Series([None] * 3, dtype=TEXT),
            "actor_ip": pd.Series(["203.0.113.9", None, ""], dtype=TEXT),
            "actor_app_id": pd.Series([None] * 3, dtype=TEXT),
            "actor_service_principal_id": pd.Series([None] * 3, dtype=TEXT),
            "source_file": pd.Series(["audit.json"] * 3, dtype=TEXT),
            "source_line": pd.Series([4, None, 6], dtype="int64[pyarrow]"),
            "source_record": pd.Series([1, 2, None], dtype="int64[pyarrow]"),
        }
    )


def test_campaign_targets_fill_missing_fields() -> None:
    finding = build_campaign_finding(campaign_revocations(), [], {}, DetectionParams())

    targets = finding.extra["targets"]
    assert [target["user_id"] for target in targets] == ["u1", "u2", None]
    assert [target["upn"] for target in targets] == ["a@contoso.example", None, None]
    assert [target["revocation_time"] for target in targets] == [
        "2024-05-14T09:00:00Z",
        "2024-05-14T09:01:30Z",
        "2024-05-14T09:02:00.25Z",
    ]
    assert not any(target["bombed"] for target in targets)


def test_campaign_evidence_and_timeline_rows() -> None:
    finding = build_campaign_finding(campaign_revocations(), [], {}, DetectionParams())

    assert [item.line for item in finding.evidence] == [4, None, 6]
    assert [item.record for item in finding.evidence] == [1, 2, None]
    assert [event.description for event in finding.timeline] == [
        "sessions of a@contoso.example revoked",
        "sessions of u2 revoked",
        "sessions of None revoked",
    ]
    assert [event.ip_address for event in finding.timeline] == [
        "203.0.113.9",
        None,
        None,
    ]
    assert finding.revocation_time == T0
