"""Settings of one simulation run and the names it accepts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from h056hunt.errors import ConfigError
from h056hunt.plurals import Counted
from h056hunt.timeparse import END_EVENT_TIME, FIRST_EVENT_TIME

SCENARIO_NAMES: tuple[str, ...] = (
    "chain_approved",
    "chain_no_approval",
    "campaign",
    "helpdesk_benign",
    "self_revocation",
    "add_user",
    "stray_denial",
    "interrupts_then_success",
    "burst_before_revocation",
    "burst_across_bucket_boundary",
    "slow_drip",
    "ip_per_prompt",
    "late_bombing",
    "steps_only",
    "daily_denier",
    "fast_flood",
)
DEFAULT_SCENARIOS: tuple[str, ...] = SCENARIO_NAMES

SHAPES: tuple[str, ...] = (
    "graph-ndjson",
    "graph-page",
    "graph-array",
    "diagnostic-ndjson",
    "eventhub",
    "log-analytics-json",
    "log-analytics-csv",
    "portal-csv",
    "purview-ual-csv",
)

DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)
# The event times that the hunt reads, from 1678-01-01 up to 2262-01-01. It skips
# a record outside them as an invalid timestamp.
HUNT_TIME_RANGE = (FIRST_EVENT_TIME, END_EVENT_TIME)
# Lower bounds of the bytes of one background sign-in, plain and gzip-compressed.
MIN_PLAIN_SIGNIN_BYTES = 400
MIN_GZIP_SIGNIN_BYTES = 64
# Lower bounds of the bytes of one background audit row, plain and gzip-compressed.
MIN_PLAIN_AUDIT_BYTES = 300
MIN_GZIP_AUDIT_BYTES = 32

# Detection thresholds the scenarios are designed against. A scenario labelled as a
# burst has at least BURST_MIN_DENIED_PROMPTS denials inside one sliding window of
# BURST_WINDOW_MINUTES, and the first of them starts no later than
# BURST_MAX_START_AFTER_REVOCATION_MINUTES after the revocation.
BURST_MIN_DENIED_PROMPTS = 5
BURST_WINDOW_MINUTES = 30
BURST_MAX_START_AFTER_REVOCATION_MINUTES = 120

# Accounts every run needs besides the scenario targets: the compromised admin, the
# helpdesk analyst and the IT admin who creates accounts.
ADMIN_ACCOUNT_COUNT = 3

# Directory users each scenario takes as targets.
SCENARIO_TARGET_COUNTS: dict[str, int] = {
    "chain_approved": 1,
    "chain_no_approval": 1,
    "campaign": 6,
    "helpdesk_benign": 1,
    "self_revocation": 1,
    "add_user": 0,
    "stray_denial": 1,
    "interrupts_then_success": 1,
    "burst_before_revocation": 1,
    "burst_across_bucket_boundary": 1,
    "slow_drip": 1,
    "ip_per_prompt": 1,
    "late_bombing": 1,
    "steps_only": 1,
    "daily_denier": 1,
    "fast_flood": 1,
}


@dataclass(frozen=True)
class SimulationConfig:
    """Settings of one simulation run.

    Attributes:
        users: directory users in the simulated tenant, admins included.
        days: length of the simulated period in whole days from ``start``.
        seed: seed of every random choice, so the same config gives the same bytes.
        start: first instant of the period; must carry a time zone.
        scenarios: names from ``SCENARIO_NAMES`` to inject, each once.
        signin_shape: export shape of the sign-in file, one of ``SHAPES``.
        audit_shape: export shape of the audit file, one of ``SHAPES``.
        noise_per_user_per_day: mean background sign-ins per user and day.
        audit_rows_per_user_per_day: mean background audit rows per user and day;
            None scales the default rate with the sign-in noise level.
        gzip: compress both log files with gzip.

    Raises:
        ConfigError: a value is out of range or a name is unknown.
    """

    users: int = 50
    days: int = 2
    seed: int = 1
    start: datetime = DEFAULT_START
    scenarios: tuple[str, ...] = DEFAULT_SCENARIOS
    signin_shape: str = "graph-ndjson"
    audit_shape: str = "graph-ndjson"
    noise_per_user_per_day: int = 20
    audit_rows_per_user_per_day: float | None = None
    gzip: bool = False

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ConfigError(f"days must be at least 1, got {self.days}")
        rate = self.audit_rows_per_user_per_day
        if rate is not None and not (math.isfinite(rate) and rate >= 0):
            raise ConfigError(
                f"audit_rows_per_user_per_day must be a finite number, 0 or more, "
                f"got {rate}",
                hint="pass --audit-rate as a number such as 0.25",
            )
        if self.noise_per_user_per_day < 0:
            raise ConfigError(
                "noise_per_user_per_day must be 0 or more, "
                f"got {self.noise_per_user_per_day}"
            )
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ConfigError(
                f"start {self.start.isoformat()} has no time zone",
                hint="pass an aware datetime such as datetime(2026, 3, 2, tzinfo=UTC)",
            )
        self._check_period()

        for field_name, shape in (
            ("signin_shape", self.signin_shape),
            ("audit_shape", self.audit_shape),
        ):
            if shape not in SHAPES:
                raise ConfigError(
                    f"{field_name} {shape!r} is not a known shape",
                    hint=f"choose one of {', '.join(SHAPES)}",
                )

        unknown = [name for name in self.scenarios if name not in SCENARIO_NAMES]
        if unknown:
            raise ConfigError(
                f"unknown scenario {unknown[0]!r}",
                hint=f"choose from {', '.join(SCENARIO_NAMES)}",
            )
        repeated = sorted(
            {name for name in self.scenarios if self.scenarios.count(name) > 1}
        )
        if repeated:
            subject = "scenario" if len(repeated) == 1 else "scenarios"
            verb = "is" if len(repeated) == 1 else "are"
            raise ConfigError(
                f"{subject} {', '.join(repeated)} {verb} listed more than once",
                hint="give each --scenario once",
            )

        needed = self.minimum_users()
        if self.users < needed:
            raise ConfigError(
                f"--users {self.users} is too few: the selected scenarios need "
                f"{needed}, admins included",
                hint=f"pass --users {needed} or more, or select fewer scenarios "
                "with --scenario",
            )

    def _check_period(self) -> None:
        """Raise ConfigError unless the whole period lies in the dates whose
        event times the hunt reads."""
        first, last = HUNT_TIME_RANGE
        start = self.start.astimezone(UTC)
        # Comparing whole days with the days left avoids adding the period to the
        # start, which overflows datetime for a large --days or a late --start.
        if start < first or self.days > (last - start).days:
            raise ConfigError(
                f"the period of {Counted(self.days, 'day')} from "
                f"{start.date().isoformat()} "
                f"does not lie between {first.date().isoformat()} and "
                f"{last.date().isoformat()}, the dates that the hunt can read",
                hint="choose another --start or fewer --days",
            )

    def minimum_bytes(self) -> int:
        """Return a lower bound of the bytes the background sign-ins and audit
        rows will take.

        Measured with 200 users for one day, a sign-in took 0.9 to 4.7 KB in the
        plain shapes and 166 to 303 bytes gzip-compressed. An audit row took 642
        to 1,795 bytes plain and 66 to 148 bytes gzip-compressed, with 10 rows
        per user and day. Each bound is under half the smallest of these, so a
        run that would fit is not stopped. Audit rows count only when
        ``--audit-rate`` is given, since the default rate adds far fewer bytes
        than the sign-ins.
        """
        per_signin = MIN_GZIP_SIGNIN_BYTES if self.gzip else MIN_PLAIN_SIGNIN_BYTES
        signin_bytes = self.users * self.days * self.noise_per_user_per_day * per_signin
        rate = self.audit_rows_per_user_per_day or 0.0
        per_audit = MIN_GZIP_AUDIT_BYTES if self.gzip else MIN_PLAIN_AUDIT_BYTES
        # Fraction keeps a huge rate such as 1e308 exact, where a float product
        # would overflow to infinity.
        audit_bytes = int(Fraction(rate) * self.users * self.days * per_audit)
        return signin_bytes + audit_bytes

    def minimum_users(self) -> int:
        """Return the directory size the selected scenarios need."""
        targets = sum(SCENARIO_TARGET_COUNTS[name] for name in self.scenarios)
        return ADMIN_ACCOUNT_COUNT + targets
