"""The UPN search marks every raw line whose UPN folds to a searched one."""

from __future__ import annotations

import json

import pytest

from h056hunt.detect.identity import normalise_upn
from h056hunt.loaders.upn_search import UpnSearch, search_terms

# UPNs as exports write them; each folds to something other than its lower case.
RAW_UPNS = (
    "Pat.Lee@Contoso.example",
    "  pat.lee@contoso.example ",
    "0123456789ABCDEF0123456789abcdefPat.Lee@contoso.example",
    "Pat.Lee_Fabrikam.example#EXT#@contoso.onmicrosoft.com",
    "pat_lee_fabrikam.example#EXT#@contoso.onmicrosoft.com",
    "x@y_z#EXT#@contoso.onmicrosoft.com",
    "STRASSE@contoso.example",
    "Straße@contoso.example",
    "\u212aim@contoso.example",
    "\u0130nci@contoso.example",
    "Jürgen@Contoso.example",
)


def _line(upn: str) -> bytes:
    record = {
        "id": "5a000000-0000-4000-8000-000000000001",
        "userPrincipalName": upn,
        "userId": "5e000000-0000-4000-8000-000000000001",
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("raw", RAW_UPNS)
def test_line_with_upn_marked(raw: str) -> None:
    search = UpnSearch.for_upns([normalise_upn(raw)])
    line = _line(raw)

    assert not search.every_line
    assert search.hits(line, len(line))


def test_lines_without_upn_not_marked() -> None:
    search = UpnSearch.for_upns([normalise_upn(raw) for raw in RAW_UPNS])
    lines = [_line(f"user{number}@contoso.example") for number in range(3)]
    text = b"\n".join(lines)

    assert search.hits(text, len(text)) == []


def test_hits_point_into_marked_lines() -> None:
    search = UpnSearch.for_upns(["jürgen@contoso.example", "kim@contoso.example"])
    lines = [
        _line("ann@contoso.example"),
        _line("JÜRGEN@contoso.example"),
        _line("bob@contoso.example"),
        _line("\u212aIM@contoso.example"),
        _line("kim@contoso.example"),
    ]
    text = b"\n".join(lines)
    starts = [sum(len(line) + 1 for line in lines[:index]) for index in range(5)]

    hits = search.hits(text, len(text))

    assert hits == sorted(hits)
    marked = {max(i for i, start in enumerate(starts) if start <= hit) for hit in hits}
    assert marked == {1, 3, 4}


def test_guest_terms_for_each_at_sign() -> None:
    assert search_terms("x@y@z") == ["x@y@z", "x_y@z#ext#", "x@y_z#ext#"]


@pytest.mark.parametrize(
    "upn",
    [
        "pat/lee@contoso.example",
        'pat"lee@contoso.example',
        "pat\\lee@contoso.example",
        "pat\tlee@contoso.example",
        "",
        "12345",
        "1e5",
        "true",
    ],
)
def test_unsearchable_upn_marks_every_line(upn: str) -> None:
    search = UpnSearch.for_upns(["ann@contoso.example", upn])

    assert search.every_line


def test_guid_only_upn_folds_to_empty_search() -> None:
    # A UPN that is only a 32-digit hex GUID folds to nothing.
    upn = normalise_upn("0123456789abcdef0123456789ABCDEF")

    assert upn == ""
    assert UpnSearch.for_upns([upn]).every_line
