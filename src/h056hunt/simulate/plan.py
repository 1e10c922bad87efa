"""Building blocks the scenario planners share: a spec collector and label records.

A planner requests revocations, prompts and approvals from the ``PlanBuilder``. The
builder numbers every spec, remembers when noise must stay away from a target, and
turns the planner's facts into one entry of ``labels.json``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from h056hunt.simulate import audits, signins
from h056hunt.simulate.apps import AZURE_PORTAL, OFFICE_HOME
from h056hunt.simulate.clock import (
    TICKS_PER_MINUTE,
    TICKS_PER_SECOND,
    format_seconds,
    format_ticks,
)
from h056hunt.simulate.identities import (
    AppActor,
    Directory,
    User,
    new_guid,
)

# How far around a scenario's own events background noise for its targets is dropped,
# so noise never adds an approval or a denial to a labelled scenario.
QUIET_BEFORE_TICKS = 30 * TICKS_PER_MINUTE
QUIET_AFTER_TICKS = 60 * TICKS_PER_MINUTE

# Denial reasons of a bombing and how often each appears.
BOMBING_REASONS = (
    signins.DENIED_DECLINED,
    signins.DENIED_NO_RESPONSE,
    signins.DENIED_WRONG_NUMBER,
)
BOMBING_REASON_WEIGHTS = (6, 3, 1)


def minutes(count: float) -> int:
    """Convert minutes to ticks."""
    return int(count * TICKS_PER_MINUTE)


def seconds(count: float) -> int:
    """Convert seconds to ticks."""
    return int(count * TICKS_PER_SECOND)


@dataclass(frozen=True)
class Slot:
    """The time and users one scenario may use.

    Attributes:
        start: earliest event time in ticks.
        targets: the users the scenario acts on, as many as it declared.
        period_start: first tick of the simulated period.
        days: length of the simulated period in days.
    """

    start: int
    targets: tuple[User, ...]
    period_start: int
    days: int


@dataclass
class ScenarioOutcome:
    """Facts a planner reports about what it injected, for ``labels.json``."""

    expected_finding: str
    description: str
    targets: Sequence[User]
    actor: User | AppActor | None
    approved: bool
    revocations: list[tuple[User, int, str]] = field(default_factory=list)
    denial_times: list[int] = field(default_factory=list)
    approval_times: list[int] = field(default_factory=list)
    bombed: list[User] = field(default_factory=list)
    approved_users: list[User] = field(default_factory=list)
    audit_times: list[int] = field(default_factory=list)


class PlanBuilder:
    """Collect the specs of every scenario with unique sequence numbers."""

    def __init__(self, directory: Directory, rng: random.Random) -> None:
        self.directory = directory
        self.rng = rng
        self.signin_specs: list[signins.SignInSpec] = []
        self.audit_specs: list[audits.AuditSpec] = []
        self.quiet_windows: dict[int, list[tuple[int, int]]] = {}
        self._sequence = 0

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def random_ticks(self, low: int, high: int) -> int:
        """Draw a tick offset uniformly from ``low`` to ``high``."""
        return self.rng.randint(low, high)

    def signin(self, time: int, kind: str, user: User, **fields: Any) -> int:
        """Add a sign-in of ``kind`` for ``user`` at ``time`` and return the time."""
        spec = signins.SignInSpec(
            time, self._next_sequence(), kind, user.index, **fields
        )
        self.signin_specs.append(spec)
        return time

    def audit(
        self,
        time: int,
        kind: str,
        actor: User | AppActor,
        target: User,
        **fields: Any,
    ) -> str:
        """Add an audit row and return its correlation id."""
        correlation_id = fields.pop("correlation_id", None) or new_guid(self.rng)
        spec = audits.AuditSpec(
            time, self._next_sequence(), kind, actor, target, correlation_id, **fields
        )
        self.audit_specs.append(spec)
        return correlation_id

    def revocation_pair(
        self, time: int, actor: User, target: User, actor_ip: str
    ) -> tuple[User, int, str]:
        """Add the two rows a portal "Revoke sessions" click writes.

        The ``Update StsRefreshTokenValidFrom Timestamp`` row comes first and the
        ``Update user`` row about a millisecond later, with the same correlation id.
        """
        previous = time - self.random_ticks(minutes(60 * 24 * 3), minutes(60 * 24 * 90))
        correlation_id = self.audit(
            time,
            audits.REVOKE_TOKENS,
            actor,
            target,
            actor_ip=actor_ip,
            previous_valid_from=previous,
        )
        self.audit(
            time + self.random_ticks(8_000, 14_000),
            audits.REVOKE_UPDATE_USER,
            actor,
            target,
            actor_ip=actor_ip,
            previous_valid_from=previous,
            valid_from=time,
            correlation_id=correlation_id,
        )
        return target, time, correlation_id

    def admin_portal_sign_in(self, time: int, admin: User, ip_address: str) -> None:
        """Add the attacker's sign-in to the Azure portal as the compromised admin."""
        self.signin(
            time,
            signins.SINGLE_SIGN_ON,
            admin,
            ip_address=ip_address,
            app=AZURE_PORTAL,
        )

    def push_denials(
        self,
        user: User,
        times: Sequence[int],
        ip_addresses: Sequence[str] | str,
        reasons: Sequence[str] | None = None,
    ) -> list[int]:
        """Add one denied push sign-in per time and return the times.

        Reasons are drawn from ``BOMBING_REASONS`` unless given one per time.
        """
        for position, time in enumerate(times):
            if reasons is None:
                reason = self.rng.choices(BOMBING_REASONS, BOMBING_REASON_WEIGHTS)[0]
            else:
                reason = reasons[position]
            if isinstance(ip_addresses, str):
                ip_address = ip_addresses
            else:
                ip_address = ip_addresses[position]
            self.signin(
                time,
                signins.PUSH_DENIED,
                user,
                ip_address=ip_address,
                denial_reason=reason,
                app=OFFICE_HOME,
            )
        return list(times)

    def prompt_times(
        self, start: int, count: int, gap_seconds: tuple[int, int]
    ) -> list[int]:
        """Draw ``count`` prompt times from ``start`` with gaps in ``gap_seconds``."""
        times = [start]
        for _ in range(count - 1):
            times.append(times[-1] + seconds(self.rng.randint(*gap_seconds)))
        return times

    def push_approval(self, time: int, user: User, ip_address: str | None) -> int:
        """Add an approved push sign-in and return its time."""
        return self.signin(
            time, signins.PUSH_APPROVED, user, ip_address=ip_address, app=OFFICE_HOME
        )

    def quiet(self, user: User, first: int, last: int) -> None:
        """Keep background noise for ``user`` away from ``first`` to ``last``."""
        window = (first - QUIET_BEFORE_TICKS, last + QUIET_AFTER_TICKS)
        self.quiet_windows.setdefault(user.index, []).append(window)


def _actor_fields(actor: User | AppActor | None) -> dict[str, Any]:
    if actor is None:
        return {"actor_id": None, "actor_user_principal_name": None, "actor_type": None}
    if isinstance(actor, AppActor):
        return {
            "actor_id": actor.service_principal_id,
            "actor_user_principal_name": None,
            "actor_type": "app",
        }
    return {
        "actor_id": actor.object_id,
        "actor_user_principal_name": actor.user_principal_name,
        "actor_type": "user",
    }


def _first_text(times: list[int], formatter: Callable[[int], str]) -> str | None:
    return formatter(min(times)) if times else None


def label_entry(scenario: str, outcome: ScenarioOutcome) -> dict[str, Any]:
    """Turn a planner's outcome into its ``labels.json`` entry.

    Revocation times keep the audit record's seven fractional digits. Sign-in times
    are whole seconds like ``createdDateTime``.
    """
    revocation_times = [time for _, time, _ in outcome.revocations]
    return {
        "scenario": scenario,
        "expected_finding": outcome.expected_finding,
        "description": outcome.description,
        "target_user_ids": [user.object_id for user in outcome.targets],
        "target_user_principal_names": [
            user.user_principal_name for user in outcome.targets
        ],
        **_actor_fields(outcome.actor),
        "revocation_time": _first_text(revocation_times, format_ticks),
        "revocations": [
            {
                "user_id": user.object_id,
                "time": format_ticks(time),
                "correlation_id": correlation_id,
            }
            for user, time, correlation_id in outcome.revocations
        ],
        "audit_time": _first_text(outcome.audit_times, format_ticks),
        "approved": outcome.approved,
        "approval_time": _first_text(outcome.approval_times, format_seconds),
        "denied_prompts": len(outcome.denial_times),
        "first_denial_time": _first_text(outcome.denial_times, format_seconds),
        "last_denial_time": (
            format_seconds(max(outcome.denial_times)) if outcome.denial_times else None
        ),
        "bombed_user_ids": [user.object_id for user in outcome.bombed],
        "approved_user_ids": [user.object_id for user in outcome.approved_users],
    }
