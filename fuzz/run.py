"""Fuzz h056hunt for a set time and keep every input that breaks it.

Usage::

    python fuzz/run.py --seconds 600
    python fuzz/run.py --seconds 300 --engine atheris
    python fuzz/run.py --seconds 60 --targets json csv

The hypothesis engine cycles through the targets below in batches, each batch with a
fresh random seed, until the time is up. Hypothesis shrinks a failing input, and the
smallest input per failure signature is saved under ``fuzz/crashes/`` as
``<target>-<signature>.bin``, with the traceback in a ``.txt`` beside it. The
atheris engine (coverage-guided, when ``pip install atheris`` works) runs
``atheris_fuzz.py`` with the seeds as its starting corpus and saves crashes in the
same folder.

Targets:

* ``json``: generated JSON exports (every shape, every container), loaded;
* ``csv``: generated CSV exports, loaded;
* ``mutate``: seed files with random byte edits, loaded;
* ``raw``: arbitrary bytes, loaded;
* ``cli``: generated or mutated exports through ``h056 hunt`` in a random format.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FUZZ = Path(__file__).resolve().parent
sys.path.insert(0, str(FUZZ))

import oracles  # noqa: E402 - needs the fuzz folder on the path first
import strategies  # noqa: E402 - needs the fuzz folder on the path first
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CRASHES = FUZZ / "crashes"
BATCH_EXAMPLES = 200


@dataclass
class Campaign:
    """Record of one fuzzer run: examples per target and crashes found."""

    examples: Counter[str] = field(default_factory=Counter)
    batches: Counter[str] = field(default_factory=Counter)
    crashes: dict[str, str] = field(default_factory=dict)


def signature(error: BaseException) -> str:
    """Name a failure by its type and innermost h056hunt frame, to de-duplicate."""
    frames = traceback.extract_tb(error.__traceback__)
    inside = [frame for frame in frames if "h056hunt" in frame.filename]
    location = "?"
    if inside or frames:
        where = inside[-1] if inside else frames[-1]
        location = f"{Path(where.filename).name}:{where.lineno}"
    if isinstance(error, oracles.Violation):
        location = str(error).split(":")[0][:60]
    text = f"{type(error).__name__}@{location}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def save_crash(target: str, data: bytes, name: str, error: BaseException) -> str:
    """Keep the smallest input per failure signature; return the signature."""
    CRASHES.mkdir(exist_ok=True)
    key = f"{target}-{signature(error)}"
    path = CRASHES / f"{key}.bin"
    if not path.exists() or len(data) < path.stat().st_size:
        path.write_bytes(data)
        details = "".join(traceback.format_exception(error))
        header = f"target: {target}\nfile name: {name}\ninput bytes: {len(data)}\n"
        (CRASHES / f"{key}.txt").write_text(f"{header}\n{details}", encoding="utf-8")
    return key


def hypothesis_targets(
    campaign: Campaign,
) -> dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]]:
    """Return each target's input strategy and the check that records failures."""

    def recorded(target: str, check: Callable[[bytes, str, str], None]) -> Any:
        def run(drawn: tuple[bytes, str, str]) -> None:
            data, name, output_format = drawn
            campaign.examples[target] += 1
            try:
                check(data, name, output_format)
            except Exception as error:
                label = f"{name} --format {output_format}" if target == "cli" else name
                campaign.crashes[save_crash(target, data, label, error)] = target
                raise

        return run

    def load(data: bytes, name: str, output_format: str) -> None:
        oracles.check_load(data, name)

    no_format = st.just("")
    named_json = st.tuples(strategies.json_exports(), st.just("export.json"))
    named_csv = st.tuples(strategies.csv_exports(), st.just("export.csv"))
    mutated = strategies.mutated_seeds().map(lambda pair: (pair[1], pair[0]))
    raw = st.tuples(st.binary(max_size=4096), st.sampled_from(["raw.json", "raw.csv"]))
    any_input = st.one_of(named_json, named_csv, mutated)
    with_format = any_input.flatmap(
        lambda pair: st.tuples(
            st.just(pair[0]), st.just(pair[1]), st.sampled_from(oracles.FORMATS)
        )
    )
    inputs = {
        "json": named_json,
        "csv": named_csv,
        "mutate": mutated,
        "raw": raw,
    }
    targets: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
        name: (
            strategy.flatmap(
                lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), no_format)
            ),
            recorded(name, load),
        )
        for name, strategy in inputs.items()
    }
    targets["cli"] = (with_format, recorded("cli", oracles.check_cli))
    return targets


def run_hypothesis(seconds: float, targets: list[str], campaign: Campaign) -> None:
    available = hypothesis_targets(campaign)
    options = settings(
        max_examples=BATCH_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
        print_blob=False,
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for target in targets:
            if time.monotonic() >= deadline:
                break
            strategy, check = available[target]
            campaign.batches[target] += 1
            # A fresh test per batch: hypothesis draws a new random seed for each.
            test = options(given(strategy)(check))
            try:
                test()
            except Exception as error:
                print(f"[{target}] failure: {type(error).__name__}: {error}"[:400])


def run_atheris(seconds: float, campaign: Campaign) -> None:
    """Run the atheris harness, restarting after each crash, until time is up."""
    corpus = FUZZ / "corpus"
    corpus.mkdir(exist_ok=True)
    CRASHES.mkdir(exist_ok=True)
    deadline = time.monotonic() + seconds
    while (remaining := int(deadline - time.monotonic())) > 5:
        process = subprocess.run(
            [
                sys.executable,
                str(FUZZ / "atheris_fuzz.py"),
                f"-max_total_time={remaining}",
                f"-artifact_prefix={CRASHES}/atheris-",
                "-rss_limit_mb=4096",
                "-timeout=60",
                str(corpus),
                str(FUZZ / "seeds"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        campaign.batches["atheris"] += 1
        runs = [
            line
            for line in process.stderr.splitlines()
            if "#" in line and "exec/s" in line
        ]
        if runs:
            campaign.examples["atheris"] = max(
                campaign.examples["atheris"], _atheris_executions(runs[-1])
            )
        if process.returncode == 0:
            break
        for artifact in CRASHES.glob("atheris-*"):
            campaign.crashes.setdefault(artifact.name, "atheris")
        print(process.stderr[-3000:])


def _atheris_executions(status_line: str) -> int:
    first = status_line.split()[0].lstrip("#")
    return int(first) if first.isdigit() else 0


def parse_options(arguments: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=60, help="time to run, in seconds"
    )
    parser.add_argument(
        "--engine", choices=("hypothesis", "atheris", "both"), default="hypothesis"
    )
    parser.add_argument(
        "--no-fast-path",
        action="store_true",
        help="fuzz the plain loading path only (sets H056_NO_FAST_PATH=1)",
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=("json", "csv", "mutate", "raw", "cli"),
        default=["json", "csv", "mutate", "raw", "cli"],
        help="hypothesis targets, run in turn",
    )
    return parser.parse_args(arguments)


def main(arguments: list[str] | None = None) -> int:
    options = parse_options(arguments)
    if options.no_fast_path:
        os.environ["H056_NO_FAST_PATH"] = "1"
    campaign = Campaign()
    started = time.monotonic()

    # With both engines, hypothesis gets the first half of the time.
    if options.engine in ("hypothesis", "both"):
        share = options.seconds
        if options.engine == "both":
            share = options.seconds / 2
        run_hypothesis(share, options.targets, campaign)
    if options.engine in ("atheris", "both"):
        run_atheris(options.seconds - (time.monotonic() - started), campaign)

    summary: dict[str, Any] = {
        "seconds": round(time.monotonic() - started),
        "engine": options.engine,
        "fast_path": not options.no_fast_path,
        "examples": dict(campaign.examples),
        "batches": dict(campaign.batches),
        "crashes": sorted(campaign.crashes),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    return 1 if campaign.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
