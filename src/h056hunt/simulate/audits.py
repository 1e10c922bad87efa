"""Audit events and their rendering as Microsoft Graph ``directoryAudit`` objects."""

from __future__ import annotations

import json
import random
import string
from typing import Any, NamedTuple

from h056hunt.simulate.clock import format_seconds, format_ticks
from h056hunt.simulate.identities import (
    ATTACKER_NETWORK,
    ATTACKER_USER_AGENT,
    AppActor,
    Group,
    User,
)

# Audit kinds.
REVOKE_TOKENS = "revoke_tokens"
REVOKE_UPDATE_USER = "revoke_update_user"
SELF_REVOKE = "self_revoke"
ADD_USER = "add_user"
RESET_PASSWORD = "reset_password"
UPDATE_USER_PROPERTY = "update_user_property"
ADD_GROUP_MEMBER = "add_group_member"
REMOVE_GROUP_MEMBER = "remove_group_member"
SYNC_PASSWORD_CHANGE = "sync_password_change"
SYNC_TOKEN_UPDATE = "sync_token_update"
FRAUD_REPORTED = "fraud_reported"

REVOCATION_ACTIVITY = "Update StsRefreshTokenValidFrom Timestamp"
VALID_FROM_PROPERTY = "StsRefreshTokensValidFrom"
INCLUDED_PROPERTIES = "Included Updated Properties"

# Missing addresses appear as this literal in exported audit records.
NULL_ADDRESS = "<null>"


class Activity(NamedTuple):
    """The fixed columns of an audit kind."""

    display_name: str
    category: str
    logged_by_service: str
    operation_type: str
    result_reason: str


ACTIVITIES: dict[str, Activity] = {
    REVOKE_TOKENS: Activity(
        REVOCATION_ACTIVITY, "UserManagement", "Core Directory", "Update", ""
    ),
    REVOKE_UPDATE_USER: Activity(
        "Update user", "UserManagement", "Core Directory", "Update", ""
    ),
    SELF_REVOKE: Activity(
        REVOCATION_ACTIVITY, "UserManagement", "Core Directory", "Update", ""
    ),
    ADD_USER: Activity("Add user", "UserManagement", "Core Directory", "Add", ""),
    RESET_PASSWORD: Activity(
        "Reset password", "UserManagement", "Core Directory", "Update", ""
    ),
    UPDATE_USER_PROPERTY: Activity(
        "Update user", "UserManagement", "Core Directory", "Update", ""
    ),
    ADD_GROUP_MEMBER: Activity(
        "Add member to group", "GroupManagement", "Core Directory", "Assign", ""
    ),
    REMOVE_GROUP_MEMBER: Activity(
        "Remove member from group", "GroupManagement", "Core Directory", "Unassign", ""
    ),
    SYNC_PASSWORD_CHANGE: Activity(
        "Change user password", "UserManagement", "Core Directory", "Update", ""
    ),
    SYNC_TOKEN_UPDATE: Activity(
        REVOCATION_ACTIVITY, "UserManagement", "Core Directory", "Update", ""
    ),
    FRAUD_REPORTED: Activity(
        "Fraud reported - no action taken",
        "UserManagement",
        "Azure MFA",
        "Update",
        "Successfully reported fraud",
    ),
}

# Properties that background "Update user" records change: (name, old, new).
_PROFILE_CHANGES = (
    ("JobTitle", "Analyst", "Senior Analyst"),
    ("Department", "Sales", "Customer Success"),
    ("MobilePhone", "+1 555 0100", "+1 555 0199"),
    ("OfficeLocation", "Building 2", "Building 5"),
)


class AuditSpec(NamedTuple):
    """A planned audit record. Sorting by (time, sequence) gives the output order.

    Attributes:
        time: ``activityDateTime`` in ticks.
        sequence: tie-breaker, unique within a run.
        kind: one of the kind constants of this module.
        actor: the user or service principal in ``initiatedBy``.
        target: the user in ``targetResources``.
        correlation_id: shared by every row of one portal action.
        actor_ip: the actor's address; ``NULL_ADDRESS`` when none was logged.
        previous_valid_from: old ``StsRefreshTokensValidFrom`` value in ticks.
        valid_from: new ``StsRefreshTokensValidFrom`` value in ticks; ``time`` when
            None. Both rows of a revocation pair carry the first row's time.
        group: the group of a membership change.
    """

    time: int
    sequence: int
    kind: str
    actor: User | AppActor
    target: User
    correlation_id: str
    actor_ip: str = NULL_ADDRESS
    previous_valid_from: int = 0
    valid_from: int | None = None
    group: Group | None = None


def encode_value(value: Any) -> str:
    """Encode a modified-property value as JSON text, the way Entra stores it."""
    return json.dumps(value, separators=(",", ":"))


def _change(name: str, old: Any, new: Any) -> dict[str, Any]:
    return {
        "displayName": name,
        "oldValue": None if old is None else encode_value(old),
        "newValue": None if new is None else encode_value(new),
    }


def _modified_properties(spec: AuditSpec, rng: random.Random) -> list[dict[str, Any]]:
    kind = spec.kind
    valid_from = spec.time if spec.valid_from is None else spec.valid_from
    valid_from_change = _change(
        VALID_FROM_PROPERTY,
        [format_seconds(spec.previous_valid_from)],
        [format_seconds(valid_from)],
    )
    if kind in (REVOKE_TOKENS, SYNC_TOKEN_UPDATE):
        return [valid_from_change]
    if kind == REVOKE_UPDATE_USER:
        return [
            valid_from_change,
            _change(INCLUDED_PROPERTIES, None, VALID_FROM_PROPERTY),
            _change("TargetId.UserType", None, "Member"),
        ]
    if kind == ADD_USER:
        return [
            _change("AccountEnabled", [], [True]),
            _change(VALID_FROM_PROPERTY, [], [format_seconds(spec.time)]),
            _change("UserPrincipalName", [], [spec.target.user_principal_name]),
            _change("UserType", [], ["Member"]),
            _change(
                INCLUDED_PROPERTIES,
                None,
                f"AccountEnabled, {VALID_FROM_PROPERTY}, UserPrincipalName, UserType",
            ),
        ]
    if kind == UPDATE_USER_PROPERTY:
        name, old, new = rng.choice(_PROFILE_CHANGES)
        return [_change(name, [old], [new]), _change(INCLUDED_PROPERTIES, None, name)]
    if kind in (ADD_GROUP_MEMBER, REMOVE_GROUP_MEMBER) and spec.group is not None:
        adding = kind == ADD_GROUP_MEMBER
        group_id, group_name = spec.group
        return [
            _change(
                "Group.ObjectID",
                None if adding else group_id,
                group_id if adding else None,
            ),
            _change(
                "Group.DisplayName",
                None if adding else group_name,
                group_name if adding else None,
            ),
        ]
    return []


def _initiated_by(spec: AuditSpec) -> dict[str, Any]:
    actor = spec.actor
    if isinstance(actor, AppActor):
        return {
            "user": None,
            "app": {
                "appId": actor.app_id,
                "displayName": actor.display_name,
                "servicePrincipalId": actor.service_principal_id,
                "servicePrincipalName": actor.display_name,
            },
        }
    return {
        "user": {
            "id": actor.object_id,
            "displayName": None if spec.kind == SELF_REVOKE else actor.display_name,
            "userPrincipalName": actor.user_principal_name,
            "ipAddress": spec.actor_ip,
            "userType": None,
            "homeTenantId": None,
            "homeTenantName": None,
        },
        "app": None,
    }


def _audit_id(correlation_id: str, rng: random.Random) -> str:
    letters = "".join(rng.choices(string.ascii_uppercase + string.digits, k=5))
    return f"Directory_{correlation_id}_{letters}_{rng.randint(10**7, 10**9 - 1)}"


def render_audit(spec: AuditSpec, rng: random.Random) -> dict[str, Any]:
    """Build the ``directoryAudit`` record for ``spec``, drawing ids from ``rng``."""
    activity = ACTIVITIES[spec.kind]
    target = spec.target
    targets: list[dict[str, Any]] = [
        {
            "id": target.object_id,
            "displayName": None,
            "type": "User",
            "userPrincipalName": target.user_principal_name,
            "groupType": None,
            "modifiedProperties": _modified_properties(spec, rng),
            "administrativeUnits": [],
        }
    ]
    if spec.group is not None:
        targets.append(
            {
                "id": spec.group.object_id,
                "displayName": spec.group.display_name,
                "type": "Group",
                "userPrincipalName": None,
                "groupType": "unifiedGroups",
                "modifiedProperties": [],
                "administrativeUnits": [],
            }
        )

    user_agent = ""
    details: list[dict[str, str]] = []
    if isinstance(spec.actor, User) and spec.kind != SELF_REVOKE:
        user_agent = spec.actor.device.user_agent
        if spec.actor_ip.startswith(ATTACKER_NETWORK):
            user_agent = ATTACKER_USER_AGENT
        details.append({"key": "User-Agent", "value": user_agent})
    if activity.category == "UserManagement":
        details.append({"key": "UserType", "value": "Member"})

    return {
        "id": _audit_id(spec.correlation_id, rng),
        "category": activity.category,
        "correlationId": spec.correlation_id,
        "result": "success",
        "resultReason": activity.result_reason,
        "activityDisplayName": activity.display_name,
        "activityDateTime": format_ticks(spec.time),
        "loggedByService": activity.logged_by_service,
        "operationType": activity.operation_type,
        "userAgent": user_agent,
        "initiatedBy": _initiated_by(spec),
        "targetResources": targets,
        "additionalDetails": details,
    }
