"""Pre-filter cases from hostile input: the fast path must match the plain path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_runs import hunt_jsonl
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

pytestmark = pytest.mark.usefixtures("small_fast_path_units")


def _hunt(audit: Path, signin: Path, *extra: str) -> tuple[int, bytes, str]:
    result = hunt_jsonl(audit, signin, *extra)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_empty_user_id_line_same_findings(tmp_path: Path) -> None:
    written = simulate(SimulationConfig(users=40, days=2, seed=3), tmp_path)
    signin = written.signin_path
    lines = signin.read_bytes().split(b"\n")
    # Blank the user id of a sign-in in the middle of the file. The line stays a
    # valid Graph record that the vectorised scan keeps.
    middle = len(lines) // 2
    lines[middle], count = re.subn(
        rb'"userId":"[^"]*"', b'"userId":""', lines[middle], count=1
    )
    assert count == 1
    signin.write_bytes(b"\n".join(lines))

    fast_code, fast_out, fast_err = _hunt(written.audit_path, signin)
    plain_code, plain_out, _ = _hunt(written.audit_path, signin, "--no-fast-path")

    assert plain_code == 0
    assert fast_code == 0, fast_err
    assert fast_out.count(b"\n") > 0
    assert fast_out == plain_out
