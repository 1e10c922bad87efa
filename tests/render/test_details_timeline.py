"""The ``--details`` timeline of a mass revocation, printed a part at a time.

A campaign's timeline has one event per target. The table output prints it as
several edgeless tables of :data:`TIMELINE_ROWS_PER_TABLE` rows with one shared
layout, so it reads as one table while no part contains every row. These runs go
through the CLI with ``COLUMNS`` set and check the printed lines themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_inputs import mass_revocation_exports

from cli_runs import details_lines
from h056hunt.cli import main
from h056hunt.render import table as table_module
from h056hunt.render.column_widths import fold_widths
from h056hunt.render.table import TIMELINE_ROWS_PER_TABLE

TARGETS = TIMELINE_ROWS_PER_TABLE * 2 + 37
BOMBED_ID = "00000000-0000-4000-8000-000000000001"


def details_output(tmp_path: Path, columns: int) -> list[str]:
    audit, signin = mass_revocation_exports(tmp_path, TARGETS, BOMBED_ID)
    return details_lines(audit, signin, columns)


def campaign_timeline(lines: list[str]) -> list[str]:
    """Return the lines of the campaign's timeline table: from its header to the
    line before its evidence list."""
    heading = next(
        index
        for index, line in enumerate(lines)
        if "revocation_campaign" in line
        and line.startswith(("CRITICAL", "HIGH", "MEDIUM", "LOW"))
    )
    header = next(
        index
        for index in range(heading, len(lines))
        if lines[index].startswith("Time ")
    )
    end = next(
        index
        for index in range(header, len(lines))
        if lines[index].startswith("Evidence:")
    )
    return lines[header:end]


def separator_columns(line: str) -> list[int]:
    return [index for index, character in enumerate(line) if character == "│"]


def test_long_timeline_reads_as_one_table(tmp_path: Path) -> None:
    table = campaign_timeline(details_output(tmp_path, 200))
    # One header and its rule, then one line per event: at 200 columns no cell
    # wraps, so a second header or an edge line between the parts would show here.
    assert table[0].split(" │ ")[0].strip() == "Time"
    assert set(table[1]) <= {"─", "┼"}
    rows = table[2:]
    assert len(rows) == TARGETS
    assert not any(line.startswith("Time ") for line in rows)
    revoked = {line.split(" │ ")[2].strip() for line in rows}
    assert revoked == {
        f"sessions of user{index}@contoso.example revoked" for index in range(TARGETS)
    }
    layout = separator_columns(table[0])
    assert len(layout) == 4
    assert all(separator_columns(line) == layout for line in rows)


@pytest.mark.parametrize(("columns", "separators"), [(120, 4), (100, 2), (70, 2)])
def test_narrow_layouts_keep_times_whole(
    tmp_path: Path, columns: int, separators: int
) -> None:
    table = campaign_timeline(details_output(tmp_path, columns))
    layout = separator_columns(table[0])
    rows = table[2:]
    times = [line.split(" │ ")[0].strip() for line in rows]
    whole = re.compile(r"2024-05-14[T ]\d\d:\d\d:\d\d(\.\d+)?Z")

    assert len(layout) == separators
    assert all(len(line) <= columns for line in table)
    # Wrapped detail lines keep the separators where the header has them.
    assert all(separator_columns(line) == layout for line in rows)
    # Every time is whole on the first line of its row, and nowhere else.
    assert [time for time in times if time] == [
        time for time in times if whole.fullmatch(time)
    ]
    assert len([time for time in times if time]) == TARGETS


def test_narrowest_layout_names_origin_in_detail(tmp_path: Path) -> None:
    lines = details_output(tmp_path, 70)
    timelines = [line for line in lines if line.count(" │ ") == 2]
    # Detail cells wrap at spaces, so joining them with spaces restores the text.
    details = " ".join(line.split(" │ ")[2].strip() for line in timelines)

    assert not any(line.startswith("Time ") and " IP " in line for line in lines)
    assert "declined the authentication (from 203.0.113.5)" in details


def test_too_narrow_folds_every_column(tmp_path: Path) -> None:
    table = campaign_timeline(details_output(tmp_path, 56))
    layout = separator_columns(table[0])
    first_cells = [line.split(" │ ")[0] for line in table[2:]]

    assert all(len(line) <= 56 for line in table)
    assert all(separator_columns(line) == layout for line in table[2:])
    # A time that folds goes on below; only its first line starts with the year.
    assert sum(1 for cell in first_cells if cell.startswith("2024-")) == TARGETS


def test_fold_widths_fit_and_stay_within_natural() -> None:
    natural = {"Time": 28, "Event": 22, "Detail": 90, "IP": 15, "Country": 7}
    widths = fold_widths(natural, 40, compact=True)
    # A compact table of five columns spends 12 cells on separators and padding.
    assert sum(widths.values()) == 40 - 12
    assert all(1 <= widths[name] <= natural[name] for name in natural)
    roomy = fold_widths(natural, 500, compact=True)
    assert roomy == natural


def test_no_table_holds_the_whole_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []

    class CountingTable(table_module.Table):
        def add_row(self, *cells: object, **options: object) -> None:
            if not self.rows:
                sizes.append(0)
            sizes[-1] += 1
            super().add_row(*cells, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(table_module, "Table", CountingTable)
    lines = details_output(tmp_path, 200)
    assert len(campaign_timeline(lines)) == TARGETS + 2
    assert max(sizes) == TIMELINE_ROWS_PER_TABLE


SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"


def sample_timeline_columns(columns: int) -> list[tuple[list[str], int]]:
    """Return each --details timeline's column names and Detail width for the
    sample logs at ``columns`` cells."""
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "-q",
            "--fail-on",
            "none",
            "--details",
            "--audit",
            str(SAMPLES / "audit.json"),
            "--signin",
            str(SAMPLES / "signin.json"),
        ],
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    timelines = []
    for index, line in enumerate(lines[:-1]):
        if not (line.startswith("Time ") and " │ Detail" in line):
            continue
        # The rule under the header: one run of "─" per column, joined by "┼", with
        # one cell of padding on each side of a separator and none at the edges.
        pieces = lines[index + 1].split("┼")
        names = [cell.strip() for cell in line.split("│")]
        position = names.index("Detail")
        padding = 1 if position == len(pieces) - 1 else 2
        timelines.append((names, len(pieces[position]) - padding))
    assert timelines, result.stdout
    return timelines


def test_detail_never_narrower_than_at_80() -> None:
    at_80 = min(width for _, width in sample_timeline_columns(80))
    for columns in (90, 100, 110, 120, 140, 160, 200):
        widths = [width for _, width in sample_timeline_columns(columns)]
        assert min(widths) >= at_80, (columns, widths, at_80)


@pytest.mark.parametrize("columns", [100, 120, 160, 200])
def test_origin_columns_leave_detail_room(columns: int) -> None:
    minimum = table_module.ORIGIN_COLUMNS_DETAIL_MINIMUM_WIDTH
    for names, width in sample_timeline_columns(columns):
        if "IP" in names:
            assert width >= minimum, (columns, names, width)
