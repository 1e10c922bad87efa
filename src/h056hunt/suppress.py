"""Apply allowlists: suppressed findings are set aside with the entry that matched.

Nothing is dropped silently: the run summary counts suppressions per entry, and
``--show-suppressed`` lists each suppressed finding with its reason. Actor entries
never suppress a finding in which a prompt was approved.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass

from h056hunt.config import Allowlist
from h056hunt.findings import Finding


@dataclass(frozen=True)
class Suppression:
    """A finding that an allowlist entry set aside."""

    finding: Finding
    entry: str
    reason: str


def apply_allowlist(
    findings: list[Finding], allowlist: Allowlist
) -> tuple[list[Finding], list[Suppression]]:
    """Split findings into those reported and those an allowlist entry suppresses."""
    kept: list[Finding] = []
    suppressed: list[Suppression] = []
    for finding in findings:
        match = _first_match(finding, allowlist)
        if match is None:
            kept.append(finding)
        else:
            suppressed.append(Suppression(finding, *match))
    return kept, suppressed


def counts_by_entry(suppressed: list[Suppression]) -> Counter[str]:
    """Return how many findings each allowlist entry suppressed."""
    return Counter(item.entry for item in suppressed)


def _first_match(finding: Finding, allowlist: Allowlist) -> tuple[str, str] | None:
    actor = finding.actor
    # A trusted revoker explains the revocation, not an approval after a burst:
    # that approval is evidence of an attack, whichever actor revoked the sessions.
    if actor is not None and not finding.approved:
        names = {
            value.casefold()
            for value in (
                actor.upn,
                actor.id,
                actor.app_id,
                actor.display_name,
                actor.service_principal_id,
            )
            if value
        }
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
    if addresses:
        for source in allowlist.source_ranges:
            if all(address in source.network for address in addresses):
                return f"source range {source.network}", source.reason
    return None


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
