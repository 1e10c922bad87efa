"""Hostile log values in the ``timesketch`` output: escaped bytes, exact values."""

from __future__ import annotations

from hostile import (
    LOADED_VALUES,
    RunFormat,
    all_strings,
    assert_json_lines,
    assert_terminal_safe,
)


def test_timesketch_stdout_is_ascii_json(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("timesketch")

    assert to_stdout.exit_code == 0
    assert assert_json_lines(to_stdout.stdout)


def test_timesketch_file_equals_stdout(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("timesketch")

    assert to_file.stdout == b""
    assert to_file.file == to_stdout.stdout


def test_timesketch_stderr_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("timesketch")

    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert_terminal_safe(to_file.stderr, "stderr")


def test_timesketch_messages_keep_payloads(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("timesketch")
    events = assert_json_lines(to_stdout.stdout)

    strings = set()
    for event in events:
        strings.update(all_strings(event))
    for payload in LOADED_VALUES:
        assert any(payload in text for text in strings), repr(payload)


def test_timesketch_marks_every_event_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("timesketch")
    events = assert_json_lines(to_stdout.stdout)

    assert all(event["partial_input"] is True for event in events)
