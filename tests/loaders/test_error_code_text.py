"""Error codes written as text: ASCII digits only, on both reading paths.

The fast path keeps a sign-in for decoding when its line contains the literal digits
``500121``. The plain path once read "500_121", other scripts' digits and
"5.00121e5" as 500121 too, so the two paths gave different findings for them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runs import SAMPLES, hunt_jsonl
from h056hunt.loaders.fields import integer

DENIED = "MFA denied; user declined the authentication"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("500121", 500121),
        (" 500121 ", 500121),
        ("500121.0", 500121),
        ("-3", -3),
        (500121.0, 500121),
        ("500_121", None),
        ("\uff15\uff10\uff10\uff11\uff12\uff11", None),
        ("5.00121e5", None),
        ("500121.5", None),
        ("inf", None),
    ],
)
def test_integer_reads_ascii_digits(value: object, expected: int | None) -> None:
    assert integer(value) == expected


def write_signins(path: Path, code: str) -> Path:
    records = []
    for number in range(400):
        denied = number >= 394
        minute, second = number % 60, number // 60
        user = 99 if denied else number % 7
        records.append(
            {
                "id": f"5a000000-0000-4000-8000-{number:012d}",
                "createdDateTime": f"2024-05-14T09:{minute:02d}:{second:02d}Z",
                "userId": f"00000000-0000-4000-8000-{user:012d}",
                "userPrincipalName": "pat@contoso.example",
                "ipAddress": "203.0.113.5",
                "status": {
                    "errorCode": code if denied else 0,
                    "additionalDetails": DENIED if denied else None,
                },
            }
        )
    # Compact, as Graph writes it, so the fast path reads the file.
    lines = [json.dumps(record, separators=(",", ":")) for record in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("small_fast_path_units")
@pytest.mark.parametrize("code", ["500121", "500_121", "5.00121e5"])
def test_paths_agree_on_code_text(tmp_path: Path, code: str) -> None:
    audit = SAMPLES / "audit.json"
    signins = write_signins(tmp_path / "signins.ndjson", code)

    fast = hunt_jsonl(audit, signins, "--min-denials", "3")
    plain = hunt_jsonl(audit, signins, "--min-denials", "3", "--no-fast-path")

    assert fast.exit_code == 0, fast.stderr
    assert "fast path" in fast.stderr or "pre-filtered" in fast.stderr
    assert fast.stdout == plain.stdout
    bombed = "00000000-0000-4000-8000-000000000099"
    targets = [json.loads(line)["target_user_id"] for line in fast.stdout.splitlines()]
    assert (bombed in targets) is (code == "500121")
