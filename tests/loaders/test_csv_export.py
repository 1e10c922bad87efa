"""Tests for the CSV loaders, run through ``load_logs`` to exercise the real sink."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from h056hunt.errors import AmbiguousDateError, InputError
from h056hunt.load import LoadedData, LoadOptions, load_logs

ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"
VICTIM_ID = "00000000-0000-4000-8000-0000000000f1"
APP_ID = "4765445b-32c6-49b0-83e6-1d93765276ca"
SERVICE_PRINCIPAL_ID = "00000000-0000-4000-8000-0000000005b1"
DENIED = "MFA denied; user declined the authentication"

PORTAL_SIGNIN_HEADER = [
    "Date (UTC)",
    "Request ID",
    "User agent",
    "Correlation ID",
    "User ID",
    "User",
    "Username",
    "User type",
    "Incoming token type",
    "Application",
    "Application ID ",
    "Resource",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Client app",
    "Browser",
    "Operating System",
    "Multifactor authentication result",
    "Multifactor authentication auth method",
    "Multifactor authentication auth detail",
    "Authentication requirement",
    "Autonomous system  number",
    "Incoming token type",
    "Conditional Access",
]


def utc(value: str) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC")


def csv_text(
    rows: list[list[str]], delimiter: str = ",", line_end: str = "\r\n"
) -> str:
    """Write rows the way the portal does: every cell quoted, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator=line_end
    )
    writer.writerows(rows)
    return buffer.getvalue()


def write(folder: Path, name: str, content: str, encoding: str = "utf-8") -> str:
    path = folder / name
    path.write_bytes(content.encode(encoding))
    return str(path)


def load(
    audit: list[str] | None = None,
    signin: list[str] | None = None,
    *,
    strict: bool = True,
) -> LoadedData:
    return load_logs(audit or [], signin or [], LoadOptions(strict=strict))


def assert_every_record_accounted(data: LoadedData) -> None:
    for report in data.files:
        accounted = (
            report.loaded_total + report.duplicates + sum(report.skipped.values())
        )
        assert accounted == report.records_seen, report.path


def portal_signin(**cells: str) -> list[str]:
    """Return a portal sign-in row with the given cells and empty defaults."""
    values = {
        "Date (UTC)": "2026-09-14T19:18:05Z",
        "User agent": "Mozilla/5.0",
        "Correlation ID": "c0000000-0000-4000-8000-000000000001",
        "User ID": VICTIM_ID,
        "User": "Frank Victim",
        "Username": "frank@contoso.example",
        "User type": "Member",
        "Application": "Office 365 Exchange Online",
        "Application ID ": APP_ID,
        "Resource": "Office 365 Exchange Online",
        "IP address": "198.51.100.7",
        "Location": "Redmond, Washington, US",
        "Client app": "Browser",
        "Browser": "Edge 120.0.0",
        "Operating System": "Windows10",
        "Authentication requirement": "Multifactor authentication",
        "Autonomous system  number": "8075",
        "Conditional Access": "notApplied",
    }
    values.update({key.replace("_", " "): value for key, value in cells.items()})
    first_token_type, second_token_type = "none", "primaryRefreshToken"
    row = []
    token_type_columns_seen = 0
    for name in PORTAL_SIGNIN_HEADER:
        if name == "Incoming token type":
            token_type_columns_seen += 1
            row.append(
                first_token_type if token_type_columns_seen == 1 else second_token_type
            )
        else:
            row.append(values.get(name, ""))
    return row


def portal_signin_file(folder: Path, name: str = "signins.csv") -> str:
    rows = [
        PORTAL_SIGNIN_HEADER,
        portal_signin(
            Request_ID="req-1",
            Status="Failure",
            **{
                "Sign-in error code": "500121",
                "Failure reason": "Authentication failed during strong authentication "
                "request.",
                "Multifactor authentication result": DENIED,
                "Multifactor authentication auth method": "Mobile app notification",
                "Multifactor authentication auth detail": "<null>",
            },
        ),
        portal_signin(
            Request_ID="req-2",
            Status="Success",
            **{"Date (UTC)": "2026-09-14T19:25:00Z", "Location": "US"},
        ),
        portal_signin(
            Request_ID="req-1",
            Status="Failure",
            **{"Date (UTC)": "2026-09-14T19:19:40Z", "Sign-in error code": "500121"},
        ),
    ]
    return write(folder, name, csv_text(rows))


def test_portal_signin_maps_columns(tmp_path: Path) -> None:
    data = load(signin=[portal_signin_file(tmp_path)])

    assert data.files[0].shape == "portal-signin-csv"
    assert data.files[0].loaded["signin"] == 3
    signins = data.signin.set_index("record_id")
    denial = signins.loc["req-1"]
    assert denial["request_id"] == "req-1"
    assert denial["event_time"] == utc("2026-09-14T19:18:05Z")
    assert denial["user_id"] == VICTIM_ID
    assert denial["user_upn"] == "frank@contoso.example"
    assert denial["user_display_name"] == "Frank Victim"
    assert denial["app_id"] == APP_ID
    assert denial["error_code"] == 500121
    assert denial["additional_details"] == DENIED
    assert denial["mfa_auth_method"] == "Mobile app notification"
    assert pd.isna(denial["mfa_auth_detail"])
    assert denial["city"] == "Redmond"
    assert denial["country"] == "US"
    assert denial["conditional_access_status"] == "notApplied"
    assert denial["source_line"] == 2
    assert data.signin["error_code"].dtype == pd.ArrowDtype(pa.int64())
    assert_every_record_accounted(data)


def test_portal_signin_success_without_code(tmp_path: Path) -> None:
    data = load(signin=[portal_signin_file(tmp_path)])

    success = data.signin.set_index("record_id").loc["req-2"]
    assert success["error_code"] == 0
    assert success["country"] == "US"
    assert pd.isna(success["city"])


def test_portal_signin_repeated_request_id(tmp_path: Path) -> None:
    data = load(signin=[portal_signin_file(tmp_path)])

    repeated = data.signin.set_index("record_id").loc["req-1#3"]
    assert repeated["request_id"] == "req-1"
    assert repeated["event_time"] == utc("2026-09-14T19:19:40Z")
    assert data.files[0].duplicates == 0


def test_portal_signin_semicolon_delimiter(tmp_path: Path) -> None:
    rows = [
        PORTAL_SIGNIN_HEADER,
        portal_signin(Request_ID="req-9", **{"Sign-in error code": "50074"}),
    ]
    path = write(tmp_path, "semicolon.csv", csv_text(rows, delimiter=";"))

    data = load(signin=[path])

    row = data.signin.iloc[0]
    assert row["record_id"] == "req-9"
    assert row["error_code"] == 50074
    assert row["city"] == "Redmond"
    assert row["country"] == "US"


def test_portal_signin_utf16_with_bom(tmp_path: Path) -> None:
    rows = [
        PORTAL_SIGNIN_HEADER,
        portal_signin(Request_ID="req-16", **{"Sign-in error code": "0"}),
    ]
    path = write(tmp_path, "utf16.csv", csv_text(rows), encoding="utf-16")

    data = load(signin=[path])

    assert data.files[0].shape == "portal-signin-csv"
    assert data.signin["record_id"].tolist() == ["req-16"]
    assert data.signin["event_time"].iloc[0] == utc("2026-09-14T19:18:05Z")


def test_header_with_second_bom(tmp_path: Path) -> None:
    rows = [
        PORTAL_SIGNIN_HEADER,
        portal_signin(Request_ID="req-7", **{"Sign-in error code": "0"}),
    ]
    # utf-8-sig adds one byte order mark; the text carries a second one.
    path = write(tmp_path, "bom.csv", "\ufeff" + csv_text(rows), encoding="utf-8-sig")

    data = load(signin=[path])

    assert data.signin["event_time"].iloc[0] == utc("2026-09-14T19:18:05Z")


def test_auth_details_join_on_request_id(tmp_path: Path) -> None:
    signins = portal_signin_file(tmp_path)
    rows = [
        [
            "Date (UTC)",
            "Request ID",
            "Authentication method",
            "Authentication method detail",
            "Requirement",
            "Succeeded",
            "Result detail",
        ],
        [
            "2026-09-14T19:18:01Z",
            "req-1",
            "Password",
            "Password in the cloud",
            "Primary authentication",
            "true",
            "Correct password",
        ],
        [
            "2026-09-14T19:18:05Z",
            "req-1",
            "Mobile app notification",
            "",
            "Primary authentication",
            "false",
            DENIED,
        ],
    ]
    details = write(tmp_path, "details.csv", csv_text(rows))

    data = load(signin=[signins, details])

    report = {report.path: report for report in data.files}[details]
    assert report.shape == "portal-auth-details-csv"
    assert report.loaded["steps"] == 2
    steps = data.steps[data.steps["record_id"] == "req-1"].sort_values("step_index")
    assert steps["step_index"].tolist() == [0, 1]
    assert steps["method"].tolist() == ["Password", "Mobile app notification"]
    assert steps["succeeded"].tolist() == [True, False]
    assert steps["result_detail"].iloc[1] == DENIED
    assert steps["step_time"].iloc[1] == utc("2026-09-14T19:18:05Z")
    assert "req-1" in set(data.signin["record_id"])
    assert_every_record_accounted(data)


AUDIT_HEADER = [
    "Date (UTC)",
    "CorrelationId",
    "Service",
    "Category",
    "Activity",
    "Result",
    "ResultReason",
    "User Agent",
    "ActorType",
    "ActorDisplayName",
    "ActorObjectId",
    "ActorUserPrincipalName",
    "IPAddress",
    "ActorServicePrincipalId",
    "ActorServicePrincipalName",
] + [
    f"Target{number}{field}"
    for number in (1, 2)
    for field in (
        "Type",
        "DisplayName",
        "ObjectId",
        "UserPrincipalName",
        "ModifiedProperty1Name",
        "ModifiedProperty1OldValue",
        "ModifiedProperty1NewValue",
    )
]


def test_portal_audit_user_actor(tmp_path: Path) -> None:
    revocation = [
        "2026-09-14T19:00:00Z",
        "c0000000-0000-4000-8000-0000000000a1",
        "Core Directory",
        "UserManagement",
        "Update StsRefreshTokenValidFrom Timestamp",
        "success",
        "",
        "",
        "User",
        "Sec Admin",
        ADMIN_ID,
        "secadmin@contoso.example",
        "203.0.113.9",
        "",
        "",
        "User",
        "",
        VICTIM_ID,
        "frank@contoso.example",
        "StsRefreshTokensValidFrom",
        '["2026-09-01T00:00:00Z"]',
        '["2026-09-14T19:00:00Z"]',
    ] + [""] * 7
    path = write(tmp_path, "audit.csv", csv_text([AUDIT_HEADER, revocation]))

    data = load(audit=[path])

    assert data.files[0].shape == "portal-audit-csv"
    row = data.audit.iloc[0]
    assert row["event_time"] == utc("2026-09-14T19:00:00Z")
    assert row["activity"] == "Update StsRefreshTokenValidFrom Timestamp"
    assert row["logged_by_service"] == "Core Directory"
    assert row["actor_type"] == "user"
    assert row["actor_id"] == ADMIN_ID
    assert row["actor_upn"] == "secadmin@contoso.example"
    assert row["actor_ip"] == "203.0.113.9"
    assert row["target_id"] == VICTIM_ID
    assert row["target_upn"] == "frank@contoso.example"
    properties = json.loads(row["modified_properties"])
    assert properties[0]["name"] == "StsRefreshTokensValidFrom"
    assert properties[0]["new"] == ["2026-09-14T19:00:00Z"]
    assert row["record_id"].startswith("sha256:")
    assert_every_record_accounted(data)


def test_portal_audit_app_actor_user_target(tmp_path: Path) -> None:
    group_then_user = [
        "2026-09-14T19:05:00Z",
        "c0000000-0000-4000-8000-0000000000a2",
        "Core Directory",
        "UserManagement",
        "Update user",
        "success",
        "",
        "",
        "App",
        "",
        "",
        "",
        "",
        SERVICE_PRINCIPAL_ID,
        "soar-playbook",
        "Group",
        "Responders",
        "00000000-0000-4000-8000-00000000a0a0",
        "",
        "",
        "",
        "",
        "User",
        "",
        VICTIM_ID,
        "frank@contoso.example",
        "",
        "",
        "",
    ]
    path = write(tmp_path, "audit.csv", csv_text([AUDIT_HEADER, group_then_user]))

    data = load(audit=[path])

    row = data.audit.iloc[0]
    assert row["actor_type"] == "app"
    assert row["actor_service_principal_id"] == SERVICE_PRINCIPAL_ID
    assert row["actor_display_name"] == "soar-playbook"
    assert row["target_type"] == "User"
    assert row["target_id"] == VICTIM_ID


def test_log_analytics_signin_json_cells(tmp_path: Path) -> None:
    status = {
        "errorCode": 500121,
        "failureReason": "Authentication failed during strong authentication request.",
        "additionalDetails": DENIED,
    }
    steps = [
        {
            "authenticationStepDateTime": "2026-09-14T19:18:01Z",
            "authenticationMethod": "Mobile app notification",
            "succeeded": False,
            "authenticationStepResultDetail": DENIED,
        }
    ]
    steps_text = json.dumps(steps, indent=1)
    header = [
        "\ufeffTimeGenerated [UTC]",
        "CreatedDateTime [UTC]",
        "Type",
        "Id",
        "OriginalRequestId",
        "UserPrincipalName",
        "UserId",
        "ResultType",
        "Status",
        "AuthenticationDetails",
        "LocationDetails",
        "Location",
        "IsInteractive",
    ]
    rows = [
        header,
        [
            "9/14/2026, 7:20:01.123 PM",
            "9/14/2026, 7:18:05.456 PM",
            "SigninLogs",
            "id-1",
            "req-la-1",
            "frank@contoso.example",
            VICTIM_ID,
            "500121",
            json.dumps(status),
            steps_text,
            json.dumps({"city": "Redmond", "countryOrRegion": "US"}),
            "US",
            "true",
        ],
        [
            "9/14/2026, 7:30:00.000 PM",
            "",
            "AADNonInteractiveUserSignInLogs",
            "id-2",
            "req-la-2",
            "frank@contoso.example",
            VICTIM_ID,
            "50173",
            json.dumps({"errorCode": 50173}),
            "[]",
            "{}",
            "US",
            "false",
        ],
    ]
    path = write(tmp_path, "la.csv", csv_text(rows, line_end="\n"))

    data = load(signin=[path])

    assert data.files[0].shape == "log-analytics-csv"
    signins = data.signin.set_index("record_id")
    denial = signins.loc["id-1"]
    assert denial["event_time"] == utc("2026-09-14T19:18:05.456Z")
    assert denial["request_id"] == "req-la-1"
    assert denial["error_code"] == 500121
    assert denial["additional_details"] == DENIED
    assert denial["signin_event_type"] == "interactiveUser"
    assert denial["is_interactive"]
    refresh = signins.loc["id-2"]
    assert refresh["event_time"] == utc("2026-09-14T19:30:00Z")
    assert refresh["signin_event_type"] == "nonInteractiveUser"
    assert refresh["error_code"] == 50173
    # The first row starts on line 2 and its AuthenticationDetails cell has line
    # breaks, so the second row starts further down.
    assert refresh["source_line"] == 3 + steps_text.count("\n")
    step = data.steps.iloc[0]
    assert step["record_id"] == "id-1"
    assert step["result_detail"] == DENIED
    assert not step["succeeded"]
    assert_every_record_accounted(data)


def test_log_analytics_audit_uses_activity_time(tmp_path: Path) -> None:
    initiated_by = {
        "user": {"id": ADMIN_ID, "userPrincipalName": "secadmin@contoso.example"}
    }
    targets = [
        {
            "id": VICTIM_ID,
            "type": "User",
            "userPrincipalName": "frank@contoso.example",
            "modifiedProperties": [
                {
                    "displayName": "StsRefreshTokensValidFrom",
                    "oldValue": '["2026-09-01T00:00:00Z"]',
                    "newValue": '["2026-09-14T19:00:00Z"]',
                }
            ],
        }
    ]
    rows = [
        [
            "TimeGenerated [UTC]",
            "ActivityDateTime [UTC]",
            "OperationName",
            "Category",
            "Result",
            "LoggedByService",
            "Id",
            "InitiatedBy",
            "TargetResources",
            "Type",
        ],
        [
            "2026-09-14T19:02:00.000Z",
            "2026-09-14T19:00:00.1234567Z",
            "Update StsRefreshTokenValidFrom Timestamp",
            "UserManagement",
            "success",
            "Core Directory",
            "Directory_la_1",
            json.dumps(initiated_by),
            json.dumps(targets),
            "AuditLogs",
        ],
    ]
    path = write(tmp_path, "la_audit.csv", csv_text(rows))

    data = load(audit=[path])

    row = data.audit.iloc[0]
    assert row["record_id"] == "Directory_la_1"
    assert row["event_time"] == utc("2026-09-14T19:00:00.1234567Z")
    assert row["actor_id"] == ADMIN_ID
    assert row["target_id"] == VICTIM_ID
    assert json.loads(row["modified_properties"])[0]["new"] == ["2026-09-14T19:00:00Z"]


def test_purview_ual_csv(tmp_path: Path) -> None:
    revocation = {
        "CreationTime": "2026-09-14T19:00:00",
        "Id": "ual-1",
        "Operation": "Update StsRefreshTokenValidFrom Timestamp.",
        "RecordType": 8,
        "ResultStatus": "Success",
        "Workload": "AzureActiveDirectory",
        "ObjectId": "frank@contoso.example",
        "UserId": "secadmin@contoso.example",
        "Target": [{"ID": f"User_{VICTIM_ID}", "Type": 2}],
    }
    failure = {
        "CreationTime": "2026-09-14T19:03:00",
        "Id": "ual-2",
        "Operation": "UserLoginFailed",
        "RecordType": 15,
        "ResultStatus": "Success",
        "Workload": "AzureActiveDirectory",
        "UserId": "frank@contoso.example",
        "UserKey": VICTIM_ID,
        "ErrorNumber": "500121",
        "LogonError": "AuthenticationFailedSasError",
    }
    mailbox = {"CreationTime": "2026-09-14T19:04:00", "Id": "ual-3", "RecordType": 2}
    header = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId"]
    header += ["AuditData", "AssociatedAdminUnits", "AssociatedAdminUnitsNames"]
    rows = [
        header,
        ["ual-1", "9/14/2026 7:00:00 PM", "8", "", "", json.dumps(revocation), "", ""],
        ["ual-2", "9/14/2026 7:03:00 PM", "15", "", "", json.dumps(failure), "", ""],
        ["ual-3", "9/14/2026 7:04:00 PM", "2", "", "", json.dumps(mailbox), "", ""],
        ["ual-4", "9/14/2026 7:05:00 PM", "15", "", "", "{not json", "", ""],
    ]
    path = write(tmp_path, "ual.csv", csv_text(rows))

    data = load(audit=[path])

    report = data.files[0]
    assert report.shape == "purview-ual-csv"
    assert report.skipped == {
        "Unified Audit Log record type 2 not used": 1,
        "invalid AuditData JSON": 1,
    }
    audit = data.audit.iloc[0]
    assert audit["activity"] == "Update StsRefreshTokenValidFrom Timestamp."
    assert audit["event_time"] == utc("2026-09-14T19:00:00Z")
    assert audit["target_id"] == VICTIM_ID
    signin = data.signin.iloc[0]
    assert signin["error_code"] == 500121
    assert signin["failure_reason"] == "AuthenticationFailedSasError"
    assert signin["user_id"] == VICTIM_ID
    assert_every_record_accounted(data)


def test_header_only_file_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "empty.csv", csv_text([PORTAL_SIGNIN_HEADER]))

    with caplog.at_level(logging.WARNING):
        data = load(signin=[path])

    assert data.files[0].records_seen == 0
    assert data.signin.empty
    assert any(path in message for message in caplog.messages)


def test_unrecognised_header_skips_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "other.csv", "Foo,Bar,Baz\n1,2,3\n4,5,6\n")

    with caplog.at_level(logging.WARNING):
        data = load(signin=[path])

    assert data.files[0].skipped == {"unrecognised CSV header": 2}
    assert data.files[0].records_seen == 2
    warnings = [message for message in caplog.messages if path in message]
    assert warnings
    assert "'Foo'" in warnings[0]
    assert_every_record_accounted(data)


BROKEN_QUOTE = (
    "TimeGenerated [UTC],UserPrincipalName,UserId,ResultType,OriginalRequestId\n"
    "2026-09-14T19:00:00Z,frank@contoso.example,u1,500121,r1\n"
    '2026-09-14T19:01:00Z,"frank@contoso.example,u1,500121,r2\n'
    "2026-09-14T19:02:00Z,frank@contoso.example,u1,500121,r3\n"
)
EXTRA_CELL = (
    "TimeGenerated [UTC],UserPrincipalName,UserId,ResultType,OriginalRequestId\n"
    "2026-09-14T19:00:00Z,frank@contoso.example,u1,500121,r1\n"
    "2026-09-14T19:01:00Z,frank@contoso.example,u1,500121,r2,surplus\n"
    "2026-09-14T19:02:00Z,frank@contoso.example,u1,500121,r3\n"
)


@pytest.mark.parametrize("content", [BROKEN_QUOTE, EXTRA_CELL])
def test_malformed_row_strict_raises(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "broken.csv", content)

    with pytest.raises(InputError) as raised:
        load(signin=[path])

    assert raised.value.reason == "invalid_csv"
    assert raised.value.line == 3
    assert raised.value.complete_records == 1
    assert path in str(raised.value)


@pytest.mark.parametrize(
    ("delimiter", "cell"),
    [(",", '"frank"x@contoso.example'), (";", '"frank" @contoso.example')],
)
def test_text_after_closing_quote_explained(
    tmp_path: Path, delimiter: str, cell: str
) -> None:
    rows = [
        ["TimeGenerated [UTC]", "UserPrincipalName", "UserId", "ResultType"],
        ["2026-09-14T19:00:00Z", "frank@contoso.example", "u1", "500121"],
        ["2026-09-14T19:01:00Z", cell, "u1", "500121"],
    ]
    content = "".join(delimiter.join(row) + "\n" for row in rows)
    path = write(tmp_path, "broken.csv", content)

    with pytest.raises(InputError) as raised:
        load(signin=[path])

    message = str(raised.value)
    assert raised.value.line == 3
    assert f"not by {delimiter!r} or a line end" in message
    assert 'write each quote inside a quoted cell twice ("")' in message
    assert "expected after" not in message


@pytest.mark.parametrize("content", [BROKEN_QUOTE, EXTRA_CELL])
def test_malformed_row_lenient_keeps_rest(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "broken.csv", content)

    with caplog.at_level(logging.WARNING):
        data = load(signin=[path], strict=False)

    report = data.files[0]
    assert report.partial
    assert data.partial
    assert report.skipped == {"invalid CSV row": 1}
    assert sorted(data.signin["request_id"]) == ["r1", "r3"]
    assert data.signin.set_index("request_id").loc["r3", "source_line"] == 4
    assert any("line 3" in message for message in caplog.messages)
    assert_every_record_accounted(data)


def test_case_interrupts_log_analytics(cases_dir: Path) -> None:
    data = load(
        audit=[str(cases_dir / "BR-07_audit.csv")],
        signin=[str(cases_dir / "BR-07.csv")],
    )

    assert data.audit["event_time"].tolist() == [utc("2024-06-16T14:00:00Z")]
    assert data.audit["target_id"].iloc[0] == "00000000-0000-4000-8000-0000000ca201"
    assert len(data.signin) == 12
    codes = data.signin["error_code"].tolist()
    assert sorted(code for code in codes if code) == [
        50074,
        50074,
        50074,
        50074,
        50076,
        70044,
    ]
    assert set(data.signin["signin_event_type"]) == {"interactiveUser"}
    assert_every_record_accounted(data)


@pytest.mark.parametrize("name", ["BR-15.csv", "BR-15_b.csv"])
def test_case_locale_dates(cases_dir: Path, name: str) -> None:
    data = load(signin=[str(cases_dir / name)])

    times = data.signin.sort_values("event_time")["event_time"].tolist()
    assert times == [
        utc("2024-11-12T08:49:37.587Z"),
        utc("2024-11-12T08:51:02.113Z"),
        utc("2024-11-12T08:53:40.900Z"),
        utc("2024-11-13T00:10:00Z"),
    ]
    assert data.signin["error_code"].tolist().count(500121) == 3


def test_case_ambiguous_dates_stop(cases_dir: Path) -> None:
    path = str(cases_dir / "BR-15_ambiguous.csv")

    with pytest.raises(AmbiguousDateError) as raised:
        load(signin=[path])

    assert path in str(raised.value)
    assert "TimeGenerated [UTC]" in str(raised.value)
