"""A file cut off in its last record stays on the fast path, with the plain path's
result.

An interrupted download leaves a last line that is part of a record, with no line
end. Each case cuts a simulated export inside a line past the middle of the file
and runs ``h056 hunt`` with and without ``--no-fast-path``. It compares the exit
code, the error and warning lines, the jsonl findings byte for byte and the json
run summary. The summary's loaded, pre-filtered and prompt counts are left out of the
comparison, because the fast path counts the records it does not decode as
pre-filtered in every file, cut off or not.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from cli_runs import assert_fast_same_as_plain, problem_lines
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")


def _simulate(folder: Path, signin_shape: str, *, compress: bool = False) -> Path:
    config = SimulationConfig(
        users=40,
        days=3,
        seed=31,
        signin_shape=signin_shape,
        audit_shape="graph-ndjson",
        gzip=compress,
    )
    return simulate(config, folder).audit_path


def _signin_path(folder: Path) -> Path:
    return next(folder.glob("signin.*"))


def _cut_text(data: bytes) -> bytes:
    """Cut ``data`` in the middle of the line that contains its byte at 70 %."""
    start = data.rfind(b"\n", 0, len(data) * 7 // 10) + 1
    end = data.index(b"\n", start)
    return data[: (start + end) // 2]


def _cut_signin(tmp_path: Path, signin_shape: str) -> tuple[Path, Path]:
    audit = _simulate(tmp_path, signin_shape)
    signin = _signin_path(tmp_path)
    cut = tmp_path / f"cut{signin.suffix}"
    cut.write_bytes(_cut_text(signin.read_bytes()))
    return audit, cut


@pytest.mark.parametrize("signin_shape", ["graph-ndjson", "graph-page"])
def test_cut_off_strict_same_error(tmp_path: Path, signin_shape: str) -> None:
    audit, cut = _cut_signin(tmp_path, signin_shape)

    result = assert_fast_same_as_plain(audit, cut, cut)

    assert result.exit_code == 2
    errors = problem_lines(result.stderr)
    assert any(f"ERROR: {cut}, line" in line for line in errors), errors
    assert any("complete records before the error" in line for line in errors)


@pytest.mark.parametrize("signin_shape", ["graph-ndjson", "graph-page"])
def test_cut_off_lenient_same_report(tmp_path: Path, signin_shape: str) -> None:
    audit, cut = _cut_signin(tmp_path, signin_shape)

    result = assert_fast_same_as_plain(audit, cut, cut, "--lenient")

    report = json.loads(result.stdout)
    item = next(file for file in report["run"]["files"] if file["path"] == str(cut))
    assert item["partial"] is True
    assert item["skipped_by_reason"] == {"invalid JSON": 1}
    assert report["run"]["partial"] is True
    assert any(f"WARNING: {cut}, line" in line for line in problem_lines(result.stderr))


def test_cut_off_in_whole_gzip_stays_fast(tmp_path: Path) -> None:
    audit, cut = _cut_signin(tmp_path, "graph-ndjson")
    packed = tmp_path / "cut.ndjson.gz"
    packed.write_bytes(gzip.compress(cut.read_bytes()))

    assert_fast_same_as_plain(audit, packed, packed, "--lenient")


def test_cut_gzip_stream_same_as_plain(tmp_path: Path) -> None:
    audit = _simulate(tmp_path, "graph-ndjson", compress=True)
    signin = _signin_path(tmp_path)
    cut = tmp_path / "cut.ndjson.gz"
    data = signin.read_bytes()
    cut.write_bytes(data[: len(data) * 7 // 10])

    result = assert_fast_same_as_plain(audit, cut, cut, "--lenient", fast_path=False)

    assert "corrupt or truncated gzip data" in result.stderr


def test_complete_last_line_without_line_end(tmp_path: Path) -> None:
    audit = _simulate(tmp_path, "graph-ndjson")
    signin = _signin_path(tmp_path)
    data = signin.read_bytes()
    assert data.endswith(b"\n")
    signin.write_bytes(data.rstrip(b"\n"))

    result = assert_fast_same_as_plain(audit, signin, signin)

    assert result.exit_code == 0


@pytest.mark.parametrize("signin_shape", ["graph-ndjson", "graph-page"])
def test_cut_off_invalid_utf8_same_result(tmp_path: Path, signin_shape: str) -> None:
    audit, cut = _cut_signin(tmp_path, signin_shape)
    data = cut.read_bytes()
    start = data.rfind(b"\n") + 1
    assert b'":"' in data[start:]
    cut.write_bytes(data[:start] + data[start:].replace(b'":"', b'":"\xff', 1))

    strict = assert_fast_same_as_plain(audit, cut, cut)
    lenient = assert_fast_same_as_plain(audit, cut, cut, "--lenient")

    assert strict.exit_code == 2
    assert f"ERROR: {cut}, line" in strict.stderr
    assert "invalid UTF-8 byte at offset" in strict.stderr
    assert "replaced with U+FFFD" in lenient.stderr
    report = json.loads(lenient.stdout)
    item = next(file for file in report["run"]["files"] if file["path"] == str(cut))
    assert item["skipped_by_reason"] == {"invalid JSON": 1}


@pytest.mark.parametrize("shape", ["graph-ndjson", "diagnostic-ndjson"])
def test_cut_gzip_strict_names_records(tmp_path: Path, shape: str) -> None:
    config = SimulationConfig(users=40, days=3, seed=31, signin_shape=shape, gzip=True)
    audit = simulate(config, tmp_path).audit_path
    signin = _signin_path(tmp_path)
    cut = tmp_path / f"cut{''.join(signin.suffixes)}"
    data = signin.read_bytes()
    cut.write_bytes(data[: len(data) * 7 // 10])

    result = assert_fast_same_as_plain(audit, cut, cut, fast_path=False)

    assert result.exit_code == 2
    errors = problem_lines(result.stderr)
    assert errors[0].startswith(f"h056: ERROR: {cut}: corrupt or truncated gzip")
    assert "complete records before the error)" in errors[0]
    assert "rerun with --lenient to keep the complete records" in errors[1]


def _complete_page_records(content: bytes) -> int:
    """Count the element lines of a Graph page that end within ``content``."""
    count = 0
    for line in content.split(b"\n")[:-1]:
        element = line.strip().rstrip(b",")
        if element.startswith(b"{") and element.endswith(b"}"):
            count += 1
    return count


def test_cut_gzip_page_keeps_records(tmp_path: Path) -> None:
    audit = _simulate(tmp_path, "graph-page", compress=True)
    signin = _signin_path(tmp_path)
    cut = tmp_path / "cut.json.gz"
    data = signin.read_bytes()
    cut.write_bytes(data[: len(data) * 7 // 10])
    # What a decompressor gives before the cut; gzip.decompress rejects it.
    content = zlib.decompressobj(wbits=31).decompress(cut.read_bytes())
    complete = _complete_page_records(content)
    # Reads of the gzip content in 64 KiB pieces lose at most the last piece.
    lower = _complete_page_records(content[: len(content) - 64 * 1024])
    assert 8 * 1024 * 1024 > len(content) > 4 * 64 * 1024

    result = assert_fast_same_as_plain(audit, cut, cut, "--lenient", fast_path=False)

    item = _lenient_gzip_report(result, cut)
    assert lower <= item["loaded"]["signin"] <= complete
    assert item["loaded"]["signin"] > 0


def _pages_per_line(signin: Path, pages: int) -> bytes:
    """Return the records of an NDJSON sign-in export as ``pages`` Graph pages, one
    page per line, the layout of a script that saves each API response as a line."""
    records = [json.loads(line) for line in signin.read_text().splitlines()]
    size = -(-len(records) // pages)
    return b"".join(
        json.dumps({"value": records[start : start + size]}).encode() + b"\n"
        for start in range(0, len(records), size)
    )


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_cut_gzip_few_lines_keeps_pages(tmp_path: Path, lenient: bool) -> None:
    # Fewer lines than the reader looks at to tell NDJSON from a document, so the
    # gzip fault comes before any record was read.
    audit = _simulate(tmp_path, "graph-ndjson")
    content = _pages_per_line(_signin_path(tmp_path), pages=3)
    compressed = gzip.compress(content)
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(compressed[: len(compressed) * 9 // 10])
    # The first two pages end before the cut, and the third does not.
    complete = len(json.loads(content.split(b"\n")[0])["value"]) * 2
    extra = ("--lenient",) if lenient else ()

    result = assert_fast_same_as_plain(audit, cut, cut, *extra, fast_path=False)

    errors = problem_lines(result.stderr)
    if not lenient:
        assert result.exit_code == 2
        assert f"({complete} complete records before the error)" in errors[0]
        return
    report = json.loads(result.stdout)
    item = next(file for file in report["run"]["files"] if file["path"] == str(cut))
    assert result.exit_code in (0, 1)
    assert item["partial"] is True
    assert item["loaded"]["signin"] == complete
    assert item["skipped_by_reason"] == {"corrupt or cut-off gzip data": 1}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("container", ["page", "array"])
@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_cut_gzip_one_line_document(
    tmp_path: Path, container: str, lenient: bool, encoding: str
) -> None:
    # A compact Graph page or JSON array on one line, so the gzip fault cuts the
    # first line, before the reader can tell NDJSON from a document.
    audit = _simulate(tmp_path, "graph-ndjson")
    lines = _signin_path(tmp_path).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    texts = [json.dumps(record) for record in records]
    opening = '{"value": [' if container == "page" else "["
    content = opening + ", ".join(texts) + ("]}" if container == "page" else "]")
    compressed = gzip.compress(content.encode(encoding))
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(compressed[: len(compressed) * 6 // 10])
    # Characters of the content, which are ASCII, before the cut.
    read = len(zlib.decompressobj(wbits=31).decompress(cut.read_bytes()))
    if encoding == "utf-16":
        read = (read - 2) // 2
    ends = []
    end = len(opening)
    for text in texts:
        end += len(text)
        ends.append(end)
        end += len(", ")
    complete = sum(end <= read for end in ends)
    # Reads of the gzip content in 64 KiB pieces lose at most the last piece.
    lower = sum(end <= read - 64 * 1024 for end in ends)
    assert 0 < lower < complete < len(records)
    extra = ("--lenient",) if lenient else ()

    result = assert_fast_same_as_plain(audit, cut, cut, *extra, fast_path=False)

    if not lenient:
        errors = problem_lines(result.stderr)
        assert result.exit_code == 2
        assert "complete records before the error)" in errors[0]
        return
    item = _lenient_gzip_report(result, cut)
    assert lower <= item["loaded"]["signin"] <= complete


def _lenient_gzip_report(result: Any, cut: Path) -> dict[str, Any]:
    """Return the run's record of ``cut`` after checking that a lenient run kept
    it as a partial file with one gzip fault."""
    report = json.loads(result.stdout)
    item = next(file for file in report["run"]["files"] if file["path"] == str(cut))
    assert result.exit_code in (0, 1)
    assert item["partial"] is True
    assert item["skipped_by_reason"] == {"corrupt or cut-off gzip data": 1}
    return dict(item)
