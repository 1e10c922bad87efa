"""The second pass split among worker processes reads what it reads in-process.

The tests simulate multi-block exports, plain and gzip, and read the pre-filtered
sign-ins of many users once in this process and once split among forked workers
(``parallel_min_bytes=0``). Rows, steps, line and record numbers and every count
must match. Small index blocks and dense gzip checkpoints give each file many
blocks and runs. A file that changes between the passes must still be caught,
also when only a worker's read fails.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import multiprocessing
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runs import hunt_jsonl
from h056hunt.errors import InputError
from h056hunt.load import LoadedData, LoadOptions, load_logs
from h056hunt.loaders import fastpath
from h056hunt.loaders.sink import FileFrames, FileReport
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

IN_PROCESS = 2**62


@pytest.fixture(autouse=True)
def dense_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take a checkpoint every 16 KiB of content, reading 1 KiB of gzip at a time."""
    monkeypatch.setattr(fastpath, "GZIP_CHECKPOINT_BYTES", 16 * 1024)
    monkeypatch.setattr(fastpath, "GZIP_READ_BYTES", 1024)


@pytest.fixture
def group_counts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many groups each file's blocks were split into."""
    counts: list[int] = []
    original = fastpath._group_blocks

    def counting(*args: Any) -> list[list[int]]:
        groups = original(*args)
        counts.append(len(groups))
        return groups

    monkeypatch.setattr(fastpath, "_group_blocks", counting)
    return counts


def workers_left() -> list[multiprocessing.process.BaseProcess]:
    """Return the child processes still running after up to 10 s of waiting.

    The second pass does not wait for its workers to exit, so they may take a
    moment to end.
    """
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    return multiprocessing.active_children()


def simulated(folder: Path, *, compressed: bool) -> tuple[Path, Path]:
    config = SimulationConfig(users=40, days=3, seed=13, gzip=compressed)
    written = simulate(config, folder / "corpus")
    return written.audit_path, written.signin_path


def signin_users(signin: Path, step: int = 1) -> set[str]:
    """Return every ``step``-th user id of the sign-ins, in sorted order."""
    opener = gzip.open if signin.suffix == ".gz" else open
    with opener(signin, "rt", encoding="utf-8") as lines:
        users = {json.loads(line)["userId"] for line in lines if line.strip()}
    return set(sorted(users)[::step])


def load(audit: Path, signin: Path) -> LoadedData:
    data = load_logs([str(audit)], [str(signin)], LoadOptions())
    assert data.context is not None
    return data


def signin_file(data: LoadedData) -> fastpath.FastFile:
    assert data.context is not None
    (fast_file,) = [
        fast_file
        for fast_file in data.context.reader.files
        if isinstance(fast_file, fastpath.FastFile) and fast_file.spec.user_key
    ]
    return fast_file


def read_context(
    data: LoadedData, users: set[str], min_bytes: int, *, strict: bool = True
) -> tuple[fastpath.ContextReader, list[tuple[FileFrames, FileReport]]]:
    """Read the pre-filtered sign-ins of ``users`` with a new reader."""
    assert data.context is not None
    reader = fastpath.ContextReader(
        data.context.reader.files, strict=strict, parallel_min_bytes=min_bytes
    )
    found = reader.read(users)
    return reader, [(sink.finish(), sink.report) for _, sink in found]


def without_time_ranges(report: FileReport) -> FileReport:
    """Return a copy without the time range arrays, which ``==`` cannot compare."""
    return dataclasses.replace(report, time_ranges={})


def assert_same_reads(
    parallel: list[tuple[FileFrames, FileReport]],
    in_process: list[tuple[FileFrames, FileReport]],
) -> None:
    assert len(parallel) == len(in_process)
    for (frames, report), (expected_frames, expected_report) in zip(
        parallel, in_process, strict=True
    ):
        assert len(frames.signin) > 0
        assert frames.signin.equals(expected_frames.signin)
        assert frames.steps.equals(expected_frames.steps)
        assert frames.audit.equals(expected_frames.audit)
        assert without_time_ranges(report) == without_time_ranges(expected_report)
        assert report.time_ranges.keys() == expected_report.time_ranges.keys()
        for log, ranges in report.time_ranges.items():
            assert np.array_equal(ranges, expected_report.time_ranges[log])


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_reads_match_in_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    group_counts: list[int],
    compressed: bool,
    workers: int,
) -> None:
    monkeypatch.setattr(fastpath, "worker_count", lambda: workers)
    audit, signin = simulated(tmp_path, compressed=compressed)
    data = load(audit, signin)
    # A quarter of the users leaves gaps between the blocks read, so a gzip file
    # has many runs that each start at a checkpoint.
    users = signin_users(signin, step=4)

    _, in_process = read_context(data, users, IN_PROCESS)
    in_process_groups = list(group_counts)
    group_counts.clear()
    _, parallel = read_context(data, users, 0)

    assert in_process_groups == [1]
    assert group_counts == [workers]
    assert_same_reads(parallel, in_process)
    assert workers_left() == []


def test_gzip_groups_inflate_apart(tmp_path: Path) -> None:
    audit, signin = simulated(tmp_path, compressed=True)
    data = load(audit, signin)
    fast_file = signin_file(data)
    index = fast_file.gzip_index
    assert index is not None
    blocks = list(range(0, len(fast_file.block_offsets), 3))

    groups = fastpath._group_blocks(fast_file, blocks, 3, 0)

    assert len(groups) == 3
    assert [block for group in groups for block in group] == blocks
    for before, after in zip(groups[:-1], groups[1:], strict=True):
        checkpoint = index.before(int(fast_file.block_offsets[after[0]]))
        assert checkpoint.content_offset >= fast_file.block_ends[before[-1]]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_parallel_hunt_same_jsonl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    audit, signin = simulated(tmp_path, compressed=compressed)

    plain = hunt_jsonl(audit, signin, "--no-fast-path")
    in_process = hunt_jsonl(audit, signin)
    monkeypatch.setattr(fastpath, "CONTEXT_PARALLEL_MIN_BYTES", 0)
    parallel = hunt_jsonl(audit, signin)

    assert plain.exit_code == 0, plain.output
    assert parallel.exit_code == 0, parallel.output
    assert '"approved":true' in plain.stdout
    assert in_process.stdout == plain.stdout
    assert parallel.stdout == plain.stdout


def exit_worker(group: Any) -> None:
    """Stand in for the worker's read and end the worker abruptly."""
    os._exit(1)


def test_dead_worker_group_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    audit, signin = simulated(tmp_path, compressed=True)
    data = load(audit, signin)
    users = signin_users(signin)
    _, in_process = read_context(data, users, IN_PROCESS)
    monkeypatch.setattr(fastpath, "_read_group", exit_worker)

    with caplog.at_level(logging.WARNING, logger="h056hunt"):
        _, parallel = read_context(data, users, 0)

    assert_same_reads(parallel, in_process)
    assert "a second-pass worker ended abruptly" in caplog.text
    assert workers_left() == []


def keep_identity(path: Path, data: bytes) -> None:
    """Write ``data`` over ``path`` in place, keeping its size and modification time."""
    status = os.stat(path)
    assert len(data) == status.st_size
    with path.open("r+b") as stream:
        stream.write(data)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def break_last_lines(path: Path) -> None:
    """Make the last 50 lines invalid JSON, keeping the file's identity."""
    lines = path.read_bytes().splitlines(keepends=True)
    broken = [line.replace(b'"appId":"', b'"appId";"') for line in lines[-50:]]
    assert broken != lines[-50:]
    keep_identity(path, b"".join(lines[:-50] + broken))


def break_gzip_end(path: Path) -> None:
    """Garble the end of the deflate data without changing the file's identity."""
    data = bytearray(path.read_bytes())
    data[-40:-8] = bytes(byte ^ 0xFF for byte in data[-40:-8])
    keep_identity(path, bytes(data))


@pytest.fixture(params=[False, True], ids=["plain", "gzip"])
def broken_in_worker(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[LoadedData, set[str]]:
    """Load an export, then break its end, which only a worker reads again."""
    monkeypatch.setattr(fastpath, "worker_count", lambda: 2)
    audit, signin = simulated(tmp_path, compressed=request.param)
    data = load(audit, signin)
    users = signin_users(signin)
    (break_gzip_end if request.param else break_last_lines)(signin)
    return data, users


def test_worker_read_failure_strict_raises(
    group_counts: list[int], broken_in_worker: tuple[LoadedData, set[str]]
) -> None:
    data, users = broken_in_worker

    # Broken lines of a file that kept its identity do not decode; a garbled gzip
    # stream cannot be read again.
    with pytest.raises(
        InputError, match="reading it again failed|read again does not decode"
    ) as raised:
        read_context(data, users, 0)

    assert group_counts == [2]
    assert raised.value.reason == "file_changed"
    assert workers_left() == []


def test_worker_read_failure_lenient_skips_file(
    group_counts: list[int], broken_in_worker: tuple[LoadedData, set[str]]
) -> None:
    data, users = broken_in_worker

    reader, found = read_context(data, users, 0, strict=False)

    assert group_counts == [2]
    assert found == []
    (changed,) = reader.changed_files
    assert changed.changed is not None
    assert re.search(
        "reading it again failed|read again does not decode", changed.changed
    )


def test_changed_mtime_caught_before_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_counts: list[int]
) -> None:
    audit, signin = simulated(tmp_path, compressed=False)
    data = load(audit, signin)
    users = signin_users(signin)
    status = os.stat(signin)
    os.utime(signin, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))

    with pytest.raises(InputError, match="modification time changed"):
        read_context(data, users, 0)

    assert group_counts == []
