"""Log values of 100,000 characters in the text outputs.

Real UPNs and display names are short, so a value this long is crafted or broken.
The table and the run summary cut it and count what they left out; the JSON output
keeps it whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile import ARGUMENTS, denial, revocation, run_cli
from rich.cells import cell_len

from h056hunt.render.text import SHOWN_RUN, SHOWN_TEXT

LONG = "x" * 100_000
# Words short enough to stay whole, so only the cut of the whole text applies.
LONG_WITH_SPACES = "word " * 20_000


def _write(folder: Path) -> list[str]:
    audits = [revocation(1, LONG), revocation(2, LONG_WITH_SPACES)]
    near_miss = revocation(3, "near miss")
    near_miss["id"] = "near-miss"
    near_miss["activityDisplayName"] = "Revoke sessions of user " + LONG
    audits.append(near_miss)
    signins = [denial(1, attempt, LONG) for attempt in range(4)]
    signins += [denial(2, attempt, LONG_WITH_SPACES) for attempt in range(4)]
    audit = folder / "audit.json"
    signin = folder / "signin.json"
    audit.write_text(json.dumps({"value": audits}), encoding="utf-8")
    signin.write_text(json.dumps({"value": signins}), encoding="utf-8")
    return ["--audit", str(audit), "--signin", str(signin), *ARGUMENTS]


def test_table_cuts_long_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")

    result = run_cli(["hunt", *_write(tmp_path), "--details"])

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # Whole, the values above would fill thousands of lines.
    assert len(lines) < 2_000
    assert max(cell_len(line) for line in lines) <= 100
    # Each finding's heading names its user, cut; rich wraps it over lines.
    joined = result.stdout.replace("\n", "").replace(" ", "")
    upn_length = len(LONG) + len("user1@contoso.example")
    assert f"…[+{upn_length - SHOWN_RUN:,}characters]" in joined
    assert f"…[+{upn_length - SHOWN_TEXT:,}characters]" in joined
    # Every value shown cut ends in a mark, and keeps at most SHOWN_RUN of its
    # x's. Lines are not joined for this, because the table folds the long user
    # and revoker names side by side, and joined lines would run them together.
    assert result.stdout.count("x") <= joined.count("…[+") * SHOWN_RUN


def test_stderr_cuts_long_activity(tmp_path: Path) -> None:
    result = run_cli(["hunt", *_write(tmp_path)])

    assert result.exit_code == 0
    # Whole, the activity and the UPNs in the coverage warning would add
    # 300,000 characters.
    assert len(result.stderr) < 10_000
    joined = "".join(result.stderr.split())
    mark = f"…[+{len(LONG) - SHOWN_RUN:,}characters]"
    # The log warning quotes the activity, with the mark after the quote, and
    # the run summary lists it.
    kept = "Revokesessionsofuser" + "x" * SHOWN_RUN
    assert joined.count(f"'{kept}'{mark}") == 1
    assert joined.count(f":{kept}{mark}") == 1
    # The warning names where --revocation-activity can copy the whole name.
    assert "copyitwholefromrun.detection.unmatched_revocation_activities" in joined


def test_imitated_mark_shown_escaped(tmp_path: Path) -> None:
    imitation = "Mallory…[+99,800 characters]"
    audits = [revocation(1, imitation)]
    audits[0]["activityDisplayName"] = "Revoke sessions of " + imitation
    signins = [denial(1, attempt, imitation) for attempt in range(4)]
    # File names are shown whole, and an imitation in one is escaped too.
    audit = tmp_path / "audit…[+5 characters].json"
    signin = tmp_path / "signin.json"
    audit.write_text(json.dumps({"value": audits}), encoding="utf-8")
    signin.write_text(json.dumps({"value": signins}), encoding="utf-8")
    arguments = ["--audit", str(audit), "--signin", str(signin), *ARGUMENTS]

    result = run_cli(["hunt", *arguments, "--details"])

    assert result.exit_code == 0, result.stderr
    shown = "Mallory\\u2026[+99,800 characters]"
    stdout = " ".join(result.stdout.split())
    stderr = " ".join(result.stderr.split())
    # No text output shows the imitation as a cut mark.
    assert "…[+" not in result.stdout
    assert "…[+" not in result.stderr
    assert shown in stdout
    # The log warning quotes the activity, and the run summary lists it.
    assert f"'Revoke sessions of {shown}'" in stderr
    assert f"not matched: Revoke sessions of {shown}" in stderr
    assert "the name is cut here" not in stderr

    inspected = run_cli(["inspect", str(audit), str(signin)])

    assert inspected.exit_code == 0, inspected.stderr
    assert "…[+" not in inspected.stdout
    assert "audit\\u2026[+5 characters].json" in inspected.stdout


def test_json_keeps_long_values_whole(tmp_path: Path) -> None:
    result = run_cli(["hunt", *_write(tmp_path), "--format", "json"])

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    upns = {finding["target_upn"] for finding in report["findings"]}
    assert f"{LONG}user1@contoso.example" in upns


def test_details_keep_long_evidence_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    folder = tmp_path / ("d" * 120) / ("e" * 120)
    folder.mkdir(parents=True)
    arguments = _write(folder)

    result = run_cli(["hunt", *arguments, "--details"])

    assert result.exit_code == 0
    joined = "".join(result.stdout.split())
    assert f"{folder / 'signin.json'}:" in joined
