"""Exact copies of a record dropped while a file is read give the same report.

A sink drops the rows that repeat an earlier row of its file once it contains
``COMPACT_ROWS`` rows. Each test runs the same hunt twice: with that threshold
above the file's size, so nothing is dropped early, and far below it. It compares
the JSON reports and the warnings byte for byte. They cover duplicate counts,
skipped copies with bad times, conflicts between copies that differ, and findings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runs import SAMPLES, hunt_files, problem_lines
from h056hunt.loaders import copies


def _records(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["value"])


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def copied_exports(tmp_path: Path) -> tuple[Path, Path]:
    """Write the sample exports with every record three times, in three orders,
    and copies that differ, lack a time, have an unreadable time or lack an id."""
    signins = _records(SAMPLES / "signin.json")
    audits = _records(SAMPLES / "audit.json")
    rows = signins + signins[::-1] + signins
    changed = dict(signins[5], ipAddress="198.51.100.7")
    unreadable = dict(signins[7], id="copy-with-bad-time", createdDateTime="not a time")
    missing = {
        key: value for key, value in signins[8].items() if key != "createdDateTime"
    }
    missing["id"] = "copy-without-time"
    without_id = {key: value for key, value in signins[9].items() if key != "id"}
    # The first look for copies, at the 16th row in the tests, finds these.
    rows[4:4] = [unreadable, missing, unreadable, without_id, without_id]
    rows += [changed, unreadable, missing]
    audit_rows = audits + audits[::-1] + audits
    return (
        _write(tmp_path / "audit.ndjson", audit_rows),
        _write(tmp_path / "signin.ndjson", rows),
    )


@pytest.mark.parametrize(
    "extra", [(), ("--no-fast-path",), ("--lenient",)], ids=["fast", "plain", "lenient"]
)
def test_dropped_copies_same_report(
    copied_exports: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
) -> None:
    audit, signin = copied_exports
    whole = hunt_files(audit, signin, "--format", "json", *extra)
    dropped_counts: list[int] = []
    find = copies.first_copies

    def counting(*arguments: Any) -> np.ndarray | None:
        firsts = find(*arguments)
        if firsts is not None:
            dropped_counts.append(int((firsts != np.arange(len(firsts))).sum()))
        return firsts

    monkeypatch.setattr(copies, "COMPACT_ROWS", 16)
    monkeypatch.setattr(copies, "first_copies", counting)
    dropped = hunt_files(audit, signin, "--format", "json", *extra)

    assert sum(dropped_counts) > 600
    assert dropped.exit_code == whole.exit_code
    assert problem_lines(dropped.stderr) == problem_lines(whole.stderr)
    assert dropped.stdout == whole.stdout
    files = {item["path"]: item for item in json.loads(dropped.stdout)["run"]["files"]}
    assert files[str(signin)]["duplicates"] > 1200
    assert files[str(audit)]["duplicates"] > 40


def test_copies_with_bad_time_each_warned(
    copied_exports: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, signin = copied_exports
    monkeypatch.setattr(copies, "COMPACT_ROWS", 16)

    result = hunt_files(audit, signin, "--format", "json")

    warnings = [line for line in problem_lines(result.stderr) if "'not a time'" in line]
    lines = {warning.split(", line ")[1].split(":")[0] for warning in warnings}
    assert len(warnings) == 3
    assert len(lines) == 3


def _reordered(record: dict[str, Any]) -> dict[str, Any]:
    return dict(reversed(list(record.items())))


def _with_extra_field(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "unknownField": {"values": [1, 2]}}


@pytest.mark.parametrize(
    "variant", [_reordered, _with_extra_field], ids=["field order", "extra field"]
)
def test_second_pass_copies_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: Any
) -> None:
    """Copies dropped by the second pass's sinks count as duplicates."""
    signins = _records(SAMPLES / "signin.json")
    audits = _records(SAMPLES / "audit.json")
    rows = signins + [variant(record) for record in signins] + signins
    audit = _write(tmp_path / "audit.ndjson", audits)
    signin = _write(tmp_path / "signin.ndjson", rows)
    whole = hunt_files(audit, signin, "--format", "json")

    monkeypatch.setattr(copies, "COMPACT_ROWS", 8)
    dropped = hunt_files(audit, signin, "--format", "json")

    assert dropped.exit_code == whole.exit_code
    assert problem_lines(dropped.stderr) == problem_lines(whole.stderr)
    assert dropped.stdout == whole.stdout
    files = {item["path"]: item for item in json.loads(dropped.stdout)["run"]["files"]}
    item = files[str(signin)]
    accounted = (
        item["loaded"]["signin"]
        + item["duplicates"]
        + item["prefiltered"]
        + item["skipped"]
    )
    assert accounted == len(rows)


def test_copies_without_steps_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signin = dict(_records(SAMPLES / "signin.json")[0])
    signin.pop("authenticationDetails", None)
    audit = _write(tmp_path / "audit.ndjson", _records(SAMPLES / "audit.json"))
    signins = _write(tmp_path / "signin.ndjson", [signin] * 40)
    monkeypatch.setattr(copies, "COMPACT_ROWS", 16)

    # The plain path decodes every record, so each copy reaches the sink.
    result = hunt_files(audit, signins, "--format", "json", "--no-fast-path")

    assert result.exit_code == 0, result.stderr
    files = {item["path"]: item for item in json.loads(result.stdout)["run"]["files"]}
    assert files[str(signins)]["duplicates"] == 39
