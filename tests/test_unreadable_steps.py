"""Sign-ins whose authenticationDetails value cannot be read as steps.

A value that is neither a list nor the JSON text of one, such as a CSV cell cut
off mid-text, gives no steps. Denials recorded only in the steps would then go
unseen, so the run warns, naming the records, on the fast path and the plain path
alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import graph_lines
from cli_runs import assert_fast_same_as_plain, hunt_files
from h056hunt.loaders.entra import UnreadableSteps, authentication_steps

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

USER_ID = "22222222-2222-4222-8222-22222222abcd"
DENIED_TEXT = "MFA denied; user declined the authentication"
WARNING = "an authenticationDetails value that is neither a list nor JSON text"


def denial(minute: int, details: Any) -> str:
    return graph_lines.signin(
        f"5e5e5e5e-0000-4000-8000-0000000000a{minute}",
        minute,
        USER_ID,
        {"errorCode": 500121, "additionalDetails": DENIED_TEXT},
        authenticationDetails=details,
    )


def write_inputs(folder: Path, details: list[Any]) -> tuple[Path, Path]:
    audit = folder / "audit.ndjson"
    audit.write_text(
        graph_lines.line(
            {
                "id": "a0a0a0a0-0000-4000-8000-00000000abcd",
                "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
                "activityDateTime": "2025-01-02T03:00:00Z",
                "result": "success",
                "initiatedBy": {"user": {"id": "11111111-1111-4111-8111-111111111111"}},
                "targetResources": [{"id": USER_ID, "type": "User"}],
            }
        )
    )
    signin = folder / "signin.ndjson"
    lines = [denial(minute, value) for minute, value in enumerate(details, start=2)]
    signin.write_text(graph_lines.filler(1) + "".join(lines) + graph_lines.filler(20))
    return audit, signin


@pytest.mark.parametrize(
    ("value", "unreadable"),
    [
        (None, False),
        ("", False),
        ("null", False),
        ([], False),
        ("[]", False),
        ('[{"succeeded": false}]', False),
        ("not a list", True),
        ('[{"succeeded": fal', True),
        ({"succeeded": False}, True),
        (42, True),
    ],
)
def test_steps_of_value(value: Any, unreadable: bool) -> None:
    steps = authentication_steps(value)

    assert (type(steps) is UnreadableSteps) is unreadable
    if unreadable:
        assert steps == []


def test_warning_names_records(tmp_path: Path) -> None:
    details = ["not a list", [], '[{"succeeded": fal', None, {"a": 1}]
    audit, signin = write_inputs(tmp_path, details)

    result = hunt_files(audit, signin, "--no-fast-path")

    assert result.exit_code == 0, result.stderr
    warning = " ".join(line for line in result.stderr.splitlines() if WARNING in line)
    # The 20 filler sign-ins come first, so the denials are records 21 to 25.
    assert "3 sign-ins have" in warning
    assert "(record 21, 23, 25)" in warning


def test_warning_lists_first_five(tmp_path: Path) -> None:
    audit, signin = write_inputs(tmp_path, ["not a list"] * 7)

    result = hunt_files(audit, signin, "--no-fast-path")

    warning = " ".join(line for line in result.stderr.splitlines() if WARNING in line)
    assert "7 sign-ins have" in warning
    assert "(record 21, 22, 23, 24, 25 and more)" in warning


def test_readable_steps_no_warning(tmp_path: Path) -> None:
    audit, signin = write_inputs(tmp_path, [[], None, "[]"])

    result = hunt_files(audit, signin, "--no-fast-path")

    assert result.exit_code == 0, result.stderr
    assert WARNING not in result.stderr


def test_fast_path_warns_the_same(tmp_path: Path) -> None:
    audit, signin = write_inputs(tmp_path, ["not a list", [], '{"x": 1}'])

    fast = assert_fast_same_as_plain(audit, signin, signin)

    assert WARNING in fast.stderr
    report = json.loads(fast.stdout)
    assert report["run"]["records"]["loaded"] > 0
