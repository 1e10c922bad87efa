"""Tests for decoding files in chunks, against decoding them whole."""

from __future__ import annotations

import io
import itertools
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.decoding import iter_text_chunks, iter_text_chunks_after
from h056hunt.errors import InputError
from h056hunt.sources import decode_text
from h056hunt.streams import chunk_lines, text_lines

CHARACTERS = ["a", "\n", "\r\n", "é", "€", "😀", "\x00", '"', "{"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"]
BAD_BYTES = [0xFF, 0xD8, 0xDC, 0x0A, 0x80, 0xC3]
Outcome = tuple[object, ...]


def whole(data: bytes, strict: bool) -> Outcome:
    try:
        return ("text", decode_text(data, "export.json", strict=strict))
    except InputError as error:
        return ("error", str(error), error.reason, error.line)


def chunked(data: bytes, strict: bool, size: int) -> Outcome:
    stream = io.BytesIO(data)
    try:
        chunks = iter_text_chunks(
            stream, "export.json", strict=strict, chunk_bytes=size
        )
        return ("text", "".join(chunks))
    except InputError as error:
        return ("error", str(error), error.reason, error.line)


def random_bytes(rng: random.Random) -> bytes:
    """Encode random text, with or without a UTF-16 mark, then damage some bytes."""
    text = "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(0, 30)))
    encoding = rng.choice(ENCODINGS)
    data = bytearray(text.encode(encoding))
    if encoding == "utf-16-le" and rng.random() < 0.5:
        data[:0] = b"\xff\xfe"
    if encoding == "utf-16-be" and rng.random() < 0.5:
        data[:0] = b"\xfe\xff"
    for _ in range(rng.choice([0, 0, 1, 2])):
        if data:
            data[rng.randrange(len(data))] = rng.choice(BAD_BYTES)
    if data and rng.random() < 0.2:
        del data[rng.randrange(len(data)) :]
    return bytes(data)


def is_other_first_fault(expected: Outcome, found: Outcome) -> bool:
    """Tell whether both runs failed, each on one of a NUL and an invalid byte.

    The whole-text decoder reports an invalid byte anywhere before a NUL character;
    the chunked one reports whichever comes first in the file.
    """
    reasons = {expected[2], found[2]} if len(expected) > 2 < len(found) else set()
    return reasons == {"nul_byte", "invalid_encoding"}


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_decode_as_whole(seed: int) -> None:
    rng = random.Random(seed)
    logging.disable(logging.WARNING)
    try:
        for _ in range(250):
            data = random_bytes(rng)
            for strict in (True, False):
                expected = whole(data, strict)
                for size in (1, 2, 3, 5, 1_000):
                    found = chunked(data, strict, size)
                    if strict and is_other_first_fault(expected, found):
                        continue
                    assert found == expected, (data, strict, size)
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1}\n{"b": "\xff"}\n', "line 2: invalid UTF-8 byte at offset 16"),
        (b'\xef\xbb\xbf{"a": 1}\n\xff', "invalid UTF-8 byte at offset 9"),
        (
            '{"a": "😀"}\n'.encode("utf-16")[:-4] + b"\x00\xdc\n\x00",
            "invalid UTF-16 byte at offset",
        ),
        (b'{"a": 1}\n\n{"b": "\x00"}', "line 3: NUL character in text"),
    ],
    ids=["utf8", "utf8_after_mark", "utf16_lone_surrogate", "nul"],
)
def test_strict_faults_name_line_and_offset(data: bytes, message: str) -> None:
    expected = whole(data, True)

    for size in (1, 2, 4, 4096):
        found = chunked(data, True, size)
        assert found == expected
        assert message in str(found[1])


def test_lenient_warns_once_per_kind(caplog: pytest.LogCaptureFixture) -> None:
    data = b'{"a": "\xff"}\n{"b": "\x00"}\n{"c": "\xfe\x00"}\n'

    with caplog.at_level(logging.WARNING):
        text = "".join(
            iter_text_chunks(
                io.BytesIO(data), "export.json", strict=False, chunk_bytes=3
            )
        )

    messages = [record.getMessage() for record in caplog.records]
    assert text == decode_text(data, "export.json", strict=False)
    assert messages == [
        "export.json, line 1: invalid UTF-8 byte at offset 7; replaced with U+FFFD",
        "export.json, line 2: NUL characters removed",
    ]


def test_surrogate_pair_split_across_chunks() -> None:
    data = '["😀😀"]'.encode("utf-16")

    for size in range(1, 8):
        chunks = list(
            iter_text_chunks(
                io.BytesIO(data), "export.json", strict=True, chunk_bytes=size
            )
        )
        assert "".join(chunks) == '["😀😀"]'


@pytest.mark.parametrize("limit", [4, 9, 10, 11, 40, 1_000])
def test_chunk_lines_match_text_lines(limit: int) -> None:
    text = "short\r\n" + "x" * 10 + "\n\n" + "long line " * 5 + "\n" + "no end"

    expected = list(text_lines(text, limit, bytes_per_character=2))
    for size in (1, 2, 3, 8, 100):
        pieces = [text[start : start + size] for start in range(0, len(text), size)]
        found = list(chunk_lines(pieces, limit, bytes_per_character=2))
        assert found == expected, size


def signins(*record_ids: str) -> list[dict[str, object]]:
    return [
        {
            "id": record_id,
            "createdDateTime": f"2025-01-02T03:0{number}:00Z",
            "userId": "00000000-0000-4000-8000-000000000b0b",
            "status": {"errorCode": 500121},
        }
        for number, record_id in enumerate(record_ids)
    ]


def hunt_report(path: Path, *options: str) -> dict[str, object]:
    result = CliRunner().invoke(
        main,
        ["hunt", "--signin", str(path), "--format", "json", "--fail-on", "none"]
        + list(options),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    files = report["run"]["files"]
    assert len(files) == 1
    return dict(files[0])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-mark"])
@pytest.mark.parametrize("shape", ["page", "ndjson", "csv"])
def test_utf16_files_load_like_utf8(tmp_path: Path, encoding: str, shape: str) -> None:
    records = signins("S1", "S2", "S3")
    if shape == "page":
        text = json.dumps({"value": records}, indent=2)
    elif shape == "ndjson":
        text = "".join(json.dumps(record) + "\r\n" for record in records)
    else:
        header = "Date (UTC),Request ID,User ID,Status,Sign-in error code\n"
        rows = [
            f"{record['createdDateTime']},{record['id']},{record['userId']},"
            "Failure,500121\n"
            for record in records
        ]
        text = header + "".join(rows)
    plain = tmp_path / f"plain.{shape}"
    plain.write_text(text, encoding="utf-8")
    wide = tmp_path / f"wide.{shape}"
    if encoding == "utf-16":
        wide.write_bytes(text.encode("utf-16"))
    else:
        wide.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))

    expected = hunt_report(plain)
    found = hunt_report(wide)

    for key in ("shape", "records_seen", "loaded", "skipped_by_reason", "partial"):
        assert found[key] == expected[key], key
    assert found["records_seen"] == 3


def test_utf16_page_oversized_record_skipped(tmp_path: Path) -> None:
    records: list[object] = list(signins("S1", "S2"))
    records.insert(1, {"id": "huge", "pad": "A" * 5000})
    path = tmp_path / "page.json"
    path.write_bytes(json.dumps({"value": records}, indent=2).encode("utf-16"))

    found = hunt_report(path, "--lenient", "--max-record-size", "1K")

    assert found["records_seen"] == 3
    assert found["skipped_by_reason"] == {"record larger than the limit": 1}
    assert found["partial"] is True


def _decode_chunks(chunks: Iterator[str]) -> tuple[list[str], str | None]:
    """Return the text chunks read, and the error that stopped them, if any."""
    texts: list[str] = []
    try:
        texts.extend(chunks)
    except InputError as error:
        return texts, str(error)
    return texts, None


def _chunk_ends(texts: list[str], start: int = 0) -> list[int]:
    return list(itertools.accumulate(map(len, texts), initial=start))[1:]


@pytest.mark.parametrize("mark", [b"", b"\xef\xbb\xbf"], ids=["no mark", "mark"])
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_chunks_after_offset_match_whole_file(mark: bytes, strict: bool) -> None:
    lines = [f'{{"n": {number}, "v": "é{number}"}}\n'.encode() for number in range(40)]
    lines[25] = lines[25].replace("é".encode(), b"\xff")
    lines[31] = lines[31].replace(b'"v"', b'"\x00"')
    data = mark + b"".join(lines)
    line = 20
    offset = len(mark) + sum(map(len, lines[:line]))
    stream = io.BytesIO(data)
    stream.seek(offset)

    whole_texts, whole_error = _decode_chunks(
        iter_text_chunks(io.BytesIO(data), "x.json", strict=strict, chunk_bytes=64)
    )
    texts, error = _decode_chunks(
        iter_text_chunks_after(
            stream,
            "x.json",
            strict=strict,
            offset=offset,
            lines=line,
            has_utf8_mark=bool(mark),
            chunk_bytes=64,
        )
    )

    before = data[len(mark) : offset].decode()
    assert error == whole_error
    assert before + "".join(texts) == "".join(whole_texts)
    # Chunks end where the whole file's chunks end.
    whole_ends = [end for end in _chunk_ends(whole_texts) if end > len(before)]
    assert _chunk_ends(texts, len(before)) == whole_ends
    if strict:
        assert error is not None
        assert "x.json, line 26: invalid UTF-8 byte at offset" in error
