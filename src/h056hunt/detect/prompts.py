"""Turn sign-in rows and authentication steps into MFA prompts, one per challenge.

A prompt's outcome comes from each ``authenticationDetails`` step when the record has
MFA steps, and from ``status`` otherwise. Several rows can describe one challenge
(interactive and Log Analytics copies, a 50074 interrupt and then the 500121 of the
same request), so prompts are collapsed by request and step:

* from a step: (request key, step time, method, result detail);
* from the status: (request key, outcome group).

The request key is ``originalRequestId``, else the record ``id``, else the correlation
id with the event time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from h056hunt.detect.identity import user_keys

logger = logging.getLogger(__name__)

DECLINED = "declined"
UNANSWERED = "unanswered"
FRAUD = "fraud"
WRONG_NUMBER = "wrong_number"
OTHER_DENIAL = "other_denial"
APPROVED = "approved"
INTERRUPT = "interrupt"
OUTCOMES = (
    DECLINED,
    UNANSWERED,
    FRAUD,
    WRONG_NUMBER,
    OTHER_DENIAL,
    APPROVED,
    INTERRUPT,
)
DENIALS = frozenset({DECLINED, UNANSWERED, FRAUD, WRONG_NUMBER, OTHER_DENIAL})

ERROR_MFA_FAILED = 500121
# MFA or a fresh sign-in was required before a prompt: 50074 and 50076 (strong
# authentication required) and 70044 (session expired under a sign-in frequency
# policy). None of them is a denial.
INTERRUPT_ERRORS = frozenset({50074, 50076, 70044})
ERROR_REVOKED_GRANT = 50173
NON_USER_EVENT_TYPES = frozenset({"serviceprincipal", "managedidentity"})

PROMPT_COLUMNS = [
    "user_key",
    "user_id",
    "user_upn",
    "user_display_name",
    "prompt_time",
    "outcome",
    "detail",
    "request_key",
    "record_id",
    "source_file",
    "source_line",
    "source_record",
    "ip_address",
    "country",
    "city",
    "user_agent",
    "app_display_name",
    "error_code",
    "from_step",
    "upn_fallback",
]


# Sign-in columns that prompts are built from.
_SIGNIN_COLUMNS_READ = frozenset(PROMPT_COLUMNS) | {
    "request_id",
    "correlation_id",
    "event_time",
    "additional_details",
    "failure_reason",
}


def classify_detail(detail: object) -> str | None:
    """Return the prompt outcome a result text describes, or None for no prompt.

    Any ``MFA denied; <reason>`` text (case-insensitive) is a denial, including reasons
    not known today; they become ``other_denial`` and keep their text.
    """
    if not isinstance(detail, str):
        return None
    folded = " ".join(detail.casefold().split())
    if folded.startswith(("mfa denied", "azure multi-factor authentication denied")):
        reason = folded.split(";", 1)[-1] if ";" in folded else folded
        if "declined" in reason:
            return DECLINED
        if "did not respond" in reason or "never entered" in reason:
            return UNANSWERED
        if "fraud" in reason:
            return FRAUD
        if "correct number" in reason or "incorrect number" in reason:
            return WRONG_NUMBER
        return OTHER_DENIAL
    if folded.startswith(("mfa successfully completed", "mfa completed")):
        return APPROVED
    return None


def extract_prompts(
    signin: pd.DataFrame,
    steps: pd.DataFrame,
    upn_index: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return one row per MFA prompt with its outcome, sorted by user and time.

    ``upn_index`` maps UPNs to object ids for sign-ins recorded without a user id.
    """
    # Only the sign-in columns read here are filtered and joined, because each
    # filter, merge and sort copies every column of the frame.
    columns = [name for name in signin.columns if name in _SIGNIN_COLUMNS_READ]
    users = signin.loc[_is_user_signin(signin), columns]
    if users.empty:
        return pd.DataFrame(columns=PROMPT_COLUMNS)
    keys, fallback = user_keys(users["user_id"], users["user_upn"], upn_index)
    users["user_key"] = keys
    users["upn_fallback"] = fallback
    users = users[users["user_key"].notna()]
    users["request_key"] = _request_keys(users)
    step_prompts = _prompts_from_steps(users, steps)
    covered = set(step_prompts["record_id"]) if len(step_prompts) else set()
    status_prompts = _prompts_from_status(users[~users["record_id"].isin(covered)])
    prompts = (
        pd.concat(
            [frame for frame in (step_prompts, status_prompts) if len(frame)],
            ignore_index=True,
        )
        if len(step_prompts) or len(status_prompts)
        else pd.DataFrame(columns=PROMPT_COLUMNS)
    )
    if prompts.empty:
        return pd.DataFrame(columns=PROMPT_COLUMNS)
    # The order and the duplicates are found on the key columns alone, and the
    # prompt rows are taken once. The concatenated frame has a RangeIndex, so its
    # labels are positions.
    order = prompts[["user_key", "prompt_time", "record_id", "dedupe_key"]]
    order = order.sort_values(
        ["user_key", "prompt_time", "record_id", "dedupe_key"], kind="stable"
    )
    order = order.drop_duplicates(["user_key", "dedupe_key"], keep="first")
    return prompts[PROMPT_COLUMNS].iloc[order.index.to_numpy()].reset_index(drop=True)


def _outcomes(details: pd.Series) -> pd.Series:
    """Classify each distinct text once; exports repeat a handful of texts."""
    values = details.astype(object)
    known = {text: classify_detail(text) for text in values.dropna().unique()}
    return pd.Series(
        [known.get(text) if isinstance(text, str) else None for text in values],
        index=details.index,
        dtype=object,
    )


def _is_user_signin(signin: pd.DataFrame) -> pd.Series:
    event_type = signin["signin_event_type"].astype("string").str.casefold()
    return ~event_type.isin(NON_USER_EVENT_TYPES).fillna(False)


def _request_keys(users: pd.DataFrame) -> pd.Series:
    request_ids = users["request_id"].astype("string")
    if not request_ids.isna().any():
        return request_ids
    # Times are formatted only when a row needs the fallback, and then for every
    # row, because pandas (3.1 checked) gives each time as many fractional
    # digits as the whole array needs.
    fallback = (
        users["correlation_id"].astype("string").fillna("")
        + "@"
        + users["event_time"].astype("string")
    )
    return request_ids.fillna(fallback)


def _prompts_from_steps(users: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    if steps.empty:
        return pd.DataFrame()
    outcomes = _outcomes(steps["result_detail"])
    relevant = steps[outcomes.notna()].assign(outcome=outcomes[outcomes.notna()])
    succeeded = relevant["succeeded"].astype("boolean")
    # A denial step counts only when it did not succeed, and an approval step only
    # when it did not fail. A step without the flag is judged by its text alone.
    denied = relevant["outcome"].isin(DENIALS) & ~succeeded.fillna(False)
    approved = (relevant["outcome"] == APPROVED) & succeeded.fillna(True)
    relevant = relevant[denied | approved]
    if relevant.empty:
        return pd.DataFrame()
    step_columns = ["record_id", "step_time", "method", "result_detail", "outcome"]
    by_record = relevant[step_columns].merge(users, on="record_id", how="inner")
    # Steps from a portal AuthDetails download carry the request id, not a record id.
    unmatched = relevant[~relevant["record_id"].isin(users["record_id"])]
    by_request = unmatched[step_columns].rename(columns={"record_id": "request_id"})
    by_request = by_request.merge(
        users.drop_duplicates("request_id"), on="request_id", how="inner"
    )
    joined = pd.concat(
        [frame for frame in (by_record, by_request) if len(frame)], ignore_index=True
    )
    if joined.empty:
        return pd.DataFrame()
    joined["prompt_time"] = joined["step_time"].fillna(joined["event_time"])
    joined["detail"] = joined["result_detail"]
    joined["from_step"] = True
    joined["dedupe_key"] = (
        joined["request_key"].astype(str)
        + "|"
        + joined["step_time"].astype(str)
        + "|"
        + joined["method"].astype(str)
        + "|"
        + joined["result_detail"].astype(str)
    )
    return joined


def _prompts_from_status(users: pd.DataFrame) -> pd.DataFrame:
    error = users["error_code"].astype("Int64")
    detail_outcome = _outcomes(users["additional_details"])
    outcome = pd.Series(pd.NA, index=users.index, dtype="object")
    is_failure = (error == ERROR_MFA_FAILED).fillna(False)
    outcome[is_failure] = detail_outcome[is_failure].where(
        detail_outcome[is_failure].isin(DENIALS), OTHER_DENIAL
    )
    is_interrupt = error.isin(INTERRUPT_ERRORS).fillna(False)
    outcome[is_interrupt] = INTERRUPT
    is_approval = (error == 0).fillna(False) & (detail_outcome == APPROVED)
    outcome[is_approval] = APPROVED
    found = users[outcome.notna()].assign(outcome=outcome[outcome.notna()])
    if found.empty:
        return pd.DataFrame()
    found["prompt_time"] = found["event_time"]
    found["detail"] = found["additional_details"].fillna(found["failure_reason"])
    found["from_step"] = False
    group = found["outcome"].map(lambda value: "denial" if value in DENIALS else value)
    found["dedupe_key"] = found["request_key"].astype(str) + "|" + group
    return found
