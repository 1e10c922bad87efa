"""Tests for the fast path's user index files (h056hunt.loaders.spill)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from h056hunt.loaders import spill

# The file size from which the run below splits a file between scan workers.
PARALLEL_MIN_BYTES = 1024 * 1024

SIGNIN_TEMPLATE = (
    '{{"id":"{id}","createdDateTime":"2024-05-14T{hour:02d}:{minute:02d}:{second:02d}Z",'
    '"userId":"{user}","userPrincipalName":"{upn}","ipAddress":"198.51.100.{octet}",'
    '"status":{{"errorCode":0}},"padding":"{padding}"}}'
)


def pairs(start: int, count: int) -> np.ndarray:
    return np.arange(start, start + count, dtype=np.uint64) * np.uint64(0x100000001)


def test_pairs_read_back_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "READ_PAIRS", 7)
    writer = spill.PairWriter()
    writer.write(pairs(0, 10))
    writer.write(np.empty(0, dtype=np.uint64))
    writer.write(pairs(10, 5))
    index = writer.close()

    assert index.path is not None and Path(index.path).is_file()
    assert Path(index.path).parent == Path(spill.folder() or "")
    assert len(index) == 15
    read = list(index.slices())
    assert [len(part) for part in read] == [7, 7, 1]
    assert np.array_equal(np.concatenate(read), pairs(0, 15))
    path = index.path
    index.remove()
    assert not Path(path).exists()
    assert len(index) == 0


def test_failed_write_keeps_pairs_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = spill.PairWriter()
    writer.write(pairs(0, 4))
    real_write = os.write
    calls = {"count": 0}

    def full_disk(handle: int, data: object) -> int:
        calls["count"] += 1
        if calls["count"] == 1:
            # A partial write, then the disk is full.
            return real_write(handle, memoryview(data)[:5])  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill.os, "write", full_disk)
    writer.write(pairs(4, 3))
    writer.write(pairs(7, 2))
    index = writer.close()

    assert index.count == 4
    assert [len(part) for part in index.in_memory] == [3, 2]
    assert np.array_equal(np.concatenate(list(index.slices())), pairs(0, 9))
    index.remove()


def test_pieces_read_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "PIECE_MEMORY_BYTES", 10)
    pieces = spill.PieceList()
    for number in range(7):
        pieces.append(bytes([number]) * (number + 3))

    assert pieces.path is not None and Path(pieces.path).is_file()
    assert pieces.memory_bytes <= 10
    assert len(pieces) == 7
    path = pieces.path
    read = list(pieces.take())
    assert read == [bytes([number]) * (number + 3) for number in range(7)]
    assert not Path(path).exists()
    assert len(pieces) == 0


def test_failed_piece_write_keeps_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "PIECE_MEMORY_BYTES", 10)
    pieces = spill.PieceList()
    pieces.append(b"a" * 6)
    pieces.append(b"b" * 6)
    real_write = os.write
    calls = {"count": 0}

    def full_disk(handle: int, data: object) -> int:
        calls["count"] += 1
        if calls["count"] == 1:
            # Half a piece, then the disk is full.
            return real_write(handle, memoryview(data)[:3])  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill.os, "write", full_disk)
    for letter in b"cdef":
        pieces.append(bytes([letter]) * 6)

    assert pieces.sizes == [6, 6]
    assert list(pieces.take()) == [bytes([letter]) * 6 for letter in b"abcdef"]


def test_removed_piece_file_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "PIECE_MEMORY_BYTES", 4)
    pieces = spill.PieceList()
    pieces.append(b"12345")
    assert pieces.path is not None
    Path(pieces.path).unlink()

    with pytest.raises(OSError, match="No such file"):
        list(pieces.take())


def test_no_folder_keeps_pairs_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def unwritable(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(spill, "_folder", None)
    monkeypatch.setattr(spill.tempfile, "mkdtemp", unwritable)
    writer = spill.PairWriter()
    writer.write(pairs(0, 3))
    index = writer.close()

    assert index.path is None
    assert np.array_equal(np.concatenate(list(index.slices())), pairs(0, 3))


def write_signins(path: Path, count: int) -> None:
    """Write ``count`` plain sign-ins of 40 users, large enough for the workers."""
    with path.open("w", encoding="utf-8") as stream:
        for number in range(count):
            user = number % 40
            stream.write(
                SIGNIN_TEMPLATE.format(
                    id=f"s{number}",
                    hour=number // 3600 % 24,
                    minute=number // 60 % 60,
                    second=number % 60,
                    user=f"{user:08x}-0000-4000-8000-{user:012x}",
                    upn=f"user{user}@contoso.example",
                    octet=user,
                    padding="x" * 300,
                )
                + "\n"
            )


def test_hunt_removes_its_index_folder(tmp_path: Path) -> None:
    """A hunt that forks scan workers writes index files and leaves none behind."""
    signin = tmp_path / "signin.ndjson"
    write_signins(signin, 40_000)
    assert signin.stat().st_size > 8 * PARALLEL_MIN_BYTES
    audit = tmp_path / "audit.json"
    revocation = {
        "id": "A1",
        "category": "UserManagement",
        "result": "success",
        "activityDisplayName": "Revoke user sessions",
        "activityDateTime": "2024-05-14T01:00:00Z",
        "initiatedBy": {"user": {"id": "00000000-0000-4000-8000-00000000ad07"}},
        "targetResources": [
            {"id": "00000001-0000-4000-8000-000000000001", "type": "User"}
        ],
    }
    audit.write_text(json.dumps({"value": [revocation]}), encoding="utf-8")

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}
    environment.pop("H056_NO_FAST_PATH", None)

    # The script records which index files still exist when each file's index is
    # dropped, and the folder that the run made.
    script = (
        "import atexit, os, sys\n"
        "from h056hunt.loaders import fastpath, spill\n"
        "real_remove = fastpath._remove_index\n"
        "def remove(index, owner):\n"
        "    for pairs in index:\n"
        "        if pairs.path and os.path.exists(pairs.path):\n"
        "            print('index', pairs.path, file=sys.stderr)\n"
        "    real_remove(index, owner)\n"
        "fastpath._remove_index = remove\n"
        f"fastpath.PARALLEL_MIN_BYTES = {PARALLEL_MIN_BYTES}\n"
        "atexit.register(lambda: print('folder', spill._folder, file=sys.stderr))\n"
        "sys.argv = ['h056', 'hunt', '-q', '--fail-on', 'none', '--audit',"
        " sys.argv[1], '--signin', sys.argv[2]]\n"
        "from h056hunt.entry import run\n"
        "run()\n"
    )
    outcome = subprocess.run(
        [sys.executable, "-c", script, str(audit), str(signin)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )

    assert outcome.returncode == 0, outcome.stderr
    folder_lines = [
        line for line in outcome.stderr.splitlines() if line.startswith("folder ")
    ]
    assert folder_lines, outcome.stderr
    folder = folder_lines[-1].split(" ", 1)[1]
    assert folder != "None"
    assert Path(folder).parent == temporary

    indexes = [
        line.split(" ", 1)[1]
        for line in outcome.stderr.splitlines()
        if line.startswith("index ")
    ]
    assert indexes
    assert all(Path(path).parent == Path(folder) for path in indexes)
    assert not Path(folder).exists()
    assert list(temporary.iterdir()) == []


@pytest.mark.usefixtures("small_fast_path_units")
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_spilled_pieces_same_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    from broken_exports import simulate_exports

    from cli_runs import hunt_files

    audit, signin = simulate_exports(tmp_path, compress=compress)
    in_memory = hunt_files(audit, signin, "--format", "jsonl")
    # The workers write the files; this process reads them back in take().
    read: list[str] = []
    take = spill.PieceList.take

    def recording(self: spill.PieceList) -> Iterator[bytes]:
        if self.path is not None:
            read.append(self.path)
        return take(self)

    monkeypatch.setattr(spill, "PIECE_MEMORY_BYTES", 1)
    monkeypatch.setattr(spill.PieceList, "take", recording)
    spilled = hunt_files(audit, signin, "--format", "jsonl")

    assert spilled.exit_code == in_memory.exit_code
    assert spilled.stdout_bytes == in_memory.stdout_bytes
    assert in_memory.stdout_bytes
    assert read
    assert not any(Path(path).exists() for path in read)
