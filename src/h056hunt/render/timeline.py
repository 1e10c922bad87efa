"""Timeline events as the reports show them: labels, prompt outcomes and sources.

A finding's timeline contains the revocation, any sign-in rejected because its refresh
token was revoked, every MFA prompt of the burst, and any security-info or device
registration soon after the approval (kind ``persistence``). A prompt's event kind is
``prompt_<outcome>``, except that an approved prompt is ``approval``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from h056hunt.findings import Evidence

REVOCATION = "revocation"
REVOKED_TOKEN_REJECTED = "revoked_token_rejected"
APPROVAL = "approval"
PROMPT_PREFIX = "prompt_"
EVENT_LABELS = {
    REVOCATION: "Session revocation",
    REVOKED_TOKEN_REJECTED: "Revoked refresh token rejected",
    APPROVAL: "MFA prompt approved",
    "prompt_declined": "MFA prompt declined",
    "prompt_unanswered": "MFA prompt unanswered",
    "prompt_fraud": "MFA prompt reported as fraud",
    "prompt_wrong_number": "MFA prompt wrong number",
    "prompt_other_denial": "MFA prompt denied",
    "prompt_interrupt": "MFA prompt interrupted",
}


def event_outcome(kind: str) -> str | None:
    """Return the prompt outcome of an event kind, or None when it is no prompt."""
    if kind == APPROVAL:
        return "approved"
    if kind.startswith(PROMPT_PREFIX):
        return kind[len(PROMPT_PREFIX) :]
    return None


def event_label(kind: str) -> str:
    """Return a short title for an event kind, such as ``MFA prompt declined``."""
    known = EVENT_LABELS.get(kind)
    return known if known is not None else kind.replace("_", " ").capitalize()


def evidence_sources(evidence: Sequence[Evidence]) -> dict[str, str]:
    """Map each record id to ``file:line``, or ``file:record N`` without a line.

    Several prompts can come from one sign-in record, so one record id can belong to
    several events. They share the location of the first evidence item.
    """
    sources: dict[str, str] = {}
    for item in evidence:
        if item.record_id not in sources:
            sources[item.record_id] = evidence_source(item)
    return sources


def evidence_source(item: Evidence) -> str:
    """Return where an evidence record sits: ``file:line``, ``file:record N``
    without a line, or the file alone."""
    if item.line is not None:
        return f"{item.file}:{item.line}"
    if item.record is not None:
        return f"{item.file}:record {item.record}"
    return item.file
