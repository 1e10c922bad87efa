"""A campaign longer than one slice renders as its eagerly built copy does.

A campaign finding makes its evidence, timeline events and target records a slice
at a time. Every format must write the same bytes as for the same finding with
those items built up front as tuples and lists. The CSV format writes one row per
finding and lists no targets, but runs too.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from report_inputs import (
    denied_signin,
    mass_revocation_exports,
    revocation_audit,
    write_exports,
)

from h056hunt.detect.chains import DetectionParams
from h056hunt.findings import Finding, FindingType
from h056hunt.hunt import run_hunt
from h056hunt.lazy_sequence import SLICE_SIZE, LazySequence
from h056hunt.load import LoadOptions, load_logs
from h056hunt.render import RENDERERS
from h056hunt.render.context import RenderContext

TARGETS = SLICE_SIZE * 2 + 76
BOMBED_ID = "00000000-0000-4000-8000-000000000001"


def campaign_context(tmp_path: Path, *, details: bool) -> RenderContext:
    """Hunt one admin's mass revocation, one of whose targets is then bombed."""
    audit, signin = mass_revocation_exports(tmp_path, TARGETS, BOMBED_ID)
    data = load_logs([audit], [signin], LoadOptions())
    params = DetectionParams(min_denials=3)
    result = run_hunt(data, params)
    return RenderContext(
        data=data, result=result, params=params, details=details, no_color=True
    )


def eager_copy(finding: Finding) -> Finding:
    """Return the finding with its lazy sequences built as tuples and lists."""
    extra = dict(finding.extra)
    if "targets" in extra:
        extra["targets"] = list(extra["targets"])
    return replace(
        finding,
        evidence=tuple(finding.evidence),
        timeline=tuple(finding.timeline),
        extra=extra,
    )


def rendered(
    output_format: str, findings: list[Finding], context: RenderContext
) -> str:
    stream = io.StringIO()
    RENDERERS[output_format](findings, stream, context)
    return stream.getvalue()


@pytest.mark.parametrize("output_format", sorted(RENDERERS))
def test_lazy_campaign_renders_like_eager(tmp_path: Path, output_format: str) -> None:
    context = campaign_context(tmp_path, details=output_format == "table")
    findings = context.result.findings
    campaigns = [
        finding
        for finding in findings
        if finding.finding_type is FindingType.REVOCATION_CAMPAIGN
    ]
    assert len(campaigns) == 1
    assert isinstance(campaigns[0].evidence, LazySequence)
    assert len(campaigns[0].extra["targets"]) == TARGETS
    assert sum(target["bombed"] for target in campaigns[0].extra["targets"]) == 1

    lazy = rendered(output_format, findings, context)
    eager = rendered(output_format, [eager_copy(f) for f in findings], context)

    assert lazy == eager
    # Only the third slice contains the last revocation. The table's timeline
    # shows its target, and the other reports show its record id.
    if output_format == "table":
        assert f"user{TARGETS - 1}@contoso.example" in lazy
    elif output_format != "csv":
        assert f"A{TARGETS - 1}" in lazy


# Texts that the JSON writers must escape: quotes, a backslash, a control
# character, non-ASCII letters, a bidirectional override and a character
# outside the Basic Multilingual Plane.
HOSTILE_TEXTS = [
    'quote"d',
    "back\\slash",
    "tab\there",
    "Zoë.Müller",
    "evil\u202egnp.exe",
    "emoji\U0001f600",
]


def hostile_campaign_exports(tmp_path: Path) -> tuple[str, str]:
    """Write a mass revocation whose ids and UPNs contain hostile text, some
    targets without a UPN or an object id, and another actor's revocations
    between its rows, so the campaign's rows are not one slice of the frame."""
    audits = []
    for index in range(TARGETS):
        text = HOSTILE_TEXTS[index % len(HOSTILE_TEXTS)]
        user_id = f"00000000-0000-4000-8000-{index:012d}"
        upn = f"{text}{index}@contoso.example"
        if index % 7 == 3:
            upn = None
        elif index % 11 == 5:
            user_id = None
        record = revocation_audit(
            f"A{index}{text}",
            "Mass revoker",
            user_id,
            upn,
            f"2024-05-14T09:{index // 60 % 60:02d}:{index % 60:02d}.{index:07d}Z",
        )
        audits.append(record)
        if index % 100 == 50:
            other = revocation_audit(
                f"B{index}",
                "Other admin",
                f"00000000-0000-4000-9000-{index:012d}",
                f"other{index}@contoso.example",
                f"2024-05-14T09:{index // 60 % 60:02d}:{index % 60:02d}Z",
            )
            other["initiatedBy"]["user"]["id"] = (
                f"{index:08d}-0000-4000-8000-0000000000b0"
            )
            audits.append(other)
    signins = [
        denied_signin(
            f"S{index}",
            f"R{index}",
            f"2024-05-14T10:00:{index:02d}Z",
            "Bob",
            BOMBED_ID,
            f"{HOSTILE_TEXTS[1]}1@contoso.example",
        )
        for index in range(5)
    ]
    return write_exports(tmp_path, audits, signins)


@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_hostile_campaign_json_like_eager(tmp_path: Path, output_format: str) -> None:
    audit, signin = hostile_campaign_exports(tmp_path)
    data = load_logs([audit], [signin], LoadOptions())
    params = DetectionParams(min_denials=3)
    result = run_hunt(data, params)
    context = RenderContext(data=data, result=result, params=params, no_color=True)
    findings = result.findings
    campaign = next(
        finding
        for finding in findings
        if finding.finding_type is FindingType.REVOCATION_CAMPAIGN
    )
    assert isinstance(campaign.evidence, LazySequence)
    assert campaign.evidence.record_json is not None
    assert len(campaign.extra["targets"]) == TARGETS

    lazy = rendered(output_format, findings, context)
    eager = rendered(output_format, [eager_copy(f) for f in findings], context)

    assert lazy == eager
    assert lazy.isascii()
    assert "\\u202e" in lazy
    assert '\\"d' in lazy
