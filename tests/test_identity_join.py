"""Joins across exports: sign-ins without a user id, and audit data that is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.detect.identity import build_upn_index, user_keys

USER_ID = "00000000-0000-4000-8000-0000000000a1"
ADMIN_ID = "00000000-0000-4000-8000-0000000000ad"


def revocation() -> dict:
    return {
        "id": "Directory_join_1",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2026-03-02T10:00:00Z",
        "correlationId": "c0000000-0000-4000-8000-000000000001",
        "result": "success",
        "initiatedBy": {
            "user": {"id": ADMIN_ID, "userPrincipalName": "admin@contoso.example"},
            "app": None,
        },
        "targetResources": [
            {"id": USER_ID, "type": "User", "userPrincipalName": "Pat@Contoso.example"}
        ],
    }


def denial(number: int, user_id: str | None) -> dict:
    return {
        "id": f"5a000000-0000-4000-8000-{number:012d}",
        "createdDateTime": f"2026-03-02T10:{5 + number:02d}:00Z",
        "userId": user_id,
        "userPrincipalName": "pat@contoso.example",
        "ipAddress": "203.0.113.7",
        "status": {
            "errorCode": 500121,
            "additionalDetails": "MFA denied; user declined the authentication",
        },
    }


def write_json(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path


def hunt(*arguments: str) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(
        main, ["hunt", "--format", "jsonl", "--fail-on", "none", *arguments]
    )
    findings = [json.loads(line) for line in result.stdout.splitlines() if line]
    return result.exit_code, findings, result.stderr


def test_signins_without_id_join_revocation(tmp_path: Path) -> None:
    audit = write_json(tmp_path / "audit.json", [revocation()])
    signin = write_json(tmp_path / "signin.json", [denial(n, None) for n in range(5)])

    _, findings, stderr = hunt("--audit", str(audit), "--signin", str(signin))

    assert [f["finding_type"] for f in findings] == ["revocation_chain"]
    assert findings[0]["target_user_id"] == USER_ID
    assert findings[0]["matched_by_upn"] is True
    assert "matched by normalised UPN" in stderr


def test_upn_index_skips_ambiguous_upn() -> None:
    ids = pd.Series([USER_ID, ADMIN_ID], dtype="string")
    upns = pd.Series(["pat@contoso.example", "PAT@contoso.example"], dtype="string")

    assert build_upn_index([(ids, upns)]) == {}


def test_user_keys_use_index() -> None:
    ids = pd.Series([None, USER_ID.upper()], dtype="string")
    upns = pd.Series(["Pat@contoso.example", "pat@contoso.example"], dtype="string")

    keys, fallback = user_keys(ids, upns, {"pat@contoso.example": USER_ID})

    assert keys.tolist() == [USER_ID, USER_ID]
    assert fallback.tolist() == [True, False]


def test_no_audit_data_is_reported(tmp_path: Path) -> None:
    signin = write_json(
        tmp_path / "signin.json", [denial(n, USER_ID) for n in range(5)]
    )

    _, findings, stderr = hunt("--signin", str(signin))

    assert [f["finding_type"] for f in findings] == ["push_bombing"]
    assert "no audit data was loaded" in stderr
    assert "in the audit data" in findings[0]["summary"]


def test_audit_gap_before_burst_reported(tmp_path: Path) -> None:
    early = revocation() | {
        "id": "Directory_join_0",
        "activityDisplayName": "Add member to group",
        "activityDateTime": "2026-03-01T00:00:00Z",
    }
    audit = write_json(tmp_path / "audit.json", [early])
    signin = write_json(
        tmp_path / "signin.json", [denial(n, USER_ID) for n in range(5)]
    )

    _, _, stderr = hunt("--audit", str(audit), "--signin", str(signin))

    assert "audit data does not cover" in stderr
    assert "may be a revocation chain" in stderr
