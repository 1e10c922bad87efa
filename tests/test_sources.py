"""Tests for finding input files and reading their bytes as text."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from h056hunt.errors import InputError, UsageError
from h056hunt.sources import (
    PATHS_NAMED,
    decode_text,
    expand_inputs,
    glob_reaches,
    name_paths,
    read_bytes,
)

RECORD = b'{"value": [{"id": "a"}]}\n'


def test_gzip_detected_with_json_name(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    path.write_bytes(gzip.compress(RECORD))

    assert read_bytes(path, "signins.json") == RECORD


def test_plain_file_named_gz(tmp_path: Path) -> None:
    path = tmp_path / "signins.json.gz"
    path.write_bytes(RECORD)

    assert read_bytes(path, "signins.json.gz") == RECORD


def test_decompression_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b" " * 10_000))

    with pytest.raises(InputError) as caught:
        read_bytes(path, "bomb.json.gz", max_decompressed_bytes=1_000)

    assert caught.value.reason == "decompression_limit"
    assert caught.value.path == "bomb.json.gz"


def test_decompression_at_limit_allowed(tmp_path: Path) -> None:
    path = tmp_path / "exact.json.gz"
    path.write_bytes(gzip.compress(b" " * 1_000))

    assert len(read_bytes(path, "exact", max_decompressed_bytes=1_000)) == 1_000


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(RECORD * 100)[:30])

    with pytest.raises(InputError) as caught:
        read_bytes(path, "cut.json.gz")

    assert caught.value.reason == "corrupt_gzip"


def test_utf16_little_endian_bom() -> None:
    data = b"\xff\xfe" + '{"name": "Zoë"}'.encode("utf-16-le")

    assert decode_text(data, "export.json") == '{"name": "Zoë"}'


def test_utf16_big_endian_bom() -> None:
    data = b"\xfe\xff" + '{"name": "Zoë"}'.encode("utf-16-be")

    assert decode_text(data, "export.json") == '{"name": "Zoë"}'


def test_utf8_bom_removed() -> None:
    assert decode_text(b'\xef\xbb\xbf{"a": 1}', "export.json") == '{"a": 1}'


def test_invalid_utf8_strict() -> None:
    with pytest.raises(InputError) as caught:
        decode_text(b'{"a": 1}\n{"b": "\xff"}\n', "export.json", strict=True)

    assert caught.value.reason == "invalid_encoding"
    assert caught.value.line == 2


def test_invalid_utf8_lenient(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="h056hunt"):
        text = decode_text(b'{"b": "\xff"}', "export.json", strict=False)

    assert text == '{"b": "\ufffd"}'
    assert "export.json, line 1" in caplog.text


def test_nul_byte_strict() -> None:
    with pytest.raises(InputError) as caught:
        decode_text(b'{"a": 1}\n{"b": "\x00"}', "export.json", strict=True)

    assert caught.value.reason == "nul_byte"
    assert caught.value.line == 2


def test_nul_byte_lenient() -> None:
    assert decode_text(b'{"b": "x\x00"}', "export.json", strict=False) == '{"b": "x"}'


def test_folder_walked_recursively(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "top.json").write_text("{}")
    (tmp_path / "a" / "b" / "deep.json").write_text("{}")
    (tmp_path / "a" / ".hidden.json").write_text("{}")

    expansion = expand_inputs([str(tmp_path)])

    names = [item.path.name for item in expansion.files]
    assert names == ["deep.json", "top.json"]
    assert expansion.unreadable == []


def test_glob_pattern(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "one.json").write_text("{}")
    (tmp_path / "two.csv").write_text("a\n")
    (tmp_path / "sub" / "three.json").write_text("{}")

    expansion = expand_inputs([str(tmp_path / "**" / "*.json")])

    assert sorted(item.path.name for item in expansion.files) == [
        "one.json",
        "three.json",
    ]


def test_same_file_listed_once(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text("{}")

    expansion = expand_inputs([str(path), str(tmp_path / "*.json"), str(tmp_path)])

    assert len(expansion.files) == 1


def test_symlink_loop_reported(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.json").write_text("{}")
    os.symlink(tmp_path / "logs", tmp_path / "logs" / "again")

    expansion = expand_inputs([str(tmp_path / "logs")])

    assert [item.path.name for item in expansion.files] == ["a.json"]
    assert len(expansion.unreadable) == 1
    assert "symlink loop" in expansion.unreadable[0][1]


def test_glob_through_symlink_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.json").write_text("{}")
    os.symlink(tmp_path / "logs", tmp_path / "logs" / "again")

    expansion = expand_inputs([str(tmp_path / "logs" / "**" / "*.json")])

    assert [item.path.name for item in expansion.files] == ["a.json"]


def test_broken_symlink_reported(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.json", tmp_path / "link.json")

    expansion = expand_inputs([str(tmp_path)])

    assert expansion.files == []
    assert len(expansion.unreadable) == 1


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        expand_inputs([str(tmp_path / "missing.json")])

    assert "missing.json" in str(caught.value)


def test_empty_glob_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        expand_inputs([str(tmp_path / "*.json")])


def test_name_paths_counts_the_rest() -> None:
    paths = [f"file{index}.json" for index in range(PATHS_NAMED + 2)]

    assert name_paths(paths[:2]) == "file0.json, file1.json"
    assert name_paths(paths).startswith("file0.json, file1.json")
    assert name_paths(paths).endswith(f"file{PATHS_NAMED - 1}.json and 2 more")


# A glob pattern and a file, both below one folder, and whether expanding the
# pattern reads the file.
GLOB_READS = [
    ("*", "findings.jsonl", True),
    ("*.json", "findings.jsonl", False),
    ("*", "sub/findings.jsonl", True),
    ("*/*.jsonl", "sub/findings.jsonl", True),
    ("**/*.jsonl", "sub/deep/findings.jsonl", True),
    ("**/*.jsonl", "findings.jsonl", True),
    ("**", "sub/deep/findings.jsonl", True),
    ("*", ".findings.jsonl", False),
    (".*", ".findings.jsonl", True),
    ("*", "sub/.hidden/findings.jsonl", False),
    ("**/*.jsonl", ".hidden/findings.jsonl", False),
    ("s[u]b/*", "sub/findings.jsonl", True),
    ("other/*", "sub/findings.jsonl", False),
]


@pytest.mark.parametrize(("pattern", "name", "read"), GLOB_READS)
def test_glob_reaches_matches_expansion(
    tmp_path: Path, pattern: str, name: str, read: bool
) -> None:
    # Files besides the checked one, so that every expansion finds a file.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "export.jsonl").write_bytes(RECORD)
    (tmp_path / "export.json").write_bytes(RECORD)
    path = tmp_path / name
    glob_input = str(tmp_path / pattern)

    # Checked before the file exists, as --output is, and against the
    # expansion once it does.
    reached_before = glob_reaches(glob_input, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(RECORD)
    expanded = {item.path for item in expand_inputs([glob_input]).files}

    assert reached_before is read
    assert glob_reaches(glob_input, path) is read
    assert (path.resolve() in expanded) is read


def test_glob_reaches_folder_contents(tmp_path: Path) -> None:
    folder = tmp_path / "lake"

    assert glob_reaches(str(tmp_path / "*" / "*.json"), folder, contents=True)
    assert not glob_reaches(str(tmp_path / "*" / "*.json"), folder)
    assert not glob_reaches(str(tmp_path / "*.json"), folder, contents=True)
    assert not glob_reaches(str(tmp_path), folder, contents=True)
