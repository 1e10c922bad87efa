"""Tests for the csv output: columns, values and spreadsheet formula safety."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.render.csv_report import COLUMNS, neutralise_formula

CASES = {
    "BR-08": ("BR-08_audit.json", "BR-08.json"),
    "BR-03": ("BR-03_audit.json", "BR-03.json"),
    "BR-11": ("BR-11.json", "BR-11_signins.json"),
}
DENIED = "MFA denied; user declined the authentication"
FORMULAS = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\t=1"]
# Columns that carry a display name or user agent at the start of the cell.
HOSTILE_COLUMNS = ("target_display_name", "actor_label", "user_agents", "summary")


def hunt(*args: str) -> Result:
    """Run ``h056 hunt`` in-process; findings never change the exit code."""
    return CliRunner().invoke(
        main, ["hunt", "-q", "--min-denials", "3", "--fail-on", "none", *args]
    )


def case_args(cases_dir: Path, case: str) -> list[str]:
    audit, signin = CASES[case]
    return ["--audit", str(cases_dir / audit), "--signin", str(cases_dir / signin)]


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def write_graph_page(path: Path, records: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return str(path)


def hostile_logs(tmp_path: Path, names: list[str]) -> tuple[str, str]:
    """Write one revocation and three 500121 sign-ins per name, one user each.

    The name is the revoker's display name (the revoker has no UPN, so the name
    leads its label), the target's display name and the sign-ins' user agent.
    """
    audits = []
    signins = []
    for index, name in enumerate(names):
        user_id = f"00000000-0000-4000-8000-0000000001{index:02d}"
        upn = f"user{index}@contoso.example"
        audits.append(
            {
                "id": f"Directory_HOSTILE_{index}",
                "category": "UserManagement",
                "result": "success",
                "activityDisplayName": "Revoke user sessions",
                "activityDateTime": f"2025-03-01T1{index}:00:00Z",
                "initiatedBy": {
                    "user": {
                        "id": "00000000-0000-4000-8000-00000000ad07",
                        "displayName": name,
                        "userPrincipalName": None,
                        "ipAddress": "198.51.100.7",
                    }
                },
                "targetResources": [
                    {"id": user_id, "type": "User", "userPrincipalName": upn}
                ],
            }
        )
        signins += [
            {
                "id": f"hostile-{index}-{minute}",
                "createdDateTime": f"2025-03-01T1{index}:{minute:02d}:00Z",
                "userPrincipalName": upn,
                "userDisplayName": name,
                "userId": user_id,
                "ipAddress": "203.0.113.5",
                "userAgent": name,
                "originalRequestId": f"request-{index}-{minute}",
                "status": {"errorCode": 500121, "additionalDetails": DENIED},
            }
            for minute in (5, 6, 7)
        ]
    return (
        write_graph_page(tmp_path / "audit.json", audits),
        write_graph_page(tmp_path / "signin.json", signins),
    )


def is_formula(cell: str) -> bool:
    stripped = cell.lstrip()
    return cell[:1] in ("\t", "\r") or (stripped[:1] in ("=", "+", "-", "@"))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\tplain", "'\tplain"),
        ("  =1", "'  =1"),
        ("\n+1", "'\n+1"),
        ("", ""),
        ("   ", "   "),
        ("alice@contoso.example", "alice@contoso.example"),
        ("2024-05-14T09:00:05Z", "2024-05-14T09:00:05Z"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_formula(cell: str, expected: str) -> None:
    assert neutralise_formula(cell) == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_csv_cases_have_one_row(cases_dir: Path, case: str) -> None:
    result = hunt("--format", "csv", *case_args(cases_dir, case))
    document = hunt("--format", "json", *case_args(cases_dir, case))

    assert result.exit_code == 0, result.stderr
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert tuple(header) == COLUMNS
    rows = read_rows(result.stdout)
    finding = json.loads(document.stdout)["findings"][0]
    assert len(rows) == 1
    assert rows[0]["finding_id"] == finding["finding_id"]
    assert rows[0]["target_upn"] == finding["target_upn"]
    assert rows[0]["partial_input"] == "false"
    assert int(rows[0]["denied_prompts"]) == finding["denied_prompts"]


def test_csv_br08_values(cases_dir: Path) -> None:
    row = read_rows(hunt("--format", "csv", *case_args(cases_dir, "BR-08")).stdout)[0]

    assert row["severity"] == "critical"
    assert row["approved"] == "true"
    assert row["approval_time"] == "2022-12-26T11:02:40Z"
    assert row["prompts_declined"] == "3"
    assert row["prompts_approved"] == "1"
    assert row["source_ips"] == "203.0.113.140"
    assert row["actor_label"] == "secadmin@contoso.example"
    assert re.fullmatch(r"([a-z_]+=-?\d+)(; [a-z_]+=-?\d+)*", row["score_factors"])
    assert row["score_factors"].startswith("admin_revocation=25; ")


def test_csv_br11_names_app_actor(cases_dir: Path) -> None:
    row = read_rows(hunt("--format", "csv", *case_args(cases_dir, "BR-11")).stdout)[0]

    assert row["actor_type"] == "app"
    assert row["actor_label"].startswith("soar-playbook")
    assert row["revocation_time"] == "2025-05-07T08:05:00Z"


def test_csv_neutralises_hostile_cells(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, FORMULAS)
    result = hunt("--format", "csv", "--audit", audit, "--signin", signin)

    assert result.exit_code == 0, result.stderr
    rows = read_rows(result.stdout)
    assert len(rows) == len(FORMULAS)
    for row in rows:
        for column in HOSTILE_COLUMNS:
            assert row[column].startswith("'"), (column, row[column])
    for row in rows:
        for column, cell in row.items():
            assert not is_formula(cell), (column, cell)


def test_csv_hostile_display_names_survive(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, FORMULAS)
    rows = read_rows(
        hunt("--format", "csv", "--audit", audit, "--signin", signin).stdout
    )

    names = {row["target_display_name"] for row in rows}
    assert '\'=HYPERLINK("http://x")' in names
    assert "'@SUM(A1)" in names


def test_csv_keeps_line_feeds_inside_cells(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve\nAdmin", "Mallory\r=1"])
    result = hunt("--format", "csv", "--audit", audit, "--signin", signin)

    rows = read_rows(result.stdout)
    assert len(rows) == 2
    names = {row["target_display_name"] for row in rows}
    assert names == {"Eve\nAdmin", "Mallory\\x0d=1"}
    assert '"Eve\nAdmin"' in result.stdout
    assert "\r" not in result.stdout


def test_csv_partial_input_column(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve"])
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"id": "cut-', encoding="utf-8")
    result = hunt(
        "--lenient",
        "--format",
        "csv",
        "--audit",
        audit,
        "--signin",
        signin,
        "--signin",
        str(broken),
    )

    assert result.exit_code == 0, result.stderr
    assert [row["partial_input"] for row in read_rows(result.stdout)] == ["true"]


@pytest.fixture
def foreign_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Return a switch to a far-off process time zone, undone after the test."""

    def switch() -> None:
        monkeypatch.setenv("TZ", "America/St_Johns")
        time.tzset()

    yield switch
    monkeypatch.undo()
    time.tzset()


def test_csv_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory"])
    more = write_graph_page(tmp_path / "more.json", [])
    first = hunt(
        "--format", "csv", "--audit", audit, "--signin", signin, "--signin", more
    )
    foreign_tz()
    second = hunt(
        "--format", "csv", "--signin", more, "--signin", signin, "--audit", audit
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_csv_sample_logs(sample_logs_dir: Path) -> None:
    audit = sample_logs_dir / "audit.json"
    signin = sample_logs_dir / "signin.json"
    if not (audit.is_file() and signin.is_file()):
        pytest.skip(f"{sample_logs_dir} has no audit.json and signin.json yet")
    result = hunt("--format", "csv", "--audit", str(audit), "--signin", str(signin))
    document = hunt("--format", "json", "--audit", str(audit), "--signin", str(signin))

    assert result.exit_code == 0, result.stderr
    rows = read_rows(result.stdout)
    findings = json.loads(document.stdout)["findings"]
    assert [row["finding_id"] for row in rows] == [f["finding_id"] for f in findings]
    for row in rows:
        for cell in row.values():
            assert not is_formula(cell), cell
