"""Lists of log values and file paths in text output read as one entry per value.

A country, user agent or file name can contain the separator of the list it is
shown in, so such an entry is quoted with repr() and a plain entry stays bare.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_inputs import list_value_logs

from cli_runs import details_lines
from h056hunt.render.text import join_entries, join_shown, list_entry


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("DE, FR", "'DE, FR'"),
        ("O'Brien", '"O\'Brien"'),
        (' say "hi"', "' say \"hi\"'"),
        (" DE", "' DE'"),
        ("DE ", "'DE '"),
        ("", "''"),
    ],
)
def test_list_entry_quotes_when_needed(value: str, shown: str) -> None:
    assert list_entry(value) == shown


def test_list_entry_quotes_reserved_character() -> None:
    assert list_entry("DE) (from x", reserved=")") == "'DE) (from x'"
    assert list_entry("DE) (from x") == "DE) (from x"


def test_join_entries_keeps_plain_values_bare() -> None:
    joined = join_entries(["a.json", "b, c.json", "d.json"])

    assert joined == "a.json, 'b, c.json', d.json"


def test_join_shown_escapes_quoted_control_characters() -> None:
    joined = join_shown(["x, \x1b[31m", "plain\x1b"])

    assert joined == "'x, \\x1b[31m', plain\\x1b"
    assert "\x1b" not in joined


def test_join_shown_cuts_only_log_values() -> None:
    long_path = "p, " + "x" * 300

    assert "…[+" in join_shown([long_path])
    assert join_shown([long_path], cut=False) == repr(long_path)


def exports_details(tmp_path: Path, columns: int) -> list[str]:
    folder = tmp_path / "exports, march"
    folder.mkdir()
    audit, signin = list_value_logs(folder)
    return details_lines(audit, signin, columns)


def test_details_evidence_quotes_paths(tmp_path: Path) -> None:
    lines = exports_details(tmp_path, 400)
    evidence = next(line for line in lines if line.startswith("Evidence: "))
    signin = str(tmp_path / "exports, march" / "signin.json")

    assert f"{signin + ':1'!r}" in evidence
    assert evidence.count(", ") == 3


def test_narrow_timeline_quotes_country(tmp_path: Path) -> None:
    lines = exports_details(tmp_path, 70)
    timelines = [line for line in lines if line.count(" │ ") == 2]
    details = " ".join(line.split(" │ ")[2].strip() for line in timelines)

    assert "(from 203.0.113.5, 'DE, FR')" in details
    assert "(from 203.0.113.6, US)" in details
