"""Input values of thousands of characters that errors, skip reasons and time
warnings quote.

A crafted CSV header can name a column with thousands of characters. An error that
quotes it cuts it on the terminal as warnings cut long values, with a cut mark that
no value can imitate. The JSON report keeps the whole message.
"""

from __future__ import annotations

import csv
import json
import logging
import pickle
import re
from pathlib import Path

import pytest
from hostile import run_cli

from h056hunt.errors import InputError, MessageText, quote_input
from h056hunt.log_format import SafeFormatter
from h056hunt.render.text import SHOWN_RUN, SHOWN_TEXT, shown_message
from h056hunt.timeparse import parse_time_column

SAMPLE_AUDIT = Path(__file__).resolve().parents[2] / "sample_logs" / "audit.json"
# Spaces inside the name keep it the portal's date column, whose header names are
# compared with their whitespace collapsed.
LONG_DATE_COLUMN = "Date" + " " * 3_000 + "(UTC)"
DAY_FIRST = "13/09/2026 10:00:00"
MONTH_FIRST = "09/14/2026 10:00:00"


def _write_conflicting_dates(folder: Path) -> Path:
    """Write a portal sign-in download whose dates are both day-first and
    month-first, under a date column name of 3,009 characters."""
    rows = [
        [LONG_DATE_COLUMN, "Request ID", "User ID", "Username", "Status"],
        [DAY_FIRST, "req-1", "u-1", "frank@contoso.example", "Success"],
        [MONTH_FIRST, "req-2", "u-1", "frank@contoso.example", "Success"],
    ]
    path = folder / "signins.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def _format_error(error: InputError) -> str:
    record = logging.makeLogRecord(
        {"msg": "%s", "args": (error,), "levelname": "ERROR"}
    )
    return SafeFormatter("%(message)s").format(record)


def _conflicting_error(column: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_time_column(
            [DAY_FIRST, MONTH_FIRST], path="exports/signins.csv", column=column
        )
    return caught.value


def test_date_order_error_cuts_column(tmp_path: Path) -> None:
    path = _write_conflicting_dates(tmp_path)

    result = run_cli(["hunt", "--signin", str(path)])

    assert result.exit_code == 2
    error_lines = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1
    line = error_lines[0]
    # Whole, the column name alone would be 3,009 characters.
    assert len(line) < SHOWN_TEXT + 300
    assert f"{path}: column 'Date " in line
    left_out = len(LONG_DATE_COLUMN) - SHOWN_TEXT
    assert f"'…[+{left_out:,} characters] has both day-first dates" in line
    assert f"such as {DAY_FIRST!r} and month-first dates such as {MONTH_FIRST!r}" in (
        line
    )


def test_lenient_json_keeps_whole_error(tmp_path: Path) -> None:
    path = _write_conflicting_dates(tmp_path)
    arguments = ["--audit", str(SAMPLE_AUDIT), "--signin", str(path)]

    result = run_cli(["hunt", *arguments, "--lenient", "--format", "json"])

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    errors = {entry["path"]: entry["error"] for entry in report["run"]["files"]}
    assert f"column {LONG_DATE_COLUMN!r} has both" in errors[str(path)]
    # The warning about the skipped file quotes the column cut.
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    skipped = [line for line in warnings if "conflicting" in line or "both" in line]
    assert len(skipped) == 1
    assert len(skipped[0]) < SHOWN_TEXT + 300
    assert "'…[+" in skipped[0]


def test_inspect_cuts_error_values(tmp_path: Path) -> None:
    path = _write_conflicting_dates(tmp_path)

    result = run_cli(["inspect", str(path)])

    joined = "".join(result.stdout.split())
    left_out = len(LONG_DATE_COLUMN) - SHOWN_TEXT
    assert f"'…[+{left_out:,}characters]hasbothday-firstdates" in joined
    assert len(result.stdout) < SHOWN_TEXT * 2


def test_imitated_mark_in_error_escaped() -> None:
    column = "TimeGenerated…[+5 characters]"

    printed = _format_error(_conflicting_error(column))

    assert "…[+" not in printed
    assert "'TimeGenerated\\u2026[+5 characters]'" in printed


def test_escape_text_in_error_not_cut() -> None:
    # The text \u2026 from the log, not the character, stays six characters with
    # its backslash doubled by repr(), so it never reads as an escaped mark.
    column = "TimeGenerated\\u2026[+5 characters]"

    printed = _format_error(_conflicting_error(column))

    assert "…[+" not in printed
    assert "'TimeGenerated\\\\u2026[+5 characters]'" in printed


def test_long_imitation_cut_once() -> None:
    column = "…[+9 characters]" + "x" * 5_000

    printed = _format_error(_conflicting_error(column))

    # The one raw mark is the real cut, after the closing quote.
    assert printed.count("…[+") == 1
    assert "'\\u2026[+9 characters]xxx" in printed
    assert re.search(r"x'…\[\+[0-9,]+ characters\] has both", printed)


def test_message_text_keeps_values_whole() -> None:
    value = "y" * 5_000
    message = quote_input("column {name} is empty", name=value)

    assert message == f"column {value!r} is empty"
    printed = shown_message(message)
    assert len(printed) < SHOWN_RUN + 100
    assert printed.endswith(f"'…[+{len(value) - SHOWN_RUN:,} characters] is empty")


def test_message_text_survives_pickle() -> None:
    # A pickled copy must still cut its values on the terminal.
    message = quote_input("column {name} is empty", name="z" * 5_000)

    copied = pickle.loads(pickle.dumps(message))

    assert isinstance(copied, MessageText)
    assert copied == message
    assert shown_message(copied) == shown_message(message)


def test_list_value_cut_as_text() -> None:
    bounds = list(range(2_000))

    printed = shown_message(quote_input("found {bounds}", bounds=bounds))

    assert printed.startswith("found [0, 1, 2")
    assert len(printed) < SHOWN_TEXT + 100
    assert "…[+" in printed


def test_inspect_json_keeps_whole_error(tmp_path: Path) -> None:
    path = _write_conflicting_dates(tmp_path)

    result = run_cli(["inspect", str(path), "--format", "json"])

    record = json.loads(result.stdout)
    assert f"column {LONG_DATE_COLUMN!r} has both" in record["error"]


LONG_TABLE = "T" * 5_000


def _write_long_table_type(folder: Path) -> Path:
    """Write a Log Analytics CSV whose one row names a table of 5,000 characters."""
    path = folder / "signins.csv"
    path.write_text(
        f"TimeGenerated [UTC],Type,Category\n2026-03-02T10:00:00Z,{LONG_TABLE},x\n",
        encoding="utf-8",
    )
    return path


def test_skip_reason_cut_in_error(tmp_path: Path) -> None:
    path = _write_long_table_type(tmp_path)

    result = run_cli(["hunt", "--signin", str(path)])

    assert result.exit_code == 2
    error_lines = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1
    line = error_lines[0]
    assert len(line) < SHOWN_RUN + 300
    head = "T" * SHOWN_RUN
    left_out = len(LONG_TABLE) - SHOWN_RUN
    assert line.endswith(f"Reason: unsupported table {head}…[+{left_out:,} characters]")


def test_skip_reason_cut_in_summary(tmp_path: Path) -> None:
    path = _write_long_table_type(tmp_path)
    arguments = ["--audit", str(SAMPLE_AUDIT), "--signin", str(path), "--lenient"]

    terminal = run_cli(["hunt", *arguments])
    report = run_cli(["hunt", *arguments, "--format", "json"])

    assert terminal.exit_code == 0, terminal.stderr
    assert LONG_TABLE not in "".join(terminal.stderr.split())
    left_out = len(LONG_TABLE) - SHOWN_RUN
    assert f"…[+{left_out:,} characters]" in terminal.stderr
    assert report.exit_code == 0, report.stderr
    files = json.loads(report.stdout)["run"]["files"]
    reasons = {reason for entry in files for reason in entry["skipped_by_reason"]}
    assert f"unsupported table {LONG_TABLE}" in reasons


def test_time_warning_cuts_column(tmp_path: Path) -> None:
    column = "TimeGenerated [" + "U" * 3_000 + "]"
    path = tmp_path / "signins.csv"
    path.write_text(
        f"{column},Type,Category\nnot a time,SigninLogs,x\n", encoding="utf-8"
    )
    arguments = ["--audit", str(SAMPLE_AUDIT), "--signin", str(path), "--lenient"]

    result = run_cli(["hunt", *arguments])

    warnings = [line for line in result.stderr.splitlines() if "not a time" in line]
    assert len(warnings) == 1
    assert len(warnings[0]) < SHOWN_RUN + 300
    assert "in TimeGenerated [UUU" in warnings[0]
    assert "…[+" in warnings[0]


def test_fast_path_reason_cuts_column(tmp_path: Path) -> None:
    # The CSV fast path reads files from 1 MiB on, and names a column that is not
    # in UTC when it leaves the file to the plain path.
    column = "CreatedDateTime [" + "U" * 3_000 + "]"
    row = "2026-03-02T10:00:00Z,SigninLogs,x,u@x.example\n"
    rows = row * (1_100_000 // len(row) + 1)
    path = tmp_path / "signins.csv"
    path.write_text(f"{column},Type,Category,UserPrincipalName\n{rows}", "utf-8")
    arguments = ["--audit", str(SAMPLE_AUDIT), "--signin", str(path), "-vv"]

    result = run_cli(["hunt", *arguments, "--fail-on", "none"])

    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    reasons = [line for line in lines if "plain path: column" in line]
    assert len(reasons) == 1
    assert "read by the plain path: column 'CreatedDateTime [UUU" in reasons[0]
    assert len(reasons[0]) < SHOWN_RUN + 300
    assert "'…[+" in reasons[0]


def test_skipped_file_note_before_hint(tmp_path: Path) -> None:
    path = _write_conflicting_dates(tmp_path)
    arguments = ["--audit", str(SAMPLE_AUDIT), "--signin", str(path), "--lenient"]

    result = run_cli(["hunt", *arguments])

    lines = result.stderr.splitlines()
    warnings = [index for index, line in enumerate(lines) if "both day-first" in line]
    assert len(warnings) == 1
    assert lines[warnings[0]].endswith("(file skipped)")
    hint = lines[warnings[0] + 1]
    assert hint.startswith("  hint: export the file again")
    assert not hint.endswith("(file skipped)")
