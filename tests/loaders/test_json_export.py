"""Tests for routing JSON export records to the audit and sign-in frames."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from h056hunt.errors import InputError
from h056hunt.loaders.json_export import load_json_text
from h056hunt.loaders.sink import FileFrames, FileSink
from h056hunt.log_format import SafeFormatter

DENIED = "MFA denied; user declined the authentication"
ADMIN = {"user": {"id": "u-admin", "userPrincipalName": "admin@contoso.example"}}
TARGET = [{"id": "u-target", "type": "User", "userPrincipalName": "t@contoso.example"}]


def load(
    text: str, *, strict: bool = True, requested_log: str = "signin"
) -> tuple[FileSink, FileFrames]:
    sink = FileSink("export.json", requested_log, None)
    load_json_text(text, sink, strict=strict)
    return sink, sink.finish()


def diagnostic_audit(record_id: str = "A1", **envelope: Any) -> dict[str, Any]:
    record = {
        "time": "2025-01-02T03:04:05Z",
        "category": "AuditLogs",
        "operationName": "Update StsRefreshTokenValidFrom Timestamp",
        "properties": {
            "id": record_id,
            "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
            "activityDateTime": "2025-01-02T03:04:05.1234567Z",
            "result": "success",
            "initiatedBy": ADMIN,
            "targetResources": TARGET,
        },
    }
    record.update(envelope)
    return record


def diagnostic_signin(record_id: str = "S1", **properties: Any) -> dict[str, Any]:
    fields = {
        "id": record_id,
        "createdDateTime": "2025-01-02T03:10:00Z",
        "userId": "u-target",
        "userPrincipalName": "t@contoso.example",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
    }
    fields.update(properties)
    return {
        "time": "2025-01-02T03:10:30Z",
        "category": "SignInLogs",
        "resultType": "500121",
        "properties": fields,
    }


def ndjson(*items: dict[str, Any]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def test_audit_category_case_insensitive() -> None:
    record = diagnostic_audit(category="AUDITLOGS")

    sink, frames = load(ndjson(record))

    assert list(frames.audit["record_id"]) == ["A1"]
    assert sink.report.loaded["audit"] == 1


def test_signin_category_case_insensitive() -> None:
    record = diagnostic_signin()
    record["category"] = "signinlogs"

    _, frames = load(ndjson(record))

    assert list(frames.signin["record_id"]) == ["S1"]


def test_audit_record_in_signin_file() -> None:
    text = ndjson(diagnostic_audit(), diagnostic_signin())

    sink, frames = load(text, requested_log="signin")

    assert list(frames.audit["activity"]) == [
        "Update StsRefreshTokenValidFrom Timestamp"
    ]
    assert len(frames.signin) == 1
    assert sink.report.loaded["audit"] == 1
    assert sink.report.loaded["signin"] == 1


def test_unsupported_category_counted_as_skip() -> None:
    risk = {
        "time": "2025-01-02T03:04:05Z",
        "category": "UserRiskEvents",
        "properties": {"id": "R1"},
    }
    text = ndjson(diagnostic_signin(), risk)

    sink, frames = load(text)

    assert dict(sink.report.skipped) == {"unsupported category UserRiskEvents": 1}
    assert sink.report.records_seen == 2
    assert len(frames.signin) == 1


def test_non_interactive_category_event_type() -> None:
    record = diagnostic_signin()
    record["category"] = "NonInteractiveUserSignInLogs"

    _, frames = load(ndjson(record))

    assert list(frames.signin["signin_event_type"]) == ["nonInteractiveUser"]


def test_service_principal_category_event_type() -> None:
    record = diagnostic_signin()
    record["category"] = "ServicePrincipalSignInLogs"

    _, frames = load(ndjson(record))

    assert list(frames.signin["signin_event_type"]) == ["servicePrincipal"]


def test_envelope_time_read_month_first() -> None:
    record = diagnostic_signin()
    del record["properties"]["createdDateTime"]
    record["time"] = "03/04/2025 9:41:07 PM"

    _, frames = load(ndjson(record))

    assert frames.signin["event_time"].iloc[0] == pd.Timestamp("2025-03-04T21:41:07Z")


def test_created_time_beats_envelope_time() -> None:
    record = diagnostic_signin(createdDateTime="2025-01-02T03:10:00.8123423+00:00")

    _, frames = load(ndjson(record))

    assert frames.signin["event_time"].iloc[0] == pd.Timestamp(
        "2025-01-02T03:10:00.8123423Z"
    )


def test_seven_fraction_digits_kept() -> None:
    _, frames = load(ndjson(diagnostic_audit()))

    assert frames.audit["event_time"].iloc[0].nanosecond == 700
    assert frames.audit["event_time"].iloc[0].microsecond == 123456


def test_status_code_from_result_type() -> None:
    record = diagnostic_signin(status={"additionalDetails": DENIED})

    _, frames = load(ndjson(record))

    assert frames.signin["error_code"].iloc[0] == 500121


def test_log_analytics_json_text_columns() -> None:
    rows = [
        {
            "TimeGenerated": "2024-01-01T00:00:10Z",
            "Type": "AuditLogs",
            "Id": "A1",
            "ActivityDisplayName": "Revoke user sessions",
            "ActivityDateTime": "2024-01-01T00:00:00.1234567Z",
            "Result": "success",
            "InitiatedBy": json.dumps(ADMIN),
            "TargetResources": json.dumps(TARGET),
        },
        {
            "TimeGenerated": "2024-01-01T00:01:10Z",
            "Type": "SigninLogs",
            "Id": "S1",
            "CreatedDateTime": "2024-01-01T00:01:00Z",
            "UserId": "u-target",
            "UserPrincipalName": "t@contoso.example",
            "Status": json.dumps({"errorCode": 500121, "additionalDetails": DENIED}),
            "AuthenticationDetails": json.dumps(
                [
                    {
                        "authenticationStepDateTime": "2024-01-01T00:01:00Z",
                        "authenticationMethod": "Mobile app notification",
                        "succeeded": False,
                        "authenticationStepResultDetail": DENIED,
                    }
                ]
            ),
            "IsInteractive": "true",
        },
    ]

    sink, frames = load(json.dumps(rows))

    audit = frames.audit.iloc[0]
    signin = frames.signin.iloc[0]
    assert audit["actor_upn"] == "admin@contoso.example"
    assert audit["target_id"] == "u-target"
    assert signin["error_code"] == 500121
    assert signin["additional_details"] == DENIED
    assert frames.signin["is_interactive"].tolist() == [True]
    assert list(frames.steps["result_detail"]) == [DENIED]
    assert set(sink.report.shapes) == {"log-analytics"}


def test_log_analytics_unsupported_table() -> None:
    rows = [
        {
            "TimeGenerated": "2024-01-01T00:00:10Z",
            "Type": "AADRiskyUsers",
            "TenantId": "t",
        }
    ]

    sink, _ = load(json.dumps(rows))

    assert dict(sink.report.skipped) == {"unsupported table AADRiskyUsers": 1}


def test_error_object_counted_as_skip() -> None:
    text = '{"error": {"code": "BadRequest", "message": "page incomplete"}}'

    sink, _ = load(text)

    assert dict(sink.report.skipped) == {"error object inside the export": 1}
    assert sink.report.records_seen == 1


GRAPH_ERROR = {
    "error": {
        "code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.",
        "innerError": {"request-id": "r-1"},
    }
}


def test_error_object_warns_code_and_message(caplog: pytest.LogCaptureFixture) -> None:
    sink, _ = load(json.dumps(GRAPH_ERROR))

    assert dict(sink.report.skipped) == {"error object inside the export": 1}
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith("export.json, line 1: skipped a Microsoft Graph error")
    assert "Authorization_RequestDenied" in warning
    assert "(Insufficient privileges to complete the operation.)" in warning
    assert "permissions" in warning


def test_error_object_message_capped(caplog: pytest.LogCaptureFixture) -> None:
    error = {"error": {"code": "C" * 500, "message": "word " * 1000}}

    sink, _ = load(json.dumps(error))

    assert dict(sink.report.skipped) == {"error object inside the export": 1}
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warning) < 500
    assert "C" * 77 + "..." in warning
    assert "C" * 78 not in warning


def test_error_object_warnings_limited(caplog: pytest.LogCaptureFixture) -> None:
    text = "".join(json.dumps(GRAPH_ERROR) + "\n" for _ in range(7))

    sink, _ = load(text)

    assert dict(sink.report.skipped) == {"error object inside the export": 7}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 5
    assert warnings[-1].endswith("are counted, not listed")


def test_error_code_without_message(caplog: pytest.LogCaptureFixture) -> None:
    sink, _ = load(json.dumps({"error": "invalid_request"}))

    assert dict(sink.report.skipped) == {"error object inside the export": 1}
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "log records: invalid_request; check" in warning


def test_unknown_record_counted_as_skip() -> None:
    sink, _ = load('[{"hello": "world"}, 5]')

    assert sum(sink.report.skipped.values()) == 2
    assert sink.report.records_seen == 2


def test_strict_raises_on_broken_line() -> None:
    text = ndjson(diagnostic_signin("S1")) + '{"category": "SignInLogs", "pro\n'

    with pytest.raises(InputError) as caught:
        load(text)

    assert caught.value.line == 2
    assert caught.value.complete_records == 1


def test_lenient_keeps_lines_after_bad_string() -> None:
    text = (
        ndjson(diagnostic_signin("S1"))
        + '{"category": "SignInLogs", "pro\n'
        + ndjson(diagnostic_signin("S3"), diagnostic_signin("S4"))
    )

    sink, frames = load(text, strict=False)

    assert list(frames.signin["record_id"]) == ["S1", "S3", "S4"]
    assert list(frames.signin["source_line"]) == [1, 3, 4]
    assert sink.report.partial
    assert dict(sink.report.skipped) == {"invalid JSON": 1}


def test_lenient_keeps_lines_after_cut_member() -> None:
    # A line cut right after a member name must not swallow the next good line.
    text = (
        ndjson(diagnostic_signin("S1"))
        + '{"category": "SignInLogs", "properties": \n'
        + ndjson(diagnostic_signin("S3"), diagnostic_signin("S4"))
        + ndjson(diagnostic_signin("S5"))
    )

    sink, frames = load(text, strict=False)

    assert list(frames.signin["record_id"]) == ["S1", "S3", "S4", "S5"]
    assert sink.report.partial
    assert sink.report.records_seen == 5


def test_lenient_page_keeps_complete_records() -> None:
    text = (
        '{"value": [\n'
        + json.dumps(diagnostic_signin("S1")["properties"])
        + ",\n"
        + json.dumps(diagnostic_signin("S2")["properties"])
        + ',\n{"id": "S3", "userId": '
    )

    sink, frames = load(text, strict=False)

    assert list(frames.signin["record_id"]) == ["S1", "S2"]
    assert sink.report.partial
    assert sink.report.records_seen == 3


def test_accounting_adds_up() -> None:
    risk = {
        "time": "2025-01-02T03:04:05Z",
        "category": "UserRiskEvents",
        "properties": {"id": "R1"},
    }
    bad_time = diagnostic_signin("S9", createdDateTime="not a time")
    bad_time["time"] = "also not a time"
    text = ndjson(diagnostic_audit(), diagnostic_signin(), risk, bad_time)

    sink, frames = load(text)

    report = sink.report
    loaded = report.loaded["audit"] + report.loaded["signin"]
    assert report.records_seen == 4
    assert loaded + sum(report.skipped.values()) == report.records_seen
    assert report.skipped["invalid timestamp"] == 1
    assert len(frames.signin) == 1


def test_bad_time_warns_with_line(caplog: pytest.LogCaptureFixture) -> None:
    bad_time = diagnostic_signin("S9", createdDateTime="not a time")
    bad_time["time"] = "also not a time"

    with caplog.at_level("WARNING", logger="h056hunt"):
        load(ndjson(diagnostic_signin(), bad_time))

    assert "export.json, line 2" in caplog.text
    assert "invalid timestamp" in caplog.text


def test_broken_fragment_warning_quotes_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The fault message quotes the byte order mark with repr(), as the strict
    # error does, so the formatted warning must not double its backslash.
    signin = {"id": "S1", "createdDateTime": "2025-01-02T03:04:05Z", "userId": "u1"}
    page = "[\n" + json.dumps(signin, indent=1) + "\n]\n"
    load(page + "\ufeff" + page, strict=False)

    formatter = SafeFormatter("%(message)s")
    warnings = [formatter.format(r) for r in caplog.records if r.levelname == "WARNING"]

    assert any("found '\\ufeff' (1 complete record" in text for text in warnings)
    assert not any("'\\\\ufeff'" in text for text in warnings)
