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
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cli_runs import hunt_files
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

# Run summary fields that differ between the paths for every file, cut off or not.
_PREFILTER_FIELDS = ("loaded", "prefiltered", "prompts")


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


def _hunt(audit: Path, signin: Path, *extra: str) -> Result:
    return hunt_files(audit, signin, "-vv", *extra)


def _problems(stderr: str) -> list[str]:
    """Return the error, warning and hint lines of a run's stderr."""
    return [
        line
        for line in stderr.splitlines()
        if "ERROR" in line or "WARNING" in line or line.startswith("  hint:")
    ]


def _without_prefilter_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_prefilter_fields(item)
            for key, item in value.items()
            if key not in _PREFILTER_FIELDS
        }
    if isinstance(value, list):
        return [_without_prefilter_fields(item) for item in value]
    return value


def _assert_same_as_plain(
    audit: Path, signin: Path, *extra: str, fast_path_used: bool = True
) -> Result:
    fast_jsonl = _hunt(audit, signin, "--format", "jsonl", *extra)
    plain_jsonl = _hunt(audit, signin, "--format", "jsonl", "--no-fast-path", *extra)
    fast_json = _hunt(audit, signin, "--format", "json", *extra)
    plain_json = _hunt(audit, signin, "--format", "json", "--no-fast-path", *extra)

    assert fast_jsonl.exit_code == plain_jsonl.exit_code
    assert fast_json.exit_code == plain_json.exit_code
    assert _problems(fast_jsonl.stderr) == _problems(plain_jsonl.stderr)
    assert _problems(fast_json.stderr) == _problems(plain_json.stderr)
    assert fast_jsonl.stdout_bytes == plain_jsonl.stdout_bytes
    if plain_json.stdout:
        fast_report = json.loads(fast_json.stdout)
        plain_report = json.loads(plain_json.stdout)
        assert fast_report["findings"] == plain_report["findings"]
        assert _without_prefilter_fields(fast_report) == _without_prefilter_fields(
            plain_report
        )
    # With -vv the run logs why a file goes to the plain path, before reading it.
    plain_read = f"{signin.name}: read by the plain path" in fast_json.stderr
    assert plain_read is not fast_path_used, fast_json.stderr
    if fast_json.exit_code != 2:
        fast_read = f"{signin.name}: graph shape, fast path" in fast_json.stderr
        assert fast_read is fast_path_used, fast_json.stderr
    return fast_json


def _cut_signin(tmp_path: Path, signin_shape: str) -> tuple[Path, Path]:
    audit = _simulate(tmp_path, signin_shape)
    signin = _signin_path(tmp_path)
    cut = tmp_path / f"cut{signin.suffix}"
    cut.write_bytes(_cut_text(signin.read_bytes()))
    return audit, cut


@pytest.mark.parametrize("signin_shape", ["graph-ndjson", "graph-page"])
def test_cut_off_strict_same_error(tmp_path: Path, signin_shape: str) -> None:
    audit, cut = _cut_signin(tmp_path, signin_shape)

    result = _assert_same_as_plain(audit, cut)

    assert result.exit_code == 2
    errors = _problems(result.stderr)
    assert any(f"ERROR: {cut}, line" in line for line in errors), errors
    assert any("complete records before the error" in line for line in errors)


@pytest.mark.parametrize("signin_shape", ["graph-ndjson", "graph-page"])
def test_cut_off_lenient_same_report(tmp_path: Path, signin_shape: str) -> None:
    audit, cut = _cut_signin(tmp_path, signin_shape)

    result = _assert_same_as_plain(audit, cut, "--lenient")

    report = json.loads(result.stdout)
    item = next(file for file in report["run"]["files"] if file["path"] == str(cut))
    assert item["partial"] is True
    assert item["skipped_by_reason"] == {"invalid JSON": 1}
    assert report["run"]["partial"] is True
    assert any(f"WARNING: {cut}, line" in line for line in _problems(result.stderr))


def test_cut_off_in_whole_gzip_stays_fast(tmp_path: Path) -> None:
    audit, cut = _cut_signin(tmp_path, "graph-ndjson")
    packed = tmp_path / "cut.ndjson.gz"
    packed.write_bytes(gzip.compress(cut.read_bytes()))

    _assert_same_as_plain(audit, packed, "--lenient")


def test_cut_gzip_stream_same_as_plain(tmp_path: Path) -> None:
    audit = _simulate(tmp_path, "graph-ndjson", compress=True)
    signin = _signin_path(tmp_path)
    cut = tmp_path / "cut.ndjson.gz"
    data = signin.read_bytes()
    cut.write_bytes(data[: len(data) * 7 // 10])

    result = _assert_same_as_plain(audit, cut, "--lenient", fast_path_used=False)

    assert "corrupt or truncated gzip data" in result.stderr


def test_complete_last_line_without_line_end(tmp_path: Path) -> None:
    audit = _simulate(tmp_path, "graph-ndjson")
    signin = _signin_path(tmp_path)
    data = signin.read_bytes()
    assert data.endswith(b"\n")
    signin.write_bytes(data.rstrip(b"\n"))

    result = _assert_same_as_plain(audit, signin)

    assert result.exit_code == 0


def test_bad_middle_line_names_file_line(tmp_path: Path) -> None:
    audit = _simulate(tmp_path, "graph-ndjson")
    signin = _signin_path(tmp_path)
    lines = signin.read_bytes().splitlines(keepends=True)
    broken = len(lines) * 3 // 4
    lines[broken] = b'{"id":"x","createdDateTime":"2026-03-02T00:00:00Z",\n'
    signin.write_bytes(b"".join(lines))

    result = _assert_same_as_plain(audit, signin, "--lenient", fast_path_used=False)

    assert f"read by the plain path: line {broken + 1} is not valid JSON" in (
        result.stderr
    )
