"""The fast path gives the plain path's findings, byte for byte.

Each case runs ``h056 hunt --format jsonl`` twice on the same files, once with
``--no-fast-path``, and compares the output bytes, which carry every finding, its
evidence with file, line and record numbers, and the partial-input flag. The
corpus is the labeled simulator output in every export shape, plain and gzip, and
``sample_logs/``. Small chunk and block sizes and a zero parallel threshold make
the small files cross chunk boundaries, use worker processes and need the second
pass that reads the users who matter.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli_runs import hunt_jsonl
from h056hunt.cli import main
from h056hunt.loaders import fastpath, spill
from h056hunt.simulate import tabular
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

# (seed, sign-in shape, audit shape, gzip)
CASES = (
    (3, "graph-ndjson", "graph-ndjson", False),
    (11, "graph-page", "graph-array", False),
    (29, "graph-array", "graph-page", True),
    (5, "diagnostic-ndjson", "diagnostic-ndjson", False),
    (7, "eventhub", "eventhub", True),
    (13, "graph-ndjson", "graph-ndjson", True),
)


pytestmark = pytest.mark.usefixtures("small_fast_path_units")


def _hunt(audit: Path, signin: Path, *extra: str) -> tuple[bytes, str]:
    result = hunt_jsonl(audit, signin, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes, result.stderr


def _inspect_prefiltered(*paths: Path) -> int:
    result = CliRunner().invoke(main, ["inspect", *map(str, paths), "--format", "json"])
    records = [json.loads(line) for line in result.stdout.splitlines() if line]
    return sum(record["prefiltered"] for record in records)


@pytest.mark.parametrize(("seed", "signin_shape", "audit_shape", "compress"), CASES)
def test_simulated_corpus_same_jsonl(
    tmp_path: Path, seed: int, signin_shape: str, audit_shape: str, compress: bool
) -> None:
    config = SimulationConfig(
        users=40,
        days=3,
        seed=seed,
        signin_shape=signin_shape,
        audit_shape=audit_shape,
        gzip=compress,
    )
    written = simulate(config, tmp_path)
    plain, _ = _hunt(written.audit_path, written.signin_path, "--no-fast-path")
    fast, _ = _hunt(written.audit_path, written.signin_path)
    assert plain
    assert fast == plain
    assert _inspect_prefiltered(written.signin_path, written.audit_path) > 0


# (seed, sign-in shape, audit shape); the Log Analytics CSV shape writes US
# month-first dates, so these run with --monthfirst.
CSV_CASES = (
    (17, "log-analytics-csv", "log-analytics-csv"),
    (19, "portal-csv", "portal-csv"),
    (23, "graph-ndjson", "portal-csv"),
)


@pytest.mark.parametrize(("seed", "signin_shape", "audit_shape"), CSV_CASES)
def test_simulated_csv_same_jsonl(
    tmp_path: Path, seed: int, signin_shape: str, audit_shape: str
) -> None:
    config = SimulationConfig(
        users=40,
        days=3,
        seed=seed,
        signin_shape=signin_shape,
        audit_shape=audit_shape,
    )
    written = simulate(config, tmp_path)
    signin = [written.signin_path]
    if signin_shape == "portal-csv":
        signin.append(tabular.auth_details_path(written.signin_path))
    extra = ["--monthfirst"]
    for path in signin[1:]:
        extra += ["--signin", str(path)]
    plain, _ = _hunt(written.audit_path, signin[0], *extra, "--no-fast-path")
    fast, _ = _hunt(written.audit_path, signin[0], *extra)
    assert plain
    assert fast == plain
    inspected = [written.audit_path]
    if signin_shape == "log-analytics-csv":
        inspected.append(written.signin_path)
    result = CliRunner().invoke(
        main, ["inspect", *map(str, inspected), "--monthfirst", "--format", "json"]
    )
    for line in result.stdout.splitlines():
        assert json.loads(line)["prefiltered"] > 0


def test_sample_logs_same_jsonl(sample_logs_dir: Path) -> None:
    audit = sample_logs_dir / "audit.json"
    signin = sample_logs_dir / "signin.json"
    plain, _ = _hunt(audit, signin, "--no-fast-path")
    fast, _ = _hunt(audit, signin)
    assert plain
    assert fast == plain
    assert _inspect_prefiltered(signin) > 0


def test_environment_switch_turns_fast_path_off(
    sample_logs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fastpath.DISABLE_ENV, "1")
    assert _inspect_prefiltered(sample_logs_dir / "signin.json") == 0


def test_worker_count_without_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS has no os.sched_getaffinity, so the CPU count is used."""
    monkeypatch.delattr("os.sched_getaffinity", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 3)

    assert fastpath.worker_count() == 3


def test_worker_count_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(64)))

    assert fastpath.worker_count() == fastpath.MAX_WORKERS


def _graph_corpus(tmp_path: Path, compress: bool = False) -> tuple[Path, Path]:
    config = SimulationConfig(users=40, days=3, seed=3, gzip=compress)
    written = simulate(config, tmp_path / "corpus")
    return written.audit_path, written.signin_path


def _rewrite_lines(path: Path, change: Callable[[int, bytes], bytes]) -> Path:
    lines = path.read_bytes().splitlines(keepends=True)
    target = path.with_name("changed-" + path.name)
    target.write_bytes(
        b"".join(change(index, line) for index, line in enumerate(lines))
    )
    return target


def test_spaced_user_key_same_jsonl(tmp_path: Path) -> None:
    """A line whose user id member has a space after the colon is decoded."""
    audit, signin = _graph_corpus(tmp_path)

    def spaced(index: int, line: bytes) -> bytes:
        if index % 3:
            return line
        return line.replace(b'"userId":"', b'"userId": "')

    changed = _rewrite_lines(signin, spaced)
    plain, _ = _hunt(audit, changed, "--no-fast-path")
    fast, _ = _hunt(audit, changed)

    assert b'"approved":true' in plain
    assert fast == plain


def test_byte_order_mark_inside_file_same_jsonl(tmp_path: Path) -> None:
    audit, signin = _graph_corpus(tmp_path)

    def marked(index: int, line: bytes) -> bytes:
        return "\ufeff".encode() + line if index == 5 else line

    changed = _rewrite_lines(signin, marked)
    plain, plain_log = _hunt(audit, changed, "--no-fast-path", "--lenient")
    fast, fast_log = _hunt(audit, changed, "--lenient")

    assert "line 6" in plain_log
    assert "line 6" in fast_log
    assert fast == plain


@pytest.mark.parametrize("compress", [False, True])
def test_empty_line_runs_same_jsonl(tmp_path: Path, compress: bool) -> None:
    """Runs of empty lines are counted in bulk, with the same line numbers.

    In gzip, whole chunks hold nothing but line feeds, so their ranges open no
    index block.
    """
    audit, signin = _graph_corpus(tmp_path)

    def padded(index: int, line: bytes) -> bytes:
        return line + b"\n" * 150_000 if index in (7, 400) else line

    changed = _rewrite_lines(signin, padded)
    if compress:
        packed = changed.with_name(changed.name + ".gz")
        packed.write_bytes(gzip.compress(changed.read_bytes(), compresslevel=1))
        changed = packed
    plain, _ = _hunt(audit, changed, "--no-fast-path")
    fast, _ = _hunt(audit, changed)

    assert b'"line":30' in plain
    assert fast == plain


def test_lost_index_reads_every_block(
    sample_logs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index file removed during the run costs time, not findings."""
    audit = sample_logs_dir / "audit.json"
    signin = sample_logs_dir / "signin.json"
    plain, _ = _hunt(audit, signin, "--no-fast-path")

    def removed(self: spill.PairFile) -> Iterator[np.ndarray]:
        raise FileNotFoundError(2, "No such file or directory", "index-x.u64")
        yield  # pragma: no cover

    monkeypatch.setattr(spill.PairFile, "slices", removed)
    fast, errors = _hunt(audit, signin)

    assert fast == plain
    assert "could not be read" in errors
    assert "reading every block of the file again instead" in errors
