"""Every tabular shape that ``simulate`` writes is read back with the same findings.

Each shape runs a small tenant through ``simulate``, ``hunt`` and ``inspect`` in
process. Attacks labelled ``revocation_chain`` must be found for their bombed users,
and no benign label may become a chain.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from h056hunt.cli import main

# Shape name per file that ``inspect`` reports for each simulated shape.
SHAPES = {
    "log-analytics-json": {
        "audit.json": "log-analytics",
        "signin.json": "log-analytics",
    },
    "log-analytics-csv": {
        "audit.csv": "log-analytics-csv",
        "signin.csv": "log-analytics-csv",
    },
    "portal-csv": {
        "audit.csv": "portal-audit-csv",
        "signin.csv": "portal-signin-csv",
        "signin_AuthDetails.csv": "portal-auth-details-csv",
    },
    "purview-ual-csv": {
        "audit.csv": "purview-ual-csv",
        "signin.csv": "purview-ual-csv",
    },
}
# Log Analytics CSV times are US month-first text, ambiguous on early days of a month.
HUNT_OPTIONS = {"log-analytics-csv": ["--monthfirst"]}


@pytest.fixture(scope="module", params=sorted(SHAPES))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    shape = request.param
    folder = tmp_path_factory.mktemp(shape)
    runner = CliRunner()
    simulated = runner.invoke(
        main,
        [
            "simulate",
            "--users",
            "30",
            "--days",
            "1",
            "--signin-shape",
            shape,
            "--audit-shape",
            shape,
            "--out",
            str(folder),
        ],
    )
    assert simulated.exit_code == 0, simulated.output
    signin_files = [name for name in SHAPES[shape] if name.startswith("signin")]
    arguments = ["hunt", "--audit", str(folder / next(iter(SHAPES[shape])))]
    for name in signin_files:
        arguments += ["--signin", str(folder / name)]
    arguments += ["--format", "jsonl", "--fail-on", "none"]
    hunted = runner.invoke(main, arguments + HUNT_OPTIONS.get(shape, []))
    assert hunted.exit_code == 0, hunted.output
    findings = [json.loads(line) for line in hunted.stdout.splitlines() if line]
    labels = json.loads((folder / "labels.json").read_text())["scenarios"]
    return shape, folder, findings, labels


def _chains_for(findings: list[dict], user_ids: list[str]) -> list[dict]:
    wanted = {user_id.lower() for user_id in user_ids}
    return [
        finding
        for finding in findings
        if finding["finding_type"] == "revocation_chain"
        and (finding["target_user_id"] or "").lower() in wanted
    ]


def test_every_attack_chain_found(run) -> None:
    _, _, findings, labels = run
    attacks = [s for s in labels if s["expected_finding"] == "revocation_chain"]
    assert attacks
    for scenario in attacks:
        bombed = scenario.get("bombed_user_ids") or scenario["target_user_ids"]
        found = {
            (finding["target_user_id"] or "").lower()
            for finding in _chains_for(findings, bombed)
        }
        assert found == {user.lower() for user in bombed}, scenario["scenario"]


def test_benign_cases_never_chains(run) -> None:
    _, _, findings, labels = run
    for scenario in labels:
        if scenario["expected_finding"] != "none":
            continue
        chains = _chains_for(findings, scenario["target_user_ids"])
        assert chains == [], scenario["scenario"]


def test_inspect_names_each_shape(run) -> None:
    shape, folder, _, _ = run
    paths = [str(folder / name) for name in SHAPES[shape]]
    options = ["--format", "json", *HUNT_OPTIONS.get(shape, [])]
    inspected = CliRunner().invoke(main, ["inspect", *paths, *options])
    assert inspected.exit_code == 0, inspected.output
    reports = [json.loads(line) for line in inspected.stdout.splitlines() if line]
    assert reports
    by_name = {Path(report["path"]).name: report for report in reports}
    for name, expected in SHAPES[shape].items():
        assert by_name[name]["shape"] == expected, name


def test_ual_steps_only_label_explains_gap(run) -> None:
    shape, _, _, labels = run
    steps_only = next(s for s in labels if s["scenario"] == "steps_only")
    if shape == "purview-ual-csv":
        assert steps_only["expected_finding"] == "none"
        assert "no authentication steps" in steps_only["description"]
    else:
        assert steps_only["expected_finding"] == "revocation_chain"
