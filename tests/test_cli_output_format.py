"""Tests for the output format that h056 hunt picks from --format and --output."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from cli_runs import SAMPLE_INPUTS as SAMPLE_HUNT_INPUTS
from cli_runs import SAMPLES
from h056hunt import cli
from h056hunt.cli import main
from h056hunt.render import EXTENSION_FORMATS, RENDERERS

SAMPLE_INPUTS = [*SAMPLE_HUNT_INPUTS, "--fail-on", "none"]


def _hunt(*extra: str) -> Result:
    return CliRunner().invoke(main, [*SAMPLE_INPUTS, *extra])


def _stdout_of(output_format: str) -> bytes:
    result = _hunt("--format", output_format)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.mark.parametrize(
    ("file_name", "output_format"),
    [
        ("findings.jsonl", "jsonl"),
        ("findings.ndjson", "jsonl"),
        ("findings.json", "json"),
        ("findings.csv", "csv"),
        ("report.md", "markdown"),
        ("report.markdown", "markdown"),
        ("report.html", "html"),
        ("report.htm", "html"),
        ("REPORT.HTML", "html"),
        # A .gz name gets compressed output of the format named before .gz.
        ("findings.jsonl.gz", "jsonl"),
        ("findings.JSON.GZ", "json"),
        ("report.html.gz", "html"),
        ("findings.txt.gz", "table"),
    ],
)
def test_extension_picks_format(
    tmp_path: Path, file_name: str, output_format: str
) -> None:
    target = tmp_path / file_name

    result = _hunt("--output", str(target))

    written = target.read_bytes()
    if file_name.lower().endswith(".gz"):
        assert written[:2] == b"\x1f\x8b"
        written = gzip.decompress(written)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert written == _stdout_of(output_format)
    assert "WARNING" not in result.stderr


def test_every_mapped_extension_names_a_format() -> None:
    assert set(EXTENSION_FORMATS.values()) <= set(RENDERERS)
    assert all(suffix == suffix.lower() for suffix in EXTENSION_FORMATS)


def test_inferred_formats_parse(tmp_path: Path) -> None:
    for name in ("f.jsonl", "f.json", "f.html"):
        assert _hunt("--output", str(tmp_path / name)).exit_code == 0

    lines = (tmp_path / "f.jsonl").read_text(encoding="utf-8").splitlines()
    document = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    page = (tmp_path / "f.html").read_text(encoding="utf-8")
    assert lines
    assert all("finding_id" in json.loads(line) for line in lines)
    assert len(document["findings"]) == len(lines)
    assert page.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("file_name", ["findings.txt", "findings.log", ".findings.txt"])
def test_unmapped_extension_writes_table(tmp_path: Path, file_name: str) -> None:
    target = tmp_path / file_name

    result = _hunt("--output", str(target))

    assert result.exit_code == 0, result.output
    assert target.read_bytes() == _stdout_of("table")
    assert "WARNING" not in result.stderr


def test_gzip_output_same_bytes(tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl.gz"
    second = tmp_path / "second.jsonl.gz"

    assert _hunt("--output", str(first)).exit_code == 0
    assert _hunt("--output", str(second)).exit_code == 0

    # No file name or time in the gzip header, so reruns compare byte for byte.
    assert first.read_bytes() == second.read_bytes()


def test_gzip_name_of_other_format_warns(tmp_path: Path) -> None:
    target = tmp_path / "findings.json.gz"

    result = _hunt("--format", "csv", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert gzip.decompress(target.read_bytes()) == _stdout_of("csv")
    assert "has the extension of json output" in result.stderr


def test_output_path_quoted_in_messages(tmp_path: Path) -> None:
    spaced = tmp_path / "my report.html"
    compressed = tmp_path / "my findings.jsonl.bz2"
    audit = tmp_path / "my audit.json"
    audit.write_bytes((SAMPLES / "audit.json").read_bytes())

    mismatch = _hunt("--format", "json", "--output", str(spaced))
    chosen = _hunt("--output", str(spaced), "-v")
    bz2 = _hunt("--output", str(compressed))
    overwrite = CliRunner().invoke(
        main, ["hunt", "--audit", str(audit), "--output", str(audit)]
    )

    assert mismatch.exit_code == 0, mismatch.output
    assert f"--output {str(spaced)!r} has the extension of html" in (mismatch.stderr)
    assert f"the extension of {str(spaced)!r} names" in chosen.stderr
    assert bz2.exit_code == 2
    assert f"{str(compressed)!r} ends in .bz2" in bz2.stderr
    assert overwrite.exit_code == 2
    assert f"{str(audit)!r} is also an input file" in overwrite.stderr


def test_output_folder_quoted_in_errors(tmp_path: Path) -> None:
    # Unquoted, a folder name with spaces ran into the words of the message.
    missing = tmp_path / "no such folder"
    not_folder = tmp_path / "my notes.txt"
    not_folder.write_text("a file\n", encoding="utf-8")

    absent = _hunt("--output", str(missing / "findings.jsonl"))
    under_file = _hunt("--output", str(not_folder / "findings.jsonl"))

    assert absent.exit_code == 2
    assert f"folder {str(missing)!r} does not exist" in absent.stderr
    assert under_file.exit_code == 2
    assert f"{str(not_folder)!r} is a file, not a folder" in under_file.stderr


def test_no_output_prints_table() -> None:
    assert _hunt().stdout_bytes == _stdout_of("table")


def test_explicit_format_beats_extension(tmp_path: Path) -> None:
    target = tmp_path / "report.html"

    result = _hunt("--format", "json", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert target.read_bytes() == _stdout_of("json")
    assert "has the extension of html output" in result.stderr
    assert "--format json was given, so json output is written" in result.stderr


def test_table_into_html_file_warns(tmp_path: Path) -> None:
    result = _hunt("--format", "table", "--output", str(tmp_path / "f.html"))

    assert result.exit_code == 0, result.output
    assert "so table output is written" in result.stderr


@pytest.mark.parametrize(
    ("output_format", "file_name"),
    [
        ("timesketch", "events.jsonl"),
        ("timesketch", "events.ndjson"),
        ("jsonl", "findings.JSONL"),
        ("table", "findings.txt"),
        ("csv", "findings.tsv"),
    ],
)
def test_fitting_extension_no_warning(
    tmp_path: Path, output_format: str, file_name: str
) -> None:
    target = tmp_path / file_name

    result = _hunt("--format", output_format, "--output", str(target))

    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    assert target.read_bytes() == _stdout_of(output_format)


def test_inferred_format_named_at_info(tmp_path: Path) -> None:
    result = _hunt("-v", "--output", str(tmp_path / "f.csv"))

    assert "writing csv output" in result.stderr


def test_help_names_extensions() -> None:
    result = CliRunner().invoke(main, ["hunt", "--help"])

    assert result.exit_code == 0
    assert ".ndjson" in result.stdout
    assert "extension" in result.stdout


def test_help_covers_txt_and_timesketch() -> None:
    # Without these sentences, a reader could expect findings.txt to fail and
    # findings.jsonl to pick timesketch.
    result = CliRunner().invoke(main, ["hunt", "--help"])
    text = " ".join(result.stdout.split())

    assert result.exit_code == 0
    assert "Other names, such as findings.txt, get the table" in text
    assert "timesketch output needs --format" in text


@pytest.mark.parametrize("name", ["findings.xlsx", "findings.pdf.gz", "f.jsonl.gzip"])
def test_unknown_extension_warns_table(tmp_path: Path, name: str) -> None:
    target = tmp_path / name

    result = _hunt("--output", str(target))

    assert result.exit_code == 0, result.output
    written = target.read_bytes()
    if name.endswith(".gz"):
        written = gzip.decompress(written)
    # The table is still written, as the README states for other names.
    assert written == _stdout_of("table")
    message = " ".join(result.stderr.split())
    assert f"--output {str(target)!r}: the extension" in message
    assert "names no output format, so the table format is written" in message
    assert "give --format" in message


@pytest.mark.parametrize("name", ["findings", "findings.gz", "REPORT.GZ"])
def test_name_without_extension_warns_table(tmp_path: Path, name: str) -> None:
    target = tmp_path / name

    result = _hunt("--output", str(target))

    assert result.exit_code == 0, result.output
    written = target.read_bytes()
    if name.lower().endswith(".gz"):
        written = gzip.decompress(written)
    assert written == _stdout_of("table")
    message = " ".join(result.stderr.split())
    assert f"--output {str(target)!r}: the name has no extension" in message
    assert "so the table format is written as text" in message
    assert "or in .txt for the table" in message


def test_no_format_warning_keeps_long_path(tmp_path: Path) -> None:
    # Log messages cut a quoted log value after 200 characters, but never a path.
    target = tmp_path / ("f" * 220)

    result = _hunt("--output", str(target))

    assert result.exit_code == 0, result.output
    assert f"--output {str(target)!r}: the name has no extension" in result.stderr
    assert "…[+" not in result.stderr


def test_format_with_bare_name_no_warning(tmp_path: Path) -> None:
    target = tmp_path / "findings"

    result = _hunt("--format", "jsonl", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert target.read_bytes() == _stdout_of("jsonl")
    assert "WARNING" not in result.stderr


def test_output_inside_input_folder_warns(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    inside = folder / "findings.jsonl"
    outside = tmp_path / "findings.jsonl"
    inputs = ["hunt", "--audit", str(folder), "--signin", str(folder)]

    warned = CliRunner().invoke(main, [*inputs, "--output", str(inside)])
    quiet = CliRunner().invoke(main, [*inputs, "--output", str(outside)])

    assert warned.exit_code == 1, warned.output
    assert quiet.exit_code == 1, quiet.output
    message = " ".join(warned.stderr.split())
    assert f"--output {str(inside)!r} is inside the input folder {str(folder)!r}" in (
        message
    )
    assert "a later hunt of that folder skips the findings file" in message
    assert "counts it as one skipped record" in message
    assert inside.read_bytes() == outside.read_bytes()
    assert "is inside the input folder" not in quiet.stderr


# A glob input, the --output path below the exports folder, and whether a later
# hunt with the same pattern reads the output, so that a warning is expected.
GLOB_OUTPUTS = [
    ("*", "findings.jsonl", True),
    ("**/*.json", "sub/findings.json", True),
    ("*", "sub/findings.jsonl", True),
    ("*.json", "findings.jsonl", False),
    ("*", ".findings.jsonl", False),
    ("sub/*.json", "findings.jsonl", False),
]


@pytest.mark.parametrize(("pattern", "name", "read_later"), GLOB_OUTPUTS)
def test_output_reached_by_glob_warns(
    tmp_path: Path, pattern: str, name: str, read_later: bool
) -> None:
    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    for export in ("audit.json", "signin.json"):
        (folder / export).write_bytes((SAMPLES / export).read_bytes())
    (folder / "sub" / "signin.json").write_bytes((SAMPLES / "signin.json").read_bytes())
    glob_input = str(folder / pattern)
    output = folder / name
    inputs = ["hunt", "--audit", str(folder / "audit.json"), "--signin", glob_input]

    result = CliRunner().invoke(main, [*inputs, "--output", str(output)])
    message = " ".join(result.stderr.split())

    assert result.exit_code == 1, result.output
    warning = (
        f"--output {str(output)!r} would be read by the glob pattern {glob_input!r}"
    )
    assert (warning in message) is read_later, message
    if read_later:
        assert "a later hunt with that pattern skips the findings file" in message
    assert "is inside the input folder" not in message


def test_later_hunt_skips_output_as_warned(tmp_path: Path) -> None:
    # A later hunt of the folder does what the --output warning describes.
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    inputs = ["hunt", "--audit", str(folder), "--signin", str(folder)]
    first = CliRunner().invoke(
        main, [*inputs, "--output", str(folder / "findings.jsonl")]
    )

    later = CliRunner().invoke(main, [*inputs, "--format", "json"])
    files = json.loads(later.stdout)["run"]["files"]
    (findings_file,) = [item for item in files if item["path"].endswith(".jsonl")]

    assert first.exit_code == 1, first.output
    assert later.exit_code == 1, later.output
    assert findings_file["records_seen"] == 1
    assert findings_file["skipped_by_reason"] == {
        "h056 findings output, not an export": 1
    }
    assert "findings.jsonl: h056 findings output" in later.stderr


def with_sample_exports(folder: Path) -> Path:
    """Copy the sample exports into the new folder ``folder``."""
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    return folder


def file_uris(folder: Path) -> list[str]:
    """Return the file: URI forms that Spark reads for ``folder``."""
    return [f"file://{folder}", f"file:{folder}", f"file://localhost{folder}"]


@pytest.mark.parametrize("form", range(3), ids=["triple-slash", "one-slash", "host"])
def test_output_inside_file_uri_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, form: int
) -> None:
    folder = with_sample_exports(tmp_path / "exports")
    uri = file_uris(folder)[form]
    inside = folder / "findings.jsonl"

    cli._check_output(inside, (uri,))
    cli._warn_out_inside_input(folder / "lake", (uri,))

    messages = [" ".join(record.getMessage().split()) for record in caplog.records]
    assert len(messages) == 2, messages
    assert (
        f"--output {str(inside)!r} is inside the input folder {uri!r}" in (messages[0])
    )
    lake = str(folder / "lake")
    assert f"--out {lake!r} is inside the input folder {uri!r}" in messages[1]


def test_output_reached_by_file_uri_glob_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = with_sample_exports(tmp_path / "exports")
    pattern = f"file://{folder}/*"
    output = folder / "findings.jsonl"

    cli._check_output(output, (pattern,))

    messages = [" ".join(record.getMessage().split()) for record in caplog.records]
    assert len(messages) == 1, messages
    assert f"would be read by the glob pattern {pattern!r}" in messages[0]


@pytest.mark.parametrize(
    "uri", ["file://otherhost{folder}", "hdfs://namenode{folder}", "s3a://bucket/x"]
)
def test_output_other_uri_not_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, uri: str
) -> None:
    folder = with_sample_exports(tmp_path / "exports")

    cli._check_output(folder / "findings.jsonl", (uri.format(folder=folder),))
    cli._warn_out_inside_input(folder / "lake", (uri.format(folder=folder),))

    assert caplog.records == []


def test_output_named_by_file_uri_rejected(tmp_path: Path) -> None:
    folder = with_sample_exports(tmp_path / "exports")
    signin = folder / "signin.json"

    with pytest.raises(click.BadParameter, match="is also an input file"):
        cli._check_output(signin, (f"file://{signin}",))
