"""Hostile log values in the table output, the run summary and ``h056 inspect``.

Every check reads the bytes a real CLI run wrote: stdout, the ``--output`` file and
stderr, where the run summary and the log messages go.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile import (
    ARGUMENTS,
    PAYLOADS,
    HostileExports,
    RunFormat,
    assert_terminal_safe,
    hunt,
    run_cli,
    unsafe_characters,
)
from rich.cells import cell_len

from h056hunt.render.text import plain

# The sequences rich itself sends to a terminal: Select Graphic Rendition (colours
# and bold), hiding and showing the cursor, and the progress line's "move up, erase
# line". A pseudo-terminal also turns every line feed into CR LF.
RICH_SEQUENCES = re.compile(
    rb"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|(?:\x1b\[[0-9]*A)?\x1b\[2K|\r"
)


def test_table_stdout_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("table")

    assert to_stdout.exit_code == 0
    assert_terminal_safe(to_stdout.stdout, "stdout")


def test_table_file_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("table")

    assert to_file.exit_code == 0
    assert to_file.stdout == b""
    assert_terminal_safe(to_file.file, "the output file")
    assert to_file.file == to_stdout.stdout


def test_summary_on_stderr_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("table")

    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert_terminal_safe(to_file.stderr, "stderr")


def test_table_shows_markup_as_text(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("table")
    text = to_stdout.stdout.decode()

    assert PAYLOADS["rich_link"] in text
    assert PAYLOADS["rich_style"] in text


def test_table_shows_escape_sequences_as_escapes(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("table")
    text = to_stdout.stdout.decode()

    assert plain(PAYLOADS["csi_colour"]) in text
    assert plain(PAYLOADS["osc52_clipboard"]) in text
    assert "\\u202e" in text


def test_table_tells_escape_text_from_escapes(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("table")
    text = to_stdout.stdout.decode()

    # The text "\x1b" gets its backslash doubled; a real escape character does not.
    assert "\\\\x1b[31mLOOK\\\\u202e" in text
    assert "\\x1b[31mRED" in text
    assert "\\\\x1b[31mRED" not in text


def test_summary_shows_file_names_escaped(
    hostile_outputs: RunFormat, hostile_exports: HostileExports
) -> None:
    to_stdout, _ = hostile_outputs("table")
    errors = to_stdout.stderr.decode()

    assert plain(hostile_exports.audit.name) in errors
    assert plain(hostile_exports.broken.name) in errors
    assert "[red]" in errors


def test_summary_shows_near_miss_activity_escaped(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("table")
    errors = to_stdout.stderr.decode()

    assert "possible revocation, not matched: Revoke sessions of user \\x1b[31m" in (
        errors
    )
    assert "[bold]x[/]" in errors


@pytest.mark.parametrize("columns", [40, 60, 80, 100])
def test_narrow_table_holds_no_controls(
    hostile_exports: HostileExports, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    # Narrow layouts set column widths from the hostile values themselves.
    monkeypatch.setenv("COLUMNS", str(columns))

    result = hunt(hostile_exports, "table", "--details")

    assert result.exit_code == 0
    assert_terminal_safe(result.stdout, "stdout")
    lines = result.stdout.decode().splitlines()
    assert max(cell_len(line) for line in lines) <= columns


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_narrow_summary_holds_no_controls(
    hostile_exports: HostileExports, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    # The Input files table folds the hostile file names or lists them in blocks.
    monkeypatch.setenv("COLUMNS", str(columns))

    result = hunt(hostile_exports, "table")

    assert result.exit_code == 0
    assert_terminal_safe(result.stderr, "stderr")
    errors = result.stderr.decode()
    assert [line for line in errors.splitlines() if line != line.rstrip()] == []
    # Log warnings above the summary are one line each, so only the summary's
    # Input files section is measured.
    summary = errors[errors.index("Input files") : errors.index("Records:")]
    lines = summary.splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    for path in (hostile_exports.audit, hostile_exports.signin):
        assert any(plain(path.name) in line for line in lines), path.name
    assert "[red]" in summary


def test_table_says_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("table")

    assert b"PARTIAL INPUT" in to_stdout.stdout
    assert b"PARTIAL INPUT" in to_file.file
    assert b"PARTIAL INPUT" in to_stdout.stderr


def test_terminal_gets_only_rich_sequences(
    hostile_exports: HostileExports,
) -> None:
    # On a pseudo-terminal rich writes colours and a progress line: its own
    # sequences are the only ones allowed through.
    written = run_on_terminal(
        ["hunt", *hostile_exports.arguments(), "--details", "--format", "table"]
    )

    others = RICH_SEQUENCES.sub(b"", written)
    assert b"\x1b" not in others, others[others.index(b"\x1b") - 200 :][:400]
    assert_terminal_safe(others, "the terminal")
    assert b"\\x1b]52;" in written
    assert b"PARTIAL INPUT" in written


def test_inspect_escapes_file_names(hostile_exports: HostileExports) -> None:
    result = run_cli(["inspect", str(hostile_exports.audit.parent)])

    assert result.exit_code == 2
    assert_terminal_safe(result.stdout_bytes, "inspect stdout")
    assert_terminal_safe(result.stderr_bytes, "inspect stderr")
    assert plain(hostile_exports.signin.name) in result.stdout


def test_inspect_json_keeps_exact_names(hostile_exports: HostileExports) -> None:
    result = run_cli(["inspect", "--format", "json", str(hostile_exports.audit.parent)])

    assert unsafe_characters(result.stdout_bytes) == []
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {Path(record["path"]).name for record in records} == {
        hostile_exports.audit.name,
        hostile_exports.signin.name,
        hostile_exports.broken.name,
    }


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_usage_error_escapes_missing_path(name: str, tmp_path: Path) -> None:
    missing = tmp_path / f"missing{PAYLOADS[name]}.json"

    result = run_cli(["hunt", "--signin", str(missing), *ARGUMENTS])

    assert result.exit_code == 2
    assert_terminal_safe(result.stderr_bytes, "stderr")
    assert "no such file" in result.stderr


def run_on_terminal(arguments: list[str], timeout: float = 60.0) -> bytes:
    """Run the CLI with stdout and stderr on a pseudo-terminal; return its bytes."""
    main_fd, child_fd = pty.openpty()
    environment = {**os.environ, "COLUMNS": "200", "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("h056")), *arguments],
        stdin=subprocess.DEVNULL,
        stdout=child_fd,
        stderr=child_fd,
        env=environment,
    )
    os.close(child_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(main_fd)
    return b"".join(chunks)
