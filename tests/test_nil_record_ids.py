"""Records whose ids are the nil GUID, on both paths.

The nil GUID names no record, request or user. Records that carry it as their id
are read as records with no id: each gets a content id, and only exact copies are
duplicates. Users whose object id is the nil GUID are matched by UPN.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import graph_lines
from cli_runs import assert_fast_same_as_plain, hunt_files
from graph_lines import line
from h056hunt.cli import main
from h056hunt.loaders import fastpath

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

ADMIN_ID = "11111111-1111-4111-8111-111111111111"
USER_ID = "22222222-2222-4222-8222-22222222abcd"
NIL_IDS = [
    "00000000-0000-0000-0000-000000000000",
    "{00000000-0000-0000-0000-000000000000}",
    "00000000000000000000000000000000",
    "00000000-0000-0000-0000-000000000000",
    "{00000000-0000-0000-0000-000000000000}",
]
DENIED = {
    "errorCode": 500121,
    "additionalDetails": "MFA denied; user declined the authentication",
}


def revocation(record_id: str, minute: int) -> str:
    return line(
        {
            "id": record_id,
            "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
            "activityDateTime": f"2025-01-02T03:{minute:02d}:00Z",
            "result": "success",
            "initiatedBy": {"user": {"id": ADMIN_ID}},
            "targetResources": [
                {"id": USER_ID, "type": "User", "userPrincipalName": "dana@x.example"}
            ],
        }
    )


def nil_id_denials() -> str:
    """Return five denials of one user, a minute apart, each with a nil id."""
    return "".join(
        graph_lines.signin(
            record_id,
            minute,
            USER_ID,
            DENIED,
            isInteractive=True,
            ipAddress="203.0.113.5",
        )
        for minute, record_id in enumerate(NIL_IDS, start=2)
    )


def write_inputs(folder: Path, compress: bool) -> tuple[Path, Path]:
    audit = folder / "audit.ndjson"
    # Two revocations of the same user at different times, both with a nil id.
    audit.write_text(revocation(NIL_IDS[0], 0) + revocation(NIL_IDS[1], 1))
    signins = folder / "signin"
    signins.mkdir()
    text = graph_lines.filler(1) + nil_id_denials() + graph_lines.filler(20)
    if compress:
        (signins / "s.ndjson.gz").write_bytes(gzip.compress(text.encode()))
    else:
        (signins / "s.ndjson").write_text(text)
    return audit, signins


@pytest.mark.parametrize("compress", [False, True], ids=["ndjson", "gzip"])
def test_nil_ids_are_no_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    audit, signins = write_inputs(tmp_path, compress)
    if compress:
        monkeypatch.setattr(fastpath, "POOLED_FILE_MIN_BYTES", 1)
    checked = next(signins.iterdir())

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)
    files = {Path(item["path"]).name: item for item in report["run"]["files"]}

    assert files["audit.ndjson"]["loaded"]["audit"] == 2
    assert files["audit.ndjson"]["duplicates"] == 0
    assert files[checked.name]["duplicates"] == 0
    assert files[checked.name]["loaded"]["signin"] == 5 + 40
    assert report["run"]["conflicts"] == []
    assert "differs between copies" not in plain.stderr
    assert [finding["denied_prompts"] for finding in report["findings"]] == [5]

    assert_fast_same_as_plain(audit, signins, checked)


def test_nil_id_exact_copies_are_duplicates(tmp_path: Path) -> None:
    audit = tmp_path / "audit.ndjson"
    audit.write_text(revocation(NIL_IDS[0], 0))
    signins = tmp_path / "signin"
    signins.mkdir()
    (signins / "s1.ndjson").write_text(graph_lines.filler(1) + nil_id_denials())
    (signins / "s2.ndjson").write_text(nil_id_denials() + graph_lines.filler(20))

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)
    duplicates = {
        Path(item["path"]).name: item["duplicates"] for item in report["run"]["files"]
    }

    assert duplicates == {"audit.ndjson": 0, "s1.ndjson": 0, "s2.ndjson": 5}
    assert report["run"]["conflicts"] == []
    assert [finding["denied_prompts"] for finding in report["findings"]] == [5]

    assert_fast_same_as_plain(audit, signins, signins / "s2.ndjson")


PORTAL_SIGNIN_HEADER = "Date (UTC),Request ID,Correlation ID,User ID,Username,Status,"
PORTAL_AUTH_DETAILS_HEADER = (
    "Request ID,Authentication method,Authentication method detail,Succeeded,"
    "Result detail,Date (UTC)\n"
)


def portal_denials(request_id: str) -> str:
    """Return five denied sign-in rows of one user in a portal download."""
    return "".join(
        f"2025-01-02T03:{minute:02d}:30Z,{request_id},"
        f"c0c0c0c0-0000-4000-8000-0000000000{minute:02d},{USER_ID},"
        f"dana@x.example,Failure,500121\n"
        for minute in range(2, 7)
    )


@pytest.mark.parametrize("with_steps", [False, True], ids=["alone", "auth_details"])
def test_portal_nil_request_ids(tmp_path: Path, with_steps: bool) -> None:
    audit = tmp_path / "audit.ndjson"
    audit.write_text(revocation(NIL_IDS[0], 0))
    signins = tmp_path / "signin"
    signins.mkdir()
    (signins / "signin.csv").write_text(
        PORTAL_SIGNIN_HEADER + "Sign-in error code\n" + portal_denials(NIL_IDS[2])
    )
    if with_steps:
        # Steps keyed by the nil GUID cannot be joined to one of the sign-ins.
        (signins / "signin_AuthDetails.csv").write_text(
            PORTAL_AUTH_DETAILS_HEADER
            + "".join(
                f"{NIL_IDS[0]},Mobile app notification,,false,"
                f"MFA denied; user declined the authentication,"
                f"2025-01-02T03:{minute:02d}:30Z\n"
                for minute in range(2, 9)
            )
        )

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)
    skipped = report["run"]["records"]["skipped_by_reason"]

    assert plain.exit_code == 0, plain.output
    assert [finding["denied_prompts"] for finding in report["findings"]] == [5]
    assert sum(skipped.values()) == (7 if with_steps else 0)


def test_nil_user_ids_stay_apart(tmp_path: Path) -> None:
    # Five users whose sign-ins carry the nil GUID as userId, one denial each.
    # Only the first is revoked, and one denial makes no burst.
    audit = tmp_path / "audit.ndjson"
    audit.write_text(
        revocation(NIL_IDS[0], 0)
        .replace(USER_ID, NIL_IDS[0])
        .replace("dana@x.example", "user2@x.example")
    )
    signins = tmp_path / "signin"
    signins.mkdir()
    denials = "".join(
        graph_lines.signin(
            f"5e5e5e5e-0000-4000-8000-0000000000a{minute}",
            minute,
            NIL_IDS[0],
            DENIED,
            userPrincipalName=f"user{minute}@x.example",
            isInteractive=True,
        )
        for minute in range(2, 7)
    )
    checked = signins / "s.ndjson"
    checked.write_text(graph_lines.filler(1) + denials + graph_lines.filler(20))

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    report = json.loads(plain.stdout)

    assert report["findings"] == []
    assert "matched by normalised UPN" in plain.stderr

    assert_fast_same_as_plain(audit, signins, checked)


APPROVAL_STEP = {
    "authenticationStepDateTime": "2025-01-02T03:09:40Z",
    "authenticationMethod": "Mobile app notification",
    "succeeded": True,
    "authenticationStepResultDetail": "MFA successfully completed",
}


@pytest.mark.parametrize("nil_id", NIL_IDS[:3], ids=["plain", "braced", "digits"])
def test_nil_user_id_approval_read(tmp_path: Path, nil_id: str) -> None:
    # The user's sign-ins carry a nil userId, so they are matched by UPN. The
    # approval has no denial text, so the fast path would pre-filter it unless
    # it reads a nil id as no id.
    audit = tmp_path / "audit.ndjson"
    audit.write_text(revocation(NIL_IDS[1], 0))
    signins = tmp_path / "signin"
    signins.mkdir()
    upn = {"userPrincipalName": "dana@x.example", "isInteractive": True}
    denials = "".join(
        graph_lines.signin(f"d-{minute}", minute, nil_id, DENIED, **upn)
        for minute in range(2, 7)
    )
    approval = graph_lines.signin(
        "approval",
        9,
        nil_id,
        {"errorCode": 0},
        **upn,
        authenticationDetails=[APPROVAL_STEP],
    )
    checked = signins / "s.ndjson"
    checked.write_text(
        graph_lines.filler(1)
        + denials
        + graph_lines.filler(8)
        + approval
        + graph_lines.filler(20)
    )

    plain = hunt_files(audit, signins, "--format", "json", "--no-fast-path")
    findings = json.loads(plain.stdout)["findings"]

    assert [finding["denied_prompts"] for finding in findings] == [5]
    assert findings[0]["approved"] is True

    assert_fast_same_as_plain(audit, signins, checked)


def test_nil_user_id_log_analytics_csv(tmp_path: Path) -> None:
    # A simulated approved chain whose target's UserId cells are the nil GUID.
    simulated = tmp_path / "sim"
    result = CliRunner().invoke(
        main,
        ["simulate", "--users", "30", "--noise", "2", "--scenario", "chain_approved"]
        + ["--signin-shape", "log-analytics-csv", "--audit-shape", "graph-ndjson"]
        + ["--out", str(simulated)],
    )
    assert result.exit_code == 0, result.output
    labels = json.loads((simulated / "labels.json").read_text())
    target = labels["scenarios"][0]["target_user_ids"][0]
    signin = simulated / "signin.csv"
    signin.write_text(
        signin.read_text(encoding="utf-8-sig").replace(target, NIL_IDS[0])
    )
    audit = simulated / "audit.ndjson"

    runs = [
        hunt_files(audit, signin, "--format", "json", "--monthfirst", *extra)
        for extra in (("--no-fast-path",), ())
    ]
    plain, fast = (json.loads(run.stdout)["findings"] for run in runs)

    assert [finding["approved"] for finding in plain] == [True]
    assert fast == plain
