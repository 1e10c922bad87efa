"""Hostile log values in the ``csv`` output: no formula, no control character."""

from __future__ import annotations

import csv
import io

from hostile import PAYLOADS, RunFormat, assert_terminal_safe

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def test_csv_stdout_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("csv")

    assert to_stdout.exit_code == 0
    assert_terminal_safe(to_stdout.stdout, "stdout")


def test_csv_file_equals_stdout(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("csv")

    assert to_file.stdout == b""
    assert to_file.file == to_stdout.stdout


def test_csv_stderr_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("csv")

    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert_terminal_safe(to_file.stderr, "stderr")


def test_csv_no_cell_starts_a_formula(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("csv")
    rows = read_rows(to_stdout.stdout)

    assert len(rows) == len(PAYLOADS)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (column, cell)
            assert not cell.lstrip().startswith(FORMULA_STARTS), (column, cell)


def test_csv_neutralised_formulas_stay_readable(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("csv")
    rows = read_rows(to_stdout.stdout)

    names = {row["target_display_name"] for row in rows}
    assert '\'=HYPERLINK("http://x","y")' in names
    assert "'+1+1" in names
    assert "'-2+3" in names
    assert "'@SUM(A1)" in names


def test_csv_rows_stay_rows(hostile_outputs: RunFormat) -> None:
    # The Markdown payload contains a line feed, which stays inside its quoted cell.
    to_stdout, _ = hostile_outputs("csv")
    rows = read_rows(to_stdout.stdout)

    names = {row["target_display_name"] for row in rows}
    assert "| a | b |\n# heading" in names
    assert all(len(row) == len(rows[0]) for row in rows)


def test_csv_shows_controls_as_escapes(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("csv")
    rows = read_rows(to_stdout.stdout)

    names = {row["target_display_name"] for row in rows}
    assert "\\x1b[31mRED\\x1b[0m" in names
    assert "\\u202egnp.exe\\u202c" in names
    assert "benign\\x0doverwritten" in names


def test_csv_marks_every_row_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("csv")
    rows = read_rows(to_stdout.stdout)

    assert {row["partial_input"] for row in rows} == {"true"}
