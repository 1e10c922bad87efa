"""Tests for the log lines of the fast path's second pass, which may run in rounds."""

from __future__ import annotations

import logging
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from cli_runs import SAMPLE_INPUTS as SAMPLE_HUNT_INPUTS
from cli_runs import SAMPLES
from h056hunt.cli import main
from h056hunt.detect.chains import DetectionParams, detect_all
from h056hunt.hunt import context_keys, prepare
from h056hunt.load import load_logs
from h056hunt.loaders import fastpath

SAMPLE_INPUTS = [*SAMPLE_HUNT_INPUTS, "--fail-on", "none", "--format", "jsonl"]
ROUND_LINE = re.compile(r"second pass round (\d+): read (\d+) pre-filtered records?")


def _second_pass_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "second pass" in line]


def _assert_one_round(stderr: str) -> None:
    lines = _second_pass_lines(stderr)
    rounds = [ROUND_LINE.search(line) for line in lines]
    numbered = [match for match in rounds if match is not None]

    assert Counter(lines).most_common(1)[0][1] == 1, lines
    assert len(numbered) == 1, lines
    assert numbered[0].group(1) == "1"
    assert int(numbered[0].group(2)) > 0
    assert "h056: INFO: second pass round 1: read " in stderr
    assert "second pass: done after 1 round" in stderr


def test_debug_log_names_each_round_once() -> None:
    result = CliRunner().invoke(main, [*SAMPLE_INPUTS, "-vv"])

    assert result.exit_code == 0, result.output
    _assert_one_round(result.stderr)


def test_info_log_has_one_second_pass_line() -> None:
    result = CliRunner().invoke(main, [*SAMPLE_INPUTS, "-v"])

    assert result.exit_code == 0, result.output
    assert len(_second_pass_lines(result.stderr)) == 1
    assert "done after" not in result.stderr


def test_workers_log_each_round_once(
    small_fast_path_units: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scan and second pass both split among worker processes.
    monkeypatch.setattr(fastpath, "CONTEXT_PARALLEL_MIN_BYTES", 0)

    result = CliRunner().invoke(main, [*SAMPLE_INPUTS, "-vv"])

    assert result.exit_code == 0, result.output
    assert "second pass reads" in result.stderr
    _assert_one_round(result.stderr)


def test_no_match_logs_nothing_read() -> None:
    result = CliRunner().invoke(
        main,
        ["hunt", "--audit", str(SAMPLES / "audit.json"), "-vv", "--fail-on", "none"],
    )

    assert result.exit_code == 0, result.output
    assert _second_pass_lines(result.stderr) == [
        "h056: DEBUG: second pass: nothing to read, because the matches name no "
        "object id"
    ]


def test_later_round_counts_new_ids(caplog: pytest.LogCaptureFixture) -> None:
    data = load_logs([str(SAMPLES / "audit.json")], [str(SAMPLES / "signin.json")])
    params = DetectionParams()
    inputs = prepare(data, params)
    matches = detect_all(inputs.revocations, inputs.prompts, params)
    ids = sorted(key for key in context_keys(matches) if not key.startswith("upn:"))
    first = set(ids[:3])
    assert len(ids) > len(first)

    with caplog.at_level(logging.DEBUG, logger="h056hunt"):
        first_round_read = data.read_context(first)
        data.read_context(set(ids))
        last_call_read = data.read_context(set(ids))

    messages = [r.getMessage() for r in caplog.records if "second pass" in r.message]
    assert first_round_read
    assert not last_call_read
    assert messages[0].startswith("second pass round 1: read ")
    assert "for 3 new object ids" in messages[0]
    assert messages[1].startswith("second pass round 2: read ")
    assert f"for {len(ids) - 3} new object ids" in messages[1]
    assert len(messages) == 3
    assert messages[2].startswith("second pass: done after 2 rounds")
