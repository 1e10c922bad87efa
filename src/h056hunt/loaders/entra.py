"""Map Entra audit and sign-in records to canonical rows.

One mapping serves every shape whose fields carry Graph's names: Graph API JSON
(camelCase), the ``properties`` of Azure Monitor diagnostic records, and Log Analytics
exports (PascalCase, nested columns as JSON text). Keys are compared lower-cased and
JSON text is decoded before use.

Field sources, canonical column first:

=========================  ===================================================
``record_id``              ``id`` unless the nil GUID, else a content id
sign-in ``user_id``        ``userId`` unless the nil GUID
audit ``target_id``        the target's ``id`` unless the nil GUID
audit ``event_time``       ``activityDateTime``, else the envelope time
audit ``activity``         ``activityDisplayName``, else ``operationName``
audit actor                ``initiatedBy.user`` or ``initiatedBy.app``
audit target               first ``targetResources`` entry of type User
sign-in ``event_time``     ``createdDateTime``, else the envelope time
sign-in ``request_id``     ``originalRequestId`` unless the nil GUID, else ``id``
sign-in ``error_code``     ``status.errorCode``, else ``resultType``
sign-in location           ``location`` or ``locationDetails``
steps                      ``authenticationDetails`` (a list or JSON text)
=========================  ===================================================
"""

from __future__ import annotations

from typing import Any

from h056hunt.loaders.fields import (
    FieldReader,
    boolean,
    decode_json_text,
    integer,
    lower_keys,
    shared_text,
    text,
)
from h056hunt.loaders.modified_properties import property_columns

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
# The actor keys of an audit row, in their order. A row whose initiator is
# unknown has only ``actor_type``.
ACTOR_FIELDS = (
    "actor_type",
    "actor_id",
    "actor_upn",
    "actor_display_name",
    "actor_ip",
    "actor_app_id",
    "actor_service_principal_id",
)
# The keys of an audit_row row, in order.
AUDIT_ROW_FIELDS = (
    "record_id",
    "event_time",
    "activity",
    "category",
    "result",
    "correlation_id",
    "logged_by_service",
    "user_agent",
    *ACTOR_FIELDS,
    "target_type",
    "target_id",
    "target_upn",
    "target_display_name",
    "modified_properties",
    "included_updated_properties",
)
_ACTOR_TYPE_INDEX = AUDIT_ROW_FIELDS.index("actor_type")
_NO_ACTOR = ("none", None, None, None, None, None, None)


def audit_row(record: Any, *, envelope_time: str | None = None) -> dict[str, Any]:
    """Return the canonical audit row of one directoryAudit-like record.

    ``event_time`` stays raw text; the loader parses it for the whole file at once.
    The record is read in place, whether or not its keys are lower-cased already.
    """
    return audit_row_of_values(audit_values(record, envelope_time=envelope_time))


def audit_row_of_values(values: tuple[Any, ...]) -> dict[str, Any]:
    """Return the dict that :func:`audit_row` builds from these values."""
    row = dict(zip(AUDIT_ROW_FIELDS, values, strict=True))
    if values[_ACTOR_TYPE_INDEX] == "none":
        for name in ACTOR_FIELDS[1:]:
            del row[name]
    return row


class AuditValuesSink:
    """Base of the sinks that take an audit row as :func:`audit_values` gives it,
    besides the dict of :func:`audit_row`."""

    def add_audit(
        self,
        row: dict[str, Any],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Add one audit row."""
        raise NotImplementedError

    def add_audit_values(
        self,
        values: tuple[Any, ...],
        *,
        shape: str,
        line: int | None,
        record: int,
        time_column: str = "event_time",
    ) -> None:
        """Add the audit row of :func:`audit_values`."""
        self.add_audit(
            audit_row_of_values(values),
            shape=shape,
            line=line,
            record=record,
            time_column=time_column,
        )


def audit_values(record: Any, *, envelope_time: str | None = None) -> tuple[Any, ...]:
    """Return the values of :func:`audit_row`'s row in AUDIT_ROW_FIELDS order.

    A key that the row leaves out has the value None. Building the tuple costs less
    than building the dict, so the fast path's scan workers record these values.
    """
    (
        record_id,
        activity_time,
        activity,
        category,
        result,
        correlation_id,
        logged_by_service,
        user_agent,
        initiated_by,
        targets,
    ) = _read_audit(record)
    target_type, target_id, target_upn, target_name, target_properties = _user_target(
        decode_json_text(targets)
    )
    properties_text, included_properties = property_columns(target_properties)
    return (
        id_unless_nil(text(record_id)),
        text(activity_time) or envelope_time,
        shared_text(activity) or shared_text(_read_operation(record)[0]),
        shared_text(category),
        shared_text(result),
        text(correlation_id),
        shared_text(logged_by_service),
        shared_text(user_agent),
        *_actor_values(initiated_by),
        shared_text(target_type),
        id_unless_nil(text(target_id)),
        text(target_upn),
        text(target_name),
        properties_text,
        included_properties,
    )


_read_audit = FieldReader(
    "id",
    "activitydatetime",
    "activitydisplayname",
    "category",
    "result",
    "correlationid",
    "loggedbyservice",
    "useragent",
    "initiatedby",
    "targetresources",
).read
# Only records without an activity name need ``operationName``. Reading it apart
# keeps every name of _read_audit a key of Graph records, so FieldReader reads them
# with one itemgetter call.
_read_operation = FieldReader("operationname").read
_read_initiator = FieldReader("user", "app").read
_read_user = FieldReader("id", "userprincipalname", "displayname", "ipaddress").read
_read_app = FieldReader(
    "serviceprincipalid", "displayname", "serviceprincipalname", "appid"
).read
_read_target = FieldReader(
    "type", "id", "userprincipalname", "displayname", "modifiedproperties"
).read
_NO_TARGET = (None, None, None, None, None)
# Bound of the cache of _actor_values, which keeps its keys and values alive.
_ACTOR_VALUES_MAX = 1024
_ACTOR_VALUES: dict[tuple[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]] = {}


def actor_fields(initiated_by: Any) -> dict[str, Any]:
    """Return the actor columns from an ``initiatedBy`` value.

    The user or app branch can be null, an object, or absent, and a user may carry only
    an id. ``actor_type`` is ``user``, ``app``, or ``none`` when the record names no
    initiator.
    """
    values = _actor_values(initiated_by)
    if values[0] == "none":
        return {"actor_type": "none"}
    return dict(zip(ACTOR_FIELDS, values, strict=True))


def _actor_values(initiated_by: Any) -> tuple[Any, ...]:
    """Return the values of :func:`actor_fields` in ACTOR_FIELDS order.

    One actor, such as a directory sync account, often makes thousands of records
    in a row, so the values of the actors seen lately are kept by their raw fields.
    """
    user, app = _read_initiator(initiated_by)
    key = (_read_user(user), _read_app(app))
    try:
        values = _ACTOR_VALUES.get(key)
    except TypeError:
        # A field value is an object or a list, which cannot be in a dict key.
        return _read_actor(*key)
    if values is None:
        values = _read_actor(*key)
        # Only keys of text and None values are kept, because no other JSON
        # value equals a str. 1, 1.0 and True equal each other but differ as text.
        if all(type(value) is str or value is None for part in key for value in part):
            if len(_ACTOR_VALUES) >= _ACTOR_VALUES_MAX:
                _ACTOR_VALUES.clear()
            _ACTOR_VALUES[key] = values
    return values


def _read_actor(
    user_values: tuple[Any, ...], app_values: tuple[Any, ...]
) -> tuple[Any, ...]:
    user_id, user_upn, user_name, user_ip = user_values
    user_id = shared_text(user_id)
    user_upn = shared_text(user_upn)
    if user_id or user_upn:
        return (
            "user",
            user_id,
            user_upn,
            shared_text(user_name),
            shared_text(user_ip),
            None,
            None,
        )
    service_principal_id, app_name, service_principal_name, app_id = app_values
    service_principal_id = shared_text(service_principal_id)
    # shared_text() returns None or non-empty text, so ``or`` takes the first name.
    app_name = shared_text(app_name) or shared_text(service_principal_name)
    app_id = shared_text(app_id)
    if service_principal_id or app_name or app_id:
        return (
            "app",
            service_principal_id or app_id,
            None,
            app_name,
            None,
            app_id,
            service_principal_id,
        )
    return _NO_ACTOR


def _user_target(targets: Any) -> tuple[Any, ...]:
    """Return the first ``targetResources`` entry of type User, else the first entry.

    The entry comes as its raw type, id, UPN, display name and modified properties.
    """
    if not isinstance(targets, list) or not targets:
        return _NO_TARGET
    first_entry: tuple[Any, ...] = _read_target(targets[0])
    # Only a str equals "User", and text() returns that one unchanged.
    if first_entry[0] == "User":
        return first_entry
    for index, target in enumerate(targets):
        entry = first_entry if index == 0 else _read_target(target)
        if entry[0] == "User" or (text(entry[0]) or "").lower() == "user":
            return entry
    return first_entry


_read_status = FieldReader("errorcode", "failurereason", "additionaldetails").read
_read_device = FieldReader("displayname", "operatingsystem", "browser").read
_read_location = FieldReader("countryorregion", "city").read
_read_mfa = FieldReader("authmethod", "authdetail").read


# The nil GUID names no record, request or user. A record whose id is the nil GUID
# is read as a record with no id, so it gets a content id instead of being one
# record with all the others. A sign-in whose originalRequestId is the nil GUID is
# keyed by its own id instead of as one request. A sign-in user or audit target
# whose object id is the nil GUID is matched by UPN, as one without an id is.
NIL_GUID = "00000000-0000-0000-0000-000000000000"
# The nil GUID in the 32-digit form, which .NET's Guid.ToString("N") writes. The
# braces of the "B" form and the hyphens are removed before the comparison.
_NIL_DIGITS = NIL_GUID.replace("-", "")


def id_unless_nil(value: str | None) -> str | None:
    """Return an id value, or None for the nil GUID in any of its written forms."""
    if value is None or not value.startswith(("0", "{")):
        return value
    digits = value.removeprefix("{").removesuffix("}").replace("-", "")
    return None if digits == _NIL_DIGITS else value


def signin_row(
    record: Any,
    *,
    envelope_time: str | None = None,
    source_kind: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the canonical sign-in row and its authentication steps.

    Args:
        record: a signIn-like record with Graph field names in any case, read in
            place.
        envelope_time: the diagnostic ``time`` or ``TimeGenerated``, used only when the
            record has no ``createdDateTime``.
        source_kind: the diagnostic category or Log Analytics table, which gives the
            sign-in event type when the record lacks it.
    """
    (
        record_id,
        original_request_id,
        correlation_id,
        created_time,
        user_id,
        user_upn,
        user_display_name,
        user_type,
        event_types,
        is_interactive,
        app_id,
        app_display_name,
        resource_display_name,
        ip_address,
        location_details,
        location,
        user_agent,
        client_app,
        device_detail,
        status,
        result_type,
        result_description,
        conditional_access_status,
        authentication_requirement,
        mfa,
        risk_level_during_signin,
        risk_level_aggregated,
        risk_state,
        authentication_details,
    ) = _read_signin(record)
    status_error_code, failure_reason, additional_details = _read_status(status)
    device_name, operating_system, browser = _read_device(device_detail)
    place = location_details
    # A non-empty dict is the location itself. Anything else is read as lower_keys
    # reads it, and an empty result falls back to ``location``.
    if type(place) is not dict or not place:
        place = lower_keys(place) or lower_keys(location)
    country, city = _read_location(place)
    mfa_method, mfa_detail = _read_mfa(mfa)
    record_id = id_unless_nil(text(record_id))
    error_code = integer(status_error_code)
    if error_code is None:
        error_code = integer(result_type)
    country = shared_text(country)
    if country is None and isinstance(location, str):
        country = shared_text(location)
    row: dict[str, Any] = {
        "record_id": record_id,
        "request_id": id_unless_nil(text(original_request_id)) or record_id,
        "correlation_id": text(correlation_id),
        "event_time": text(created_time) or envelope_time,
        # Users, IP addresses and devices have too many values for shared_text's cache.
        "user_id": id_unless_nil(text(user_id)),
        "user_upn": text(user_upn),
        "user_display_name": text(user_display_name),
        "user_type": shared_text(user_type),
        "signin_event_type": _event_type(event_types, source_kind),
        "is_interactive": boolean(is_interactive),
        "app_id": shared_text(app_id),
        "app_display_name": shared_text(app_display_name),
        "resource_display_name": shared_text(resource_display_name),
        "ip_address": text(ip_address),
        "country": country,
        "city": shared_text(city),
        "user_agent": shared_text(user_agent),
        "client_app": shared_text(client_app),
        "device_name": text(device_name),
        "operating_system": shared_text(operating_system),
        "browser": shared_text(browser),
        "error_code": error_code,
        "failure_reason": shared_text(failure_reason)
        or shared_text(result_description),
        "additional_details": shared_text(additional_details),
        "conditional_access_status": shared_text(conditional_access_status),
        "authentication_requirement": shared_text(authentication_requirement),
        "mfa_auth_method": shared_text(mfa_method),
        "mfa_auth_detail": shared_text(mfa_detail),
        "risk_level_during_signin": shared_text(risk_level_during_signin),
        "risk_level_aggregated": shared_text(risk_level_aggregated),
        "risk_state": shared_text(risk_state),
    }
    steps = authentication_steps(authentication_details)
    return row, steps


_read_signin = FieldReader(
    "id",
    "originalrequestid",
    "correlationid",
    "createddatetime",
    "userid",
    "userprincipalname",
    "userdisplayname",
    "usertype",
    "signineventtypes",
    "isinteractive",
    "appid",
    "appdisplayname",
    "resourcedisplayname",
    "ipaddress",
    "locationdetails",
    "location",
    "useragent",
    "clientappused",
    "devicedetail",
    "status",
    "resulttype",
    "resultdescription",
    "conditionalaccessstatus",
    "authenticationrequirement",
    "mfadetail",
    "risklevelduringsignin",
    "risklevelaggregated",
    "riskstate",
    "authenticationdetails",
).read


class UnreadableSteps(list):  # type: ignore[type-arg]
    """The empty steps of an ``authenticationDetails`` value that is neither a list
    nor the JSON text of one, such as a cell cut off in a CSV export.

    The sink counts such records and warns, because denials recorded only in
    their steps are not seen.
    """


def authentication_steps(value: Any) -> list[dict[str, Any]]:
    """Return step rows from an ``authenticationDetails`` list or its JSON text.

    A value that is present but neither gives :class:`UnreadableSteps`.
    """
    details = decode_json_text(value)
    if not isinstance(details, list):
        if value is None or (isinstance(value, str) and text(value) is None):
            return []
        return UnreadableSteps()
    steps = []
    for index, item in enumerate(details):
        # lower_keys decodes the JSON text of an object, and returns {} for an item
        # that is no object.
        step = item if type(item) is dict else lower_keys(item)
        if not step:
            continue
        step_time, method, detail, succeeded, result, requirement = _read_step(step)
        steps.append(
            {
                "step_index": index,
                "step_time": text(step_time),
                "method": shared_text(method),
                "method_detail": shared_text(detail),
                "succeeded": boolean(succeeded),
                "result_detail": shared_text(result),
                "requirement": shared_text(requirement),
            }
        )
    return steps


_read_step = FieldReader(
    "authenticationstepdatetime",
    "authenticationmethod",
    "authenticationmethoddetail",
    "succeeded",
    "authenticationstepresultdetail",
    "authenticationsteprequirement",
).read


def _event_type(event_types: Any, source_kind: str | None) -> str | None:
    types = decode_json_text(event_types)
    if isinstance(types, list) and types:
        return shared_text(types[0])
    if isinstance(types, str) and text(types):
        return shared_text(types)
    if source_kind:
        return SIGNIN_EVENT_TYPE_BY_SOURCE.get(source_kind.lower())
    return None
