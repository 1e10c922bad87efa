"""Tests for the csv output: columns, values and spreadsheet formula safety."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from report_inputs import (
    CASES,
    LIST_AGENTS,
    LIST_COUNTRIES,
    case_args,
    hostile_logs,
    hunt,
    hunt_in_both_orders,
    list_value_logs,
    sample_log_args,
)

from h056hunt.render.csv_report import COLUMNS, neutralise_formula

FORMULAS = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\t=1"]
# Columns that carry a display name at the start of the cell.
HOSTILE_COLUMNS = ("target_display_name", "actor_label", "summary")


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


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
    assert json.loads(row["source_ips"]) == ["203.0.113.140"]
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
    # A list cell starts with "[", and its items keep the text that the loader
    # read, which strips surrounding whitespace.
    agents = {json.loads(row["user_agents"])[0] for row in rows}
    assert agents == {formula.strip() for formula in FORMULAS}


def test_csv_list_cells_split_exactly(tmp_path: Path) -> None:
    audit, signin = list_value_logs(tmp_path)
    result = hunt("--format", "csv", "--audit", audit, "--signin", signin)

    assert result.exit_code == 0, result.stderr
    rows = read_rows(result.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert json.loads(row["user_agents"]) == sorted(LIST_AGENTS)
    assert json.loads(row["countries"]) == sorted(LIST_COUNTRIES)
    assert json.loads(row["source_ips"]) == [
        "203.0.113.5",
        "203.0.113.6",
        "203.0.113.7",
    ]
    for column in ("user_agents", "countries", "source_ips"):
        assert not is_formula(row[column]), column


def test_csv_list_cells_escape_controls(tmp_path: Path) -> None:
    agent = "evil\x1b[31m\u202e\x85 \\x1b"
    audit, signin = hostile_logs(tmp_path, [agent])
    result = hunt("--format", "csv", "--audit", audit, "--signin", signin)

    assert result.exit_code == 0, result.stderr
    row = read_rows(result.stdout)[0]
    assert json.loads(row["user_agents"]) == [agent]
    for character in ("\x1b", "\u202e", "\x85"):
        assert character not in row["user_agents"]


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


def test_csv_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[str], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory"])
    first, second = hunt_in_both_orders(
        "csv", audit, signin, lambda: foreign_tz("America/St_Johns")
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_csv_sample_logs(sample_logs_dir: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    result = hunt("--format", "csv", *args)
    document = hunt("--format", "json", *args)

    assert result.exit_code == 0, result.stderr
    rows = read_rows(result.stdout)
    findings = json.loads(document.stdout)["findings"]
    assert [row["finding_id"] for row in rows] == [f["finding_id"] for f in findings]
    for row in rows:
        for cell in row.values():
            assert not is_formula(cell), cell
