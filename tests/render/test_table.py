"""Tests for the findings table: it fits the terminal and keeps every character."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len

from h056hunt.cli import main
from h056hunt.render.table import TABLE_LAYOUTS, WRAP_MINIMUM_WIDTHS

ZONE = "Europe/Berlin"


def hunt(sample_logs_dir: Path, *args: str, columns: int = 200) -> Result:
    inputs = ["--audit", str(sample_logs_dir / "audit.json")]
    inputs += ["--signin", str(sample_logs_dir / "signin.json")]
    return CliRunner().invoke(
        main,
        ["hunt", *inputs, "--fail-on", "none", *args],
        env={"COLUMNS": str(columns)},
        catch_exceptions=False,
    )


def table_cells(output: str) -> list[dict[str, str]]:
    """Rebuild each row's cells from a rendered table, joining wrapped lines."""
    lines = output.splitlines()
    rule = next(index for index, line in enumerate(lines) if "━" in line)
    header = lines[rule - 1]
    names = header.split("   ")
    names = [name.strip() for name in names if name.strip()]
    starts = [header.index(name) for name in names]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    rows: list[dict[str, list[str]]] = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        pieces = [line[start:end].strip() for start, end in bounds]
        if pieces[0]:
            rows.append({name: [] for name in names})
        for name, piece in zip(names, pieces, strict=True):
            if piece:
                rows[-1][name].append(piece)
    return [{name: " ".join(parts) for name, parts in row.items()} for row in rows]


def squeeze(text: str) -> str:
    return "".join(text.split())


def berlin(value: str) -> str:
    stamp = pd.Timestamp(value).tz_convert(ZONE)
    return stamp.strftime("%Y-%m-%d %H:%M:%S%z")


@pytest.fixture
def findings(sample_logs_dir: Path) -> list[dict[str, Any]]:
    result = hunt(sample_logs_dir, "--format", "jsonl")
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_table_fits_terminal_width(sample_logs_dir: Path, columns: int) -> None:
    result = hunt(sample_logs_dir, "--tz", ZONE, "--details", columns=columns)

    widths = [cell_len(line) for line in result.stdout.splitlines()]
    assert max(widths) <= columns
    assert "…" not in result.stdout


@pytest.mark.parametrize("columns", [40, 58, 80, 100, 160])
def test_table_keeps_whole_cells(
    sample_logs_dir: Path, findings: list[dict[str, Any]], columns: int
) -> None:
    result = hunt(sample_logs_dir, "--tz", ZONE, columns=columns)

    rows = table_cells(result.stdout)
    assert len(rows) == len(findings)
    assert tuple(rows[0]) in TABLE_LAYOUTS
    for row, finding in zip(rows, findings, strict=True):
        if "Approved" in row:
            assert row["Approved"] == ("yes" if finding["approved"] else "no")
        if finding["finding_type"] != "revocation_chain":
            continue
        assert squeeze(row["User"]) == finding["target_upn"]
        if "Revoked at" in row:
            revoked_at = squeeze(berlin(finding["revocation_time"]))
            assert squeeze(row["Revoked at"]) == revoked_at
        if "Revoked by" in row:
            assert squeeze(row["Revoked by"]) == finding["actor"]["label"]


def test_table_summary_keeps_approval_time(
    sample_logs_dir: Path, findings: list[dict[str, Any]]
) -> None:
    result = hunt(sample_logs_dir, "--tz", ZONE, columns=170)

    rows = table_cells(result.stdout)
    assert "Summary" in rows[0]
    for row, finding in zip(rows, findings, strict=True):
        if finding["finding_type"] != "revocation_chain":
            continue
        assert "after;" in squeeze(row["Summary"])
        if finding["approved"]:
            expected = "approved" + squeeze(berlin(finding["approval_time"]))
            assert squeeze(row["Summary"]).endswith(expected)


@pytest.mark.parametrize("columns", [30, 40, 60])
def test_table_fits_narrow_terminal(sample_logs_dir: Path, columns: int) -> None:
    result = hunt(sample_logs_dir, columns=columns)

    widths = [cell_len(line) for line in result.stdout.splitlines()]
    assert max(widths) <= columns
    assert "…" not in result.stdout


@pytest.mark.parametrize("columns", [59, 70, 80, 90, 100, 120, 147, 161, 162, 200])
def test_table_keeps_identifiers_on_one_line(
    sample_logs_dir: Path, findings: list[dict[str, Any]], columns: int
) -> None:
    result = hunt(sample_logs_dir, columns=columns)

    lines = result.stdout.splitlines()
    rows = table_cells(result.stdout)
    assert max(cell_len(line) for line in lines) <= columns
    for row, finding in zip(rows, findings, strict=True):
        if finding["target_upn"] and finding["finding_type"] != "revocation_campaign":
            assert row["User"] == finding["target_upn"]
            assert any(finding["target_upn"] in line for line in lines)
        if "Revoked by" in row and finding["actor"]:
            assert row["Revoked by"] == finding["actor"]["label"]


@pytest.mark.parametrize("zone", [None, ZONE])
@pytest.mark.parametrize("columns", [80, 90, 100])
def test_table_wraps_time_at_space(
    sample_logs_dir: Path,
    findings: list[dict[str, Any]],
    columns: int,
    zone: str | None,
) -> None:
    extra = ["--tz", zone] if zone else []

    result = hunt(sample_logs_dir, *extra, columns=columns)

    rows = table_cells(result.stdout)
    assert "Revoked at" in rows[0]
    for row, finding in zip(rows, findings, strict=True):
        if finding["finding_type"] != "revocation_chain":
            continue
        time = pd.Timestamp(finding["revocation_time"])
        if zone:
            expected = berlin(finding["revocation_time"])
        else:
            expected = time.strftime("%Y-%m-%d %H:%M:%SZ")
        assert row["Revoked at"] == expected


def test_table_layouts_by_width(sample_logs_dir: Path) -> None:
    # With the sample logs: the longest UPN has 33 characters. Each layout first
    # fits with the compact border, 4 columns narrower than the normal one.
    widths = (54, 55, 58, 59, 67, 68, 84, 85, 111, 112, 157, 158, 161, 162)
    results = {columns: hunt(sample_logs_dir, columns=columns) for columns in widths}
    chosen = {
        columns: tuple(table_cells(result.stdout)[0])
        for columns, result in results.items()
    }
    # The compact border starts the header in the first column.
    compact = {
        columns: result.stdout.startswith("Severity")
        for columns, result in results.items()
    }

    assert chosen[162] == TABLE_LAYOUTS[0]
    assert not compact[162]
    assert chosen[161] == TABLE_LAYOUTS[0]
    assert compact[161]
    assert chosen[158] == TABLE_LAYOUTS[0]
    assert chosen[157] == TABLE_LAYOUTS[1]
    assert chosen[112] == TABLE_LAYOUTS[1]
    assert compact[112]
    assert chosen[111] == TABLE_LAYOUTS[2]
    assert chosen[85] == TABLE_LAYOUTS[2]
    assert chosen[84] == TABLE_LAYOUTS[3]
    assert chosen[68] == TABLE_LAYOUTS[3]
    assert chosen[67] == TABLE_LAYOUTS[4]
    assert chosen[59] == TABLE_LAYOUTS[4]
    assert not compact[59]
    assert chosen[58] == TABLE_LAYOUTS[4]
    assert compact[58]
    assert chosen[55] == TABLE_LAYOUTS[4]
    assert chosen[54] == TABLE_LAYOUTS[4]


@pytest.mark.parametrize("columns", [130, 160])
def test_details_keep_times_and_addresses_whole(
    sample_logs_dir: Path, findings: list[dict[str, Any]], columns: int
) -> None:
    result = hunt(sample_logs_dir, "--details", columns=columns)

    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    for finding in findings:
        for event in finding["timeline"]:
            # Each time, and the address beside it, sits whole on one line.
            matching = [line for line in lines if event["time"] in line]
            assert matching, event["time"]
            if event["ip_address"]:
                assert any(event["ip_address"] in line for line in matching)


def test_service_principal_revoker_wraps_at_spaces(tmp_path: Path) -> None:
    """A campaign by a service principal keeps the widest layout at 200 columns:
    its name and id wrap at their spaces, with the id whole on one line."""
    result = hunt_simulated_tenant(tmp_path, "--days", "1", "--seed", "4")

    assert result.exit_code == 0, result.stderr
    rows = table_cells(result.stdout)
    assert tuple(rows[0]) == TABLE_LAYOUTS[0]
    revokers = [
        row["Revoked by"] for row in rows if "(service principal" in row["Revoked by"]
    ]
    assert revokers
    ids = [revoker.split()[-1].rstrip(")") for revoker in revokers]
    for service_principal_id in ids:
        assert any(service_principal_id in line for line in result.stdout.splitlines())
    assert all(cell_len(line) <= 200 for line in result.stdout.splitlines())


def test_campaign_without_prompts_says_none(tmp_path: Path) -> None:
    # The simulated directory sync revokes tokens in campaigns without prompts.
    result = hunt_simulated_tenant(tmp_path, "--days", "1", "--seed", "4")

    assert result.exit_code == 0, result.stderr
    rows = table_cells(result.stdout)
    quiet = [
        row
        for row in rows
        if row["Type"] == "revocation_campaign" and "0 bombed" in row["Summary"]
    ]
    assert quiet
    for row in quiet:
        assert row["Prompts"] == "none", row


def hunt_simulated_tenant(folder: Path, *simulate_options: str) -> Result:
    """Simulate 200 users into ``folder`` and hunt them at 200 columns."""
    simulated = CliRunner().invoke(
        main, ["simulate", "--users", "200", *simulate_options, "--out", str(folder)]
    )
    assert simulated.exit_code == 0, simulated.output
    return CliRunner().invoke(
        main,
        ["hunt", "--audit", str(folder / "audit.ndjson")]
        + ["--signin", str(folder / "signin.ndjson"), "--fail-on", "none"],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    )


def column_widths(output: str) -> dict[str, int]:
    """Measure each column of a rendered table from its header, padding included."""
    lines = output.splitlines()
    rule = next(index for index, line in enumerate(lines) if "━" in line)
    header = lines[rule - 1]
    names = [name.strip() for name in header.split("   ") if name.strip()]
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], len(lines[rule])]
    return {
        name: end - start for name, start, end in zip(names, starts, ends, strict=True)
    }


def test_service_principal_revoker_shares_width(tmp_path: Path) -> None:
    """A long service principal label wraps along with the prose columns, so it
    does not keep most of its width while Prompts and Summary shrink to their
    minimums and Revoked at wraps."""
    result = hunt_simulated_tenant(tmp_path, "--days", "7")

    assert result.exit_code == 0, result.stderr
    rows = table_cells(result.stdout)
    assert tuple(rows[0]) == TABLE_LAYOUTS[0]
    labels = [
        row["Revoked by"] for row in rows if "(service principal" in row["Revoked by"]
    ]
    assert labels
    widths = column_widths(result.stdout)
    assert widths["Revoked by"] < max(len(label) for label in labels)
    assert widths["Prompts"] > WRAP_MINIMUM_WIDTHS["Prompts"] + 3
    assert widths["Summary"] > WRAP_MINIMUM_WIDTHS["Summary"] + 3
    lines = result.stdout.splitlines()
    for row in rows:
        if row["Revoked at"] != "-":
            assert any(row["Revoked at"] in line for line in lines), row


def test_narrow_table_names_hidden_columns(sample_logs_dir: Path) -> None:
    narrow = hunt(sample_logs_dir, columns=80).stdout
    wide = hunt(sample_logs_dir, columns=200).stdout

    note = "Left out at this width: Score, Type, Revoked by, Prompts, Summary"
    assert note in " ".join(narrow.split())
    assert "--details" in narrow.split("Left out at this width")[1]
    assert "Left out at this width" not in wide
    # The note follows the table, so the rows read as before.
    assert [row["User"] for row in table_cells(narrow)] == [
        row["User"] for row in table_cells(wide)
    ]


@pytest.mark.parametrize("columns", [200, 120, 80])
def test_overlong_user_name_keeps_columns(
    sample_logs_dir: Path, tmp_path: Path, columns: int
) -> None:
    """A user name longer than any real UPN folds in its column. It takes no
    columns away from the other findings, and the other UPNs stay whole."""
    # Entra ID takes a UPN of at most 113 characters.
    name = "victor." + "z" * 400
    for log in ("audit", "signin"):
        text = (sample_logs_dir / f"{log}.json").read_text(encoding="utf-8")
        assert "victor.okafor@" in text
        (tmp_path / f"{log}.json").write_text(
            text.replace("victor.okafor@", f"{name}@"), encoding="utf-8"
        )

    planted = hunt(tmp_path, columns=columns).stdout
    sample = hunt(sample_logs_dir, columns=columns).stdout

    assert tuple(table_cells(planted)[0]) == tuple(table_cells(sample)[0])
    users = [row["User"] for row in table_cells(planted)]
    assert any(user.replace(" ", "").startswith(name[:40]) for user in users)
    lines = planted.splitlines()
    for user in users:
        if "@contoso.example" in user and "zzz" not in user:
            assert any(user in line for line in lines), user
