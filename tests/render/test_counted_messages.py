"""Tests that CLI messages write a count of one with the singular noun.

Each case runs ``h056 hunt`` over exports written by the test, once with a count
of one and once with a larger count, and looks for the whole message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from report_inputs import hostile_logs

from h056hunt.cli import main

# Three users, each revoked and then denying three prompts: three findings.
USERS = ["Alice", "Bob", "Carol"]


def hunt(*args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["hunt", "--min-denials", "3", "--fail-on", "none", *args],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    )


@pytest.mark.parametrize(
    ("inputs", "dangling", "expected"),
    [
        (1, 1, "h056: INFO: inputs: 1 file to read, 1 path not readable"),
        (2, 2, "h056: INFO: inputs: 2 files to read, 2 paths not readable"),
    ],
)
def test_input_counts_agree(
    tmp_path: Path, inputs: int, dangling: int, expected: str
) -> None:
    audit, signin = hostile_logs(tmp_path, USERS)
    folder = tmp_path / "audits"
    folder.mkdir()
    Path(audit).rename(folder / "audit.json")
    # A symlink to a missing file is listed as a path that could not be read.
    for number in range(dangling):
        (folder / f"gone{number}.json").symlink_to(tmp_path / f"missing{number}")
    arguments = ["--audit", str(folder), "--lenient", "-v"]
    if inputs == 2:
        arguments += ["--signin", signin]

    result = hunt(*arguments)

    assert expected in result.stderr.splitlines()


@pytest.mark.parametrize(
    ("suppressed_users", "summary_line", "table_line"),
    [
        (
            ["user0@contoso.example"],
            "  suppressed 1 finding by allowlist target group drill "
            "(--show-suppressed lists them)",
            "1 more finding suppressed by allowlist entries "
            "(--show-suppressed lists them).",
        ),
        (
            ["user0@contoso.example", "user1@contoso.example"],
            "  suppressed 2 findings by allowlist target group drill "
            "(--show-suppressed lists them)",
            "2 more findings suppressed by allowlist entries "
            "(--show-suppressed lists them).",
        ),
    ],
)
def test_suppressed_counts_agree(
    tmp_path: Path, suppressed_users: list[str], summary_line: str, table_line: str
) -> None:
    audit, signin = hostile_logs(tmp_path, USERS)
    config = tmp_path / "h056.toml"
    config.write_text(
        f"[[allowlist.targets]]\nusers = {json.dumps(suppressed_users)}\n"
        'group = "drill"\nreason = "MFA drill"\n',
        encoding="utf-8",
    )

    result = hunt("--audit", audit, "--signin", signin, "--config", str(config))

    assert result.exit_code == 0, result.stderr
    assert summary_line in result.stderr.splitlines()
    assert result.stdout.splitlines()[-1] == table_line


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (1, "  1 record id had copies that differ; the most complete copy was kept"),
        (2, "  2 record ids had copies that differ; the most complete copy was kept"),
        (
            6,
            "h056: WARNING: 1 more record id differs between copies; kept the most "
            "complete copy of each. The JSON report of h056 hunt (--format json) "
            "lists every one under run.conflicts",
        ),
        (
            7,
            "h056: WARNING: 2 more record ids differ between copies; kept the most "
            "complete copy of each. The JSON report of h056 hunt (--format json) "
            "lists every one under run.conflicts",
        ),
    ],
)
def test_conflict_counts_agree(tmp_path: Path, changed: int, expected: str) -> None:
    audit, signin = hostile_logs(tmp_path, USERS)
    records = json.loads(Path(signin).read_text(encoding="utf-8"))["value"]
    # A second export whose first ``changed`` sign-ins differ in the IP address.
    copies = [
        {**record, "ipAddress": "198.51.100.99"} if index < changed else record
        for index, record in enumerate(records)
    ]
    second = tmp_path / "second.json"
    second.write_text(json.dumps({"value": copies}), encoding="utf-8")

    result = hunt("--audit", audit, "--signin", signin, "--signin", str(second))

    assert result.exit_code == 0, result.stderr
    assert expected in result.stderr.splitlines()
