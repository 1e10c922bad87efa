"""Apply allowlists: suppressed findings are set aside with the entry that matched.

Nothing is dropped silently: the run summary counts suppressions per entry, and
``--show-suppressed`` lists each suppressed finding with its reason. Actor entries
never suppress a finding in which a prompt was approved.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass

from h056hunt.config import Allowlist
from h056hunt.findings import Finding
from h056hunt.plurals import Counted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suppression:
    """A finding that an allowlist entry set aside."""

    finding: Finding
    entry: str
    reason: str


def apply_allowlist(
    findings: list[Finding], allowlist: Allowlist
) -> tuple[list[Finding], list[Suppression]]:
    """Split findings into those reported and those an allowlist entry suppresses.

    Actor entries match the revoker's UPN, object id, app id or service principal
    id. A display name is no identity: anyone who can name an app or a user can
    copy it. An entry that equals only the revoker's display name suppresses
    nothing, and a warning names it with the findings it would have hidden.
    """
    kept: list[Finding] = []
    suppressed: list[Suppression] = []
    by_display_name: Counter[str] = Counter()
    for finding in findings:
        match = _first_match(finding, allowlist)
        if match is None:
            kept.append(finding)
            by_display_name.update(_display_name_entries(finding, allowlist))
        else:
            suppressed.append(Suppression(finding, *match))
    for entry, count in sorted(by_display_name.items()):
        logger.warning(
            "allowlist actor entry %r equals only the display name of the revoker "
            "of %s, so %s not suppressed: a display name can be copied by anyone "
            "who can name an app or user; match the revoker's app id, service "
            "principal id, object id or UPN instead",
            entry,
            Counted(count, "finding"),
            "it is" if count == 1 else "they are",
        )
    return kept, suppressed


def counts_by_entry(suppressed: list[Suppression]) -> Counter[str]:
    """Return how many findings each allowlist entry suppressed."""
    return Counter(item.entry for item in suppressed)


def _first_match(finding: Finding, allowlist: Allowlist) -> tuple[str, str] | None:
    actor = finding.actor
    # A trusted revoker explains the revocation, not an approval after a burst:
    # that approval is evidence of an attack, whichever actor revoked the sessions.
    if actor is not None and not finding.approved:
        names = _actor_identifiers(finding)
        for rule in allowlist.actors:
            if rule.match.casefold() in names:
                return f"actor {rule.match}", rule.reason
    users = {
        value.casefold()
        for value in (
            finding.target_user_id,
            finding.target_upn,
            *finding.extra.get("signin_upns", []),
        )
        if value
    }
    for target in allowlist.targets:
        if users & target.users:
            return f"target group {target.group}", target.reason
    addresses = _addresses(finding)
    # A prompt without an address could come from anywhere, so a finding with one
    # does not come wholly from a range.
    if addresses and not finding.extra.get("prompts_without_ip"):
        for source in allowlist.source_ranges:
            if all(address in source.network for address in addresses):
                return f"source range {source.network}", source.reason
    return None


def _actor_identifiers(finding: Finding) -> set[str]:
    """Return the casefolded identifiers of the finding's revoker."""
    actor = finding.actor
    if actor is None:
        return set()
    values = (actor.upn, actor.id, actor.app_id, actor.service_principal_id)
    return {value.casefold() for value in values if value}


def _display_name_entries(finding: Finding, allowlist: Allowlist) -> list[str]:
    """Return the actor entries that equal the revoker's display name but none of
    its identifiers, for a finding that an actor entry could suppress."""
    actor = finding.actor
    if actor is None or not actor.display_name or finding.approved:
        return []
    display_name = actor.display_name.casefold()
    identifiers = _actor_identifiers(finding)
    return [
        rule.match
        for rule in allowlist.actors
        if rule.match.casefold() == display_name
        and rule.match.casefold() not in identifiers
    ]


def _addresses(
    finding: Finding,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    addresses = []
    for value in finding.source_ips:
        try:
            addresses.append(ipaddress.ip_address(value))
        except ValueError:
            return []
    return addresses
