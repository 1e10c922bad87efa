"""Tests for the summary of a burst that no revocation is joined to."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from cli_runs import SAMPLE_INPUTS
from h056hunt.build import _summary
from h056hunt.cli import main
from h056hunt.detect.chains import Match

START = pd.Timestamp("2024-05-14T09:00:00Z")


def sample_summaries(*extra: str) -> dict[str, str]:
    """Return each push_bombing finding's summary on the samples, by target UPN."""
    result = CliRunner().invoke(
        main, [*SAMPLE_INPUTS, "--format", "json", "--fail-on", "none", *extra]
    )
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    return {
        finding["target_upn"]: finding["summary"]
        for finding in findings
        if finding["finding_type"] == "push_bombing"
    }


def test_summary_names_revocation_past_lag() -> None:
    summary = sample_summaries("--max-lag", "1h")["tomas.haddad@contoso.example"]

    assert "not joined to the last revocation of this user before them" in summary
    assert "by olga.ito@contoso.example at 2026-03-02T03:52:32.0925004Z" in summary
    assert "1h15m before the first denial, past the maximum lag of 1h" in summary
    assert "no revocation of this user in the audit data" not in summary


def test_summary_without_any_revocation() -> None:
    summary = sample_summaries()["amir.eriksen@contoso.example"]

    assert "with no revocation of this user in the audit data before them" in summary


def burst() -> Match:
    denials = pd.DataFrame(
        {"prompt_time": [START + pd.Timedelta(minutes=minute) for minute in range(5)]}
    )
    return Match(
        user_key="u1",
        revocation=None,
        prompts=denials,
        denials=denials,
        approval=None,
        peak_denials=5,
    )


def test_summary_names_own_revocation() -> None:
    own = pd.Series(
        {
            "revocation_time": START - pd.Timedelta(minutes=20),
            "is_self_revocation": True,
        }
    )

    summary = _summary(
        burst(), None, "bob@contoso.example", {}, own, pd.Timedelta("2h")
    )

    assert summary == (
        "5 denied prompts for bob@contoso.example over 4m, not joined to the last "
        "revocation of this user before them, by the user at "
        "2024-05-14T08:40:00Z, 20m before the first denial"
    )
