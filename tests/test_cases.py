"""Bug-report cases: small inputs that reproduce public parsing and hunting faults.

Each test checks one documented outcome of a case. The cases assume a burst of at
least 3 denials within 10 minutes that starts at most 60 minutes after the revocation,
so every run passes those thresholds explicitly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.detect.chains import DetectionParams
from h056hunt.detect.identity import normalise_upn
from h056hunt.detect.prompts import DENIALS, extract_prompts
from h056hunt.findings import Actor
from h056hunt.hunt import HuntResult, run_hunt
from h056hunt.load import LoadedData, LoadOptions, load_logs

THRESHOLDS = ["--min-denials", "3", "--burst-window", "10m", "--max-lag", "60m"]
PARAMS = DetectionParams(
    max_lag=pd.Timedelta(minutes=60),
    burst_window=pd.Timedelta(minutes=10),
    min_denials=3,
)


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["hunt", *args], catch_exceptions=False)


def findings_of(
    cases_dir: Path, audit: list[str], signin: list[str], *extra: str
) -> list[dict[str, Any]]:
    args = [*THRESHOLDS, "--format", "jsonl", "--fail-on", "none", *extra]
    for name in audit:
        args += ["--audit", str(cases_dir / name)]
    for name in signin:
        args += ["--signin", str(cases_dir / name)]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def load(
    cases_dir: Path, audit: list[str], signin: list[str], *, strict: bool = True
) -> LoadedData:
    data = load_logs(
        [str(cases_dir / name) for name in audit],
        [str(cases_dir / name) for name in signin],
        LoadOptions(strict=strict),
    )
    for report in data.files:
        accounted = (
            report.loaded_total + report.duplicates + sum(report.skipped.values())
        )
        assert accounted == report.records_seen, report.path
    return data


def hunt(data: LoadedData) -> HuntResult:
    return run_hunt(data, PARAMS)


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def signin_row(data: LoadedData, record_id: str) -> pd.Series:
    rows = data.signin[data.signin["record_id"] == record_id]
    assert len(rows) == 1
    return rows.iloc[0]


# BR-01: 12-hour envelope times, string durationMs, 7 fractional digits.


def test_br01_all_lines_load(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-01.json"])

    report = data.files[0]
    assert report.records_seen == 4
    assert report.loaded["audit"] == 1
    assert report.loaded["signin"] == 3
    assert sum(report.skipped.values()) == 0


def test_br01_twelve_hour_times(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-01.json"])

    with_created = signin_row(data, "5a000001-0000-4000-8000-000000000001")
    envelope_only = signin_row(data, "5a000001-0000-4000-8000-000000000002")
    assert with_created["event_time"].floor("s") == stamp("2025-11-03T21:41:07Z")
    assert envelope_only["event_time"] == stamp("2025-11-03T21:42:15Z")


def test_br01_sub_second_kept(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-01.json"])

    row = signin_row(data, "5a000001-0000-4000-8000-000000000003")
    assert row["event_time"] == stamp("2025-11-03T21:43:20.1Z")


def test_br01_revocation_seven_digits(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-01.json"])

    assert data.audit["event_time"].tolist() == [stamp("2025-11-03T21:38:02.4471234Z")]


def test_br01_one_finding_for_alice(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, [], ["BR-01.json"])

    assert len(findings) == 1
    finding = findings[0]
    revoked = stamp(finding["revocation_time"])
    first_lag = stamp(finding["first_prompt_time"]) - revoked
    last_lag = stamp(finding["last_prompt_time"]) - revoked
    assert finding["target_user_id"] == "00000000-0000-4000-8000-0000000a11ce"
    assert finding["revocation_time"] == "2025-11-03T21:38:02.4471234Z"
    assert finding["denied_prompts"] == 3
    assert round(first_lag.total_seconds()) == 3 * 60 + 5
    assert round(last_lag.total_seconds()) == 5 * 60 + 18


# BR-03: denial details drift, and every "MFA denied; ..." text is a denial.


def test_br03_five_denials_with_reasons(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, ["BR-03_audit.json"], ["BR-03.json"])

    assert len(findings) == 1
    counts = findings[0]["prompt_counts"]
    assert findings[0]["denied_prompts"] == 5
    assert counts["declined"] == 2
    assert counts["other_denial"] == 1
    assert counts["fraud"] == 1
    assert counts["wrong_number"] == 1


def test_br03_times_and_user(cases_dir: Path) -> None:
    finding = findings_of(cases_dir, ["BR-03_audit.json"], ["BR-03.json"])[0]

    assert finding["target_upn"] == "bob@contoso.example"
    assert finding["first_prompt_time"] == "2024-05-14T09:03:10Z"
    assert finding["last_prompt_time"] == "2024-05-14T09:08:40Z"


def test_br03_unrecognised_reason_kept(cases_dir: Path) -> None:
    finding = findings_of(cases_dir, ["BR-03_audit.json"], ["BR-03.json"])[0]

    other = [item for item in finding["evidence"] if item["outcome"] == "other_denial"]
    assert [item["detail"] for item in other] == [
        "MFA denied; duplicate authentication attempt"
    ]


def test_br03_fraud_raises_score(cases_dir: Path) -> None:
    finding = findings_of(cases_dir, ["BR-03_audit.json"], ["BR-03.json"])[0]

    names = [factor["name"] for factor in finding["score_factors"]]
    assert "fraud_reported" in names
    assert finding["severity"] in ("high", "critical")


# BR-05: one attempt spans several rows, and one correlationId spans attempts.


def test_br05_three_denials(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-05.json"])

    prompts = extract_prompts(data.signin, data.steps)
    assert int(prompts["outcome"].isin(DENIALS).sum()) == 3


def test_br05_interrupts_not_denials(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-05.json"])

    prompts = extract_prompts(data.signin, data.steps)
    assert int((prompts["outcome"] == "interrupt").sum()) == 3


def test_br05_duplicate_row_counted(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-05.json"])

    report = data.files[0]
    assert report.records_seen == 7
    assert report.duplicates == 1
    assert len(data.signin) == 6


def test_br05_finding_counts_three(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, [], ["BR-05.json"])

    assert [finding["denied_prompts"] for finding in findings] == [3]


# BR-08: per-step results inside authenticationDetails.


def test_br08_steps_unpacked(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-08.json"])

    prompts = extract_prompts(data.signin, data.steps)
    assert prompts["outcome"].tolist() == ["declined"] * 3 + ["approved"]
    assert prompts["prompt_time"].tolist() == [
        stamp("2022-12-26T11:00:30Z"),
        stamp("2022-12-26T11:01:10Z"),
        stamp("2022-12-26T11:01:55Z"),
        stamp("2022-12-26T11:02:40Z"),
    ]


def test_br08_bombing_then_approval(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, ["BR-08_audit.json"], ["BR-08.json"])

    assert len(findings) == 1
    finding = findings[0]
    assert finding["target_upn"] == "dave@contoso.example"
    assert finding["approved"] is True
    assert finding["approval_time"] == "2022-12-26T11:02:40Z"
    assert finding["prompt_counts"]["declined"] == 3
    assert finding["severity"] == "critical"


# BR-10: guest identities joined by object id.


def test_br10_guest_matched_by_id(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, ["BR-10_audit.json"], ["BR-10.json"])

    assert len(findings) == 1
    finding = findings[0]
    assert finding["target_user_id"] == "00000000-0000-4000-8000-0000000e7e01"
    assert finding["denied_prompts"] == 4
    assert finding["first_prompt_time"] == "2024-08-09T16:22:10Z"
    assert finding["last_prompt_time"] == "2024-08-09T16:27:45Z"
    assert finding["matched_by_upn"] is False


def test_br10_both_upn_forms_shown(cases_dir: Path) -> None:
    finding = findings_of(cases_dir, ["BR-10_audit.json"], ["BR-10.json"])[0]

    assert finding["target_upn"] == (
        "ivan.ext_fabrikam.example#EXT#@contoso.onmicrosoft.example"
    )
    assert "ivan.ext@fabrikam.example" in finding["signin_upns"]


def test_br10_member_not_merged(cases_dir: Path) -> None:
    finding = findings_of(cases_dir, ["BR-10_audit.json"], ["BR-10.json"])[0]

    record_ids = {item["record_id"] for item in finding["evidence"]}
    assert "5a000010-0000-4000-8000-000000000005" not in record_ids
    assert "ivan.ext@contoso.example" not in finding["signin_upns"]


def test_br10_guid_prefixed_upn(cases_dir: Path) -> None:
    data = load(cases_dir, ["BR-10_audit.json"], [])

    upns = {normalise_upn(upn) for upn in data.audit["target_upn"]}
    assert upns == {"ivan.ext@fabrikam.example"}


# BR-11: revocations initiated by an app or by a user known only by id.


def test_br11_initiator_types(cases_dir: Path) -> None:
    result = hunt(load(cases_dir, ["BR-11.json"], ["BR-11_signins.json"]))

    revocations = result.revocations.sort_values("revocation_time")
    assert revocations["actor_type"].tolist() == ["user", "app", "user"]


def test_br11_initiator_labels(cases_dir: Path) -> None:
    result = hunt(load(cases_dir, ["BR-11.json"], ["BR-11_signins.json"]))

    revocations = result.revocations.sort_values("revocation_time")
    labels = [
        Actor(
            type=row.actor_type,
            id=row.actor_id,
            upn=row.actor_upn,
            display_name=row.actor_display_name,
            app_id=row.actor_app_id,
            service_principal_id=row.actor_service_principal_id,
        ).label
        for row in revocations.astype(object)
        .where(revocations.notna(), None)
        .itertuples()
    ]
    assert labels[0] == "secadmin@contoso.example"
    assert "soar-playbook" in labels[1]
    assert "a0000000-0000-4000-8000-0000000050a2" in labels[1]
    assert labels[2] == "user 00000000-0000-4000-8000-00000000ad02"
    assert not any("unknown" in label for label in labels)


def test_br11_finding_names_app(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, ["BR-11.json"], ["BR-11_signins.json"])

    assert len(findings) == 1
    finding = findings[0]
    assert finding["target_upn"] == "ken@contoso.example"
    assert finding["actor"]["type"] == "app"
    assert finding["actor"]["display_name"] == "soar-playbook"
    assert "soar-playbook" in finding["summary"]


# BR-12: Event Hub envelope, mixed categories, placeholder nulls.


def test_br12_routing_and_skips(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-12.json"])

    report = data.files[0]
    assert report.records_seen == 7
    assert report.loaded["audit"] == 1
    assert report.loaded["signin"] == 5
    assert sum(report.skipped.values()) == 1
    assert any("ProvisioningLogs" in reason for reason in report.skipped)


def test_br12_null_placeholder_ip(cases_dir: Path) -> None:
    data = load(cases_dir, [], ["BR-12.json"])

    assert data.audit["actor_ip"].isna().tolist() == [True]


def test_br12_only_mfa_failures_prompt(cases_dir: Path) -> None:
    result = hunt(load(cases_dir, [], ["BR-12.json"]))

    assert result.prompts["outcome"].tolist() == ["declined"] * 3


def test_br12_alert_for_mallory(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, [], ["BR-12.json"])

    assert len(findings) == 1
    finding = findings[0]
    assert finding["finding_type"] == "revocation_chain"
    assert finding["target_upn"] == "mallory@contoso.example"
    assert finding["first_prompt_time"] == "2025-12-12T10:58:01.1Z"
    assert finding["last_prompt_time"] == "2025-12-12T11:01:00Z"
    assert finding["actor"]["ip"] is None


def test_br12_summary_names_skipped_category(cases_dir: Path) -> None:
    result = cli(*THRESHOLDS, "--signin", str(cases_dir / "BR-12.json"))

    assert "ProvisioningLogs" in result.stderr


# BR-17: a truncated export page.


def test_br17_strict_stops(cases_dir: Path) -> None:
    result = cli(
        *THRESHOLDS,
        "--format",
        "jsonl",
        "--audit",
        str(cases_dir / "BR-17.json"),
        "--signin",
        str(cases_dir / "BR-17_signins.json"),
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "BR-17.json" in result.stderr
    assert "line 6" in result.stderr
    assert "column 27" in result.stderr
    assert "2 complete records" in result.stderr


def test_br17_lenient_recovers(cases_dir: Path) -> None:
    data = load(cases_dir, ["BR-17.json"], ["BR-17_signins.json"], strict=False)

    assert data.partial
    assert len(data.audit) == 2
    assert len(data.signin) == 3


def test_br17_lenient_alert_partial(cases_dir: Path) -> None:
    result = cli(
        *THRESHOLDS,
        "--format",
        "jsonl",
        "--fail-on",
        "none",
        "--lenient",
        "--audit",
        str(cases_dir / "BR-17.json"),
        "--signin",
        str(cases_dir / "BR-17_signins.json"),
    )

    findings = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert "WARNING" in result.stderr
    assert "BR-17.json" in result.stderr
    assert len(findings) == 1
    assert findings[0]["target_upn"] == "rachel@contoso.example"
    assert findings[0]["partial_input"] is True


def test_br17_coverage_gap_warned(cases_dir: Path) -> None:
    result = cli(
        *THRESHOLDS,
        "--lenient",
        "--fail-on",
        "none",
        "--audit",
        str(cases_dir / "BR-17.json"),
        "--signin",
        str(cases_dir / "BR-17_signins.json"),
    )

    assert "does not cover" in result.stderr


# BR-18: the same sign-in in Event Hub, Graph and Log Analytics shapes.


BR18_FILES = ["BR-18.json", "BR-18_graph.json", "BR-18_la.json"]
BR18_ID = "5a000018-0000-4000-8000-000000000001"


@pytest.mark.parametrize("name", BR18_FILES)
def test_br18_ids_per_shape(cases_dir: Path, name: str) -> None:
    data = load(cases_dir, [], [name])

    assert data.signin["record_id"].tolist() == [BR18_ID]
    assert data.signin["user_id"].tolist() == ["00000000-0000-4000-8000-000000005a4d"]


@pytest.mark.parametrize("name", BR18_FILES)
def test_br18_upn_per_shape(cases_dir: Path, name: str) -> None:
    data = load(cases_dir, [], [name])

    assert data.signin["user_upn"].tolist() == ["sam@contoso.example"]


@pytest.mark.parametrize("name", BR18_FILES)
def test_br18_code_per_shape(cases_dir: Path, name: str) -> None:
    data = load(cases_dir, [], [name])

    codes = data.signin["error_code"].tolist()
    assert codes == [500121]
    assert type(codes[0]) is int
    assert data.signin["is_interactive"].tolist() == [True]


@pytest.mark.parametrize(
    ("name", "event_time"),
    [
        ("BR-18.json", "2026-05-06T04:04:01.8123423Z"),
        ("BR-18_graph.json", "2026-05-06T04:04:01Z"),
        ("BR-18_la.json", "2026-05-06T04:04:01.8123423Z"),
    ],
)
def test_br18_created_time_per_shape(
    cases_dir: Path, name: str, event_time: str
) -> None:
    data = load(cases_dir, [], [name])

    assert data.signin["event_time"].tolist() == [stamp(event_time)]


@pytest.mark.parametrize("name", BR18_FILES)
def test_br18_one_denial_per_shape(cases_dir: Path, name: str) -> None:
    data = load(cases_dir, [], [name])

    prompts = extract_prompts(data.signin, data.steps)
    assert prompts["outcome"].tolist() == ["declined"]


def test_br18_together_one_denial(cases_dir: Path) -> None:
    data = load(cases_dir, [], BR18_FILES)

    prompts = extract_prompts(data.signin, data.steps)
    assert len(data.signin) == 1
    assert sum(report.duplicates for report in data.files) == 2
    assert prompts["outcome"].tolist() == ["declined"]


# BR-19: revocation activity names drift.


def test_br19_four_revocations(cases_dir: Path) -> None:
    result = hunt(load(cases_dir, ["BR-19.json"], []))

    assert sorted(result.revocations["target_upn"]) == [
        "tom@contoso.example",
        "uma@contoso.example",
        "victor@contoso.example",
        "wendy@contoso.example",
    ]


def test_br19_near_miss(cases_dir: Path) -> None:
    result = hunt(load(cases_dir, ["BR-19.json"], []))

    assert result.near_misses["target_upn"].tolist() == ["zoe@contoso.example"]


def test_br19_near_miss_reported(cases_dir: Path) -> None:
    result = cli(*THRESHOLDS, "--audit", str(cases_dir / "BR-19.json"))

    assert "possible revocation, not matched" in result.stderr
    assert "Revoke all sign-in sessions (preview)" in result.stderr


# BR-07: 50074, 50076 and 70044 are interrupts, each followed by success.


def test_br07_no_denials(cases_dir: Path) -> None:
    data = load(cases_dir, ["BR-07_audit.csv"], ["BR-07.csv"])

    prompts = extract_prompts(data.signin, data.steps)

    assert int(prompts["outcome"].isin(DENIALS).sum()) == 0


def test_br07_six_interrupts(cases_dir: Path) -> None:
    data = load(cases_dir, ["BR-07_audit.csv"], ["BR-07.csv"])

    prompts = extract_prompts(data.signin, data.steps)

    assert int((prompts["outcome"] == "interrupt").sum()) == 6


def test_br07_no_alert(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, ["BR-07_audit.csv"], ["BR-07.csv"])

    assert findings == []


# BR-14: the Unified Audit Log CSV with the record inside AuditData.


def test_br14_alert_for_olivia(cases_dir: Path) -> None:
    findings = findings_of(cases_dir, ["BR-14.csv"], ["BR-14.csv"])

    assert [f["finding_type"] for f in findings] == ["revocation_chain"]
    assert findings[0]["target_upn"] == "olivia@contoso.example"
    assert findings[0]["revocation_time"] == "2024-03-01T10:00:00Z"
    assert findings[0]["denied_prompts"] == 4


# BR-15: Log Analytics CSV dates; an ambiguous-only file stops the run.


def test_br15_ambiguous_stops_with_hint(cases_dir: Path) -> None:
    result = cli("--signin", str(cases_dir / "BR-15_ambiguous.csv"), *THRESHOLDS)

    assert result.exit_code == 2
    assert "BR-15_ambiguous.csv" in result.stderr
    assert "TimeGenerated [UTC]" in result.stderr
    assert "--dayfirst" in result.stderr
    assert result.stdout == ""


def test_br15_dayfirst_override_loads(cases_dir: Path) -> None:
    result = cli(
        "--signin",
        str(cases_dir / "BR-15_ambiguous.csv"),
        *THRESHOLDS,
        "--dayfirst",
        "--format",
        "jsonl",
        "--fail-on",
        "none",
    )

    assert result.exit_code == 0
    assert [
        json.loads(line)["first_prompt_time"] for line in result.stdout.splitlines()
    ] == ["2024-11-12T08:49:37.587Z"]
