"""Compare h056hunt with the public detection logics on the labeled scenario corpus.

The public logics are restated from their published descriptions and applied to the
same sign-in rows:

* whole-span: per user and IP, more than 10 rows of "declined" or "did not respond"
  whose whole group spans at most 5 minutes;
* clock buckets: per user, more than 9 "declined" rows in one 10-minute clock bucket;
* single event: every row with error 500121 raises an alert.

Each counts rows, not prompts, and none looks at the audit log. The script prints a
Markdown table per scenario: whether each logic fires for the scenario's target users.

Usage: ``python benchmarks/compare_public_logic.py [--seeds 3 11 29]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import pandas as pd

from h056hunt.detect.chains import DetectionParams
from h056hunt.hunt import run_hunt
from h056hunt.load import load_logs
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

DECLINED = "mfa denied; user declined the authentication"
UNANSWERED = "mfa denied; user did not respond to mobile app notification"


def whole_span_users(signin: pd.DataFrame) -> set[str]:
    """Users with more than 10 declined or unanswered rows spanning <= 5 minutes."""
    detail = signin["additional_details"].astype("string").str.casefold()
    rows = signin[detail.isin([DECLINED, UNANSWERED]).fillna(False)]
    fired = set()
    for (user, _), group in rows.groupby(["user_id", "ip_address"], dropna=False):
        span = group["event_time"].max() - group["event_time"].min()
        if len(group) > 10 and span <= pd.Timedelta(minutes=5):
            fired.add(str(user).lower())
    return fired


def clock_bucket_users(signin: pd.DataFrame) -> set[str]:
    """Users with more than 9 declined rows in one 10-minute clock bucket."""
    detail = signin["additional_details"].astype("string").str.casefold()
    rows = signin[(detail == DECLINED).fillna(False)]
    buckets = rows.groupby(
        [rows["user_id"].astype(str).str.lower(), rows["event_time"].dt.floor("10min")]
    ).size()
    return {user for (user, _), count in buckets.items() if count > 9}


def single_event_alerts(signin: pd.DataFrame) -> dict[str, int]:
    """Alerts per user from a rule that fires on every 500121 row."""
    codes = signin["error_code"].astype("Int64")
    rows = signin[(codes == 500121).fillna(False)]
    return rows["user_id"].astype(str).str.lower().value_counts().to_dict()


def compare(seed: int, folder: Path) -> list[dict[str, object]]:
    """Run every logic on one simulated corpus; return a row per scenario."""
    result = simulate(SimulationConfig(users=40, days=3, seed=seed), folder)
    data = load_logs([str(result.audit_path)], [str(result.signin_path)])
    hunt = run_hunt(data, DetectionParams())
    found: dict[str, set[str]] = defaultdict(set)
    for finding in hunt.findings:
        if finding.target_user_id:
            found[finding.target_user_id.lower()].add(finding.finding_type.value)
    whole_span = whole_span_users(data.signin)
    buckets = clock_bucket_users(data.signin)
    single = single_event_alerts(data.signin)
    labels = json.loads(Path(result.labels_path).read_text())["scenarios"]
    rows = []
    for scenario in labels:
        users = {
            user.lower()
            for user in scenario.get("bombed_user_ids") or scenario["target_user_ids"]
        }
        ours = sorted({kind for user in users for kind in found.get(user, set())})
        rows.append(
            {
                "seed": seed,
                "scenario": scenario["scenario"],
                "expected": scenario["expected_finding"],
                "h056hunt": ", ".join(ours) or "none",
                "whole_span": bool(users & whole_span),
                "clock_buckets": bool(users & buckets),
                "single_event_alerts": sum(single.get(user, 0) for user in users),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 11, 29])
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        for seed in arguments.seeds:
            rows.extend(compare(seed, Path(temporary) / str(seed)))
    table = pd.DataFrame(rows)
    summary = table.groupby(["scenario", "expected"], sort=False).agg(
        h056hunt=("h056hunt", lambda values: " / ".join(sorted(set(values)))),
        whole_span=("whole_span", "sum"),
        clock_buckets=("clock_buckets", "sum"),
        single_event_alerts=("single_event_alerts", "sum"),
    )
    runs = len(arguments.seeds)
    print(
        f"| scenario | expected | h056hunt | whole-span 5m >10 (of {runs}) "
        f"| clock buckets 10m >9 (of {runs}) | single-event alerts |"
    )
    print("|---|---|---|---|---|---|")
    for (scenario, expected), row in summary.iterrows():
        print(
            f"| {scenario} | {expected} | {row['h056hunt']} | {row['whole_span']} "
            f"| {row['clock_buckets']} | {row['single_event_alerts']} |"
        )


if __name__ == "__main__":
    main()
