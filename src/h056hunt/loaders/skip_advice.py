"""Advice for the skip reasons whose warning gives the user something to do instead.

``-q`` hides warnings, so the error that stops a run because an input had no
usable record, or no record of a log, repeats this advice in its hint.
"""

from __future__ import annotations

from collections.abc import Iterable

from h056hunt.loaders.csv_export import TAB_SEPARATED_REASON
from h056hunt.loaders.json_export import GRAPH_ERROR_REASON
from h056hunt.loaders.tool_files import (
    CONFIG_FILE_REASON,
    CONVERT_FOLDER_REASON,
    FINDINGS_OUTPUT_REASON,
)

# Each text is the advice of the reason's warning, for any number of files.
SKIP_ADVICE = {
    TAB_SEPARATED_REASON: "save or export each tab-separated file as comma- or "
    "semicolon-separated CSV",
    GRAPH_ERROR_REASON: "for the Microsoft Graph error responses, check the "
    "permissions of the account that exported the log and the query, then export "
    "again",
    FINDINGS_OUTPUT_REASON: "leave the h056 findings output out of the inputs, "
    "which take only audit and sign-in exports",
    CONFIG_FILE_REASON: "leave the h056 config file out of the inputs, which take "
    "only audit and sign-in exports",
    CONVERT_FOLDER_REASON: "give a folder written by h056 convert itself as an "
    "input, not the files inside it",
}


def skip_advice(reasons: Iterable[str]) -> list[str]:
    """Return the advice for each of ``reasons`` that has one, in order, once each."""
    found = [SKIP_ADVICE[reason] for reason in reasons if reason in SKIP_ADVICE]
    return list(dict.fromkeys(found))
