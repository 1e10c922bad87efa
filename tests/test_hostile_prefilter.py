"""Pre-filter cases from hostile input: the fast path must match the plain path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli_runs import hunt_jsonl
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")


def _hunt(audit: Path, signin: Path, *extra: str) -> tuple[int, bytes, str]:
    result = hunt_jsonl(audit, signin, *extra)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_empty_user_id_line_same_findings(tmp_path: Path) -> None:
    written = simulate(SimulationConfig(users=40, days=2, seed=3), tmp_path)
    signin = written.signin_path
    lines = signin.read_bytes().split(b"\n")
    # Blank the user id of a sign-in in the middle of the file. The line stays a
    # valid Graph record that the vectorised scan keeps.
    middle = len(lines) // 2
    lines[middle], count = re.subn(
        rb'"userId":"[^"]*"', b'"userId":""', lines[middle], count=1
    )
    assert count == 1
    signin.write_bytes(b"\n".join(lines))

    fast_code, fast_out, fast_err = _hunt(written.audit_path, signin)
    plain_code, plain_out, _ = _hunt(written.audit_path, signin, "--no-fast-path")

    assert plain_code == 0
    assert fast_code == 0, fast_err
    assert fast_out.count(b"\n") > 0
    assert fast_out == plain_out


def _escape_slash(user_id: str, line: int) -> str:
    # Every other line writes the id's slash as the JSON escape \/.
    return user_id[:4] + ("\\/" if line % 2 else "/") + user_id[4:]


# Rewrites of a GUID user id, given the id and the number of the line it is on.
USER_ID_REWRITES = {
    "mixed case": lambda user_id, line: user_id.upper() if line % 2 else user_id,
    "shared first 8 digits": lambda user_id, line: "abcdef01" + user_id[8:],
    "not a GUID": lambda user_id, line: "user-" + user_id,
    "short": lambda user_id, line: user_id[:6],
    "escaped slash": _escape_slash,
    "longer than a literal": lambda user_id, line: user_id * 3,
}


@pytest.mark.parametrize("rewrite", list(USER_ID_REWRITES))
def test_rewritten_user_ids_same_findings(tmp_path: Path, rewrite: str) -> None:
    written = simulate(SimulationConfig(users=40, days=2, seed=5), tmp_path)
    user_ids = set(
        re.findall(r'"userId":"([0-9a-f-]{36})"', written.signin_path.read_text())
    )
    pattern = re.compile("|".join(sorted(user_ids)))
    for path in (written.signin_path, written.audit_path):
        lines = path.read_text().splitlines(keepends=True)
        path.write_text(
            "".join(
                pattern.sub(
                    lambda found, line=line: USER_ID_REWRITES[rewrite](
                        found.group(), line
                    ),
                    text,
                )
                for line, text in enumerate(lines)
            )
        )

    fast_code, fast_out, fast_err = _hunt(written.audit_path, written.signin_path)
    plain_code, plain_out, _ = _hunt(
        written.audit_path, written.signin_path, "--no-fast-path"
    )

    assert plain_code == 0
    assert fast_code == 0, fast_err
    assert fast_out.count(b"\n") > 0
    assert fast_out == plain_out


def _denials_without_code_literal(template: dict, code: str) -> list[str]:
    # Six failed sign-ins of a user whom no revocation names, ten seconds apart.
    # Neither the failure text nor the user contains a literal that the pre-filter
    # looks for, so only the error code can make the lines count as denials.
    lines = []
    for index in range(6):
        record = dict(template)
        record["id"] = f"bbbbbbbb-0000-4000-8000-00000000000{index}"
        record["originalRequestId"] = record["id"]
        record["userId"] = "abcdef01-0000-4000-8000-000000000001"
        record["userPrincipalName"] = "exponent.user@contoso.example"
        record["createdDateTime"] = f"2026-03-02T10:00:{index}0Z"
        record["status"] = {"errorCode": 0, "failureReason": "Authentication failed"}
        text = json.dumps(record, separators=(",", ":"))
        lines.append(text.replace('"errorCode":0', f'"errorCode":{code}'))
    return lines


@pytest.mark.parametrize(
    "code",
    [
        "5.00121e5",
        "50.0121E+4",
        "5001210e-1",
        # Fractions that a float rounds to 500121 without the literal digits.
        "500120.99999999999999",
        "500120.999999999999999999999",
    ],
)
def test_not_whole_code_same_findings(tmp_path: Path, code: str) -> None:
    written = simulate(SimulationConfig(users=40, days=2, seed=3), tmp_path)
    signin = written.signin_path
    lines = signin.read_text().splitlines()
    added = _denials_without_code_literal(json.loads(lines[0]), code)
    middle = len(lines) // 2
    signin.write_text("\n".join(lines[:middle] + added + lines[middle:]) + "\n")

    fast_code, fast_out, fast_err = _hunt(written.audit_path, signin)
    plain_code, plain_out, _ = _hunt(written.audit_path, signin, "--no-fast-path")

    assert plain_code == 0
    assert fast_code == 0, fast_err
    assert fast_out.count(b"\n") > 0
    # A code written with an exponent or a non-zero fraction is read as no code,
    # as the same text in a string is, so neither path reports the added sign-ins
    # as a burst.
    assert b"exponent.user@contoso.example" not in plain_out
    assert fast_out == plain_out
