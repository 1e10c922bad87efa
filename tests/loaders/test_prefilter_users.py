"""Tests for the user id index that the pre-filter builds per block."""

from __future__ import annotations

import json

import numpy as np
import pytest

from h056hunt.loaders import fastpath, prefilter

USER = "d0da43a8-16ff-4b7f-a070-c0d3db8b4909"


def _line(index: int, user: str | None) -> bytes:
    record = {
        "id": f"{index:08d}-0000-4000-8000-000000000000",
        "createdDateTime": "2026-03-02T10:00:00Z",
        "userDisplayName": "Ann",
        "userPrincipalName": "ann@contoso.example",
    }
    if user is not None:
        record["userId"] = user
    record["status"] = {"errorCode": 0}
    return json.dumps(record, separators=(",", ":")).encode()


def _scan(lines: list[bytes]) -> prefilter.ScanResult:
    text = b"\n".join(lines) + b"\n"
    chunk = bytearray(text + bytes(fastpath.WINDOW_SLACK))
    scanner = prefilter.LineScanner(
        prefilter.signin_spec(), container=False, path="test", start_offset=0
    )
    scanner.feed(chunk, len(text))
    return scanner.finish()


def test_user_key_of_next_line_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first line has no userId, and the second line's is within the span
    # searched after the first line's time key. Small blocks put the lines in
    # different blocks. A line without the key is decoded, because the plain path
    # matches it by UPN, so only the second line is indexed.
    monkeypatch.setattr(prefilter, "INDEX_BLOCK_BYTES", 64)
    first = _line(1, None)
    second = _line(2, USER)
    assert len(first) + len(second) < prefilter.USER_KEY_SPAN

    result = _scan([first, second])

    pairs = np.concatenate(list(result.user_index.slices()))
    blocks = (pairs >> np.uint64(32)).tolist()
    hashes = (pairs & np.uint64(0xFFFFFFFF)).tolist()
    assert result.block_offsets == [0, len(first) + 1]
    assert blocks == [1]
    assert hashes == [0xD0DA43A8]
    assert [line for line, _, _, _ in result.decode] == [0]


def test_every_line_with_user_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefilter, "INDEX_BLOCK_BYTES", 64)
    other = "0a0b0c0d-16ff-4b7f-a070-c0d3db8b4909"

    result = _scan([_line(1, USER), _line(2, other)])

    pairs = np.concatenate(list(result.user_index.slices()))
    assert sorted(pairs.tolist()) == [0xD0DA43A8, (1 << 32) | 0x0A0B0C0D]


# Ways a sign-in lacks a user id, as JSON text after the key's colon.
MISSING_USER_VALUES = {
    "empty": '""',
    "JSON null": "null",
    "null text": '"null"',
    "padded placeholder": '" N/A "',
    "markup placeholder": '"&lt;null&gt;"',
    "no-break space": '"\u00a0"',
}


def _raw_line(
    index: int,
    user_value: str | None,
    upn_member: str | None = '"userPrincipalName":"ann@contoso.example"',
) -> bytes:
    """Return a Graph sign-in with ``userId`` written as ``user_value`` right
    before ``upn_member``; None leaves either member out."""
    members = [
        f'"id":"{index:08d}-0000-4000-8000-000000000000"',
        '"createdDateTime":"2026-03-02T10:00:00Z"',
    ]
    if user_value is not None:
        members.append(f'"userId":{user_value}')
    if upn_member is not None:
        members.append(upn_member)
    members.append('"status":{"errorCode":0}')
    return ("{" + ",".join(members) + "}").encode()


@pytest.mark.parametrize("separated", [False, True], ids=["vectorised", "per line"])
def test_lines_without_user_id_decoded(separated: bool) -> None:
    # A blank line sends the chunk to the line-by-line scan.
    values = [f'"{USER}"', None, *MISSING_USER_VALUES.values()]
    lines = [_raw_line(index, value) for index, value in enumerate(values)]
    if separated:
        lines.insert(1, b"")

    result = _scan(lines)

    decoded = [text for _, _, text, _ in result.decode]
    assert decoded == [line for line in lines[1:] if line]
    pairs = np.concatenate(list(result.user_index.slices()))
    assert (pairs & np.uint64(0xFFFFFFFF)).tolist() == [0xD0DA43A8]
    assert sum(result.prefiltered.values()) == 1


def test_empty_id_with_stray_quote_decoded() -> None:
    # The byte 36 places after the start of the empty value, where a GUID's
    # closing quote would be, is the closing quote of the 13-character UPN.
    line = _raw_line(1, '""', '"userPrincipalName":"ann@contoso.x"')
    value = line.index(b'"userId":"') + len(b'"userId":"')
    assert line[value + 36 : value + 37] == b'"'

    result = _scan([_raw_line(0, f'"{USER}"'), line])

    assert [text for _, _, text, _ in result.decode] == [line]


# A service principal's sign-in has neither a user id nor a UPN.
NO_UPN_MEMBERS = {
    "missing": None,
    "JSON null": '"userPrincipalName":null',
    "empty": '"userPrincipalName":""',
    "placeholder": '"UserPrincipalName":" n/a "',
}


@pytest.mark.parametrize("separated", [False, True], ids=["vectorised", "per line"])
def test_lines_without_user_id_or_upn_not_indexed(separated: bool) -> None:
    lines = [_raw_line(0, f'"{USER}"')]
    for index, member in enumerate(NO_UPN_MEMBERS.values(), start=1):
        lines.append(_raw_line(index, None, member))
        lines.append(_raw_line(index + 10, '""', member))
    if separated:
        lines.insert(1, b"")

    result = _scan(lines)

    assert result.decode == []
    pairs = np.concatenate(list(result.user_index.slices()))
    assert (pairs & np.uint64(0xFFFFFFFF)).tolist() == [0xD0DA43A8]
    assert sum(result.prefiltered.values()) == 9


def test_user_id_in_other_case_decoded() -> None:
    # The loaders read member names in any case; the index reads "userId" only.
    line = _raw_line(1, None, f'"UserId":"{USER}"')

    result = _scan([_raw_line(0, f'"{USER}"'), line])

    assert [text for _, _, text, _ in result.decode] == [line]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"userPrincipalName":"ann@contoso.example"}', True),
        ('{"USERPRINCIPALNAME":"ann@contoso.example"}', True),
        ('{"userPrincipalName":null}', False),
        ('{"userPrincipalName":null,"a":1}', False),
        ('{"userPrincipalName":""}', False),
        ('{"userPrincipalName":"  NULL "}', False),
        ('{"userPrincipalName": null}', True),
        ('{"userPrincipalName":nullx}', True),
        ('{"userPrincipalName":"n/a","x":{"userPrincipalName":"b@c"}}', True),
        ('{"signInIdentifierType":"userPrincipalName"}', True),
        ('{"userPrincipalName":["ann@contoso.example"]}', True),
        ('{"id":"1"}', False),
    ],
)
def test_may_hold_upn(text: str, expected: bool) -> None:
    assert prefilter.may_hold_upn(text.encode()) is expected
