"""Graph sign-in lines that the second-pass test modules build their exports from."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# A function that builds one sign-in line from its record id, minute, user id and
# status.
SigninLine = Callable[[str, int, str, dict[str, Any]], str]


def line(record: dict[str, Any]) -> str:
    """Return a record as one compact NDJSON line."""
    return json.dumps(record, separators=(",", ":")) + "\n"


def signin(
    record_id: str, minute: int, user_id: str, status: dict[str, Any], **extra: Any
) -> str:
    """Return a sign-in of ``user_id`` on 2 January 2025 at 03:``minute``:30Z."""
    record = {
        "id": record_id,
        "createdDateTime": f"2025-01-02T03:{minute:02d}:30Z",
        "userId": user_id,
        "userPrincipalName": f"user-{user_id[:4]}@contoso.example",
        "status": status,
        **extra,
    }
    return line(record)


def filler(minute: int, make_signin: SigninLine = signin) -> str:
    """Return 20 sign-ins of other users at ``minute`` with status 0, which the
    fast path pre-filters."""
    return "".join(
        make_signin(
            f"other-{minute}-{index}",
            minute,
            f"33333333-3333-4333-8333-{index:012d}",
            {"errorCode": 0},
        )
        for index in range(20)
    )
