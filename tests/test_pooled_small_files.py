"""Files too small to split go to the scan workers whole when there are enough.

Exports often come as many hourly files. Each is scanned by one task, so the
workers scan several at once while this process builds the frames of the files
before. The findings must be those of the plain path, byte for byte.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cli_runs import hunt_jsonl
from h056hunt import early_scan
from h056hunt.loaders import csv_early, fastpath
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units", "without_config_files")


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int | None]]:
    """Record the file and range of each task queued in a scan pool."""
    tasks: list[tuple[str, int, int | None]] = []
    submit = fastpath.ScanPool.submit

    def recording_submit(
        pool: fastpath.ScanPool, queued: list[fastpath._Task]
    ) -> list[object]:
        tasks.extend(
            (task.path.name, task.plan.start, task.plan.end) for task in queued
        )
        return submit(pool, queued)

    monkeypatch.setattr(fastpath.ScanPool, "submit", recording_submit)
    return tasks


def _split_corpus(tmp_path: Path, pieces: int, compress: bool) -> tuple[Path, Path]:
    """Write a simulated tenant's audit file and its sign-ins in ``pieces`` files."""
    written = simulate(SimulationConfig(users=40, days=3, seed=3), tmp_path / "sim")
    lines = written.signin_path.read_bytes().splitlines(keepends=True)
    folder = tmp_path / "hourly"
    folder.mkdir()
    size = -(-len(lines) // pieces)
    for index in range(pieces):
        content = b"".join(lines[index * size : (index + 1) * size])
        name = f"part-{index:02d}.json"
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return written.audit_path, folder


def _hunt(audit: Path, signin: Path, *extra: str) -> bytes:
    result = hunt_jsonl(audit, signin, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _sizes(folder: Path) -> list[int]:
    return [path.stat().st_size for path in sorted(folder.iterdir())]


def _pooled_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """Write the corpus in 16 files and set the thresholds so that no file is
    split and together they go to the workers whole."""
    audit, folder = _split_corpus(tmp_path, pieces=16, compress=False)
    sizes = _sizes(folder)
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", max(sizes) + 1)
    monkeypatch.setattr(fastpath, "POOLED_FILE_MIN_BYTES", min(sizes))
    return audit, folder


def test_small_files_scanned_whole_in_workers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    submitted: list[tuple[str, int, int | None]],
) -> None:
    audit, folder = _pooled_corpus(tmp_path, monkeypatch)

    plain = _hunt(audit, folder, "--no-fast-path")
    fast = _hunt(audit, folder)

    assert plain
    assert fast == plain
    names = sorted(path.name for path in folder.iterdir())
    assert sorted(name for name, _, _ in submitted) == names
    assert all(end is None for _, _, end in submitted)


def test_few_small_files_scanned_here(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    submitted: list[tuple[str, int, int | None]],
) -> None:
    audit, folder = _split_corpus(tmp_path, pieces=16, compress=False)
    # Each file is below the split size, and so is their sum.
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", sum(_sizes(folder)) + 1)

    plain = _hunt(audit, folder, "--no-fast-path")
    fast = _hunt(audit, folder)

    assert fast == plain
    assert submitted == []


def test_file_below_pooled_size_scanned_here(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    submitted: list[tuple[str, int, int | None]],
) -> None:
    audit, folder = _split_corpus(tmp_path, pieces=16, compress=False)
    sizes = _sizes(folder)
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", max(sizes) + 1)
    # The last piece contains the remainder of the lines, so it is the smallest.
    monkeypatch.setattr(fastpath, "POOLED_FILE_MIN_BYTES", sorted(sizes)[1])

    plain = _hunt(audit, folder, "--no-fast-path")
    fast = _hunt(audit, folder)

    assert fast == plain
    smallest = min(folder.iterdir(), key=lambda path: path.stat().st_size).name
    assert smallest not in {name for name, _, _ in submitted}
    assert len(submitted) == len(sizes) - 1


@pytest.mark.parametrize("pieces", [32, 8])
def test_small_gzip_files_scanned_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    submitted: list[tuple[str, int, int | None]],
    pieces: int,
) -> None:
    audit, folder = _split_corpus(tmp_path, pieces=pieces, compress=True)
    sizes = _sizes(folder)
    # Together the files pass the threshold, and each is below the size that goes
    # to the workers whole. With 8 pieces, each is also above the size that this
    # process would inflate for the workers if the file were alone.
    threshold = sum(sizes)
    assert max(sizes) < threshold // 4
    if pieces == 8:
        assert min(sizes) >= threshold // 16
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", threshold)
    monkeypatch.setattr(fastpath, "POOLED_FILE_MIN_BYTES", 1)

    plain = _hunt(audit, folder, "--no-fast-path")
    fast = _hunt(audit, folder)

    assert fast == plain
    names = {path.name for path in folder.iterdir()}
    # The audit file is small too, so it may go to the workers as well.
    assert {name for name, _, _ in submitted} - {audit.name} == names
    assert all(end is None for _, _, end in submitted)


def test_whole_files_queued_few_ahead(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    submitted: list[tuple[str, int, int | None]],
) -> None:
    audit, folder = _pooled_corpus(tmp_path, monkeypatch)
    ahead = fastpath.WHOLE_FILES_AHEAD_PER_WORKER * fastpath.worker_count()
    # The count of tasks queued when each sign-in file's scan is taken.
    queued_at: list[int] = []
    complete = fastpath.PendingFile.complete

    def recording_complete(
        pending: fastpath.PendingFile, *args: object, **kwargs: object
    ) -> object:
        if pending.task.path.parent == folder:
            queued_at.append(len(submitted))
        return complete(pending, *args, **kwargs)

    monkeypatch.setattr(fastpath.PendingFile, "complete", recording_complete)

    _hunt(audit, folder)

    assert len(queued_at) == len(list(folder.iterdir()))
    for index, queued in enumerate(queued_at):
        assert queued <= index + ahead
    # The audit file is too small to pool here. While it loads, the first
    # sign-in files fill the window.
    assert queued_at[0] == ahead


def test_small_files_queued_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, folder = _pooled_corpus(tmp_path, monkeypatch)
    monkeypatch.delenv(fastpath.DISABLE_ENV, raising=False)
    arguments = ["hunt", "--audit", str(audit), "--signin", str(folder)]
    plain = _hunt(audit, folder, "--no-fast-path")
    ahead = fastpath.WHOLE_FILES_AHEAD_PER_WORKER * fastpath.worker_count()

    try:
        early_scan.start(arguments)
        queued = set(fastpath._early_files)
        fast = _hunt(audit, folder)
    finally:
        fastpath._stop_early()
        csv_early.discard_early()

    assert fast == plain
    # The audit file is too small to pool at these sizes. The first sign-in
    # files are queued in reading order, and the run queues the rest.
    first = {str(path) for path in sorted(folder.iterdir())[:ahead]}
    assert queued == first
    assert fastpath._early_files == {}
