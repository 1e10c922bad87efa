"""Shared fixtures: the public sample exports and bug-report cases beside the repo.

``../shared`` holds real exported records and small cases that reproduce public bug
reports. A user's fresh clone does not have it, so tests that need it skip with the
reason; under ``CI=true`` its absence fails the run, because CI always provides it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared"
SAMPLE_LOGS = REPOSITORY / "sample_logs"


def _shared_folder(name: str) -> Path:
    folder = SHARED / name
    if folder.is_dir():
        return folder
    message = (
        f"{folder} is absent: the real exported records and bug-report "
        "reproductions are not distributed"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true requires them)")
    pytest.skip(message)


@pytest.fixture
def cases_dir() -> Path:
    """The folder of bug-report cases, with their expected values in CASES.md."""
    return _shared_folder("cases")


@pytest.fixture
def real_logs_dir() -> Path:
    """The folder of real exported records collected from public repositories."""
    return _shared_folder("real_logs")


@pytest.fixture
def sample_logs_dir() -> Path:
    """The synthetic exports shipped in the repository."""
    return SAMPLE_LOGS


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo the CLI's logging set-up after each test.

    An in-process CLI run binds the ``h056hunt`` logger to that run's stderr and stops
    propagation, which would hide later tests' records from ``caplog``.
    """
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def without_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in ``tmp_path`` with no config file on the search path: no
    ``$H056_CONFIG`` and an empty user config folder. Returns ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("H056_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture
def small_fast_path_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the fast path's chunks, index blocks and time batches, and send every
    file to the workers, so small test files run each of its code paths."""
    from h056hunt.loaders import csv_scan, fastpath, prefilter

    monkeypatch.setattr(fastpath, "CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(csv_scan, "CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(csv_scan, "MIN_BYTES", 0)
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(prefilter, "INDEX_BLOCK_BYTES", 16 * 1024)
    monkeypatch.setattr(prefilter, "TIME_BATCH", 500)
