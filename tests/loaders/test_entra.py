"""Tests for mapping Entra audit and sign-in records to canonical rows."""

from __future__ import annotations

import json

from h056hunt.loaders.entra import (
    actor_fields,
    audit_row,
    authentication_steps,
    signin_row,
)

DENIED = "MFA denied; user declined the authentication"


def test_actor_user_with_upn() -> None:
    actor = actor_fields(
        {
            "app": None,
            "user": {
                "id": "u1",
                "userPrincipalName": "admin@contoso.example",
                "displayName": "Sec Admin",
                "ipAddress": "198.51.100.10",
            },
        }
    )

    assert actor["actor_type"] == "user"
    assert actor["actor_id"] == "u1"
    assert actor["actor_upn"] == "admin@contoso.example"
    assert actor["actor_display_name"] == "Sec Admin"
    assert actor["actor_ip"] == "198.51.100.10"


def test_actor_app_with_null_user() -> None:
    actor = actor_fields(
        {
            "user": None,
            "app": {
                "appId": "app-1",
                "displayName": "soar-playbook",
                "servicePrincipalId": "sp-1",
                "servicePrincipalName": None,
            },
        }
    )

    assert actor["actor_type"] == "app"
    assert actor["actor_id"] == "sp-1"
    assert actor["actor_display_name"] == "soar-playbook"
    assert actor["actor_app_id"] == "app-1"
    assert actor["actor_service_principal_id"] == "sp-1"


def test_actor_user_known_only_by_id() -> None:
    actor = actor_fields(
        {
            "user": {
                "id": "u2",
                "displayName": None,
                "userPrincipalName": "",
                "ipAddress": None,
            }
        }
    )

    assert actor["actor_type"] == "user"
    assert actor["actor_id"] == "u2"
    assert actor["actor_upn"] is None
    assert actor["actor_ip"] is None


def test_actor_missing() -> None:
    assert actor_fields(None) == {"actor_type": "none"}


def test_actor_placeholder_ip_is_missing() -> None:
    for placeholder in ("<null>", "&lt;null&gt;", ""):
        actor = actor_fields({"user": {"id": "u1", "ipAddress": placeholder}})

        assert actor["actor_ip"] is None


def test_actor_from_json_text() -> None:
    actor = actor_fields(json.dumps({"user": {"id": "u1"}}))

    assert actor["actor_id"] == "u1"


def test_actor_repeated_ids_of_other_types() -> None:
    # 1, 1.0 and True are equal as dict keys, so a cache keyed by raw values
    # must not hand the columns of one to another.
    for raw, expected in ((True, "true"), (1, "1"), (1.0, "1.0"), ("1", "1")):
        actor = actor_fields({"user": {"id": raw}})

        assert actor["actor_id"] == expected, raw


def test_actor_object_field_read_each_time() -> None:
    first = actor_fields({"user": {"id": {"b": 1, "a": 2}}})
    second = actor_fields({"user": {"id": {"b": 1, "a": 3}}})

    assert first["actor_id"] == '{"a": 2, "b": 1}'
    assert second["actor_id"] == '{"a": 3, "b": 1}'


def test_actor_fields_change_not_cached() -> None:
    initiated_by = {"app": {"servicePrincipalId": "sp-1", "displayName": "sync"}}
    actor = actor_fields(initiated_by)
    actor["actor_id"] = "changed"

    assert actor_fields(initiated_by)["actor_id"] == "sp-1"
    assert audit_row({"id": "A1", "initiatedBy": initiated_by})["actor_id"] == "sp-1"


def test_audit_row_user_target_after_first() -> None:
    row = audit_row(
        {
            "id": "A1",
            "targetResources": [
                {"type": "Group", "id": "g1"},
                {"type": "user", "id": "u1", "userPrincipalName": "t@x"},
            ],
        }
    )

    assert row["target_type"] == "user"
    assert row["target_id"] == "u1"


def test_audit_row_no_user_target_takes_first() -> None:
    row = audit_row(
        {
            "id": "A1",
            "targetResources": [{"type": "Group", "id": "g1"}, {"id": "d1"}],
        }
    )

    assert row["target_type"] == "Group"
    assert row["target_id"] == "g1"


def test_audit_row_graph_fields() -> None:
    row = audit_row(
        {
            "id": "A1",
            "activityDisplayName": "Update user",
            "activityDateTime": "2025-01-01T00:00:00Z",
            "result": "success",
            "correlationId": "c1",
            "initiatedBy": {"user": {"id": "u-admin"}},
            "targetResources": [
                {"id": "g1", "type": "Group"},
                {
                    "id": "u-target",
                    "Type": "User",
                    "userPrincipalName": "t@contoso.example",
                    "modifiedProperties": [
                        {
                            "displayName": "Included Updated Properties",
                            "oldValue": None,
                            "newValue": '"StsRefreshTokensValidFrom"',
                        }
                    ],
                },
            ],
        }
    )

    assert row["record_id"] == "A1"
    assert row["target_id"] == "u-target"
    assert row["target_upn"] == "t@contoso.example"
    assert row["included_updated_properties"] == "StsRefreshTokensValidFrom"
    assert row["correlation_id"] == "c1"


def test_audit_activity_from_operation_name() -> None:
    row = audit_row({"operationName": "Revoke user sessions"}, envelope_time="t0")

    assert row["activity"] == "Revoke user sessions"
    assert row["event_time"] == "t0"


def test_audit_row_pascal_case_json_text() -> None:
    row = audit_row(
        {
            "Id": "A1",
            "ActivityDisplayName": "Revoke user sessions",
            "TargetResources": json.dumps(
                [{"id": "u-target", "type": "User", "userPrincipalName": "t@x"}]
            ),
        }
    )

    assert row["activity"] == "Revoke user sessions"
    assert row["target_id"] == "u-target"


def test_signin_row_status_fields() -> None:
    row, steps = signin_row(
        {
            "id": "S1",
            "createdDateTime": "2025-01-01T00:00:00Z",
            "userId": "u1",
            "userPrincipalName": "t@contoso.example",
            "ipAddress": "203.0.113.5",
            "status": {"errorCode": 500121, "additionalDetails": DENIED},
            "location": {"countryOrRegion": "NL", "city": "Amsterdam"},
        }
    )

    assert row["error_code"] == 500121
    assert row["additional_details"] == DENIED
    assert row["country"] == "NL"
    assert row["city"] == "Amsterdam"
    assert steps == []


def test_signin_request_id_prefers_original() -> None:
    row, _ = signin_row({"id": "S1", "originalRequestId": "R1"})

    assert row["request_id"] == "R1"


def test_signin_request_id_fallback() -> None:
    row, _ = signin_row({"id": "S1"})

    assert row["request_id"] == "S1"


def test_signin_result_type_as_string() -> None:
    row, _ = signin_row({"id": "S1", "ResultType": "500121"})

    assert row["error_code"] == 500121


def test_signin_non_numeric_result_type() -> None:
    row, _ = signin_row({"id": "S1", "resultType": "Update"})

    assert row["error_code"] is None


def test_signin_status_as_json_text() -> None:
    row, _ = signin_row(
        {
            "Id": "S1",
            "Status": json.dumps({"errorCode": 50074}),
            "IsInteractive": "true",
        }
    )

    assert row["error_code"] == 50074
    assert row["is_interactive"] is True


def test_signin_event_type_from_record() -> None:
    row, _ = signin_row(
        {"id": "S1", "signInEventTypes": ["nonInteractiveUser"]},
        source_kind="SignInLogs",
    )

    assert row["signin_event_type"] == "nonInteractiveUser"


def test_signin_event_type_from_category() -> None:
    row, _ = signin_row({"id": "S1"}, source_kind="ManagedIdentitySignInLogs")

    assert row["signin_event_type"] == "managedIdentity"


def test_steps_unpacked_in_order() -> None:
    steps = authentication_steps(
        [
            {
                "authenticationMethod": "Password",
                "succeeded": True,
                "authenticationStepResultDetail": "Correct password",
            },
            {
                "authenticationStepDateTime": "2025-01-01T00:00:30Z",
                "authenticationMethod": "Mobile app notification",
                "succeeded": False,
                "authenticationStepResultDetail": DENIED,
            },
        ]
    )

    assert [step["step_index"] for step in steps] == [0, 1]
    assert steps[1]["method"] == "Mobile app notification"
    assert steps[1]["succeeded"] is False
    assert steps[1]["result_detail"] == DENIED
    assert steps[1]["step_time"] == "2025-01-01T00:00:30Z"


def test_steps_from_json_text() -> None:
    text = json.dumps(
        [{"succeeded": "false", "authenticationStepResultDetail": DENIED}]
    )

    steps = authentication_steps(text)

    assert steps[0]["succeeded"] is False
    assert steps[0]["result_detail"] == DENIED


def test_steps_absent_or_malformed() -> None:
    assert authentication_steps(None) == []
    assert authentication_steps("[not json") == []
    assert authentication_steps({"a": 1}) == []


def test_steps_odd_items_skipped_or_read() -> None:
    item_text = json.dumps({"AuthenticationMethod": "SMS", "Succeeded": True})

    steps = authentication_steps([{}, None, "x", 5, item_text, {"METHOD": "x"}])

    assert [step["step_index"] for step in steps] == [4, 5]
    assert steps[0]["method"] == "SMS"
    assert steps[0]["succeeded"] is True
    assert steps[1]["method"] is None
    assert steps[1]["step_time"] is None
