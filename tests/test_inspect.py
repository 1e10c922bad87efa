"""``h056 inspect``: per-file descriptions, read through the real CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import SCRIPT
from h056hunt.cli import main

SIGNINS = (
    '"Date (UTC)","Request ID","User ID","Username","User","Status",'
    '"Sign-in error code","Failure reason","IP address"\n'
    '"2026-03-02T10:05:00Z","r-1","00000000-0000-4000-8000-0000000000a1",'
    '"pat@contoso.example","Pat","Failure","500121",'
    '"Authentication failed during strong authentication request.","203.0.113.7"\n'
)
AUTH_DETAILS = (
    '"Request ID","Authentication method","Authentication method detail",'
    '"Succeeded","Result detail"\n'
    '"r-1","Mobile app notification","","false",'
    '"MFA denied; user declined the authentication"\n'
)
NO_RANGE = "none, because the file has no audit or sign-in record"
STEPS_MISSING = "authenticationDetails: step-level outcomes are unavailable"
SAMPLE_SIGNINS = Path(__file__).parent.parent / "sample_logs" / "signin.json"
SAMPLE_AUDIT = SAMPLE_SIGNINS.with_name("audit.json")
OUTPUT_DOC = Path(__file__).parent.parent / "docs" / "output.md"
RISK_MISSING = (
    "riskLevelDuringSignIn and riskState: a revoker's risky sign-ins cannot raise a "
    "finding's score"
)
# A revocation of the user of SIGNINS three days after that sign-in, so the sign-in
# data does not cover its follow-up window.
REVOCATION = {
    "id": "Directory_0001",
    "category": "UserManagement",
    "result": "success",
    "activityDisplayName": "Revoke user sessions",
    "activityDateTime": "2026-03-05T09:00:00Z",
    "initiatedBy": {
        "user": {
            "id": "00000000-0000-4000-8000-00000000ad01",
            "userPrincipalName": "admin@contoso.example",
        }
    },
    "targetResources": [
        {
            "id": "00000000-0000-4000-8000-0000000000a1",
            "type": "User",
            "userPrincipalName": "pat@contoso.example",
        }
    ],
}


def inspect_json(*paths: Path) -> dict[str, dict]:
    result = CliRunner().invoke(main, ["inspect", "--format", "json", *map(str, paths)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line]
    return {Path(record["path"]).name: record for record in records}


def test_auth_details_file_supplies_steps(tmp_path: Path) -> None:
    signins = tmp_path / "InteractiveSignIns_2026-03-02.csv"
    details = tmp_path / "InteractiveSignIns_AuthDetails_2026-03-02.csv"
    signins.write_text(SIGNINS, encoding="utf-8")
    details.write_text(AUTH_DETAILS, encoding="utf-8")

    records = inspect_json(signins, details)

    assert STEPS_MISSING not in records[signins.name]["missing_fields"]
    assert records[signins.name]["shape"] == "portal-signin-csv"
    assert records[details.name]["shape"] == "portal-auth-details-csv"
    assert records[signins.name]["log"] == "signin"
    assert records[details.name]["log"] == "steps"


def test_signins_alone_lack_steps(tmp_path: Path) -> None:
    signins = tmp_path / "InteractiveSignIns_2026-03-02.csv"
    signins.write_text(SIGNINS, encoding="utf-8")

    records = inspect_json(signins)

    assert STEPS_MISSING in records[signins.name]["missing_fields"]
    assert records[signins.name]["loaded"] == 1


def test_risk_fields_missing_named(tmp_path: Path) -> None:
    """A portal sign-in download has no risk columns; Graph sign-ins have them."""
    signins = tmp_path / "InteractiveSignIns_2026-03-02.csv"
    signins.write_text(SIGNINS, encoding="utf-8")

    records = inspect_json(signins, SAMPLE_SIGNINS)

    assert RISK_MISSING in records[signins.name]["missing_fields"]
    assert RISK_MISSING not in records[SAMPLE_SIGNINS.name]["missing_fields"]


def test_conflict_warnings_limited(tmp_path: Path) -> None:
    # Eight denials in two exports whose copies differ in the IP address; compact
    # NDJSON, so the fast path reads them.
    copies = []
    for address in ("203.0.113.7", "198.51.100.99"):
        records = [
            {
                "id": f"5a000000-0000-4000-8000-00000000000{number}",
                "createdDateTime": f"2026-03-02T10:0{number}:00Z",
                "userId": "00000000-0000-4000-8000-0000000000a1",
                "userPrincipalName": "pat@contoso.example",
                "ipAddress": address,
                "status": {"errorCode": 500121, "additionalDetails": "MFA denied"},
            }
            for number in range(8)
        ]
        copies.append(
            "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in records)
        )
    first = tmp_path / "first.ndjson"
    second = tmp_path / "second.ndjson"
    first.write_text(copies[0], encoding="utf-8")
    second.write_text(copies[1], encoding="utf-8")

    result = CliRunner().invoke(main, ["inspect", str(first), str(second)])

    warnings = [line for line in result.stderr.splitlines() if "differ" in line]
    assert result.exit_code == 0, result.stderr
    assert len(warnings) == 6
    assert warnings[5] == (
        "h056: WARNING: 3 more record ids differ between copies; kept the most "
        "complete copy of each. The JSON report of h056 hunt (--format json) lists "
        "every one under run.conflicts"
    )


def test_help_describes_long_record_skip() -> None:
    inspect_help = CliRunner().invoke(main, ["inspect", "--help"]).output
    hunt_help = CliRunner().invoke(main, ["hunt", "--help"]).output

    inspect_text = " ".join(inspect_help.split())
    assert "--lenient" not in inspect_text
    assert "skipped without being decoded and makes the exit code 2" in inspect_text
    assert "skipped with --lenient and stops the run" in " ".join(hunt_help.split())


def test_long_record_skipped_exit_two(tmp_path: Path) -> None:
    path = tmp_path / "signins.csv"
    wide = SIGNINS.replace("203.0.113.7", "x" * 5000)
    path.write_text(wide + SIGNINS.splitlines()[1] + "\n", encoding="utf-8")

    result = CliRunner().invoke(
        main, ["inspect", "--format", "json", "--max-record-size", "4K", str(path)]
    )

    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 2
    assert record["records_seen"] == 2
    assert sum(record["skipped"].values()) == 1


@pytest.mark.parametrize("target", ["pipe", "file"])
def test_redirected_output_trimmed(tmp_path: Path, target: str) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    signins = exports / "InteractiveSignIns_2026-03-02.csv"
    signins.write_text(SIGNINS, encoding="utf-8")
    audit = exports / "audit.json"
    audit.write_text(json.dumps({"value": [REVOCATION]}), encoding="utf-8")
    # A symlink to a missing file adds a "not read" line.
    (exports / "gone.json").symlink_to(tmp_path / "missing.json")
    output = tmp_path / "inspect.txt"

    with output.open("w", encoding="utf-8") as stream:
        result = subprocess.run(
            [str(SCRIPT), "inspect", str(exports)],
            stdout=subprocess.PIPE if target == "pipe" else stream,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    text = result.stdout if target == "pipe" else output.read_text(encoding="utf-8")

    lines = text.splitlines()
    shapes = [line.split() for line in lines if line.startswith("  shape ")]
    assert result.returncode == 2, result.stderr
    assert shapes == [["shape", "portal-signin-csv"], ["shape", "graph"]]
    # At a narrow width the path may start on the next line.
    assert any(line.startswith("not read:") for line in lines)
    assert any(line.startswith("coverage: ") for line in lines)
    assert lines[0] != ""
    assert [line for line in lines if line.endswith(" ")] == []


@pytest.mark.parametrize("columns", [40, 60])
def test_long_path_heading_splits_at_separators(tmp_path: Path, columns: int) -> None:
    folder = tmp_path / "exports-of-the-tenant-for-march" / "interactive-sign-ins"
    folder.mkdir(parents=True)
    audit = folder / "AuditLogs_2026-03-02.json"
    audit.write_text(json.dumps({"value": [REVOCATION]}), encoding="utf-8")

    result = CliRunner().invoke(
        main, ["inspect", str(audit)], env={"COLUMNS": str(columns)}
    )

    lines = result.stdout.splitlines()
    heading = lines[: lines.index("")]
    assert result.exit_code == 0, result.output
    assert "".join(heading) == str(audit)
    assert all(len(line) <= columns for line in heading)
    # Every line but the last ends at a separator, so no folder name is split.
    assert all(line.endswith("/") for line in heading[:-1])
    assert heading[-1] == audit.name


def test_json_lists_unread_paths(tmp_path: Path) -> None:
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"value": [REVOCATION]}), encoding="utf-8")
    dangling = tmp_path / "gone.json"
    dangling.symlink_to(tmp_path / "missing.json")

    result = CliRunner().invoke(
        main, ["inspect", "--format", "json", str(audit), str(dangling)]
    )
    records = {
        Path(record["path"]).name: record
        for record in map(json.loads, result.stdout.splitlines())
    }

    assert result.exit_code == 2
    assert sorted(records) == ["audit.json", "gone.json"]
    assert records["gone.json"]["partial"] is True
    assert records["gone.json"]["error"].startswith("not read: dangling symlink")
    assert records["gone.json"]["records_seen"] == 0
    assert set(records["gone.json"]) == set(records["audit.json"])
    assert records["audit.json"]["error"] is None


def test_note_explains_hunt_loads_more() -> None:
    """The note under the table explains why a hunt can count more loaded records, and
    the hunt does count more for the sample sign-ins."""
    table = CliRunner().invoke(main, ["inspect", str(SAMPLE_SIGNINS)])
    hunt = CliRunner().invoke(
        main,
        ["hunt", "--format", "json", "--signin", str(SAMPLE_SIGNINS)]
        + ["--audit", str(SAMPLE_AUDIT)],
    )

    assert table.exit_code == 0, table.stderr
    assert hunt.exit_code == 1, hunt.stderr
    text = " ".join(table.stdout.split())
    assert "'h056 hunt' decodes the pre-filtered records of the users" in text
    inspected = inspect_json(SAMPLE_SIGNINS)["signin.json"]
    assert inspected["prefiltered"] > 0
    hunted = [
        entry
        for entry in json.loads(hunt.stdout)["run"]["files"]
        if Path(entry["path"]).name == "signin.json"
    ]
    assert len(hunted) == 1
    assert hunted[0]["loaded"]["signin"] > inspected["loaded"]
    assert hunted[0]["records_seen"] == inspected["records_seen"]


def test_no_note_without_prefiltered(tmp_path: Path) -> None:
    path = tmp_path / "signins.csv"
    path.write_text(SIGNINS, encoding="utf-8")

    result = CliRunner().invoke(main, ["inspect", str(path)])

    assert result.exit_code == 0, result.stderr
    assert "Pre-filtered records" not in result.stdout


def test_file_without_records_no_range(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"scenarios": []}), encoding="utf-8")

    result = CliRunner().invoke(main, ["inspect", str(labels)])
    range_lines = [
        line.split(maxsplit=2)
        for line in result.stdout.splitlines()
        if line.split()[:2] == ["time", "range"]
    ]

    assert range_lines == [["time", "range", NO_RANGE]]


def test_auth_details_file_no_range(tmp_path: Path) -> None:
    folder = tmp_path / "portal"
    simulate = CliRunner().invoke(
        main,
        ["simulate", "--noise", "0", "--users", "30", "--out", str(folder)]
        + ["--signin-shape", "portal-csv", "--audit-shape", "portal-csv"],
    )
    assert simulate.exit_code == 0, simulate.stderr

    result = CliRunner().invoke(
        main, ["inspect", str(folder / "signin_AuthDetails.csv")]
    )

    assert result.exit_code == 0, result.stderr
    assert NO_RANGE in result.stdout


def inspect_json_section() -> str:
    text = OUTPUT_DOC.read_text(encoding="utf-8")
    start = text.index("## File description (`h056 inspect --format json`)")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_json_fields_documented() -> None:
    section = inspect_json_section()
    record = inspect_json(SAMPLE_AUDIT)["audit.json"]

    for key in record:
        assert f"`{key}`" in section, key
    for key in record["loaded_by_log"]:
        assert f"`{key}`" in section, key


def test_json_doc_example_is_real() -> None:
    section = inspect_json_section()
    example = section.split("```json\n", 1)[1].split("\n```", 1)[0]
    documented = json.loads(example)
    record = inspect_json(SAMPLE_AUDIT, SAMPLE_SIGNINS)["audit.json"]

    assert documented["path"] == "sample_logs/audit.json"
    assert {**documented, "path": record["path"]} == record


def inspect_and_hunt_coverage() -> tuple[list[str], list[str]]:
    """Return the coverage warnings of inspect and of a hunt over the samples."""
    inputs = [str(SAMPLE_AUDIT), str(SAMPLE_SIGNINS)]
    hunt = ["hunt", "--audit", inputs[0], "--signin", inputs[1], "--format", "json"]

    inspected = CliRunner().invoke(main, ["inspect", *inputs, "--format", "json"])
    hunted = CliRunner().invoke(main, [*hunt, "--fail-on", "none"])

    assert inspected.exit_code == 0, inspected.output
    assert hunted.exit_code == 0, hunted.output
    first_file = json.loads(inspected.stdout.splitlines()[0])
    run = json.loads(hunted.stdout)["run"]
    return first_file["coverage_warnings"], run["coverage_warnings"]


def test_coverage_follows_config_file(without_config_files: Path) -> None:
    config = without_config_files / "h056.toml"
    config.write_text(
        '[thresholds]\nmax_lag = "20m"\nburst_window = "10m"\n', encoding="utf-8"
    )

    inspected, hunted = inspect_and_hunt_coverage()

    assert hunted, "the short max_lag should leave gaps in the sample sign-ins"
    assert inspected == hunted


def test_max_lag_flag_beats_config(without_config_files: Path) -> None:
    config = without_config_files / "h056.toml"
    config.write_text('[thresholds]\nmax_lag = "20m"\n', encoding="utf-8")

    result = CliRunner().invoke(
        main,
        ["inspect", str(SAMPLE_AUDIT), str(SAMPLE_SIGNINS), "--max-lag", "2h"],
    )

    assert result.exit_code == 0, result.output
    assert "coverage:" not in result.stdout


def test_invalid_config_stops_inspect(without_config_files: Path) -> None:
    config = without_config_files / "h056.toml"
    config.write_text("[thresholds]\nmin_denials = 0\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["inspect", str(SAMPLE_AUDIT)])

    assert result.exit_code == 2
    assert "h056.toml: thresholds.min_denials" in result.stderr
