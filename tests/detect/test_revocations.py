"""Tests for recognising session revocations in the audit frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from arrow_buffers import assert_shares_buffers
from h056hunt import row_runs, schema
from h056hunt.detect.revocations import (
    DEFAULT_REVOCATION_ACTIVITIES,
    _take_rows,
    find_revocations,
    normalise_activity,
)

TARGET_ID = "00000000-0000-4000-8000-000000000701"
ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"


def audit_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    defaults = {
        "event_time": pd.Timestamp("2021-05-17T09:00:00Z"),
        "activity": "Update StsRefreshTokenValidFrom Timestamp",
        "result": "success",
        "actor_type": "user",
        "actor_id": ADMIN_ID,
        "actor_upn": "secadmin@contoso.example",
        "target_type": "User",
        "target_id": TARGET_ID,
        "target_upn": "tom@contoso.example",
        "source_file": "audit.json",
    }
    full = []
    for number, row in enumerate(rows, start=1):
        values = {**defaults, "record_id": f"A{number}", "source_record": number}
        values.update(row)
        full.append(values)
    return schema.frame_from_rows(full, schema.AUDIT_SCHEMA)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "INVALIDATE ALL REFRESH TOKENS FOR USER ",
            "invalidate all refresh tokens for user",
        ),
        (
            "Invalidate all refresh tokens for a user",
            "invalidate all refresh tokens for user",
        ),
        (
            "Update StsRefreshTokenValidFrom Timestamp.",
            "update stsrefreshtokenvalidfrom timestamp",
        ),
        ("  Revoke   user\tsessions  ", "revoke user sessions"),
        ("Revoke the sign-in sessions", "revoke sign in sessions"),
        # Fullwidth letters and a fullwidth space, as East Asian tools write them.
        (
            "\uff32\uff45\uff56\uff4f\uff4b\uff45\u3000user sessions",
            "revoke user sessions",
        ),
        # MATHEMATICAL BOLD CAPITAL R, which NFKC turns into "R" and casefold into "r".
        ("\U0001d411evoke user sessions", "revoke user sessions"),
        # CYRILLIC SMALL LETTER IE for the "e": a look-alike that NFKC keeps.
        ("R\u0435voke user sessions", "r voke user sessions"),
    ],
)
def test_normalise_activity(name: str, expected: str) -> None:
    assert normalise_activity(name) == expected


@pytest.mark.parametrize(
    "activity",
    [
        "Update StsRefreshTokenValidFrom Timestamp",
        "update stsrefreshtokenvalidfrom timestamp",
        "Update StsRefreshTokenValidFrom Timestamp.",
        "INVALIDATE ALL REFRESH TOKENS FOR USER ",
        "Invalidate all refresh tokens for a user",
        "Invalidate all refresh tokens for the user",
        "Revoke user sessions",
        "revoke  sign-in sessions",
        "\uff35\uff50\uff44\uff41\uff54\uff45 StsRefreshTokenValidFrom Timestamp",
        "\uff35\uff30\uff24\uff21\uff34\uff25 StsRefreshTokenValidFrom Timestamp",
    ],
)
def test_name_variants_recognised(activity: str) -> None:
    revocations, _ = find_revocations(audit_frame({"activity": activity}))

    assert len(revocations) == 1


def test_revocation_columns() -> None:
    revocations, _ = find_revocations(audit_frame({}))

    row = revocations.iloc[0]
    assert row["revocation_id"] == "A1"
    assert row["user_key"] == TARGET_ID
    assert row["revocation_time"] == pd.Timestamp("2021-05-17T09:00:00Z")
    assert row["actor_upn"] == "secadmin@contoso.example"
    assert not row["is_self_revocation"]
    assert row["related_record_ids"] == ["A1"]


def test_paired_update_user_merged() -> None:
    audit = audit_frame(
        {"correlation_id": "c1"},
        {
            "correlation_id": "c1",
            "activity": "Update user",
            "included_updated_properties": "StsRefreshTokensValidFrom",
            "event_time": pd.Timestamp("2021-05-17T09:00:01Z"),
        },
    )

    revocations, _ = find_revocations(audit)

    assert len(revocations) == 1
    assert revocations.iloc[0]["revocation_id"] == "A1"
    assert revocations.iloc[0]["related_record_ids"] == ["A1", "A2"]


def test_paired_row_alone_is_revocation() -> None:
    audit = audit_frame(
        {
            "activity": "Update user",
            "included_updated_properties": "StsRefreshTokensValidFrom",
        }
    )

    revocations, _ = find_revocations(audit)

    assert len(revocations) == 1


def test_paired_row_fullwidth_property() -> None:
    audit = audit_frame(
        {
            "activity": "\uff35\uff50\uff44\uff41\uff54\uff45 user",
            "included_updated_properties": "\uff33tsRefreshTokensValidFrom",
        }
    )

    revocations, _ = find_revocations(audit)

    assert len(revocations) == 1


def test_look_alike_letter_not_revocation() -> None:
    audit = audit_frame({"activity": "R\u0435voke user sessions"})

    revocations, near_misses = find_revocations(audit)

    assert revocations.empty
    assert near_misses.empty


def test_update_user_other_properties_ignored() -> None:
    audit = audit_frame(
        {
            "activity": "Update user",
            "included_updated_properties": "StsRefreshTokensValidFrom, DisplayName",
        }
    )

    revocations, near_misses = find_revocations(audit)

    assert revocations.empty
    assert near_misses.empty


def test_different_correlation_ids_not_merged() -> None:
    audit = audit_frame({"correlation_id": "c1"}, {"correlation_id": "c2"})

    revocations, _ = find_revocations(audit)

    assert len(revocations) == 2


def test_self_revocation_flagged() -> None:
    audit = audit_frame({"actor_id": TARGET_ID, "actor_upn": "tom@contoso.example"})

    revocations, _ = find_revocations(audit)

    assert bool(revocations.iloc[0]["is_self_revocation"])


def test_self_revocation_by_upn_case() -> None:
    audit = audit_frame({"actor_id": None, "actor_upn": "TOM@contoso.example"})

    revocations, _ = find_revocations(audit)

    assert bool(revocations.iloc[0]["is_self_revocation"])


def test_self_revocation_among_app_rows() -> None:
    app = {"actor_type": "app", "actor_id": TARGET_ID, "actor_upn": None}
    times = [f"2021-05-17T09:00:0{second}Z" for second in range(4)]
    audit = audit_frame(
        {**app, "event_time": pd.Timestamp(times[0])},
        {"actor_id": TARGET_ID, "event_time": pd.Timestamp(times[1])},
        {**app, "event_time": pd.Timestamp(times[2])},
        {"event_time": pd.Timestamp(times[3])},
    )

    revocations, _ = find_revocations(audit)

    assert revocations["revocation_id"].tolist() == ["A1", "A2", "A3", "A4"]
    flags = [bool(flag) for flag in revocations["is_self_revocation"]]
    assert flags == [False, True, False, False]
    assert str(revocations["is_self_revocation"].dtype) == "bool[pyarrow]"


def test_add_user_not_revocation() -> None:
    audit = audit_frame(
        {
            "activity": "Add user",
            "included_updated_properties": "AccountEnabled, StsRefreshTokensValidFrom",
        }
    )

    revocations, near_misses = find_revocations(audit)

    assert revocations.empty
    assert near_misses.empty


def test_failed_result_not_revocation() -> None:
    revocations, _ = find_revocations(audit_frame({"result": "failure"}))

    assert revocations.empty


def test_missing_result_counts_as_success() -> None:
    revocations, _ = find_revocations(audit_frame({"result": None}))

    assert len(revocations) == 1


def test_near_miss_returned() -> None:
    audit = audit_frame(
        {"activity": "Revoke all sign-in sessions (preview)"},
        {"activity": "Reset user password"},
        {"activity": "Update user"},
    )

    revocations, near_misses = find_revocations(audit)

    assert revocations.empty
    assert near_misses["activity"].tolist() == ["Revoke all sign-in sessions (preview)"]


# Graph API action names and a name written without spaces: each is one word after
# normalise_activity, which contains a near-miss word.
JOINED_NAMES = [
    "revokeSignInSessions",
    "invalidateAllRefreshTokens",
    "UpdateStsRefreshTokenValidFrom",
]


@pytest.mark.parametrize("activity", JOINED_NAMES)
def test_joined_name_near_miss(activity: str) -> None:
    revocations, near_misses = find_revocations(audit_frame({"activity": activity}))

    assert revocations.empty
    assert near_misses["activity"].tolist() == [activity]


def test_custom_activity_list() -> None:
    audit = audit_frame({"activity": "Revoke all sign-in sessions (preview)"})

    revocations, near_misses = find_revocations(
        audit, (*DEFAULT_REVOCATION_ACTIVITIES, "Revoke all sign-in sessions (preview)")
    )

    assert len(revocations) == 1
    assert near_misses.empty


def test_app_initiator() -> None:
    audit = audit_frame(
        {
            "actor_type": "app",
            "actor_id": "a0000000-0000-4000-8000-0000000050a2",
            "actor_upn": None,
            "actor_display_name": "soar-playbook",
            "actor_app_id": "a0000000-0000-4000-8000-0000000050a1",
            "actor_service_principal_id": "a0000000-0000-4000-8000-0000000050a2",
        }
    )

    revocations, _ = find_revocations(audit)

    row = revocations.iloc[0]
    assert row["actor_type"] == "app"
    assert row["actor_display_name"] == "soar-playbook"
    assert not bool(row["is_self_revocation"])


def test_user_initiator_known_by_id() -> None:
    audit = audit_frame({"actor_upn": None, "actor_id": ADMIN_ID})

    revocations, _ = find_revocations(audit)

    assert revocations.iloc[0]["actor_type"] == "user"
    assert revocations.iloc[0]["actor_id"] == ADMIN_ID


def test_target_without_id_uses_upn() -> None:
    audit = audit_frame({"target_id": None, "target_upn": "Tom@Contoso.example"})

    revocations, _ = find_revocations(audit)

    assert revocations.iloc[0]["user_key"] == "upn:tom@contoso.example"
    assert bool(revocations.iloc[0]["upn_fallback"])


def test_empty_audit() -> None:
    revocations, near_misses = find_revocations(schema.empty_frame(schema.AUDIT_SCHEMA))

    assert revocations.empty
    assert near_misses.empty


def test_listed_row_chosen_over_earlier_pair() -> None:
    audit = audit_frame(
        {
            "record_id": "Z9",
            "correlation_id": "c1",
            "activity": "Update user",
            "included_updated_properties": "StsRefreshTokensValidFrom",
            "event_time": pd.Timestamp("2021-05-17T08:59:59Z"),
        },
        {"record_id": "B2", "correlation_id": "c1"},
    )

    revocations, _ = find_revocations(audit)

    assert revocations["revocation_id"].tolist() == ["B2"]
    assert revocations.iloc[0]["related_record_ids"] == ["B2", "Z9"]


def test_revocations_ordered_by_time_then_id() -> None:
    later = pd.Timestamp("2021-05-17T10:00:00Z")
    audit = audit_frame(
        {"record_id": "C3", "correlation_id": "c3", "event_time": later},
        {"record_id": "B2", "correlation_id": "c2"},
        {"record_id": "A1", "correlation_id": "c1"},
        {"record_id": "D4", "correlation_id": "c4", "event_time": None},
    )

    revocations, _ = find_revocations(audit)

    assert revocations["revocation_id"].tolist() == ["A1", "B2", "C3", "D4"]
    assert revocations["related_record_ids"].tolist() == [
        ["A1"],
        ["B2"],
        ["C3"],
        ["D4"],
    ]


def test_revocation_ties_keep_click_order() -> None:
    # Two clicks with the same record id and time: the click whose group sorts
    # first ("c1|..." before "c2|...") comes first.
    other_target = "00000000-0000-4000-8000-000000000702"
    audit = audit_frame(
        {"record_id": "A1", "correlation_id": "c2", "target_id": other_target},
        {"record_id": "A1", "correlation_id": "c1"},
    )

    revocations, _ = find_revocations(audit)

    assert revocations["correlation_id"].tolist() == ["c1", "c2"]
    assert revocations["user_key"].tolist() == [TARGET_ID, other_target]


def test_revocations_match_frame_sort() -> None:
    # The clicks chosen with integer codes must match a plain pandas sort of the
    # same keys, on rows with many ties in time, record id and correlation.
    rows = []
    for number in range(60):
        row: dict[str, Any] = {
            "record_id": f"R{number % 17:02d}",
            "correlation_id": None if number % 11 == 0 else f"c{number % 7}",
            "target_id": f"00000000-0000-4000-8000-{number % 5:012d}",
            "event_time": pd.Timestamp("2021-05-17T09:00:00Z")
            + pd.Timedelta(seconds=number % 3),
        }
        if number % 4 == 0:
            row["activity"] = "Update user"
            row["included_updated_properties"] = "StsRefreshTokensValidFrom"
        rows.append(row)
    audit = audit_frame(*rows)

    revocations, _ = find_revocations(audit)

    listed = audit["activity"] != "Update user"
    group = audit["correlation_id"].fillna(audit["record_id"]).astype(str)
    order = pd.DataFrame(
        {
            "group": group + "|" + audit["target_id"].astype(str),
            "is_listed": listed.to_numpy(dtype=bool),
            "event_time": audit["event_time"],
            "record_id": audit["record_id"].astype(str),
        }
    ).sort_values(
        ["group", "is_listed", "event_time", "record_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    first = order.drop_duplicates("group").sort_values(
        ["event_time", "record_id"], kind="stable"
    )
    related = order.groupby("group")["record_id"].agg(sorted)
    assert revocations["revocation_id"].tolist() == first["record_id"].tolist()
    assert revocations["source_record"].tolist() == [
        int(index) + 1 for index in first.index
    ]
    assert revocations["related_record_ids"].tolist() == [
        related[name] for name in first["group"]
    ]


def mass_revocation(count: int, other_rows: set[int]) -> pd.DataFrame:
    """Return an audit frame of one actor revoking ``count`` users, where the
    rows in ``other_rows`` are other activities."""
    rows = []
    for number in range(count):
        row: dict[str, Any] = {
            "target_id": f"00000000-0000-4000-8000-{number:012d}",
            "target_upn": f"user{number}@contoso.example",
            "event_time": pd.Timestamp("2021-05-17T09:00:00Z")
            + pd.Timedelta(seconds=number),
        }
        if number in other_rows:
            row["activity"] = "Update group"
        rows.append(row)
    return audit_frame(*rows)


@pytest.mark.parametrize(
    "positions",
    [
        list(range(200)),
        [*range(0, 90), *range(91, 200)],
        [*range(0, 50), *range(60, 120), *range(130, 200)],
        list(range(0, 200, 2)),
        [*range(100, 200), *range(0, 90)],
        [5, 4],
        [7],
        [],
    ],
    ids=[
        "one run",
        "one gap",
        "two gaps",
        "every other",
        "descending",
        "pair",
        "one",
        "none",
    ],
)
def test_take_rows_matches_take(positions: list[int]) -> None:
    audit = mass_revocation(200, set())
    index = np.array(positions, dtype=np.int64)

    taken = _take_rows(audit, index)

    expected = audit.iloc[index].reset_index(drop=True)
    assert list(taken.dtypes) == list(expected.dtypes)
    assert taken.index.equals(expected.index)
    assert taken.equals(expected)


def test_take_rows_shares_runs() -> None:
    audit = mass_revocation(200, set())
    index = np.array([*range(0, 90), *range(91, 200)], dtype=np.int64)

    taken = _take_rows(audit, index)

    assert_shares_buffers(taken["target_id"], audit["target_id"], chunks=2)


def test_mass_revocation_same_as_take(monkeypatch: pytest.MonkeyPatch) -> None:
    audit = mass_revocation(300, {40, 41, 250})
    shared, _ = find_revocations(audit)
    # A minimum run longer than the frame makes every row a copy.
    monkeypatch.setattr(row_runs, "MIN_RUN_LENGTH", 10**6)

    copied, _ = find_revocations(audit)

    assert len(shared) == 297
    assert list(shared.dtypes) == list(copied.dtypes)
    assert shared.equals(copied)
