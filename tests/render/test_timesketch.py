"""Tests for the timesketch output: one valid, sorted JSON line per timeline event."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import Result
from jsonschema import Draft202012Validator
from report_inputs import (
    CASES,
    case_args,
    denied_signin,
    hunt,
    hunt_in_both_orders,
    revocation_audit,
    sample_log_args,
    write_exports,
)

from h056hunt import schema
from h056hunt.detect.chains import DetectionParams
from h056hunt.findings import Finding, FindingType, Severity, TimelineEvent
from h056hunt.hunt import HuntResult
from h056hunt.load import LoadedData
from h056hunt.render.context import RenderContext
from h056hunt.render.jsonl import dumps
from h056hunt.render.schema_files import TIMESKETCH_EVENT_SCHEMA, load_schema
from h056hunt.render.timesketch import event_records, render_timesketch

HOSTILE = "<script>alert(1)</script> \u202e"


def events_of(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def strict_validator() -> Draft202012Validator:
    """Return a validator that also rejects fields the schema does not document."""
    schema = dict(load_schema(TIMESKETCH_EVENT_SCHEMA), additionalProperties=False)
    return Draft202012Validator(schema)


def assert_valid(events: list[dict[str, Any]]) -> None:
    validator = strict_validator()
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, "\n".join(str(error) for error in errors[:3])


def hostile_logs(tmp_path: Path, names: list[str]) -> tuple[str, str]:
    """Write one revocation and three 500121 sign-ins per name, one user each.

    The users' events interleave: each is revoked a minute after the one before,
    and their sign-ins share minutes, ``index`` seconds apart.
    """
    audits = []
    signins = []
    for index, name in enumerate(names):
        user_id = f"00000000-0000-4000-8000-0000000001{index:02d}"
        upn = f"user{index}@contoso.example"
        audits.append(
            revocation_audit(
                f"Directory_HOSTILE_{index}",
                name,
                user_id,
                upn,
                f"2025-03-01T10:0{index}:00Z",
            )
        )
        signins += [
            denied_signin(
                f"hostile-{index}-{minute}",
                f"request-{index}-{minute}",
                f"2025-03-01T10:{minute:02d}:{index:02d}Z",
                name,
                user_id,
                upn,
            )
            for minute in (15, 16, 17)
        ]
    return write_exports(tmp_path, audits, signins)


@pytest.mark.parametrize("case", sorted(CASES))
def test_timesketch_cases_one_line_per_event(cases_dir: Path, case: str) -> None:
    events = events_of(hunt("--format", "timesketch", *case_args(cases_dir, case)))
    document = json.loads(hunt("--format", "json", *case_args(cases_dir, case)).stdout)
    finding = document["findings"][0]

    assert_valid(events)
    assert len(events) == len(finding["timeline"])
    assert [event["datetime"] for event in events] == [
        item["time"] for item in finding["timeline"]
    ]
    assert {event["finding_id"] for event in events} == {finding["finding_id"]}
    assert {event["partial_input"] for event in events} == {False}


def test_timesketch_br08_descriptions(cases_dir: Path) -> None:
    events = events_of(hunt("--format", "timesketch", *case_args(cases_dir, "BR-08")))

    assert [event["timestamp_desc"] for event in events] == [
        "Session revocation",
        "MFA prompt declined",
        "MFA prompt declined",
        "MFA prompt declined",
        "MFA prompt approved",
    ]
    assert [event["outcome"] for event in events] == [
        None,
        "declined",
        "declined",
        "declined",
        "approved",
    ]
    assert events[0]["timestamp"] == 1672051920000000
    assert events[0]["datetime"] == "2022-12-26T10:52:00Z"
    assert events[0]["source"].endswith("BR-08_audit.json:1")
    assert events[4]["source"].endswith("BR-08.json:4")
    assert events[4]["user"] == "dave@contoso.example"
    assert events[4]["ip"] == "203.0.113.140"
    assert events[0]["message"].startswith(
        "Session revocation of dave@contoso.example by secadmin@contoso.example"
    )


def test_timesketch_br03_keeps_fraud_outcome(cases_dir: Path) -> None:
    events = events_of(hunt("--format", "timesketch", *case_args(cases_dir, "BR-03")))

    assert [event["outcome"] for event in events].count("fraud") == 1
    assert "MFA prompt reported as fraud" in {e["timestamp_desc"] for e in events}
    assert events[0]["timestamp"] == 1715677205123456


def test_timesketch_sorts_events_of_all_findings(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory", "Trent"])
    events = events_of(
        hunt("--format", "timesketch", "--audit", audit, "--signin", signin)
    )

    campaign = [e for e in events if e["finding_type"] == "revocation_campaign"]

    assert_valid(events)
    # Three chains of a revocation and three denials, and the campaign of the
    # three revocations by one actor within minutes.
    assert len(events) == 3 * 4 + 3
    keys = [(event["timestamp"], event["finding_id"]) for event in events]
    assert keys == sorted(keys)
    assert len({event["finding_id"] for event in events}) == 4
    assert [event["user"] for event in campaign] == [None, None, None]
    assert {event["timestamp_desc"] for event in campaign} == {"Session revocation"}


def test_timesketch_keeps_hostile_text_exact(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, [HOSTILE])
    result = hunt("--format", "timesketch", "--audit", audit, "--signin", signin)
    events = events_of(result)

    assert result.stdout.isascii()
    assert_valid(events)
    assert events[0]["actor"].startswith(HOSTILE.strip())


def test_timesketch_partial_input_field(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve"])
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"id": "cut-', encoding="utf-8")
    events = events_of(
        hunt(
            "--lenient",
            "--format",
            "timesketch",
            "--audit",
            audit,
            "--signin",
            signin,
            "--signin",
            str(broken),
        )
    )

    assert len(events) == 4
    assert {event["partial_input"] for event in events} == {True}


def test_timesketch_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[str], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory"])
    first, second = hunt_in_both_orders(
        "timesketch", audit, signin, lambda: foreign_tz("Pacific/Chatham")
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_timesketch_sample_logs(sample_logs_dir: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    events = events_of(hunt("--format", "timesketch", *args))
    findings = json.loads(hunt("--format", "json", *args).stdout)["findings"]

    assert_valid(events)
    assert len(events) == sum(len(finding["timeline"]) for finding in findings)
    keys = [(event["timestamp"], event["finding_id"]) for event in events]
    assert keys == sorted(keys)


def timeline_finding(finding_id: str, label: str, offsets: list[int]) -> Finding:
    """Return a finding with one prompt event per offset in seconds, in the order
    given, described as ``label`` and the event's position."""
    start = pd.Timestamp("2024-05-14T09:00:00Z")
    events = tuple(
        TimelineEvent(
            time=start + pd.Timedelta(seconds=offset),
            kind="prompt_declined",
            description=f"{label} {position}",
            record_id=f"{finding_id}-{position}",
        )
        for position, offset in enumerate(offsets)
    )
    return Finding(
        finding_id=finding_id,
        finding_type=FindingType.PUSH_BOMBING,
        severity=Severity.MEDIUM,
        score=10,
        score_factors=(),
        target_user_id=f"user-{finding_id}",
        target_upn=None,
        target_display_name=None,
        actor=None,
        revocation_time=None,
        first_prompt_time=start,
        last_prompt_time=start,
        prompt_counts={"declined": len(offsets)},
        approved=False,
        approval_time=None,
        source_ips=(),
        countries=(),
        user_agents=(),
        evidence=(),
        timeline=events,
        summary=f"finding {finding_id}",
    )


def test_timesketch_merge_matches_one_sort() -> None:
    findings = [
        timeline_finding("b", "b", [0, 20, 20, 40]),
        # Out of time order, so its events are sorted before the merge.
        timeline_finding("a", "first a", [20, 10, 30]),
        timeline_finding("c", "c", [5, 20, 50]),
        # It has the id of the second finding, so equal keys must keep the order
        # of the findings.
        timeline_finding("a", "second a", [20, 35]),
    ]
    empty = LoadedData(
        audit=schema.empty_frame(schema.AUDIT_SCHEMA),
        signin=schema.empty_frame(schema.SIGNIN_SCHEMA),
        steps=schema.empty_frame(schema.STEP_SCHEMA),
    )
    result = HuntResult(
        findings=findings,
        revocations=pd.DataFrame(),
        near_misses=pd.DataFrame(),
        prompts=pd.DataFrame(),
    )
    context = RenderContext(data=empty, result=result, params=DetectionParams())
    stream = io.StringIO()

    render_timesketch(findings, stream, context)

    every_event = [item for f in findings for item in event_records(f)]
    every_event.sort(key=lambda item: item[0])
    expected = [json.loads(dumps(record)) for _, record in every_event]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines == expected
    assert [line["detail"] for line in lines[:6]] == [
        "b 0",
        "c 0",
        "first a 1",
        "first a 0",
        "second a 0",
        "b 1",
    ]
    assert stream.getvalue() == "".join(
        dumps(record) + "\n" for _, record in every_event
    )
