"""The scenario registry and the planner that places every scenario in time.

Each selected scenario gets its own slot of the simulated period, in a seeded random
order, so two scenarios never share a target and no admin revokes users of two
scenarios close enough together to look like one campaign.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from h056hunt.simulate import attacks, benign, variations
from h056hunt.simulate.audits import AuditSpec
from h056hunt.simulate.clock import TICKS_PER_DAY, TICKS_PER_HOUR
from h056hunt.simulate.config import (
    ADMIN_ACCOUNT_COUNT,
    SCENARIO_NAMES,
    SCENARIO_TARGET_COUNTS,
    SimulationConfig,
)
from h056hunt.simulate.identities import Directory
from h056hunt.simulate.plan import PlanBuilder, ScenarioOutcome, Slot, label_entry
from h056hunt.simulate.signins import SignInSpec

Planner = Callable[[PlanBuilder, Slot], ScenarioOutcome]

PLANNERS: dict[str, Planner] = {
    "chain_approved": attacks.plan_chain_approved,
    "chain_no_approval": attacks.plan_chain_no_approval,
    "campaign": attacks.plan_campaign,
    "helpdesk_benign": benign.plan_helpdesk_benign,
    "self_revocation": benign.plan_self_revocation,
    "add_user": benign.plan_add_user,
    "stray_denial": benign.plan_stray_denial,
    "interrupts_then_success": benign.plan_interrupts_then_success,
    "burst_before_revocation": attacks.plan_burst_before_revocation,
    "burst_across_bucket_boundary": variations.plan_burst_across_bucket_boundary,
    "slow_drip": variations.plan_slow_drip,
    "ip_per_prompt": variations.plan_ip_per_prompt,
    "late_bombing": variations.plan_late_bombing,
    "steps_only": variations.plan_steps_only,
    "daily_denier": benign.plan_daily_denier,
    "fast_flood": variations.plan_fast_flood,
}

# Slots leave the first hour and the last three hours of the period free, so the
# longest scenario (bombing 75 minutes after a revocation) ends inside the period.
LEAD_IN_TICKS = TICKS_PER_HOUR
TAIL_TICKS = 3 * TICKS_PER_HOUR


@dataclass(frozen=True)
class ScenarioPlan:
    """Every scenario's specs, sorted by time, and its labels.

    Attributes:
        signin_specs: sign-ins of all scenarios, sorted by (time, sequence).
        audit_specs: audit rows of all scenarios, sorted by (time, sequence).
        labels: one ``labels.json`` entry per scenario, in ``SCENARIO_NAMES`` order.
        quiet_windows: per user index, tick ranges where noise must not fall.
    """

    signin_specs: list[SignInSpec]
    audit_specs: list[AuditSpec]
    labels: list[dict[str, Any]]
    quiet_windows: dict[int, list[tuple[int, int]]]


def plan_scenarios(
    config: SimulationConfig, directory: Directory, period_start: int
) -> ScenarioPlan:
    """Place each selected scenario in its own slot and plan its events."""
    rng = random.Random(f"{config.seed}/scenarios")
    names = [name for name in SCENARIO_NAMES if name in config.scenarios]

    candidates = list(range(ADMIN_ACCOUNT_COUNT, directory.pool_size))
    rng.shuffle(candidates)
    targets = {}
    for name in names:
        count = SCENARIO_TARGET_COUNTS[name]
        chosen, candidates = candidates[:count], candidates[count:]
        targets[name] = tuple(directory.users[index] for index in chosen)

    slot_order = list(names)
    rng.shuffle(slot_order)
    usable = config.days * TICKS_PER_DAY - LEAD_IN_TICKS - TAIL_TICKS
    slot_length = usable // max(1, len(slot_order))

    builder = PlanBuilder(directory, rng)
    labels = {}
    for position, name in enumerate(slot_order):
        slot = Slot(
            start=period_start + LEAD_IN_TICKS + position * slot_length,
            targets=targets[name],
            period_start=period_start,
            days=config.days,
        )
        labels[name] = label_entry(name, PLANNERS[name](builder, slot))

    return ScenarioPlan(
        signin_specs=sorted(builder.signin_specs),
        audit_specs=sorted(builder.audit_specs, key=lambda spec: spec[:2]),
        labels=[labels[name] for name in names],
        quiet_windows=builder.quiet_windows,
    )
