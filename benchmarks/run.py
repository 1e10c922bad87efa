"""Measure a complete ``h056 hunt`` against the targets for large exports.

Usage::

    python benchmarks/run.py [--repeat 3] [--skip-3m] [--skip-csv]

Inputs come from ``h056 simulate`` and are cached under ``benchmarks/.cache/``
(git-ignored). They are 1M Graph sign-ins as NDJSON with about 100k audit records,
the same sign-ins as a Graph page, a JSON array, gzip and 96 NDJSON files of about
44 MB, the first 100k of them as NDJSON and as a Log Analytics CSV, and 3M sign-ins
for the scaling check.

Each figure is the fastest of ``--repeat`` runs, with the median beside it, because
other processes share the machine. The load average is printed with every run. A
command compared with the 1M NDJSON hunt runs in rounds with it, one run of each per
round. Its ratio uses the NDJSON runs of those rounds, so a slow spell of the machine
falls on both sides of the ratio.
Peak memory is the largest resident set of the measured process or any of its worker
processes (``ru_maxrss`` of ``wait4``).

Before timing, the h056hunt package is compiled to bytecode, as ``pip install``
does for a regular install. An editable install writes the bytecode at its first
run, but not where ``PYTHONDONTWRITEBYTECODE`` is set. That variable is set on the
machines these figures come from, so every run there compiled the package's
modules again, which took about 0.15 s of CPU.

Results go to stdout and to ``benchmarks/.cache/results.json``.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
# The console script installed beside this interpreter.
H056 = [str(Path(sys.executable).with_name("h056"))]
USERS = 50_000
# Audit rows per user and day: 2.0 gives about 100k audit rows for 1M sign-ins.
AUDIT_RATE = "2.0"
SEED = "6"
PANDAS_RECORDS = 50_000
CSV_RECORDS = 100_000
# The 1M sign-ins also come as this many files of about 44 MB, as exports written
# every 15 minutes: each is too small to split into ranges.
SPLIT_FILES = 96
GIB = 1024**3

TARGET_GREP_RATIO = 2.0
TARGET_RSS_MIB = 512
TARGET_DUCKDB_SPEEDUP = 2.0
TARGET_SCALING = 3.3
TARGET_SHAPE_RATIO = 1.5


@dataclass
class Run:
    """One measured command: wall seconds, peak RSS and the load around it."""

    name: str
    seconds: list[float]
    peak_mib: float
    load_before: float
    load_after: float
    cpu_seconds: list[float]

    @property
    def best(self) -> float:
        """The fastest run, the least disturbed by other processes."""
        return min(self.seconds)

    @property
    def median(self) -> float:
        """The median run."""
        return statistics.median(self.seconds)


def main() -> int:
    """Generate inputs when missing, measure, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure")
    parser.add_argument("--skip-3m", action="store_true", help="no scaling check")
    parser.add_argument("--skip-csv", action="store_true", help="no CSV figure")
    arguments = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    inputs = prepare_inputs(skip_3m=arguments.skip_3m, skip_csv=arguments.skip_csv)
    compile_package()
    runs = measure(inputs, arguments.repeat)
    report = summarise(runs)
    print_report(report)
    (CACHE / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def compile_package() -> None:
    """Write the bytecode of the h056hunt package that the console script runs."""
    located = subprocess.run(
        [sys.executable, "-c", "import h056hunt; print(h056hunt.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    package = Path(located.stdout.strip()).parent
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(
            f"compiling {package} to bytecode failed; see the errors above"
        )


# --- inputs ------------------------------------------------------------------


def prepare_inputs(*, skip_3m: bool, skip_csv: bool) -> dict[str, Path]:
    """Return every input path, generating and caching what is missing."""
    # The 3M input is generated in the background while this process writes the
    # 1M input and its other shapes, so a first run uses both cores.
    run_3m = None if skip_3m else start_simulation("sim3m", days=3)
    try:
        return _prepare_inputs(run_3m, skip_3m=skip_3m, skip_csv=skip_csv)
    finally:
        # When preparing the 1M inputs failed, the 3M simulation is stopped too.
        if run_3m is not None and run_3m.process.poll() is None:
            run_3m.process.kill()
            run_3m.process.wait()


def _prepare_inputs(
    run_3m: Simulation | None, *, skip_3m: bool, skip_csv: bool
) -> dict[str, Path]:
    reserved = 0.0 if run_3m is None else run_3m.need
    run_1m = start_simulation("sim1m", days=1, reserved=reserved)
    folder_1m = finish_simulation("sim1m", run_1m)
    ndjson = folder_1m / "signin.ndjson"
    inputs = {
        "audit": folder_1m / "audit.ndjson",
        "ndjson": ndjson,
        "page": derived(folder_1m / "signin.page.json", ndjson, "page"),
        "array": derived(folder_1m / "signin.array.json", ndjson, "array"),
        "gzip": derived(folder_1m / "signin.ndjson.gz", ndjson, "gzip"),
        "split": split_lines(
            ndjson, CACHE / f"signin-{SPLIT_FILES}-files", SPLIT_FILES
        ),
    }
    if not skip_csv:
        # The 1M records as a Log Analytics CSV export, hunted with the same audit
        # export as the NDJSON. Writing it takes about a minute, once.
        inputs["csv"] = derived(folder_1m / "signin.csv", ndjson, "csv")
        # The first 100k records in both shapes, a figure from before the 1M
        # export was measured.
        slice_ndjson = first_records(ndjson, CSV_RECORDS)
        inputs["ndjson100k"] = slice_ndjson
        inputs["csv100k"] = derived(
            CACHE / f"signin-{CSV_RECORDS}.csv", slice_ndjson, "csv"
        )
    if not skip_3m:
        folder_3m = finish_simulation("sim3m", run_3m)
        inputs["audit3m"] = folder_3m / "audit.ndjson"
        inputs["ndjson3m"] = folder_3m / "signin.ndjson"
    return inputs


@dataclass
class Simulation:
    """A running ``h056 simulate`` and when it started."""

    process: subprocess.Popen[bytes]
    started: float
    need: float


def start_simulation(
    name: str, *, days: int, reserved: float = 0.0
) -> Simulation | None:
    """Start ``h056 simulate`` into the cache unless its output is there.

    ``reserved`` is the disk space that simulations already running still need.
    """
    folder = CACHE / name
    if (folder / "labels.json").is_file():
        return None
    # simulate writes only into a new or empty folder, and a folder without
    # labels.json contains no complete simulation.
    shutil.rmtree(folder, ignore_errors=True)
    need = 4.3e9 * days * 1.1
    free = shutil.disk_usage(CACHE).free - reserved
    if free < need:
        raise SystemExit(
            f"{name} needs about {need / GIB:.0f} GiB of disk and {CACHE} has "
            f"{free / GIB:.0f} GiB free; free space or pass --skip-3m"
        )
    span = "1 day" if days == 1 else f"{days} days"
    print(f"generating {name} ({span} of {USERS} users)...", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            *H056,
            "simulate",
            "--users",
            str(USERS),
            "--days",
            str(days),
            "--seed",
            SEED,
            "--audit-rate",
            AUDIT_RATE,
            "--out",
            str(folder),
        ],
    )
    return Simulation(process, started, need)


def finish_simulation(name: str, simulation: Simulation | None) -> Path:
    """Wait for a simulation started by :func:`start_simulation`."""
    folder = CACHE / name
    if simulation is None:
        return folder
    status = simulation.process.wait()
    if status != 0:
        raise SystemExit(f"h056 simulate for {name} exited with status {status}")
    elapsed = time.perf_counter() - simulation.started
    print(f"  {name} took {elapsed:.0f} s", flush=True)
    return folder


def derived(target: Path, source: Path, kind: str) -> Path:
    """Write the same records in another shape unless the file is there."""
    if target.is_file():
        return target
    print(f"writing {target.name}...", flush=True)
    partial = target.with_suffix(target.suffix + ".part")
    writers: dict[str, Callable[[Path, Path], None]] = {
        "page": lambda src, dst: reframe(src, dst, "graph-page"),
        "array": lambda src, dst: reframe(src, dst, "graph-array"),
        "gzip": compress,
        "csv": to_log_analytics_csv,
    }
    writers[kind](source, partial)
    partial.rename(target)
    return target


def split_lines(source: Path, folder: Path, count: int) -> Path:
    """Write the lines of ``source`` into ``count`` files of about equal size in
    ``folder``, unless the folder is there."""
    if folder.is_dir():
        return folder
    print(f"writing {folder.name}/...", flush=True)
    partial = folder.with_name(folder.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    share = source.stat().st_size // count + 1
    with source.open("rb") as lines:
        for index in range(count):
            written = 0
            with (partial / f"signin-{index:03d}.json").open("wb") as out:
                for line in lines:
                    out.write(line)
                    written += len(line)
                    if written >= share:
                        break
    partial.rename(folder)
    return folder


def reframe(source: Path, target: Path, shape: str) -> None:
    """Write NDJSON lines inside the framing ``h056 simulate`` gives ``shape``."""
    from h056hunt.simulate.output import SIGNIN, _framing

    prefix, separator, suffix = _framing(shape, SIGNIN)
    with source.open("rb") as lines, target.open("wb") as out:
        out.write(prefix.encode())
        first = True
        for line in lines:
            if not first:
                out.write(separator.encode())
            out.write(line.rstrip(b"\n"))
            first = False
        out.write(suffix.encode())


def compress(source: Path, target: Path) -> None:
    """Gzip a file; ISA-L's fastest level when installed, else zlib level 1."""
    try:
        from isal import igzip as module
    except ImportError:
        module = gzip  # type: ignore[no-redef]
    with source.open("rb") as raw, module.open(target, "wb", compresslevel=1) as packed:
        shutil.copyfileobj(raw, packed, 16 * 1024 * 1024)


# Log Analytics SigninLogs columns written by the portal's "Export to CSV", mapped
# from the Graph field; nested values are written as JSON text.
_LA_COLUMNS = (
    ("TenantId", "resourceTenantId"),
    ("TimeGenerated [UTC]", "createdDateTime"),
    ("CreatedDateTime [UTC]", "createdDateTime"),
    ("Id", "id"),
    ("OriginalRequestId", "originalRequestId"),
    ("CorrelationId", "correlationId"),
    ("UserId", "userId"),
    ("UserPrincipalName", "userPrincipalName"),
    ("UserDisplayName", "userDisplayName"),
    ("UserType", "userType"),
    ("IsInteractive", "isInteractive"),
    ("AppId", "appId"),
    ("AppDisplayName", "appDisplayName"),
    ("ResourceDisplayName", "resourceDisplayName"),
    ("IPAddress", "ipAddress"),
    ("LocationDetails", "location"),
    ("UserAgent", "userAgent"),
    ("ClientAppUsed", "clientAppUsed"),
    ("DeviceDetail", "deviceDetail"),
    ("Status", "status"),
    ("ConditionalAccessStatus", "conditionalAccessStatus"),
    ("AuthenticationRequirement", "authenticationRequirement"),
    ("MfaDetail", "mfaDetail"),
    ("RiskLevelDuringSignIn", "riskLevelDuringSignIn"),
    ("RiskLevelAggregated", "riskLevelAggregated"),
    ("RiskState", "riskState"),
    ("AuthenticationDetails", "authenticationDetails"),
)


def to_log_analytics_csv(source: Path, target: Path) -> None:
    """Write the sign-ins as a Log Analytics SigninLogs CSV export."""
    with (
        source.open("rb") as lines,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow([name for name, _ in _LA_COLUMNS] + ["ResultType", "Type"])
        for line in lines:
            record = json.loads(line)
            row = []
            for _, field in _LA_COLUMNS:
                value = record.get(field)
                if isinstance(value, (dict, list)):
                    value = json.dumps(value, separators=(",", ":"))
                row.append("" if value is None else value)
            row += [record["status"]["errorCode"], "SigninLogs"]
            writer.writerow(row)


# --- measuring ---------------------------------------------------------------


def warm(*paths: Path) -> None:
    """Read files once so that the timed runs find them in the page cache.

    The inputs add up to more than the page cache can keep, so a file read several
    measurements ago may have been evicted. Its first timed run would then read the
    disk and the others would not.
    """
    buffer = bytearray(8 * 1024 * 1024)
    for path in paths:
        with path.open("rb", buffering=0) as raw:
            while raw.readinto(buffer):
                pass


@dataclass
class Command:
    """A command to measure: its name, its argument list and its Popen options."""

    name: str
    argv: list[str]
    popen: dict[str, object] = field(default_factory=dict)


def timed(
    name: str,
    command: list[str],
    repeat: int,
    inputs: tuple[Path, ...] = (),
    **popen: object,
) -> Run:
    """Run ``command`` ``repeat`` times; keep wall times and the peak RSS.

    ``inputs`` are read once before the first run (see :func:`warm`).
    """
    (run,) = timed_together([Command(name, command, popen)], repeat, inputs)
    return run


def timed_together(
    commands: list[Command], repeat: int, inputs: tuple[Path, ...] = ()
) -> list[Run]:
    """Run ``commands`` in ``repeat`` rounds, each command once per round.

    A ratio of two figures measured in the same rounds is not moved by a slow
    minute that falls on only one of them, as it is when all the runs of one
    command come before those of the other. Each round starts one command later
    than the round before, so no command always runs first.
    """
    warm(*inputs)
    seconds: list[list[float]] = [[] for _ in commands]
    cpu: list[list[float]] = [[] for _ in commands]
    peak = [0] * len(commands)
    load_before = os.getloadavg()[0]
    for round_number in range(repeat):
        for offset in range(len(commands)):
            index = (round_number + offset) % len(commands)
            command = commands[index]
            started = time.perf_counter()
            process = subprocess.Popen(command.argv, **command.popen)  # type: ignore[call-overload]
            _, status, usage = os.wait4(process.pid, 0)
            seconds[index].append(time.perf_counter() - started)
            # The usage of a process includes the worker processes it waited for.
            cpu[index].append(usage.ru_utime + usage.ru_stime)
            if os.waitstatus_to_exitcode(status) not in (0, 1):
                raise SystemExit(f"{command.name}: {' '.join(command.argv)} failed")
            peak[index] = max(peak[index], usage.ru_maxrss)
    load_after = os.getloadavg()[0]
    runs = []
    for index, command in enumerate(commands):
        run = Run(
            command.name,
            seconds[index],
            peak[index] / 1024,
            load_before,
            load_after,
            cpu[index],
        )
        print(
            f"  {run.name:<28} best {run.best:7.2f} s  median {run.median:7.2f} s  "
            f"CPU {min(run.cpu_seconds):7.2f} s  peak {run.peak_mib:7.0f} MiB  "
            f"load {run.load_before:.1f}->{run.load_after:.1f}",
            flush=True,
        )
        runs.append(run)
    return runs


def hunt(audit: Path | None, signin: Path, *extra: str) -> list[str]:
    """Return the command of a complete hunt: both logs, detection, findings to a
    file."""
    output = CACHE / "findings.jsonl"
    audit_option = ["--audit", str(audit)] if audit is not None else []
    return [
        *H056,
        "hunt",
        *audit_option,
        "--signin",
        str(signin),
        "--format",
        "jsonl",
        "--output",
        str(output),
        "--quiet",
        *extra,
    ]


def measure(inputs: dict[str, Path], repeat: int) -> dict[str, Run]:
    """Run every measured command.

    Each command compared with the 1M NDJSON hunt runs in rounds with that hunt
    (see :func:`timed_together`), and its ratio uses the NDJSON hunt of its own
    rounds, stored as ``ndjson_beside_<name>``.
    """
    runs = "1 run" if repeat == 1 else f"{repeat} runs"
    print(
        f"measuring, {runs} each, in rounds with the runs they are compared with:",
        flush=True,
    )
    quiet: dict[str, object] = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    audit = inputs["audit"]
    ndjson = inputs["ndjson"]

    def ndjson_hunt(beside: str) -> Command:
        return Command(f"hunt NDJSON 1M, {beside}", hunt(audit, ndjson), quiet)

    measured: dict[str, Run] = {}
    # grep and DuckDB read the same file as the NDJSON hunt.
    measured["grep"], measured["ndjson"], measured["duckdb"] = timed_together(
        [
            Command(
                "grep -c 500121 (1M)",
                ["grep", "-c", "500121", str(ndjson)],
                {"stdout": subprocess.PIPE},
            ),
            Command("hunt NDJSON 1M", hunt(audit, ndjson)),
            Command(
                "duckdb columns + join (1M)",
                [
                    sys.executable,
                    str(HERE / "duckdb_join.py"),
                    str(audit),
                    str(ndjson),
                ],
                {"stdout": subprocess.PIPE},
            ),
        ],
        repeat,
        (audit, ndjson),
    )
    parts = sorted(inputs["split"].iterdir())
    others = [
        ("page", "hunt page 1M", (inputs["page"],)),
        ("array", "hunt array 1M", (inputs["array"],)),
        ("gzip", "hunt gzip 1M", (inputs["gzip"],)),
        ("split", f"hunt NDJSON 1M, {len(parts)} files", tuple(parts)),
    ]
    if "csv" in inputs:
        others.append(("csv", "hunt CSV 1M", (inputs["csv"],)))
    for key, name, files in others:
        measured[key], measured[f"ndjson_beside_{key}"] = timed_together(
            [
                Command(name, hunt(audit, inputs[key]), quiet),
                ndjson_hunt(f"with {key}"),
            ],
            repeat,
            (audit, ndjson, *files),
        )
    if "csv100k" in inputs:
        # Sign-ins only: the 1M audit export spans a day, the slice two hours.
        measured["csv100k"], measured["ndjson100k"] = timed_together(
            [
                Command("hunt csv100k", hunt(None, inputs["csv100k"]), quiet),
                Command("hunt ndjson100k", hunt(None, inputs["ndjson100k"]), quiet),
            ],
            repeat,
            (inputs["csv100k"], inputs["ndjson100k"]),
        )
    if "ndjson3m" in inputs:
        audit3m, ndjson3m = inputs["audit3m"], inputs["ndjson3m"]
        measured["ndjson3m"], measured["ndjson_beside_ndjson3m"] = timed_together(
            [
                Command("hunt NDJSON 3M", hunt(audit3m, ndjson3m)),
                ndjson_hunt("with 3M"),
            ],
            max(1, repeat - 1),
            (audit3m, ndjson3m, audit, ndjson),
        )
        # The 3M sign-ins with the 1M audit export: memory that grows with the
        # sign-ins alone, apart from the revocations that the 3M audit adds.
        measured["ndjson3m_audit1m"] = timed(
            "hunt NDJSON 3M, 1M audit", hunt(audit, ndjson3m), 1, (audit, ndjson3m)
        )
    sample = first_records(ndjson, PANDAS_RECORDS)
    measured["pandas"] = timed(
        f"pandas.read_json {PANDAS_RECORDS // 1000}k",
        [
            sys.executable,
            "-c",
            "import sys, pandas; pandas.read_json(sys.argv[1], lines=True)",
            str(sample),
        ],
        repeat,
    )
    return measured


def beside(runs: dict[str, Run], key: str) -> float:
    """Return the best NDJSON hunt of the rounds in which ``key`` was measured."""
    return runs[f"ndjson_beside_{key}"].best


def first_records(source: Path, count: int) -> Path:
    """Write the first ``count`` lines of ``source`` to a file of their own."""
    target = CACHE / f"signin-{count}.ndjson"
    if not target.is_file():
        with source.open("rb") as lines, target.open("wb") as out:
            for _, line in zip(range(count), lines, strict=False):
                out.write(line)
    return target


# --- report ------------------------------------------------------------------


def summarise(runs: dict[str, Run]) -> dict[str, object]:
    """Return the figures, the ratios and whether each target is met."""
    ndjson = runs["ndjson"].best
    checks = [
        check("wall vs grep -c", ndjson / runs["grep"].best, TARGET_GREP_RATIO),
        check(
            "peak RSS MiB (largest process)",
            runs["ndjson"].peak_mib,
            TARGET_RSS_MIB,
        ),
        check(
            "DuckDB time / hunt time",
            runs["duckdb"].best / ndjson,
            TARGET_DUCKDB_SPEEDUP,
            at_least=True,
        ),
    ]
    if "ndjson3m" in runs:
        scaling = runs["ndjson3m"].best / beside(runs, "ndjson3m")
        checks.append(check("3M / 1M time", scaling, TARGET_SCALING))
        checks.append(
            check("peak RSS MiB at 3M", runs["ndjson3m"].peak_mib, TARGET_RSS_MIB)
        )
    for shape in ("page", "array", "gzip"):
        checks.append(
            check(
                f"{shape} / NDJSON time",
                runs[shape].best / beside(runs, shape),
                TARGET_SHAPE_RATIO,
            )
        )
    if "csv" in runs:
        checks.append(
            check(
                "CSV / NDJSON time",
                runs["csv"].best / beside(runs, "csv"),
                TARGET_SHAPE_RATIO,
            )
        )
        checks.append(
            check("peak RSS MiB, CSV 1M", runs["csv"].peak_mib, TARGET_RSS_MIB)
        )
    growth: dict[str, float] = {}
    if "ndjson3m_audit1m" in runs:
        # Each of the 2M sign-ins past the first million, with the same audit.
        extra = runs["ndjson3m_audit1m"].peak_mib - runs["ndjson"].peak_mib
        growth["peak RSS MiB per 1M more sign-ins"] = round(extra / 2, 1)
    if "ndjson3m" in runs and "ndjson3m_audit1m" in runs:
        extra = runs["ndjson3m"].peak_mib - runs["ndjson3m_audit1m"].peak_mib
        growth["peak RSS MiB for 230k more audit rows"] = round(extra, 1)
    # CPU time varies less with the host's load than wall time does, and the
    # CPU of a run over the cores bounds how short its wall time can be.
    cores = os.cpu_count() or 1
    hunt_cpu = min(runs["ndjson"].cpu_seconds)
    cpu = {
        "DuckDB CPU / hunt CPU": round(min(runs["duckdb"].cpu_seconds) / hunt_cpu, 2),
        f"gzip CPU / {cores} cores, s": round(min(runs["gzip"].cpu_seconds) / cores, 2),
        "1.5 x NDJSON time beside gzip, s": round(
            TARGET_SHAPE_RATIO * beside(runs, "gzip"), 2
        ),
    }
    other: dict[str, float] = {
        f"{SPLIT_FILES} files / one file time, 1M": round(
            runs["split"].best / beside(runs, "split"), 2
        ),
    }
    if "csv100k" in runs:
        other["CSV / NDJSON time, 100k, no audit"] = round(
            runs["csv100k"].best / runs["ndjson100k"].best, 2
        )
    return {
        "machine": machine(),
        "runs": {key: asdict(run) | {"best": run.best} for key, run in runs.items()},
        "pandas_records": PANDAS_RECORDS,
        "checks": checks,
        "growth": growth,
        "cpu": cpu,
        "other": other,
    }


def check(
    name: str, value: float, target: float, *, at_least: bool = False
) -> dict[str, object]:
    """Return one target check."""
    met = value >= target if at_least else value <= target
    bound = ">=" if at_least else "<="
    return {"name": name, "value": round(value, 2), "target": f"{bound} {target}"} | {
        "met": met
    }


def machine() -> dict[str, object]:
    """Describe the machine the figures come from."""
    model = ""
    for line in _lines(["lscpu"]):
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
        ),
        "python": platform.python_version(),
    }


def _lines(command: list[str]) -> Iterator[str]:
    try:
        output = subprocess.run(command, capture_output=True, text=True).stdout
    except OSError:
        return iter(())
    return iter(output.splitlines())


def print_report(report: dict[str, object]) -> None:
    """Print the target checks."""
    print("\ntargets:")
    for item in report["checks"]:  # type: ignore[attr-defined]
        mark = "met" if item["met"] else "NOT MET"
        print(
            f"  {item['name']:<32} {item['value']:>8} (target {item['target']}) {mark}"
        )
    growth = report.get("growth") or {}
    if growth:
        print("\nmemory growth (not a target):")
    for name, value in growth.items():  # type: ignore[attr-defined]
        print(f"  {name:<40} {value:>8}")
    cpu = report.get("cpu") or {}
    if cpu:
        print("\nCPU (not a target):")
    for name, value in cpu.items():  # type: ignore[attr-defined]
        print(f"  {name:<40} {value:>8}")
    other = report.get("other") or {}
    if other:
        print("\nother figures (not targets):")
    for name, value in other.items():  # type: ignore[attr-defined]
        print(f"  {name:<40} {value:>8}")
    pandas = report["runs"]["pandas"]  # type: ignore[index]
    print(
        f"\npandas.read_json(lines=True) took {pandas['best']:.1f} s and "
        f"{pandas['peak_mib']:.0f} MiB for {PANDAS_RECORDS} records"
    )


if __name__ == "__main__":
    raise SystemExit(main())
