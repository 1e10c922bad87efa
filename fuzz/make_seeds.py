"""Write the small, valid seed exports that the fuzzers start from.

One seed per export shape the loaders read: Graph pages and NDJSON, Azure Monitor
diagnostic records, Log Analytics JSON and CSV, the portal's CSV downloads and the
Purview Unified Audit Log as JSON and CSV. Users and addresses are made up
(``contoso.example``, 192.0.2.0/24, 203.0.113.0/24). Run it again to rewrite them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parent / "seeds"
ADMIN = "00000000-0000-4000-8000-0000000000ad"
USER = "00000000-0000-4000-8000-000000000b0b"
DENIED = "MFA denied; user declined the authentication"


def graph_audit() -> dict[str, Any]:
    return {
        "id": "Directory_A1",
        "category": "UserManagement",
        "correlationId": "c0000000-0000-4000-8000-000000000001",
        "result": "success",
        "activityDisplayName": "Revoke user sessions",
        "activityDateTime": "2025-01-02T03:00:00.1234567Z",
        "loggedByService": "Core Directory",
        "initiatedBy": {
            "app": None,
            "user": {
                "id": ADMIN,
                "userPrincipalName": "admin@contoso.example",
                "ipAddress": "192.0.2.10",
            },
        },
        "targetResources": [
            {
                "id": USER,
                "type": "User",
                "userPrincipalName": "bob@contoso.example",
                "displayName": "Bob",
                "modifiedProperties": [
                    {
                        "displayName": "StsRefreshTokensValidFrom",
                        "oldValue": '["2024-01-01T00:00:00Z"]',
                        "newValue": '["2025-01-02T03:00:00Z"]',
                    }
                ],
            }
        ],
    }


def graph_signin(number: int, detail: str = DENIED) -> dict[str, Any]:
    return {
        "id": f"S{number}",
        "createdDateTime": f"2025-01-02T03:0{number}:00Z",
        "userId": USER,
        "userPrincipalName": "bob@contoso.example",
        "userDisplayName": "Bob",
        "appDisplayName": "Office 365",
        "ipAddress": "203.0.113.7",
        "userAgent": "Mozilla/5.0",
        "originalRequestId": f"R{number}",
        "isInteractive": True,
        "location": {"city": "Berlin", "countryOrRegion": "DE"},
        "deviceDetail": {"displayName": "laptop", "operatingSystem": "Windows"},
        "status": {
            "errorCode": 500121,
            "failureReason": "Authentication failed during strong authentication",
            "additionalDetails": detail,
        },
        "authenticationDetails": [
            {
                "authenticationStepDateTime": f"2025-01-02T03:0{number}:10Z",
                "authenticationMethod": "Mobile app notification",
                "succeeded": False,
                "authenticationStepResultDetail": detail,
            }
        ],
    }


def diagnostic(category: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "time": "01/02/2025 3:05:00 AM",
        "resourceId": "/tenants/t/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "category": category,
        "resultType": "500121",
        "properties": properties,
    }


def log_analytics_signin(number: int) -> dict[str, Any]:
    record = {
        key[0].upper() + key[1:]: value for key, value in graph_signin(number).items()
    }
    record["TimeGenerated"] = "2025-01-02T03:06:00Z"
    record["Type"] = "SigninLogs"
    record["Status"] = json.dumps(record["Status"])
    record["ResultType"] = "500121"
    return record


def ual_records() -> list[dict[str, Any]]:
    revocation = {
        "Id": "U-A1",
        "RecordType": 8,
        "CreationTime": "2025-01-02T03:00:00",
        "Operation": "Revoke user sessions.",
        "ResultStatus": "Success",
        "UserId": "admin@contoso.example",
        "ObjectId": "bob@contoso.example",
        "Actor": [{"ID": ADMIN, "Type": 0}, {"ID": "admin@contoso.example", "Type": 5}],
        "Target": [{"ID": f"User_{USER}", "Type": 2}, {"ID": "User", "Type": 2}],
    }
    logons = [
        {
            "Id": f"U-S{number}",
            "RecordType": 15,
            "CreationTime": f"2025-01-02T03:0{number}:00",
            "Operation": "UserLoginFailed",
            "UserId": "bob@contoso.example",
            "UserKey": USER,
            "ClientIP": "203.0.113.7:51234",
            "ErrorNumber": "500121",
            "LogonError": "UserStrongAuthClientAuthNRequired",
            "ExtendedProperties": [{"Name": "UserAgent", "Value": "Mozilla/5.0"}],
        }
        for number in range(1, 4)
    ]
    return [revocation, *logons]


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def portal_signin_csv() -> str:
    header = [
        "Date (UTC)",
        "Request ID",
        "User",
        "Username",
        "User ID",
        "Application",
        "IP address",
        "Location",
        "Status",
        "Sign-in error code",
        "Failure reason",
        "Multifactor authentication result",
        "User agent",
    ]
    rows = [
        [
            f"2025-01-02T03:0{number}:00Z",
            f"R{number}",
            "Bob",
            "bob@contoso.example",
            USER,
            "Office 365",
            "203.0.113.7",
            "Berlin, Berlin, DE",
            "Failure",
            "500121",
            "Authentication failed",
            DENIED,
            "Mozilla/5.0",
        ]
        for number in range(1, 4)
    ]
    return csv_text(header, rows)


def portal_audit_csv() -> str:
    header = [
        "Date (UTC)",
        "CorrelationId",
        "Service",
        "Category",
        "Activity",
        "Result",
        "ActorType",
        "ActorDisplayName",
        "ActorObjectId",
        "ActorUserPrincipalName",
        "IPAddress",
        "Target1Type",
        "Target1DisplayName",
        "Target1ObjectId",
        "Target1UserPrincipalName",
    ]
    rows = [
        [
            "2025-01-02T03:00:00Z",
            "c1",
            "Core Directory",
            "UserManagement",
            "Revoke user sessions",
            "Success",
            "User",
            "Admin",
            ADMIN,
            "admin@contoso.example",
            "192.0.2.10",
            "User",
            "Bob",
            USER,
            "bob@contoso.example",
        ]
    ]
    return csv_text(header, rows)


def log_analytics_csv() -> str:
    header = [
        "TimeGenerated [UTC]",
        "Type",
        "Id",
        "UserId",
        "UserPrincipalName",
        "ResultType",
        "Status",
        "AuthenticationDetails",
        "CreatedDateTime [UTC]",
    ]
    rows = [
        [
            f"{12 + number}/1/2025, 3:0{number}:00.000 AM",
            "SigninLogs",
            f"L{number}",
            USER,
            "bob@contoso.example",
            "500121",
            json.dumps({"errorCode": 500121, "additionalDetails": DENIED}),
            json.dumps(graph_signin(number)["authenticationDetails"]),
            f"{12 + number}/1/2025, 3:0{number}:00.000 AM",
        ]
        for number in range(1, 4)
    ]
    return csv_text(header, rows, delimiter=";")


def ual_csv() -> str:
    header = ["CreationDate", "UserIds", "Operations", "AuditData"]
    rows = [
        [
            record["CreationTime"],
            record["UserId"],
            record["Operation"],
            json.dumps(record),
        ]
        for record in ual_records()
    ]
    return csv_text(header, rows)


def auth_details_csv() -> str:
    header = [
        "Request ID",
        "Date (UTC)",
        "Authentication method",
        "Authentication method detail",
        "Succeeded",
        "Result detail",
        "Requirement",
    ]
    rows = [
        [
            f"R{number}",
            f"2025-01-02T03:0{number}:10Z",
            "Mobile app notification",
            "",
            "false",
            DENIED,
            "Multifactor authentication",
        ]
        for number in range(1, 4)
    ]
    return csv_text(header, rows)


def seeds() -> dict[str, str]:
    signins = [graph_signin(number) for number in range(1, 4)]
    page = {"@odata.context": "https://graph.example/$metadata", "value": signins}
    return {
        "graph_audit_page.json": json.dumps({"value": [graph_audit()]}, indent=2),
        "graph_signin_page.json": json.dumps(page),
        "graph_signins.ndjson": "".join(json.dumps(item) + "\n" for item in signins),
        "graph_signins_array.json": json.dumps(signins, indent=1),
        "diagnostic_records.json": json.dumps(
            {
                "records": [
                    diagnostic("AuditLogs", graph_audit()),
                    *(diagnostic("SignInLogs", item) for item in signins),
                    diagnostic("ProvisioningLogs", {}),
                ]
            }
        ),
        "log_analytics_signins.json": json.dumps(
            [log_analytics_signin(number) for number in range(1, 4)]
        ),
        "ual_records.ndjson": "".join(
            json.dumps(item) + "\n" for item in ual_records()
        ),
        "portal_signins.csv": portal_signin_csv(),
        "portal_audit.csv": portal_audit_csv(),
        "portal_auth_details.csv": auth_details_csv(),
        "log_analytics_signins.csv": "sep=;\r\n" + log_analytics_csv(),
        "ual_search.csv": "\ufeff" + ual_csv(),
    }


def main() -> None:
    SEEDS.mkdir(exist_ok=True)
    for name, text in seeds().items():
        (SEEDS / name).write_text(text, encoding="utf-8", newline="")


if __name__ == "__main__":
    main()
