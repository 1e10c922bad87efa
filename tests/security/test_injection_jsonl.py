"""Hostile log values in the ``jsonl`` output: escaped bytes, exact values."""

from __future__ import annotations

from hostile import (
    LOADED_VALUES,
    PAYLOADS,
    RunFormat,
    all_strings,
    assert_json_lines,
    assert_terminal_safe,
)


def test_jsonl_stdout_is_ascii_json(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("jsonl")

    assert to_stdout.exit_code == 0
    assert len(assert_json_lines(to_stdout.stdout)) == len(PAYLOADS)


def test_jsonl_file_equals_stdout(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("jsonl")

    assert to_file.stdout == b""
    assert_json_lines(to_file.file)
    assert to_file.file == to_stdout.stdout


def test_jsonl_stderr_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("jsonl")

    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert_terminal_safe(to_file.stderr, "stderr")


def test_jsonl_keeps_exact_values(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("jsonl")
    records = assert_json_lines(to_stdout.stdout)

    agents = {agent for record in records for agent in record["user_agents"]}
    names = {record["target_display_name"] for record in records}
    assert agents == LOADED_VALUES
    assert names == LOADED_VALUES


def test_jsonl_keeps_exact_actor_labels(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("jsonl")
    records = assert_json_lines(to_stdout.stdout)

    actors = {record["actor"]["display_name"] for record in records}
    assert actors == LOADED_VALUES


def test_jsonl_timeline_keeps_payloads(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("jsonl")
    records = assert_json_lines(to_stdout.stdout)

    strings = set()
    for record in records:
        strings.update(all_strings(record["timeline"]))
    for payload in LOADED_VALUES:
        assert any(payload in text for text in strings), repr(payload)


def test_jsonl_marks_every_finding_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("jsonl")
    records = assert_json_lines(to_stdout.stdout)

    assert all(record["partial_input"] is True for record in records)
