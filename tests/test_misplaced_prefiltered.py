"""A file given to the wrong log's option is reported also when the fast path
pre-filters every record in it.

The plain path decodes each record, so its loaded counts show the log of the
file. The fast path counts the records that it does not decode as pre-filtered,
and the warning must come all the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runs import SAMPLES, assert_fast_same_as_plain, hunt_jsonl

pytestmark = pytest.mark.usefixtures("without_config_files")


def _plain_signins(tmp_path: Path, count: int) -> Path:
    """Write the sample's first ``count`` successful sign-ins as NDJSON, with new
    ids so that they are not copies of the sample's records."""
    lines = (SAMPLES / "signin.json").read_text(encoding="utf-8").splitlines()
    records = [
        line.rstrip(",").replace('{"id":"', '{"id":"0', 1)
        for line in lines
        if '"errorCode":0,' in line
    ]
    path = tmp_path / "signins.json"
    path.write_text("\n".join(records[:count]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("count", [1, 20])
def test_prefiltered_signins_given_as_audit(tmp_path: Path, count: int) -> None:
    signins = _plain_signins(tmp_path, count)
    expected = "was given as audit data but contains only sign-in records"

    audit = ("--audit", str(SAMPLES / "audit.json"))

    plain = hunt_jsonl(signins, SAMPLES / "signin.json", *audit, "--no-fast-path")
    fast = hunt_jsonl(signins, SAMPLES / "signin.json", *audit)

    assert plain.exit_code == 0, plain.output
    assert fast.exit_code == 0, fast.output
    assert expected in plain.stderr
    assert expected in fast.stderr
    assert_fast_same_as_plain(signins, SAMPLES / "signin.json", signins, *audit)
