"""Planners of the benign look-alikes that a hunt must not report as a chain."""

from __future__ import annotations

from h056hunt.simulate import audits, signins
from h056hunt.simulate.clock import TICKS_PER_DAY, TICKS_PER_HOUR
from h056hunt.simulate.identities import User
from h056hunt.simulate.plan import (
    PlanBuilder,
    ScenarioOutcome,
    Slot,
    minutes,
    seconds,
)

NONE = "none"


def _helpdesk_revocation(builder: PlanBuilder, slot: Slot) -> tuple[User, int, str]:
    """Revoke the slot's target from the helpdesk analyst's office address."""
    helpdesk = builder.directory.helpdesk
    target = slot.targets[0]
    time = slot.start + builder.random_ticks(0, minutes(10))
    revocation = builder.revocation_pair(time, helpdesk, target, helpdesk.ip_address)
    refresh_time = time + builder.random_ticks(seconds(40), seconds(150))
    builder.signin(refresh_time, signins.REVOKED_REFRESH, target)
    return revocation


def plan_helpdesk_benign(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan a helpdesk revocation and the user's one normal approval afterwards."""
    target = slot.targets[0]
    revocation = _helpdesk_revocation(builder, slot)
    revocation_time = revocation[1]
    sign_in = revocation_time + builder.random_ticks(minutes(10), minutes(40))
    builder.push_approval(sign_in, target, None)
    builder.quiet(target, revocation_time, sign_in)
    return ScenarioOutcome(
        expected_finding=NONE,
        description=(
            "The helpdesk revokes the sessions of a user who lost a laptop; the user "
            "signs in again 10-40 minutes later and approves one push."
        ),
        targets=[target],
        actor=builder.directory.helpdesk,
        approved=True,
        revocations=[revocation],
        approval_times=[sign_in],
        approved_users=[target],
    )


def plan_self_revocation(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan a user revoking their own sessions, then three denials."""
    target = slot.targets[0]
    time = slot.start + builder.random_ticks(0, minutes(10))
    # A self-service revocation writes one row, with no modified properties and no
    # address, instead of the portal's pair.
    correlation_id = builder.audit(time, audits.SELF_REVOKE, target, target)

    start = time + builder.random_ticks(minutes(5), minutes(15))
    times = builder.prompt_times(start, 3, (60, 180))
    denials = builder.push_denials(target, times, target.ip_address)
    builder.quiet(target, time, denials[-1])
    return ScenarioOutcome(
        expected_finding=NONE,
        description=(
            "The user revokes their own sessions, then denies three prompts; the "
            "initiator is the target, so this is no admin revocation."
        ),
        targets=[target],
        actor=target,
        approved=False,
        revocations=[(target, time, correlation_id)],
        denial_times=denials,
    )


def plan_add_user(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan the creation of an account, which also sets StsRefreshTokensValidFrom."""
    admin = builder.directory.it_admin
    new_hire = builder.directory.new_hire
    time = slot.start + builder.random_ticks(0, minutes(10))
    builder.audit(time, audits.ADD_USER, admin, new_hire, actor_ip=admin.ip_address)
    sign_in = time + builder.random_ticks(minutes(10), minutes(40))
    builder.push_approval(sign_in, new_hire, None)
    return ScenarioOutcome(
        expected_finding=NONE,
        description=(
            "An admin creates an account; the Add user record sets "
            "StsRefreshTokensValidFrom but revokes nothing."
        ),
        targets=[new_hire],
        actor=admin,
        approved=True,
        approval_times=[sign_in],
        approved_users=[new_hire],
        audit_times=[time],
    )


def plan_stray_denial(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan a helpdesk revocation, one mis-clicked denial, then an approval."""
    target = slot.targets[0]
    revocation = _helpdesk_revocation(builder, slot)
    denial = revocation[1] + builder.random_ticks(minutes(10), minutes(40))
    builder.push_denials(target, [denial], target.ip_address, [signins.DENIED_DECLINED])
    approval = builder.push_approval(
        denial + builder.random_ticks(seconds(30), seconds(90)), target, None
    )
    builder.quiet(target, revocation[1], approval)
    return ScenarioOutcome(
        expected_finding=NONE,
        description=(
            "After a helpdesk revocation the user denies one prompt by mistake and "
            "approves the retry."
        ),
        targets=[target],
        actor=builder.directory.helpdesk,
        approved=True,
        revocations=[revocation],
        denial_times=[denial],
        approval_times=[approval],
        approved_users=[target],
    )


def plan_interrupts_then_success(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan 50076 and 50074 interrupts after a revocation, each then approved."""
    target = slot.targets[0]
    revocation = _helpdesk_revocation(builder, slot)
    time = revocation[1] + builder.random_ticks(minutes(5), minutes(15))
    approvals = []
    kinds = (
        signins.MFA_REQUIRED_50076,
        signins.MFA_REQUIRED_50074,
        signins.MFA_REQUIRED_50076,
        signins.MFA_REQUIRED_50074,
    )
    for kind in kinds:
        builder.signin(time, kind, target)
        approval = time + builder.random_ticks(seconds(20), seconds(60))
        approvals.append(builder.push_approval(approval, target, None))
        time = approval + builder.random_ticks(minutes(8), minutes(20))
    builder.quiet(target, revocation[1], approvals[-1])
    return ScenarioOutcome(
        expected_finding=NONE,
        description=(
            "After a helpdesk revocation the user meets four MFA-required interrupts "
            "(50076, 50074) and completes MFA after each; none is a denial."
        ),
        targets=[target],
        actor=builder.directory.helpdesk,
        approved=True,
        revocations=[revocation],
        approval_times=approvals,
        approved_users=[target],
    )


def plan_daily_denier(builder: PlanBuilder, slot: Slot) -> ScenarioOutcome:
    """Plan one denial every day, and one revocation followed by 1-2 denials."""
    target = slot.targets[0]
    denials = []
    for day in range(slot.days):
        # The working hours of a UTC-6 office are 14:00 to 22:00 UTC.
        day_start = slot.period_start + day * TICKS_PER_DAY
        time = day_start + 14 * TICKS_PER_HOUR + builder.random_ticks(0, minutes(480))
        denials += builder.push_denials(
            target, [time], target.ip_address, [signins.DENIED_DECLINED]
        )

    revocation = _helpdesk_revocation(builder, slot)
    start = revocation[1] + builder.random_ticks(minutes(5), minutes(30))
    count = builder.rng.randint(1, 2)
    after = builder.prompt_times(start, count, (300, 1200))
    denials += builder.push_denials(target, after, target.ip_address)
    approval = builder.push_approval(after[-1] + seconds(60), target, None)
    builder.quiet(target, revocation[1], approval)
    return ScenarioOutcome(
        expected_finding=NONE,
        description=(
            "A user denies one unexpected prompt every day; after one helpdesk "
            "revocation they deny only 1-2 prompts before approving."
        ),
        targets=[target],
        actor=builder.directory.helpdesk,
        approved=True,
        revocations=[revocation],
        denial_times=sorted(denials),
        approval_times=[approval],
        approved_users=[target],
    )
