"""Restate simulated Graph records as Log Analytics rows (SigninLogs, AuditLogs).

Log Analytics stores the Graph fields under PascalCase column names, writes every
nested object as JSON text, and keeps ``ResultType`` as a string. The same rows serve
the JSON export and the CSV export; the CSV form renames time columns and rewrites
their values, see :func:`csv_row`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from h056hunt.simulate.clock import TICKS_PER_SECOND, format_ticks

SIGNIN_TABLE = "SigninLogs"
NON_INTERACTIVE_TABLE = "AADNonInteractiveUserSignInLogs"
AUDIT_TABLE = "AuditLogs"
TIME_COLUMNS = frozenset({"TimeGenerated", "CreatedDateTime", "ActivityDateTime"})

_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _resource_id(tenant_id: str) -> str:
    return f"/tenants/{tenant_id}/providers/Microsoft.aadiam"


def _ingestion_ticks(ticks: int) -> int:
    # Ingestion lags the event by 20 to 119 seconds, derived from the time so the
    # output stays deterministic.
    return ticks + (20 + ticks % 100) * TICKS_PER_SECOND


def signin_row(ticks: int, record: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """Return the Log Analytics sign-in row of a Graph sign-in."""
    status = record["status"]
    interactive = bool(record["isInteractive"])
    location = record.get("location") or {}
    return {
        "TenantId": tenant_id,
        "SourceSystem": "Azure AD",
        "TimeGenerated": format_ticks(_ingestion_ticks(ticks)),
        "ResourceId": _resource_id(tenant_id),
        "OperationName": "Sign-in activity",
        "OperationVersion": "1.0",
        "Category": "SignInLogs" if interactive else "NonInteractiveUserSignInLogs",
        "ResultType": str(status["errorCode"]),
        "ResultSignature": "None",
        "ResultDescription": status["failureReason"],
        "DurationMs": 0,
        "CorrelationId": record["correlationId"],
        "Identity": record["userDisplayName"],
        "Level": 4,
        "Location": location.get("countryOrRegion"),
        "AppDisplayName": record["appDisplayName"],
        "AppId": record["appId"],
        "AuthenticationDetails": _ENCODE(record.get("authenticationDetails") or []),
        "AuthenticationRequirement": record.get("authenticationRequirement"),
        "ClientAppUsed": record.get("clientAppUsed"),
        "ConditionalAccessStatus": record.get("conditionalAccessStatus"),
        "CreatedDateTime": format_ticks(ticks),
        "DeviceDetail": _ENCODE(record.get("deviceDetail") or {}),
        "IsInteractive": interactive,
        "Id": record["id"],
        "IPAddress": record["ipAddress"],
        "LocationDetails": _ENCODE(location),
        "MfaDetail": _ENCODE(record.get("mfaDetail") or {}),
        "OriginalRequestId": record.get("originalRequestId"),
        "ResourceDisplayName": record.get("resourceDisplayName"),
        "RiskLevelAggregated": record.get("riskLevelAggregated"),
        "RiskLevelDuringSignIn": record.get("riskLevelDuringSignIn"),
        "RiskState": record.get("riskState"),
        "SessionId": record.get("sessionId"),
        "Status": _ENCODE(status),
        "UserAgent": record.get("userAgent"),
        "UserDisplayName": record["userDisplayName"],
        "UserId": record["userId"],
        "UserPrincipalName": record["userPrincipalName"],
        "UserType": (record.get("userType") or "").capitalize() or None,
        "Type": SIGNIN_TABLE if interactive else NON_INTERACTIVE_TABLE,
    }


def audit_row(ticks: int, record: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """Return the Log Analytics ``AuditLogs`` row of a Graph directory audit."""
    initiator = record["initiatedBy"]
    if initiator["user"] is not None:
        user = initiator["user"]
        identity = user["displayName"] or user["userPrincipalName"]
    else:
        identity = initiator["app"]["displayName"]
    return {
        "TenantId": tenant_id,
        "SourceSystem": "Azure AD",
        "TimeGenerated": format_ticks(_ingestion_ticks(ticks)),
        "ResourceId": _resource_id(tenant_id),
        "OperationName": record["activityDisplayName"],
        "OperationVersion": "1.0",
        "Category": "Core Directory",
        "ResultType": "",
        "ResultSignature": "None",
        "ResultDescription": record.get("resultReason") or "",
        "DurationMs": 0,
        "CorrelationId": record["correlationId"],
        "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam",
        "Identity": identity,
        "Level": 4,
        "AdditionalDetails": _ENCODE(record.get("additionalDetails") or []),
        "Id": record["id"],
        "InitiatedBy": _ENCODE(initiator),
        "LoggedByService": record["loggedByService"],
        "Result": record["result"],
        "ResultReason": record.get("resultReason") or "",
        "TargetResources": _ENCODE(record.get("targetResources") or []),
        "AADTenantId": tenant_id,
        "ActivityDisplayName": record["activityDisplayName"],
        "ActivityDateTime": format_ticks(ticks),
        "AADOperationType": record.get("operationType"),
        "Type": AUDIT_TABLE,
    }


def csv_header(row: dict[str, Any]) -> list[str]:
    """Return the CSV header of a row: time columns get the ``[UTC]`` suffix."""
    return [f"{name} [UTC]" if name in TIME_COLUMNS else name for name in row]


def csv_row(row: dict[str, Any]) -> list[str]:
    """Return the cells of a row as the portal's "Export to CSV" writes them.

    Times take the exporter's US form ``M/D/YYYY, h:mm:ss.fff AM``, booleans are
    ``true``/``false`` and nulls are empty cells.
    """
    cells = []
    for name, value in row.items():
        if name in TIME_COLUMNS:
            cells.append(us_time(value))
        elif value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        else:
            cells.append(str(value))
    return cells


def us_time(iso_text: str) -> str:
    """Rewrite an ISO time ending in ``Z`` as ``M/D/YYYY, h:mm:ss.fff AM``."""
    whole, _, fraction = iso_text.rstrip("Z").partition(".")
    moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    milliseconds = (fraction + "000")[:3]
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{moment.month}/{moment.day}/{moment.year}, "
        f"{hour}:{moment.minute:02d}:{moment.second:02d}.{milliseconds} {half}"
    )
