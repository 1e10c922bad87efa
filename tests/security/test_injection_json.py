"""Hostile log values in the ``json`` report: escaped bytes, exact values."""

from __future__ import annotations

from pathlib import Path

from hostile import (
    LOADED_VALUES,
    NEAR_MISS_ACTIVITY,
    HostileExports,
    RunFormat,
    all_strings,
    assert_json_lines,
    assert_terminal_safe,
)


def test_json_stdout_is_one_ascii_document(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("json")

    assert to_stdout.exit_code == 0
    assert len(assert_json_lines(to_stdout.stdout)) == 1


def test_json_file_equals_stdout(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("json")

    assert to_file.stdout == b""
    assert to_file.file == to_stdout.stdout


def test_json_stderr_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("json")

    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert_terminal_safe(to_file.stderr, "stderr")


def test_json_keeps_exact_values(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("json")
    (report,) = assert_json_lines(to_stdout.stdout)

    strings = set(all_strings(report))
    for payload in LOADED_VALUES:
        assert payload in strings, repr(payload)


def test_json_keeps_exact_file_names(
    hostile_outputs: RunFormat, hostile_exports: HostileExports
) -> None:
    to_stdout, _ = hostile_outputs("json")
    (report,) = assert_json_lines(to_stdout.stdout)

    names = {Path(item["path"]).name for item in report["run"]["files"]}
    assert names == {
        hostile_exports.audit.name,
        hostile_exports.signin.name,
        hostile_exports.broken.name,
    }


def test_json_keeps_exact_near_miss(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("json")
    (report,) = assert_json_lines(to_stdout.stdout)

    unmatched = report["run"]["detection"]["unmatched_revocation_activities"]
    assert unmatched == [NEAR_MISS_ACTIVITY]


def test_json_says_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("json")
    (report,) = assert_json_lines(to_stdout.stdout)

    assert report["run"]["partial"] is True
    assert all(finding["partial_input"] for finding in report["findings"])
