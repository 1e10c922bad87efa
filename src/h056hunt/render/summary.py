"""The run summary on stderr: what was read, what was skipped and what is covered."""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo

from rich.console import Console
from rich.text import Text

from h056hunt.hunt import HuntResult
from h056hunt.load import LoadedData
from h056hunt.plurals import Counted
from h056hunt.render.hanging import print_hanging
from h056hunt.render.input_files import render_input_files
from h056hunt.render.partial import PARTIAL_HEADLINE
from h056hunt.render.step_times import (
    DENIAL_PROMPTS_SUBJECT,
    file_unreadable_steps,
    step_time_counts,
    steps_without_signin,
)
from h056hunt.render.text import (
    display_text,
    escape_unsafe,
    format_time,
    plain,
    shown_message,
)
from h056hunt.suppress import counts_by_entry


def render_summary(
    data: LoadedData,
    result: HuntResult | None,
    console: Console,
    *,
    tz: tzinfo | None = None,
    suppressed_listed: bool = False,
) -> None:
    """Print files, shapes, record accounting, time spans and coverage.

    Args:
        suppressed_listed: ``--show-suppressed`` lists the suppressed findings
            after this summary, so the hint to use it is left out.
    """
    if console.quiet:
        # rich lays out every line even when a quiet console throws it away, which
        # costs seconds on runs with thousands of coverage lines.
        return
    render_input_files(data.files, console)
    totals = Counter[str]()
    for report in data.files:
        totals["seen"] += report.records_seen
        totals["duplicates"] += report.duplicates
        totals["loaded"] += report.loaded_total
        totals["prefiltered"] += sum(report.prefiltered.values())
    skipped = data.skipped()
    console.print(
        Text(
            f"Records: {totals['seen']} seen, {totals['loaded']} loaded, "
            f"{totals['duplicates']} duplicate, {sum(skipped.values())} skipped"
            + (
                f", {totals['prefiltered']} not needed by the hunt (pre-filtered)"
                if totals["prefiltered"]
                else ""
            )
        )
    )
    # Skip reasons are the program's messages, whose quoted values repr() has
    # escaped already. A field value that a reason keeps apart is cut.
    for reason, count in sorted(skipped.items()):
        print_hanging(console, f"skipped {count}: {shown_message(reason)}")
    for path, reason in data.unreadable:
        print_hanging(console, f"not read: {plain(path)}: {escape_unsafe(reason)}")
    for report in data.files:
        steps = file_unreadable_steps(report.denial_step_times_unreadable)
        if steps is not None:
            print_hanging(console, f"{plain(report.shown_path)}: {steps}")
    if data.conflicts:
        print_hanging(
            console,
            f"{Counted(len(data.conflicts), 'record id')} had copies that differ; "
            "the most complete copy was kept",
        )
    for log, label in (("audit", "Audit"), ("signin", "Sign-in")):
        span = data.time_span(log)
        if span is None:
            console.print(Text(f"{label} log: no records"))
        else:
            console.print(
                Text(
                    f"{label} log covers {format_time(span[0], tz)} to "
                    f"{format_time(span[1], tz)}"
                )
            )
    if result is not None:
        admin = 0
        if len(result.revocations):
            admin = int((~result.revocations["is_self_revocation"].astype(bool)).sum())
        # The fast path decodes only the sign-ins that can matter, so there the
        # count leaves out approvals of users that no finding names.
        prompts = (
            "MFA prompts in decoded sign-ins"
            if totals["prefiltered"]
            else ("MFA prompts")
        )
        console.print(
            Text(
                f"Revocations: {len(result.revocations)} ({admin} by another "
                f"principal); {prompts}: {result.prompt_count}; "
                f"findings: {len(result.findings)}"
            )
        )
        _print_step_time_counts(result, console)
        for activity in sorted(
            set(result.near_misses["activity"].dropna().astype(str))
        ):
            print_hanging(
                console,
                f"possible revocation, not matched: {display_text(activity)}",
                style="yellow",
            )
        hint = "" if suppressed_listed else " (--show-suppressed lists them)"
        for entry, count in sorted(counts_by_entry(result.suppressed).items()):
            print_hanging(
                console,
                f"suppressed {Counted(count, 'finding')} by allowlist "
                f"{display_text(entry)}{hint}",
            )
        for warning in result.coverage_warnings:
            print_hanging(console, f"coverage: {display_text(warning)}", style="yellow")
    if data.partial:
        console.print(
            Text(
                f"{PARTIAL_HEADLINE}; results may be incomplete.",
                style="bold yellow",
            )
        )


def _print_step_time_counts(result: HuntResult, console: Console) -> None:
    """Print how many denial prompts took their sign-in's time in place of their
    step's time, and how many denial steps matched no sign-in, when any did."""
    counts = step_time_counts(
        DENIAL_PROMPTS_SUBJECT,
        result.denial_step_times_replaced,
        result.denial_step_times_unreadable,
    )
    if counts is not None:
        print_hanging(console, counts, style="yellow")
    unjoined = steps_without_signin(result.denial_steps_without_signin)
    if unjoined is not None:
        print_hanging(console, unjoined, style="yellow")
