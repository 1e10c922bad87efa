"""Planners of the attacks, in which a compromised admin revokes and pushes flood in.

Each planner draws its own times inside its slot and reports what it injected. The
expected findings assume a burst of at least 5 denied prompts inside a sliding
30-minute window that starts within 2 hours of the revocation.
"""

from __future__ import annotations

from collections.abc import Callable

from h056hunt.simulate import audits, signins
from h056hunt.simulate.identities import (
    ATTACKER_NETWORK,
    User,
    attacker_ip,
)
from h056hunt.simulate.plan import (
    BOMBING_REASON_WEIGHTS,
    BOMBING_REASONS,
    PlanBuilder,
    ScenarioOutcome,
    Slot,
    minutes,
    seconds,
)

CHAIN = "revocation_chain"
BOMBING = "push_bombing"

# Seconds between two prompts of an ordinary bombing run.
PROMPT_GAP_SECONDS = (60, 150)

# Maps the revocation time to the absolute times of the prompts that follow it.
PromptSchedule = Callable[[PlanBuilder, int], list[int]]


def attacker_session(builder: PlanBuilder, slot: Slot) -> tuple[str, int]:
    """Sign the attacker in as the admin and return the address and revocation time."""
    admin = builder.directory.compromised_admin
    ip_address = attacker_ip(builder.rng)
    revocation_time = slot.start + builder.random_ticks(0, minutes(10))
    portal_time = revocation_time - builder.random_ticks(minutes(2), minutes(8))
    builder.admin_portal_sign_in(portal_time, admin, ip_address)
    return ip_address, revocation_time


def revoke(
    builder: PlanBuilder, time: int, actor: User, target: User, actor_ip: str
) -> tuple[User, int, str]:
    """Revoke ``target`` and let the user's own client fail its next refresh."""
    revocation = builder.revocation_pair(time, actor, target, actor_ip)
    refresh_time = time + builder.random_ticks(seconds(40), seconds(150))
    builder.signin(refresh_time, signins.REVOKED_REFRESH, target)
    return revocation


def _approve_and_use(
    builder: PlanBuilder, outcome: ScenarioOutcome, target: User, time: int, ip: str
) -> int:
    """Add the approval and the attacker's later sign-ins, returning the last time."""
    builder.push_approval(time, target, ip)
    outcome.approval_times.append(time)
    outcome.approved_users.append(target)

    first_use = time + builder.random_ticks(minutes(1), minutes(3))
    second_use = first_use + builder.random_ticks(minutes(4), minutes(12))
    for use_time in (first_use, second_use):
        builder.signin(use_time, signins.SINGLE_SIGN_ON, target, ip_address=ip)
    return second_use


def planned_chain(
    builder: PlanBuilder,
    slot: Slot,
    schedule: PromptSchedule,
    approve: bool,
    description: str,
    ip_per_prompt: bool = False,
    report_fraud: bool = False,
    reason: str | None = None,
) -> ScenarioOutcome:
    """Plan an admin revocation followed by denied prompts at ``schedule`` times.

    ``reason`` gives every prompt the same denial reason; by default each one is
    drawn from the usual mix.
    """
    target = slot.targets[0]
    admin = builder.directory.compromised_admin
    ip_address, revocation_time = attacker_session(builder, slot)
    revocation = revoke(builder, revocation_time, admin, target, ip_address)
    times = schedule(builder, revocation_time)

    addresses: list[str] = [ip_address] * len(times)
    if ip_per_prompt:
        last_octets = builder.rng.sample(range(1, 255), len(times))
        addresses = [f"{ATTACKER_NETWORK}{octet}" for octet in last_octets]
    reasons = list(
        builder.rng.choices(BOMBING_REASONS, BOMBING_REASON_WEIGHTS, k=len(times))
    )
    if reason is not None:
        reasons = [reason] * len(times)
    if report_fraud:
        reasons[-1] = signins.DENIED_FRAUD
    denials = builder.push_denials(target, times, addresses, reasons)

    outcome = ScenarioOutcome(
        expected_finding=CHAIN,
        description=description,
        targets=[target],
        actor=admin,
        approved=approve,
        revocations=[revocation],
        denial_times=denials,
        bombed=[target],
    )
    last = denials[-1]
    if approve:
        approval_time = last + builder.random_ticks(seconds(30), minutes(4))
        last = _approve_and_use(builder, outcome, target, approval_time, addresses[-1])
    if report_fraud:
        last += builder.random_ticks(seconds(10), seconds(40))
        builder.audit(last, audits.FRAUD_REPORTED, target, target)
        outcome.audit_times.append(last)
    builder.quiet(target, revocation_time, last)
    return outcome


def _ordinary_bombing(builder: PlanBuilder, revocation_time: int) -> list[int]:
    """Schedule 8-12 prompts starting 3-20 minutes after the revocation."""
    start = revocation_time + builder.random_ticks(minutes(3), minutes(20))
    return builder.prompt_times(start, builder.rng.randint(8, 12), PROMPT_GAP_SECONDS)


def plan_chain_approved(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan a revocation, 8-12 denials from 3-20 minutes later, then an approval."""
    return planned_chain(
        builder,
        slot,
        _ordinary_bombing,
        approve=True,
        description=(
            "A compromised admin revokes the user's sessions; 3-20 minutes later the "
            "attacker sends 8-12 push prompts within 30 minutes and the user "
            "approves the next one."
        ),
    )


def plan_chain_no_approval(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan a revocation and 8-12 denials that end with a fraud report."""
    return planned_chain(
        builder,
        slot,
        _ordinary_bombing,
        approve=False,
        report_fraud=True,
        description=(
            "A compromised admin revokes the user's sessions, then 8-12 push prompts "
            "are all denied; the last one is reported as fraud from the app."
        ),
    )


def plan_campaign(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan one admin revoking 6 users within 20 minutes and bombing 3 of them."""
    rng = builder.rng
    admin = builder.directory.compromised_admin
    ip_address, first_revocation = attacker_session(builder, slot)
    offsets = sorted(rng.randint(0, minutes(18)) for _ in slot.targets[1:])
    revocation_times = [first_revocation] + [first_revocation + o for o in offsets]

    revocations = [
        revoke(builder, time, admin, target, ip_address)
        for time, target in zip(revocation_times, slot.targets, strict=True)
    ]
    outcome = ScenarioOutcome(
        expected_finding=CHAIN,
        description=(
            "One compromised admin revokes 6 users within 20 minutes; 3 of them get "
            "6-10 denied prompts each and one of those approves."
        ),
        targets=list(slot.targets),
        actor=admin,
        approved=True,
        revocations=revocations,
    )

    bombed_positions = sorted(rng.sample(range(len(slot.targets)), 3))
    approver_position = rng.choice(bombed_positions)
    for position, target in enumerate(slot.targets):
        revocation_time = revocation_times[position]
        last = revocation_time
        if position in bombed_positions:
            start = revocation_time + rng.randint(minutes(3), minutes(15))
            times = builder.prompt_times(start, rng.randint(6, 10), PROMPT_GAP_SECONDS)
            outcome.denial_times += builder.push_denials(target, times, ip_address)
            outcome.bombed.append(target)
            last = times[-1]
        if position == approver_position:
            approval_time = last + rng.randint(seconds(30), seconds(90))
            last = _approve_and_use(builder, outcome, target, approval_time, ip_address)
        builder.quiet(target, revocation_time, last)
    return outcome


def plan_burst_before_revocation(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan a denial burst that ends before the helpdesk revokes the user."""
    target = slot.targets[0]
    helpdesk = builder.directory.helpdesk
    ip_address = attacker_ip(builder.rng)
    first = slot.start + builder.random_ticks(0, minutes(10))
    times = builder.prompt_times(first, 7, PROMPT_GAP_SECONDS)
    denials = builder.push_denials(target, times, ip_address)

    revocation_time = denials[-1] + builder.random_ticks(minutes(20), minutes(45))
    revocation = revoke(builder, revocation_time, helpdesk, target, helpdesk.ip_address)
    builder.quiet(target, first, revocation_time)
    return ScenarioOutcome(
        expected_finding=BOMBING,
        description=(
            "Seven prompts are denied within 15 minutes; the user calls the helpdesk, "
            "which revokes the sessions 20-45 minutes after the last denial. The "
            "burst comes before the revocation, so it is bombing but not a chain."
        ),
        targets=[target],
        actor=helpdesk,
        approved=False,
        revocations=[revocation],
        denial_times=denials,
        bombed=[target],
    )
