"""Time ``h056 hunt`` on the local engine and on Spark in local mode.

The input is a simulated tenant written by ``h056 simulate`` in the diagnostic
settings shape and laid out as a storage account receives it: one ``PT1H.json`` blob
per hour under ``y=/m=/d=/h=/m=00`` folders. It is cached under
``benchmarks/.cache/`` by its options, so a rerun times the hunt only.

Each engine runs as its own ``h056`` process with ``--format jsonl``, so the Spark
figure includes starting the JVM and the session, as a user would see it. The script
checks that both engines wrote the same findings and prints both wall times and
their ratio.

    python benchmarks/spark_local.py                  # 600 users, 2 days
    python benchmarks/spark_local.py --users 1500 --master 'local[2]'
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
CONTAINERS = {"audit": "insights-logs-auditlogs", "signin": "insights-logs-signinlogs"}
TENANT_FOLDER = "tenantId=00000000-0000-4000-8000-000000000001"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=600, help="simulated users")
    parser.add_argument("--days", type=int, default=2, help="simulated days")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed")
    parser.add_argument(
        "--master", default="local[*]", help="Spark master (default local[*])"
    )
    parser.add_argument(
        "--shuffle-partitions",
        type=int,
        default=8,
        help="spark.sql.shuffle.partitions for the Spark run (default 8)",
    )
    arguments = parser.parse_args()

    lake = _lake(arguments.users, arguments.days, arguments.seed)
    inputs = [
        "--audit",
        str(lake / CONTAINERS["audit"]),
        "--signin",
        str(lake / CONTAINERS["signin"]),
    ]
    spark_options = [
        "--engine",
        "spark",
        "--spark-master",
        arguments.master,
        "--spark-conf",
        f"spark.sql.shuffle.partitions={arguments.shuffle_partitions}",
    ]
    local_seconds, local_output = _time_hunt(inputs)
    spark_seconds, spark_output = _time_hunt([*inputs, *spark_options])
    if local_output != spark_output:
        print("the engines wrote different findings", file=sys.stderr)
        return 1

    findings = len(local_output.splitlines())
    size = sum(path.stat().st_size for path in lake.rglob("PT1H.json"))
    print(f"input: {_describe(lake)}, {size / 1e6:.0f} MB, {findings} findings")
    print(f"machine: {os.cpu_count()} CPUs, {_memory()}, {platform.platform()}")
    print(f"local engine: {local_seconds:.1f} s")
    print(f"spark engine ({arguments.master}): {spark_seconds:.1f} s")
    print(f"spark / local: {spark_seconds / local_seconds:.2f}")
    return 0


def _lake(users: int, days: int, seed: int) -> Path:
    """Return the cached hourly layout of one simulation, writing it if missing."""
    lake = CACHE / f"lake-u{users}-d{days}-s{seed}"
    if (lake / "complete").is_file():
        return lake
    shutil.rmtree(lake, ignore_errors=True)
    flat = lake / "simulated"
    command = [
        _h056(),
        "simulate",
        "--users",
        str(users),
        "--days",
        str(days),
        "--seed",
        str(seed),
        "--signin-shape",
        "diagnostic-ndjson",
        "--audit-shape",
        "diagnostic-ndjson",
        "--out",
        str(flat),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    for log, container in CONTAINERS.items():
        _write_hourly(flat / f"{log}.ndjson", lake / container)
    shutil.rmtree(flat)
    (lake / "complete").write_text(f"{users} users, {days} days, seed {seed}\n")
    return lake


def _write_hourly(source: Path, container: Path) -> None:
    """Split diagnostic records into one PT1H.json blob per hour."""
    blobs: dict[Path, list[str]] = {}
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            stamp = json.loads(line)["time"]
            hour = (
                f"y={stamp[0:4]}/m={stamp[5:7]}/d={stamp[8:10]}/h={stamp[11:13]}/m=00"
            )
            path = container / TENANT_FOLDER / hour / "PT1H.json"
            blobs.setdefault(path, []).append(line.rstrip("\n") + "\n")
    for path, records in blobs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(records), encoding="utf-8")


def _time_hunt(arguments: list[str]) -> tuple[float, str]:
    """Run one hunt in its own process; return its wall time and its stdout."""
    command = [
        _h056(),
        "hunt",
        *arguments,
        "--format",
        "jsonl",
        "--fail-on",
        "none",
        "--quiet",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"h056 hunt failed with exit code {result.returncode}")
    return elapsed, result.stdout


def _h056() -> str:
    """Return the h056 script of the interpreter running this benchmark."""
    beside = Path(sys.executable).with_name("h056")
    return str(beside) if beside.is_file() else shutil.which("h056") or "h056"


def _describe(lake: Path) -> str:
    return (lake / "complete").read_text().strip() + (
        f", {sum(1 for _ in lake.rglob('PT1H.json'))} hourly blobs"
    )


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            kilobytes = int(info.readline().split()[1])
    except (OSError, ValueError, IndexError):
        return "memory unknown"
    return f"{kilobytes / 1024**2:.0f} GiB"


if __name__ == "__main__":
    sys.exit(main())
