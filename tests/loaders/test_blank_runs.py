"""Runs of empty lines: read in bulk, with every later line keeping its number.

A small gzip file can expand to a gigabyte of line feeds. Read one line at a time,
that took hours; the reader now passes over long runs in bulk.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.streams import BLANK_RUN_LINES, iter_text_lines, open_input

DENIED = "MFA denied; user declined the authentication"


def signin(number: int) -> str:
    record = {
        "id": f"5a000000-0000-4000-8000-{number:012d}",
        "createdDateTime": f"2024-05-14T09:{number:02d}:10Z",
        "userId": "00000000-0000-4000-8000-000000000001",
        "userPrincipalName": "pat@contoso.example",
        "ipAddress": "203.0.113.5",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
    }
    return json.dumps(record)


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    with open_input(path, path.name) as stream:
        return [
            (line.number, line.text or "")
            for line in iter_text_lines(stream, path.name, strict=True)
            if line.text and line.text.strip()
        ]


@pytest.mark.parametrize("ending", ["\n", "\r\n", " \n", "\t \r\n"])
@pytest.mark.parametrize("blank", [3, BLANK_RUN_LINES - 1, BLANK_RUN_LINES * 3 + 5])
def test_lines_after_blank_run_keep_numbers(
    tmp_path: Path, ending: str, blank: int
) -> None:
    path = tmp_path / "signins.ndjson"
    text = signin(1) + ending + ending * blank + signin(2) + ending + signin(3)
    path.write_bytes(text.encode())

    found = numbered_lines(path)

    assert [number for number, _ in found] == [1, blank + 2, blank + 3]
    assert [json.loads(line)["id"][-1] for _, line in found] == ["1", "2", "3"]


def test_lone_carriage_return_ends_bulk_run(tmp_path: Path) -> None:
    path = tmp_path / "signins.ndjson"
    path.write_bytes((signin(1) + "\r\n" * 5 + "\r" + signin(2) + "\n").encode())

    found = numbered_lines(path)

    assert [number for number, _ in found] == [1, 6]
    assert found[1][1].startswith("\r{")


def test_long_blank_run_yields_one_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a\n" + b"\n" * (BLANK_RUN_LINES * 2) + b"b\n")

    with open_input(path, path.name) as stream:
        lines = list(iter_text_lines(stream, path.name, strict=True))

    assert [(line.number, line.text) for line in lines] == [
        (1, "a\n"),
        (2, "\n"),
        (BLANK_RUN_LINES * 2 + 2, "b\n"),
    ]
    assert lines[1].size == BLANK_RUN_LINES * 2


def test_short_blank_run_yields_each_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a\n\n\n\nb\n")

    with open_input(path, path.name) as stream:
        lines = list(iter_text_lines(stream, path.name, strict=True))

    assert [(line.number, line.text) for line in lines] == [
        (1, "a\n"),
        (2, "\n"),
        (3, "\n"),
        (4, "\n"),
        (5, "b\n"),
    ]


def test_line_feed_bomb_stops_at_limit_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.ndjson.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        for _ in range(32):
            stream.write(b"\n" * (8 * 1024 * 1024))

    result = CliRunner().invoke(
        main,
        ["hunt", "--signin", str(bomb), "--max-decompressed-size", "64M"],
    )

    assert result.exit_code == 2
    assert "expands past the limit" in result.stderr


def test_evidence_line_after_long_blank_run(tmp_path: Path) -> None:
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"value": []}), encoding="utf-8")
    path = tmp_path / "signins.ndjson"
    blank = BLANK_RUN_LINES + 10
    lines = [signin(1), *[""] * blank, *(signin(number) for number in range(2, 7))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = CliRunner().invoke(
        main,
        ["hunt", "--format", "jsonl", "--fail-on", "none", "--min-denials", "3"]
        + ["--signin", str(path), "--no-fast-path"],
    )
    bursts = [json.loads(line) for line in result.stdout.splitlines()]
    evidence = [item["line"] for item in bursts[0]["evidence"]]

    assert result.exit_code == 0, result.stderr
    assert evidence == [1, *range(blank + 2, blank + 7)]
