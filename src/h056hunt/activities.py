"""Audit activity names that the hunt reads, and how they are compared.

Names drift between export paths (a trailing period in the Unified Audit Log, "a
user" for "user" in some exports), so every comparison is made after
:func:`normalise_activity`. This module imports only the standard library: the
fast path's scan workers build their audit pre-filter from it before pandas is
imported.

Tools that an export passes through may rewrite characters into compatibility forms,
such as fullwidth letters from an East Asian input method or spreadsheet, so names are
compared in their Unicode NFKC form. Look-alike letters of other scripts, such as
U+0430 CYRILLIC SMALL LETTER A for the Latin "a", are not mapped. NFKC keeps them,
and a tool that changes character forms keeps the script. Entra ID writes the activity
names itself, so a name with such a letter is not one that Entra ID wrote.
"""

from __future__ import annotations

import re
import unicodedata

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


def fold_text(text: str) -> str:
    """Fold case and compatibility forms, so that ``Ｕｐｄａｔｅ`` and ``UPDATE``
    both become ``update``.

    NFKC runs before case folding because ``str.casefold()`` leaves forms such as
    U+1D411 MATHEMATICAL BOLD CAPITAL R unchanged, and again after it because case
    folding can decompose a letter, as it does U+01F0 LATIN SMALL LETTER J WITH CARON.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def normalise_activity(name: str) -> str:
    """Fold an activity name: case, compatibility forms, punctuation, whitespace
    and articles ignored.

    Letters that stay outside ASCII after :func:`fold_text` separate words like
    punctuation does.

    >>> normalise_activity("INVALIDATE ALL REFRESH TOKENS FOR A USER. ")
    'invalidate all refresh tokens for user'
    >>> normalise_activity("Ｒｅｖｏｋｅ user sessions")
    'revoke user sessions'
    """
    words = _WORD.findall(fold_text(name))
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
