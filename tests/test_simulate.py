"""Tests of the log simulator: shapes, determinism, labels and the injected scenarios.

Several tests re-derive each scenario's expected finding with a small reference
version of the default burst rule. That rule requires at least 5 denied prompts
inside a sliding 30-minute window that starts within 2 hours of an admin
revocation. A label that disagrees with its records therefore fails here, not in
the detector.
"""

from __future__ import annotations

import errno
import gzip
import inspect
import itertools
import json
import shlex
import shutil
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from h056hunt import timeparse
from h056hunt.cli import main
from h056hunt.errors import ConfigError
from h056hunt.loaders.json_export import SIMULATE_LABELS_REASON, SIMULATE_LABELS_SHAPE
from h056hunt.simulate import (
    SCENARIO_NAMES,
    SHAPES,
    SimulationConfig,
    iter_audit_records,
    iter_signin_records,
    simulate,
    simulate_command,
    tabular,
)
from h056hunt.simulate import command as simulate_module
from h056hunt.simulate import output as output_module
from h056hunt.simulate.config import HUNT_TIME_RANGE

REPOSITORY = Path(__file__).resolve().parents[1]
FORMATS_DOC = REPOSITORY / "docs" / "formats.md"
REVOCATION = "Update StsRefreshTokenValidFrom Timestamp"
DENIAL_REASONS = {
    "MFA denied; user declined the authentication",
    "MFA denied; user did not respond to mobile app notification",
    "MFA denied; Phone App Reported Fraud",
    "MFA denied; user did not select the correct number",
}
DOCUMENTATION_NETWORKS = ("192.0.2.", "198.51.100.", "203.0.113.")

BURST_SIZE = 5
BURST_WINDOW = timedelta(minutes=30)
MAX_START_AFTER_REVOCATION = timedelta(hours=2)
APPROVAL_HORIZON = timedelta(minutes=60)

SMALL = SimulationConfig(users=40, days=2, seed=7)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One default run in Graph NDJSON, loaded back into memory."""
    out_dir = tmp_path_factory.mktemp("simulated")
    result = simulate(SMALL, out_dir)
    return {
        "result": result,
        "audits": read_json_lines(result.audit_path),
        "signins": read_json_lines(result.signin_path),
        "labels": json.loads(result.labels_path.read_text(encoding="utf-8")),
    }


def denial_times(signins: list[dict[str, Any]], user_id: str) -> list[datetime]:
    """Return one time per denied prompt of ``user_id``, from steps or status."""
    times = []
    for record in signins:
        if record["userId"] != user_id:
            continue
        denied_steps = [
            step
            for step in record["authenticationDetails"]
            if not step["succeeded"]
            and step["authenticationStepResultDetail"].lower().startswith("mfa denied;")
        ]
        if denied_steps:
            times += [parse_time(s["authenticationStepDateTime"]) for s in denied_steps]
        elif record["status"]["errorCode"] == 500121:
            times.append(parse_time(record["createdDateTime"]))
    return sorted(times)


def approval_times(signins: list[dict[str, Any]], user_id: str) -> list[datetime]:
    """Return the times of approved push steps of ``user_id``."""
    return sorted(
        parse_time(step["authenticationStepDateTime"])
        for record in signins
        if record["userId"] == user_id
        for step in record["authenticationDetails"]
        if step["succeeded"]
        and step["authenticationStepResultDetail"] == "MFA successfully completed"
    )


def burst_starts(times: list[datetime]) -> list[datetime]:
    """Return each denial that opens a window holding a full burst."""
    starts = []
    for position, first in enumerate(times):
        inside = [time for time in times[position:] if time - first <= BURST_WINDOW]
        if len(inside) >= BURST_SIZE:
            starts.append(first)
    return starts


def has_chain(times: list[datetime], revocation: datetime) -> bool:
    return any(
        timedelta(0) <= start - revocation <= MAX_START_AFTER_REVOCATION
        for start in burst_starts([time for time in times if time >= revocation])
    )


def label_for(simulated: dict[str, Any], scenario: str) -> dict[str, Any]:
    for label in simulated["labels"]["scenarios"]:
        if label["scenario"] == scenario:
            return dict(label)
    raise AssertionError(f"no label for {scenario}")


def records_of(records: list[dict[str, Any]], user_id: str) -> list[dict[str, Any]]:
    return [record for record in records if record["userId"] == user_id]


# Determinism and shapes


def test_same_config_writes_identical_bytes(tmp_path: Path) -> None:
    config = replace(SMALL, gzip=True)
    first = simulate(config, tmp_path / "first")
    second = simulate(config, tmp_path / "second")
    for name in ("audit_path", "signin_path", "labels_path"):
        first_bytes = getattr(first, name).read_bytes()
        second_bytes = getattr(second, name).read_bytes()
        assert first_bytes == second_bytes, name


def test_other_seed_changes_output(tmp_path: Path) -> None:
    first = simulate(SMALL, tmp_path / "first")
    second = simulate(replace(SMALL, seed=8), tmp_path / "second")
    assert first.signin_path.read_bytes() != second.signin_path.read_bytes()


def test_iterators_match_written_records(simulated: dict[str, Any]) -> None:
    assert list(iter_signin_records(SMALL)) == simulated["signins"]
    assert list(iter_audit_records(SMALL)) == simulated["audits"]


# Tabular shapes are read back in test_simulate_shapes.py.
@pytest.mark.parametrize(
    "shape", [shape for shape in SHAPES if shape not in tabular.SHAPES]
)
def test_every_shape_parses_as_json(tmp_path: Path, shape: str) -> None:
    config = replace(SMALL, signin_shape=shape, audit_shape=shape)
    result = simulate(config, tmp_path)
    for path, count, inner_time in (
        (result.signin_path, result.signin_records, "createdDateTime"),
        (result.audit_path, result.audit_records, "activityDateTime"),
    ):
        text = path.read_text(encoding="utf-8")
        if shape.endswith("ndjson"):
            records = [json.loads(line) for line in text.splitlines()]
        elif shape == "graph-page":
            document = json.loads(text)
            assert document["@odata.context"].startswith("https://graph.microsoft.com/")
            records = document["value"]
        elif shape == "eventhub":
            records = json.loads(text)["records"]
        else:
            records = json.loads(text)
        assert len(records) == count
        assert count > 0

        if shape in ("diagnostic-ndjson", "eventhub"):
            for record in records:
                assert record["resourceId"].startswith("/tenants/")
                assert record["time"].endswith("Z")
                assert record["properties"][inner_time].endswith("+00:00")
        else:
            assert all(inner_time in record for record in records)


def test_gzip_output_decompresses(tmp_path: Path) -> None:
    result = simulate(replace(SMALL, gzip=True), tmp_path)
    assert result.signin_path.name == "signin.ndjson.gz"
    with gzip.open(result.signin_path, "rt", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == result.signin_records


def test_diagnostic_records_carry_category(tmp_path: Path) -> None:
    config = replace(SMALL, signin_shape="diagnostic-ndjson")
    records = read_json_lines(simulate(config, tmp_path).signin_path)
    categories = {record["category"] for record in records}
    assert categories == {"SignInLogs", "NonInteractiveUserSignInLogs"}
    for record in records:
        assert record["resultType"] == str(record["properties"]["status"]["errorCode"])
        assert record["operationName"] == "Sign-in activity"


def test_records_sorted_by_time(simulated: dict[str, Any]) -> None:
    signin_times = [parse_time(r["createdDateTime"]) for r in simulated["signins"]]
    audit_times = [parse_time(r["activityDateTime"]) for r in simulated["audits"]]
    assert signin_times == sorted(signin_times)
    assert audit_times == sorted(audit_times)


def test_records_stay_inside_period(simulated: dict[str, Any]) -> None:
    start = SMALL.start
    end = start + timedelta(days=SMALL.days)
    for record in simulated["signins"]:
        assert start <= parse_time(record["createdDateTime"]) < end


# Record contents


def test_addresses_and_names_are_reserved(simulated: dict[str, Any]) -> None:
    for record in simulated["signins"]:
        assert record["ipAddress"].startswith(DOCUMENTATION_NETWORKS)
        assert record["userPrincipalName"].endswith("@contoso.example")
    for record in simulated["audits"]:
        user = record["initiatedBy"]["user"]
        if user is not None and user["ipAddress"] != "<null>":
            assert user["ipAddress"].startswith(DOCUMENTATION_NETWORKS)


def test_audit_ids_follow_directory_pattern(simulated: dict[str, Any]) -> None:
    for record in simulated["audits"]:
        prefix, correlation_id, letters, digits = record["id"].split("_")
        assert prefix == "Directory"
        assert correlation_id == record["correlationId"]
        assert len(letters) == 5
        assert digits.isdigit()
        fraction = record["activityDateTime"].split(".")[1]
        assert len(fraction) == len("1234567Z")


def test_revocation_pair_shares_correlation_id(simulated: dict[str, Any]) -> None:
    audits = simulated["audits"]
    by_correlation: dict[str, list[dict[str, Any]]] = {}
    for record in audits:
        by_correlation.setdefault(record["correlationId"], []).append(record)

    admin_revocations = [
        record
        for record in audits
        if record["activityDisplayName"] == REVOCATION
        and record["initiatedBy"]["user"] is not None
        and record["initiatedBy"]["user"]["id"] != record["targetResources"][0]["id"]
    ]
    assert len(admin_revocations) >= 10
    for revocation in admin_revocations:
        rows = by_correlation[revocation["correlationId"]]
        activities = [row["activityDisplayName"] for row in rows]
        assert activities == [REVOCATION, "Update user"]

        update = rows[1]
        gap = parse_time(update["activityDateTime"]) - parse_time(
            revocation["activityDateTime"]
        )
        assert timedelta(0) < gap < timedelta(milliseconds=5)
        assert (
            update["targetResources"][0]["id"] == revocation["targetResources"][0]["id"]
        )

        properties = {
            change["displayName"]: change
            for change in update["targetResources"][0]["modifiedProperties"]
        }
        included = properties["Included Updated Properties"]["newValue"]
        assert included == '"StsRefreshTokensValidFrom"'
        new_value = json.loads(properties["StsRefreshTokensValidFrom"]["newValue"])
        assert new_value == [revocation["activityDateTime"][:19] + "Z"]


def test_denial_records_carry_entra_strings(simulated: dict[str, Any]) -> None:
    denials = [r for r in simulated["signins"] if r["status"]["errorCode"] == 500121]
    assert denials
    reasons_seen = set()
    for record in denials:
        status = record["status"]
        assert (
            status["failureReason"]
            == "Authentication failed during strong authentication request."
        )
        assert status["additionalDetails"] in DENIAL_REASONS
        reasons_seen.add(status["additionalDetails"])

        failing = [s for s in record["authenticationDetails"] if not s["succeeded"]]
        assert len(failing) == 1
        assert failing[0]["authenticationMethod"] == "Mobile app notification"
        assert (
            failing[0]["authenticationStepResultDetail"] == status["additionalDetails"]
        )
        assert record["mfaDetail"]["authMethod"] == "Mobile app notification"
    assert reasons_seen == DENIAL_REASONS


def test_approvals_complete_mfa(simulated: dict[str, Any]) -> None:
    approvals = [
        record
        for record in simulated["signins"]
        if record["status"]["errorCode"] == 0
        and any(
            step["authenticationMethod"] == "Mobile app notification"
            for step in record["authenticationDetails"]
        )
    ]
    assert approvals
    for record in approvals:
        assert record["status"]["additionalDetails"] == "MFA completed in Azure AD"
        last_step = record["authenticationDetails"][-1]
        assert last_step["succeeded"] is True
        assert (
            last_step["authenticationStepResultDetail"] == "MFA successfully completed"
        )


def test_noise_includes_background_kinds(simulated: dict[str, Any]) -> None:
    codes = {record["status"]["errorCode"] for record in simulated["signins"]}
    assert {0, 50126, 50140, 50173, 500121} <= codes
    non_interactive = [r for r in simulated["signins"] if not r["isInteractive"]]
    assert non_interactive
    assert all(r["signInEventTypes"] == ["nonInteractiveUser"] for r in non_interactive)
    activities = {record["activityDisplayName"] for record in simulated["audits"]}
    assert {"Reset password", "Add member to group"} <= activities


def test_average_signin_size_is_realistic(simulated: dict[str, Any]) -> None:
    size = simulated["result"].signin_path.stat().st_size
    average = size / simulated["result"].signin_records
    assert 3000 <= average <= 4500


# Labels and scenarios


def test_labels_list_every_scenario(simulated: dict[str, Any]) -> None:
    labels = simulated["labels"]["scenarios"]
    assert [label["scenario"] for label in labels] == list(SCENARIO_NAMES)
    for label in labels:
        assert label["expected_finding"] in ("revocation_chain", "push_bombing", "none")
        assert label["target_user_ids"]
        assert label["actor_id"]
        assert isinstance(label["approved"], bool)


def test_labels_only_list_selected_scenarios(tmp_path: Path) -> None:
    config = replace(SMALL, scenarios=("chain_approved", "add_user"))
    result = simulate(config, tmp_path)
    labels = json.loads(result.labels_path.read_text(encoding="utf-8"))
    assert [label["scenario"] for label in labels["scenarios"]] == [
        "chain_approved",
        "add_user",
    ]
    assert result.scenarios == ("chain_approved", "add_user")


def test_label_counts_match_records(simulated: dict[str, Any]) -> None:
    signins = simulated["signins"]
    for label in simulated["labels"]["scenarios"]:
        injected = sum(
            len(denial_times(signins, user_id)) for user_id in label["target_user_ids"]
        )
        # Background noise may add a stray denial outside the scenario's window.
        assert injected >= label["denied_prompts"], label["scenario"]


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_label_matches_reference_rule(simulated: dict[str, Any], scenario: str) -> None:
    label = label_for(simulated, scenario)
    signins = simulated["signins"]
    revocations = {
        item["user_id"]: parse_time(item["time"]) for item in label["revocations"]
    }

    chains = []
    bursts = []
    for user_id in label["target_user_ids"]:
        times = denial_times(signins, user_id)
        bursts.append(bool(burst_starts(times)))
        if user_id in revocations and label["actor_id"] != user_id:
            chains.append(has_chain(times, revocations[user_id]))

    expected = label["expected_finding"]
    if expected == "revocation_chain":
        assert any(chains)
    elif expected == "push_bombing":
        assert any(bursts)
        assert not any(chains)
    else:
        assert not any(chains)
        assert not any(bursts)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_label_approval_matches_records(
    simulated: dict[str, Any], scenario: str
) -> None:
    label = label_for(simulated, scenario)
    start_text = label["revocation_time"] or label["audit_time"]
    start = parse_time(start_text)
    end = start + APPROVAL_HORIZON
    if label["last_denial_time"]:
        end = max(end, parse_time(label["last_denial_time"]) + APPROVAL_HORIZON)

    approved = any(
        start <= time <= end
        for user_id in label["target_user_ids"]
        for time in approval_times(simulated["signins"], user_id)
    )
    assert approved == label["approved"]


def test_noise_forms_no_unlabelled_chain(simulated: dict[str, Any]) -> None:
    labelled = {
        user_id
        for label in simulated["labels"]["scenarios"]
        for user_id in label["target_user_ids"]
    }
    for record in simulated["audits"]:
        if record["activityDisplayName"] != REVOCATION:
            continue
        target = record["targetResources"][0]["id"]
        if target in labelled:
            continue
        times = denial_times(simulated["signins"], target)
        assert not has_chain(times, parse_time(record["activityDateTime"]))


def test_campaign_revokes_six_within_twenty_minutes(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "campaign")
    times = sorted(parse_time(item["time"]) for item in label["revocations"])
    assert len(times) == 6
    assert times[-1] - times[0] <= timedelta(minutes=20)
    assert len(label["bombed_user_ids"]) == 3
    assert len(label["approved_user_ids"]) == 1


def test_self_revocation_initiator_is_target(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "self_revocation")
    target = label["target_user_ids"][0]
    rows = [
        record
        for record in simulated["audits"]
        if record["targetResources"][0]["id"] == target
        and record["activityDisplayName"] == REVOCATION
    ]
    assert len(rows) == 1
    assert rows[0]["initiatedBy"]["user"]["id"] == target
    assert rows[0]["targetResources"][0]["modifiedProperties"] == []


def test_add_user_valid_from_starts_empty(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "add_user")
    rows = [
        record
        for record in simulated["audits"]
        if record["activityDisplayName"] == "Add user"
    ]
    assert len(rows) == 1
    assert rows[0]["targetResources"][0]["id"] == label["target_user_ids"][0]
    changes = {
        change["displayName"]: change
        for change in rows[0]["targetResources"][0]["modifiedProperties"]
    }
    assert changes["StsRefreshTokensValidFrom"]["oldValue"] == "[]"
    assert label["revocation_time"] is None


def test_interrupts_are_followed_by_success(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "interrupts_then_success")
    revocation = parse_time(label["revocation_time"])
    # Four interrupt rounds end well within 2 hours, and noise stays away for an
    # hour after the last one.
    after = [
        record
        for record in records_of(simulated["signins"], label["target_user_ids"][0])
        if revocation
        <= parse_time(record["createdDateTime"])
        <= revocation + timedelta(hours=2)
    ]
    codes = [record["status"]["errorCode"] for record in after]
    interrupts = [i for i, code in enumerate(codes) if code in (50074, 50076)]
    assert [codes[i] for i in interrupts] == [50076, 50074, 50076, 50074]
    for position in interrupts:
        assert codes[position + 1] == 0
    assert 500121 not in codes


def test_bucket_boundary_splits_three_and_three(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "burst_across_bucket_boundary")
    times = denial_times(simulated["signins"], label["target_user_ids"][0])
    revocation = parse_time(label["revocation_time"])
    times = [time for time in times if time >= revocation][:6]
    buckets = [
        time.replace(minute=time.minute - time.minute % 10, second=0) for time in times
    ]
    assert len(set(buckets)) == 2
    assert buckets.count(buckets[0]) == 3


def test_slow_drip_spans_about_25_minutes(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "slow_drip")
    first = parse_time(label["first_denial_time"])
    last = parse_time(label["last_denial_time"])
    assert label["denied_prompts"] == 6
    assert timedelta(minutes=24) <= last - first <= timedelta(minutes=26)


def test_ip_per_prompt_uses_distinct_addresses(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "ip_per_prompt")
    records = records_of(simulated["signins"], label["target_user_ids"][0])
    addresses = [r["ipAddress"] for r in records if r["status"]["errorCode"] == 500121]
    assert len(addresses) == label["denied_prompts"]
    assert len(set(addresses)) == len(addresses)


def test_late_bombing_starts_after_an_hour(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "late_bombing")
    delay = parse_time(label["first_denial_time"]) - parse_time(
        label["revocation_time"]
    )
    assert timedelta(minutes=74) <= delay <= timedelta(minutes=76)


def test_steps_only_hides_denials_in_steps(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "steps_only")
    revocation = parse_time(label["revocation_time"])
    approval = parse_time(label["approval_time"])
    records = [
        record
        for record in records_of(simulated["signins"], label["target_user_ids"][0])
        if revocation <= parse_time(record["createdDateTime"]) <= approval
    ]
    assert 500121 not in {record["status"]["errorCode"] for record in records}

    carriers = [
        record
        for record in records
        if any(
            step["authenticationStepResultDetail"].startswith("MFA denied;")
            for step in record["authenticationDetails"]
        )
    ]
    assert {record["status"]["errorCode"] for record in carriers} == {0, 50140}
    denied_steps = sum(
        not step["succeeded"]
        for record in carriers
        for step in record["authenticationDetails"]
    )
    assert denied_steps == label["denied_prompts"]


def test_daily_denier_denies_every_day(simulated: dict[str, Any]) -> None:
    label = label_for(simulated, "daily_denier")
    times = denial_times(simulated["signins"], label["target_user_ids"][0])
    days = {time.date() for time in times}
    assert len(days) == SMALL.days


# Configuration and command


@pytest.mark.parametrize(
    "changes",
    [
        {"scenarios": ("no_such_scenario",)},
        {"scenarios": ("chain_approved", "chain_approved")},
        {"users": 5},
        {"days": 0},
        {"noise_per_user_per_day": -1},
        {"signin_shape": "csv"},
        {"start": datetime(2026, 3, 2)},
    ],
)
def test_config_rejects_invalid_values(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        SimulationConfig(**changes)


def test_config_default_start_is_fixed() -> None:
    assert SimulationConfig().start == datetime(2026, 3, 2, tzinfo=UTC)


def test_command_writes_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    arguments = [
        "--users", "30", "--days", "1", "--seed", "3", "--noise", "2",
        "--scenario", "chain_approved", "--scenario", "helpdesk_benign",
        "--signin-shape", "graph-page", "--audit-shape", "eventhub",
        "--out", str(out_dir),
    ]  # fmt: skip
    outcome = CliRunner().invoke(simulate_command, arguments)
    assert outcome.exit_code == 0, outcome.output
    assert (out_dir / "signin.json").is_file()
    assert (out_dir / "audit.json").is_file()
    labels = json.loads((out_dir / "labels.json").read_text(encoding="utf-8"))
    assert len(labels["scenarios"]) == 2
    assert "2 scenarios" in outcome.output


def test_command_rejects_nonempty_folder(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    arguments = ["--users", "30", "--days", "1", "--noise", "2", "--out", str(out_dir)]
    assert CliRunner().invoke(simulate_command, arguments).exit_code == 0
    earlier = {path.name: path.read_bytes() for path in out_dir.iterdir()}

    arguments[arguments.index("--users") + 1] = "31"
    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 2
    assert f"{out_dir}: the output folder exists and is not empty" in outcome.output
    assert "hint: name a new folder" in outcome.output
    after = {path.name: path.read_bytes() for path in out_dir.iterdir()}
    assert after == earlier


def test_command_accepts_empty_folder(tmp_path: Path) -> None:
    arguments = ["--users", "30", "--days", "1", "--noise", "2", "--out", str(tmp_path)]
    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "labels.json").is_file()


def test_command_interrupted_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = tmp_path / "out"
    arguments = ["--users", "30", "--days", "1", "--noise", "2", "--out", str(out_dir)]
    write_records = output_module.write_records

    def interrupt_on_signins(path: Path, *args: Any) -> int:
        if path.name.startswith("signin"):
            # Write part of the file first, as a real Ctrl-C mid-run would leave it.
            path.write_text('{"id": "cut off"}\n', encoding="utf-8")
            raise KeyboardInterrupt
        return write_records(path, *args)

    monkeypatch.setattr(output_module, "write_records", interrupt_on_signins)
    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 130
    assert "interrupted" in outcome.output
    assert "Aborted" not in outcome.output
    # The run created the folder, so it removes it, and a rerun may write there.
    assert not out_dir.exists()


def test_command_help_shows_examples() -> None:
    outcome = CliRunner().invoke(simulate_command, ["--help"])
    assert outcome.exit_code == 0
    assert "h056 simulate --out" in outcome.output


def documented_commands(text: str) -> list[list[str]]:
    """Return the ``h056`` command lines of a help text or document, split."""
    joined = text.replace("\\\n", " ")
    lines = (line.strip() for line in joined.splitlines())
    return [shlex.split(line)[1:] for line in lines if line.startswith("h056 ")]


def run_mixed_example(commands: list[list[str]]) -> None:
    """Run the documented log-analytics-csv simulation and its hunt."""
    simulate_args = next(args for args in commands if "log-analytics-csv" in args)
    hunt_args = next(args for args in commands if args[0] == "hunt")
    runner = CliRunner()

    simulated = runner.invoke(main, simulate_args)
    without_flag = runner.invoke(
        main, [arg for arg in hunt_args if arg != "--monthfirst"]
    )
    hunted = runner.invoke(main, hunt_args)

    assert simulated.exit_code == 0, simulated.output
    assert "--monthfirst" in hunt_args
    assert without_flag.exit_code == 2
    assert "Rerun with --dayfirst or --monthfirst" in without_flag.stderr
    # Exit code 1: the simulated attacks are found at the default --fail-on high.
    assert hunted.exit_code == 1, hunted.stderr


def test_help_log_analytics_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = CliRunner().invoke(main, ["simulate", "--help"])

    assert "hunt those files with --monthfirst" in outcome.output
    run_mixed_example(documented_commands(outcome.output))


def test_formats_doc_log_analytics_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = FORMATS_DOC.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    run_mixed_example(documented_commands(text))


def test_command_rejects_too_few_users(tmp_path: Path) -> None:
    arguments = ["--users", "4", "--out", str(tmp_path)]
    outcome = CliRunner().invoke(simulate_command, arguments)
    needed = SimulationConfig(users=1000).minimum_users()
    assert outcome.exit_code == 2
    assert f"--users 4 is too few: the selected scenarios need {needed}" in (
        outcome.output
    )
    assert f"pass --users {needed} or more" in outcome.output


@pytest.mark.parametrize(
    "start", ["2026-02-30", "2026-04-31T00:00:00", "2027-02-29T00:00:00Z"]
)
def test_start_day_out_of_range(tmp_path: Path, start: str) -> None:
    out = tmp_path / "sim"
    arguments = ["--start", start, "--out", str(out)]

    outcome = CliRunner().invoke(simulate_command, arguments)
    message = " ".join(outcome.output.split())

    assert outcome.exit_code == 2
    assert not out.exists()
    assert f"invalid date {start!r}: day is out of range for month" in message
    assert "give a calendar date such as 2026-03-02" in message
    assert "does not match the formats" not in message


def test_start_wrong_shape_lists_formats(tmp_path: Path) -> None:
    # strptime reports a month of 13 as a format mismatch, so the message that
    # lists the accepted formats stays.
    arguments = ["--start", "2026-13-01", "--out", str(tmp_path / "sim")]

    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 2
    assert "does not match the formats" in outcome.output


def test_start_formats_still_accepted(tmp_path: Path) -> None:
    for number, start in enumerate(
        ["2026-03-02", "2026-03-02T05:00:00", "2026-03-02T05:00:00Z"]
    ):
        out = tmp_path / f"sim{number}"
        arguments = ["--start", start, "--noise", "0", "--out", str(out)]

        outcome = CliRunner().invoke(simulate_command, arguments)

        assert outcome.exit_code == 0, outcome.output
        assert (out / "labels.json").exists()


# Scale


def _take(records: Iterator[dict[str, Any]], count: int) -> int:
    return sum(1 for _ in itertools.islice(records, count))


def test_generator_is_lazy_and_bounded() -> None:
    config = SimulationConfig(users=500, days=2, seed=3, noise_per_user_per_day=20)
    records = iter_signin_records(config)
    assert inspect.isgenerator(records)

    tracemalloc.start()
    try:
        assert _take(records, 1000) == 1000
        baseline, _ = tracemalloc.get_traced_memory()
        consumed = _take(records, 20_000)
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert consumed >= 19_000
    # 20,000 records of about 4 KB would need far more than 80 MB if they were kept.
    assert current - baseline < 10 * 1024 * 1024


def test_sample_logs_match_generator(tmp_path: Path) -> None:
    sample_logs = Path(__file__).resolve().parents[1] / "sample_logs"
    config = SimulationConfig(
        users=40,
        days=2,
        seed=7,
        noise_per_user_per_day=6,
        signin_shape="graph-page",
        audit_shape="graph-page",
    )
    simulate(config, tmp_path)
    for name in ("audit.json", "signin.json", "labels.json"):
        expected = (tmp_path / name).read_bytes()
        assert (sample_logs / name).read_bytes() == expected, name


def test_command_summary_singular_counts(tmp_path: Path) -> None:
    out = tmp_path / "one"
    arguments = ["--scenario", "add_user", "--noise", "0", "--users", "3"]
    arguments += ["--audit-rate", "0", "--out", str(out)]

    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 0, outcome.output
    labels = json.loads((out / "labels.json").read_text(encoding="utf-8"))
    assert len(labels["scenarios"]) == 1
    assert f"{out / 'labels.json'}: 1 scenario\n" in outcome.output
    assert "1 scenarios" not in outcome.output


def test_command_summary_plural_counts(tmp_path: Path) -> None:
    out = tmp_path / "two"
    arguments = ["--scenario", "add_user", "--scenario", "stray_denial"]
    arguments += ["--users", "10", "--out", str(out)]

    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 0, outcome.output
    assert f"{out / 'labels.json'}: 2 scenarios\n" in outcome.output
    assert " audit records\n" in outcome.output
    assert " sign-in records\n" in outcome.output


def test_command_names_repeated_scenario(tmp_path: Path) -> None:
    arguments = ["--scenario", "campaign", "--scenario", "add_user"]
    arguments += ["--scenario", "campaign", "--out", str(tmp_path / "out")]

    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 2
    assert "scenario campaign is listed more than once" in outcome.output
    assert "hint: give each --scenario once" in outcome.output
    assert not (tmp_path / "out").exists()


def test_command_names_repeated_scenarios(tmp_path: Path) -> None:
    arguments = ["--scenario", "campaign", "--scenario", "add_user"]
    arguments += ["--scenario", "add_user", "--scenario", "campaign"]
    arguments += ["--out", str(tmp_path / "out")]

    outcome = CliRunner().invoke(simulate_command, arguments)

    assert outcome.exit_code == 2
    assert "scenarios add_user, campaign are listed more than once" in outcome.output


def test_users_help_names_minimum() -> None:
    result = CliRunner().invoke(main, ["simulate", "--help"])

    needed = SimulationConfig(users=1000).minimum_users()
    assert f"Every scenario together needs at least {needed}." in " ".join(
        result.stdout.split()
    )


@pytest.mark.parametrize("fast_path", [True, False])
def test_hunt_of_folder_names_labels(
    simulated: dict[str, Any], fast_path: bool
) -> None:
    folder = str(simulated["result"].labels_path.parent)
    args = ["hunt", "--audit", folder, "--signin", folder, "--format", "json"]
    args += ["--fail-on", "none"]
    if not fast_path:
        args.append("--no-fast-path")
    result = CliRunner().invoke(main, args)

    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["run"]["files"]
    labels = next(entry for entry in files if entry["path"].endswith("labels.json"))
    assert labels["records_seen"] == 1
    assert labels["skipped"] == 1
    assert labels["shape"] == SIMULATE_LABELS_SHAPE
    assert labels["skipped_by_reason"] == {SIMULATE_LABELS_REASON: 1}
    assert "h056 simulate" in SIMULATE_LABELS_REASON


@pytest.mark.parametrize("doc", ["README.md", "docs/formats.md"])
def test_docs_quote_labels_skip_reason(doc: str) -> None:
    # The reason is a key of skipped_by_reason, so scripts match it whole.
    text = " ".join((REPOSITORY / doc).read_text(encoding="utf-8").split())

    assert f'"{SIMULATE_LABELS_REASON}"' in text


def test_portal_run_names_auth_details(tmp_path: Path) -> None:
    out = tmp_path / "portal"
    result = CliRunner().invoke(
        main,
        ["simulate", "--users", "30", "--noise", "0", "--signin-shape", "portal-csv"]
        + ["--out", str(out)],
    )

    assert result.exit_code == 0, result.output
    details = out / "signin_AuthDetails.csv"
    assert details.is_file()
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{details}: ") for line in lines), lines
    assert "give it to --signin with signin.csv" in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        ["--days", "100000"],
        ["--start", "2262-04-01", "--days", "30"],
        ["--start", "1600-01-01"],
        ["--days", "99999999999"],
        ["--start", "9999-12-31"],
        ["--start", "2262-04-09", "--days", "1"],
        ["--start", "1677-12-31"],
    ],
)
def test_period_past_pandas_dates_rejected(
    tmp_path: Path, arguments: list[str]
) -> None:
    out = tmp_path / "sim"

    result = CliRunner().invoke(main, ["simulate", *arguments, "--out", str(out)])

    assert result.exit_code == 2, result.output
    assert "the dates that the hunt can read" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "start",
    [HUNT_TIME_RANGE[0], HUNT_TIME_RANGE[1] - timedelta(days=1)],
    ids=["first_day", "last_day"],
)
@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_period_at_range_edge_hunted_whole(
    tmp_path: Path, start: datetime, path_option: list[str]
) -> None:
    out = tmp_path / "sim"
    simulated = CliRunner().invoke(
        main,
        [
            "simulate",
            "--users",
            "30",
            "--noise",
            "1",
            "--days",
            "1",
            "--start",
            start.date().isoformat(),
            "--out",
            str(out),
        ],
    )
    assert simulated.exit_code == 0, simulated.output

    hunted = CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            str(out),
            "--signin",
            str(out),
            "--format",
            "json",
            "--fail-on",
            "none",
            *path_option,
        ],
    )

    assert hunted.exit_code == 0, hunted.stderr
    records = json.loads(hunted.stdout)["run"]["records"]
    # Only labels.json is skipped; every simulated record has a readable time.
    assert records["skipped_by_reason"] == {SIMULATE_LABELS_REASON: 1}


def test_period_range_matches_hunt_times() -> None:
    first, end = HUNT_TIME_RANGE
    first_nanoseconds = int(first.timestamp()) * 1_000_000_000
    end_nanoseconds = int(end.timestamp()) * 1_000_000_000

    assert first_nanoseconds == timeparse._FIRST_EVENT_NANOSECONDS
    assert end_nanoseconds == timeparse._END_EVENT_NANOSECONDS


def test_period_error_counts_days(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--start",
            "1677-12-31",
            "--out",
            str(tmp_path / "sim"),
            "--days",
            "1",
        ],
    )

    assert result.exit_code == 2, result.output
    assert "the period of 1 day from 1677-12-31" in result.stderr


def test_logs_larger_than_free_space_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "new" / "sim"
    # A disk with 1 MB free, while the default tenant needs at least 8 MB per
    # 1,000 users and day.
    free = shutil.disk_usage(tmp_path)._replace(free=1_000_000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: free)

    result = CliRunner().invoke(
        main, ["simulate", "--users", "5000", "--out", str(out)]
    )

    assert result.exit_code == 2, result.output
    assert "take at least 80.0 MB" in result.stderr
    assert "has 1.0 MB free" in result.stderr
    assert "add --gzip" in result.stderr
    assert not out.exists()


def test_free_space_error_counts_one_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    free = shutil.disk_usage(tmp_path)._replace(free=1_000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: free)

    result = CliRunner().invoke(
        main, ["simulate", "--days", "1", "--out", str(tmp_path / "sim")]
    )

    assert result.exit_code == 2, result.output
    assert "the logs of 50 users over 1 day take at least" in result.stderr


def fail_on_write(*arguments: object) -> None:
    raise AssertionError("simulate wrote logs that the free space check should stop")


@pytest.mark.parametrize(
    ("free_bytes", "shown"),
    [(512, "512 bytes"), (40_960, "41.0 KB"), (3_500_000_000, "3.5 GB")],
)
def test_free_space_shown_in_its_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_bytes: int, shown: str
) -> None:
    free = shutil.disk_usage(tmp_path)._replace(free=free_bytes)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: free)
    # The logs of a million users need at least 16 GB. Writing them would fill
    # the disk, so a run that passed the check fails at once.
    monkeypatch.setattr(simulate_module, "simulate", fail_on_write)

    result = CliRunner().invoke(
        main,
        ["simulate", "--users", "1000000", "--out", str(tmp_path / "sim")],
    )

    assert result.exit_code == 2, result.output
    assert f"has {shown} free" in result.stderr


@pytest.mark.parametrize("compress", [False, True])
def test_full_disk_hint_names_smaller_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    def write_to_full_disk(*arguments: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "sim"))

    monkeypatch.setattr(simulate_module, "simulate", write_to_full_disk)
    arguments = ["simulate", "--out", str(tmp_path / "sim")]
    if compress:
        arguments.append("--gzip")

    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr
    assert "writable disk" not in result.stderr
    assert "lower --users, --days or --noise" in result.stderr
    assert ("add --gzip" in result.stderr) is not compress
    assert "name a folder on a larger disk with --out" in result.stderr


def test_read_only_disk_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write_to_read_only_disk(*arguments: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "sim"))

    monkeypatch.setattr(simulate_module, "simulate", write_to_read_only_disk)

    result = CliRunner().invoke(main, ["simulate", "--out", str(tmp_path / "sim")])

    assert result.exit_code == 2, result.output
    assert "Read-only file system" in result.stderr
    assert "name a folder on a writable disk with --out" in result.stderr


def test_logs_within_free_space_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sim"
    needed = SimulationConfig(users=60, days=1).minimum_bytes()
    free = shutil.disk_usage(tmp_path)._replace(free=needed)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: free)

    result = CliRunner().invoke(
        main, ["simulate", "--users", "60", "--days", "1", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert (out / "signin.ndjson").stat().st_size > needed


def test_audit_rate_counted_in_free_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sim"
    # With no background sign-ins, only the audit rows can fill the 1 MB free:
    # 50 users over 1 day at 1,000 rows each take at least 15 MB.
    free = shutil.disk_usage(tmp_path)._replace(free=1_000_000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: free)
    # A run that passed the check would write those 15 MB or more.
    monkeypatch.setattr(simulate_module, "simulate", fail_on_write)
    arguments = ["--days", "1", "--noise", "0", "--audit-rate", "1000"]

    result = CliRunner().invoke(main, ["simulate", *arguments, "--out", str(out)])

    assert result.exit_code == 2, result.output
    assert "take at least 15.0 MB" in result.stderr
    assert "--audit-rate" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("rate", ["nan", "inf", "1e308"])
def test_audit_rate_not_finite_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: str
) -> None:
    out = tmp_path / "sim"
    monkeypatch.setattr(simulate_module, "simulate", fail_on_write)

    result = CliRunner().invoke(
        main, ["simulate", "--days", "1", "--audit-rate", rate, "--out", str(out)]
    )

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def fill_disk_on_write(path: Path, *arguments: object) -> int:
    """Stand in for write_records: write a few bytes, then fail as a full disk."""
    path.write_bytes(b"{}")
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


@pytest.mark.parametrize("depth", [1, 2], ids=["folder", "folder-and-parent"])
def test_failed_write_removes_new_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, depth: int
) -> None:
    monkeypatch.setattr(output_module, "write_records", fill_disk_on_write)
    out = tmp_path.joinpath(*(f"level{index}" for index in range(depth)))

    result = CliRunner().invoke(
        main, ["simulate", "--users", "50", "--days", "1", "--out", str(out)]
    )

    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_given_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output_module, "write_records", fill_disk_on_write)
    out = tmp_path / "sim"
    out.mkdir()

    result = CliRunner().invoke(
        main, ["simulate", "--users", "50", "--days", "1", "--out", str(out)]
    )

    assert result.exit_code == 2, result.output
    assert out.is_dir()
    assert list(out.iterdir()) == []


def test_interrupted_write_removes_new_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt_on_write(path: Path, *arguments: object) -> int:
        path.write_bytes(b"{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(output_module, "write_records", interrupt_on_write)
    out = tmp_path / "sim"

    with pytest.raises(KeyboardInterrupt):
        simulate(SimulationConfig(users=50, days=1), out)

    assert not out.exists()
