"""Gzip member layouts that a writer may produce, against --no-fast-path.

Each test writes a simulated sign-in export as several gzip members in one layout
and hunts it with and without the fast path. With a checkpoint every 16 KiB of
content and 1 KiB reads, the second pass may start inside a member. The layouts
put member ends inside lines, zero padding across reads and the last line in a
member of its own.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from cli_runs import assert_fast_same_as_plain, hunt_jsonl
from h056hunt.loaders import fastpath
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")


@pytest.fixture(autouse=True)
def dense_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take a checkpoint every 16 KiB of content, reading 1 KiB of gzip at a time."""
    monkeypatch.setattr(fastpath, "GZIP_CHECKPOINT_BYTES", 16 * 1024)
    monkeypatch.setattr(fastpath, "GZIP_READ_BYTES", 1024)


def split_inside_lines(content: bytes) -> bytes:
    """Return members that end at random offsets, most of them inside a line."""
    pick = random.Random(3)
    cuts = sorted(pick.sample(range(1, len(content)), 25))
    bounds = zip([0, *cuts], [*cuts, len(content)], strict=True)
    return b"".join(gzip.compress(content[start:end]) for start, end in bounds)


def empty_members_between(content: bytes) -> bytes:
    """Return the content in members of 64 KiB, each followed by two empty ones."""
    size = 64 * 1024
    parts = [content[start : start + size] for start in range(0, len(content), size)]
    empty = gzip.compress(b"")
    return empty + b"".join(gzip.compress(part) + empty + empty for part in parts)


def padding_past_reads(content: bytes) -> bytes:
    """Return four members, each followed by more zero bytes than one read takes in."""
    size = -(-len(content) // 4)
    parts = [content[start : start + size] for start in range(0, len(content), size)]
    return b"".join(gzip.compress(part) + bytes(3000) for part in parts)


def last_line_alone(content: bytes) -> bytes:
    """Return the content without its last line, then that line in its own member."""
    cut = content.rindex(b"\n", 0, len(content) - 1) + 1
    head = gzip.compress(content[:cut]) + bytes(7) + gzip.compress(b"")
    return head + gzip.compress(content[cut:])


LAYOUTS: dict[str, Callable[[bytes], bytes]] = {
    "split inside lines": split_inside_lines,
    "empty members between": empty_members_between,
    "padding past reads": padding_past_reads,
    "last line alone": last_line_alone,
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_gzip_member_layout_same(tmp_path: Path, layout: str) -> None:
    written = simulate(SimulationConfig(users=40, days=3, seed=13), tmp_path / "sim")
    content = written.signin_path.read_bytes()
    signin = tmp_path / "signin.ndjson.gz"
    signin.write_bytes(LAYOUTS[layout](content))

    assert gzip.decompress(signin.read_bytes()) == content
    assert_fast_same_as_plain(written.audit_path, signin, signin)
    plain = hunt_jsonl(written.audit_path, signin, "--no-fast-path")
    assert b'"approved":true' in plain.stdout_bytes
