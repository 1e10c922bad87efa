"""Restate simulated Graph records as Entra admin center CSV download rows.

The sign-in download has fixed Title-Case columns, with the exporter's quirks kept:
``Incoming token type`` appears twice, ``Application ID `` and ``Resource ID `` end
in a space and ``Autonomous system  number`` has two spaces. Authentication steps go
to a second download with one row per step, joined on ``Request ID``. The audit
download flattens the actor, three targets with five modified properties each, and
six additional details into columns.
"""

from __future__ import annotations

from typing import Any

from h056hunt.simulate.clock import format_seconds, format_ticks

SIGNIN_HEADER: tuple[str, ...] = (
    "Date (UTC)",
    "Request ID",
    "User agent",
    "Correlation ID",
    "User ID",
    "User",
    "Username",
    "User type",
    "Cross tenant access type",
    "Incoming token type",
    "Authentication Protocol",
    "Unique token identifier",
    "Original transfer method",
    "Client credential type",
    "Token Protection - Sign In Session",
    "Token Protection - Sign In Session StatusCode",
    "Application",
    "Application ID ",
    "App owner tenant ID",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Resource owner tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Client app",
    "Device ID",
    "Browser",
    "Operating System",
    "Compliant",
    "Managed",
    "Join Type",
    "Multifactor authentication result",
    "Multifactor authentication auth method",
    "Multifactor authentication auth detail",
    "Authentication requirement",
    "Sign-in identifier",
    "Session ID",
    "IP address (seen by resource)",
    "Through Global Secure Access",
    "Global Secure Access IP address",
    "Autonomous system  number",
    "Flagged for review",
    "Token issuer type",
    "Incoming token type",
    "Token issuer name",
    "Latency",
    "Conditional Access",
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
)
AUTH_DETAILS_HEADER: tuple[str, ...] = (
    "Request ID",
    "Authentication method",
    "Authentication method detail",
    "Succeeded",
    "Result detail",
    "Date (UTC)",
)

AUDIT_TARGETS = 3
AUDIT_MODIFIED_PROPERTIES = 5
AUDIT_ADDITIONAL_DETAILS = 6

# Error codes the portal's Status column shows as "Interrupted" rather than
# "Failure": sign-ins that stopped to ask for more proof.
# NOTE: this set is a guess from common codes, because the portal does not
# publish its rule for "Interrupted".
INTERRUPT_CODES = frozenset({50055, 50058, 50072, 50074, 50076, 50079, 50125, 50140})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _status(error_code: int) -> str:
    if error_code == 0:
        return "Success"
    return "Interrupted" if error_code in INTERRUPT_CODES else "Failure"


def signin_cells(ticks: int, record: dict[str, Any]) -> list[str]:
    """Return the cells of one sign-in row, in ``SIGNIN_HEADER`` order."""
    status = record["status"]
    device = record.get("deviceDetail") or {}
    location = record.get("location") or {}
    mfa = record.get("mfaDetail") or {}
    place = ", ".join(
        _text(location.get(key)) for key in ("city", "state", "countryOrRegion")
    )
    token_type = _text(record.get("incomingTokenType"))
    values: list[Any] = [
        format_seconds(ticks),
        record.get("originalRequestId") or record["id"],
        record.get("userAgent"),
        record["correlationId"],
        record["userId"],
        record["userDisplayName"],
        record["userPrincipalName"],
        (record.get("userType") or "").capitalize(),
        record.get("crossTenantAccessType"),
        token_type,
        record.get("authenticationProtocol"),
        record.get("uniqueTokenIdentifier"),
        record.get("originalTransferMethod"),
        record.get("clientCredentialType"),
        None,
        None,
        record["appDisplayName"],
        record["appId"],
        record.get("resourceTenantId"),
        record.get("resourceDisplayName"),
        record.get("resourceId"),
        record.get("resourceTenantId"),
        record.get("resourceTenantId"),
        record.get("homeTenantId"),
        record.get("homeTenantName"),
        record["ipAddress"],
        place,
        _status(status["errorCode"]),
        status["errorCode"],
        status["failureReason"],
        record.get("clientAppUsed"),
        device.get("deviceId"),
        device.get("browser"),
        device.get("operatingSystem"),
        device.get("isCompliant"),
        device.get("isManaged"),
        device.get("trustType"),
        status.get("additionalDetails"),
        mfa.get("authMethod"),
        mfa.get("authDetail"),
        record.get("authenticationRequirement"),
        record.get("signInIdentifier"),
        record.get("sessionId"),
        record.get("ipAddressFromResourceProvider"),
        record.get("isThroughGlobalSecureAccess"),
        record.get("globalSecureAccessIpAddress"),
        record.get("autonomousSystemNumber"),
        record.get("flaggedForReview"),
        record.get("tokenIssuerType"),
        token_type,
        record.get("tokenIssuerName"),
        record.get("processingTimeInMilliseconds"),
        record.get("conditionalAccessStatus"),
        None,
        None,
        None,
        None,
    ]
    return [_text(value) for value in values]


def auth_detail_cells(record: dict[str, Any]) -> list[list[str]]:
    """Return one ``AUTH_DETAILS_HEADER`` row per authentication step."""
    request_id = record.get("originalRequestId") or record["id"]
    return [
        [
            _text(request_id),
            _text(step.get("authenticationMethod")),
            _text(step.get("authenticationMethodDetail")),
            _text(step.get("succeeded")),
            _text(step.get("authenticationStepResultDetail")),
            _text(step.get("authenticationStepDateTime")),
        ]
        for step in record.get("authenticationDetails") or []
    ]


def audit_header() -> list[str]:
    """Return the column names of the audit download."""
    names = [
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
        "ActorHomeTenantId",
        "ActorHomeTenantName",
        "ActorServicePrincipalId",
        "ActorServicePrincipalName",
    ]
    for number in range(1, AUDIT_TARGETS + 1):
        prefix = f"Target{number}"
        names += [
            f"{prefix}Type",
            f"{prefix}DisplayName",
            f"{prefix}ObjectId",
            f"{prefix}UserPrincipalName",
        ]
        for index in range(1, AUDIT_MODIFIED_PROPERTIES + 1):
            names += [
                f"{prefix}ModifiedProperty{index}{part}"
                for part in ("Name", "OldValue", "NewValue")
            ]
    for index in range(1, AUDIT_ADDITIONAL_DETAILS + 1):
        names += [f"AdditionalDetail{index}Key", f"AdditionalDetail{index}Value"]
    return names


def audit_cells(ticks: int, record: dict[str, Any]) -> list[str]:
    """Return the cells of one audit row, in :func:`audit_header` order.

    Targets past the third, properties past the fifth and details past the sixth are
    dropped, as the download does.
    """
    initiator = record["initiatedBy"]
    user = initiator.get("user")
    app = initiator.get("app")
    if user is not None:
        actor = ["User", user.get("displayName"), user.get("id")]
        actor += [user.get("userPrincipalName"), user.get("ipAddress")]
        actor += [user.get("homeTenantId"), user.get("homeTenantName"), None, None]
    else:
        app = app or {}
        actor = ["App", app.get("displayName"), None, None, None, None, None]
        actor += [app.get("servicePrincipalId"), app.get("servicePrincipalName")]
    values: list[Any] = [
        format_ticks(ticks),
        record["correlationId"],
        record["loggedByService"],
        record["category"],
        record["activityDisplayName"],
        record["result"],
        record.get("resultReason"),
        record.get("userAgent"),
        *actor,
    ]
    targets = list(record.get("targetResources") or [])[:AUDIT_TARGETS]
    for number in range(AUDIT_TARGETS):
        target = targets[number] if number < len(targets) else {}
        values += [
            target.get("type"),
            target.get("displayName"),
            target.get("id"),
            target.get("userPrincipalName"),
        ]
        properties = list(target.get("modifiedProperties") or [])
        for index in range(AUDIT_MODIFIED_PROPERTIES):
            entry = properties[index] if index < len(properties) else {}
            values += [
                entry.get("displayName"),
                entry.get("oldValue"),
                entry.get("newValue"),
            ]
    details = list(record.get("additionalDetails") or [])
    for index in range(AUDIT_ADDITIONAL_DETAILS):
        entry = details[index] if index < len(details) else {}
        values += [entry.get("key"), entry.get("value")]
    return [_text(value) for value in values]
