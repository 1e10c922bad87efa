"""A run over partial input says so in every output format, findings or not.

Partial input means a lenient run kept the complete records of a cut-off file. A
quiet result then means "not read", not "clean", so the output itself must say it,
not only stderr.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hostile import denied_signin, run_cli

from h056hunt.render import RENDERERS

ARGUMENTS = ["--lenient", "--fail-on", "none", "--min-denials", "3"]


def signin(number: int) -> str:
    """Return sign-in ``S{number}`` as one NDJSON line."""
    return json.dumps(denied_signin(f"S{number}", number)) + "\n"


def cut_export(folder: Path, denials: int) -> Path:
    """Write one successful sign-in, ``denials`` denied ones and a last one cut off
    mid-record.

    The successful sign-in is of another user, so it joins no burst. It gives the
    run one usable record even with no denial, because a lenient run in which every
    record was skipped exits 2 without a verdict.
    """
    path = folder / "cut.json"
    success = {
        **denied_signin("S0"),
        "userId": "00000000-0000-4000-8000-0000000000aa",
        "userPrincipalName": "eve@contoso.example",
        "status": {"errorCode": 0},
    }
    lines = json.dumps(success) + "\n"
    lines += "".join(signin(number) for number in range(1, denials + 1))
    path.write_text(lines + signin(9)[:30], encoding="utf-8")
    return path


def says_partial(output_format: str, text: str) -> bool:
    """Tell whether one format's output marks the run as partial."""
    if output_format in ("jsonl", "timesketch"):
        lines = [json.loads(line) for line in text.splitlines()]
        return bool(lines) and all(line["partial_input"] is True for line in lines)
    if output_format == "json":
        report = json.loads(text)
        return report["run"]["partial"] is True
    if output_format == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        return bool(rows) and all(row["partial_input"] == "true" for row in rows)
    if output_format == "markdown":
        return "**Warning: partial input.**" in text
    if output_format == "html":
        return 'role="alert"' in text and "Partial input" in text
    return "PARTIAL INPUT" in text


@pytest.mark.parametrize("denials", [0, 4], ids=["no_findings", "findings"])
@pytest.mark.parametrize("output_format", sorted(RENDERERS))
def test_partial_run_says_so(output_format: str, denials: int, tmp_path: Path) -> None:
    path = cut_export(tmp_path, denials)

    result = run_cli(
        ["hunt", "--signin", str(path), "--format", output_format, *ARGUMENTS]
    )

    assert result.exit_code == 0, result.stderr
    assert says_partial(output_format, result.stdout), result.stdout[:2000]


@pytest.mark.parametrize("output_format", sorted(RENDERERS))
def test_complete_run_says_nothing(output_format: str, tmp_path: Path) -> None:
    path = tmp_path / "whole.json"
    path.write_text("".join(signin(number) for number in range(1, 5)), "utf-8")

    result = run_cli(
        ["hunt", "--signin", str(path), "--format", output_format, *ARGUMENTS]
    )

    assert result.exit_code == 0, result.stderr
    assert not says_partial(output_format, result.stdout)


def test_jsonl_notice_names_file(tmp_path: Path) -> None:
    path = cut_export(tmp_path, 0)

    result = run_cli(["hunt", "--signin", str(path), "--format", "jsonl", *ARGUMENTS])

    (notice,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert notice["record_type"] == "partial_input_notice"
    assert notice["incomplete_files"] == [str(path)]
    assert "finding_id" not in notice


def test_timesketch_notice_is_an_event(tmp_path: Path) -> None:
    path = cut_export(tmp_path, 0)

    result = run_cli(
        ["hunt", "--signin", str(path), "--format", "timesketch", *ARGUMENTS]
    )

    (event,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["data_type"] == "h056hunt:run:partial_input"
    assert event["timestamp_desc"] == "Partial input"
    # Dated at the end of the data read: the one successful sign-in.
    assert event["datetime"] == "2025-01-02T03:01:00Z"
    assert event["message"].startswith("h056hunt: No findings")


def dangling_links(folder: Path, names: list[str]) -> list[Path]:
    """Write one symlink per name to a file that does not exist."""
    links = []
    for name in names:
        link = folder / name
        link.symlink_to(folder / "missing.json")
        links.append(link)
    return links


def whole_export(folder: Path) -> Path:
    path = folder / "whole.json"
    path.write_text("".join(signin(number) for number in range(1, 5)), "utf-8")
    return path


@pytest.mark.parametrize("output_format", ["table", "markdown", "html"])
def test_quiet_output_names_unread_path(output_format: str, tmp_path: Path) -> None:
    (link,) = dangling_links(tmp_path, ["dangling.json"])
    whole = whole_export(tmp_path)

    result = run_cli(
        ["hunt", "-q", "--signin", str(link), "--signin", str(whole)]
        + ["--format", output_format, *ARGUMENTS]
    )

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert says_partial(output_format, result.stdout)
    assert "1 input path was not read at all: " in result.stdout
    assert str(link) in result.stdout


@pytest.mark.parametrize(
    ("output_format", "shown"),
    [
        ("table", "{!r}"),
        ("markdown", "`{}`"),
        ("html", "<code>{}</code>"),
    ],
)
def test_unread_paths_shown_apart(
    output_format: str, shown: str, tmp_path: Path
) -> None:
    # The first name contains the ", " that separates the listed names.
    links = dangling_links(tmp_path, ["a, b.json", "c.json"])
    whole = whole_export(tmp_path)
    arguments = ["hunt", "-q", "--signin", str(whole)]
    for link in links:
        arguments += ["--signin", str(link)]

    result = run_cli([*arguments, "--format", output_format, *ARGUMENTS])

    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    listed = ", ".join(shown.format(str(link)) for link in links)
    assert f"2 input paths were not read at all: {listed}" in text


def test_table_counts_many_unread_paths(tmp_path: Path) -> None:
    names = [f"gone{number}.json" for number in range(1, 8)]
    dangling_links(tmp_path, names)
    whole = whole_export(tmp_path)

    result = run_cli(
        ["hunt", "-q", "--signin", str(tmp_path / "gone*.json")]
        + ["--signin", str(whole), *ARGUMENTS]
    )
    # The table wraps the line at spaces, which the paths do not contain.
    line = " ".join(result.stdout.split(".\n")[0].split())

    assert line.startswith("PARTIAL INPUT: ")
    assert "7 input paths were not read at all: " in line
    assert str(tmp_path / "gone5.json") in line
    assert "gone6.json" not in line
    assert " and 2 more; " in line


HOSTILE_NAME = "<b>x[bold]`*_\x1b[31m.json"


@pytest.mark.parametrize(
    ("output_format", "shown"),
    [
        ("table", r"<b>x[bold]`*_\x1b[31m.json"),
        ("markdown", r"<b>x[bold]'*_\x1b[31m.json`"),
        ("html", r"&lt;b&gt;x[bold]`*_\x1b[31m.json"),
    ],
)
def test_unread_name_escaped(output_format: str, shown: str, tmp_path: Path) -> None:
    (link,) = dangling_links(tmp_path, [HOSTILE_NAME])
    whole = whole_export(tmp_path)

    result = run_cli(
        ["hunt", "-q", "--signin", str(link), "--signin", str(whole)]
        + ["--format", output_format, *ARGUMENTS]
    )

    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert shown in result.stdout
    if output_format == "html":
        assert "<b>x" not in result.stdout
