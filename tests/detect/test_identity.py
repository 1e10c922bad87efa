"""Tests for the user join key: object id first, normalised UPN as fallback."""

from __future__ import annotations

import pandas as pd
import pytest

from h056hunt.detect.identity import is_object_id, normalise_upn, user_keys

GUEST_ID = "00000000-0000-4000-8000-0000000E7E01"


@pytest.mark.parametrize(
    ("upn", "expected"),
    [
        ("ivan.ext@fabrikam.example", "ivan.ext@fabrikam.example"),
        ("Ivan.Ext@Fabrikam.example", "ivan.ext@fabrikam.example"),
        (
            "ivan.ext_fabrikam.example#EXT#@contoso.onmicrosoft.example",
            "ivan.ext@fabrikam.example",
        ),
        (
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0ivan.ext_fabrikam.example#EXT#"
            "@contoso.onmicrosoft.example",
            "ivan.ext@fabrikam.example",
        ),
        ("  bob@contoso.example ", "bob@contoso.example"),
    ],
)
def test_normalise_upn(upn: str, expected: str) -> None:
    assert normalise_upn(upn) == expected


def test_member_with_same_local_part_differs() -> None:
    guest = normalise_upn("ivan.ext_fabrikam.example#EXT#@contoso.onmicrosoft.example")

    assert guest != normalise_upn("ivan.ext@contoso.example")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (GUEST_ID, True),
        (GUEST_ID.lower(), True),
        ("not-a-guid", False),
        ("", False),
        (None, False),
    ],
)
def test_is_object_id(value: str | None, expected: bool) -> None:
    assert is_object_id(value) is expected


def test_user_keys_prefer_object_id() -> None:
    ids = pd.Series([GUEST_ID, None, None, " "], dtype="string")
    upns = pd.Series(
        [
            "ivan.ext@fabrikam.example",
            "Ivan.Ext_fabrikam.example#EXT#@contoso.onmicrosoft.example",
            None,
            "bob@contoso.example",
        ],
        dtype="string",
    )

    keys, fallback = user_keys(ids, upns)

    assert keys.tolist()[0] == GUEST_ID.lower()
    assert keys.tolist()[1] == "upn:ivan.ext@fabrikam.example"
    assert pd.isna(keys.tolist()[2])
    assert keys.tolist()[3] == "upn:bob@contoso.example"
    assert fallback.tolist() == [False, True, False, True]
