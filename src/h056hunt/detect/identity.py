"""Join keys for users: the object id, with a normalised UPN as the fallback.

Object ids are reliable across every export shape; UPNs are not. A guest's directory
UPN is ``local_domain#EXT#@tenant`` while its sign-ins show the mail form
``local@domain``, some delete events prefix the UPN with a 32-digit hex GUID, and case
varies. The UPN fallback is used only when a row has no object id.
"""

from __future__ import annotations

import re

import pandas as pd

_GUID_PREFIX = re.compile(r"^[0-9a-f]{32}")
_GUID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
UPN_KEY_PREFIX = "upn:"


def normalise_upn(upn: str) -> str:
    """Fold a UPN to the form sign-in logs use: lower case, guest mail form, no GUID.

    >>> normalise_upn("Ivan.Ext_fabrikam.example#EXT#@contoso.onmicrosoft.example")
    'ivan.ext@fabrikam.example'
    """
    folded = upn.strip().casefold()
    folded = _GUID_PREFIX.sub("", folded)
    if "#ext#" in folded:
        local = folded.split("#ext#", 1)[0]
        head, separator, domain = local.rpartition("_")
        if separator:
            folded = f"{head}@{domain}"
    return folded


def is_object_id(value: str | None) -> bool:
    """Tell whether a value is a GUID, the form of Entra object ids."""
    return bool(value) and bool(_GUID.match(str(value)))


def user_keys(ids: pd.Series, upns: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the join key per row and a mask of rows that fell back to the UPN.

    The key is the lower-cased object id when present, else ``upn:`` plus the
    normalised UPN, else missing.
    """
    id_text = ids.astype("string").str.strip().str.lower()
    has_id = id_text.notna() & (id_text != "")
    upn_text = upns.astype("string")
    upn_keys = upn_text.map(
        lambda value: None if pd.isna(value) or not value else normalise_upn(value)
    ).astype("string")
    fallback = ~has_id & upn_keys.notna()
    keys = id_text.where(has_id, UPN_KEY_PREFIX + upn_keys)
    return keys.astype("string"), fallback.fillna(False).astype(bool)
