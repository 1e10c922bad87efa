"""Tests for the modifiedProperties columns of audit rows.

property_columns encodes lists of plain values without decoding them. Each case
here must give the columns that decoding every value and encoding the list give.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from h056hunt.loaders.fields import json_text
from h056hunt.loaders.modified_properties import (
    _included_properties,
    _modified_properties,
    property_columns,
)

VALUES: list[Any] = [
    None,
    '["2026-03-02T00:00:07Z"]',
    '"Finance - Payables"',
    '""',
    '[""]',
    "[]",
    '["a", "b"]',
    '["a","b"]',
    '["say \\"hi\\""]',
    '"back\\\\slash"',
    '"tab\there"',
    '"caf\u00e9"',
    '"\ud800"',
    '["\u2028"]',
    '"\x7f"',
    ' "padded" ',
    '"x" trailing',
    '["unclosed"',
    '"unclosed',
    "plain text",
    "",
    "42",
    "NaN",
    5,
    True,
    ["list"],
    {"b": 1, "a": None},
]
NAMES: list[Any] = [
    "StsRefreshTokensValidFrom",
    "Included Updated Properties",
    " included updated properties ",
    "",
    None,
    "<null>",
    'quote " name',
    "caf\u00e9 \ud800",
    7,
]


def decoded_columns(value: Any) -> tuple[str | None, str | None]:
    """Return the columns by decoding every value and encoding the list."""
    properties = _modified_properties(value)
    encoded = json_text(properties) if properties else None
    return encoded, _included_properties(properties)


@pytest.mark.parametrize(
    "old_value, new_value", list(itertools.product(VALUES, VALUES))
)
def test_value_pairs_same_columns(old_value: Any, new_value: Any) -> None:
    value = [
        {
            "displayName": "StsRefreshTokensValidFrom",
            "oldValue": old_value,
            "newValue": new_value,
        }
    ]

    assert property_columns(value) == decoded_columns(value)


@pytest.mark.parametrize("name", NAMES)
def test_names_same_columns(name: Any) -> None:
    value = [{"displayName": name, "oldValue": None, "newValue": '["A"]'}]

    assert property_columns(value) == decoded_columns(value)


@pytest.mark.parametrize(
    "value",
    [
        [],
        None,
        "[]",
        '[{"displayName": "X", "newValue": "\\"v\\""}]',
        [{"Name": "X", "displayName": "", "NewValue": '"v"'}],
        [{"DISPLAYNAME": "X", "OLDVALUE": '"a"', "NEWVALUE": '"b"'}],
        [{"displayName": "X", "newValue": '"v"'}, None],
        [{"displayName": "X", "newValue": '"v"'}, '{"displayName": "Y"}'],
        [
            {"displayName": "X", "oldValue": '["1"]', "newValue": '["2"]'},
            {"displayName": "Y", "oldValue": None, "newValue": '"3"'},
        ],
        [
            {"displayName": "X", "newValue": '"v"'},
            {"displayName": "Included Updated Properties", "newValue": '"X"'},
        ],
        [{}],
    ],
)
def test_property_lists_same_columns(value: Any) -> None:
    assert property_columns(value) == decoded_columns(value)


def test_revocation_encoded_as_decoded() -> None:
    value = [
        {
            "displayName": "StsRefreshTokensValidFrom",
            "oldValue": '["2026-01-31T00:00:07Z"]',
            "newValue": '["2026-03-02T00:00:07Z"]',
        }
    ]

    encoded, included = property_columns(value)

    assert encoded == (
        '[{"name": "StsRefreshTokensValidFrom", "old": ["2026-01-31T00:00:07Z"], '
        '"new": ["2026-03-02T00:00:07Z"]}]'
    )
    assert included is None
