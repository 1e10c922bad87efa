"""Tests for the target and revoker context that adjusts a finding's score."""

from __future__ import annotations

import pandas as pd

from h056hunt.detect.chains import DetectionParams, Match
from h056hunt.detect.context import actor_context, user_context

T0 = pd.Timestamp("2024-05-14T09:00:00Z")
TEXT = "string[pyarrow]"
PARAMS = DetectionParams()


def at(hours: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=hours)


def signins(*rows: dict[str, object]) -> pd.DataFrame:
    defaults = {
        "ip_address": None,
        "country": None,
        "risk_level_during_signin": None,
        "risk_state": None,
        "authentication_requirement": None,
        "error_code": 0,
    }
    full = [{**defaults, **row} for row in rows]
    frame = pd.DataFrame(
        {
            "event_time": pd.Series([row["event_time"] for row in full]),
            **{
                column: pd.Series([row[column] for row in full], dtype=TEXT)
                for column in defaults
                if column != "error_code"
            },
            "error_code": pd.Series(
                [row["error_code"] for row in full], dtype="int64[pyarrow]"
            ),
        }
    )
    return frame.set_axis([7 * number for number in range(len(full))])


def audit(*rows: tuple[pd.Timestamp, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_time": pd.Series([time for time, _ in rows]),
            "activity": pd.Series([activity for _, activity in rows], dtype=TEXT),
            "actor_ip": pd.Series(["203.0.113.9"] * len(rows), dtype=TEXT),
            "record_id": pd.Series(
                [f"A{number}" for number in range(len(rows))], dtype=TEXT
            ),
        }
    ).set_axis([3 * number for number in range(len(rows))])


def revocation() -> pd.Series:
    return pd.Series({"revocation_time": T0, "revocation_id": "R1"}, dtype=object)


def revoker_facts(
    actor_signins: pd.DataFrame, actor_audit: pd.DataFrame
) -> dict[str, str]:
    own = pd.DataFrame({"revocation_time": pd.Series([T0])})
    factors = actor_context(
        revocation(), actor_signins, actor_audit, own, None, PARAMS, None
    )
    return {factor.name: factor.fact for factor in factors}


def test_revoker_new_ip_and_country() -> None:
    facts = revoker_facts(
        signins(
            {"event_time": at(-48), "ip_address": "192.0.2.1", "country": "US"},
            {"event_time": at(-2), "ip_address": "198.51.100.7", "country": "NL"},
            {"event_time": at(-1), "ip_address": "192.0.2.1", "country": None},
        ),
        audit(),
    )

    assert "198.51.100.7" in facts["revoker_new_ip"]
    assert "192.0.2.1" not in facts["revoker_new_ip"]
    assert "country NL" in facts["revoker_new_country"]


def test_revoker_new_values_plural() -> None:
    facts = revoker_facts(
        signins(
            {"event_time": at(-48), "ip_address": "192.0.2.1", "country": "US"},
            {"event_time": at(-3), "ip_address": "198.51.100.7", "country": "NL"},
            {"event_time": at(-2), "ip_address": "198.51.100.8", "country": "RO"},
        ),
        audit(),
    )

    assert "from IP addresses 198.51.100.7, 198.51.100.8 " in facts["revoker_new_ip"]
    assert "from countries NL, RO " in facts["revoker_new_country"]


def test_revoker_new_countries_quote_separator() -> None:
    facts = revoker_facts(
        signins(
            {"event_time": at(-48), "ip_address": "192.0.2.1", "country": "US"},
            {"event_time": at(-3), "ip_address": "192.0.2.1", "country": "NL, RO"},
            {"event_time": at(-2), "ip_address": "192.0.2.1", "country": "PL"},
        ),
        audit(),
    )

    # A country with the list's separator in it reads as one entry.
    assert "from countries 'NL, RO', PL " in facts["revoker_new_country"]


def test_revoker_new_value_singular() -> None:
    facts = revoker_facts(
        signins(
            {"event_time": at(-48), "ip_address": "192.0.2.1", "country": "US"},
            {"event_time": at(-2), "ip_address": "198.51.100.7", "country": "NL"},
        ),
        audit(),
    )

    assert "from IP address 198.51.100.7 " in facts["revoker_new_ip"]
    assert "from country NL " in facts["revoker_new_country"]


def test_revoker_risky_and_single_factor_counts() -> None:
    facts = revoker_facts(
        signins(
            {"event_time": at(-3), "risk_level_during_signin": "High"},
            {"event_time": at(-2), "risk_state": "atRisk"},
            {"event_time": at(-30), "risk_level_during_signin": "medium"},
            {
                "event_time": at(-1),
                "authentication_requirement": "singleFactorAuthentication",
            },
            {
                "event_time": at(-1),
                "authentication_requirement": "singleFactorAuthentication",
                "error_code": 50126,
            },
        ),
        audit(),
    )

    assert facts["revoker_risky_signin"].startswith("2 risky sign-ins")
    assert "without MFA 1 time shortly before" in facts["revoker_single_factor"]


def test_revoker_signins_with_missing_values() -> None:
    facts = revoker_facts(
        signins(
            {"event_time": pd.NaT, "risk_level_during_signin": "high"},
            {
                "event_time": at(-1),
                "authentication_requirement": "singleFactorAuthentication",
                "error_code": None,
            },
            {
                "event_time": at(-1),
                "authentication_requirement": "SingleFactorAuthentication",
            },
        ),
        audit(),
    )

    assert "revoker_risky_signin" not in facts
    assert "without MFA 1 time shortly before" in facts["revoker_single_factor"]


def test_revoker_without_recent_signins_adds_nothing() -> None:
    facts = revoker_facts(
        signins({"event_time": at(-30), "risk_level_during_signin": "high"}), audit()
    )

    assert facts == {}


def test_revoker_role_grant_and_mfa_change() -> None:
    facts = revoker_facts(
        signins(),
        audit(
            (at(-5), "Add member to role"),
            (at(-3), "Add eligible member to role"),
            (at(-2), "Admin registered security info"),
            (at(-30), "Disable Strong Authentication"),
            (at(0), "User deleted security info"),
            (at(-1), None),
        ),
    )

    assert facts["revoker_role_granted"] == (
        "a role was granted to the revoker at 2024-05-14T04:00:00Z "
        "(Add eligible member to role, Add member to role)"
    )
    assert facts["revoker_mfa_changed"] == (
        "an MFA method of the revoker was changed at 2024-05-14T07:00:00Z "
        "(Admin registered security info)"
    )


def approved_match() -> tuple[pd.DataFrame, Match]:
    """Return one declined and one approved prompt, at 0.5h and 0.6h, and their
    match."""
    prompts = pd.DataFrame(
        {
            "prompt_time": pd.Series([at(0.5), at(0.6)]),
            "outcome": ["declined", "approved"],
            "ip_address": pd.Series([None, None], dtype=TEXT),
            "country": pd.Series([None, None], dtype=TEXT),
        }
    )
    match = Match(
        user_key="user",
        revocation=revocation(),
        prompts=prompts,
        denials=prompts.iloc[:1],
        approval=prompts.iloc[1],
        peak_denials=1,
    )
    return prompts, match


def test_persistence_after_approval() -> None:
    prompts, match = approved_match()
    target_audit = audit(
        (at(0.6), "Register device"),
        (at(1.0), "User registered security info"),
        (at(1.0), "Update user"),
        (at(1.7), "Register device"),
    )

    context = user_context(match, prompts, signins(), target_audit, PARAMS)

    assert context.escalate_to_critical
    assert [factor.name for factor in context.factors] == ["persistence_after_approval"]
    assert [event.record_id for event in context.events] == ["A1"]


def test_persistence_fact_shows_duration() -> None:
    prompts, match = approved_match()
    target_audit = audit((at(1.0), "User registered security info"))

    context = user_context(match, prompts, signins(), target_audit, PARAMS)

    assert [factor.fact for factor in context.factors] == [
        "User registered security info within 1h after the approval"
    ]


def test_rate_spike_fact_shows_duration() -> None:
    own = pd.DataFrame(
        {"revocation_time": pd.Series([at(minutes / 60) for minutes in range(6)])}
    )
    audit_span = (at(-48), at(1))

    factors = actor_context(
        revocation(), signins(), audit(), own, audit_span, PARAMS, None
    )
    facts = {factor.name: factor.fact for factor in factors}

    assert facts["revoker_rate_spike"] == (
        "6 revocations by this actor within 1h of this one, "
        "against about 0.1 per 1h over the data"
    )
