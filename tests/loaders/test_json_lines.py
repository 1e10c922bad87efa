"""Lenient reads of newline-delimited JSON count every broken line as a skip.

Each test writes a small export, runs ``h056 hunt --lenient`` through the CLI on the
default fast path and with ``--no-fast-path``, and checks the file's accounting in the
JSON report: records seen equal records loaded plus skipped, one skip per broken line.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main

USER_ID = "11111111-1111-4111-8111-111111111111"
PATHS = [[], ["--no-fast-path"]]


def denied_signin(number: int) -> str:
    record = {
        "id": f"signin-{number}",
        "createdDateTime": f"2025-01-02T03:{number:02d}:00Z",
        "userId": USER_ID,
        "userPrincipalName": "bob@contoso.example",
        "status": {"errorCode": 500121, "additionalDetails": "MFA denied"},
    }
    return json.dumps(record)


def run_hunt(path: Path, *extra: str) -> Result:
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    arguments = ["hunt", "--signin", str(path), "--lenient", "--format", "json"]
    try:
        return CliRunner().invoke(main, [*arguments, "--fail-on", "none", *extra])
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def file_report(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    (report,) = json.loads(result.stdout)["run"]["files"]
    assert isinstance(report, dict)
    return report


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))


def good(number: int) -> str:
    return denied_signin(number)


def prefixed(number: int) -> str:
    return "xx" + denied_signin(number)


def cut_mid_string(number: int) -> str:
    text = denied_signin(number)
    return text[: text.index("bob@") + 3]


def with_byte_order_mark(number: int) -> str:
    return "\ufeff" + denied_signin(number)


CASES = {
    "prefixed lines 2 and 3": (
        [good(1), prefixed(2), prefixed(3), good(4)],
        [2, 3],
    ),
    "lines 2 to 4 '{bad'": (
        [good(1), "{bad", "{bad", "{bad", good(5)],
        [2, 3, 4],
    ),
    "lines 2 and 3 cut mid-string": (
        [good(1), cut_mid_string(2), cut_mid_string(3), good(4)],
        [2, 3],
    ),
    "byte order mark on lines 2 and 3": (
        [good(1), with_byte_order_mark(2), with_byte_order_mark(3)],
        [2, 3],
    ),
    "broken last two lines": (
        [good(1), good(2), "{bad", cut_mid_string(4)],
        [3, 4],
    ),
}


@pytest.mark.parametrize("path_option", PATHS, ids=["fast path", "plain path"])
@pytest.mark.parametrize("case", list(CASES))
def test_broken_lines_counted_one_each(
    tmp_path: Path, case: str, path_option: list[str]
) -> None:
    lines, broken = CASES[case]
    export = tmp_path / "signin.ndjson"
    write_lines(export, lines)

    result = run_hunt(export, *path_option)
    report = file_report(result)

    good_lines = len(lines) - len(broken)
    assert report["records_seen"] == len(lines)
    assert report["loaded"]["signin"] == good_lines
    assert report["duplicates"] == 0
    assert report["skipped"] == len(broken)
    assert report["skipped_by_reason"] == {"invalid JSON": len(broken)}
    assert report["partial"] is True
    for line in broken:
        assert f"line {line}, column" in result.stderr, result.stderr


@pytest.mark.parametrize("path_option", PATHS, ids=["fast path", "plain path"])
def test_broken_lines_same_on_both_paths(
    tmp_path: Path, path_option: list[str]
) -> None:
    export = tmp_path / "signin.ndjson"
    lines = [good(1), prefixed(2), "{bad", cut_mid_string(4), good(5), "xx", good(7)]
    write_lines(export, lines)

    report = file_report(run_hunt(export, *path_option))

    assert report["records_seen"] == 7
    assert report["loaded"]["signin"] == 3
    assert report["skipped_by_reason"] == {"invalid JSON": 4}


def test_pretty_printed_record_still_one_record(tmp_path: Path) -> None:
    export = tmp_path / "signin.ndjson"
    pretty = json.dumps(json.loads(denied_signin(2)), indent=2)
    export.write_text(good(1) + "\n" + pretty + "\n" + good(3) + "\n", "utf-8")

    report = file_report(run_hunt(export, "--no-fast-path"))

    assert report["records_seen"] == 3
    assert report["loaded"]["signin"] == 3
    assert report["skipped"] == 0
    assert report["partial"] is False
