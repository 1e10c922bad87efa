"""Time-ordered streams of simulated records, produced one hour at a time.

Both streams rebuild the same tenant and scenario plan from the config, then walk
the period hour by hour. For each hour they draw its noise, merge in the scenario
events of that hour and render each event just before yielding it.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from h056hunt.simulate.audits import render_audit
from h056hunt.simulate.clock import TICKS_PER_HOUR, ticks_from_datetime
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.identities import Directory, build_directory
from h056hunt.simulate.noise import NoiseSource
from h056hunt.simulate.scenarios import ScenarioPlan, plan_scenarios
from h056hunt.simulate.signin_records import SignInRenderer


@dataclass(frozen=True)
class World:
    """Everything a stream needs that does not depend on the hour.

    Attributes:
        config: the run's settings.
        directory: the simulated tenant.
        plan: the scenario events and labels.
        period_start: first tick of the simulated period.
        hours: length of the period in hours.
    """

    config: SimulationConfig
    directory: Directory
    plan: ScenarioPlan
    period_start: int
    hours: int


def build_world(config: SimulationConfig) -> World:
    """Build the tenant and the scenario plan for ``config``."""
    directory = build_directory(config.seed, config.users)
    period_start = ticks_from_datetime(config.start)
    plan = plan_scenarios(config, directory, period_start)
    return World(config, directory, plan, period_start, config.days * 24)


def _hour_slice(times: list[int], hour_start: int) -> slice:
    first = bisect_left(times, hour_start)
    return slice(first, bisect_left(times, hour_start + TICKS_PER_HOUR, first))


def timed_signin_records(world: World) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(ticks, record)`` for every sign-in of the period in time order.

    The ticks keep the sub-second part that ``createdDateTime`` drops, which the
    diagnostic-settings shape prints.
    """
    config = world.config
    renderer = SignInRenderer(world.directory, config.seed)
    noise = NoiseSource(
        world.directory, config.noise_per_user_per_day, world.plan.quiet_windows
    )
    scenario_specs = world.plan.signin_specs
    scenario_times = [spec.time for spec in scenario_specs]

    for hour_index in range(world.hours):
        hour_start = world.period_start + hour_index * TICKS_PER_HOUR
        rng = random.Random(f"{config.seed}/signins/{hour_index}")
        noise_specs = noise.signins(hour_index, hour_start, rng)
        scenario_hour = scenario_specs[_hour_slice(scenario_times, hour_start)]
        for spec in heapq.merge(noise_specs, scenario_hour):
            yield spec.time, renderer.render(spec, rng)


def timed_audit_records(world: World) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(ticks, record)`` for every audit row of the period in time order."""
    config = world.config
    noise = NoiseSource(
        world.directory,
        config.noise_per_user_per_day,
        world.plan.quiet_windows,
        config.audit_rows_per_user_per_day,
    )
    scenario_specs = world.plan.audit_specs
    scenario_times = [spec.time for spec in scenario_specs]

    for hour_index in range(world.hours):
        hour_start = world.period_start + hour_index * TICKS_PER_HOUR
        rng = random.Random(f"{config.seed}/audits/{hour_index}")
        noise_specs = noise.audits(hour_index, hour_start, rng)
        scenario_hour = scenario_specs[_hour_slice(scenario_times, hour_start)]
        merged = heapq.merge(noise_specs, scenario_hour, key=lambda spec: spec[:2])
        for spec in merged:
            yield spec.time, render_audit(spec, rng)


def iter_signin_records(config: SimulationConfig) -> Iterator[dict[str, Any]]:
    """Yield every simulated sign-in as a Graph beta ``signIn`` dict, oldest first.

    The generator is lazy and keeps one hour of events at a time, so arbitrarily
    long runs stream in bounded memory.
    """
    for _, record in timed_signin_records(build_world(config)):
        yield record


def iter_audit_records(config: SimulationConfig) -> Iterator[dict[str, Any]]:
    """Yield every simulated audit row as a Graph ``directoryAudit`` dict, oldest first.

    Lazy like ``iter_signin_records``.
    """
    for _, record in timed_audit_records(build_world(config)):
        yield record
