"""The gzip fast path's checkpoints: the second pass inflates from the nearest one.

The first pass copies its zlib-ng decompressor every ``GZIP_CHECKPOINT_BYTES`` of
content, and the second pass starts inflating at the checkpoint before each block
it reads. These tests write real gzip files, single and multi-member, check the
content read from every checkpoint against :func:`gzip.decompress`, and run
``h056 hunt`` on them with and without the fast path. Tiny checkpoint spacing and
read sizes make small files take many checkpoints.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import Any

import pytest

from cli_runs import hunt_jsonl
from h056hunt.errors import InputError
from h056hunt.load import LoadOptions, load_logs
from h056hunt.loaders import fastpath
from h056hunt.loaders.sink import FileSink
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

USER_ID = "11111111-1111-4111-8111-111111111111"
ADMIN_ID = "22222222-2222-4222-8222-222222222222"


@pytest.fixture(autouse=True)
def dense_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take a checkpoint every 16 KiB of content, reading 1 KiB of gzip at a time."""
    monkeypatch.setattr(fastpath, "GZIP_CHECKPOINT_BYTES", 16 * 1024)
    monkeypatch.setattr(fastpath, "GZIP_READ_BYTES", 1024)


def text_lines(count: int, seed: int = 0) -> bytes:
    """Return ``count`` numbered JSON lines."""
    lines = [
        json.dumps({"id": f"record-{seed}-{number}", "value": (number * 7919) % 10007})
        for number in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


def write_members(path: Path, parts: list[bytes], padding: bytes = b"") -> bytes:
    """Write each part as its own gzip member, ``padding`` after each; return it all."""
    path.write_bytes(b"".join(gzip.compress(part) + padding for part in parts))
    return b"".join(parts)


def inflate_all(path: Path) -> tuple[bytes, fastpath.GzipIndex]:
    index = fastpath.GzipIndex()
    with path.open("rb") as raw:
        inflater = fastpath.GzipInflater(raw, index.checkpoints[0], index)
        return inflater.read(), index


def test_gzip_inflater_reads_each_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "members.ndjson.gz"
    content = write_members(
        path,
        [text_lines(6000, seed) for seed in range(3)] + [b"", text_lines(10, 4)],
        padding=b"\x00" * 3,
    )

    inflated, index = inflate_all(path)

    assert inflated == content
    assert inflated == gzip.decompress(path.read_bytes())
    offsets = [checkpoint.content_offset for checkpoint in index.checkpoints]
    assert len(offsets) > 20
    assert offsets == sorted(set(offsets))
    member_ends = [len(text_lines(6000, 0)) * number for number in (1, 2, 3)]
    for low, high in zip([0, *member_ends], member_ends, strict=False):
        assert any(low < offset < high for offset in offsets)
    with path.open("rb") as raw:
        for checkpoint in index.checkpoints:
            inflater = fastpath.GzipInflater(raw, checkpoint)
            start = checkpoint.content_offset
            assert inflater.read(5000) == content[start : start + 5000]
            assert inflater.position == min(start + 5000, len(content))


def test_gzip_inflater_skips_then_reads(tmp_path: Path) -> None:
    path = tmp_path / "one.ndjson.gz"
    content = write_members(path, [text_lines(8000)])
    _, index = inflate_all(path)
    target = len(content) * 2 // 3

    checkpoint = index.before(target)
    with path.open("rb") as raw:
        inflater = fastpath.GzipInflater(raw, checkpoint)
        inflater.skip(target - checkpoint.content_offset)
        tail = inflater.read()

    assert 0 < target - checkpoint.content_offset <= 2 * 16 * 1024
    assert tail == content[target:]


def test_gzip_index_thins_past_maximum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath, "GZIP_MAX_CHECKPOINTS", 8)
    path = tmp_path / "one.ndjson.gz"
    content = write_members(path, [text_lines(20000)])

    inflated, index = inflate_all(path)

    assert inflated == content
    assert 4 <= len(index.checkpoints) <= 8
    assert index.spacing >= 4 * 16 * 1024
    with path.open("rb") as raw:
        for checkpoint in index.checkpoints:
            start = checkpoint.content_offset
            read = fastpath.GzipInflater(raw, checkpoint).read(100)
            assert read == content[start : start + 100]


def cut_in_member(data: bytes) -> bytes:
    return data[: len(data) // 2]


def wrong_checksum(data: bytes) -> bytes:
    broken = bytearray(data)
    broken[-8] ^= 0xFF
    return bytes(broken)


def garbage_after_member(data: bytes) -> bytes:
    return data + b"not gzip"


def cut_header_after_member(data: bytes) -> bytes:
    return data + b"\x1f"


BROKEN = {
    "cut in a member": cut_in_member,
    "wrong checksum": wrong_checksum,
    "garbage after a member": garbage_after_member,
    "cut header after a member": cut_header_after_member,
}


@pytest.mark.parametrize("damage", list(BROKEN))
def test_gzip_inflater_rejects_broken_data(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "broken.ndjson.gz"
    path.write_bytes(BROKEN[damage](gzip.compress(text_lines(3000))))

    with pytest.raises(fastpath._READ_ERRORS):
        inflate_all(path)
    # ISA-L's GzipFile, which reads gzip elsewhere in the fast path, rejects it too.
    with (
        pytest.raises(fastpath._READ_ERRORS),
        fastpath.open_content(path, compressed=True) as stream,
    ):
        stream.read()


def hunt(audit: Path, signin: Path, *extra: str) -> bytes:
    result = hunt_jsonl(audit, signin, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


class CountingInflater(fastpath.GzipInflater):
    """Count the inflaters that start inside a gzip member, at a checkpoint."""

    midstream_starts = 0

    def __init__(self, raw: Any, start: fastpath.GzipCheckpoint, *args: Any) -> None:
        if start.decompressor is not None:
            CountingInflater.midstream_starts += 1
        super().__init__(raw, start, *args)


@pytest.fixture
def counting_inflater(monkeypatch: pytest.MonkeyPatch) -> type[CountingInflater]:
    CountingInflater.midstream_starts = 0
    monkeypatch.setattr(fastpath, "GzipInflater", CountingInflater)
    return CountingInflater


def simulated_corpus(tmp_path: Path, seed: int) -> tuple[Path, bytes]:
    config = SimulationConfig(users=40, days=3, seed=seed)
    written = simulate(config, tmp_path / "corpus")
    return written.audit_path, written.signin_path.read_bytes()


@pytest.mark.parametrize("members", [1, 4])
def test_gzip_second_pass_same_jsonl(
    tmp_path: Path, counting_inflater: type[CountingInflater], members: int
) -> None:
    audit, content = simulated_corpus(tmp_path, seed=13)
    lines = content.splitlines(keepends=True)
    size = -(-len(lines) // members)
    parts = [
        b"".join(lines[start : start + size]) for start in range(0, len(lines), size)
    ]
    signin = tmp_path / "signin.ndjson.gz"
    write_members(signin, parts, padding=b"\x00" * (members - 1))
    plain_twin = tmp_path / "signin.ndjson"
    plain_twin.write_bytes(content)

    plain = hunt(audit, signin, "--no-fast-path")
    counting_inflater.midstream_starts = 0
    fast = hunt(audit, signin)
    midstream_starts = counting_inflater.midstream_starts
    fast_twin = hunt(audit, plain_twin)

    assert b'"approved":true' in plain
    assert fast == plain
    assert fast.replace(b"signin.ndjson.gz", b"signin.ndjson") == fast_twin
    assert midstream_starts > 0


def test_gzip_without_zlib_ng_same_jsonl(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    counting_inflater: type[CountingInflater],
) -> None:
    audit, content = simulated_corpus(tmp_path, seed=29)
    signin = tmp_path / "signin.ndjson.gz"
    signin.write_bytes(gzip.compress(content))
    monkeypatch.setattr(fastpath, "_checkpoint_zlib", None)

    plain = hunt(audit, signin, "--no-fast-path")
    fast = hunt(audit, signin)

    assert b'"approved":true' in plain
    assert fast == plain
    assert counting_inflater.midstream_starts == 0


def compact(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def write_gzip_exports(folder: Path) -> tuple[Path, Path]:
    """Write a revocation, 6 denied prompts and a later approval, among other users.

    The approval contains no searched word, so only the second pass reads it, and
    the sign-ins of other users before it make that pass start at a checkpoint.
    """
    audit = folder / "audit.ndjson"
    audit.write_bytes(
        compact(
            {
                "id": "audit-1",
                "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
                "activityDateTime": "2025-01-02T03:00:00Z",
                "result": "success",
                "initiatedBy": {"user": {"id": ADMIN_ID}},
                "targetResources": [{"id": USER_ID, "type": "User"}],
            }
        )
    )
    records = []
    for number in range(5, 12):
        approved = number == 11
        status = (
            {"errorCode": 0, "additionalDetails": "MFA completed in Azure AD"}
            if approved
            else {"errorCode": 500121, "additionalDetails": "MFA denied; user declined"}
        )
        filler = [
            compact(
                {
                    "id": f"other-{number}-{index}",
                    "createdDateTime": f"2025-01-02T03:{number:02d}:00Z",
                    "userId": f"33333333-3333-4333-8333-{index:012d}",
                    "status": {"errorCode": 0},
                }
            )
            for index in range(400)
        ]
        records.extend(filler)
        records.append(
            compact(
                {
                    "id": f"signin-{number}",
                    "createdDateTime": f"2025-01-02T03:{number:02d}:30Z",
                    "userId": USER_ID,
                    "userPrincipalName": "bob@contoso.example",
                    "status": status,
                }
            )
        )
    signins = folder / "signin.ndjson.gz"
    signins.write_bytes(gzip.compress(b"".join(records)))
    return audit, signins


def test_gzip_context_read_from_checkpoint(
    tmp_path: Path, counting_inflater: type[CountingInflater]
) -> None:
    audit, signins = write_gzip_exports(tmp_path)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    assert len(data.signin) == 6

    assert data.read_context({USER_ID}) is True

    assert len(data.signin) == 7
    assert counting_inflater.midstream_starts > 0


def test_gzip_changed_between_passes_raises(tmp_path: Path) -> None:
    audit, signins = write_gzip_exports(tmp_path)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    packed = signins.read_bytes()
    status = os.stat(signins)
    signins.write_bytes(packed[:-8] + zlib.crc32(b"other").to_bytes(4, "little"))
    signins.write_bytes(signins.read_bytes() + packed[-4:])
    os.utime(signins, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))

    with pytest.raises(InputError) as raised:
        data.read_context({USER_ID})

    assert raised.value.path == str(signins)
    assert raised.value.reason == "file_changed"


def test_gzip_inflater_small_pieces_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Output held in a checkpoint's decompressor is read first on resuming.

    Runs of one byte inflate to 258 bytes per code, so an inflate call often stops
    at its 1 KiB limit after its 64 bytes of input are used up. Most checkpoints
    are then taken with output still held in the decompressor.
    """
    monkeypatch.setattr(fastpath, "_GZIP_MIN_PIECE_BYTES", 1024)
    monkeypatch.setattr(fastpath, "_GZIP_MAX_PIECE_BYTES", 1024)
    monkeypatch.setattr(fastpath, "GZIP_READ_BYTES", 64)
    path = tmp_path / "runs.ndjson.gz"
    runs = [bytes([65 + number % 26]) * (500 + number * 37) for number in range(400)]
    content = write_members(path, [b"\n".join(runs), text_lines(2000)])

    inflated, index = inflate_all(path)

    assert inflated == content
    with path.open("rb") as raw:
        for checkpoint in index.checkpoints:
            start = checkpoint.content_offset
            read = fastpath.GzipInflater(raw, checkpoint).read()
            assert read == content[start:]


def _load_fast(signin: Path) -> None:
    """Read ``signin`` with the fast path alone, as the loader first tries to."""
    sink = FileSink(str(signin), "signin", None)
    fastpath.load_file(
        signin,
        str(signin),
        sink,
        revocation_activities=(),
        max_decompressed_bytes=1 << 30,
        max_record_bytes=1 << 20,
    )


def test_reserved_header_flag_left_to_plain_path(tmp_path: Path) -> None:
    audit, content = simulated_corpus(tmp_path, seed=5)
    packed = bytearray(gzip.compress(content))
    packed[3] |= 0x20
    signin = tmp_path / "signin.ndjson.gz"
    signin.write_bytes(bytes(packed))
    with pytest.raises(fastpath.Unsupported, match="unknown header flags"):
        _load_fast(signin)
    plain = hunt(audit, signin, "--no-fast-path")
    assert b'"approved":true' in plain
    assert hunt(audit, signin) == plain


@pytest.mark.parametrize("damage", list(BROKEN))
def test_broken_gzip_left_to_plain_path(tmp_path: Path, damage: str) -> None:
    audit, content = simulated_corpus(tmp_path, seed=7)
    signin = tmp_path / "signin.ndjson.gz"
    signin.write_bytes(BROKEN[damage](gzip.compress(content)))
    with pytest.raises(fastpath.Unsupported, match="cannot be read here"):
        _load_fast(signin)
    plain = hunt(audit, signin, "--no-fast-path", "--lenient")
    assert b'"approved":' in plain
    assert hunt(audit, signin, "--lenient") == plain
