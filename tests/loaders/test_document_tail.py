"""A page or array written one element per line, with a broken element line in the
middle, stays on the fast path, with the plain path's result.

The fast path reads the element lines before the broken one, and the plain path's
document reader reads the file from it on. Each case breaks a line past the middle
of a simulated sign-in or audit Graph page and hunts with and without
``--no-fast-path``, strict and lenient (see
:func:`cli_runs.assert_fast_same_as_plain`). The ``small_fast_path_units`` fixture
sends the files through many chunks and both workers.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from broken_exports import DECODED_MARK, read_lines, simulate_exports

from cli_runs import assert_fast_same_as_plain

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

TAIL_LOG = "the plain path's document reader reads the file from line"


def _break(path: Path, edit: Callable[[bytes], bytes], log: str) -> int:
    """Replace the first element line past the middle that the pre-filter decodes
    with ``edit`` of it; return its 1-based number."""
    lines = read_lines(path)
    index = next(
        index
        for index in range(len(lines) // 2, len(lines) - 2)
        if DECODED_MARK[log] in lines[index]
    )
    assert lines[index].endswith(b",\n")
    lines[index] = edit(lines[index])
    data = b"".join(lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return index + 1


def _pretty(line: bytes) -> bytes:
    record = json.loads(line.rstrip(b",\n"))
    return json.dumps(record, indent=2).encode() + b",\n"


# Each edit, the text of the strict run's error (None when the run loads), and the
# lenient run's skips.
BROKEN_ELEMENTS: dict[
    str, tuple[Callable[[bytes], bytes], str | None, dict[str, int]]
] = {
    "cut-off record": (
        lambda line: line[: len(line) // 2] + b"\n",
        "complete records before the error",
        {"invalid JSON": 1},
    ),
    "not JSON": (
        lambda line: b"xx,\n",
        "complete records before the error",
        {"invalid JSON": 1},
    ),
    "invalid UTF-8": (
        lambda line: line.replace(b'":"', b'":"\xff', 1),
        "invalid UTF-8 byte at offset",
        {},
    ),
    "NUL byte": (
        lambda line: line.replace(b'":"', b'":"\x00', 1),
        "NUL character in text",
        {},
    ),
    "missing comma": (
        lambda line: line[:-2] + b"\n",
        "expected ',' or ']' after a record",
        {"invalid JSON": 1},
    ),
    "record across lines": (_pretty, None, {}),
}
CASES = [("signin", case) for case in BROKEN_ELEMENTS] + [
    ("audit", "cut-off record"),
    ("audit", "invalid UTF-8"),
]


@pytest.mark.parametrize(("log", "case"), CASES)
def test_broken_element_same_as_plain(tmp_path: Path, log: str, case: str) -> None:
    audit, signin = simulate_exports(tmp_path, shape="graph-page")
    broken = audit if log == "audit" else signin
    edit, error, skips = BROKEN_ELEMENTS[case]
    number = _break(broken, edit, log)

    strict = assert_fast_same_as_plain(audit, signin, broken)
    lenient = assert_fast_same_as_plain(audit, signin, broken, "--lenient")

    if error is None:
        assert strict.exit_code == 0
    else:
        assert strict.exit_code == 2
        assert f"ERROR: {broken}, line " in strict.stderr
        assert error in strict.stderr
    assert f"{broken.name}: {TAIL_LOG} {number}," in lenient.stderr
    report = json.loads(lenient.stdout)
    item = next(file for file in report["run"]["files"] if file["path"] == str(broken))
    assert item["skipped_by_reason"] == skips
    assert item["partial"] is bool(skips)


def test_broken_element_in_gzip_same_as_plain(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path, compress=True, shape="graph-page")
    number = _break(signin, lambda line: line[: len(line) // 2] + b"\n", "signin")

    strict = assert_fast_same_as_plain(audit, signin, signin)
    lenient = assert_fast_same_as_plain(audit, signin, signin, "--lenient")

    assert strict.exit_code == 2
    assert f"{signin.name}: {TAIL_LOG} {number}," in lenient.stderr


def test_first_element_invalid_utf8_left_to_plain_path(tmp_path: Path) -> None:
    audit, signin = simulate_exports(tmp_path, shape="graph-page")
    lines = read_lines(signin)
    # The plain path decodes the first two lines on their own before it reads the
    # document, so it reports an invalid byte there twice in lenient mode. The
    # line is cut off as well, because a whole record that the pre-filter does not
    # decode is not checked.
    lines[1] = lines[1][:200].replace(b'":"', b'":"\xff', 1) + b"\n"
    signin.write_bytes(b"".join(lines))

    result = assert_fast_same_as_plain(
        audit, signin, signin, "--lenient", fast_path=False
    )

    assert "the first element line is not valid UTF-8" in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "U+FFFD" in line]
    assert len(warnings) == 2
