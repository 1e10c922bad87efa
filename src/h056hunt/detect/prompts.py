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

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from h056hunt.detect.identity import user_keys
from h056hunt.row_runs import take_in_runs

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
    "step_time_replaced",
    "step_time_unreadable",
    "upn_fallback",
]

# The largest distance between an authentication step's time and its sign-in's
# createdDateTime that the step time is used at. An MFA step belongs to one
# sign-in, so a step time further away is read as wrong, and the prompt takes the
# sign-in's time. A step carried over from an earlier sign-in, such as "Previously
# satisfied", can be older, but it is neither a denial nor an approval.
# NOTE: one hour is a judgement, not a limit Microsoft documents. Push prompts
# time out after minutes, so it leaves a wide margin.
STEP_TIME_MAX_OFFSET = pd.Timedelta(hours=1)


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
    read = signin[_read_columns(signin)]
    users = read[_is_user_signin(signin).to_numpy(bool)]
    ordered, _ = _extract_rows(users, steps, upn_index, users)
    return _prompt_columns(ordered)


def denial_steps(steps: pd.DataFrame) -> np.ndarray:
    """Return a mask of the steps that make a denial prompt when they join a
    sign-in: a denial result text on a step that did not succeed."""
    outcomes = _outcomes(steps["result_detail"])
    succeeded = steps["succeeded"].astype("boolean").fillna(False)
    mask: np.ndarray = (outcomes.isin(DENIALS) & ~succeeded).to_numpy(bool)
    return mask


def denial_step_time_counts(prompts: pd.DataFrame) -> tuple[int, int]:
    """Count the denial prompts dated at their sign-in's time, because their step
    time lay more than :data:`STEP_TIME_MAX_OFFSET` away or could not be read.

    Only denials are counted, because the fast path decodes every sign-in that
    can hold a denial but only some of the others, and both paths must give the
    same counts.

    Returns:
        The replaced step times, then the unreadable ones.
    """
    if prompts.empty:
        return 0, 0
    denials = prompts["outcome"].isin(DENIALS).to_numpy(bool)
    replaced = prompts["step_time_replaced"].to_numpy(bool)
    unreadable = prompts["step_time_unreadable"].to_numpy(bool)
    return int((denials & replaced).sum()), int((denials & unreadable).sum())


def denial_steps_without_signin(signin: pd.DataFrame, steps: pd.DataFrame) -> int:
    """Count the denial steps whose key matches no sign-in by record id or by
    request id, so they make no prompt.

    Such a step is a row of a portal AuthDetails download whose sign-in is not
    among the inputs. Its file counts it in ``denial_step_times_unreadable`` when
    its time is not a valid timestamp, but the run's counts, which count prompts,
    do not. Each row counts, before de-duplication, as the file counts do.
    """
    if steps.empty:
        return 0
    keys = steps["record_id"]
    loose = ~keys.isin(signin["record_id"]) & ~keys.isin(signin["request_id"])
    return int((loose.to_numpy(bool) & denial_steps(steps)).sum())


def unjoined_step_requests(signin: pd.DataFrame, steps: pd.DataFrame) -> set[str]:
    """Return the keys of the denial and approval steps that match no sign-in by
    record id or by request id.

    A portal AuthDetails download keys its steps by request id, and a step joins a
    sign-in with that request id (see :func:`_prompts_from_steps`).
    """
    if steps.empty:
        return set()
    keys = steps["record_id"]
    loose = ~keys.isin(signin["record_id"]) & ~keys.isin(signin["request_id"])
    loose &= keys.notna()
    if not loose.any():
        return set()
    candidates = steps.loc[loose.to_numpy(bool), ["record_id", "result_detail"]]
    relevant = _outcomes(candidates["result_detail"]).notna().to_numpy(bool)
    return set(candidates.loc[relevant, "record_id"].astype(str))


class PromptExtractor:
    """Run :func:`extract_prompts` and keep what it read, so that a later call
    over the same rows with more added extracts the prompts of the added rows only.

    The added rows alone are read when the rows of the earlier call come back
    unchanged, with the same steps. Every sign-in must also carry a user id and a
    request id, and every denial or approval step must match a sign-in by record
    id. The UPN index and the join by request id could otherwise change the
    prompts of rows read before, so every row is read again. Either way the
    result is what :func:`extract_prompts` returns.
    """

    def __init__(self) -> None:
        self._last: _Extraction | None = None

    def extract(
        self,
        signin: pd.DataFrame,
        steps: pd.DataFrame,
        upn_index: Callable[[], Mapping[str, str] | None],
    ) -> pd.DataFrame:
        """Return the prompts of ``signin`` and ``steps``.

        Args:
            signin: the sign-in frame.
            steps: its authentication steps.
            upn_index: returns the UPN index; it is called only when every row is
                read again.
        """
        added = self._last.extended(signin, steps) if self._last else None
        self._last = added or _extract(signin, steps, upn_index())
        return self._last.prompts()


@dataclass
class _Extraction:
    """The prompts of one call, with digests that show whether a later call
    reads the same rows.

    The digests replace copies of the rows. On 3M simulated sign-ins, copies of
    the user sign-ins and their steps kept 11 MiB from one round of the second
    pass to the next.
    """

    # The sign-in columns read, in frame order.
    columns: list[str]
    # The record ids of the user sign-ins read.
    record_ids: pd.Series
    # The digests of the user sign-ins read and of their steps (see _digest).
    user_digest: bytes | None
    step_digest: bytes | None
    # The prompts as _order returns them, with their dedupe_key column.
    ordered: pd.DataFrame
    # Whether the prompts of added rows can be extracted on their own.
    extendable: bool

    @classmethod
    def of(
        cls,
        signin: pd.DataFrame,
        is_user: np.ndarray,
        steps: pd.DataFrame,
        ordered: pd.DataFrame,
        extendable: bool,
    ) -> _Extraction:
        """Describe the extraction of ``ordered`` from the user sign-ins of
        ``signin``, where ``is_user`` is True, and their steps among ``steps``.

        ``signin`` has the columns that :func:`_read_columns` returns.
        """
        record_ids = signin["record_id"][is_user]
        own_steps = steps["record_id"].isin(record_ids).to_numpy(bool)
        return cls(
            columns=list(signin.columns),
            record_ids=record_ids,
            user_digest=_digest(signin, is_user),
            step_digest=_digest(steps, own_steps),
            ordered=ordered,
            extendable=extendable,
        )

    def prompts(self) -> pd.DataFrame:
        """Return the prompts sorted by user and time, without copies."""
        return _prompt_columns(self.ordered)

    def extended(self, signin: pd.DataFrame, steps: pd.DataFrame) -> _Extraction | None:
        """Return the extraction of ``signin`` from the rows it adds to this one,
        or None when every row has to be read again."""
        if not self.extendable or self.columns != _read_columns(signin):
            return None
        if self.user_digest is None or self.step_digest is None:
            return None
        # The columns read, without a copy. Only the added rows are copied.
        read = signin[self.columns]
        is_user = _is_user_signin(signin).to_numpy(bool)
        is_old = is_user & read["record_id"].isin(self.record_ids).to_numpy(bool)
        if _digest(read, is_old) != self.user_digest:
            return None
        step_is_old = steps["record_id"].isin(self.record_ids).to_numpy(bool)
        if _digest(steps, step_is_old) != self.step_digest:
            return None
        ordered, extendable = _extract_rows(
            read[is_user & ~is_old],
            steps[~step_is_old],
            None,
            read.loc[is_user, list(_WHOLE_FRAME_COLUMNS)],
            earlier=self.ordered,
        )
        if not extendable:
            return None
        return _Extraction.of(read, is_user, steps, ordered, extendable)


# The columns of all user sign-ins that _extract_rows reads, besides those of the
# rows it extracts.
_WHOLE_FRAME_COLUMNS = ("request_id", "user_id")


def _prompt_columns(ordered: pd.DataFrame) -> pd.DataFrame:
    """Return the prompt columns of an :func:`_order` result, without copies."""
    if ordered.empty:
        return pd.DataFrame(columns=PROMPT_COLUMNS)
    # The selection shares the columns of ``ordered`` until one is written.
    return ordered[PROMPT_COLUMNS]


def _digest(frame: pd.DataFrame, rows: np.ndarray) -> bytes | None:
    """Return a SHA-256 digest of the column names, types and values of the rows
    of ``frame`` where ``rows`` is True, in order.

    The values are hashed as the buffers of the Arrow arrays that ``take`` makes,
    which start at offset 0 and contain only the rows taken. Equal rows can still
    give different digests when the bytes under a missing value differ. The
    caller then reads every row again, which gives the same prompts, only slower.
    Returns None when a column has no Arrow form, such as Python objects of mixed
    types.
    """
    try:
        return _arrow_digest(frame, rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _arrow_digest(frame: pd.DataFrame, rows: np.ndarray) -> bytes:
    positions = pa.array(np.flatnonzero(rows), type=pa.int64())
    digest = hashlib.sha256()
    digest.update(len(positions).to_bytes(8, "little"))
    for name in frame.columns:
        values = pa.array(frame[name], from_pandas=True).take(positions)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        digest.update(f"{name}\0{values.type}\0{values.null_count}\0".encode())
        for buffer in values.buffers():
            size = -1 if buffer is None else buffer.size
            digest.update(size.to_bytes(8, "little", signed=True))
            if buffer is not None:
                digest.update(buffer)
    return digest.digest()


def _extract(
    signin: pd.DataFrame,
    steps: pd.DataFrame,
    upn_index: Mapping[str, str] | None,
) -> _Extraction:
    read = signin[_read_columns(signin)]
    is_user = _is_user_signin(signin).to_numpy(bool)
    users = read[is_user]
    ordered, extendable = _extract_rows(users, steps, upn_index, users)
    return _Extraction.of(read, is_user, steps, ordered, extendable)


def _read_columns(signin: pd.DataFrame) -> list[str]:
    # Only the sign-in columns read here are filtered and joined, because each
    # filter, merge and sort copies every column of the frame.
    return [name for name in signin.columns if name in _SIGNIN_COLUMNS_READ]


def _extract_rows(
    users: pd.DataFrame,
    steps: pd.DataFrame,
    upn_index: Mapping[str, str] | None,
    all_users: pd.DataFrame,
    earlier: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, bool]:
    """Extract the prompts of ``users`` and ``steps``.

    ``all_users`` are the user sign-ins of the whole frame, ``users`` among them,
    with at least the columns of :data:`_WHOLE_FRAME_COLUMNS`.
    ``earlier`` are ordered prompts of other rows, which the result's prompts
    include.

    Returns:
        The prompts as :func:`_order` returns them, and whether the prompts of
        rows added later can be extracted on their own. They can when every row
        of ``all_users`` has a user id and a request id, and every denial or
        approval step matched one of ``users`` by record id.
    """
    if all_users.empty:
        return pd.DataFrame(), False
    if users.empty:
        # The steps are still read: one without a sign-in among ``users`` would be
        # joined by request id to a sign-in of ``all_users``.
        step_prompts, has_unmatched_steps = _prompts_from_steps(users, steps)
        status_prompts = pd.DataFrame()
    else:
        # A shallow copy keeps the columns added below out of the caller's frame.
        # pandas copies a shared column only when it is written.
        users = users.copy(deep=False)
        keys, fallback = user_keys(users["user_id"], users["user_upn"], upn_index)
        users["user_key"] = keys
        users["upn_fallback"] = fallback
        users = users[users["user_key"].notna()]
        users["request_key"] = _request_keys(users)
        step_prompts, has_unmatched_steps = _prompts_from_steps(users, steps)
        covered = set(step_prompts["record_id"]) if len(step_prompts) else set()
        status_prompts = _prompts_from_status(users[~users["record_id"].isin(covered)])
    extendable = (
        not has_unmatched_steps
        and not all_users["request_id"].isna().any()
        and not _lacks_user_id(all_users)
    )
    return _order([earlier, step_prompts, status_prompts]), extendable


def _lacks_user_id(users: pd.DataFrame) -> bool:
    """Tell whether a user sign-in has no user id, so its key may need the UPN."""
    ids = users["user_id"].astype("string").str.strip()
    return bool((ids.isna() | (ids == "")).any())


def _order(parts: list[pd.DataFrame | None]) -> pd.DataFrame:
    """Sort the prompts by user and time and drop the copies of each challenge.

    Returns the prompt columns and ``dedupe_key``, or an empty frame without
    columns when there is no prompt. The first row of each challenge in the
    sort order is kept, and rows that tie on every sort key describe the same
    challenge with the same values. So a part may be an earlier result of this
    function in place of the rows it was made from.
    """
    found = [part for part in parts if part is not None and len(part)]
    if not found:
        return pd.DataFrame()
    # Only the columns of the result are concatenated, because the step prompts
    # carry every sign-in column that they were joined with.
    columns = [*PROMPT_COLUMNS, "dedupe_key"]
    prompts = pd.concat([part[columns] for part in found], ignore_index=True)
    # The order and the duplicates are found on the key columns alone, and the
    # prompt rows are taken once. The concatenated frame has a RangeIndex, so its
    # labels are positions.
    order = prompts[["user_key", "prompt_time", "record_id", "dedupe_key"]]
    order = order.sort_values(
        ["user_key", "prompt_time", "record_id", "dedupe_key"], kind="stable"
    )
    order = order.drop_duplicates(["user_key", "dedupe_key"], keep="first")
    # When ``parts`` starts with an earlier result and adds the prompts of a few
    # users, the earlier rows keep their order in long runs, whose Arrow columns
    # are shared instead of copied.
    return take_in_runs(prompts, order.index.to_numpy()).reset_index(drop=True)


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
    # Request and correlation ids are GUIDs, which name the same value in either
    # case, so copies of one request written in different case get one key.
    request_ids = users["request_id"].astype("string").str.lower()
    if not request_ids.isna().any():
        return request_ids
    # Times are formatted only when a row needs the fallback, and then for every
    # row, because pandas (3.1 checked) gives each time as many fractional
    # digits as the whole array needs.
    fallback = (
        users["correlation_id"].astype("string").str.lower().fillna("")
        + "@"
        + users["event_time"].astype("string")
    )
    return request_ids.fillna(fallback)


def _prompts_from_steps(
    users: pd.DataFrame, steps: pd.DataFrame
) -> tuple[pd.DataFrame, bool]:
    """Return the prompts of the denial and approval steps, and whether one of
    those steps matched no sign-in of ``users`` by record id."""
    if steps.empty:
        return pd.DataFrame(), False
    outcomes = _outcomes(steps["result_detail"])
    relevant = steps[outcomes.notna()].assign(outcome=outcomes[outcomes.notna()])
    succeeded = relevant["succeeded"].astype("boolean")
    # A denial step counts only when it did not succeed, and an approval step only
    # when it did not fail. A step without the flag is judged by its text alone.
    denied = relevant["outcome"].isin(DENIALS) & ~succeeded.fillna(False)
    approved = (relevant["outcome"] == APPROVED) & succeeded.fillna(True)
    relevant = relevant[denied | approved]
    if relevant.empty:
        return pd.DataFrame(), False
    step_columns = [
        "record_id",
        "step_index",
        "step_time",
        "step_time_unreadable",
        "method",
        "result_detail",
        "outcome",
    ]
    by_record = relevant[step_columns].merge(users, on="record_id", how="inner")
    # Steps from a portal AuthDetails download carry the request id, not a record id.
    unmatched = relevant[~relevant["record_id"].isin(users["record_id"])]
    has_unmatched = not unmatched.empty
    found = [by_record] if len(by_record) else []
    if has_unmatched:
        by_request = unmatched[step_columns].rename(columns={"record_id": "request_id"})
        by_request = by_request.merge(
            users.drop_duplicates("request_id"), on="request_id", how="inner"
        )
        if len(by_request):
            found.append(by_request)
    # Steps that join no sign-in at all make no prompt.
    if not found:
        return pd.DataFrame(), has_unmatched
    joined = pd.concat(found, ignore_index=True)
    offset = (joined["step_time"] - joined["event_time"]).abs()
    replaced = (offset > STEP_TIME_MAX_OFFSET).fillna(False).astype(bool)
    joined["step_time_replaced"] = replaced
    # A step time that could not be parsed, or lies outside the times pandas
    # can represent (1677-09-21 to 2262-04-11), is missing like an absent one. The
    # loader marks it, so a finding can warn that its prompt took the sign-in's
    # time.
    unreadable = joined["step_time_unreadable"].astype("boolean").fillna(False)
    joined["step_time_unreadable"] = unreadable.astype(bool)
    joined["prompt_time"] = (
        joined["step_time"].mask(replaced).fillna(joined["event_time"])
    )
    joined["detail"] = joined["result_detail"]
    joined["from_step"] = True
    # The step time goes into the key as nanoseconds, because formatting 4,000
    # times as text took about 14 ms. The key only has to be equal for equal
    # steps, and it is the last sort key, where only equal times meet. A step
    # without a time is keyed by its position in the sign-in instead, which
    # copies of one sign-in share. Other missing parts become empty text, because
    # a missing part makes the whole key missing, and drop_duplicates treats all
    # missing keys of a user as one.
    step_ns = joined["step_time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    step_text = pd.Series(step_ns.astype(str), index=joined.index, dtype="str")
    position_text = "#" + joined["step_index"].astype(str).fillna("")
    joined["dedupe_key"] = (
        joined["request_key"].astype(str).fillna("")
        + "|"
        + step_text.where(joined["step_time"].notna(), position_text)
        + "|"
        + joined["method"].astype(str).fillna("")
        + "|"
        + joined["result_detail"].astype(str).fillna("")
    )
    return joined, has_unmatched


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
    found["step_time_replaced"] = False
    found["step_time_unreadable"] = False
    group = found["outcome"].map(lambda value: "denial" if value in DENIALS else value)
    found["dedupe_key"] = found["request_key"].astype(str) + "|" + group
    return found
