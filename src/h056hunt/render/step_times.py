"""Sentences about step times and unmatched steps, shared by the formats.

A prompt from an authentication step takes the step's
``authenticationStepDateTime``, unless that time is more than
:data:`~h056hunt.detect.prompts.STEP_TIME_MAX_OFFSET` from the sign-in's
``createdDateTime`` (replaced) or is present but not a valid timestamp
(unreadable). Either way the prompt is dated at the sign-in. A denial step that
matches no sign-in makes no prompt at all. The text summary, Markdown, HTML and
``h056 inspect`` give these counts with the same words, and only when they are
not zero.
"""

from __future__ import annotations

from h056hunt.detect.prompts import STEP_TIME_MAX_OFFSET
from h056hunt.plurals import Counted
from h056hunt.render.text import format_duration

DENIAL_PROMPTS_SUBJECT = "denial prompts dated at their sign-in's time"


def step_time_counts(subject: str, replaced: int, unreadable: int) -> str | None:
    """Return ``subject`` followed by the replaced and unreadable step time
    counts, or None when both are 0.

    ``subject`` names the prompts counted, such as "denial prompts dated at
    their sign-in's time".
    """
    if not replaced and not unreadable:
        return None
    return (
        f"{subject}: {replaced} with a step time more than "
        f"{format_duration(STEP_TIME_MAX_OFFSET)} away, {unreadable} with a step "
        "time that is not a valid timestamp"
    )


def run_step_time_counts(detection: dict[str, int]) -> str | None:
    """Return the run's counts from the ``detection`` object of the JSON report,
    or None when both are 0."""
    return step_time_counts(
        DENIAL_PROMPTS_SUBJECT,
        detection["denial_step_times_replaced"],
        detection["denial_step_times_unreadable"],
    )


def finding_step_time_counts(replaced: int, unreadable: int) -> str | None:
    """Return one finding's counts, or None when both are 0."""
    return step_time_counts(
        "prompts dated at their sign-in's time", replaced, unreadable
    )


def file_unreadable_steps(unreadable: int) -> str | None:
    """Return a file's count of denial steps whose time is not a valid timestamp,
    without the file's name, or None when it is 0."""
    if not unreadable:
        return None
    return (
        f"{Counted(unreadable, 'denial step')} with an authenticationStepDateTime "
        "that is not a valid timestamp"
    )


def steps_without_signin(count: int) -> str | None:
    """Return the run's count of denial steps that match no sign-in, or None
    when it is 0.

    Such steps make no prompt, so the run's step time counts leave them out
    while each file's ``denial_step_times_unreadable`` includes them.
    """
    if not count:
        return None
    return (
        f"{Counted(count, 'denial step matches', 'denial steps match')} no sign-in "
        "of the inputs by record id or request id, so they make no prompt and no "
        "burst or prompt count includes them; to hunt them, also give the sign-in "
        "download that their AuthDetails file came with"
    )


def sentence_case(text: str) -> str:
    """Return ``text`` with its first letter in upper case, for a list item."""
    return text[:1].upper() + text[1:]
