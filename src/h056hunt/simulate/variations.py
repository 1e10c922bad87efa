"""Planners of attack variations that common public detection rules miss.

Each one is still a revocation chain under the default thresholds, which require at
least 5 denied prompts in a sliding 30-minute window that starts within 2 hours of
the revocation.
"""

from __future__ import annotations

from h056hunt.simulate import signins
from h056hunt.simulate.apps import OFFICE_HOME
from h056hunt.simulate.attacks import (
    CHAIN,
    PROMPT_GAP_SECONDS,
    attacker_session,
    planned_chain,
    revoke,
)
from h056hunt.simulate.clock import TICKS_PER_MINUTE
from h056hunt.simulate.plan import (
    PlanBuilder,
    ScenarioOutcome,
    Slot,
    minutes,
    seconds,
)


def _straddle_boundary(builder: PlanBuilder, revocation_time: int) -> list[int]:
    """Schedule 6 prompts, 3 on each side of a 10-minute UTC clock boundary.

    The boundary is the first multiple of 10 minutes at least 8 minutes after the
    revocation. Each prompt stays at least 20 seconds from it, which is more than
    the 8 seconds a push step may lag its sign-in.
    """
    ten_minutes = 10 * TICKS_PER_MINUTE
    earliest = revocation_time + minutes(8)
    boundary = -(-earliest // ten_minutes) * ten_minutes
    return [
        boundary + seconds(offset + builder.rng.randint(-8, 8))
        for offset in (-150, -90, -30, 30, 90, 150)
    ]


def _slow_drip(builder: PlanBuilder, revocation_time: int) -> list[int]:
    """Schedule 6 prompts 5 minutes apart, spanning exactly 25 minutes."""
    start = revocation_time + builder.random_ticks(minutes(5), minutes(20))
    times = [start + minutes(5 * step) for step in range(6)]
    for position in range(1, 5):
        times[position] += seconds(builder.rng.randint(-20, 20))
    return times


def _fast_flood(builder: PlanBuilder, revocation_time: int) -> list[int]:
    """Schedule 14 prompts 15-25 seconds apart, 3-10 minutes after the revocation."""
    start = revocation_time + builder.random_ticks(minutes(3), minutes(10))
    return builder.prompt_times(start, 14, (15, 25))


def _late_bombing(builder: PlanBuilder, revocation_time: int) -> list[int]:
    """Schedule 8 prompts starting 75 minutes after the revocation."""
    start = revocation_time + minutes(75)
    return builder.prompt_times(start, 8, PROMPT_GAP_SECONDS)


def _eight_prompts(builder: PlanBuilder, revocation_time: int) -> list[int]:
    """Schedule 8 prompts starting 4-15 minutes after the revocation."""
    start = revocation_time + builder.random_ticks(minutes(4), minutes(15))
    return builder.prompt_times(start, 8, PROMPT_GAP_SECONDS)


def plan_burst_across_bucket_boundary(
    builder: PlanBuilder, slot: Slot
) -> ScenarioOutcome:
    """Plan 6 denials split 3 and 3 by a 10-minute clock boundary."""
    return planned_chain(
        builder,
        slot,
        _straddle_boundary,
        approve=False,
        description=(
            "Six denials straddle a 10-minute clock boundary, three on each side, so "
            "fixed 10-minute buckets never count more than three."
        ),
    )


def plan_slow_drip(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan 6 denials spread evenly over 25 minutes, then an approval."""
    return planned_chain(
        builder,
        slot,
        _slow_drip,
        approve=True,
        description=(
            "Six denials arrive about 5 minutes apart over 25 minutes, too slow for "
            "short-window rules, and the user finally approves."
        ),
    )


def plan_ip_per_prompt(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan 8 denials, each sent from a different attacker address."""
    return planned_chain(
        builder,
        slot,
        _eight_prompts,
        approve=False,
        ip_per_prompt=True,
        description=(
            "Eight denials each come from a new source address, so rules that count "
            "per user and IP address see one prompt per address."
        ),
    )


def plan_late_bombing(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan 8 denials starting 75 minutes after the revocation, then an approval."""
    return planned_chain(
        builder,
        slot,
        _late_bombing,
        approve=True,
        description=(
            "Bombing starts 75 minutes after the revocation, beyond a 60-minute join "
            "but inside the 2-hour window, and the user approves."
        ),
    )


def plan_steps_only(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan 6 denials visible only as ``authenticationDetails`` steps.

    The first sign-in ends in the 50140 "Keep me signed in" interrupt with three
    denied push steps. The second one succeeds after three more denials and an
    approved step. Neither record has status 500121.
    """
    target = slot.targets[0]
    admin = builder.directory.compromised_admin
    ip_address, revocation_time = attacker_session(builder, slot)
    revocation = revoke(builder, revocation_time, admin, target, ip_address)

    first_start = revocation_time + builder.random_ticks(minutes(5), minutes(15))
    second_start = first_start + minutes(7)
    first_denials = [first_start + seconds(offset) for offset in (60, 150, 240)]
    second_denials = [second_start + seconds(offset) for offset in (50, 140, 230)]
    approval_time = second_start + seconds(320)
    reasons = (
        signins.DENIED_DECLINED,
        signins.DENIED_NO_RESPONSE,
        signins.DENIED_DECLINED,
        signins.DENIED_WRONG_NUMBER,
        signins.DENIED_DECLINED,
        signins.DENIED_DECLINED,
    )

    def password_step(time: int) -> signins.StepSpec:
        return signins.StepSpec(
            time, signins.PASSWORD, True, signins.CORRECT_PASSWORD, signins.PRIMARY
        )

    def denied_steps(
        times: list[int], detail: tuple[str, ...]
    ) -> list[signins.StepSpec]:
        return [
            signins.StepSpec(time, signins.PUSH, False, reason)
            for time, reason in zip(times, detail, strict=True)
        ]

    first_steps = [
        password_step(first_start),
        *denied_steps(first_denials, reasons[:3]),
    ]
    second_steps = [
        password_step(second_start),
        *denied_steps(second_denials, reasons[3:]),
        signins.StepSpec(approval_time, signins.PUSH, True, signins.MFA_SUCCEEDED_STEP),
    ]
    for start, steps, error_code in (
        (first_start, first_steps, 50140),
        (second_start, second_steps, 0),
    ):
        builder.signin(
            start,
            signins.EXPLICIT_STEPS,
            target,
            ip_address=ip_address,
            steps=tuple(steps),
            error_code=error_code,
            app=OFFICE_HOME,
        )

    builder.quiet(target, revocation_time, approval_time)
    return ScenarioOutcome(
        expected_finding=CHAIN,
        description=(
            "Six denials appear only inside authenticationDetails of sign-ins whose "
            "status is 50140 or 0, so rules keyed on error 500121 see nothing."
        ),
        targets=[target],
        actor=admin,
        approved=True,
        revocations=[revocation],
        denial_times=first_denials + second_denials,
        approval_times=[approval_time],
        bombed=[target],
        approved_users=[target],
    )


def plan_fast_flood(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan 14 declines within about 5 minutes, then an approval."""
    return planned_chain(
        builder,
        slot,
        _fast_flood,
        approve=True,
        reason=signins.DENIED_DECLINED,
        description=(
            "Fourteen prompts declined within about five minutes from one address, "
            "then an approval: the dense flood that public rules are tuned for."
        ),
    )
