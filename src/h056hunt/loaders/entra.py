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
    JSON_DECODER,
    FieldReader,
    boolean,
    decode_json_text,
    integer,
    json_text,
    lower_keys,
    replace_surrogates,
    text,
)

# The characters that can begin a JSON value, with the NaN and Infinity that
# Python's decoder also reads, and the whitespace json.loads skips before one.
_JSON_VALUE_START = frozenset('"[{-0123456789tfnNI')
_JSON_WHITESPACE = frozenset(" \t\n\r")

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


def audit_row(
    record: Any, *, envelope_time: str | None = None, keys_lowered: bool = False
) -> dict[str, Any]:
    """Return the canonical audit row of one directoryAudit-like record.

    ``event_time`` stays raw text; the loader parses it for the whole file at once.
    With ``keys_lowered``, ``record`` is a dict from :func:`lower_keys` and is read
    without another copy.
    """
    fields = record if keys_lowered else lower_keys(record)
    get = fields.get
    row: dict[str, Any] = {
        "record_id": text(get("id")),
        "event_time": text(get("activitydatetime")) or envelope_time,
        "activity": text(get("activitydisplayname")) or text(get("operationname")),
        "category": text(get("category")),
        "result": text(get("result")),
        "correlation_id": text(get("correlationid")),
        "logged_by_service": text(get("loggedbyservice")),
        "user_agent": text(get("useragent")),
    }
    row.update(actor_fields(get("initiatedby")))
    target_type, target_id, target_upn, target_name, target_properties = _user_target(
        decode_json_text(get("targetresources"))
    )
    row["target_type"] = text(target_type)
    row["target_id"] = text(target_id)
    row["target_upn"] = text(target_upn)
    row["target_display_name"] = text(target_name)
    properties = _modified_properties(target_properties)
    row["modified_properties"] = json_text(properties) if properties else None
    row["included_updated_properties"] = _included_properties(properties)
    return row


_read_initiator = FieldReader("user", "app").read
_read_user = FieldReader("id", "userprincipalname", "displayname", "ipaddress").read
_read_app = FieldReader(
    "serviceprincipalid", "displayname", "serviceprincipalname", "appid"
).read
_read_target = FieldReader(
    "type", "id", "userprincipalname", "displayname", "modifiedproperties"
).read
_read_property = FieldReader("displayname", "oldvalue", "newvalue").read
_read_property_name = FieldReader("name", "displayname").read
_NO_TARGET = (None, None, None, None, None)


def actor_fields(initiated_by: Any) -> dict[str, Any]:
    """Return the actor columns from an ``initiatedBy`` value.

    The user or app branch can be null, an object, or absent, and a user may carry only
    an id. ``actor_type`` is ``user``, ``app``, or ``none`` when the record names no
    initiator.
    """
    user, app = _read_initiator(initiated_by)
    user_id, user_upn, user_name, user_ip = _read_user(user)
    user_id = text(user_id)
    user_upn = text(user_upn)
    if user_id or user_upn:
        return {
            "actor_type": "user",
            "actor_id": user_id,
            "actor_upn": user_upn,
            "actor_display_name": text(user_name),
            "actor_ip": text(user_ip),
            "actor_app_id": None,
            "actor_service_principal_id": None,
        }
    service_principal_id, app_name, service_principal_name, app_id = _read_app(app)
    service_principal_id = text(service_principal_id)
    # text() returns None or non-empty text, so ``or`` picks the first name given.
    app_name = text(app_name) or text(service_principal_name)
    app_id = text(app_id)
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


def _user_target(targets: Any) -> tuple[Any, ...]:
    """Return the first ``targetResources`` entry of type User, else the first entry.

    The entry comes as its raw type, id, UPN, display name and modified properties.
    """
    if not isinstance(targets, list) or not targets:
        return _NO_TARGET
    first_entry: tuple[Any, ...] = _NO_TARGET
    for index, target in enumerate(targets):
        entry = _read_target(target)
        if index == 0:
            first_entry = entry
        if (text(entry[0]) or "").lower() == "user":
            return entry
    return first_entry


def _modified_properties(value: Any) -> list[dict[str, Any]]:
    properties = decode_json_text(value)
    if not isinstance(properties, list):
        return []
    result = []
    for item in properties:
        name, old_value, new_value = _read_property(item)
        if not name:
            name = _read_property_name(item)[0]
        result.append(
            {
                "name": text(name),
                "old": _unwrap_property_value(old_value),
                "new": _unwrap_property_value(new_value),
            }
        )
    return result


def _unwrap_property_value(value: Any) -> Any:
    """Decode modifiedProperties values, which are JSON encoded inside strings.

    Text that is not JSON, or JSON nested too deeply for the decoder, stays text.
    """
    if not isinstance(value, str):
        return value
    first = value[:1]
    if first in _JSON_VALUE_START:
        try:
            decoded, end = JSON_DECODER.raw_decode(value)
        except (ValueError, RecursionError):
            return value
        if end == len(value):
            return decoded
    elif first not in _JSON_WHITESPACE:
        # json.loads would raise, which costs more than this check.
        return value
    # With whitespace around the value or text after it, json.loads decides.
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
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


_read_status = FieldReader("errorcode", "failurereason", "additionaldetails").read
_read_device = FieldReader("displayname", "operatingsystem", "browser").read
_read_location = FieldReader("countryorregion", "city").read
_read_mfa = FieldReader("authmethod", "authdetail").read


def signin_row(
    record: Any,
    *,
    envelope_time: str | None = None,
    source_kind: str | None = None,
    keys_lowered: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the canonical sign-in row and its authentication steps.

    Args:
        record: a signIn-like record with Graph field names in any case.
        envelope_time: the diagnostic ``time`` or ``TimeGenerated``, used only when the
            record has no ``createdDateTime``.
        source_kind: the diagnostic category or Log Analytics table, which gives the
            sign-in event type when the record lacks it.
        keys_lowered: ``record`` is a dict from :func:`lower_keys`, read without
            another copy.
    """
    fields = record if keys_lowered else lower_keys(record)
    get = fields.get
    status_error_code, failure_reason, additional_details = _read_status(get("status"))
    device_name, operating_system, browser = _read_device(get("devicedetail"))
    location = get("locationdetails")
    # A non-empty dict is the location itself. Anything else is read as lower_keys
    # reads it, and an empty result falls back to ``location``.
    if type(location) is not dict or not location:
        location = lower_keys(location) or lower_keys(get("location"))
    country, city = _read_location(location)
    mfa_method, mfa_detail = _read_mfa(get("mfadetail"))
    record_id = text(get("id"))
    error_code = integer(status_error_code)
    if error_code is None:
        error_code = integer(get("resulttype"))
    country = text(country)
    if country is None and isinstance(get("location"), str):
        country = text(get("location"))
    row: dict[str, Any] = {
        "record_id": record_id,
        "request_id": text(get("originalrequestid")) or record_id,
        "correlation_id": text(get("correlationid")),
        "event_time": text(get("createddatetime")) or envelope_time,
        "user_id": text(get("userid")),
        "user_upn": text(get("userprincipalname")),
        "user_display_name": text(get("userdisplayname")),
        "user_type": text(get("usertype")),
        "signin_event_type": _event_type(fields, source_kind),
        "is_interactive": boolean(get("isinteractive")),
        "app_id": text(get("appid")),
        "app_display_name": text(get("appdisplayname")),
        "resource_display_name": text(get("resourcedisplayname")),
        "ip_address": text(get("ipaddress")),
        "country": country,
        "city": text(city),
        "user_agent": text(get("useragent")),
        "client_app": text(get("clientappused")),
        "device_name": text(device_name),
        "operating_system": text(operating_system),
        "browser": text(browser),
        "error_code": error_code,
        "failure_reason": text(failure_reason) or text(get("resultdescription")),
        "additional_details": text(additional_details),
        "conditional_access_status": text(get("conditionalaccessstatus")),
        "authentication_requirement": text(get("authenticationrequirement")),
        "mfa_auth_method": text(mfa_method),
        "mfa_auth_detail": text(mfa_detail),
        "risk_level_during_signin": text(get("risklevelduringsignin")),
        "risk_level_aggregated": text(get("risklevelaggregated")),
        "risk_state": text(get("riskstate")),
    }
    steps = authentication_steps(get("authenticationdetails"))
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
        get = step.get
        steps.append(
            {
                "step_index": index,
                "step_time": text(get("authenticationstepdatetime")),
                "method": text(get("authenticationmethod")),
                "method_detail": text(get("authenticationmethoddetail")),
                "succeeded": boolean(get("succeeded")),
                "result_detail": text(get("authenticationstepresultdetail")),
                "requirement": text(get("authenticationsteprequirement")),
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
