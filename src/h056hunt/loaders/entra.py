"""Map Entra audit and sign-in records to canonical rows.

One mapping serves every shape whose fields carry Graph's names: Graph API JSON
(camelCase), the ``properties`` of Azure Monitor diagnostic records, and Log Analytics
exports (PascalCase, nested columns as JSON text). Keys are compared lower-cased and
JSON text is decoded before use.

Field sources, canonical column first:

=========================  ===================================================
audit ``event_time``       ``activityDateTime``, else the envelope time
audit ``activity``         ``activityDisplayName``, else ``operationName``
audit actor                ``initiatedBy.user`` or ``initiatedBy.app``
audit target               first ``targetResources`` entry of type User
sign-in ``event_time``     ``createdDateTime``, else the envelope time
sign-in ``request_id``     ``originalRequestId``, else ``id``
sign-in ``error_code``     ``status.errorCode``, else ``resultType``
sign-in location           ``location`` or ``locationDetails``
steps                      ``authenticationDetails`` (a list or JSON text)
=========================  ===================================================
"""

from __future__ import annotations

import json
from typing import Any

from h056hunt.loaders.fields import (
    boolean,
    decode_json_text,
    first_text,
    integer,
    json_text,
    lower_keys,
    replace_surrogates,
    text,
)

# Sign-in event type per diagnostic category or Log Analytics table, lower-cased.
SIGNIN_EVENT_TYPE_BY_SOURCE = {
    "signinlogs": "interactiveUser",
    "noninteractiveusersigninlogs": "nonInteractiveUser",
    "aadnoninteractiveusersigninlogs": "nonInteractiveUser",
    "serviceprincipalsigninlogs": "servicePrincipal",
    "aadserviceprincipalsigninlogs": "servicePrincipal",
    "microsoftserviceprincipalsigninlogs": "servicePrincipal",
    "managedidentitysigninlogs": "managedIdentity",
    "aadmanagedidentitysigninlogs": "managedIdentity",
    "adfssigninlogs": "adfs",
}


def audit_row(record: Any, *, envelope_time: str | None = None) -> dict[str, Any]:
    """Return the canonical audit row of one directoryAudit-like record.

    ``event_time`` stays raw text; the loader parses it for the whole file at once.
    """
    fields = lower_keys(record)
    row: dict[str, Any] = {
        "record_id": first_text(fields, "id"),
        "event_time": first_text(fields, "activitydatetime") or envelope_time,
        "activity": first_text(fields, "activitydisplayname", "operationname"),
        "category": first_text(fields, "category"),
        "result": first_text(fields, "result"),
        "correlation_id": first_text(fields, "correlationid"),
        "logged_by_service": first_text(fields, "loggedbyservice"),
        "user_agent": first_text(fields, "useragent"),
    }
    row.update(actor_fields(fields.get("initiatedby")))
    target = _user_target(decode_json_text(fields.get("targetresources")))
    row.update(target_fields(target))
    properties = _modified_properties(target.get("modifiedproperties"))
    row["modified_properties"] = json_text(properties) if properties else None
    row["included_updated_properties"] = _included_properties(properties)
    return row


def actor_fields(initiated_by: Any) -> dict[str, Any]:
    """Return the actor columns from an ``initiatedBy`` value.

    The user or app branch can be null, an object, or absent, and a user may carry only
    an id. ``actor_type`` is ``user``, ``app``, or ``none`` when the record names no
    initiator.
    """
    initiator = lower_keys(initiated_by)
    user = lower_keys(initiator.get("user"))
    app = lower_keys(initiator.get("app"))
    user_id = first_text(user, "id")
    user_upn = first_text(user, "userprincipalname")
    if user_id or user_upn:
        return {
            "actor_type": "user",
            "actor_id": user_id,
            "actor_upn": user_upn,
            "actor_display_name": first_text(user, "displayname"),
            "actor_ip": first_text(user, "ipaddress"),
            "actor_app_id": None,
            "actor_service_principal_id": None,
        }
    service_principal_id = first_text(app, "serviceprincipalid")
    app_name = first_text(app, "displayname", "serviceprincipalname")
    app_id = first_text(app, "appid")
    if service_principal_id or app_name or app_id:
        return {
            "actor_type": "app",
            "actor_id": service_principal_id or app_id,
            "actor_upn": None,
            "actor_display_name": app_name,
            "actor_ip": None,
            "actor_app_id": app_id,
            "actor_service_principal_id": service_principal_id,
        }
    return {"actor_type": "none"}


def target_fields(target: dict[str, Any]) -> dict[str, Any]:
    """Return the target columns from one lower-keyed ``targetResources`` entry."""
    return {
        "target_type": first_text(target, "type"),
        "target_id": first_text(target, "id"),
        "target_upn": first_text(target, "userprincipalname"),
        "target_display_name": first_text(target, "displayname"),
    }


def _user_target(targets: Any) -> dict[str, Any]:
    if not isinstance(targets, list) or not targets:
        return {}
    entries = [lower_keys(target) for target in targets]
    for entry in entries:
        if (text(entry.get("type")) or "").lower() == "user":
            return entry
    return entries[0]


def _modified_properties(value: Any) -> list[dict[str, Any]]:
    properties = decode_json_text(value)
    if not isinstance(properties, list):
        return []
    result = []
    for item in properties:
        entry = lower_keys(item)
        result.append(
            {
                "name": text(entry.get("displayname") or entry.get("name")),
                "old": _unwrap_property_value(entry.get("oldvalue")),
                "new": _unwrap_property_value(entry.get("newvalue")),
            }
        )
    return result


def _unwrap_property_value(value: Any) -> Any:
    """Decode modifiedProperties values, which are JSON encoded inside strings.

    Text that is not JSON, or JSON nested too deeply for the decoder, stays text.
    """
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


def _included_properties(properties: list[dict[str, Any]]) -> str | None:
    for entry in properties:
        if (entry.get("name") or "").lower() == "included updated properties":
            value = entry.get("new")
            if isinstance(value, list):
                try:
                    joined = ", ".join(str(item) for item in value)
                except RecursionError:
                    # repr() of a list nested too deeply, as json_text explains.
                    return None
                return replace_surrogates(joined)
            return text(value)
    return None


def signin_row(
    record: Any,
    *,
    envelope_time: str | None = None,
    source_kind: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the canonical sign-in row and its authentication steps.

    Args:
        record: a signIn-like record with Graph field names in any case.
        envelope_time: the diagnostic ``time`` or ``TimeGenerated``, used only when the
            record has no ``createdDateTime``.
        source_kind: the diagnostic category or Log Analytics table, which gives the
            sign-in event type when the record lacks it.
    """
    fields = lower_keys(record)
    status = lower_keys(fields.get("status"))
    device = lower_keys(fields.get("devicedetail"))
    location = lower_keys(fields.get("locationdetails")) or lower_keys(
        fields.get("location")
    )
    mfa = lower_keys(fields.get("mfadetail"))
    record_id = first_text(fields, "id")
    error_code = integer(status.get("errorcode"))
    if error_code is None:
        error_code = integer(fields.get("resulttype"))
    country = first_text(location, "countryorregion")
    if country is None and isinstance(fields.get("location"), str):
        country = text(fields.get("location"))
    row: dict[str, Any] = {
        "record_id": record_id,
        "request_id": first_text(fields, "originalrequestid") or record_id,
        "correlation_id": first_text(fields, "correlationid"),
        "event_time": first_text(fields, "createddatetime") or envelope_time,
        "user_id": first_text(fields, "userid"),
        "user_upn": first_text(fields, "userprincipalname"),
        "user_display_name": first_text(fields, "userdisplayname"),
        "user_type": first_text(fields, "usertype"),
        "signin_event_type": _event_type(fields, source_kind),
        "is_interactive": boolean(fields.get("isinteractive")),
        "app_id": first_text(fields, "appid"),
        "app_display_name": first_text(fields, "appdisplayname"),
        "resource_display_name": first_text(fields, "resourcedisplayname"),
        "ip_address": first_text(fields, "ipaddress"),
        "country": country,
        "city": first_text(location, "city"),
        "user_agent": first_text(fields, "useragent"),
        "client_app": first_text(fields, "clientappused"),
        "device_name": first_text(device, "displayname"),
        "operating_system": first_text(device, "operatingsystem"),
        "browser": first_text(device, "browser"),
        "error_code": error_code,
        "failure_reason": first_text(status, "failurereason")
        or first_text(fields, "resultdescription"),
        "additional_details": first_text(status, "additionaldetails"),
        "conditional_access_status": first_text(fields, "conditionalaccessstatus"),
        "authentication_requirement": first_text(fields, "authenticationrequirement"),
        "mfa_auth_method": first_text(mfa, "authmethod"),
        "mfa_auth_detail": first_text(mfa, "authdetail"),
        "risk_level_during_signin": first_text(fields, "risklevelduringsignin"),
        "risk_level_aggregated": first_text(fields, "risklevelaggregated"),
        "risk_state": first_text(fields, "riskstate"),
    }
    steps = authentication_steps(fields.get("authenticationdetails"))
    return row, steps


def authentication_steps(value: Any) -> list[dict[str, Any]]:
    """Return step rows from an ``authenticationDetails`` list or its JSON text."""
    details = decode_json_text(value)
    if not isinstance(details, list):
        return []
    steps = []
    for index, item in enumerate(details):
        step = lower_keys(item)
        if not step:
            continue
        steps.append(
            {
                "step_index": index,
                "step_time": first_text(step, "authenticationstepdatetime"),
                "method": first_text(step, "authenticationmethod"),
                "method_detail": first_text(step, "authenticationmethoddetail"),
                "succeeded": boolean(step.get("succeeded")),
                "result_detail": first_text(step, "authenticationstepresultdetail"),
                "requirement": first_text(step, "authenticationsteprequirement"),
            }
        )
    return steps


def _event_type(fields: dict[str, Any], source_kind: str | None) -> str | None:
    types = decode_json_text(fields.get("signineventtypes"))
    if isinstance(types, list) and types:
        return text(types[0])
    if isinstance(types, str) and text(types):
        return text(types)
    if source_kind:
        return SIGNIN_EVENT_TYPE_BY_SOURCE.get(source_kind.lower())
    return None
