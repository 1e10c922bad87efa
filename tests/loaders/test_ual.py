"""Tests for the Unified Audit Log mapping, through JSON, JSONL and CSV exports."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from h056hunt.load import LoadedData, LoadOptions, load_logs

ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"
VICTIM_ID = "00000000-0000-4000-8000-0000000000f1"
SERVICE_PRINCIPAL_ID = "00000000-0000-4000-8000-0000000005b1"
OLIVIA_ID = "00000000-0000-4000-8000-00000000011a"


def utc(value: str) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC")


def load(audit: list[str] | None = None, signin: list[str] | None = None) -> LoadedData:
    return load_logs(audit or [], signin or [], LoadOptions(strict=True))


def write_jsonl(folder: Path, name: str, records: list[Any]) -> str:
    path = folder / name
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return str(path)


def assert_every_record_accounted(data: LoadedData) -> None:
    for report in data.files:
        accounted = (
            report.loaded_total + report.duplicates + sum(report.skipped.values())
        )
        assert accounted == report.records_seen, report.path


def directory_record(**fields: Any) -> dict[str, Any]:
    record = {
        "CreationTime": "2026-09-14T19:00:00",
        "Id": "ual-audit-1",
        "Operation": "Update StsRefreshTokenValidFrom Timestamp.",
        "OrganizationId": "11111111-1111-4111-8111-111111111111",
        "RecordType": 8,
        "ResultStatus": "Success",
        "UserKey": "10032000A1B2C3D4",
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ObjectId": "frank@contoso.example",
        "UserId": "secadmin@contoso.example",
        "ActorIpAddress": "203.0.113.9",
    }
    record.update(fields)
    return record


def logon_record(**fields: Any) -> dict[str, Any]:
    record = {
        "CreationTime": "2026-09-14T19:03:00",
        "Id": "ual-logon-1",
        "Operation": "UserLoginFailed",
        "RecordType": 15,
        "ResultStatus": "Success",
        "UserKey": VICTIM_ID,
        "Workload": "AzureActiveDirectory",
        "ClientIP": "[2001:db8::7]:51234",
        "ObjectId": "00000003-0000-0000-c000-000000000000",
        "UserId": "frank@contoso.example",
        "ExtendedProperties": [
            {"Name": "RequestType", "Value": "SAS:ProcessAuth"},
            {"Name": "UserAgent", "Value": "Mozilla/5.0 (X11)"},
        ],
        "ErrorNumber": "500121",
        "LogonError": "AuthenticationFailedSasError",
        "ApplicationId": "4765445b-32c6-49b0-83e6-1d93765276ca",
    }
    record.update(fields)
    return record


def test_directory_record_user_actor(tmp_path: Path) -> None:
    record = directory_record(
        Actor=[
            {"ID": "secadmin@contoso.example", "Type": 5},
            {"ID": "10032000A1B2C3D4", "Type": 3},
            {"ID": f"User_{ADMIN_ID}", "Type": 2},
            {"ID": ADMIN_ID, "Type": 2},
            {"ID": "User", "Type": 2},
        ],
        Target=[
            {"ID": f"User_{VICTIM_ID}", "Type": 2},
            {"ID": VICTIM_ID, "Type": 2},
            {"ID": "User", "Type": 2},
            {"ID": "frank@contoso.example", "Type": 5},
        ],
        ModifiedProperties=[
            {
                "Name": "StsRefreshTokensValidFrom",
                "NewValue": '[\r\n  "2026-09-14T19:00:00Z"\r\n]',
                "OldValue": '[\r\n  "2026-09-01T00:00:00Z"\r\n]',
            }
        ],
    )
    path = write_jsonl(tmp_path, "ual.jsonl", [record])

    data = load(audit=[path])

    assert data.files[0].shape == "purview-ual"
    row = data.audit.iloc[0]
    assert row["record_id"] == "ual-audit-1"
    assert row["event_time"] == utc("2026-09-14T19:00:00Z")
    assert row["activity"] == "Update StsRefreshTokenValidFrom Timestamp."
    assert row["result"] == "Success"
    assert row["actor_type"] == "user"
    assert row["actor_id"] == ADMIN_ID
    assert row["actor_upn"] == "secadmin@contoso.example"
    assert row["actor_ip"] == "203.0.113.9"
    assert row["target_type"] == "User"
    assert row["target_id"] == VICTIM_ID
    assert row["target_upn"] == "frank@contoso.example"
    properties = json.loads(row["modified_properties"])
    assert properties == [
        {
            "name": "StsRefreshTokensValidFrom",
            "old": ["2026-09-01T00:00:00Z"],
            "new": ["2026-09-14T19:00:00Z"],
        }
    ]
    assert_every_record_accounted(data)


def test_directory_record_app_actor(tmp_path: Path) -> None:
    record = directory_record(
        UserId="Not Available",
        UserKey="Not Available",
        ActorIpAddress="",
        ClientIP="<null>",
        ObjectId=f"User_{VICTIM_ID}",
        Actor=[
            {"ID": "soar-playbook", "Type": 1},
            {"ID": f"ServicePrincipal_{SERVICE_PRINCIPAL_ID}", "Type": 2},
            {"ID": SERVICE_PRINCIPAL_ID, "Type": 2},
            {"ID": "ServicePrincipal", "Type": 2},
        ],
        Target=[{"ID": f"User_{VICTIM_ID}", "Type": 2}],
    )
    path = write_jsonl(tmp_path, "ual.jsonl", [record])

    data = load(audit=[path])

    row = data.audit.iloc[0]
    assert row["actor_type"] == "app"
    assert row["actor_id"] == SERVICE_PRINCIPAL_ID
    assert row["actor_service_principal_id"] == SERVICE_PRINCIPAL_ID
    assert row["actor_display_name"] == "soar-playbook"
    assert pd.isna(row["actor_upn"])
    assert pd.isna(row["actor_ip"])
    assert row["target_id"] == VICTIM_ID
    assert pd.isna(row["target_upn"])


def test_failed_logon_trusts_error_number(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, "logons.jsonl", [logon_record()])

    data = load(signin=[path])

    row = data.signin.iloc[0]
    assert row["record_id"] == "ual-logon-1"
    assert row["event_time"] == utc("2026-09-14T19:03:00Z")
    assert row["error_code"] == 500121
    assert row["failure_reason"] == "AuthenticationFailedSasError"
    assert row["user_upn"] == "frank@contoso.example"
    assert row["user_id"] == VICTIM_ID
    assert row["ip_address"] == "2001:db8::7"
    assert row["user_agent"] == "Mozilla/5.0 (X11)"
    assert row["app_id"] == "4765445b-32c6-49b0-83e6-1d93765276ca"
    assert row["signin_event_type"] == "interactiveUser"
    assert row["is_interactive"]


def test_successful_logon_without_error_number(tmp_path: Path) -> None:
    record = logon_record(Operation="UserLoggedIn", ClientIP="192.0.2.4:443")
    del record["ErrorNumber"]
    del record["LogonError"]
    path = write_jsonl(tmp_path, "logons.jsonl", [record])

    data = load(signin=[path])

    row = data.signin.iloc[0]
    assert row["error_code"] == 0
    assert row["ip_address"] == "192.0.2.4"


def test_other_record_types_skipped(tmp_path: Path) -> None:
    records = [
        logon_record(),
        {**logon_record(Id="ual-9"), "RecordType": 9, "Operation": "PasswordLogon"},
        {"CreationTime": "2026-09-14T19:05:00", "Id": "x", "RecordType": 2},
    ]
    path = write_jsonl(tmp_path, "mixed.jsonl", records)

    data = load(signin=[path])

    assert data.files[0].skipped == {
        "Unified Audit Log record type 9 not used": 1,
        "Unified Audit Log record type 2 not used": 1,
    }
    assert len(data.signin) == 1
    assert_every_record_accounted(data)


def test_wrapped_audit_data_in_json(tmp_path: Path) -> None:
    wrapper = {
        "RecordId": "ual-logon-1",
        "CreationDate": "2026-09-14T19:03:00.0000000Z",
        "RecordType": "AzureActiveDirectoryStsLogon",
        "Operations": "UserLoginFailed",
        "AuditData": json.dumps(logon_record()),
    }
    path = write_jsonl(tmp_path, "wrapped.jsonl", [wrapper])

    data = load(signin=[path])

    assert data.signin["error_code"].tolist() == [500121]
    assert data.signin["record_id"].tolist() == ["ual-logon-1"]


def test_real_samples_load(real_logs_dir: Path) -> None:
    folder = real_logs_dir / "sekoia-intake-formats" / "o365"
    paths = sorted(str(path) for path in folder.glob("*.json"))

    data = load(audit=paths)

    assert len(paths) == 6
    assert {report.shape for report in data.files} == {"purview-ual"}
    assert sum(report.loaded["audit"] for report in data.files) == 3
    assert sum(report.loaded["signin"] for report in data.files) == 3
    assert data.audit["activity"].str.endswith(".").all()
    assert_every_record_accounted(data)


def test_real_update_user_sample(real_logs_dir: Path) -> None:
    path = real_logs_dir / "sekoia-intake-formats/o365/update_user_empty_source_ip.json"

    data = load(audit=[str(path)])

    row = data.audit.iloc[0]
    assert row["record_id"] == "21a107c2-2071-4ce3-8330-cf82f3caa79f"
    assert row["event_time"] == utc("2021-03-05T14:43:17Z")
    assert row["actor_id"] == "c96cf894-cca6-438b-b6f2-c2744c1680f5"
    assert row["target_id"] == "de76d2a9-d8bf-47d4-8f74-2ba2b560f55e"
    assert row["target_upn"] == "aaaa.bbbb@example.org"
    assert pd.isna(row["actor_ip"])
    assert row["included_updated_properties"] == "LastDirSyncTime"
    properties = json.loads(row["modified_properties"])
    assert properties[0]["new"] == ["2021-03-05T14:43:17Z"]


def test_real_logon_sample(real_logs_dir: Path) -> None:
    path = real_logs_dir / "sekoia-intake-formats/o365/user_logged_in.json"

    data = load(signin=[str(path)])

    row = data.signin.iloc[0]
    assert row["record_id"] == "405f795f-8bff-45d2-98c9-ef675d7d2db6"
    assert row["error_code"] == 0
    assert row["ip_address"] == "1.2.3.4"
    assert row["user_id"] == "3d0e7ff9-261e-440f-a2f8-9e1ec4072f3e"
    assert row["app_id"] == "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7"
    assert row["user_agent"].startswith("Mozilla/5.0 (Windows NT 10.0")


@pytest.fixture
def time_zone() -> Iterator[None]:
    """Restore the process time zone after a test changes ``TZ``."""
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_case_unified_audit_csv(cases_dir: Path) -> None:
    path = str(cases_dir / "BR-14.csv")

    data = load(audit=[path], signin=[path])

    assert data.files[0].shape == "purview-ual-csv"
    revocation = data.audit.iloc[0]
    assert revocation["event_time"] == utc("2024-03-01T10:00:00Z")
    assert revocation["activity"].endswith(".")
    assert revocation["target_id"] == OLIVIA_ID
    assert revocation["target_upn"] == "olivia@contoso.example"
    assert revocation["actor_upn"] == "secadmin@contoso.example"
    denials = data.signin[data.signin["error_code"] == 500121]
    assert denials["event_time"].tolist() == [
        utc("2024-03-01T10:02:10Z"),
        utc("2024-03-01T10:03:05Z"),
        utc("2024-03-01T10:04:40Z"),
        utc("2024-03-01T10:06:00Z"),
    ]
    assert set(denials["user_upn"]) == {"olivia@contoso.example"}
    assert set(denials["user_id"]) == {OLIVIA_ID}
    assert_every_record_accounted(data)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_case_times_ignore_local_zone(
    cases_dir: Path, zone: str, time_zone: None
) -> None:
    path = str(cases_dir / "BR-14.csv")
    reference = load(audit=[path])

    os.environ["TZ"] = zone
    time.tzset()
    shifted = load(audit=[path])

    pd.testing.assert_frame_equal(shifted.audit, reference.audit)
    pd.testing.assert_frame_equal(shifted.signin, reference.signin)
