"""Restate simulated Graph records as Purview audit search CSV rows.

Each row is ``RecordId,CreationDate,RecordType,Operation,UserId,AuditData`` with the
Unified Audit Log record as JSON text in ``AuditData``. Directory audits become
record type 8, whose ``Operation`` ends with a period; sign-ins become record type 15
(``UserLoggedIn`` or ``UserLoginFailed``), which carries no authentication steps.
``CreationTime`` has no zone and is UTC.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from h056hunt.simulate.clock import format_seconds, format_ticks

HEADER = ("RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData")
RECORD_TYPE_DIRECTORY = 8
RECORD_TYPE_STS_LOGON = 15
WORKLOAD = "AzureActiveDirectory"
# Identity types of Actor[] and Target[] entries.
TYPE_GUID = 0
TYPE_NAME = 1
TYPE_OBJECT = 2
TYPE_UPN = 5

_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
_RECORD_ID_NAMESPACE = uuid.UUID("0b7c1d4e-5a2f-4e43-9d61-6c1f3a2b8e90")


def _record_id(source_id: str) -> str:
    # Derived from the Graph id, so the same run writes the same ids.
    return str(uuid.uuid5(_RECORD_ID_NAMESPACE, source_id))


def _object_entries(kind: str, object_id: str | None) -> list[dict[str, Any]]:
    if not object_id:
        return []
    return [
        {"ID": f"{kind}_{object_id}", "Type": TYPE_OBJECT},
        {"ID": object_id, "Type": TYPE_OBJECT},
        {"ID": kind, "Type": TYPE_OBJECT},
    ]


def audit_cells(ticks: int, record: dict[str, Any], tenant_id: str) -> list[str]:
    """Return the CSV cells of a Graph directory audit as record type 8."""
    initiator = record["initiatedBy"]
    user = initiator.get("user")
    if user is not None:
        user_id_field = user.get("userPrincipalName") or "Not Available"
        actor = [{"ID": user_id_field, "Type": TYPE_UPN}]
        actor += _object_entries("User", user.get("id"))
        actor_ip = user.get("ipAddress")
    else:
        app = initiator.get("app") or {}
        user_id_field = "ServicePrincipal_" + (app.get("servicePrincipalId") or "")
        actor = [{"ID": app.get("displayName"), "Type": TYPE_NAME}]
        actor += _object_entries("ServicePrincipal", app.get("servicePrincipalId"))
        actor_ip = None
    targets = record.get("targetResources") or []
    first = targets[0] if targets else {}
    target: list[dict[str, Any]] = []
    for entry in targets:
        kind = entry.get("type") or "Other"
        target += _object_entries(kind, entry.get("id"))
        if entry.get("userPrincipalName"):
            target.append({"ID": entry["userPrincipalName"], "Type": TYPE_UPN})
        if entry.get("displayName"):
            target.append({"ID": entry["displayName"], "Type": TYPE_NAME})
    properties = [
        {
            "Name": item.get("displayName"),
            "NewValue": item.get("newValue") or "",
            "OldValue": item.get("oldValue") or "",
        }
        for item in first.get("modifiedProperties") or []
    ]
    record_id = _record_id(record["id"])
    creation_time = format_seconds(ticks).rstrip("Z")
    operation = record["activityDisplayName"] + "."
    audit_data = {
        "CreationTime": creation_time,
        "Id": record_id,
        "Operation": operation,
        "OrganizationId": tenant_id,
        "RecordType": RECORD_TYPE_DIRECTORY,
        "ResultStatus": record["result"].capitalize(),
        "UserKey": (user or {}).get("id") or "Not Available",
        "UserType": 0 if user is not None else 4,
        "Version": 1,
        "Workload": WORKLOAD,
        "ObjectId": first.get("userPrincipalName") or first.get("id") or "",
        "UserId": user_id_field,
        "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [
            {"Name": "auditEventCategory", "Value": record["category"]},
            {"Name": "UserAgent", "Value": record.get("userAgent") or ""},
        ],
        "ModifiedProperties": properties,
        "Actor": actor,
        "ActorContextId": tenant_id,
        "ActorIpAddress": actor_ip or "",
        "InterSystemsId": record["correlationId"],
        "IntraSystemId": record["id"],
        "SupportTicketId": "",
        "Target": target,
        "TargetContextId": tenant_id,
    }
    return [
        record_id,
        format_ticks(ticks),
        str(RECORD_TYPE_DIRECTORY),
        operation,
        user_id_field,
        _ENCODE(audit_data),
    ]


def signin_cells(ticks: int, record: dict[str, Any], tenant_id: str) -> list[str]:
    """Return the CSV cells of a Graph sign-in as record type 15.

    ``UserKey`` and ``Actor[]`` carry the user's object id, which the hunt joins on.
    """
    status = record["status"]
    error_code = status["errorCode"]
    operation = "UserLoggedIn" if error_code == 0 else "UserLoginFailed"
    device = record.get("deviceDetail") or {}
    record_id = _record_id(record["id"])
    audit_data = {
        "CreationTime": format_seconds(ticks).rstrip("Z"),
        "Id": record_id,
        "Operation": operation,
        "OrganizationId": tenant_id,
        "RecordType": RECORD_TYPE_STS_LOGON,
        # The export writes "Success" on failed sign-ins too; ErrorNumber is the code.
        "ResultStatus": "Success",
        "UserKey": record["userId"],
        "UserType": 0,
        "Version": 1,
        "Workload": WORKLOAD,
        "ClientIP": record["ipAddress"],
        "ObjectId": record.get("resourceId") or "",
        "UserId": record["userPrincipalName"],
        "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [
            {"Name": "ResultStatusDetail", "Value": "Success"},
            {"Name": "UserAgent", "Value": record.get("userAgent") or ""},
            {"Name": "RequestType", "Value": "OAuth2:Authorize"},
        ],
        "ModifiedProperties": [],
        "Actor": [
            {"ID": record["userId"], "Type": TYPE_GUID},
            {"ID": record["userPrincipalName"], "Type": TYPE_UPN},
        ],
        "ActorContextId": tenant_id,
        "ActorIpAddress": record["ipAddress"],
        "InterSystemsId": record["correlationId"],
        "IntraSystemId": record.get("originalRequestId") or record["id"],
        "SupportTicketId": "",
        "Target": [{"ID": record.get("resourceId") or "", "Type": TYPE_GUID}],
        "TargetContextId": tenant_id,
        "ApplicationId": record["appId"],
        "DeviceProperties": [
            {"Name": "OS", "Value": device.get("operatingSystem") or ""},
            {"Name": "BrowserType", "Value": device.get("browser") or ""},
            {"Name": "DisplayName", "Value": device.get("displayName") or ""},
        ],
        "ErrorNumber": str(error_code),
    }
    if error_code != 0:
        audit_data["LogonError"] = status["failureReason"]
    return [
        record_id,
        format_ticks(ticks),
        str(RECORD_TYPE_STS_LOGON),
        operation,
        record["userPrincipalName"],
        _ENCODE(audit_data),
    ]
