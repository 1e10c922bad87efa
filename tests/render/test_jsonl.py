"""Tests for the JSON Lines output of findings."""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
import pytest

from h056hunt.findings import (
    Actor,
    Evidence,
    Finding,
    FindingType,
    ScoreFactor,
    Severity,
    TimelineEvent,
)
from h056hunt.render.jsonl import dumps, json_scalar, render_jsonl

OUTCOMES = {
    "declined": 3,
    "unanswered": 0,
    "fraud": 0,
    "wrong_number": 0,
    "other_denial": 0,
    "approved": 1,
    "interrupt": 0,
}
REVOKED = pd.Timestamp("2024-05-14T09:00:05.1234567Z")


def make_finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "finding_id": "0123456789abcdef",
        "finding_type": FindingType.REVOCATION_CHAIN,
        "severity": Severity.CRITICAL,
        "score": 95,
        "score_factors": (ScoreFactor("admin_revocation", 25, "revoked"),),
        "target_user_id": "00000000-0000-4000-8000-000000000b0b",
        "target_upn": "bob@contoso.example",
        "target_display_name": "Bob \u202eevil",
        "actor": Actor(
            type="user",
            id="u-admin",
            upn="secadmin@contoso.example",
            ip="198.51.100.10",
        ),
        "revocation_time": REVOKED,
        "first_prompt_time": pd.Timestamp("2024-05-14T09:03:10Z"),
        "last_prompt_time": pd.Timestamp("2024-05-14T09:06:00Z"),
        "prompt_counts": OUTCOMES,
        "approved": True,
        "approval_time": pd.Timestamp("2024-05-14T09:06:00Z"),
        "source_ips": ("203.0.113.88",),
        "countries": (),
        "user_agents": (),
        "evidence": (
            Evidence(
                "revocation",
                "A1",
                REVOKED,
                "audit.json",
                4,
                1,
                detail="Revoke user sessions",
            ),
        ),
        "timeline": (TimelineEvent(REVOKED, "revocation", "Revoke user sessions"),),
        "summary": "secadmin revoked bob",
    }
    values.update(changes)
    return Finding(**values)


def render(findings: list[Finding], *, partial: bool = False) -> str:
    stream = io.StringIO()
    render_jsonl(findings, stream, partial=partial)
    return stream.getvalue()


def test_one_line_per_finding() -> None:
    output = render([make_finding(), make_finding(finding_id="fedcba9876543210")])

    lines = output.splitlines()
    assert len(lines) == 2
    assert output.endswith("\n")
    assert [json.loads(line)["finding_id"] for line in lines] == [
        "0123456789abcdef",
        "fedcba9876543210",
    ]


def test_no_findings_no_output() -> None:
    assert render([]) == ""


def test_output_is_ascii() -> None:
    output = render([make_finding()])

    assert output.isascii()
    assert "\\u202e" in output
    assert json.loads(output)["target_display_name"] == "Bob \u202eevil"


def test_keys_sorted_and_compact() -> None:
    assert dumps({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_record_fields() -> None:
    record = json.loads(render([make_finding()]))

    assert record["finding_type"] == "revocation_chain"
    assert record["severity"] == "critical"
    assert record["score"] == 95
    assert record["score_factors"] == [
        {"name": "admin_revocation", "points": 25, "fact": "revoked"}
    ]
    assert record["prompt_counts"] == OUTCOMES
    assert record["denied_prompts"] == 3
    assert record["approved"] is True
    assert record["source_ips"] == ["203.0.113.88"]


def test_actor_fields() -> None:
    record = json.loads(render([make_finding()]))

    assert record["actor"] == {
        "type": "user",
        "id": "u-admin",
        "upn": "secadmin@contoso.example",
        "display_name": None,
        "ip": "198.51.100.10",
        "app_id": None,
        "service_principal_id": None,
        "label": "secadmin@contoso.example",
    }


def test_times_are_utc_iso() -> None:
    record = json.loads(render([make_finding()]))

    assert record["revocation_time"] == "2024-05-14T09:00:05.1234567Z"
    assert record["first_prompt_time"] == "2024-05-14T09:03:10Z"
    assert record["approval_time"] == "2024-05-14T09:06:00Z"
    assert record["evidence"][0]["time"] == "2024-05-14T09:00:05.1234567Z"


def test_missing_times_are_null() -> None:
    finding = make_finding(
        finding_type=FindingType.PUSH_BOMBING,
        actor=None,
        revocation_time=None,
        approved=False,
        approval_time=None,
    )

    record = json.loads(render([finding]))

    assert record["revocation_time"] is None
    assert record["approval_time"] is None
    assert record["actor"] is None


def test_evidence_location() -> None:
    record = json.loads(render([make_finding()]))

    assert record["evidence"][0]["file"] == "audit.json"
    assert record["evidence"][0]["line"] == 4
    assert record["evidence"][0]["record"] == 1


def test_partial_flag() -> None:
    assert json.loads(render([make_finding()]))["partial_input"] is False
    assert json.loads(render([make_finding()], partial=True))["partial_input"] is True


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -17,
        2**70,
        "",
        "plain",
        'quote" and back\\slash',
        "tab\t and newline\n and \x00",
        "Zo\u00eb \u202e \U0001f600",
        1.5,
        ["a", 1],
    ],
)
def test_json_scalar_matches_dumps(value: Any) -> None:
    assert json_scalar(value) == dumps(value)
