"""Measure peak memory and time of ``h056 hunt`` on files with one huge line or record.

Usage::

    python benchmarks/huge_records.py [--megabytes 300]

Each input contains two ordinary sign-ins and, between them, one line or record of
``--megabytes`` MiB, written in chunks under a temporary folder and removed at the
end. Each run is a child process that reports its own peak resident set size
(``VmHWM`` from ``/proc/self/status``, Linux only) at exit: ``ru_maxrss`` is no use
here, because Linux carries the parent's peak over the fork and exec of the child.

The baseline is the same run on the two ordinary sign-ins alone; the extra memory
of each input is its peak minus the baseline.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CHUNK = b"A" * (8 * 1024 * 1024)
SIGNIN = {
    "id": "S1",
    "createdDateTime": "2025-01-02T03:01:00Z",
    "userId": "00000000-0000-4000-8000-000000000b0b",
    "status": {"errorCode": 500121},
}
MEASURED_CLI = """
import atexit, sys
def report_peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("peak-rss-kib " + line.split()[1] + "\\n")
atexit.register(report_peak)
from h056hunt.cli import main
sys.argv[0] = "h056"
main()
"""


def ordinary(record_id: str) -> bytes:
    return (json.dumps({**SIGNIN, "id": record_id}) + "\n").encode()


def write_chunks(stream: object, megabytes: int) -> None:
    for _ in range(megabytes // 8):
        stream.write(CHUNK)  # type: ignore[attr-defined]


def ndjson_line(path: Path, megabytes: int) -> None:
    with path.open("wb") as stream:
        stream.write(ordinary("S1") + b'{"id": "huge", "pad": "')
        write_chunks(stream, megabytes)
        stream.write(b'"}\n' + ordinary("S2"))


def gzip_line(path: Path, megabytes: int) -> None:
    with gzip.open(path, "wb", compresslevel=1) as stream:
        stream.write(ordinary("S1") + b'{"id": "huge", "pad": "')
        write_chunks(stream, megabytes)
        stream.write(b'"}\n' + ordinary("S2"))


def csv_row(path: Path, megabytes: int) -> None:
    header = b"Date (UTC),Request ID,User ID,Status,Sign-in error code\n"
    row = b"2025-01-02T03:01:00Z,R%d,u,Failure,500121\n"
    with path.open("wb") as stream:
        stream.write(header + row % 1 + b"2025-01-02T03:02:00Z,R2,")
        write_chunks(stream, megabytes)
        stream.write(b",Failure,500121\n" + row % 3)


def pretty_document(path: Path, megabytes: int) -> None:
    with path.open("wb") as stream:
        stream.write(b'{\n  "value": [\n    ' + ordinary("S1").strip() + b",\n")
        stream.write(b'    {"id": "huge", "pad": "')
        write_chunks(stream, megabytes)
        stream.write(b'"},\n    ' + ordinary("S2").strip() + b"\n  ]\n}\n")


def utf16_ndjson_line(path: Path, megabytes: int) -> None:
    chunk = CHUNK.decode().encode("utf-16-le")
    with path.open("wb") as stream:
        head = ordinary("S1").decode() + '{"id": "huge", "pad": "'
        stream.write(head.encode("utf-16"))
        for _ in range(megabytes // 8):
            stream.write(chunk)
        tail = '"}\n' + ordinary("S2").decode()
        stream.write(tail.encode("utf-16-le"))


def utf16_pretty_document(path: Path, megabytes: int) -> None:
    chunk = CHUNK.decode().encode("utf-16-le")
    first = ordinary("S1").decode().strip()
    second = ordinary("S2").decode().strip()
    with path.open("wb") as stream:
        head = '{\n  "value": [\n    ' + first + ',\n    {"id": "huge", "pad": "'
        stream.write(head.encode("utf-16"))
        for _ in range(megabytes // 8):
            stream.write(chunk)
        tail = '"},\n    ' + second + "\n  ]\n}\n"
        stream.write(tail.encode("utf-16-le"))


# In the UTF-16 inputs the huge line or record has --megabytes Mi characters, so
# the file is twice as large.
INPUTS: dict[str, tuple[str, Callable[[Path, int], None]]] = {
    "NDJSON, one huge line": ("huge.json", ndjson_line),
    "NDJSON in gzip, one huge line": ("huge.json.gz", gzip_line),
    "CSV, one huge row": ("huge.csv", csv_row),
    "pretty JSON page, one huge record": ("huge_page.json", pretty_document),
    "UTF-16 NDJSON, one huge line": ("huge16.json", utf16_ndjson_line),
    "UTF-16 pretty JSON page, one huge record": (
        "huge16_page.json",
        utf16_pretty_document,
    ),
}


def run(path: Path, *options: str) -> tuple[int, float, int]:
    """Run ``h056 hunt --lenient`` on ``path``; return exit code, seconds, peak KiB."""
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-c", MEASURED_CLI, "hunt", "--lenient", "-q"]
        + ["--signin", str(path), "--format", "jsonl", "--fail-on", "none", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    seconds = time.perf_counter() - started
    peaks = [
        int(line.split()[1])
        for line in process.stderr.decode().splitlines()
        if line.startswith("peak-rss-kib")
    ]
    return process.returncode, seconds, peaks[-1] if peaks else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=300)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="h056-huge-"))
    try:
        baseline_path = folder / "small.json"
        baseline_path.write_bytes(ordinary("S1") + ordinary("S2"))
        _, seconds, baseline = run(baseline_path)
        print(f"baseline: {baseline / 1024:.0f} MiB peak, {seconds:.1f} s")
        print("| input | limit | exit | seconds | peak MiB | above baseline MiB |")
        print("|---|---|---|---|---|---|")
        for label, (name, write) in INPUTS.items():
            path = folder / name
            write(path, options.megabytes)
            for limit in ("64M", "16M"):
                code, seconds, peak = run(path, "--max-record-size", limit)
                extra = (peak - baseline) / 1024
                print(
                    f"| {label} | {limit} | {code} | {seconds:.1f} | "
                    f"{peak / 1024:.0f} | {extra:.0f} |"
                )
            path.unlink()
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
