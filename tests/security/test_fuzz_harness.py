"""Keep the fuzz harness working: its seeds load and a short run of each target passes.

The long runs are ``python fuzz/run.py --seconds N``; this only checks that the
harness and the product still fit together, with a handful of examples per target.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))

import oracles  # noqa: E402 - needs the fuzz folder on the path first
import strategies  # noqa: E402 - needs the fuzz folder on the path first

SEEDS = sorted((FUZZ / "seeds").iterdir())
SHORT = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("seed", SEEDS, ids=[path.name for path in SEEDS])
def test_seed_loads_cleanly(seed: Path) -> None:
    oracles.check_load(seed.read_bytes(), seed.name)


@pytest.mark.parametrize("seed", SEEDS, ids=[path.name for path in SEEDS])
def test_seed_hunts_cleanly(seed: Path) -> None:
    oracles.check_cli(seed.read_bytes(), seed.name, "table")


@SHORT
@given(strategies.json_exports())
def test_generated_json_loads(data: bytes) -> None:
    oracles.check_load(data, "export.json")


@SHORT
@given(strategies.csv_exports())
def test_generated_csv_loads(data: bytes) -> None:
    oracles.check_load(data, "export.csv")


@SHORT
@given(strategies.mutated_seeds())
def test_mutated_seed_loads(named: tuple[str, bytes]) -> None:
    name, data = named
    oracles.check_load(data, name)


@SHORT
@given(strategies.mutated_seeds(), st.sampled_from(oracles.FORMATS))
def test_mutated_seed_hunts(named: tuple[str, bytes], output_format: str) -> None:
    name, data = named
    oracles.check_cli(data, name, output_format)
