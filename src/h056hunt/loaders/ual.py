"""Map Purview Unified Audit Log records of Entra ID to canonical rows.

The records are the ``AuditData`` objects of the Office 365 Management Activity API,
from JSON or JSONL exports, or from the ``AuditData`` column of a Purview CSV.
Record type 8 (``AzureActiveDirectory``) contains directory changes, which become audit
rows. Record type 15 (``AzureActiveDirectoryStsLogon``) contains sign-ins. Other
record types are counted as skipped.

Field sources, canonical column first:

=========================  ===================================================
``record_id``              ``Id``
``event_time``             ``CreationTime``, which has no zone and is UTC
audit ``activity``         ``Operation`` as written, trailing period included
audit ``result``           ``ResultStatus``
audit ``category``         ``ExtendedProperties`` ``auditEventCategory``
audit actor                ``UserId`` (a UPN unless a placeholder) and ``Actor[]``
audit ``actor_ip``         ``ActorIpAddress``, else ``ClientIP``
audit target               ``ObjectId`` and ``Target[]``
audit modified properties  ``ModifiedProperties[]`` (``Name``/``OldValue``/``NewValue``)
sign-in ``user_upn``       ``UserId``
sign-in ``user_id``        a GUID ``UserKey``, else the first user GUID in ``Actor[]``
sign-in ``error_code``     ``ErrorNumber``; 0 for ``UserLoggedIn`` without one
sign-in ``failure_reason`` ``LogonError``
sign-in ``ip_address``     ``ClientIP`` (port removed), else ``ActorIpAddress``
sign-in ``user_agent``     ``ExtendedProperties`` ``UserAgent``
sign-in ``app_id``         ``ApplicationId``
sign-in device             ``DeviceProperties`` ``DisplayName``, ``OS``, ``BrowserType``
=========================  ===================================================

``ResultStatus`` is not used for sign-ins: it can read "Success" on a
``UserLoginFailed`` record, while ``ErrorNumber`` holds the real code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from h056hunt.errors import quote_input
from h056hunt.loaders import entra
from h056hunt.loaders.fields import (
    decode_json_text,
    first_text,
    integer,
    lower_keys,
    reason_value,
    text,
)

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

SHAPE_UAL_JSON = "purview-ual"

RECORD_TYPE_DIRECTORY = 8
RECORD_TYPE_STS_LOGON = 15
# Names of the AuditLogRecordType values that exports sometimes write instead of the
# number, lower-cased.
RECORD_TYPE_BY_NAME = {
    "azureactivedirectory": RECORD_TYPE_DIRECTORY,
    "azureactivedirectoryaccountlogon": 9,
    "azureactivedirectorystslogon": RECORD_TYPE_STS_LOGON,
}

# ``UserId`` values that name no user, lower-cased.
NOT_A_USER = frozenset({"not available", "certificate"})
# Bare type names that Actor[] and Target[] list beside the ids, lower-cased.
OBJECT_KINDS = {
    "user": "User",
    "serviceprincipal": "ServicePrincipal",
    "group": "Group",
    "device": "Device",
    "application": "Application",
    "role": "Role",
}
# IdentityType of Actor[] and Target[] entries: 1 is a display name.
IDENTITY_TYPE_NAME = 1

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GUID_PATTERN = re.compile(rf"^{_GUID}$")
_TYPED_ID_PATTERN = re.compile(rf"^(?P<kind>[A-Za-z]+)_(?P<guid>{_GUID})$")
_IPV4_WITH_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$")
_IPV6_WITH_PORT = re.compile(r"^\[([0-9A-Fa-f:.]+)\]:\d+$")


def is_unified_audit_record(fields: dict[str, Any]) -> bool:
    """Tell whether lower-keyed ``fields`` are a Unified Audit Log record.

    Both a bare ``AuditData`` object and an export row that wraps it in an
    ``auditdata`` field count.
    """
    if "auditdata" in fields:
        return True
    return "workload" in fields or ("recordtype" in fields and "creationtime" in fields)


def route_record(
    fields: dict[str, Any],
    sink: FileSink,
    *,
    line: int | None,
    record: int,
    shape: str = SHAPE_UAL_JSON,
) -> None:
    """Add one Unified Audit Log record to the sink, or count it as skipped.

    Args:
        fields: the record with lower-cased keys, either ``AuditData`` itself or a row
            whose ``auditdata`` field contains it as an object or JSON text.
    """
    if "auditdata" in fields:
        fields = unwrap_audit_data(fields)
        if not fields:
            sink.skip("invalid AuditData JSON", line=line, record=record)
            return
    record_type = _record_type(fields.get("recordtype"))
    if record_type == RECORD_TYPE_DIRECTORY:
        sink.add_audit(
            audit_row(fields),
            shape=shape,
            line=line,
            record=record,
            time_column="CreationTime",
        )
    elif record_type == RECORD_TYPE_STS_LOGON:
        row, steps = signin_row(fields)
        sink.add_signin(
            row,
            steps,
            shape=shape,
            line=line,
            record=record,
            time_column="CreationTime",
        )
    else:
        type_text = None if record_type is None else str(record_type)
        sink.skip(
            quote_input(
                "Unified Audit Log record type {type} not used",
                type=reason_value(type_text, "(none)"),
            ),
            line=line,
            record=record,
        )


def unwrap_audit_data(wrapper: dict[str, Any]) -> dict[str, Any]:
    """Return the lower-keyed ``AuditData`` of an export row; ``{}`` when invalid.

    ``RecordType`` and the row's ``CreationDate`` fill in for fields the inner record
    lacks.
    """
    inner = lower_keys(decode_json_text(wrapper.get("auditdata")))
    if not inner:
        return {}
    if "recordtype" not in inner and wrapper.get("recordtype") is not None:
        inner["recordtype"] = wrapper["recordtype"]
    if first_text(inner, "creationtime") is None:
        inner["creationtime"] = first_text(wrapper, "creationdate")
    return inner


def _record_type(value: Any) -> int | None:
    number = integer(value)
    if number is not None:
        return number
    name = text(value)
    return None if name is None else RECORD_TYPE_BY_NAME.get(name.lower())


@dataclass
class Identities:
    """The ids found in an ``Actor[]`` or ``Target[]`` list, sorted by what they are."""

    upns: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    service_principal_ids: list[str] = field(default_factory=list)
    untyped_guids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def object_id(self, kind: str) -> str | None:
        """Return the object id of a user or service principal (``kind``)."""
        typed = self.user_ids if kind == "User" else self.service_principal_ids
        if typed:
            return typed[0]
        other_kinds = [found for found in self.kinds if found != kind]
        if self.untyped_guids and not other_kinds:
            return self.untyped_guids[0]
        return None


def parse_identities(entries: Any) -> Identities:
    """Sort the ``{ID, Type}`` entries of ``Actor[]`` or ``Target[]``.

    Each id is classified by its form rather than its ``Type``, because one kind of id
    comes with different numbers: a user's object id is 0 in sign-ins and 2 in
    directory records. ``User_<guid>`` and ``ServicePrincipal_<guid>`` carry their
    kind, a value with ``@`` is a UPN, a bare GUID is an object id, and a bare kind
    name such as ``User`` gives the kind of the other ids. Passport ids (PUIDs) are
    dropped.
    """
    found = Identities()
    values = decode_json_text(entries)
    if not isinstance(values, list):
        return found
    for entry in values:
        fields = lower_keys(entry)
        value = text(fields.get("id"))
        if value is None:
            continue
        typed = _TYPED_ID_PATTERN.match(value)
        kind = OBJECT_KINDS.get(value.lower())
        if typed is not None:
            _add_typed_id(found, typed.group("kind"), typed.group("guid"))
        elif kind is not None:
            found.kinds.append(kind)
        elif "@" in value:
            found.upns.append(value)
        elif _GUID_PATTERN.match(value):
            found.untyped_guids.append(value)
        elif integer(fields.get("type")) == IDENTITY_TYPE_NAME:
            found.names.append(value)
    return found


def _add_typed_id(found: Identities, kind_text: str, guid: str) -> None:
    kind = OBJECT_KINDS.get(kind_text.lower(), kind_text)
    found.kinds.append(kind)
    if kind == "User":
        found.user_ids.append(guid)
    elif kind == "ServicePrincipal":
        found.service_principal_ids.append(guid)


def audit_row(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the canonical audit row of a lower-keyed record type 8 record.

    The record is restated as a directoryAudit so that the modified-property handling
    of :func:`entra.audit_row` applies; the actor comes from :func:`actor_fields`.
    """
    extended = _name_value_map(fields.get("extendedproperties"))
    directory_audit = {
        "id": first_text(fields, "id"),
        "activityDateTime": first_text(fields, "creationtime"),
        "activityDisplayName": first_text(fields, "operation"),
        "category": extended.get("auditeventcategory"),
        "result": first_text(fields, "resultstatus"),
        "userAgent": extended.get("useragent"),
        "targetResources": [_target_resource(fields)],
    }
    row = entra.audit_row(directory_audit)
    row.update(actor_fields(fields))
    return row


def actor_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the actor columns of a record type 8 record.

    A UPN in ``UserId`` or ``Actor[]``, a user object id or a bare GUID make the actor
    a user. Failing those, a service principal id or an app display name make it an
    app.
    """
    actors = parse_identities(fields.get("actor"))
    user_id_field = first_text(fields, "userid")
    typed = _TYPED_ID_PATTERN.match(user_id_field or "")
    if typed is not None:
        _add_typed_id(actors, typed.group("kind"), typed.group("guid"))
        user_id_field = None
    elif user_id_field is not None and user_id_field.lower() in NOT_A_USER:
        user_id_field = None
    upn = user_id_field or (actors.upns[0] if actors.upns else None)
    ip_address = _ip_address(first_text(fields, "actoripaddress", "clientip"))
    display_name = actors.names[0] if actors.names else None
    is_user = (
        upn is not None
        or bool(actors.user_ids)
        or "User" in actors.kinds
        or (bool(actors.untyped_guids) and "ServicePrincipal" not in actors.kinds)
    )
    if is_user:
        return {
            "actor_type": "user",
            "actor_id": actors.object_id("User")
            or _guid_or_none(first_text(fields, "userkey")),
            "actor_upn": upn,
            "actor_display_name": display_name,
            "actor_ip": ip_address,
            "actor_app_id": None,
            "actor_service_principal_id": None,
        }
    service_principal_id = actors.object_id("ServicePrincipal")
    if service_principal_id or display_name:
        return {
            "actor_type": "app",
            "actor_id": service_principal_id,
            "actor_upn": None,
            "actor_display_name": display_name,
            "actor_ip": ip_address,
            "actor_app_id": None,
            "actor_service_principal_id": service_principal_id,
        }
    return {"actor_type": "none", "actor_ip": ip_address}


def _target_resource(fields: dict[str, Any]) -> dict[str, Any]:
    """Restate ``ObjectId`` and ``Target[]`` as one directoryAudit target."""
    targets = parse_identities(fields.get("target"))
    object_id_field = first_text(fields, "objectid")
    upn = None
    if object_id_field is not None and "@" in object_id_field:
        upn = object_id_field
    elif targets.upns:
        upn = targets.upns[0]
    target_id = targets.object_id("User")
    if target_id is None:
        target_id = _guid_or_none(object_id_field)
    is_user = upn is not None or bool(targets.user_ids) or "User" in targets.kinds
    kind = None
    if is_user:
        kind = "User"
    elif targets.kinds:
        kind = targets.kinds[0]
    return {
        "id": target_id,
        "type": kind,
        "userPrincipalName": upn,
        "displayName": targets.names[0] if targets.names else None,
        "modifiedProperties": fields.get("modifiedproperties"),
    }


def signin_row(fields: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the canonical sign-in row of a record type 15 record, with no steps.

    The record is restated as a Graph signIn and mapped by :func:`entra.signin_row`.
    """
    operation = first_text(fields, "operation") or ""
    error_code = integer(fields.get("errornumber"))
    if error_code is None and operation.lower() == "userloggedin":
        error_code = 0
    extended = _name_value_map(fields.get("extendedproperties"))
    device = _name_value_map(fields.get("deviceproperties"))
    user_upn = first_text(fields, "userid")
    if user_upn is not None and user_upn.lower() in NOT_A_USER:
        user_upn = None
    sign_in = {
        "id": first_text(fields, "id"),
        "createdDateTime": first_text(fields, "creationtime"),
        "userPrincipalName": user_upn,
        "userId": _signin_user_id(fields),
        "appId": first_text(fields, "applicationid"),
        "ipAddress": _ip_address(first_text(fields, "clientip", "actoripaddress")),
        "userAgent": extended.get("useragent"),
        "isInteractive": True,
        "signInEventTypes": ["interactiveUser"],
        "status": {
            "errorCode": error_code,
            "failureReason": first_text(fields, "logonerror"),
        },
        "deviceDetail": {
            "displayName": device.get("displayname"),
            "operatingSystem": device.get("os"),
            "browser": device.get("browsertype"),
        },
    }
    return entra.signin_row(sign_in)


def _signin_user_id(fields: dict[str, Any]) -> str | None:
    """Return the user's object id; ``ObjectId`` names the resource, not the user."""
    user_key = _guid_or_none(first_text(fields, "userkey"))
    return user_key or parse_identities(fields.get("actor")).object_id("User")


def _guid_or_none(value: str | None) -> str | None:
    if value is not None and _GUID_PATTERN.match(value):
        return value
    return None


def _name_value_map(entries: Any) -> dict[str, str]:
    """Return ``[{Name, Value}]`` entries as a dict with lower-cased names."""
    values = decode_json_text(entries)
    result: dict[str, str] = {}
    if not isinstance(values, list):
        return result
    for entry in values:
        fields = lower_keys(entry)
        name = text(fields.get("name"))
        value = text(fields.get("value"))
        if name is not None and value is not None:
            result.setdefault(name.lower(), value)
    return result


def _ip_address(value: str | None) -> str | None:
    """Return an address without the port that ``ClientIP`` sometimes carries."""
    if value is None:
        return None
    for pattern in (_IPV4_WITH_PORT, _IPV6_WITH_PORT):
        match = pattern.match(value)
        if match is not None:
            return match.group(1)
    return value
