"""The labeled scenario corpus: every attack is found, no benign case is a chain.

The corpus comes from the project's own simulator, so the labels say what each
scenario injected. Attack variations that clock-bucket and whole-span rules miss are
part of it: a burst across a 10-minute boundary, a slow drip over 25 minutes, a new
source IP per prompt, bombing 75 minutes after the revocation, and denials visible
only inside ``authenticationDetails``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

SEEDS = (3, 11, 29)


@pytest.fixture(scope="module", params=SEEDS)
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(f"corpus{request.param}")
    result = simulate(SimulationConfig(users=40, days=3, seed=request.param), folder)
    runner = CliRunner()
    run = runner.invoke(
        main,
        [
            "hunt",
            "--audit",
            str(result.audit_path),
            "--signin",
            str(result.signin_path),
            "--format",
            "jsonl",
            "--fail-on",
            "none",
        ],
    )
    assert run.exit_code == 0, run.output
    findings = [json.loads(line) for line in run.stdout.splitlines() if line]
    labels = json.loads(Path(result.labels_path).read_text())["scenarios"]
    return findings, labels


def _chains_for(findings: list[dict], user_ids: list[str]) -> list[dict]:
    wanted = {user_id.lower() for user_id in user_ids}
    return [
        finding
        for finding in findings
        if finding["finding_type"] == "revocation_chain"
        and (finding["target_user_id"] or "").lower() in wanted
    ]


def test_every_attack_chain_found(corpus) -> None:
    findings, labels = corpus
    attacks = [s for s in labels if s["expected_finding"] == "revocation_chain"]
    assert attacks
    for scenario in attacks:
        bombed = scenario.get("bombed_user_ids") or scenario["target_user_ids"]
        chains = _chains_for(findings, bombed)
        found = {(f["target_user_id"] or "").lower() for f in chains}
        assert found == {user.lower() for user in bombed}, scenario["scenario"]


def test_approvals_match_labels(corpus) -> None:
    findings, labels = corpus
    for scenario in labels:
        if scenario["expected_finding"] != "revocation_chain":
            continue
        approved = {user.lower() for user in scenario.get("approved_user_ids") or []}
        for finding in _chains_for(findings, scenario["target_user_ids"]):
            user = finding["target_user_id"].lower()
            assert finding["approved"] == (user in approved), scenario["scenario"]


def test_approved_chains_are_critical(corpus) -> None:
    findings, _ = corpus
    approved = [
        f for f in findings if f["finding_type"] == "revocation_chain" and f["approved"]
    ]
    assert approved
    assert {f["severity"] for f in approved} == {"critical"}


def test_benign_cases_never_chains(corpus) -> None:
    findings, labels = corpus
    for scenario in labels:
        if scenario["expected_finding"] != "none":
            continue
        assert _chains_for(findings, scenario["target_user_ids"]) == [], scenario[
            "scenario"
        ]


def test_burst_before_revocation_not_chain(corpus) -> None:
    findings, labels = corpus
    for scenario in labels:
        if scenario["expected_finding"] != "push_bombing":
            continue
        users = {user.lower() for user in scenario["target_user_ids"]}
        kinds = {
            f["finding_type"]
            for f in findings
            if (f["target_user_id"] or "").lower() in users
        }
        assert kinds == {"push_bombing"}, scenario["scenario"]


def test_campaign_lists_every_target(corpus) -> None:
    findings, labels = corpus
    campaign = next(s for s in labels if s["scenario"] == "campaign")
    reported = [f for f in findings if f["finding_type"] == "revocation_campaign"]
    assert len(reported) == 1
    targets = {t["user_id"].lower() for t in reported[0]["campaign_targets"]}
    assert targets >= {user.lower() for user in campaign["target_user_ids"]}
    bombed = {
        t["user_id"].lower() for t in reported[0]["campaign_targets"] if t["bombed"]
    }
    assert bombed == {user.lower() for user in campaign["bombed_user_ids"]}
