"""Simulated Entra ID audit and sign-in logs with labelled revocation-bombing attacks.

``simulate`` writes ``audit.<ext>``, ``signin.<ext>`` and ``labels.json``. The two
``iter_*_records`` generators yield the same Graph-shaped records one at a time.
"""

from h056hunt.simulate.command import simulate_command
from h056hunt.simulate.config import (
    DEFAULT_SCENARIOS,
    SCENARIO_NAMES,
    SHAPES,
    SimulationConfig,
)
from h056hunt.simulate.output import SimulationResult, simulate
from h056hunt.simulate.stream import iter_audit_records, iter_signin_records

__all__ = [
    "DEFAULT_SCENARIOS",
    "SCENARIO_NAMES",
    "SHAPES",
    "SimulationConfig",
    "SimulationResult",
    "iter_audit_records",
    "iter_signin_records",
    "simulate",
    "simulate_command",
]
