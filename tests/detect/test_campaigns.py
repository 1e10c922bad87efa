"""Tests for grouping one actor's revocations into campaigns."""

from __future__ import annotations

import pandas as pd

from h056hunt.detect.campaigns import actor_key, actor_keys, find_campaigns
from h056hunt.detect.chains import DetectionParams

T0 = pd.Timestamp("2024-05-14T09:00:00Z")
PARAMS = DetectionParams(
    campaign_min_targets=3, campaign_window=pd.Timedelta(minutes=10)
)


def actor_frame(rows: list[tuple[str | None, str | None, str | None]]) -> pd.DataFrame:
    columns = ("actor_id", "actor_upn", "actor_display_name")
    frame = pd.DataFrame(
        {
            column: pd.Series([row[position] for row in rows], dtype="string[pyarrow]")
            for position, column in enumerate(columns)
        }
    )
    return frame.set_axis([10 * number for number in range(len(rows))])


def revocation_frame(minutes: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "revocation_id": [f"R{number}" for number in range(len(minutes))],
            "revocation_time": [T0 + pd.Timedelta(minutes=m) for m in minutes],
            "user_key": [f"user{number}" for number in range(len(minutes))],
            "actor_id": "admin",
        }
    )


def test_actor_keys_match_actor_key_per_row() -> None:
    frame = actor_frame(
        [
            ("Admin-ID", "x@contoso.example", "X"),
            (None, "Straße@Contoso.example", None),
            ("", "", "Display Name"),
            (None, None, None),
            ("", None, ""),
            ("admin-id", None, None),
        ]
    )

    keys = actor_keys(frame)

    assert keys.tolist() == [actor_key(row) for _, row in frame.iterrows()]
    assert keys.tolist()[:4] == [
        "admin-id",
        "strasse@contoso.example",
        "display name",
        "none",
    ]
    assert keys.index.equals(frame.index)


def test_actor_keys_empty_frame() -> None:
    keys = actor_keys(actor_frame([]))

    assert keys.empty


def test_campaign_stops_at_gap_longer_than_window() -> None:
    # Three users within 10 minutes start a campaign at 0. The revocations at 15
    # and 24 each follow within the window, and 35 comes 11 minutes after 24.
    revocations = revocation_frame([0, 4, 8, 15, 24, 35, 40, 44])

    campaigns = find_campaigns(revocations, [], PARAMS)

    members = [campaign.revocations["revocation_id"].tolist() for campaign in campaigns]
    assert members == [["R0", "R1", "R2", "R3", "R4"], ["R5", "R6", "R7"]]


def test_campaign_runs_to_last_revocation() -> None:
    revocations = revocation_frame([0, 1, 2, 30, 31, 32, 33])

    campaigns = find_campaigns(revocations, [], PARAMS)

    assert [len(campaign.revocations) for campaign in campaigns] == [3, 4]
