"""Tests for the json report and the shipped JSON Schemas, through the real CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from report_inputs import (
    CASES,
    case_args,
    denied_signin,
    hunt,
    hunt_in_both_orders,
    mass_revocation_exports,
    revocation_audit,
    sample_log_args,
    write_exports,
)

from h056hunt.render.schema_files import (
    FINDING_SCHEMA,
    REPORT_SCHEMA,
    SCHEMA_FILES,
    load_schema,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "output.md"
HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://x") \u202e|\n'


def strict(schema: Any) -> Any:
    """Return a copy that rejects any property the schema does not name.

    The shipped schemas let readers ignore unknown fields. The strict copy makes a
    test fail when the output gains a field that the schema does not document.
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: strict(value) for key, value in schema.items()}
    if "properties" in copy and "additionalProperties" not in copy:
        copy["additionalProperties"] = False
    return copy


def validator(name: str) -> Draft202012Validator:
    schemas = [strict(load_schema(file)) for file in SCHEMA_FILES]
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    return Draft202012Validator(strict(load_schema(name)), registry=registry)


def assert_valid(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=str)
    assert not errors, "\n".join(str(error) for error in errors[:3])


def hostile_logs(tmp_path: Path, name: str = HOSTILE) -> tuple[str, str]:
    """Write a revocation and three 500121 sign-ins whose names are ``name``."""
    user_id = "00000000-0000-4000-8000-000000000e0e"
    upn = "eve@contoso.example"
    audit = revocation_audit(
        "Directory_HOSTILE_1", name, user_id, upn, "2025-03-01T10:00:00Z"
    )
    signins = [
        denied_signin(
            f"hostile-{minute}",
            f"request-{minute}",
            f"2025-03-01T10:{minute:02d}:00Z",
            name,
            user_id,
            upn,
        )
        for minute in (5, 6, 7)
    ]
    return write_exports(tmp_path, [audit], signins)


def test_shipped_schemas_are_valid() -> None:
    for name in SCHEMA_FILES:
        Draft202012Validator.check_schema(load_schema(name))


def test_unknown_schema_name_raises() -> None:
    with pytest.raises(FileNotFoundError, match="finding.schema.json"):
        load_schema("nope.json")


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_cases_match_schema(cases_dir: Path, case: str) -> None:
    result = hunt("--format", "json", *case_args(cases_dir, case))

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert_valid(REPORT_SCHEMA, report)
    assert len(report["findings"]) == 1
    assert report["run"]["partial"] is False
    assert report["findings"][0]["partial_input"] is False


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_findings_equal_jsonl_lines(cases_dir: Path, case: str) -> None:
    document = hunt("--format", "json", *case_args(cases_dir, case))
    lines = hunt("--format", "jsonl", *case_args(cases_dir, case))

    records = [json.loads(line) for line in lines.stdout.splitlines()]
    for record in records:
        assert_valid(FINDING_SCHEMA, record)
    assert json.loads(document.stdout)["findings"] == records


def test_json_run_accounts_for_records(cases_dir: Path) -> None:
    report = json.loads(hunt("--format", "json", *case_args(cases_dir, "BR-03")).stdout)
    run = report["run"]

    assert run["records"]["seen"] == 6
    assert run["records"]["loaded"] == 6
    assert run["records"]["skipped"] == 0
    assert [item["given_as"] for item in run["files"]] == ["signin", "audit"]
    assert run["files"][0]["shape"] == "graph"
    assert run["time_span"]["signin"] == {
        "first": "2024-05-14T09:03:10Z",
        "last": "2024-05-14T09:08:40Z",
    }
    assert run["thresholds"]["min_denials"] == 3
    assert run["thresholds"]["max_lag_seconds"] == 7200
    assert run["detection"]["admin_revocations"] == 1
    assert len(run["coverage_warnings"]) == 1


def test_json_br08_finding_values(cases_dir: Path) -> None:
    report = json.loads(hunt("--format", "json", *case_args(cases_dir, "BR-08")).stdout)
    finding = report["findings"][0]

    assert finding["severity"] == "critical"
    assert finding["approved"] is True
    assert finding["approval_time"] == "2022-12-26T11:02:40Z"
    assert finding["prompt_counts"]["declined"] == 3
    assert finding["target_upn"] == "dave@contoso.example"


def test_json_keeps_hostile_text_exact(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path)
    result = hunt("--format", "json", "--audit", audit, "--signin", signin)

    assert result.stdout.isascii()
    finding = json.loads(result.stdout)["findings"][0]
    assert_valid(FINDING_SCHEMA, finding)
    assert finding["target_display_name"] == HOSTILE.strip()
    assert finding["user_agents"] == [HOSTILE.strip()]


def test_json_partial_input_is_flagged(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, "Eve")
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"id": "cut-', encoding="utf-8")
    result = hunt(
        "--lenient",
        "--format",
        "json",
        "--audit",
        audit,
        "--signin",
        signin,
        "--signin",
        str(broken),
    )

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert_valid(REPORT_SCHEMA, report)
    assert report["run"]["partial"] is True
    assert [item["partial"] for item in report["run"]["files"]] == [False, True, False]
    assert report["findings"][0]["partial_input"] is True


def test_json_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[str], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, "Eve")
    first, second = hunt_in_both_orders(
        "json", audit, signin, lambda: foreign_tz("Pacific/Kiritimati")
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_json_sample_logs_match_schema(sample_logs_dir: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    result = hunt("--format", "json", *args)

    assert result.exit_code == 0, result.stderr
    assert_valid(REPORT_SCHEMA, json.loads(result.stdout))


def test_docs_name_every_schema_field() -> None:
    documented = set(re.findall(r"`([a-z_]+)`", DOCS.read_text(encoding="utf-8")))
    names: set[str] = set()

    def collect(schema: Any) -> None:
        if isinstance(schema, dict):
            names.update(schema.get("properties", {}))
            for value in schema.values():
                collect(value)
        elif isinstance(schema, list):
            for value in schema:
                collect(value)

    for name in SCHEMA_FILES:
        collect(load_schema(name))
    assert sorted(names - documented) == []


def test_json_sample_files_account_for_records(sample_logs_dir: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    run = json.loads(hunt("--format", "json", *args).stdout)["run"]

    for item in run["files"]:
        accounted = (
            sum(item["loaded"].values())
            + item["duplicates"]
            + item["skipped"]
            + item["prefiltered"]
        )
        assert accounted == item["records_seen"], item["path"]
    prefiltered = [item["prefiltered"] for item in run["files"]]
    assert sum(prefiltered) == run["records"]["prefiltered"]
    # With nothing pre-filtered the identity above would hold without the new field.
    assert run["records"]["prefiltered"] > 0


def test_document_written_in_pieces_matches_one_dump(tmp_path: Path) -> None:
    """A campaign longer than one written slice still gives the canonical bytes.

    render_json writes each finding's record in turn and a campaign's lists in
    slices. The document must still equal one sorted, compact dump of the parsed
    report.
    """
    targets = 1100
    audit, signin = mass_revocation_exports(
        tmp_path, targets, "00000000-0000-4000-8000-000000000001"
    )
    result = hunt("--format", "json", "--audit", audit, "--signin", signin)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    campaigns = [
        finding
        for finding in report["findings"]
        if finding["finding_type"] == "revocation_campaign"
    ]
    assert len(campaigns) == 1
    assert len(campaigns[0]["campaign_targets"]) == targets
    canonical = json.dumps(
        report, sort_keys=True, ensure_ascii=True, separators=(",", ":")
    )
    assert result.stdout == canonical + "\n"
