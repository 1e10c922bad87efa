"""Tests for the ``h056 hunt`` command: exit codes, outputs and safe rendering."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main

ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"
USER_ID = "00000000-0000-4000-8000-000000000b0b"
DENIED = "MFA denied; user declined the authentication"
THRESHOLDS = ["--min-denials", "3", "--burst-window", "10m", "--max-lag", "60m"]
OUTCOME_KEYS = {
    "declined",
    "unanswered",
    "fraud",
    "wrong_number",
    "other_denial",
    "approved",
    "interrupt",
}
DOCUMENTED_KEYS = {
    "finding_id",
    "finding_type",
    "severity",
    "score",
    "score_factors",
    "target_user_id",
    "target_upn",
    "actor",
    "revocation_time",
    "first_prompt_time",
    "last_prompt_time",
    "prompt_counts",
    "approved",
    "approval_time",
    "source_ips",
    "evidence",
    "summary",
}
MARKUP = "[bold red]x[/]"
ESCAPE = "\x1b[31mred"
LINK = "\x1b]8;;https://example.invalid/\x1b\\click\x1b]8;;\x1b\\"
OVERRIDE = "\u202egnp.exe"


def revocation(**user: Any) -> dict[str, Any]:
    initiator = {
        "id": ADMIN_ID,
        "userPrincipalName": "secadmin@contoso.example",
        "ipAddress": "198.51.100.10",
    }
    initiator.update(user)
    return {
        "id": "Directory_0001",
        "category": "UserManagement",
        "correlationId": "c0000000-0000-4000-8000-000000000001",
        "result": "success",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2024-05-14T09:00:05.1234567Z",
        "initiatedBy": {"app": None, "user": initiator},
        "targetResources": [
            {"id": USER_ID, "type": "User", "userPrincipalName": "bob@contoso.example"}
        ],
    }


def denial(number: int, minute: int, detail: str = DENIED) -> dict[str, Any]:
    return {
        "id": f"5a000000-0000-4000-8000-00000000000{number}",
        "createdDateTime": f"2024-05-14T09:{minute:02d}:10Z",
        "userPrincipalName": "bob@contoso.example",
        "userId": USER_ID,
        "userDisplayName": "Bob",
        "ipAddress": "203.0.113.88",
        "originalRequestId": f"7e000000-0000-4000-8000-00000000000{number}",
        "status": {"errorCode": 500121, "additionalDetails": detail},
    }


def write_page(path: Path, records: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return str(path)


@pytest.fixture
def audit_file(tmp_path: Path) -> str:
    return write_page(tmp_path / "audit.json", [revocation()])


@pytest.fixture
def signin_file(tmp_path: Path) -> str:
    records = [denial(1, 3), denial(2, 4), denial(3, 6)]
    return write_page(tmp_path / "signins.json", records)


@pytest.fixture
def quiet_signin_file(tmp_path: Path) -> str:
    return write_page(tmp_path / "quiet.json", [denial(1, 3)])


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["hunt", *args], catch_exceptions=False)


def jsonl(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_no_findings_exit_zero(audit_file: str, quiet_signin_file: str) -> None:
    result = run("--audit", audit_file, "--signin", quiet_signin_file, *THRESHOLDS)

    assert result.exit_code == 0
    assert "No findings." in result.stdout


def test_chain_reaches_default_fail_on(audit_file: str, signin_file: str) -> None:
    result = run("--audit", audit_file, "--signin", signin_file, *THRESHOLDS)

    assert result.exit_code == 1


def test_fail_on_none(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit", audit_file, "--signin", signin_file, *THRESHOLDS, "--fail-on", "none"
    )

    assert result.exit_code == 0


def test_fail_on_above_severity(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--fail-on",
        "critical",
    )

    assert result.exit_code == 0


def test_truncated_input_exit_two(tmp_path: Path, audit_file: str) -> None:
    path = tmp_path / "cut-signins.json"
    path.write_text(json.dumps({"value": [denial(1, 3), denial(2, 4)]})[:-30])

    result = run("--audit", audit_file, "--signin", str(path), *THRESHOLDS)

    assert result.exit_code == 2
    assert "cut-signins.json" in result.stderr
    assert result.stdout == ""


def test_no_inputs_usage_error() -> None:
    result = run("--format", "jsonl")

    assert result.exit_code == 2
    assert "--audit" in result.stderr


def test_bad_duration_usage_error(audit_file: str) -> None:
    result = run("--audit", audit_file, "--max-lag", "soon")

    assert result.exit_code == 2
    assert "invalid duration" in result.stderr


def test_missing_path_exit_two(tmp_path: Path) -> None:
    result = run("--audit", str(tmp_path / "absent.json"))

    assert result.exit_code == 2
    assert "absent.json" in result.stderr


def test_jsonl_documented_keys(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--format",
        "jsonl",
    )

    records = jsonl(result)
    assert len(records) == 1
    record = records[0]
    assert DOCUMENTED_KEYS - set(record) == set()
    assert {"type", "id", "upn", "display_name", "ip"} - set(record["actor"]) == set()
    assert set(record["prompt_counts"]) == OUTCOME_KEYS


def test_jsonl_values(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--format",
        "jsonl",
    )

    record = jsonl(result)[0]
    assert record["finding_type"] == "revocation_chain"
    assert record["severity"] == "high"
    assert record["target_user_id"] == USER_ID
    assert record["actor"]["upn"] == "secadmin@contoso.example"
    assert record["actor"]["ip"] == "198.51.100.10"
    assert record["prompt_counts"]["declined"] == 3
    assert record["approved"] is False
    assert record["source_ips"] == ["203.0.113.88"]
    assert isinstance(record["summary"], str)


def test_jsonl_times_utc(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--format",
        "jsonl",
        "--tz",
        "Asia/Tokyo",
    )

    record = jsonl(result)[0]
    assert record["revocation_time"] == "2024-05-14T09:00:05.1234567Z"
    assert record["first_prompt_time"] == "2024-05-14T09:03:10Z"
    assert record["last_prompt_time"] == "2024-05-14T09:06:10Z"
    assert all(item["time"].endswith("Z") for item in record["evidence"])


def test_jsonl_evidence_locations(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--format",
        "jsonl",
    )

    evidence = jsonl(result)[0]["evidence"]
    assert [item["file"] for item in evidence] == [audit_file] + [signin_file] * 3
    assert all(item["line"] == 1 for item in evidence)
    assert [item["record"] for item in evidence] == [1, 1, 2, 3]


def test_output_file_written(tmp_path: Path, audit_file: str, signin_file: str) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "findings.jsonl"

    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--format",
        "jsonl",
        "--output",
        str(target),
    )

    assert result.stdout == ""
    assert len(target.read_text().splitlines()) == 1
    assert [path.name for path in out_dir.iterdir()] == ["findings.jsonl"]


def test_jsonl_deterministic(audit_file: str, signin_file: str) -> None:
    args = ["--format", "jsonl", *THRESHOLDS]

    first = run("--audit", audit_file, "--signin", signin_file, *args)
    second = run("--audit", audit_file, "--signin", signin_file, *args)

    assert first.stdout_bytes == second.stdout_bytes


def test_jsonl_input_order_irrelevant(tmp_path: Path, audit_file: str) -> None:
    early = write_page(tmp_path / "early.json", [denial(1, 3), denial(2, 4)])
    late = write_page(tmp_path / "late.json", [denial(2, 4), denial(3, 6)])
    args = ["--audit", audit_file, "--format", "jsonl", *THRESHOLDS]

    forward = run(*args, "--signin", early, "--signin", late)
    backward = run(*args, "--signin", late, "--signin", early)

    assert forward.stdout != ""
    assert forward.stdout_bytes == backward.stdout_bytes


def test_subprocess_same_output_in_tokyo(audit_file: str, signin_file: str) -> None:
    script = Path(sys.executable).with_name("h056")
    command = [
        str(script),
        "hunt",
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        "--format",
        "jsonl",
        *THRESHOLDS,
    ]
    outputs = []
    for zone in ("UTC", "Asia/Tokyo"):
        environment = {**os.environ, "TZ": zone}
        completed = subprocess.run(
            command, capture_output=True, env=environment, timeout=60, check=False
        )
        assert completed.returncode == 1, completed.stderr
        assert b"Traceback" not in completed.stderr
        outputs.append(completed.stdout)

    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["first_prompt_time"] == "2024-05-14T09:03:10Z"


def test_revocation_activity_adds_to_defaults(tmp_path: Path, signin_file: str) -> None:
    renamed = revocation()
    renamed["activityDisplayName"] = "Revoke all sign-in sessions (preview)"
    audit = write_page(tmp_path / "renamed.json", [renamed])
    arguments = ["--audit", audit, "--signin", signin_file, *THRESHOLDS]

    before = run(*arguments, "--format", "jsonl")
    after = run(
        *arguments,
        "--format",
        "jsonl",
        "--revocation-activity",
        "Revoke all sign-in sessions (preview)",
    )

    assert [record["finding_type"] for record in jsonl(before)] == ["push_bombing"]
    assert "possible revocation, not matched" in before.stderr
    assert [record["finding_type"] for record in jsonl(after)] == ["revocation_chain"]


def test_revocation_activity_keeps_defaults(audit_file: str, signin_file: str) -> None:
    result = run(
        "--audit",
        audit_file,
        "--signin",
        signin_file,
        *THRESHOLDS,
        "--format",
        "jsonl",
        "--revocation-activity",
        "Revoke user sessions",
    )

    assert [record["finding_type"] for record in jsonl(result)] == ["revocation_chain"]


def test_upn_fallback_warned(tmp_path: Path) -> None:
    records = [denial(1, 3), denial(2, 4), denial(3, 6)]
    for record in records:
        del record["userId"]
    signins = write_page(tmp_path / "no-ids.json", records)

    result = run("--signin", signins, *THRESHOLDS, "--format", "jsonl")

    assert "matched by normalised UPN" in result.stderr
    assert jsonl(result)[0]["matched_by_upn"] is True


@pytest.fixture
def hostile_files(tmp_path: Path) -> tuple[str, str]:
    name = f"{MARKUP} {ESCAPE} {LINK} {OVERRIDE}"
    audit = write_page(
        tmp_path / "audit.json",
        [revocation(userPrincipalName=None, displayName=name)],
    )
    signins = [
        denial(1, 3, f"MFA denied; {MARKUP}"),
        denial(2, 4, f"MFA denied; {ESCAPE}"),
        denial(3, 6, f"MFA denied; {OVERRIDE}"),
    ]
    return audit, write_page(tmp_path / "signins.json", signins)


def test_table_escapes_hostile_fields(hostile_files: tuple[str, str]) -> None:
    audit, signins = hostile_files

    result = run(
        "--audit",
        audit,
        "--signin",
        signins,
        *THRESHOLDS,
        "--details",
        "--fail-on",
        "none",
    )

    output = result.stdout_bytes
    assert result.exit_code == 0
    assert b"\x1b" not in output
    assert "\u202e".encode() not in output
    assert MARKUP.encode() in output
    assert b"\\x1b[31mred" in output
    assert b"\\x1b]8;;https://example.invalid/\\x1b\\" in output
    assert b"\\u202egnp.exe" in output


def test_summary_escapes_hostile_fields(hostile_files: tuple[str, str]) -> None:
    audit, signins = hostile_files

    result = run(
        "--audit", audit, "--signin", signins, *THRESHOLDS, "--format", "jsonl"
    )

    assert "\x1b" not in result.stderr
    assert "\u202e" not in result.stderr


def test_verbose_logs_each_file_and_second_pass(sample_logs_dir: Path) -> None:
    audit = str(sample_logs_dir / "audit.json")
    signin = str(sample_logs_dir / "signin.json")
    inputs = ["--audit", audit, "--signin", signin, "--fail-on", "none"]

    default = run(*inputs)
    verbose = run(*inputs, "-v")

    assert "INFO" not in default.stderr
    assert "h056: INFO: inputs: 2 files to read, 0 paths not readable" in (
        verbose.stderr
    )
    for path in (audit, signin):
        assert f"h056: INFO: {path}: graph shape, fast path, " in verbose.stderr
    assert "records seen in" in verbose.stderr
    assert "h056: INFO: second pass round 1: read " in verbose.stderr
    assert "pre-filtered records for" in verbose.stderr
    assert "DEBUG" not in verbose.stderr


def test_verbose_plain_path_named(sample_logs_dir: Path) -> None:
    audit = str(sample_logs_dir / "audit.json")

    result = run("--audit", audit, "--fail-on", "none", "--no-fast-path", "-v")

    assert f"h056: INFO: {audit}: graph shape, plain path, 48 records seen" in (
        result.stderr
    )
    assert "second pass" not in result.stderr


def test_verbose_one_record_singular(sample_logs_dir: Path, tmp_path: Path) -> None:
    audit = tmp_path / "audit.json"
    page = json.loads((sample_logs_dir / "audit.json").read_text())
    audit.write_text(json.dumps(page["value"][0]) + "\n")

    result = run("--audit", str(audit), "--fail-on", "none", "-v")

    assert f"h056: INFO: {audit}: graph shape, " in result.stderr
    assert " path, 1 record seen in " in result.stderr
    assert "1 records" not in result.stderr


def test_verbose_escapes_hostile_file_name(
    hostile_files: tuple[str, str], tmp_path: Path
) -> None:
    audit, signins = hostile_files
    renamed = tmp_path / f"{ESCAPE}{OVERRIDE}.json"
    Path(signins).rename(renamed)

    result = run("--audit", audit, "--signin", str(renamed), "-v", "--fail-on", "none")

    assert "records seen in" in result.stderr
    assert "\\x1b[31mred" in result.stderr
    assert "\\u202egnp" in result.stderr
    assert "\x1b" not in result.stderr
    assert "\u202e" not in result.stderr


def test_summary_table_shows_prefiltered(sample_logs_dir: Path) -> None:
    audit = str(sample_logs_dir / "audit.json")
    signin = str(sample_logs_dir / "signin.json")
    files = json.loads(
        run("--audit", audit, "--signin", signin, "--format", "json").stdout
    )["run"]["files"]

    result = run("--audit", audit, "--signin", signin, "--fail-on", "none")

    lines = result.stderr.splitlines()
    header = next(line for line in lines if line.strip().startswith("File"))
    assert header.split()[-2:] == ["Skipped", "Pre-filtered"]
    for item in files:
        row = next(line for line in lines if line.strip().startswith(item["path"]))
        assert row.split()[-2:] == [str(item["skipped"]), str(item["prefiltered"])]


def test_authdetails_column_counts_csv_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short relative paths keep each file's table row on one line.
    monkeypatch.chdir(tmp_path)
    simulated = CliRunner().invoke(
        main,
        ["simulate", "--signin-shape", "portal-csv", "--audit-shape", "portal-csv"]
        + ["--noise", "0", "--out", "."],
    )
    assert simulated.exit_code == 0, simulated.output
    with open("signin_AuthDetails.csv", encoding="utf-8-sig", newline="") as stream:
        detail_rows = sum(1 for _ in csv.reader(stream)) - 1
    inputs = ["--audit", "audit.csv", "--signin", "signin.csv"]
    inputs += ["--signin", "signin_AuthDetails.csv"]

    report = json.loads(run(*inputs, "--format", "json").stdout)
    table = run(*inputs, "--fail-on", "none")
    markdown = run(*inputs, "--format", "markdown", "--fail-on", "none")

    steps = {item["path"]: item["loaded"]["steps"] for item in report["run"]["files"]}
    assert detail_rows > 0
    assert steps == {
        "audit.csv": 0,
        "signin.csv": 0,
        "signin_AuthDetails.csv": detail_rows,
    }
    header = next(line for line in table.stderr.splitlines() if "Given to" in line)
    assert "Sign-in   AuthDetails CSV rows   Dupes" in header
    row = next(
        line
        for line in table.stderr.splitlines()
        if line.strip().startswith("signin_AuthDetails.csv")
    )
    assert row.split()[6] == str(detail_rows)
    assert "Loaded audit / sign-in / AuthDetails CSV rows" in markdown.stdout


def test_show_suppressed_drops_hint(
    tmp_path: Path, audit_file: str, signin_file: str
) -> None:
    config = tmp_path / "h056.toml"
    config.write_text(
        '[[allowlist.actors]]\nmatch = "secadmin@contoso.example"\nreason = "drill"\n',
        encoding="utf-8",
    )
    inputs = ["--audit", audit_file, "--signin", signin_file, *THRESHOLDS]
    inputs += ["--config", str(config), "--fail-on", "none"]

    hinted = run(*inputs)
    listed = run(*inputs, "--show-suppressed")

    # The small inputs leave a coverage gap, which a line above counts.
    assert hinted.stdout.splitlines()[-1] == (
        "No findings reported; 1 suppressed by allowlist entries "
        "(--show-suppressed lists them)."
    )
    assert listed.stdout.splitlines()[-1] == (
        "No findings reported; 1 suppressed by allowlist entries."
    )
    assert "--show-suppressed lists them" in hinted.stderr
    assert "--show-suppressed lists them" not in listed.stderr
    assert "Suppressed findings" in listed.stderr


def test_show_suppressed_drops_hint_after_table(
    tmp_path: Path, sample_logs_dir: Path
) -> None:
    config = tmp_path / "h056.toml"
    config.write_text(
        '[[allowlist.targets]]\nusers = ["maria.young@contoso.example"]\n'
        'group = "drill"\nreason = "MFA drill"\n',
        encoding="utf-8",
    )
    inputs = ["--audit", str(sample_logs_dir / "audit.json")]
    inputs += ["--signin", str(sample_logs_dir / "signin.json")]
    inputs += ["--config", str(config), "--fail-on", "none"]

    hinted = run(*inputs)
    listed = run(*inputs, "--show-suppressed")

    assert hinted.stdout.splitlines()[-1] == (
        "1 more finding suppressed by allowlist entries (--show-suppressed lists them)."
    )
    assert listed.stdout.splitlines()[-1] == (
        "1 more finding suppressed by allowlist entries."
    )
    assert "  suppressed 1 finding by allowlist target group drill\n" in listed.stderr
    assert "--show-suppressed" not in listed.stderr + listed.stdout


def approval(number: int, minute: int) -> dict[str, Any]:
    record = denial(number, minute)
    record["id"] = f"5a000000-0000-4000-8000-0000000001{number:02d}"
    record["originalRequestId"] = f"7e000000-0000-4000-8000-0000000001{number:02d}"
    record["status"] = {"errorCode": 0}
    return record


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> str:
    lines = [json.dumps(record, separators=(",", ":")) for record in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]])
def test_conflict_warnings_limited(
    tmp_path: Path, audit_file: str, path_option: list[str]
) -> None:
    # Three denials and six approvals of one user, in two exports whose copies of
    # each record differ in the IP address. The fast path decodes the approvals
    # only after the match, in a second de-duplication pass.
    records = [denial(number, 2 + number) for number in (1, 2, 3)]
    records += [approval(number, 30 + number) for number in range(6)]
    changed = [{**record, "ipAddress": "198.51.100.99"} for record in records]
    first = write_ndjson(tmp_path / "first.ndjson", records)
    second = write_ndjson(tmp_path / "second.ndjson", changed)
    inputs = ["--audit", audit_file, "--signin", first, "--signin", second]

    result = run(*inputs, *THRESHOLDS, *path_option, "--format", "json")

    conflicts = json.loads(result.stdout)["run"]["conflicts"]
    lines = result.stderr.splitlines()
    warnings = [line for line in lines if "WARNING" in line and "differ" in line]
    assert len(conflicts) == 9
    assert len(warnings) == 6
    for line in warnings[:5]:
        assert "differs between copies" in line
    assert warnings[5] == (
        "h056: WARNING: 4 more record ids differ between copies; kept the most "
        "complete copy of each. The JSON report of h056 hunt (--format json) lists "
        "every one under run.conflicts"
    )


def test_conflict_warning_quotes_values(tmp_path: Path, audit_file: str) -> None:
    # One record id and two file names that contain ", " and spaces, the text
    # that separates the listed files.
    record = {**denial(1, 3), "id": "S 1, signin record S 2"}
    changed = {**record, "ipAddress": "198.51.100.99"}
    first = write_ndjson(tmp_path / "a.ndjson, b.ndjson", [record])
    second = write_ndjson(tmp_path / "c d.ndjson", [changed])
    inputs = ["--audit", audit_file, "--signin", first, "--signin", second]

    result = run(*inputs, *THRESHOLDS, "--format", "json")

    warnings = [line for line in result.stderr.splitlines() if "differs" in line]
    assert len(warnings) == 1
    assert "signin record 'S 1, signin record S 2' differs" in warnings[0]
    assert f"copies in {first!r}, {second!r} (columns:" in warnings[0]


def test_debug_logs_phase_times(audit_file: str, signin_file: str) -> None:
    result = run("-vv", "--audit", audit_file, "--signin", signin_file, *THRESHOLDS)

    assert result.exit_code == 1
    phases = [
        line.split("DEBUG: ", 1)[1].split(" took ")[0]
        for line in result.stderr.splitlines()
        if " took " in line and line.endswith(" MiB")
    ]
    assert phases == ["loading", "detection", "run summary", "table output"]
    assert " took " not in run("--audit", audit_file, "--signin", signin_file).stderr


@pytest.mark.parametrize(
    ("second_copy_time", "conflicts"),
    [("2024-05-14T09:02:00.4871234Z", 0), ("2024-05-14T09:07:00Z", 1)],
)
def test_copy_times_compare_to_second(
    tmp_path: Path, audit_file: str, second_copy_time: str, conflicts: int
) -> None:
    # A Graph export gives times to the second and a diagnostic export to 100 ns,
    # so two exports of one sign-in differ below the second.
    record = denial(1, 2)
    record["createdDateTime"] = "2024-05-14T09:02:00Z"
    first = write_ndjson(tmp_path / "graph.ndjson", [record])
    second = write_ndjson(
        tmp_path / "precise.ndjson", [{**record, "createdDateTime": second_copy_time}]
    )

    result = run(
        *("--audit", audit_file, "--signin", first, "--signin", second),
        *("--format", "json"),
    )

    assert len(json.loads(result.stdout)["run"]["conflicts"]) == conflicts


def test_folder_given_to_both_shown(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parents[1] / "sample_logs"
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        (folder / name).write_bytes((samples / name).read_bytes())
    arguments = ["hunt", "--audit", str(folder), "--signin", str(folder)]

    table = CliRunner().invoke(
        main, [*arguments, "--fail-on", "none"], env={"COLUMNS": "300"}
    )
    report = CliRunner().invoke(
        main, [*arguments, "--fail-on", "none", "--format", "json"]
    )

    assert table.exit_code == 0, table.output
    assert report.exit_code == 0, report.output
    for name in ("audit.json", "signin.json"):
        (row,) = [line for line in table.stderr.splitlines() if name in line]
        assert "audit, signin" in row, row
    files = json.loads(report.stdout)["run"]["files"]
    assert [item["given_to"] for item in files] == [["audit", "signin"]] * 2
    assert [item["given_as"] for item in files] == ["audit", "audit"]


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_conflict_names_kept_copy(
    tmp_path: Path, audit_file: str, path_option: list[str]
) -> None:
    record = denial(1, 3)
    # The second file's copy has one more field, so it is the most complete.
    fuller = {**record, "ipAddress": "198.51.100.99", "clientAppUsed": "Browser"}
    other = {**denial(2, 4), "id": "S-other"}
    first = write_ndjson(tmp_path / "a.ndjson", [record])
    second = write_ndjson(tmp_path / "b.ndjson", [other, fuller])
    inputs = ["--audit", audit_file, "--signin", first, "--signin", second]

    result = run(*inputs, *THRESHOLDS, "--format", "json", *path_option)

    (conflict,) = json.loads(result.stdout)["run"]["conflicts"]
    assert conflict["kept_file"] == second
    assert conflict["kept_record"] == 2
    (warning,) = [line for line in result.stderr.splitlines() if "differs" in line]
    assert warning.endswith(f"kept the most complete copy, record 2 of {second!r}")
