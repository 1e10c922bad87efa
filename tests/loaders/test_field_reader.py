"""Tests for FieldReader and the audit and sign-in mapping that reads through it.

The expected columns of the odd records are the ones the mapping returned when it
still copied every nested object with lower-cased keys. Reading in place must not
change one of them. The real records are the synthetic exports in ``sample_logs``
and the collected exports of the ``real_logs_dir`` fixture.
"""

from __future__ import annotations

import json
from collections import UserDict
from pathlib import Path
from typing import Any

import pytest

from h056hunt.loaders.entra import audit_row, signin_row
from h056hunt.loaders.fields import FieldReader, lower_keys

REVOCATION = "Update StsRefreshTokenValidFrom Timestamp"
BASE_TARGET = {
    "id": "t1",
    "type": "User",
    "userPrincipalName": "victim@contoso.example",
    "modifiedProperties": [
        {
            "displayName": "StsRefreshTokensValidFrom",
            "oldValue": '["2026-01-31T00:00:07Z"]',
            "newValue": '["2026-03-02T00:00:07Z"]',
        }
    ],
}
SIGNIN = {
    "id": "S1",
    "createdDateTime": "2026-03-02T00:00:00Z",
    "userPrincipalName": "a@b",
    "userId": "u1",
    "status": {
        "errorCode": 500121,
        "failureReason": "MFA denied",
        "additionalDetails": "x",
    },
    "deviceDetail": {
        "displayName": "PC",
        "operatingSystem": "Windows",
        "browser": "Edge",
    },
    "location": {"city": "Oslo", "countryOrRegion": "NO"},
    "mfaDetail": {"authMethod": "App", "authDetail": None},
}


def audit(**changes: Any) -> dict[str, Any]:
    """Return a revocation by an app, with ``changes`` applied to its top level."""
    record = {
        "id": "A1",
        "activityDisplayName": REVOCATION,
        "activityDateTime": "2026-03-02T00:00:07Z",
        "initiatedBy": {
            "user": None,
            "app": {
                "appId": "app-1",
                "displayName": "Sync",
                "servicePrincipalId": "sp-1",
                "servicePrincipalName": "Sync SP",
            },
        },
        "targetResources": [json.loads(json.dumps(BASE_TARGET))],
    }
    record.update(changes)
    return record


def prop(**item: Any) -> list[dict[str, Any]]:
    """Return targetResources with one user target that modified only ``item``."""
    target = json.loads(json.dumps(BASE_TARGET))
    target["modifiedProperties"] = [item]
    return [target]


def signin(**changes: Any) -> dict[str, Any]:
    record = json.loads(json.dumps(SIGNIN))
    record.update(changes)
    return record


AUDIT_RECORDS = {
    "app_keys_mixed_case": audit(
        initiatedBy={
            "User": None,
            "APP": {"AppId": "a", "DISPLAYNAME": "n", "servicePrincipalID": "s"},
        }
    ),
    "user_later_key_wins": audit(
        initiatedBy={
            "user": {"id": "u1", "ID": "u2", "userPrincipalName": "a@b"},
            "User": {"id": "u3"},
        }
    ),
    "user_only_ip": audit(
        initiatedBy={"user": {"ipAddress": "192.0.2.1"}, "app": None}
    ),
    "app_name_from_principal_name": audit(
        initiatedBy={"app": {"displayName": "  ", "servicePrincipalName": "SP name"}}
    ),
    "initiator_json_text": audit(
        initiatedBy='{"User": {"Id": "u1", "IpAddress": "<null>"}}'
    ),
    "initiator_wrong_type": audit(initiatedBy=["user"]),
    "user_json_text": audit(initiatedBy={"user": '{"userPrincipalName": "a@b"}'}),
    "user_values_wrong_types": audit(
        initiatedBy={"user": {"id": 7, "displayName": True, "ipAddress": ["x"]}}
    ),
    "target_not_first": audit(
        targetResources=[
            {"id": "g1", "type": "Group"},
            {"ID": "u1", "TYPE": " USER ", "UserPrincipalName": "v@x"},
        ]
    ),
    "target_none_of_type_user": audit(
        targetResources=[
            {"id": "g1", "type": "Group", "displayName": "G"},
            {"id": "d1", "type": "Device"},
        ]
    ),
    "target_first_not_object": audit(
        targetResources=["x", {"id": "g1", "type": "Group"}]
    ),
    "targets_json_text": audit(targetResources=' [{"Id": "u1", "Type": "User"}] '),
    "target_type_list": audit(targetResources=[{"id": "u1", "type": ["User"]}]),
    "target_duplicate_keys": audit(
        targetResources=[{"id": "u1", "Id": "u2", "type": "User", "TYPE": "Group"}]
    ),
    "targets_empty": audit(targetResources=[]),
    "property_name_fallback": audit(
        targetResources=prop(
            displayName="",
            Name="Included Updated Properties",
            newValue='" StsRefreshTokensValidFrom "',
        )
    ),
    "property_keys_upper": audit(
        targetResources=prop(DISPLAYNAME="X", OLDVALUE="1", NEWVALUE="[1, 2]")
    ),
    "property_nested_json_string": audit(
        targetResources=prop(
            displayName="X", oldValue='"[\\"a\\"]"', newValue='"\\"q\\""'
        )
    ),
    "property_padded_json": audit(
        targetResources=prop(displayName="X", oldValue=" [1] ", newValue='\t"x"\n')
    ),
    "property_trailing_text": audit(
        targetResources=prop(displayName="X", oldValue="[1] x", newValue="1 2")
    ),
    "property_not_json": audit(
        targetResources=prop(displayName="X", oldValue="abc", newValue="tru")
    ),
    "property_nan_infinity": audit(
        targetResources=prop(displayName="X", oldValue="NaN", newValue="-Infinity")
    ),
    "property_values_not_text": audit(
        targetResources=prop(displayName="X", oldValue=5, newValue={"b": 1, "a": None})
    ),
    "property_lone_surrogate": audit(
        targetResources=prop(
            displayName="X", oldValue='"\\ud800"', newValue='["caf\u00e9"]'
        )
    ),
    "property_item_json_text": audit(
        targetResources=[
            {
                "id": "u1",
                "type": "User",
                "modifiedProperties": [
                    '{"DisplayName": "Y", "NewValue": "2"}',
                    None,
                    3,
                ],
            }
        ]
    ),
    "properties_json_text": audit(
        targetResources=[
            {
                "id": "u1",
                "type": "User",
                "modifiedProperties": (
                    '[{"displayName": "Z", "oldValue": null, "newValue": "\\"v\\""}]'
                ),
            }
        ]
    ),
    "included_properties_list": audit(
        targetResources=prop(
            displayName="Included Updated Properties", newValue='["A", 1, null]'
        )
    ),
    "included_properties_deep": audit(
        targetResources=prop(
            displayName="included updated properties", newValue='[[["A"]]]'
        )
    ),
    "top_keys_pascal_case": {
        "Id": "A2",
        "ActivityDisplayName": " Revoke user sessions ",
        "Category": "<null>",
        "Result": "Success",
        "ActivityDateTime": "2026-03-02T00:00:07Z",
        "InitiatedBy": {"User": {"Id": "u1"}},
    },
}
# The actor columns of a record whose initiator gives none of them.
NO_ACTOR = {
    "actor_id": None,
    "actor_upn": None,
    "actor_display_name": None,
    "actor_ip": None,
    "actor_app_id": None,
    "actor_service_principal_id": None,
}
AUDIT_EXPECTED = {
    "app_keys_mixed_case": NO_ACTOR
    | {
        "actor_type": "app",
        "actor_id": "s",
        "actor_display_name": "n",
        "actor_app_id": "a",
        "actor_service_principal_id": "s",
    },
    "user_later_key_wins": NO_ACTOR | {"actor_type": "user", "actor_id": "u3"},
    "user_only_ip": {"actor_type": "none"},
    "app_name_from_principal_name": NO_ACTOR
    | {"actor_type": "app", "actor_display_name": "SP name"},
    "initiator_json_text": NO_ACTOR | {"actor_type": "user", "actor_id": "u1"},
    "initiator_wrong_type": {"actor_type": "none"},
    "user_json_text": NO_ACTOR | {"actor_type": "user", "actor_upn": "a@b"},
    "user_values_wrong_types": NO_ACTOR
    | {
        "actor_type": "user",
        "actor_id": "7",
        "actor_display_name": "true",
        "actor_ip": '["x"]',
    },
    "target_not_first": {
        "target_type": "USER",
        "target_id": "u1",
        "target_upn": "v@x",
        "target_display_name": None,
        "modified_properties": None,
    },
    "target_none_of_type_user": {
        "target_type": "Group",
        "target_id": "g1",
        "target_upn": None,
        "target_display_name": "G",
        "modified_properties": None,
    },
    "target_first_not_object": {
        "target_type": None,
        "target_id": None,
        "target_upn": None,
        "target_display_name": None,
        "modified_properties": None,
    },
    "targets_json_text": {
        "target_type": "User",
        "target_id": "u1",
        "target_upn": None,
        "target_display_name": None,
        "modified_properties": None,
    },
    "target_type_list": {
        "target_type": '["User"]',
        "target_id": "u1",
        "target_upn": None,
        "target_display_name": None,
        "modified_properties": None,
    },
    "target_duplicate_keys": {
        "target_type": "Group",
        "target_id": "u2",
        "target_upn": None,
        "target_display_name": None,
        "modified_properties": None,
    },
    "targets_empty": {
        "target_type": None,
        "target_id": None,
        "target_upn": None,
        "target_display_name": None,
        "modified_properties": None,
    },
    "property_name_fallback": {
        "modified_properties": (
            '[{"name": "Included Updated Properties", "old": null, '
            '"new": " StsRefreshTokensValidFrom "}]'
        ),
        "included_updated_properties": "StsRefreshTokensValidFrom",
    },
    "property_keys_upper": {
        "modified_properties": '[{"name": "X", "old": 1, "new": [1, 2]}]',
        "included_updated_properties": None,
    },
    "property_nested_json_string": {
        "modified_properties": '[{"name": "X", "old": "[\\"a\\"]", "new": "\\"q\\""}]',
        "included_updated_properties": None,
    },
    "property_padded_json": {
        "modified_properties": '[{"name": "X", "old": [1], "new": "x"}]',
        "included_updated_properties": None,
    },
    "property_trailing_text": {
        "modified_properties": '[{"name": "X", "old": "[1] x", "new": "1 2"}]',
        "included_updated_properties": None,
    },
    "property_not_json": {
        "modified_properties": '[{"name": "X", "old": "abc", "new": "tru"}]',
        "included_updated_properties": None,
    },
    "property_nan_infinity": {
        "modified_properties": '[{"name": "X", "old": NaN, "new": -Infinity}]',
        "included_updated_properties": None,
    },
    "property_values_not_text": {
        "modified_properties": '[{"name": "X", "old": 5, "new": {"b": 1, "a": null}}]',
        "included_updated_properties": None,
    },
    "property_lone_surrogate": {
        "modified_properties": '[{"name": "X", "old": "\ufffd", "new": ["caf\u00e9"]}]',
        "included_updated_properties": None,
    },
    "property_item_json_text": {
        "modified_properties": (
            '[{"name": "Y", "old": null, "new": 2}, {"name": null, "old": null, '
            '"new": null}, {"name": null, "old": null, "new": null}]'
        ),
        "included_updated_properties": None,
    },
    "properties_json_text": {
        "modified_properties": '[{"name": "Z", "old": null, "new": "v"}]',
        "included_updated_properties": None,
    },
    "included_properties_list": {
        "modified_properties": (
            '[{"name": "Included Updated Properties", "old": null, "new": ["A", 1, '
            "null]}]"
        ),
        "included_updated_properties": "A, 1, None",
    },
    "included_properties_deep": {
        "modified_properties": (
            '[{"name": "included updated properties", "old": null, "new": [[["A"]]]}]'
        ),
        "included_updated_properties": "[['A']]",
    },
    "top_keys_pascal_case": NO_ACTOR
    | {
        "record_id": "A2",
        "activity": "Revoke user sessions",
        "category": None,
        "result": "Success",
        "actor_type": "user",
        "actor_id": "u1",
    },
}
SIGNIN_RECORDS = {
    "status_json_text": signin(
        status='{"ErrorCode": "50074", "FailureReason": " "}',
        resultDescription="Strong auth",
    ),
    "status_missing": signin(status=None, resultType="0"),
    "location_details_first": signin(locationDetails={"City": "Bergen"}),
    "location_details_empty": signin(locationDetails={}),
    "location_details_json_text": signin(locationDetails='{"CountryOrRegion": "SE"}'),
    "location_text": signin(location="DK"),
    "device_keys_mixed": signin(
        deviceDetail={"DisplayName": "A", "displayname": "B", "OPERATINGSYSTEM": None}
    ),
    "mfa_wrong_type": signin(mfaDetail=["App"]),
}
# The columns of the base sign-in record of signin(); each case lists what differs.
SIGNIN_BASE = {
    "error_code": 500121,
    "failure_reason": "MFA denied",
    "additional_details": "x",
    "country": "NO",
    "city": "Oslo",
    "device_name": "PC",
    "operating_system": "Windows",
    "browser": "Edge",
    "mfa_auth_method": "App",
    "mfa_auth_detail": None,
}
SIGNIN_EXPECTED = {
    "status_json_text": SIGNIN_BASE
    | {
        "error_code": 50074,
        "failure_reason": "Strong auth",
        "additional_details": None,
    },
    "status_missing": SIGNIN_BASE
    | {"error_code": 0, "failure_reason": None, "additional_details": None},
    "location_details_first": SIGNIN_BASE | {"country": None, "city": "Bergen"},
    "location_details_empty": SIGNIN_BASE,
    "location_details_json_text": SIGNIN_BASE | {"country": "SE", "city": None},
    "location_text": SIGNIN_BASE | {"country": "DK", "city": None},
    "device_keys_mixed": SIGNIN_BASE
    | {"device_name": "B", "operating_system": None, "browser": None},
    "mfa_wrong_type": SIGNIN_BASE | {"mfa_auth_method": None},
}


@pytest.mark.parametrize("name", sorted(AUDIT_RECORDS))
def test_audit_odd_record_columns(name: str) -> None:
    row = audit_row(AUDIT_RECORDS[name])

    assert {key: row.get(key) for key in AUDIT_EXPECTED[name]} == AUDIT_EXPECTED[name]
    if AUDIT_EXPECTED[name].get("actor_type") == "none":
        assert "actor_id" not in row


@pytest.mark.parametrize("name", sorted(SIGNIN_RECORDS))
def test_signin_odd_record_columns(name: str) -> None:
    row, _ = signin_row(SIGNIN_RECORDS[name])

    assert {key: row[key] for key in SIGNIN_EXPECTED[name]} == SIGNIN_EXPECTED[name]


def test_audit_row_same_with_keys_lowered() -> None:
    for name, record in AUDIT_RECORDS.items():
        plain = audit_row(record)
        lowered = audit_row(lower_keys(record))

        assert lowered == plain, name


NAMES = ("id", "type", "displayname", "name", "absent")
ODD_MAPPINGS: list[Any] = [
    None,
    "",
    "not json",
    7,
    ["id"],
    {},
    {"ID": "upper", "Type": "User"},
    {"id": "first", "Id": "second", "iD": "third"},
    {"Type": None, "type": "", "TYPE": 0},
    {1: "one", 2.5: "float", None: "none", "Id": "x"},
    {"DisplayName": {"Nested": 1}, "name": ["a"], "id": 2.5},
    '{"Id": "from text", "TYPE": "User"}',
    ' [{"id": "a list"}] ',
    UserDict({"Id": "user dict", "Name": "n"}),
    {f"Key{index}": index for index in range(300)} | {"ID": "wide"},
]


def expected_values(record: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    lowered = lower_keys(record)
    return tuple(lowered.get(name) for name in names)


@pytest.mark.parametrize("record", ODD_MAPPINGS, ids=range(len(ODD_MAPPINGS)))
def test_reader_matches_lower_keys(record: Any) -> None:
    reader = FieldReader(*NAMES)

    first = reader.read(record)
    again = reader.read(record)

    assert first == expected_values(record, NAMES)
    assert again == first


def test_reader_one_name() -> None:
    reader = FieldReader("id")

    assert reader.read({"ID": "x", "Type": "User"}) == ("x",)
    assert reader.read({"ID": "y", "Type": "User"}) == ("y",)
    assert reader.read({"type": "User"}) == (None,)


def test_reader_same_keys_new_values() -> None:
    reader = FieldReader("id", "type")

    assert reader.read({"Id": "a", "Type": "User"}) == ("a", "User")
    assert reader.read({"Id": "b", "Type": None}) == ("b", None)
    # Same keys in another order are another key set.
    assert reader.read({"Type": "Group", "Id": "c"}) == ("c", "Group")


def test_reader_cache_stays_bounded() -> None:
    reader = FieldReader("id", "key7")
    for index in range(1000):
        record = {f"key{index}_{offset}": offset for offset in range(3)}
        record["Id"] = index
        record["KEY7"] = -index

        assert reader.read(record) == (index, -index)

    assert len(reader._getters) <= 256


def nested_mappings(value: Any) -> list[dict[str, Any]]:
    """Return every JSON object inside ``value``, at any depth."""
    found = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found.append(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def json_records(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def check_reader_on_files(paths: list[Path]) -> int:
    """Read every object of the files by all its own keys and some absent ones."""
    checked = 0
    for path in paths:
        for record in json_records(path):
            for mapping in nested_mappings(record):
                names = (*{str(key).lower() for key in mapping}, "absent", "name")
                reader = FieldReader(*names)
                for _ in range(2):
                    assert reader.read(mapping) == expected_values(mapping, names)
                checked += 1
    return checked


def test_reader_on_sample_logs(sample_logs_dir: Path) -> None:
    paths = sorted(sample_logs_dir.glob("*.json"))

    assert check_reader_on_files(paths) > 1000


def test_reader_on_real_logs(real_logs_dir: Path) -> None:
    paths = [
        path
        for path in sorted(real_logs_dir.rglob("*"))
        if path.is_file() and path.suffix in (".json", ".log", ".ndjson")
    ]

    assert check_reader_on_files(paths) > 100
