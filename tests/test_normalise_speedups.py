"""Tests for the field helpers and row mapping cases that their fast branches keep.

The records come from the synthetic exports in ``sample_logs``. The variants change
key case, values and placeholders the way real exports differ from Graph's.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from h056hunt.loaders import fields
from h056hunt.loaders.entra import actor_fields, audit_row, signin_row
from h056hunt.loaders.fields import decode_json_text, json_text, lower_keys, text
from h056hunt.loaders.json_export import route_record
from h056hunt.loaders.scan_decode import RecordingSink

REVOCATION = "Update StsRefreshTokenValidFrom Timestamp"


def _records(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["value"]


@pytest.fixture
def revocation(sample_logs_dir: Path) -> dict[str, Any]:
    records = _records(sample_logs_dir / "audit.json")
    return next(r for r in records if r["activityDisplayName"] == REVOCATION)


@pytest.fixture
def signin(sample_logs_dir: Path) -> dict[str, Any]:
    records = _records(sample_logs_dir / "signin.json")
    return next(r for r in records if r.get("authenticationDetails"))


def _recase(value: Any, change: Any) -> Any:
    """Return ``value`` with every key, at any depth, passed through ``change``."""
    if isinstance(value, dict):
        return {change(key): _recase(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_recase(item, change) for item in value]
    return value


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _routed(record: Any) -> list[tuple[Any, ...]]:
    sink = RecordingSink("test.json")
    route_record(record, sink, line=1, record=1)
    return sink.calls


def _audit_row_of(record: Any) -> dict[str, Any]:
    calls = _routed(record)
    assert len(calls) == 1
    method, args, _ = calls[0]
    assert method == "add_audit"
    return args[0]


def _with_property(record: dict[str, Any], old: Any, new: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(record))
    changed["targetResources"][0]["modifiedProperties"] = [
        {"displayName": "Custom", "oldValue": old, "newValue": new}
    ]
    return changed


def test_lower_keys_later_duplicate_wins() -> None:
    small = {"Id": "first", "ID": "second"}
    large = {"Id": "first", "a": 1, "b": 2, "c": 3, "d": 4, "ID": "second"}

    for _ in range(2):
        assert lower_keys(small) == {"id": "second"}
        assert lower_keys(large) == {"id": "second", "a": 1, "b": 2, "c": 3, "d": 4}


def test_lower_keys_same_keys_new_values() -> None:
    keys = ["CreatedDateTime", "UserId", "AppId", "Status", "IpAddress", "Id"]
    first = lower_keys(dict.fromkeys(keys, "one"))
    second = lower_keys({key: index for index, key in enumerate(keys)})

    assert first == dict.fromkeys([key.lower() for key in keys], "one")
    assert second["createddatetime"] == 0
    assert second["id"] == 5


def test_lower_keys_non_text_keys() -> None:
    # 1 == True, so a key set with 1 must not be taken for one with True.
    numbers = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    booleans = {True: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    # csv.DictReader puts the cells past the header under the key None.
    csv_row = {"A": 1, "B": 2, "C": 3, "D": 4, None: ["extra"]}

    for _ in range(2):
        assert list(lower_keys(numbers)) == ["1", "2", "3", "4", "5"]
        assert list(lower_keys(booleans)) == ["true", "2", "3", "4", "5"]
        assert lower_keys(csv_row)["none"] == ["extra"]


def test_lower_keys_non_mapping_values() -> None:
    assert lower_keys(None) == {}
    assert lower_keys([{"A": 1}]) == {}
    assert lower_keys(7) == {}
    assert lower_keys('{"Id": "x", "Type": "User"}') == {"id": "x", "type": "User"}
    assert lower_keys("not json") == {}


def test_lower_keys_cache_stays_bounded() -> None:
    for index in range(3 * fields._CACHED_KEY_SETS_MAX):
        record = {f"Key{index}_{column}": column for column in range(8)}
        assert lower_keys(record)[f"key{index}_7"] == 7

    assert len(fields._LOWERED_KEYS) <= fields._CACHED_KEY_SETS_MAX


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "<null>",
        "<NULL>",
        " &lt;null&gt; ",
        "&LT;NULL&GT;",
        "Null",
        "NONE",
        "n/a",
        " N/A\t",
        None,
    ],
)
def test_text_placeholder_is_none(value: Any) -> None:
    assert text(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nulls", "nulls"),
        ("none.", "none."),
        ("n/a/b", "n/a/b"),
        (" success ", "success"),
        ("\u212a", "\u212a"),
        ("caf\u00e9 ", "caf\u00e9"),
        ("a\ud800b", "a\ufffdb"),
        (0, "0"),
        (50140, "50140"),
        (1.5, "1.5"),
        (True, "true"),
        (False, "false"),
        ({"b": 1, "a": "\udc00"}, '{"a": "\ufffd", "b": 1}'),
        (["x", 1], '["x", 1]'),
    ],
)
def test_text_cleans_value(value: Any, expected: str) -> None:
    assert text(value) == expected


def test_json_text_key_order_and_escapes() -> None:
    value = {"b": "caf\u00e9", "a": ["\ud800"]}

    assert json_text(value) == '{"b": "caf\u00e9", "a": ["\ufffd"]}'
    assert json_text(value, sort_keys=True) == '{"a": ["\ufffd"], "b": "caf\u00e9"}'


def test_json_text_too_deep_is_none() -> None:
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]

    assert json_text(deep) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"A": 1}', {"A": 1}),
        (" [1, 2] ", [1, 2]),
        ("[1]\u00a0", [1]),
        ("[1] [2]", "[1] [2]"),
        ("{bad", "{bad"),
        ('"text"', '"text"'),
        ("[" * 5000 + "]" * 5000, "[" * 5000 + "]" * 5000),
    ],
)
def test_decode_json_text(value: str, expected: Any) -> None:
    assert decode_json_text(value) == expected


def test_route_audit_any_key_case(revocation: dict[str, Any]) -> None:
    expected = _audit_row_of(revocation)

    for change in (str.lower, str.upper, _pascal):
        assert _audit_row_of(_recase(revocation, change)) == expected
    assert expected["activity"] == REVOCATION
    assert expected["actor_type"] == "user"
    assert expected["actor_upn"] == "ben.ito@contoso.example"
    assert expected["target_upn"] == "hana.xu@contoso.example"
    assert json.loads(expected["modified_properties"]) == [
        {
            "name": "StsRefreshTokensValidFrom",
            "old": ["2026-02-21T17:56:24Z"],
            "new": ["2026-03-02T01:07:35Z"],
        }
    ]


def test_route_audit_later_duplicate_key(revocation: dict[str, Any]) -> None:
    record = dict(revocation)
    record["ACTIVITYDATETIME"] = "2026-03-02T09:00:00Z"

    row = _audit_row_of(record)

    assert row["event_time"] == "2026-03-02T09:00:00Z"


def test_audit_row_lowered_keys_same_row(revocation: dict[str, Any]) -> None:
    expected = audit_row(revocation)

    assert audit_row(lower_keys(revocation)) == expected
    assert audit_row(json.dumps(revocation)) == expected


def test_audit_row_missing_placeholder_fields(revocation: dict[str, Any]) -> None:
    record = dict(revocation)
    del record["correlationId"]
    record["category"] = "<null>"
    record["result"] = " N/A "
    record["loggedByService"] = None

    row = audit_row(record, envelope_time="2026-03-02T01:00:00Z")

    assert row["correlation_id"] is None
    assert row["category"] is None
    assert row["result"] is None
    assert row["logged_by_service"] is None
    assert row["event_time"] == revocation["activityDateTime"]


@pytest.mark.parametrize(
    ("stored", "decoded"),
    [
        ('"Finance - Payables"', "Finance - Payables"),
        ("Finance - Payables", "Finance - Payables"),
        (' ["a"] ', ["a"]),
        ('\t{"A": 1}\n', {"A": 1}),
        ('["a"] x', '["a"] x'),
        ("", ""),
        ('\ufeff["a"]', '\ufeff["a"]'),
        ("nope", "nope"),
        ("-", "-"),
        ("-1", -1),
        ("true", True),
        ("null", None),
        ('"\\ud800"', "\ufffd"),
        ("[" * 5000, "[" * 5000),
    ],
)
def test_modified_property_values(
    revocation: dict[str, Any], stored: str, decoded: Any
) -> None:
    row = audit_row(_with_property(revocation, stored, stored))

    properties = json.loads(row["modified_properties"])
    assert properties == [{"name": "Custom", "old": decoded, "new": decoded}]


def test_modified_property_nan(revocation: dict[str, Any]) -> None:
    row = audit_row(_with_property(revocation, None, "NaN"))

    properties = json.loads(row["modified_properties"])
    assert properties[0]["old"] is None
    assert math.isnan(properties[0]["new"])


def test_included_updated_properties(revocation: dict[str, Any]) -> None:
    record = json.loads(json.dumps(revocation))
    record["targetResources"][0]["modifiedProperties"] = [
        {"displayName": "Included Updated Properties", "newValue": '["A", "B"]'}
    ]

    row = audit_row(record)

    assert row["included_updated_properties"] == "A, B"


def test_user_target_over_other_types(revocation: dict[str, Any]) -> None:
    record = json.loads(json.dumps(revocation))
    user = record["targetResources"][0]
    group = {"id": "g1", "type": "Group", "displayName": "Finance"}
    user["type"] = " USER "
    record["targetResources"] = [group, user]

    row = audit_row(record)

    assert row["target_id"] == user["id"]
    assert row["target_type"] == "USER"

    record["targetResources"] = [group, {"id": "g2", "Type": "Group"}]
    row = audit_row(record)

    assert row["target_id"] == "g1"
    assert row["target_display_name"] == "Finance"


def test_actor_app_when_user_placeholders() -> None:
    actor = actor_fields(
        {
            "User": {"Id": "<null>", "UserPrincipalName": ""},
            "APP": {"AppId": "a1", "ServicePrincipalName": "sync", "displayName": None},
        }
    )

    assert actor["actor_type"] == "app"
    assert actor["actor_id"] == "a1"
    assert actor["actor_display_name"] == "sync"
    assert actor["actor_service_principal_id"] is None


def test_route_signin_any_key_case(signin: dict[str, Any]) -> None:
    expected = _routed(signin)

    for change in (str.lower, str.upper, _pascal):
        assert _routed(_recase(signin, change)) == expected
    method, (row, steps), _ = expected[0]
    assert method == "add_signin"
    assert row["user_upn"] == signin["userPrincipalName"]
    assert row["error_code"] == signin["status"]["errorCode"]
    assert len(steps) == len(signin["authenticationDetails"])
    assert (
        steps[0]["method"] == signin["authenticationDetails"][0]["authenticationMethod"]
    )


def test_signin_row_lowered_keys_same_row(signin: dict[str, Any]) -> None:
    expected = signin_row(signin)

    assert signin_row(lower_keys(signin)) == expected


def test_signin_row_text_columns(signin: dict[str, Any]) -> None:
    record = dict(signin)
    del record["status"]
    record["location"] = "DE"
    record["ResultType"] = "50140"
    record["authenticationDetails"] = json.dumps(signin["authenticationDetails"])
    record["clientAppUsed"] = "&lt;null&gt;"
    record["ipAddress"] = " 192.0.2.1 "

    row, steps = signin_row(record)

    assert row["error_code"] == 50140
    assert row["country"] == "DE"
    assert row["city"] is None
    assert row["client_app"] is None
    assert row["ip_address"] == "192.0.2.1"
    assert steps == signin_row(signin)[1]


def test_lower_case_to_ascii_keeps_length() -> None:
    # text() looks up only text of a placeholder's length, which is exact only
    # while no character lower-cases to more than one ASCII character.
    changed = []
    for code in range(0x80, sys.maxunicode + 1):
        character = chr(code)
        lowered = character.lower()
        if lowered.isascii() and len(lowered) != 1:
            changed.append(character)

    assert changed == []
