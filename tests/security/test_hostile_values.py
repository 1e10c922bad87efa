"""Field values that once ended runs with an internal error.

Each test writes small exports, runs the real CLI over them, and checks that the
run ends with findings, a counted skip or an input error (exit 2), never exit 70.
The surrogate and nesting cases also run with and without the fast path, which
must give the same findings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hostile import run_cli

USER_ID = "11111111-1111-4111-8111-111111111111"
ADMIN_ID = "22222222-2222-4222-8222-222222222222"
DENIED = "MFA denied; user declined the authentication"
NESTING = 1000
COMMON = ["--fail-on", "none", "--min-denials", "3", "--max-lag", "60m"]


pytestmark = pytest.mark.usefixtures("small_fast_path_units")


def audit(index: int = 1, **changes: Any) -> dict[str, Any]:
    record = {
        "id": f"Directory_audit_{index}",
        "category": "UserManagement",
        "result": "success",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2026-03-02T10:00:00Z",
        "initiatedBy": {
            "user": {"id": ADMIN_ID, "userPrincipalName": "admin@contoso.example"}
        },
        "targetResources": [
            {
                "id": USER_ID,
                "type": "User",
                "userPrincipalName": "victim@contoso.example",
                "modifiedProperties": [],
            }
        ],
    }
    record.update(changes)
    return record


def signin(index: int, minute: int, user_id: str = USER_ID, **changes: Any) -> dict:
    record = {
        "id": f"5a000000-0000-4000-8000-{index:012d}",
        "createdDateTime": f"2026-03-02T10:{minute:02d}:00Z",
        "userPrincipalName": "victim@contoso.example",
        "userId": user_id,
        "userAgent": "Mozilla/5.0",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
    }
    record.update(changes)
    return record


def noise() -> list[dict[str, Any]]:
    """Successful sign-ins of other users, which the fast path pre-filters."""
    return [
        signin(
            500 + index,
            index % 59,
            user_id=f"eeeeeeee-0000-4000-8000-{index:012d}",
            status={"errorCode": 0},
        )
        for index in range(300)
    ]


def write_lines(path: Path, records: list[Any]) -> Path:
    path.write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    return path


def hunt(*arguments: str) -> Result:
    result = run_cli(["hunt", *arguments, *COMMON])
    assert "internal error" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def assert_same_on_both_paths(*inputs: str) -> Result:
    """Run jsonl with and without the fast path; return the fast run."""
    fast = hunt(*inputs, "--format", "jsonl")
    plain = hunt(*inputs, "--format", "jsonl", "--no-fast-path")
    assert fast.exit_code == 0, fast.stderr
    assert plain.exit_code == 0, plain.stderr
    assert fast.stdout_bytes == plain.stdout_bytes
    return fast


def json_run(*inputs: str) -> dict[str, Any]:
    result = hunt(*inputs, "--format", "json", "--no-fast-path")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# A JSON "\ud800" escape decodes to a lone surrogate, which UTF-8 cannot encode. The
# marker is swapped for the escape after json.dumps, which would escape it again.
SURROGATE_MARKER = "SURROGATE-MARKER"
SURROGATE_ESCAPE = "\\ud800"

SIGNIN_FIELDS = {
    "user agent": ("userAgent", f"Mozilla{SURROGATE_MARKER}"),
    "user principal name": ("userPrincipalName", f"victim{SURROGATE_MARKER}"),
    "record id": ("id", SURROGATE_MARKER),
    "created time": ("createdDateTime", f"2026-03-02T10:05:00Z{SURROGATE_MARKER}"),
    "failure detail": ("status", {"errorCode": 500121, "x": SURROGATE_MARKER}),
}


def write_with_surrogate(path: Path, records: list[Any]) -> Path:
    text = "".join(json.dumps(record) + "\n" for record in records)
    path.write_text(text.replace(SURROGATE_MARKER, SURROGATE_ESCAPE), encoding="utf-8")
    return path


@pytest.mark.parametrize("field", sorted(SIGNIN_FIELDS))
def test_signin_surrogate_same_both_paths(tmp_path: Path, field: str) -> None:
    name, value = SIGNIN_FIELDS[field]
    hostile = signin(1, 5, **{name: value})
    denials = [hostile] + [signin(index, 5 + index) for index in range(2, 7)]
    signins = write_with_surrogate(tmp_path / "signin.ndjson", noise() + denials)
    audits = write_lines(tmp_path / "audit.ndjson", [audit()])
    inputs = ("--audit", str(audits), "--signin", str(signins))

    fast = assert_same_on_both_paths(*inputs)
    assert b"revocation_chain" in fast.stdout_bytes

    for extra in ((), ("--lenient",)):
        for output_format in ("json", "markdown", "html", "csv"):
            result = hunt(*inputs, "--format", output_format, *extra)
            assert result.exit_code == 0, result.stderr


def test_surrogate_time_counted_as_skip(tmp_path: Path) -> None:
    bad_time = signin(1, 5, createdDateTime=f"2026-03-02T10:05:00Z{SURROGATE_MARKER}")
    signins = write_with_surrogate(tmp_path / "signin.ndjson", [bad_time, signin(2, 6)])
    audits = write_lines(tmp_path / "audit.ndjson", [audit()])

    report = json_run("--audit", str(audits), "--signin", str(signins))

    records = report["run"]["records"]
    assert records["skipped_by_reason"] == {"invalid timestamp": 1}
    assert records["seen"] == records["loaded"] + records["skipped"]


def test_audit_activity_surrogate(tmp_path: Path) -> None:
    hostile = audit(activityDisplayName=f"Update{SURROGATE_MARKER}")
    audits = write_with_surrogate(tmp_path / "audit.ndjson", [hostile])
    signins = write_lines(tmp_path / "signin.ndjson", [signin(1, 5)])

    assert_same_on_both_paths("--audit", str(audits), "--signin", str(signins))
    report = json_run("--audit", str(audits), "--signin", str(signins))

    assert report["run"]["records"]["loaded"] == 2


def test_category_surrogate_in_skip_reason(tmp_path: Path) -> None:
    envelope = {
        "time": "2026-03-02T10:05:00Z",
        "category": f"SignInLogs{SURROGATE_MARKER}",
        "operationName": "Sign-in activity",
        "properties": signin(1, 5),
    }
    path = tmp_path / "PT1H.json"
    path.write_text(
        json.dumps(
            {"records": [envelope, dict(envelope, category="SignInLogs")]}
        ).replace(SURROGATE_MARKER, SURROGATE_ESCAPE),
        encoding="utf-8",
    )

    for output_format in ("markdown", "html", "json", "table"):
        result = hunt("--signin", str(path), "--format", output_format)
        assert result.exit_code == 0, result.stderr
        assert "unsupported category SignInLogs\ufffd" in result.stdout + result.stderr


def test_purview_csv_audit_data_surrogate(tmp_path: Path) -> None:
    audit_data = {
        "Id": "U-S1",
        "RecordType": 15,
        "CreationTime": "2026-03-02T10:05:00",
        "Operation": "UserLoginFailed",
        "UserId": "victim@contoso.example",
        "UserKey": USER_ID,
        "ErrorNumber": "500121",
        "ExtendedProperties": [{"Name": "UserAgent", "Value": SURROGATE_MARKER}],
    }
    cell = json.dumps(audit_data).replace('"', '""')
    cell = cell.replace(SURROGATE_MARKER, SURROGATE_ESCAPE)
    path = tmp_path / "ual.csv"
    path.write_text(
        "CreationDate,UserIds,Operations,AuditData\n"
        f'2026-03-02T10:05:00,victim@contoso.example,UserLoginFailed,"{cell}"\n',
        encoding="utf-8",
    )

    assert_same_on_both_paths("--signin", str(path))
    result = run_cli(["inspect", str(path)])

    assert result.exit_code == 0, result.stderr
    assert "internal error" not in result.stderr


def test_inspect_surrogate_user_agent(tmp_path: Path) -> None:
    path = write_with_surrogate(
        tmp_path / "signin.ndjson", [signin(1, 5, userAgent=SURROGATE_MARKER)]
    )

    result = run_cli(["inspect", str(path)])

    assert result.exit_code == 0, result.stderr
    assert "internal error" not in result.stderr


DEEP_TEXT = "[" * NESTING + "]" * NESTING


def deep_property() -> list[dict[str, Any]]:
    return [{"displayName": "X", "oldValue": DEEP_TEXT, "newValue": "1"}]


def test_graph_modified_property_deep(tmp_path: Path) -> None:
    hostile = audit()
    hostile["targetResources"][0]["modifiedProperties"] = deep_property()
    audits = write_lines(tmp_path / "audit.ndjson", [hostile])
    signins = write_lines(tmp_path / "signin.ndjson", [signin(1, 5)])

    assert_same_on_both_paths("--audit", str(audits), "--signin", str(signins))
    report = json_run("--audit", str(audits), "--signin", str(signins))

    assert report["run"]["records"]["loaded"] == 2


def test_log_analytics_target_resources_deep(tmp_path: Path) -> None:
    target = {
        "id": USER_ID,
        "type": "User",
        "userPrincipalName": "victim@contoso.example",
        "modifiedProperties": deep_property(),
    }
    row = {
        "TimeGenerated": "2026-03-02T10:00:00Z",
        "Type": "AuditLogs",
        "Id": "LA1",
        "ActivityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "ActivityDateTime": "2026-03-02T10:00:00Z",
        "InitiatedBy": json.dumps({"user": {"id": ADMIN_ID}}),
        "TargetResources": json.dumps([target]),
    }
    path = tmp_path / "audit.json"
    path.write_text(json.dumps([row]), encoding="utf-8")

    report = json_run("--audit", str(path))

    assert report["run"]["records"]["loaded"] == 1


def test_purview_modified_properties_deep(tmp_path: Path) -> None:
    record = {
        "Id": "U-A1",
        "RecordType": 8,
        "CreationTime": "2026-03-02T10:00:00",
        "Operation": "Update StsRefreshTokenValidFrom Timestamp.",
        "ResultStatus": "Success",
        "UserId": "admin@contoso.example",
        "ObjectId": "victim@contoso.example",
        "Target": [{"ID": f"User_{USER_ID}", "Type": 2}],
        "ModifiedProperties": [{"Name": "X", "OldValue": DEEP_TEXT, "NewValue": "1"}],
    }
    path = write_lines(tmp_path / "ual.ndjson", [record])

    report = json_run("--audit", str(path))

    assert report["run"]["records"]["loaded"] == 1


def test_portal_csv_modified_property_deep(tmp_path: Path) -> None:
    header = (
        "Date (UTC),CorrelationId,Service,Category,Activity,Result,ActorType,"
        "ActorDisplayName,ActorObjectId,ActorUserPrincipalName,IPAddress,"
        "Target1Type,Target1DisplayName,Target1ObjectId,Target1UserPrincipalName,"
        "Target1ModifiedProperty1Name,Target1ModifiedProperty1OldValue,"
        "Target1ModifiedProperty1NewValue"
    )
    row = (
        "2026-03-02T10:00:00Z,c1,Core Directory,UserManagement,"
        "Update StsRefreshTokenValidFrom Timestamp,Success,User,Admin,"
        f"{ADMIN_ID},admin@contoso.example,192.0.2.10,User,Victim,{USER_ID},"
        f"victim@contoso.example,X,{DEEP_TEXT},1"
    )
    path = tmp_path / "audit.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")

    for extra in ((), ("--no-fast-path",), ("--lenient",)):
        result = hunt("--audit", str(path), "--format", "json", *extra)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["run"]["records"]["loaded"] == 1


@pytest.mark.parametrize("depth", range(960, 1000, 4))
def test_deep_field_values_near_reader_limit(tmp_path: Path, depth: int) -> None:
    # The reader decodes a record with fewer stack frames in use than the mapping
    # has when it encodes a nested field back to text, so values just under the
    # reader's limit once raised RecursionError there.
    nested = "[" * depth + "]" * depth
    line = json.dumps(signin(1, 5, userAgent="UA")).replace('"UA"', nested)
    path = tmp_path / "signin.ndjson"
    path.write_text(line + "\n", encoding="utf-8")

    for extra in ((), ("--no-fast-path",), ("--lenient",)):
        result = hunt("--signin", str(path), "--format", "json", *extra)
        assert result.exit_code in (0, 2), result.stderr


# Times near the ends of the datetime64[ns] range (1677-09-21 to 2262-04-11), each
# written without the last digit of its minute.
EDGE_MINUTES = ["2262-04-11T23:3", "2262-01-01T00:0", "1677-09-21T00:2"]


@pytest.mark.parametrize("minute_prefix", EDGE_MINUTES)
def test_time_near_range_end_skipped(tmp_path: Path, minute_prefix: str) -> None:
    # A revocation and a burst near the end of the range, where adding the
    # follow-up window to the revocation time overflowed.
    revocation = audit(activityDateTime=f"{minute_prefix}0:00Z")
    denials = [
        signin(index, 0, createdDateTime=f"{minute_prefix}{index}:00Z")
        for index in range(1, 4)
    ]
    audits = write_lines(tmp_path / "audit.ndjson", [revocation, audit(2)])
    signins = write_lines(tmp_path / "signin.ndjson", [*denials, signin(9, 5)])

    report = json_run("--audit", str(audits), "--signin", str(signins))

    records = report["run"]["records"]
    assert records["skipped_by_reason"] == {"invalid timestamp": 4}
    assert records["seen"] == records["loaded"] + records["skipped"]


def test_joined_activity_near_miss_both_paths(tmp_path: Path) -> None:
    joined = audit(2, activityDisplayName="revokeSignInSessions")
    audits = write_lines(tmp_path / "audit.ndjson", [audit(), joined])
    signins = write_lines(tmp_path / "signin.ndjson", noise() + [signin(1, 5)])
    inputs = ("--audit", str(audits), "--signin", str(signins))

    assert_same_on_both_paths(*inputs)
    fast = hunt(*inputs, "--format", "json")
    plain = json_run(*inputs)

    assert plain["run"]["detection"]["unmatched_revocation_activities"] == [
        "revokeSignInSessions"
    ]
    assert json.loads(fast.stdout)["run"]["detection"] == plain["run"]["detection"]


@pytest.mark.parametrize(
    "request_id",
    [
        None,
        "00000000-0000-0000-0000-000000000000",
        # The braced and the digits-only forms of .NET's Guid.ToString("B")
        # and ToString("N").
        "{00000000-0000-0000-0000-000000000000}",
        "00000000000000000000000000000000",
    ],
)
def test_nil_request_id_keeps_prompts(tmp_path: Path, request_id: str | None) -> None:
    # Five denials after a revocation, each a request of its own. The nil GUID
    # names no request, so it must not merge them into one prompt.
    denials = [signin(i, 5 + i, originalRequestId=request_id) for i in range(5)]
    audits = write_lines(tmp_path / "audit.ndjson", [audit()])
    signins = write_lines(tmp_path / "signin.ndjson", noise() + denials)
    inputs = ("--audit", str(audits), "--signin", str(signins))

    fast = assert_same_on_both_paths(*inputs)
    findings = [json.loads(line) for line in fast.stdout.splitlines()]

    assert [finding["finding_type"] for finding in findings] == ["revocation_chain"]
    assert findings[0]["denied_prompts"] == 5
