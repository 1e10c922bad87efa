"""Inputs that fuzzing or hostile-input testing once crashed h056hunt with.

Each test feeds the smallest known input through a real CLI run and checks that the
run ends with a message or a counted skip, never an internal error or a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from hostile import PLAIN_USER, run_cli

ARGUMENTS = ["--fail-on", "none", "--format", "json", "--min-denials", "1"]


def hunt(*arguments: str) -> Result:
    result = run_cli(["hunt", *arguments, *ARGUMENTS])
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    return result


def test_number_past_digit_limit(tmp_path: Path) -> None:
    # int() refuses more than 4,300 digits and json raised ValueError, which is not
    # a JSONDecodeError, so the decoder's error handling let it through.
    path = tmp_path / "number.json"
    path.write_text('{"value": [' + "1" * 5000 + "]}", encoding="utf-8")

    strict = hunt("--signin", str(path))
    lenient = hunt("--lenient", "--signin", str(path))

    assert strict.exit_code == 2
    assert "invalid number" in strict.stderr
    # The lenient run skips the document, which leaves nothing to hunt.
    assert lenient.exit_code == 2
    assert "Traceback" not in lenient.stderr
    assert "Records: 1 seen, 0 loaded, 0 duplicate, 1 skipped" in lenient.stderr


def test_revocation_target_without_upn(tmp_path: Path) -> None:
    # The coverage warning wrote "target_upn or user_key", and a missing UPN is
    # pandas NA, whose truth value raises TypeError.
    audit = {
        "id": "A1",
        "activityDisplayName": "Revoke user sessions",
        "activityDateTime": "2025-01-02T03:00:00Z",
        "initiatedBy": {"user": {"id": "admin", "userPrincipalName": "a@x.example"}},
        "targetResources": [{"id": PLAIN_USER, "type": "User"}],
    }
    signin = {
        "id": "S1",
        "createdDateTime": "2025-01-02T03:01:00Z",
        "userId": PLAIN_USER,
        "status": {"errorCode": 500121},
    }
    audit_path = tmp_path / "audit.json"
    audit_path.write_text(json.dumps({"value": [audit]}), encoding="utf-8")
    signin_path = tmp_path / "signin.json"
    signin_path.write_text(json.dumps({"value": [signin]}), encoding="utf-8")

    result = hunt("--audit", str(audit_path), "--signin", str(signin_path))

    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["run"]["coverage_warnings"]
    assert any(PLAIN_USER in warning for warning in warnings)


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_gzip_magic_alone(tmp_path: Path, lenient: bool) -> None:
    # Two bytes of gzip magic and nothing else: a gzip stream cut off at once.
    path = tmp_path / "cut.csv"
    path.write_bytes(b"\x1f\x8b")

    result = hunt(*(["--lenient"] if lenient else []), "--signin", str(path))

    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert "corrupt or truncated gzip data" in result.stderr


@pytest.mark.parametrize(
    "code", ["1180591620717411303424", "-9223372036854775809", "1e300", '"1e400"']
)
def test_error_code_past_int64(tmp_path: Path, code: str) -> None:
    # A whole number past the 64-bit range reached pyarrow's int64 column and raised
    # OverflowError; it is now an unknown code.
    path = tmp_path / "signins.json"
    record = (
        '{"id": "S1", "createdDateTime": "2025-01-02T03:03:00Z", "userId": "u", '
        f'"status": {{"errorCode": {code}}}}}'
    )
    path.write_text(record + "\n", encoding="utf-8")

    result = hunt("--signin", str(path))

    assert result.exit_code == 0
    assert json.loads(result.stdout)["run"]["records"]["loaded"] == 1
