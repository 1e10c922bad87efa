"""Audit activity names that the hunt reads, and how they are compared.

Names drift between export paths (a trailing period in the Unified Audit Log, "a
user" for "user" in some exports), so every comparison is made after
:func:`normalise_activity`. This module imports only the standard library: the
fast path's scan workers build their audit pre-filter from it before pandas is
imported.
"""

from __future__ import annotations

import re

DEFAULT_REVOCATION_ACTIVITIES = (
    "Update StsRefreshTokenValidFrom Timestamp",
    "Invalidate all refresh tokens for user",
    "Invalidate all refresh tokens for a user",
    "Revoke user sessions",
    "Revoke sign-in sessions",
)
_ARTICLES = frozenset({"a", "an", "the"})
_WORD = re.compile(r"[0-9a-z]+")
# Words that suggest an unlisted activity ends sessions; the run summary names it.
NEAR_MISS_WORDS = frozenset(
    {"revoke", "revoked", "invalidate", "stsrefreshtokenvalidfrom", "signinsessions"}
)


def normalise_activity(name: str) -> str:
    """Fold an activity name: case, punctuation, whitespace and articles ignored.

    >>> normalise_activity("INVALIDATE ALL REFRESH TOKENS FOR A USER. ")
    'invalidate all refresh tokens for user'
    """
    words = _WORD.findall(name.casefold())
    return " ".join(word for word in words if word not in _ARTICLES)


# Audit activities (normalised) that give an attacker a lasting foothold.
PERSISTENCE_ACTIVITIES = frozenset(
    normalise_activity(name)
    for name in (
        "User registered security info",
        "User registered all required security info",
        "Admin registered security info",
        "User changed default security info",
        "Register device",
        "Add device",
        "Add registered owner to device",
        "Add registered users to device",
    )
)
ROLE_GRANT_ACTIVITIES = frozenset(
    normalise_activity(name)
    for name in (
        "Add member to role",
        "Add eligible member to role",
        "Add member to role completed (PIM activation)",
        "Add member to role in PIM completed (permanent)",
        "Add member to role in PIM completed (timebound)",
    )
)
MFA_CHANGE_ACTIVITIES = frozenset(
    normalise_activity(name)
    for name in (
        "User registered security info",
        "Admin registered security info",
        "User deleted security info",
        "Admin deleted security info",
        "User changed default security info",
        "Admin updated security info",
        "Disable Strong Authentication",
        "Enable Strong Authentication",
        "Remove users strong authentication phone app detail",
    )
)
