"""Background activity of ordinary users, drawn one hour at a time.

Noise is generated per hour from a random generator seeded with the hour's number,
so any hour can be produced without the ones before it and memory stays bounded by
one hour of events.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from h056hunt.simulate import audits, signins
from h056hunt.simulate.clock import (
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    TICKS_PER_MILLISECOND,
    TICKS_PER_MINUTE,
    TICKS_PER_SECOND,
    hour_of_day,
)
from h056hunt.simulate.identities import Directory, new_guid

# Relative frequency of each background sign-in kind. A 50076 interrupt is always
# followed by an approved push about half a minute later.
SIGNIN_KIND_WEIGHTS: tuple[tuple[str, float], ...] = (
    (signins.REFRESH, 55.0),
    (signins.SINGLE_SIGN_ON, 27.0),
    (signins.PUSH_APPROVED, 8.0),
    (signins.KMSI_INTERRUPT, 3.5),
    (signins.BAD_PASSWORD, 2.5),
    (signins.MFA_REQUIRED_50076, 1.5),
    (signins.PUSH_DENIED, 0.4),
)

# Background audit rows per pool user and day at the default noise level of 20
# sign-ins per user and day. Other noise levels scale this rate in proportion.
AUDIT_ROWS_PER_USER_PER_DAY = 0.25
DEFAULT_NOISE_PER_USER_PER_DAY = 20

AUDIT_KIND_WEIGHTS: tuple[tuple[str, float], ...] = (
    (audits.UPDATE_USER_PROPERTY, 30.0),
    (audits.RESET_PASSWORD, 25.0),
    (audits.ADD_GROUP_MEMBER, 20.0),
    (audits.REMOVE_GROUP_MEMBER, 10.0),
    (audits.SYNC_PASSWORD_CHANGE, 15.0),
)

# Share of a day's activity in each UTC hour, for an office at UTC-6 that works
# from 08:00 to 18:00 local time. The two tuples are local hours 0-11 and 12-23.
_MORNING_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11)
_AFTERNOON_WEIGHTS = (9, 11, 12, 11, 9, 6, 4, 3, 2, 2, 1, 1)
_LOCAL_HOUR_WEIGHTS = _MORNING_WEIGHTS + _AFTERNOON_WEIGHTS
_UTC_OFFSET_HOURS = -6
HOUR_SHARES = tuple(
    _LOCAL_HOUR_WEIGHTS[(hour + _UTC_OFFSET_HOURS) % 24] / sum(_LOCAL_HOUR_WEIGHTS)
    for hour in range(24)
)

# Noise events start this long before the end of their hour, so a follow-up event
# never spills into the next hour and the output stays sorted.
_HOUR_MARGIN_TICKS = 2 * TICKS_PER_MINUTE

# Sequence numbers of noise start here, far above any scenario's.
NOISE_SEQUENCE_BASE = 10**12
_SEQUENCES_PER_HOUR = 10**8

_SIGNIN_KINDS = [kind for kind, _ in SIGNIN_KIND_WEIGHTS]
_SIGNIN_CUMULATIVE = list(accumulate(weight for _, weight in SIGNIN_KIND_WEIGHTS))
_AUDIT_KINDS = [kind for kind, _ in AUDIT_KIND_WEIGHTS]
_AUDIT_CUMULATIVE = list(accumulate(weight for _, weight in AUDIT_KIND_WEIGHTS))


def _draw_count(expected: float, rng: random.Random) -> int:
    count = int(expected)
    if rng.random() < expected - count:
        count += 1
    return count


def _is_quiet(windows: dict[int, list[tuple[int, int]]], user: int, time: int) -> bool:
    return any(first <= time <= last for first, last in windows.get(user, ()))


class NoiseSource:
    """Draw background sign-ins and audit rows for one hour at a time."""

    def __init__(
        self,
        directory: Directory,
        noise_per_user_per_day: int,
        quiet_windows: dict[int, list[tuple[int, int]]],
        audit_rows_per_user_per_day: float | None = None,
    ) -> None:
        self.directory = directory
        self.noise_per_user_per_day = noise_per_user_per_day
        self.quiet_windows = quiet_windows
        scale = noise_per_user_per_day / DEFAULT_NOISE_PER_USER_PER_DAY
        self.audit_rate = (
            AUDIT_ROWS_PER_USER_PER_DAY * scale
            if audit_rows_per_user_per_day is None
            else audit_rows_per_user_per_day
        )

    def signins(
        self, hour_index: int, hour_start: int, rng: random.Random
    ) -> list[signins.SignInSpec]:
        """Return the hour's background sign-ins sorted by time."""
        pool = self.directory.pool_size
        share = HOUR_SHARES[hour_of_day(hour_start)]
        count = _draw_count(pool * self.noise_per_user_per_day * share, rng)
        total_weight = _SIGNIN_CUMULATIVE[-1]
        sequence = NOISE_SEQUENCE_BASE + hour_index * _SEQUENCES_PER_HOUR
        span = TICKS_PER_HOUR - _HOUR_MARGIN_TICKS

        specs = []
        for _ in range(count):
            time = hour_start + rng.randrange(span)
            user = rng.randrange(pool)
            position = bisect_right(_SIGNIN_CUMULATIVE, rng.random() * total_weight)
            kind = _SIGNIN_KINDS[min(position, len(_SIGNIN_KINDS) - 1)]
            sequence += 2
            if _is_quiet(self.quiet_windows, user, time):
                continue
            specs.append(signins.SignInSpec(time, sequence, kind, user))
            if kind == signins.MFA_REQUIRED_50076:
                follow_up = time + rng.randint(20, 60) * TICKS_PER_SECOND
                specs.append(
                    signins.SignInSpec(
                        follow_up, sequence + 1, signins.PUSH_APPROVED, user
                    )
                )
        specs.sort()
        return specs

    def audits(
        self, hour_index: int, hour_start: int, rng: random.Random
    ) -> list[audits.AuditSpec]:
        """Return the hour's background audit rows sorted by time."""
        directory = self.directory
        pool = directory.pool_size
        share = HOUR_SHARES[hour_of_day(hour_start)]
        count = _draw_count(pool * self.audit_rate * share, rng)
        total_weight = _AUDIT_CUMULATIVE[-1]
        sequence = NOISE_SEQUENCE_BASE + hour_index * _SEQUENCES_PER_HOUR
        span = TICKS_PER_HOUR - _HOUR_MARGIN_TICKS

        specs = []
        for _ in range(count):
            time = hour_start + rng.randrange(span)
            target = directory.users[rng.randrange(pool)]
            position = bisect_right(_AUDIT_CUMULATIVE, rng.random() * total_weight)
            kind = _AUDIT_KINDS[min(position, len(_AUDIT_KINDS) - 1)]
            group = directory.groups[rng.randrange(len(directory.groups))]
            correlation_id = new_guid(rng)
            sequence += 2
            if _is_quiet(self.quiet_windows, target.index, time):
                continue

            if kind == audits.SYNC_PASSWORD_CHANGE:
                # A synced password change moves StsRefreshTokensValidFrom in the
                # same second, initiated by the sync service, not by an admin.
                actor = directory.sync_app
                specs.append(
                    audits.AuditSpec(
                        time, sequence, kind, actor, target, correlation_id
                    )
                )
                specs.append(
                    audits.AuditSpec(
                        time + rng.randint(5, 400) * TICKS_PER_MILLISECOND,
                        sequence + 1,
                        audits.SYNC_TOKEN_UPDATE,
                        actor,
                        target,
                        new_guid(rng),
                        previous_valid_from=time - 30 * TICKS_PER_DAY,
                    )
                )
                continue

            admin = directory.helpdesk
            if kind != audits.RESET_PASSWORD:
                admin = directory.it_admin
            membership = kind in (audits.ADD_GROUP_MEMBER, audits.REMOVE_GROUP_MEMBER)
            specs.append(
                audits.AuditSpec(
                    time,
                    sequence,
                    kind,
                    admin,
                    target,
                    correlation_id,
                    actor_ip=admin.ip_address,
                    group=group if membership else None,
                )
            )
        specs.sort(key=lambda spec: spec[:2])
        return specs
