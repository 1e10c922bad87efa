"""Graph exports and CLI runs shared by the report format tests.

Each builder writes Graph API pages (``{"value": [...]}``) that the ``hunt`` command
reads as audit and sign-in exports. A revocation with three 500121 sign-ins after it
is one finding at ``--min-denials 3``, so a name passed in reaches the revoker's
display name, the target's display name and the sign-ins' user agent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main

# Bug-report cases in the ``cases_dir`` folder: the audit export, then the sign-in one.
CASES = {
    "BR-08": ("BR-08_audit.json", "BR-08.json"),
    "BR-03": ("BR-03_audit.json", "BR-03.json"),
    "BR-11": ("BR-11.json", "BR-11_signins.json"),
}
DENIED = "MFA denied; user declined the authentication"
REVOKER_ID = "00000000-0000-4000-8000-00000000ad07"


def hunt(*args: str) -> Result:
    """Run ``h056 hunt`` in-process.

    ``--fail-on none`` keeps findings from changing the exit code.
    """
    return CliRunner().invoke(
        main, ["hunt", "-q", "--min-denials", "3", "--fail-on", "none", *args]
    )


def hunt_in_both_orders(
    output_format: str, audit: str, signin: str, between: Callable[[], None]
) -> tuple[Result, Result]:
    """Run ``hunt`` twice, with the input files in reverse order the second time.

    ``between()`` runs after the first hunt, for example to change the time zone.
    An empty sign-in page is added, so the two runs also list the sign-in files in
    a different order.
    """
    more = write_graph_page(Path(signin).parent / "more.json", [])
    first = hunt(
        "--format",
        output_format,
        *("--audit", audit, "--signin", signin, "--signin", more),
    )
    between()
    second = hunt(
        "--format",
        output_format,
        *("--signin", more, "--signin", signin, "--audit", audit),
    )
    return first, second


def case_args(cases_dir: Path, case: str) -> list[str]:
    audit, signin = CASES[case]
    return ["--audit", str(cases_dir / audit), "--signin", str(cases_dir / signin)]


def sample_log_args(sample_logs_dir: Path) -> list[str]:
    """Return ``--audit`` and ``--signin`` for the shipped samples, or skip."""
    audit = sample_logs_dir / "audit.json"
    signin = sample_logs_dir / "signin.json"
    if not (audit.is_file() and signin.is_file()):
        pytest.skip(f"{sample_logs_dir} has no audit.json and signin.json yet")
    return ["--audit", str(audit), "--signin", str(signin)]


def write_graph_page(path: Path, records: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return str(path)


def write_exports(
    tmp_path: Path, audits: list[dict[str, Any]], signins: list[dict[str, Any]]
) -> tuple[str, str]:
    """Write ``audit.json`` and ``signin.json`` and return their paths."""
    return (
        write_graph_page(tmp_path / "audit.json", audits),
        write_graph_page(tmp_path / "signin.json", signins),
    )


def revocation_audit(
    record_id: str, name: str, user_id: str, upn: str, when: str
) -> dict[str, Any]:
    """Build a "Revoke user sessions" audit record by a revoker without a UPN.

    With no UPN, the revoker's display name ``name`` leads its actor label.
    """
    return {
        "id": record_id,
        "category": "UserManagement",
        "result": "success",
        "activityDisplayName": "Revoke user sessions",
        "activityDateTime": when,
        "initiatedBy": {
            "user": {
                "id": REVOKER_ID,
                "displayName": name,
                "userPrincipalName": None,
                "ipAddress": "198.51.100.7",
            }
        },
        "targetResources": [{"id": user_id, "type": "User", "userPrincipalName": upn}],
    }


def denied_signin(
    record_id: str, request_id: str, when: str, name: str, user_id: str, upn: str
) -> dict[str, Any]:
    """Build a sign-in that the user denied (error 500121), named ``name``."""
    return {
        "id": record_id,
        "createdDateTime": when,
        "userPrincipalName": upn,
        "userDisplayName": name,
        "userId": user_id,
        "ipAddress": "203.0.113.5",
        "userAgent": name,
        "originalRequestId": request_id,
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
    }


def hostile_logs(tmp_path: Path, names: list[str]) -> tuple[str, str]:
    """Write one revocation and three 500121 sign-ins per name, one user each.

    User ``index`` is revoked at hour ``1{index}`` and denies prompts five, six and
    seven minutes later.
    """
    audits = []
    signins = []
    for index, name in enumerate(names):
        user_id = f"00000000-0000-4000-8000-0000000001{index:02d}"
        upn = f"user{index}@contoso.example"
        audits.append(
            revocation_audit(
                f"Directory_HOSTILE_{index}",
                name,
                user_id,
                upn,
                f"2025-03-01T1{index}:00:00Z",
            )
        )
        signins += [
            denied_signin(
                f"hostile-{index}-{minute}",
                f"request-{index}-{minute}",
                f"2025-03-01T1{index}:{minute:02d}:00Z",
                name,
                user_id,
                upn,
            )
            for minute in (5, 6, 7)
        ]
    return write_exports(tmp_path, audits, signins)


def mass_revocation_exports(
    tmp_path: Path, targets: int, bombed_id: str
) -> tuple[str, str]:
    """Write one admin's revocation of ``targets`` users, then five denials of the
    user ``bombed_id``, whose UPN is that of target 1; return both paths."""
    audits = [
        revocation_audit(
            f"A{index}",
            "Mass revoker",
            f"00000000-0000-4000-8000-{index:012d}",
            f"user{index}@contoso.example",
            f"2024-05-14T09:{index // 60 % 60:02d}:{index % 60:02d}Z",
        )
        for index in range(targets)
    ]
    signins = [
        denied_signin(
            f"S{index}",
            f"R{index}",
            f"2024-05-14T10:00:{index:02d}Z",
            "Bob",
            bombed_id,
            "user1@contoso.example",
        )
        for index in range(5)
    ]
    return write_exports(tmp_path, audits, signins)


# User agents of one finding: two contain list separators (a comma and " | "),
# and one is a spreadsheet formula.
LIST_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0) | Edge/120.0",
    "Client, v2 | beta",
    "=cmd|' /C calc'!A0",
]
LIST_COUNTRIES = ["DE, FR", "US"]


def list_value_logs(tmp_path: Path) -> tuple[str, str]:
    """Write one revocation and three denied prompts of one user, each prompt with
    a user agent of :data:`LIST_AGENTS`, its own IP address and a country of
    :data:`LIST_COUNTRIES`; return both paths."""
    user_id = "00000000-0000-4000-8000-000000000201"
    upn = "lists@contoso.example"
    audits = [
        revocation_audit(
            "Directory_LISTS_0", "Eve", user_id, upn, "2025-03-01T10:00:00Z"
        )
    ]
    signins = []
    for index, minute in enumerate((5, 6, 7)):
        signin = denied_signin(
            f"lists-{minute}",
            f"request-lists-{minute}",
            f"2025-03-01T10:{minute:02d}:00Z",
            "Eve",
            user_id,
            upn,
        )
        signin["userAgent"] = LIST_AGENTS[index]
        signin["ipAddress"] = f"203.0.113.{minute}"
        signin["location"] = {"countryOrRegion": LIST_COUNTRIES[index % 2]}
        signins.append(signin)
    return write_exports(tmp_path, audits, signins)
