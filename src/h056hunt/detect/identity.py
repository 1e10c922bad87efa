"""Join keys for users: the object id, with a normalised UPN as the fallback.

Object ids are reliable across every export shape; UPNs are not. A guest's directory
UPN is ``local_domain#EXT#@tenant`` while its sign-ins show the mail form
``local@domain``, some delete events prefix the UPN with a 32-digit hex GUID, and case
varies. The UPN fallback is used only when a row has no object id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

_GUID_PREFIX = re.compile(r"^[0-9a-f]{32}")
_GUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_GUID = re.compile(f"^{_GUID_TEXT}$", re.IGNORECASE)
UPN_KEY_PREFIX = "upn:"


# A run folds the same UPNs in several passes (each log, the index, the keys).
@lru_cache(maxsize=1 << 16)
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


def user_keys(
    ids: pd.Series, upns: pd.Series, upn_index: Mapping[str, str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Return the join key per row and a mask of rows that fell back to the UPN.

    The key is the lower-cased object id when present. A row without an id takes the
    id that ``upn_index`` gives for its normalised UPN, else ``upn:`` plus the
    normalised UPN, else missing. Both fallbacks are marked in the mask.
    """
    id_text = ids.astype("string").str.strip().str.lower()
    has_id = id_text.notna() & (id_text != "")
    # Only the rows without an id are keyed by their UPN, so only their UPNs are
    # folded. Folding every row's UPN made Python strings for each distinct UPN:
    # this call raised the RSS by 15 MiB instead of 8 MiB for the 45,000
    # revocations, each of another user, of the 3M audit export of
    # benchmarks/run.py.
    upn_keys = _normalised_upns(upns.where(~has_id.to_numpy(dtype=bool)))
    fallback = ~has_id & upn_keys.notna()
    by_upn = UPN_KEY_PREFIX + upn_keys
    if upn_index:
        # Each distinct UPN is looked up once. Code -1, a missing UPN, takes the
        # None appended last.
        codes, uniques = pd.factorize(upn_keys)
        known = pd.array(
            [upn_index.get(upn) for upn in uniques.tolist()] + [None], dtype="string"
        )
        by_upn = pd.Series(known.take(codes), index=upns.index).fillna(by_upn)
    keys = id_text.where(has_id, by_upn)
    return keys.astype("string"), fallback.fillna(False).astype(bool)


def upns_without_id(ids: pd.Series, upns: pd.Series) -> set[str]:
    """Return the normalised UPNs that :func:`user_keys` looks up for these rows:
    those of the rows without an object id."""
    id_text = ids.astype("string").str.strip()
    missing = (id_text.isna() | (id_text == "")).to_numpy(dtype=bool)
    if not missing.any():
        return set()
    return set(_normalised_upns(upns[missing]).dropna().tolist())


def upn_pair_columns(
    signin: pd.DataFrame, audit: pd.DataFrame
) -> list[tuple[pd.Series, pd.Series]]:
    """Return the (ids, UPNs) column pairs of both logs that
    :func:`build_upn_index` reads: sign-in users, audit targets and actors."""
    return [
        (signin["user_id"], signin["user_upn"]),
        (audit["target_id"], audit["target_upn"]),
        (audit["actor_id"], audit["actor_upn"]),
    ]


def _normalised_upns(upns: pd.Series) -> pd.Series:
    # Each distinct UPN is folded once; a log repeats the same few many times.
    codes, uniques = pd.factorize(upns.astype("string"))
    folded = pd.array(
        [normalise_upn(value) if value else None for value in uniques.tolist()]
        + [None],
        dtype="string",
    )
    # Code -1, a missing UPN, takes the None after the folded values.
    return pd.Series(folded.take(codes), index=upns.index, dtype="string")


def build_upn_index(pairs: list[tuple[pd.Series, pd.Series]]) -> dict[str, str]:
    """Map normalised UPNs to object ids from rows that carry both.

    Args:
        pairs: (ids, upns) column pairs, such as sign-in ``user_id``/``user_upn`` and
            audit ``target_id``/``target_upn``.

    Returns:
        UPN to lower-cased object id. A UPN seen with two different ids (a deleted
        and re-created account, say) is left out, so it never joins the wrong user.
    """
    parts = [
        pd.DataFrame(
            {
                "id": ids.astype("string").str.strip().str.lower(),
                "upn": _normalised_upns(upns),
            }
        )
        for ids, upns in pairs
    ]
    if not parts:
        return {}
    frame = pd.concat(parts, ignore_index=True).dropna().drop_duplicates()
    frame = frame[frame["id"].str.fullmatch(_GUID_TEXT).fillna(False)]
    ids_per_upn = frame.groupby("upn", sort=False)["id"].transform("size")
    single = frame[ids_per_upn == 1]
    return dict(zip(single["upn"].tolist(), single["id"].tolist(), strict=True))
