"""The console script queues the scan of large inputs before pandas is imported.

The run must take a queued scan only when it plans the same task, and give the
same findings whether it took one, discarded one or had none.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import SAMPLE_HUNT, SAMPLES
from h056hunt import early_scan
from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.cli import main
from h056hunt.loaders import fastpath
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate
from h056hunt.sources import DEFAULT_MAX_DECOMPRESSED_BYTES
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

AUDIT = SAMPLES / "audit.json"
SIGNIN = SAMPLES / "signin.json"
HUNT = [*SAMPLE_HUNT, "--fail-on", "none"]


@pytest.fixture(autouse=True)
def stop_early_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    # A config file in the working folder or the user's config folder would keep
    # audit files from starting early.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("H056_CONFIG", raising=False)
    monkeypatch.delenv(fastpath.DISABLE_ENV, raising=False)
    yield
    fastpath._stop_early()


def _hunt_output(arguments: list[str]) -> str:
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["hunt", "--audit", "a", "--signin", "s"], (["a"], ["s"], False)),
        (
            ["hunt", "--audit=a", "--signin=s", "--signin", "t"],
            (["a"], ["s", "t"], False),
        ),
        (["hunt", "--signin", "s", "--config", "c.toml"], ([], ["s"], True)),
        (["hunt", "--revocation-activity=x", "--audit", "a"], (["a"], [], True)),
        (["hunt", "--audit", "a", "--no-fast-path"], None),
        (["hunt", "--audit", "a", "--engine", "spark"], None),
        (["hunt", "--audit", "a", "--max-record-size=1M"], None),
        (["hunt", "--audit", "a", "-h"], None),
        (["hunt", "--audit"], None),
        (["inspect", "a"], None),
        ([], None),
    ],
)
def test_hunt_inputs_of_arguments(
    arguments: list[str], expected: tuple[list[str], list[str], bool] | None
) -> None:
    assert early_scan._hunt_inputs(arguments) == expected


def _record_claims(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the file of each early scan that a run takes."""
    claimed: list[str] = []
    claim = fastpath._claim_early

    def recording_claim(
        task: fastpath._Task, ranges: list[fastpath.RangePlan]
    ) -> fastpath.PendingFile | None:
        pending = claim(task, ranges)
        if pending is not None:
            claimed.append(str(task.path))
        return pending

    monkeypatch.setattr(fastpath, "_claim_early", recording_claim)
    return claimed


def test_early_scan_taken_by_run(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _hunt_output(HUNT)
    early_scan.start(HUNT)
    claimed = _record_claims(monkeypatch)

    assert set(fastpath._early_files) == {str(AUDIT), str(SIGNIN)}
    assert fastpath._early_executor is not None
    assert _hunt_output(HUNT) == expected
    assert claimed == [str(AUDIT), str(SIGNIN)]
    assert fastpath._early_files == {}
    # The run's scan pool took the workers and stopped them at its end.
    assert fastpath._early_executor is None
    assert multiprocessing.active_children() == []


def test_early_scan_with_other_activities_discarded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = _hunt_output(HUNT)
    claimed = _record_claims(monkeypatch)

    fastpath.start_early(
        [(AUDIT, str(AUDIT)), (SIGNIN, str(SIGNIN))],
        revocation_activities=("Some other activity",),
        max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED_BYTES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
    )
    audit_futures = fastpath._early_files[str(AUDIT)].futures

    assert _hunt_output(HUNT) == expected
    assert claimed == [str(SIGNIN)]
    assert audit_futures is not None
    assert all(future.cancelled() or future.done() for future in audit_futures)
    assert fastpath._early_files == {}


def test_early_scan_other_display_discarded(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _hunt_output(HUNT)
    claimed = _record_claims(monkeypatch)

    fastpath.start_early(
        [(SIGNIN, "another name")],
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED_BYTES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
    )

    assert _hunt_output(HUNT) == expected
    assert claimed == []
    assert fastpath._early_files == {}


def test_file_grown_after_early_scan_rescanned(tmp_path: Path) -> None:
    written = simulate(SimulationConfig(users=40, days=1, seed=3), tmp_path / "sim")
    signin = written.signin_path
    arguments = [
        *("hunt", "--audit", str(written.audit_path), "--signin", str(signin)),
        *("--format", "json", "--fail-on", "none"),
    ]
    early_scan.start(arguments)
    early = fastpath._early_files[str(signin)]
    assert early.futures is not None
    concurrent.futures.wait(early.futures)

    # A line shorter than every record moves no range boundary.
    with signin.open("ab") as appended:
        appended.write(b'{"id":"late"}\n')
    ranges = fastpath._plan_ranges(signin, 0, signin.stat().st_size, 0)
    after_early_scan = _hunt_output(arguments)
    fastpath._stop_early()

    assert ranges == early.ranges
    assert after_early_scan == _hunt_output(arguments)


def test_early_pool_with_dead_worker_replaced() -> None:
    expected = _hunt_output(HUNT)
    # A scan the run does not take, in workers the run's pool takes.
    fastpath.start_early(
        [(SIGNIN, "another name")],
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED_BYTES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
    )
    early = fastpath._early_files[str(SIGNIN)]
    assert early.futures is not None
    concurrent.futures.wait(early.futures)

    # A worker ends like this, by SIGBUS, when its file shrinks under its memory map.
    assert fastpath._early_executor is not None
    worker = next(iter(fastpath._early_executor._processes.values()))
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=10)

    early_workers = [
        process.pid for process in fastpath._early_executor._processes.values()
    ]

    assert _hunt_output(HUNT) == expected
    later_workers = [child.pid for child in multiprocessing.active_children()]
    assert _still_running(early_workers + later_workers) == []


def test_config_file_keeps_audit_late(tmp_path: Path) -> None:
    (tmp_path / "h056.toml").write_text("[thresholds]\n", encoding="utf-8")

    early_scan.start(HUNT)

    assert set(fastpath._early_files) == {str(SIGNIN)}


def test_disabled_fast_path_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fastpath.DISABLE_ENV, "1")

    early_scan.start(HUNT)

    assert fastpath._early_files == {}
    assert fastpath._early_executor is None


def test_missing_input_starts_nothing(tmp_path: Path) -> None:
    early_scan.start(["hunt", "--audit", str(AUDIT), "--signin", str(tmp_path / "x")])

    assert fastpath._early_files == {}


def test_stop_early_ends_workers() -> None:
    early_scan.start(HUNT)
    assert multiprocessing.active_children()

    workers = [child.pid for child in multiprocessing.active_children()]
    fastpath._stop_early()

    assert fastpath._early_executor is None
    assert fastpath._early_files == {}
    assert _still_running(workers) == []


def _still_running(pids: list[int | None]) -> list[int | None]:
    """Wait up to 10 s for the processes to end; return those still running.

    The executor's own thread may reap a worker before the test's thread does, and
    then active_children() keeps listing it, so this reads /proc instead.
    """
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if _running(pid)]


def _running(pid: int | None) -> bool:
    """Tell whether a process exists and has not ended (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except FileNotFoundError:
        return False
    # The state follows the command name, which is in brackets.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_early_modules_import_without_pandas() -> None:
    # The workers fork from the process that imported only these modules.
    code = (
        "import sys, h056hunt.early_scan, h056hunt.entry; "
        "print(sorted(name for name in ('pandas', 'pyarrow') if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
