"""The finding: what the hunt reports, with its score and evidence."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd


class Severity(enum.IntEnum):
    """Finding severity; the order drives ``--fail-on`` and sorting."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """The lower-case name used in output and options."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Severity:
        """Return the severity named by ``label`` (case-insensitive)."""
        return cls[label.upper()]


class FindingType(enum.StrEnum):
    """What kind of activity a finding describes."""

    REVOCATION_CHAIN = "revocation_chain"
    PUSH_BOMBING = "push_bombing"
    REVOCATION_CAMPAIGN = "revocation_campaign"


@dataclass(frozen=True, slots=True)
class ScoreFactor:
    """One named contribution to a finding's score and the fact behind it."""

    name: str
    points: int
    fact: str


@dataclass(frozen=True)
class Actor:
    """Who revoked the sessions: a user, an app, or a user known only by id."""

    type: str
    id: str | None = None
    upn: str | None = None
    display_name: str | None = None
    ip: str | None = None
    app_id: str | None = None
    service_principal_id: str | None = None

    @property
    def label(self) -> str:
        """A short name for tables: UPN, app name with its service principal, or id."""
        if self.type == "app":
            name = self.display_name or self.app_id or "app"
            if self.service_principal_id:
                return f"{name} (service principal {self.service_principal_id})"
            return name
        if self.upn:
            return self.upn
        if self.display_name and self.id:
            return f"{self.display_name} (user {self.id})"
        if self.id:
            return f"user {self.id}"
        return "no initiator recorded"


class Evidence(NamedTuple):
    """One raw record behind a finding and where it sits in the input.

    A named tuple, because a campaign makes one per target and a frozen dataclass
    took 2.7 times as long to build 15,116 of them.
    """

    kind: str
    record_id: str
    time: pd.Timestamp
    file: str
    line: int | None
    record: int | None
    outcome: str | None = None
    detail: str | None = None


class TimelineEvent(NamedTuple):
    """One event of a finding's timeline; a named tuple, as :class:`Evidence` is."""

    time: pd.Timestamp
    kind: str
    description: str
    ip_address: str | None = None
    country: str | None = None
    record_id: str | None = None


@dataclass(frozen=True)
class Finding:
    """A scored, explained result of the hunt.

    A campaign finding's ``evidence``, ``timeline`` and ``extra["targets"]`` are
    lazy sequences, whose items are made again each time they are read (see
    :mod:`h056hunt.lazy_sequence`); other findings hold tuples.
    """

    finding_id: str
    finding_type: FindingType
    severity: Severity
    score: int
    score_factors: tuple[ScoreFactor, ...]
    target_user_id: str | None
    target_upn: str | None
    target_display_name: str | None
    actor: Actor | None
    revocation_time: pd.Timestamp | None
    first_prompt_time: pd.Timestamp | None
    last_prompt_time: pd.Timestamp | None
    prompt_counts: dict[str, int]
    approved: bool
    approval_time: pd.Timestamp | None
    source_ips: tuple[str, ...]
    countries: tuple[str, ...]
    user_agents: tuple[str, ...]
    evidence: Sequence[Evidence]
    timeline: Sequence[TimelineEvent]
    summary: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def denied_prompts(self) -> int:
        """Prompts that were declined, unanswered, reported or otherwise denied."""
        return sum(
            self.prompt_counts.get(name, 0)
            for name in (
                "declined",
                "unanswered",
                "fraud",
                "wrong_number",
                "other_denial",
            )
        )

    def sort_key(self) -> tuple[Any, ...]:
        """Most severe first, then highest score, then time and id for stability."""
        anchor = self.first_prompt_time
        if anchor is None:
            anchor = self.revocation_time
        return (
            -int(self.severity),
            -self.score,
            anchor.value if anchor is not None else 0,
            self.finding_id,
        )
