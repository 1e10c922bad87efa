"""Conditional Access policies of the simulated tenant, as sign-ins list them.

Real sign-in records carry one ``appliedConditionalAccessPolicies`` entry per tenant
policy, which makes up much of their size. Two policies keep simulated records at
about 4 KB. The lists are built once per run and shared by every record with the
same outcome, so they must never be mutated.
"""

from __future__ import annotations

import random
from typing import Any

from h056hunt.simulate.identities import new_guid

# Conditional Access outcomes of a sign-in, chosen per record kind.
GRANTED = "granted"
MFA_FAILED = "mfa_failed"
NOT_EVALUATED = "not_evaluated"

# (display name, grant controls, session controls, result when the MFA policy
# succeeds, conditions not satisfied otherwise). The result "mfa" follows the
# sign-in's MFA outcome. The other results are fixed.
_TENANT_POLICIES: tuple[tuple[str, list[str], list[str], str, str], ...] = (
    ("CA001: Require MFA for all users", ["Mfa"], [], "mfa", ""),
    ("CA002: Block legacy authentication", ["Block"], [], "notApplied", "clientType"),
)

_MFA_RESULT = {GRANTED: "success", MFA_FAILED: "failure", NOT_EVALUATED: "notApplied"}


def build_policy_lists(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Build the shared policy list for each CA outcome of this tenant."""
    rng = random.Random(f"{seed}/policies")
    policy_ids = [new_guid(rng) for _ in _TENANT_POLICIES]
    lists: dict[str, list[dict[str, Any]]] = {}
    for outcome, mfa_result in _MFA_RESULT.items():
        entries = []
        for policy_id, policy in zip(policy_ids, _TENANT_POLICIES, strict=True):
            name, grants, sessions, result, unmet = policy
            if result == "mfa":
                result = mfa_result
            applied = result in ("success", "failure")
            entries.append(
                {
                    "id": policy_id,
                    "displayName": name,
                    "enforcedGrantControls": grants,
                    "enforcedSessionControls": sessions,
                    "sessionControlsNotSatisfied": [],
                    "result": result,
                    "conditionsSatisfied": "application,users" if applied else "none",
                    "conditionsNotSatisfied": "none" if applied else unmet or "users",
                    "authenticationStrength": None,
                    "includeRulesSatisfied": [],
                    "excludeRulesSatisfied": [],
                }
            )
        lists[outcome] = entries
    return lists
