"""Authentication step times far from their sign-in, on both paths.

A denial step dated more than an hour from its sign-in's createdDateTime is
dated at the sign-in instead, and the run warns for each finding it is in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import graph_lines
from cli_runs import assert_fast_same_as_plain, hunt_files
from graph_lines import line

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

ADMIN_ID = "11111111-1111-4111-8111-111111111111"
USER_ID = "22222222-2222-4222-8222-22222222abcd"
DENIED_TEXT = "MFA denied; user declined the authentication"
DENIAL_MINUTES = range(2, 7)
WARNING = "authentication step time"


def revocation() -> str:
    return line(
        {
            "id": "a0a0a0a0-0000-4000-8000-00000000abcd",
            "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
            "activityDateTime": "2025-01-02T03:00:00Z",
            "result": "success",
            "initiatedBy": {"user": {"id": ADMIN_ID}},
            "targetResources": [
                {"id": USER_ID, "type": "User", "userPrincipalName": "dana@x.example"}
            ],
        }
    )


def denial(minute: int, step_time: str) -> str:
    step = {
        "authenticationStepDateTime": step_time,
        "authenticationMethod": "Mobile app notification",
        "succeeded": False,
        "authenticationStepResultDetail": DENIED_TEXT,
    }
    return graph_lines.signin(
        f"5e5e5e5e-0000-4000-8000-0000000000a{minute}",
        minute,
        USER_ID,
        {"errorCode": 500121, "additionalDetails": DENIED_TEXT},
        isInteractive=True,
        ipAddress="203.0.113.5",
        authenticationDetails=[step],
    )


def write_inputs(folder: Path, far_minutes: set[int], far_year: int) -> Path:
    (folder / "audit.ndjson").write_text(revocation())
    denials = "".join(
        denial(
            minute,
            f"{far_year if minute in far_minutes else 2025}-01-02T03:{minute:02d}:40Z",
        )
        for minute in DENIAL_MINUTES
    )
    signin = folder / "signin.ndjson"
    signin.write_text(graph_lines.filler(1) + denials + graph_lines.filler(20))
    return signin


def run_report(folder: Path, signin: Path) -> tuple[dict, str]:
    plain = hunt_files(
        folder / "audit.ndjson", signin, "--format", "json", "--no-fast-path"
    )
    assert plain.exit_code == 0, plain.output
    return json.loads(plain.stdout), plain.stderr


@pytest.mark.parametrize(
    ("far_minutes", "far_year"),
    [({2}, 2261), (set(DENIAL_MINUTES), 2261), ({4, 5}, 2024)],
    ids=["first_far", "all_far", "year_before"],
)
def test_far_step_time_uses_signin(
    tmp_path: Path, far_minutes: set[int], far_year: int
) -> None:
    signin = write_inputs(tmp_path, far_minutes, far_year)

    report, stderr = run_report(tmp_path, signin)
    findings = report["findings"]

    assert [finding["finding_type"] for finding in findings] == ["revocation_chain"]
    assert findings[0]["denied_prompts"] == len(DENIAL_MINUTES)
    assert findings[0]["first_prompt_time"].startswith("2025-01-02T03:02:")
    assert findings[0]["last_prompt_time"].startswith("2025-01-02T03:06:")
    assert f"{len(far_minutes)} {WARNING}" in stderr
    assert findings[0]["finding_id"] in stderr

    assert_fast_same_as_plain(tmp_path / "audit.ndjson", signin, signin)


def test_near_step_time_kept(tmp_path: Path) -> None:
    signin = write_inputs(tmp_path, set(), 2025)
    # Steps 50 minutes after their sign-ins stay inside the bound.
    late = signin.read_text()
    for minute in DENIAL_MINUTES:
        late = late.replace(
            f'"2025-01-02T03:{minute:02d}:40Z"',
            f'"2025-01-02T03:{minute + 50:02d}:40Z"',
        )
    signin.write_text(late)

    report, stderr = run_report(tmp_path, signin)
    findings = report["findings"]

    assert len(findings) == 1
    assert findings[0]["first_prompt_time"] == "2025-01-02T03:52:40Z"
    assert WARNING not in stderr
