"""The console script queues the scan of large inputs before pandas is imported.

The run must take a queued scan only when it plans the same task, and give the
same findings whether it took one, discarded one or had none. That holds for the
JSON fast path's range scans and for the CSV fast path's byte scan.
"""

from __future__ import annotations

import concurrent.futures
import csv
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import SAMPLE_HUNT, SAMPLES, SCRIPT
from h056hunt import early_scan
from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.cli import main
from h056hunt.loaders import csv_early, fastpath
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
    monkeypatch: pytest.MonkeyPatch, without_config_files: Path
) -> Iterator[None]:
    # A config file in the working folder or the user's config folder would keep
    # audit files from starting early, so the test runs without one.
    monkeypatch.delenv(fastpath.DISABLE_ENV, raising=False)
    yield
    fastpath._stop_early()
    csv_early.discard_early()


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

    # A worker ends like this when the system kills it.
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
    except (FileNotFoundError, ProcessLookupError):
        # Reading raises ESRCH when the process is reaped after the file opened.
        return False
    # The state follows the command name, which is in brackets.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_early_modules_import_without_pandas() -> None:
    # The workers fork from the process that imported only these modules.
    code = (
        "import sys, h056hunt.early_scan, h056hunt.entry; "
        "import h056hunt.loaders.csv_early, h056hunt.loaders.csv_scan; "
        "print(sorted(name for name in ('pandas', 'pyarrow') if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


# --- the CSV fast path's early scan ------------------------------------------


def _csv_corpus(folder: Path) -> tuple[Path, Path]:
    """Write Log Analytics CSV exports; the sign-ins are over 1 MiB."""
    config = SimulationConfig(
        users=40,
        days=1,
        seed=3,
        signin_shape="log-analytics-csv",
        audit_shape="log-analytics-csv",
    )
    written = simulate(config, folder)
    return written.audit_path, written.signin_path


def _csv_hunt(audit: Path, signin: Path, *extra: str) -> list[str]:
    # The simulated Log Analytics export writes month-first slash dates.
    return [
        *("hunt", "--audit", str(audit), "--signin", str(signin), "--monthfirst"),
        *("--fail-on", "none", "-vv", *extra),
    ]


def _run(arguments: list[str]) -> tuple[str, str]:
    """Return the stdout and stderr of an in-process run that must succeed."""
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def _wait_for_csv_scans() -> None:
    futures = [
        future for early in csv_early._early_scans.values() for future in early.futures
    ]
    concurrent.futures.wait(futures)


def test_csv_early_scan_taken_by_run(tmp_path: Path) -> None:
    audit, signin = _csv_corpus(tmp_path)
    arguments = _csv_hunt(audit, signin, "--format", "json")
    late_json, late_log = _run(arguments)
    plain_jsonl, _ = _run(
        _csv_hunt(audit, signin, "--format", "jsonl", "--no-fast-path")
    )
    early_scan.start(arguments)
    queued = set(csv_early._early_scans)

    early_json, early_log = _run(arguments)
    early_scan.start(arguments)
    early_jsonl, _ = _run(_csv_hunt(audit, signin, "--format", "jsonl"))

    assert queued == {str(audit), str(signin)}
    assert f"{signin}: using the CSV scan started early" in early_log
    assert f"{audit}: using the CSV scan started early" in early_log
    assert "started early" not in late_log
    assert f"{signin}: scanning {fastpath.worker_count()} byte ranges" in late_log
    assert "after its scan started at start-up" in early_log
    assert early_json == late_json
    assert '"prefiltered": 0' not in early_json
    assert early_jsonl == plain_jsonl
    assert plain_jsonl
    assert csv_early._early_scans == {}
    # The run's scan pool took the workers and stopped them at its end.
    assert fastpath._early_executor is None


@pytest.mark.parametrize("change", ["append a row", "touch"])
def test_csv_early_scan_of_changed_file_discarded(tmp_path: Path, change: str) -> None:
    audit, signin = _csv_corpus(tmp_path)
    arguments = _csv_hunt(audit, signin, "--format", "json")
    early_scan.start(arguments)
    _wait_for_csv_scans()

    if change == "append a row":
        last_row = signin.read_bytes().splitlines(keepends=True)[-1]
        with signin.open("ab") as appended:
            appended.write(
                last_row.replace(b"SigninLogs", b"AADNonInteractiveUserSignInLogs")
            )
    else:
        status = signin.stat()
        os.utime(signin, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    after_early_start, log = _run(arguments)
    late, _ = _run(arguments)

    message = "the CSV scan started early was of the file before it changed"
    assert f"{signin}: {message}, so it is discarded" in log
    assert f"{audit}: using the CSV scan started early" in log
    assert after_early_start == late


def test_csv_early_scan_with_other_settings_discarded(tmp_path: Path) -> None:
    audit, signin = _csv_corpus(tmp_path)
    arguments = _csv_hunt(audit, signin, "--format", "json")
    late, _ = _run(arguments)

    # Other audit activities change the audit file's literals, not the sign-ins'.
    # The run reads month-first dates, as the queued scans do.
    csv_early.start_early(
        [(audit, str(audit)), (signin, str(signin))],
        revocation_activities=("Some other activity",),
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
        dayfirst=False,
    )
    other_activities, activities_log = _run(arguments)
    csv_early.start_early(
        [(signin, str(signin))],
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES // 2,
        dayfirst=False,
    )
    other_limit, limit_log = _run(arguments)
    csv_early.start_early(
        [(signin, str(signin))],
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
        dayfirst=True,
    )
    other_order, order_log = _run(arguments)

    mismatch = "the CSV scan started early does not match this run's settings"
    assert f"{audit}: {mismatch}, so it is discarded" in activities_log
    assert f"{signin}: using the CSV scan started early" in activities_log
    assert f"{signin}: {mismatch}, so it is discarded" in limit_log
    assert f"{signin}: {mismatch}, so it is discarded" in order_log
    assert other_activities == late
    assert other_limit == late
    assert other_order == late
    assert csv_early._early_scans == {}


def test_date_order_of_arguments() -> None:
    assert early_scan._date_order(["hunt", "--monthfirst"]) is False
    assert early_scan._date_order(["hunt", "--dayfirst"]) is True
    assert early_scan._date_order(["hunt"]) is None
    assert early_scan._date_order(["hunt", "--dayfirst", "--monthfirst"]) is None


def _drop_user_ids(signin: Path) -> int:
    """Empty every third sign-in row's ``UserId`` and return the UPN column's index."""
    rows = list(csv.reader(io.StringIO(signin.read_text(), newline="")))
    user_id = rows[0].index("UserId")
    for number in range(1, len(rows), 3):
        rows[number][user_id] = ""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    signin.write_text(buffer.getvalue(), newline="")
    return rows[0].index("UserPrincipalName")


def test_csv_early_scan_of_signins_without_ids(tmp_path: Path) -> None:
    audit, signin = _csv_corpus(tmp_path)
    upn_column = _drop_user_ids(signin)
    expected, _ = _run(_csv_hunt(audit, signin, "--format", "jsonl", "--no-fast-path"))
    arguments = _csv_hunt(audit, signin, "--format", "jsonl")
    early_scan.start(arguments)
    queued = csv_early._early_scans[str(signin)].plan

    output, log = _run(arguments)

    assert queued.columns.upn == upn_column
    assert f"{signin}: using the CSV scan started early" in log
    assert output == expected
    assert expected


def test_csv_early_plan_with_other_upn_column_discarded(tmp_path: Path) -> None:
    audit, signin = _csv_corpus(tmp_path)
    _drop_user_ids(signin)
    arguments = _csv_hunt(audit, signin, "--format", "jsonl")
    late, _ = _run(arguments)
    early_scan.start(arguments)
    # The run plans the UPN column, so a queued plan without it is not equal.
    early = csv_early._early_scans[str(signin)]
    early.plan = replace(early.plan, columns=replace(early.plan.columns, upn=None))

    output, log = _run(arguments)

    mismatch = "the CSV scan started early does not match this run's settings"
    assert f"{signin}: {mismatch}, so it is discarded" in log
    assert f"{audit}: using the CSV scan started early" in log
    assert output == late


def test_csv_early_scan_not_taken_discarded(tmp_path: Path) -> None:
    audit, signin = _csv_corpus(tmp_path)
    expected, _ = _run(_csv_hunt(audit, signin, "--format", "jsonl", "--no-fast-path"))
    early_scan.start(_csv_hunt(audit, signin, "--format", "jsonl"))

    output, log = _run(_csv_hunt(audit, signin, "--format", "jsonl", "--no-fast-path"))

    unused = "the CSV scan started early was not taken by the CSV fast path"
    assert f"{signin}: {unused}, so it is discarded" in log
    assert output == expected
    assert csv_early._early_scans == {}


@pytest.mark.parametrize("mode", [[], ["--lenient"]], ids=["strict", "lenient"])
def test_csv_early_unsupported_same_as_late(tmp_path: Path, mode: list[str]) -> None:
    audit, signin = _csv_corpus(tmp_path)
    # A NUL byte in the last row sends the file to the plain path, which stops
    # the run there unless --lenient drops the NUL.
    rows = signin.read_bytes().splitlines(keepends=True)
    rows[-1] = rows[-1].replace(b"Azure AD", b"Azure\x00AD", 1)
    assert b"\x00" in rows[-1]
    signin.write_bytes(b"".join(rows))
    arguments = _csv_hunt(audit, signin, "--format", "json", *mode)
    late = CliRunner().invoke(main, arguments)
    early_scan.start(arguments)
    _wait_for_csv_scans()
    early = csv_early._early_scans[str(signin)]

    after_early_start = CliRunner().invoke(main, arguments)

    # The NUL byte is in the last row, so the last range raises.
    assert isinstance(early.futures[-1].exception(), fastpath.Unsupported)
    assert f"{signin}: using the CSV scan started early" in after_early_start.stderr
    reason = f"{signin}: read by the plain path: a NUL byte"
    assert reason in late.stderr
    assert reason in after_early_start.stderr
    assert after_early_start.exit_code == late.exit_code
    assert late.exit_code == (0 if mode else 2)
    assert after_early_start.stdout == late.stdout
    late_error = [line for line in late.stderr.splitlines() if "ERROR" in line]
    error = [line for line in after_early_start.stderr.splitlines() if "ERROR" in line]
    assert error == late_error
    # Only strict mode stops at the NUL character.
    assert len(late_error) == (0 if mode else 1)


def _end_worker(path: Path, plan: object, display: str, span: object) -> None:
    """Stand in for the early scan: end the worker as a crash would."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_csv_early_scan_failure_scanned_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, signin = _csv_corpus(tmp_path)
    arguments = _csv_hunt(audit, signin, "--format", "json")
    late, _ = _run(arguments)
    # The workers fork after this, so they run the stand-in.
    monkeypatch.setattr(csv_early, "scan_in_worker", _end_worker)
    early_scan.start(arguments)
    assert fastpath._early_executor is not None
    early_workers = [
        process.pid for process in fastpath._early_executor._processes.values()
    ]

    after_failure, log = _run(arguments)

    assert f"{signin}: the CSV scan in the workers failed, so it runs here" in log
    assert "BrokenProcessPool" in log
    assert after_failure == late
    assert _still_running(early_workers) == []


def test_csv_early_scan_in_console_script(tmp_path: Path) -> None:
    # No test settings reach the subprocess, so the file must pass the fast path's
    # real size threshold.
    audit, signin = _csv_corpus(tmp_path)
    assert signin.stat().st_size >= 1024 * 1024
    arguments = _csv_hunt(audit, signin, "--format", "jsonl")

    early = subprocess.run(
        [str(SCRIPT), *arguments], capture_output=True, text=True, check=True
    )
    plain = subprocess.run(
        [str(SCRIPT), *arguments, "--no-fast-path"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert f"{signin}: using the CSV scan started early" in early.stderr
    assert early.stdout == plain.stdout
    assert plain.stdout


def test_stop_early_ends_csv_workers(tmp_path: Path) -> None:
    audit, signin = _csv_corpus(tmp_path)
    arguments = _csv_hunt(audit, signin, "--format", "json")
    late, _ = _run(arguments)
    early_scan.start(arguments)
    assert set(csv_early._early_scans) == {str(audit), str(signin)}
    workers = [child.pid for child in multiprocessing.active_children()]
    assert workers

    fastpath._stop_early()
    # A run in the same process finds scans whose workers were stopped.
    after_stop, _ = _run(arguments)

    assert fastpath._early_executor is None
    assert _still_running(workers) == []
    assert after_stop == late


def test_csv_slash_dates_without_order_say_why(tmp_path: Path) -> None:
    """Without a date order the fast path hands a slash-date export to the plain
    path, and -v gives the reason before the plain path asks for the order."""
    _, signin = _csv_corpus(tmp_path)

    result = CliRunner().invoke(main, ["hunt", "--signin", str(signin), "-v"])

    assert result.exit_code == 2
    assert (
        f"{signin}: the CSV fast path cannot read this file, so every row is parsed: "
        "slash dates, which it reads only with --dayfirst or --monthfirst"
    ) in result.stderr
    assert "--dayfirst or --monthfirst" in result.stderr.splitlines()[-1]
