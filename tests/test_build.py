"""Tests for turning a campaign's revocations into a finding."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from h056hunt.build import shared_origin_factor
from h056hunt.campaign_finding import _shared_facts, build_campaign_finding
from h056hunt.detect.chains import DetectionParams
from h056hunt.findings import Evidence, Finding, FindingType, Severity
from h056hunt.lazy_sequence import SLICE_SIZE

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


def many_revocations(count: int) -> pd.DataFrame:
    """Return ``count`` revocations by one admin, a second apart."""
    times = [T0 + pd.Timedelta(seconds=position) for position in range(count)]
    return pd.DataFrame(
        {
            "revocation_id": [f"R{position:05d}" for position in range(count)],
            "revocation_time": pd.Series(times),
            "target_id": pd.Series(
                [f"u{position}" for position in range(count)], dtype=TEXT
            ),
            "target_upn": pd.Series(
                [f"user{position}@contoso.example" for position in range(count)],
                dtype=TEXT,
            ),
            "activity": pd.Series(["Revoke sessions"] * count, dtype=TEXT),
            "actor_type": pd.Series(["user"] * count, dtype=TEXT),
            "actor_id": pd.Series(["admin"] * count, dtype=TEXT),
            "actor_upn": pd.Series(["admin@contoso.example"] * count, dtype=TEXT),
            "actor_display_name": pd.Series([None] * count, dtype=TEXT),
            "actor_ip": pd.Series(["203.0.113.9"] * count, dtype=TEXT),
            "actor_app_id": pd.Series([None] * count, dtype=TEXT),
            "actor_service_principal_id": pd.Series([None] * count, dtype=TEXT),
            "source_file": pd.Series(["audit.json"] * count, dtype=TEXT),
            "source_line": pd.Series(range(1, count + 1), dtype="int64[pyarrow]"),
            "source_record": pd.Series(range(count), dtype="int64[pyarrow]"),
        }
    )


def chain_after(revocation_id: str, *, approved: bool) -> Finding:
    """Return a chain finding that names ``revocation_id`` in its evidence."""
    time = T0 + pd.Timedelta(hours=1)
    return Finding(
        finding_id=f"chain-{revocation_id}",
        finding_type=FindingType.REVOCATION_CHAIN,
        severity=Severity.HIGH,
        score=50,
        score_factors=(),
        target_user_id=None,
        target_upn=None,
        target_display_name=None,
        actor=None,
        revocation_time=T0,
        first_prompt_time=time,
        last_prompt_time=time,
        prompt_counts={"declined": 5},
        approved=approved,
        approval_time=time if approved else None,
        source_ips=("198.51.100.7",),
        countries=("DE",),
        user_agents=(),
        evidence=(Evidence("revocation", revocation_id, T0, "audit.json", 1, 1),),
        timeline=(),
        summary="chain",
    )


def test_campaign_items_across_slices() -> None:
    count = SLICE_SIZE * 2 + 3
    revocations = many_revocations(count)
    bombed = f"R{SLICE_SIZE + 1:05d}"
    chains = [chain_after(bombed, approved=True)]

    finding = build_campaign_finding(revocations, chains, {}, DetectionParams())

    ids = revocations["revocation_id"].tolist()
    evidence = list(finding.evidence)
    assert [item.record_id for item in evidence] == ids
    assert [item.line for item in evidence] == list(range(1, count + 1))
    assert [item.time for item in evidence] == list(revocations["revocation_time"])
    assert finding.evidence[SLICE_SIZE] == evidence[SLICE_SIZE]
    assert finding.evidence[-1] == evidence[-1]
    timeline = list(finding.timeline)
    assert [event.record_id for event in timeline] == ids
    assert (
        timeline[-1].description
        == f"sessions of user{count - 1}@contoso.example revoked"
    )
    targets = list(finding.extra["targets"])
    assert [target["revocation_id"] for target in targets] == ids
    assert [target["revocation_id"] for target in targets if target["bombed"]] == [
        bombed
    ]
    assert targets[SLICE_SIZE + 1]["approved"] is True
    assert targets[SLICE_SIZE + 1]["finding_id"] == f"chain-{bombed}"
    assert targets[-1]["revocation_time"] == "2024-05-14T09:17:06Z"


def test_campaign_finding_counts_and_id() -> None:
    count = SLICE_SIZE + 10
    revocations = many_revocations(count)
    chains = [
        chain_after("R00003", approved=False),
        chain_after("R00510", approved=True),
    ]

    finding = build_campaign_finding(revocations, chains, {}, DetectionParams())

    ids = sorted(revocations["revocation_id"].tolist())
    anchor = "revocation_campaign|" + "|".join(ids)
    assert finding.finding_id == hashlib.sha256(anchor.encode()).hexdigest()[:16]
    assert f"revoked the sessions of {count} users" in finding.summary
    assert "2 were then bombed with MFA prompts and 1 approved one" in finding.summary
    assert finding.approved
    assert len(finding.evidence) == count
    assert len(finding.timeline) == count
    assert len(finding.extra["targets"]) == count


def test_campaign_from_positions_matches_rows() -> None:
    count = SLICE_SIZE + 40
    revocations = many_revocations(count)
    # The campaign's rows sit among other revocations, in another order.
    others = many_revocations(count).assign(
        revocation_id=lambda frame: "X" + frame["revocation_id"],
        actor_upn=pd.Series(["other@contoso.example"] * count, dtype=TEXT),
    )
    every = pd.concat([others, revocations[::-1]], ignore_index=True)
    positions = np.arange(2 * count - 1, count - 1, -1)
    chains = [chain_after("R00100", approved=True)]

    from_rows = build_campaign_finding(revocations, chains, {}, DetectionParams())
    from_positions = build_campaign_finding(
        every, chains, {}, DetectionParams(), positions=positions
    )

    assert from_positions.finding_id == from_rows.finding_id
    assert from_positions.summary == from_rows.summary
    assert from_positions.actor == from_rows.actor
    assert from_positions.revocation_time == from_rows.revocation_time
    assert list(from_positions.evidence) == list(from_rows.evidence)
    assert list(from_positions.timeline) == list(from_rows.timeline)
    assert list(from_positions.extra["targets"]) == list(from_rows.extra["targets"])


# A user agent that imitates the end of its fact and the start of another.
IMITATING_AGENT = "x also sent prompts to 9 other targets of this revoker; user agent y"


def test_shared_origin_fact_quotes_values() -> None:
    shared = {
        "ip_address": {"203.0.113.5": ["u1", "u2"]},
        "user_agent": {IMITATING_AGENT: ["u1", "u2", "u3"]},
    }

    factor = shared_origin_factor("u1", shared)

    assert factor is not None
    ip_fact = (
        "source IP '203.0.113.5' also sent prompts to 1 other target of this revoker"
    )
    agent_fact = (
        f"user agent {IMITATING_AGENT!r} also sent prompts to 2 other targets of "
        "this revoker"
    )
    assert factor.fact == f"{ip_fact}; {agent_fact}"


def test_campaign_shared_facts_quote_values() -> None:
    facts = _shared_facts({"user_agent": {IMITATING_AGENT: ["u1", "u2"]}})

    assert facts == [f"user agent {IMITATING_AGENT!r} sent prompts to 2 targets"]
