"""UTF-16 exports without a byte order mark are read as UTF-16.

Such a file was taken for UTF-8 and stopped with "NUL character in text", and the
hint to rerun with --lenient dropped the NUL bytes, which lost every non-ASCII
character's record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runs import SAMPLES, hunt_jsonl
from h056hunt.sources import utf16_without_mark


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('{"id":"a"}'.encode("utf-16-le"), "utf-16-le"),
        ('"Date (UTC)",x'.encode("utf-16-be"), "utf-16-be"),
        ('{"id":"a"}'.encode("utf-16"), None),
        (b'{"id":"a"}', None),
        (b"\x00\x00\x00\x00\x00\x00", None),
        (b"PK\x03\x04\x00\x00\x14\x00", None),
        ("\u5c71\u7530".encode("utf-16-le"), None),
    ],
)
def test_unmarked_utf16_detected(head: bytes, expected: str | None) -> None:
    assert utf16_without_mark(head) == expected


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_unmarked_utf16_export_hunts_like_utf8(tmp_path: Path, encoding: str) -> None:
    text = (SAMPLES / "signin.json").read_text(encoding="utf-8")
    # A non-ASCII display name, as an export from a Japanese tenant has.
    text = text.replace("Olga Ito", "\u5c71\u7530 Olga")
    utf8 = tmp_path / "utf8.json"
    utf8.write_text(text, encoding="utf-8")
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(text.encode(encoding))

    expected = hunt_jsonl(SAMPLES / "audit.json", utf8)
    result = hunt_jsonl(SAMPLES / "audit.json", utf16)

    def finding_ids(stdout: str) -> list[str]:
        return [json.loads(line)["finding_id"] for line in stdout.splitlines()]

    assert result.exit_code == 0, result.stderr
    assert finding_ids(result.stdout) == finding_ids(expected.stdout)
    assert len(finding_ids(result.stdout)) > 5
