"""Map the CSV downloads of the Entra admin center to canonical rows.

Three downloads are read: sign-ins, sign-in authentication details (one row per
step, joined to the sign-ins on ``Request ID``) and audit logs. Columns are looked up by
normalised name (stripped, inner spaces collapsed, lower-cased) and every column is
optional. Times stay raw text for the sink to parse.

Sign-in download, canonical column first:

==============================  ==========================================
``record_id``                   ``Request ID``; a repeat in one file gets ``#<row>``
``request_id``                  ``Request ID`` unless the nil GUID
``correlation_id``              ``Correlation ID``
``event_time``                  ``Date (UTC)``
``user_id``                     ``User ID`` unless the nil GUID
``user_upn``                    ``Username``
``user_display_name``           ``User``
``user_type``                   ``User type``
``signin_event_type``           ``Service principal ID`` without user columns
``app_id`` / ``app_display_name``  ``Application ID`` / ``Application``
``resource_display_name``       ``Resource``
``ip_address``                  ``IP address``
``city`` / ``country``          first / last part of ``Location`` "City, State, CC"
``user_agent``                  ``User agent``
``client_app``                  ``Client app``
``operating_system``            ``Operating System``
``browser``                     ``Browser``
``error_code``                  ``Sign-in error code``; 0 when ``Status`` is Success
``failure_reason``              ``Failure reason``
``additional_details``          ``Multifactor authentication result``
``conditional_access_status``   ``Conditional Access``
``authentication_requirement``  ``Authentication requirement``
``mfa_auth_method`` / ``_detail``  ``Multifactor authentication auth method`` / detail
==============================  ==========================================

Authentication-details download: ``Request ID`` keys the step; ``Authentication
method``, ``Authentication method detail``, ``Succeeded``, ``Result detail`` and
``Requirement`` fill the step; ``Date (UTC)`` is the step time.

Audit download: ``Date (UTC)``, ``Activity``, ``Category``, ``Result``,
``CorrelationId``, ``Service`` and ``User Agent`` map one to one. The actor comes from
``ActorType``, ``ActorObjectId``, ``ActorUserPrincipalName``, ``ActorDisplayName``,
``IPAddress`` and ``ActorServicePrincipalId``/``Name``. The target is the first of
``Target1`` to ``TargetN`` of type User, with its ``ModifiedProperty`` columns.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from h056hunt.loaders import entra
from h056hunt.loaders.csv_table import CsvHeader, CsvRecord
from h056hunt.loaders.fields import boolean, integer

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

SHAPE_SIGNIN = "portal-signin-csv"
SHAPE_AUTH_DETAILS = "portal-auth-details-csv"
SHAPE_AUDIT = "portal-audit-csv"

DATE_COLUMN = "date (utc)"
# Older downloads are reported to name the MFA columns "MFA result" and so on.
MFA_RESULT_COLUMNS = ("multifactor authentication result", "mfa result")
MFA_METHOD_COLUMNS = ("multifactor authentication auth method", "mfa auth method")
MFA_DETAIL_COLUMNS = ("multifactor authentication auth detail", "mfa auth detail")
USER_COLUMNS = ("user id", "username", "user")
# At most this many targets and modified properties per target are looked for; the
# audit download writes 3 and 5.
_MAX_TARGETS = 20
_MAX_MODIFIED_PROPERTIES = 50


def is_auth_details_header(header: CsvHeader) -> bool:
    """Tell whether the header is an authentication-details download."""
    return (
        "request id" in header
        and "authentication method" in header
        and not header.has_any("sign-in error code", "username", "user id")
    )


def is_signin_header(header: CsvHeader) -> bool:
    """Tell whether the header is a sign-in download."""
    return (
        DATE_COLUMN in header
        and "request id" in header
        and header.has_any("sign-in error code", "status", "username", "user id")
    )


def is_audit_header(header: CsvHeader) -> bool:
    """Tell whether the header is an audit download."""
    return "activity" in header and header.has_any(
        "actortype", "actorobjectid", "actoruserprincipalname", "target1type"
    )


class SigninRows:
    """Map the rows of a sign-in download."""

    shape = SHAPE_SIGNIN

    def __init__(self, header: CsvHeader) -> None:
        self._request_ids: Counter[str] = Counter()
        # Application sign-in downloads name a service principal and no user. The
        # interactive and non-interactive downloads share one header, so the type of
        # their rows is unknown unless a column states it.
        self._event_type: str | None = None
        if "service principal id" in header and not header.has_any(*USER_COLUMNS):
            self._event_type = "servicePrincipal"

    def add(self, record: CsvRecord, sink: FileSink) -> None:
        """Add one sign-in row to the sink."""
        # A nil Request ID names no sign-in, so the row is keyed as one without.
        request_id = entra.id_unless_nil(record.get("request id"))
        record_id = request_id
        if request_id is not None:
            self._request_ids[request_id] += 1
            if self._request_ids[request_id] > 1:
                record_id = f"{request_id}#{record.number}"
        city, country = _split_location(record.get("location"))
        error_code = integer(record.get("sign-in error code"))
        status = (record.get("status") or "").lower()
        if error_code is None and status == "success":
            error_code = 0
        row: dict[str, Any] = {
            "record_id": record_id,
            "request_id": request_id,
            "correlation_id": record.get("correlation id"),
            "event_time": record.get(DATE_COLUMN),
            "user_id": entra.id_unless_nil(record.get("user id")),
            "user_upn": record.get("username"),
            "user_display_name": record.get("user"),
            "user_type": record.get("user type"),
            "signin_event_type": self._event_type,
            "app_id": record.get("application id"),
            "app_display_name": record.get("application"),
            "resource_display_name": record.get("resource"),
            "ip_address": record.get("ip address"),
            "country": country,
            "city": city,
            "user_agent": record.get("user agent"),
            "client_app": record.get("client app"),
            "operating_system": record.get("operating system"),
            "browser": record.get("browser"),
            "error_code": error_code,
            "failure_reason": record.get("failure reason"),
            "additional_details": record.first(*MFA_RESULT_COLUMNS),
            "conditional_access_status": record.get("conditional access"),
            "authentication_requirement": record.get("authentication requirement"),
            "mfa_auth_method": record.first(*MFA_METHOD_COLUMNS),
            "mfa_auth_detail": record.first(*MFA_DETAIL_COLUMNS),
        }
        sink.add_signin(
            row,
            [],
            shape=self.shape,
            line=record.line,
            record=record.number,
            time_column=record.header.name_of(DATE_COLUMN) or "Date (UTC)",
        )


def _split_location(location: str | None) -> tuple[str | None, str | None]:
    """Return the city and country of a "City, State, CC" location."""
    if location is None:
        return None, None
    parts = [part.strip() for part in location.split(",")]
    country = parts[-1] or None
    city = (parts[0] or None) if len(parts) > 1 else None
    return city, country


class AuthDetailsRows:
    """Map the rows of an authentication-details download, one step per row."""

    shape = SHAPE_AUTH_DETAILS

    def __init__(self, header: CsvHeader) -> None:
        # Steps are numbered per request in file order.
        self._steps_per_request: Counter[str] = Counter()

    def add(self, record: CsvRecord, sink: FileSink) -> None:
        """Add one step to the sink, keyed by its sign-in's request id."""
        request_id = record.get("request id")
        if request_id is None:
            sink.skip(
                "authentication step without a Request ID",
                line=record.line,
                record=record.number,
            )
            return
        if entra.id_unless_nil(request_id) is None:
            sink.skip(
                "authentication step whose Request ID is the nil GUID, which "
                "names no sign-in",
                line=record.line,
                record=record.number,
            )
            return
        step_index = self._steps_per_request[request_id]
        self._steps_per_request[request_id] += 1
        step = {
            "step_index": step_index,
            # NOTE: the download has no per-step time that we could confirm, so
            # this is the time of the row, which may be the sign-in's time.
            "step_time": record.get(DATE_COLUMN),
            "method": record.get("authentication method"),
            "method_detail": record.get("authentication method detail"),
            "succeeded": boolean(record.get("succeeded")),
            "result_detail": record.get("result detail"),
            "requirement": record.get("requirement"),
        }
        sink.add_steps(request_id, [step], shape=self.shape, record=record.number)


class AuditRows:
    """Map the rows of an audit download."""

    shape = SHAPE_AUDIT

    def __init__(self, header: CsvHeader) -> None:
        self._target_numbers = [
            number
            for number in range(1, _MAX_TARGETS + 1)
            if header.has_any(f"target{number}type", f"target{number}objectid")
        ]
        self._property_numbers = {
            number: [
                index
                for index in range(1, _MAX_MODIFIED_PROPERTIES + 1)
                if f"target{number}modifiedproperty{index}name" in header
            ]
            for number in self._target_numbers
        }

    def add(self, record: CsvRecord, sink: FileSink) -> None:
        """Add one audit row to the sink."""
        directory_audit = {
            "id": record.first("id", "activity id"),
            "activityDateTime": record.get(DATE_COLUMN),
            "activityDisplayName": record.get("activity"),
            "category": record.get("category"),
            "result": record.get("result"),
            "correlationId": record.get("correlationid"),
            "loggedByService": record.get("service"),
            "userAgent": record.get("user agent"),
            "initiatedBy": _initiated_by(record),
            "targetResources": [
                self._target(record, number) for number in self._target_numbers
            ],
        }
        sink.add_audit(
            entra.audit_row(directory_audit),
            shape=self.shape,
            line=record.line,
            record=record.number,
            time_column=record.header.name_of(DATE_COLUMN) or "Date (UTC)",
        )

    def _target(self, record: CsvRecord, number: int) -> dict[str, Any]:
        prefix = f"target{number}"
        properties = [
            {
                "displayName": record.get(f"{prefix}modifiedproperty{index}name"),
                "oldValue": record.get(f"{prefix}modifiedproperty{index}oldvalue"),
                "newValue": record.get(f"{prefix}modifiedproperty{index}newvalue"),
            }
            for index in self._property_numbers[number]
            if record.get(f"{prefix}modifiedproperty{index}name") is not None
        ]
        return {
            "type": record.get(f"{prefix}type"),
            "id": record.get(f"{prefix}objectid"),
            "userPrincipalName": record.get(f"{prefix}userprincipalname"),
            "displayName": record.get(f"{prefix}displayname"),
            "modifiedProperties": properties,
        }


def _initiated_by(record: CsvRecord) -> dict[str, Any]:
    """Restate the actor columns as a directoryAudit ``initiatedBy``.

    ``ActorType`` picks the branch when it is User or App. Otherwise a user id or UPN
    makes the actor a user.
    """
    user = {
        "id": record.get("actorobjectid"),
        "userPrincipalName": record.get("actoruserprincipalname"),
        "displayName": record.get("actordisplayname"),
        "ipAddress": record.get("ipaddress"),
    }
    app = {
        "servicePrincipalId": record.get("actorserviceprincipalid"),
        "displayName": record.get("actorserviceprincipalname")
        or record.get("actordisplayname"),
    }
    actor_type = (record.get("actortype") or "").lower()
    if actor_type in ("app", "application", "serviceprincipal"):
        return {"user": None, "app": app}
    if actor_type == "user" or user["id"] or user["userPrincipalName"]:
        return {"user": user, "app": None}
    return {"user": None, "app": app}
