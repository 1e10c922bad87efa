"""Authentication step times far from their sign-in or unreadable, on both paths.

A denial step dated more than an hour from its sign-in's createdDateTime, or
with a time that is not a valid timestamp, is dated at the sign-in instead. The
run warns for each finding it is in and counts it in the run summary.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import graph_lines
from cli_runs import assert_fast_same_as_plain, hunt_files
from graph_lines import line
from h056hunt.build import STEP_WARNINGS_NAMED
from h056hunt.cli import FORMATS, main
from h056hunt.convert import convert_logs

pytestmark = pytest.mark.usefixtures("small_fast_path_units")

ADMIN_ID = "11111111-1111-4111-8111-111111111111"
USER_ID = "22222222-2222-4222-8222-22222222abcd"
DENIED_TEXT = "MFA denied; user declined the authentication"
DENIAL_MINUTES = range(2, 7)
WARNING = "authentication step time"
OUTPUT_DOC = Path(__file__).parent.parent / "docs" / "output.md"


def revocation() -> str:
    return line(
        {
            "id": "a0a0a0a0-0000-4000-8000-00000000abcd",
            "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
            "activityDateTime": "2025-01-02T03:00:00Z",
            "result": "success",
            "initiatedBy": {"user": {"id": ADMIN_ID}},
            "targetResources": [
                {"id": USER_ID, "type": "User", "userPrincipalName": "dana@x.example"}
            ],
        }
    )


def denial(minute: int, step_time: str | None) -> str:
    """Return a denied sign-in whose step has ``step_time``, or no step time
    when it is None."""
    step = {
        "authenticationMethod": "Mobile app notification",
        "succeeded": False,
        "authenticationStepResultDetail": DENIED_TEXT,
    }
    if step_time is not None:
        step["authenticationStepDateTime"] = step_time
    return graph_lines.signin(
        f"5e5e5e5e-0000-4000-8000-0000000000a{minute}",
        minute,
        USER_ID,
        {"errorCode": 500121, "additionalDetails": DENIED_TEXT},
        isInteractive=True,
        ipAddress="203.0.113.5",
        authenticationDetails=[step],
    )


def write_inputs(folder: Path, far_minutes: set[int], far_year: int) -> Path:
    return write_step_times(
        folder,
        {
            minute: f"{far_year if minute in far_minutes else 2025}"
            f"-01-02T03:{minute:02d}:40Z"
            for minute in DENIAL_MINUTES
        },
    )


def write_step_times(folder: Path, step_times: dict[int, str | None]) -> Path:
    """Write the revocation and one denied sign-in at each minute of
    ``step_times``, whose step has the time given there."""
    (folder / "audit.ndjson").write_text(revocation())
    denials = "".join(
        denial(minute, step_time) for minute, step_time in step_times.items()
    )
    signin = folder / "signin.ndjson"
    signin.write_text(graph_lines.filler(1) + denials + graph_lines.filler(20))
    return signin


def run_report(folder: Path, signin: Path) -> tuple[dict, str]:
    plain = hunt_files(
        folder / "audit.ndjson", signin, "--format", "json", "--no-fast-path"
    )
    assert plain.exit_code == 0, plain.output
    return json.loads(plain.stdout), plain.stderr


@pytest.mark.parametrize(
    ("far_minutes", "far_year"),
    [({2}, 2261), (set(DENIAL_MINUTES), 2261), ({4, 5}, 2024)],
    ids=["first_far", "all_far", "year_before"],
)
def test_far_step_time_uses_signin(
    tmp_path: Path, far_minutes: set[int], far_year: int
) -> None:
    signin = write_inputs(tmp_path, far_minutes, far_year)

    report, stderr = run_report(tmp_path, signin)
    findings = report["findings"]

    assert [finding["finding_type"] for finding in findings] == ["revocation_chain"]
    assert findings[0]["denied_prompts"] == len(DENIAL_MINUTES)
    assert findings[0]["first_prompt_time"].startswith("2025-01-02T03:02:")
    assert findings[0]["last_prompt_time"].startswith("2025-01-02T03:06:")
    assert f"{len(far_minutes)} {WARNING}" in stderr
    assert findings[0]["finding_id"] in stderr
    if len(far_minutes) == 1:
        assert "from its sign-in's createdDateTime, so its prompt is" in stderr
    else:
        assert "from their sign-ins' createdDateTime, so their prompts are" in stderr

    assert_fast_same_as_plain(tmp_path / "audit.ndjson", signin, signin)


def test_near_step_time_kept(tmp_path: Path) -> None:
    signin = write_inputs(tmp_path, set(), 2025)
    # Steps 50 minutes after their sign-ins stay inside the bound.
    late = signin.read_text()
    for minute in DENIAL_MINUTES:
        late = late.replace(
            f'"2025-01-02T03:{minute:02d}:40Z"',
            f'"2025-01-02T03:{minute + 50:02d}:40Z"',
        )
    signin.write_text(late)

    report, stderr = run_report(tmp_path, signin)
    findings = report["findings"]

    assert len(findings) == 1
    assert findings[0]["first_prompt_time"] == "2025-01-02T03:52:40Z"
    assert WARNING not in stderr


def near_time(minute: int) -> str:
    return f"2025-01-02T03:{minute:02d}:40Z"


def signin_file_record(report: dict) -> dict:
    (record,) = [
        item for item in report["run"]["files"] if item["given_as"] == "signin"
    ]
    return record


@pytest.mark.parametrize(
    "unreadable",
    ["not a time", "2262-05-01T03:02:40Z", "1600-01-02T03:02:40Z"],
    ids=["text", "after_2262", "before_1677"],
)
def test_unreadable_step_time_counted(tmp_path: Path, unreadable: str) -> None:
    step_times: dict[int, str | None] = {
        minute: near_time(minute) for minute in DENIAL_MINUTES
    }
    step_times[3] = unreadable
    step_times[5] = unreadable
    signin = write_step_times(tmp_path, step_times)

    report, stderr = run_report(tmp_path, signin)
    findings = report["findings"]

    assert len(findings) == 1
    assert findings[0]["step_times_unreadable"] == 2
    assert findings[0]["step_times_replaced"] == 0
    assert report["run"]["detection"]["denial_step_times_unreadable"] == 2
    assert report["run"]["detection"]["denial_step_times_replaced"] == 0
    assert signin_file_record(report)["denial_step_times_unreadable"] == 2
    assert f"2 {WARNING}s are not a valid timestamp" in stderr
    assert "so their prompts are dated at their sign-ins'" in stderr
    assert findings[0]["finding_id"] in stderr
    assert "2 denial steps with an authenticationStepDateTime" in stderr

    assert_fast_same_as_plain(tmp_path / "audit.ndjson", signin, signin)


def test_missing_step_time_not_unreadable(tmp_path: Path) -> None:
    step_times: dict[int, str | None] = {
        minute: near_time(minute) for minute in DENIAL_MINUTES
    }
    step_times[3] = None
    signin = write_step_times(tmp_path, step_times)

    report, stderr = run_report(tmp_path, signin)
    findings = report["findings"]

    assert len(findings) == 1
    assert findings[0]["step_times_unreadable"] == 0
    assert report["run"]["detection"]["denial_step_times_unreadable"] == 0
    assert signin_file_record(report)["denial_step_times_unreadable"] == 0
    assert WARNING not in stderr


def test_step_times_counted_without_finding(tmp_path: Path) -> None:
    # Two denials are too few for a burst, so no finding names their prompts.
    signin = write_step_times(tmp_path, {2: "2024-01-02T03:02:40Z", 3: "not a time"})

    report, stderr = run_report(tmp_path, signin)
    detection = report["run"]["detection"]

    assert report["findings"] == []
    assert detection["denial_step_times_replaced"] == 1
    assert detection["denial_step_times_unreadable"] == 1
    assert "denial prompts dated at their sign-in's time: 1 with a step" in stderr
    assert WARNING not in stderr

    fast = assert_fast_same_as_plain(tmp_path / "audit.ndjson", signin, signin)
    assert f"{detection['denial_step_times_replaced']} with a step" in fast.stderr


def test_convert_folder_keeps_unreadable(tmp_path: Path) -> None:
    step_times: dict[int, str | None] = {
        minute: near_time(minute) for minute in DENIAL_MINUTES
    }
    step_times[4] = "not a time"
    step_times[6] = None
    signin = write_step_times(tmp_path, step_times)
    report, _ = run_report(tmp_path, signin)
    out = tmp_path / "h056"
    convert_logs([str(tmp_path / "audit.ndjson")], [str(signin)], out)

    converted = hunt_files(out, out, "--format", "json")
    assert converted.exit_code == 0, converted.output
    from_folder = json.loads(converted.stdout)

    assert report["findings"][0]["step_times_unreadable"] == 1
    assert from_folder["findings"] == report["findings"]
    assert from_folder["run"]["detection"] == report["run"]["detection"]
    assert signin_file_record(from_folder)["denial_step_times_unreadable"] == 1
    assert f"1 {WARNING} is not a valid timestamp" in converted.stderr
    assert "so its prompt is dated at its sign-in's" in converted.stderr


def test_step_time_warnings_bounded(sample_logs_dir: Path, tmp_path: Path) -> None:
    # Every step time years before its sign-in: the prompts of every finding that
    # has steps take their sign-in's time.
    text = (sample_logs_dir / "signin.json").read_text(encoding="utf-8")
    moved = text.replace(
        '"authenticationStepDateTime":"2026-', '"authenticationStepDateTime":"2020-'
    )
    assert moved != text
    signin = tmp_path / "signin.json"
    signin.write_text(moved, encoding="utf-8")

    result = hunt_files(sample_logs_dir / "audit.json", signin, "--format", "json")

    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    affected = [f["finding_id"] for f in findings if f["step_times_replaced"]]
    assert len(affected) > STEP_WARNINGS_NAMED
    named = [line for line in result.stderr.splitlines() if "WARNING: finding " in line]
    # Named in the order of the report, then counted.
    assert [line.split()[3].rstrip(":") for line in named] == affected[
        :STEP_WARNINGS_NAMED
    ]
    rest = len(affected) - STEP_WARNINGS_NAMED
    assert f"WARNING: {rest} more findings have prompts dated" in result.stderr


def test_step_time_warning_names_formats(sample_logs_dir: Path, tmp_path: Path) -> None:
    # The counted line points to every format that gives each finding's counts,
    # because the table shows them only in the named warnings.
    text = (sample_logs_dir / "signin.json").read_text(encoding="utf-8")
    moved = text.replace(
        '"authenticationStepDateTime":"2026-', '"authenticationStepDateTime":"2020-'
    )
    signin = tmp_path / "signin.json"
    signin.write_text(moved, encoding="utf-8")

    result = hunt_files(sample_logs_dir / "audit.json", signin)

    assert result.exit_code == 0, result.output
    counted = [line for line in result.stderr.splitlines() if " more finding" in line]
    assert len(counted) == 1
    assert "--format json, jsonl or csv gives each finding's" in counted[0]
    assert "--format markdown or html shows both counts" in counted[0]


def write_mixed_step_times(folder: Path) -> Path:
    """Write five denials: one with a step time a year early and two with step
    times that are not valid timestamps."""
    step_times: dict[int, str | None] = {
        minute: near_time(minute) for minute in DENIAL_MINUTES
    }
    step_times[2] = "2024-01-02T03:02:40Z"
    step_times[3] = "not a time"
    step_times[5] = "not a time"
    return write_step_times(folder, step_times)


RUN_COUNTS = (
    "denial prompts dated at their sign-in's time: 1 with a step time more than "
    "1h away, 2 with a step time that is not a valid timestamp"
)
FINDING_COUNTS = (
    "prompts dated at their sign-in's time: 1 with a step time more than 1h away, "
    "2 with a step time that is not a valid timestamp"
)
FILE_COUNTS = (
    "2 denial steps with an authenticationStepDateTime that is not a valid timestamp"
)


def test_markdown_shows_step_time_counts(tmp_path: Path) -> None:
    signin = write_mixed_step_times(tmp_path)

    result = hunt_files(tmp_path / "audit.ndjson", signin, "--format", "markdown")

    assert result.exit_code == 0, result.output
    assert f"* {RUN_COUNTS.capitalize()}." in result.stdout
    assert f"* {FINDING_COUNTS.capitalize()}." in result.stdout
    assert f"* `{signin}`: {FILE_COUNTS}." in result.stdout


def test_html_shows_step_time_counts(tmp_path: Path) -> None:
    signin = write_mixed_step_times(tmp_path)

    result = hunt_files(tmp_path / "audit.ndjson", signin, "--format", "html")
    page = result.stdout.replace("&#x27;", "'")

    assert result.exit_code == 0, result.output
    assert f"<li>{RUN_COUNTS.capitalize()}</li>" in page
    assert f"<dt>Step times</dt><dd>{FINDING_COUNTS.capitalize()}</dd>" in page
    assert f"<li>{signin}: {FILE_COUNTS}</li>" in page


def test_csv_step_time_columns_last(tmp_path: Path) -> None:
    signin = write_mixed_step_times(tmp_path)

    result = hunt_files(tmp_path / "audit.ndjson", signin, "--format", "csv")
    header, row = list(csv.reader(io.StringIO(result.stdout)))

    assert result.exit_code == 0, result.output
    assert header[-3:] == [
        "partial_input",
        "step_times_replaced",
        "step_times_unreadable",
    ]
    assert row[-2:] == ["1", "2"]


def test_inspect_shows_unreadable_steps(tmp_path: Path) -> None:
    signin = write_mixed_step_times(tmp_path)

    as_json = CliRunner().invoke(main, ["inspect", "--format", "json", str(signin)])
    as_text = CliRunner().invoke(main, ["inspect", str(signin)], env={"COLUMNS": "200"})
    record = json.loads(as_json.stdout.splitlines()[0])

    assert as_json.exit_code == 0, as_json.output
    assert record["denial_step_times_unreadable"] == 2
    assert as_text.exit_code == 0, as_text.output
    assert re.search(f"step times +{FILE_COUNTS}", as_text.stdout)


def test_reports_leave_out_zero_step_times(tmp_path: Path) -> None:
    signin = write_inputs(tmp_path, set(), 2025)

    for output_format in ("markdown", "html"):
        result = hunt_files(
            tmp_path / "audit.ndjson", signin, "--format", output_format
        )

        assert result.exit_code == 0, result.output
        assert "dated at their sign-in" not in result.stdout
    inspected = CliRunner().invoke(main, ["inspect", str(signin)])
    assert "step times" not in inspected.stdout


PORTAL_AUTH_DETAILS_HEADER = (
    "Request ID,Authentication method,Authentication method detail,Succeeded,"
    "Result detail,Date (UTC)\n"
)


def request_id(number: int) -> str:
    return f"4e4e4e4e-0000-4000-8000-0000000000{number:02d}"


def write_portal_steps(folder: Path) -> Path:
    """Write the revocation, five denied sign-ins and an AuthDetails download
    with their steps, and return the sign-in folder.

    The download also has two denial steps of requests that no sign-in has. One
    of them has a time that is not a valid timestamp.
    """
    (folder / "audit.ndjson").write_text(revocation())
    signins = folder / "signin"
    signins.mkdir()

    denials = "".join(
        graph_lines.signin(
            f"5e5e5e5e-0000-4000-8000-0000000000a{minute}",
            minute,
            USER_ID,
            {"errorCode": 500121, "additionalDetails": DENIED_TEXT},
            isInteractive=True,
            originalRequestId=request_id(minute),
        )
        for minute in DENIAL_MINUTES
    )
    (signins / "signin.ndjson").write_text(
        graph_lines.filler(1) + denials + graph_lines.filler(20)
    )

    steps = [(request_id(minute), near_time(minute)) for minute in DENIAL_MINUTES]
    steps += [(request_id(40), "not a time"), (request_id(41), near_time(9))]
    (signins / "signin_AuthDetails.csv").write_text(
        PORTAL_AUTH_DETAILS_HEADER
        + "".join(
            f"{request},Mobile app notification,,false,{DENIED_TEXT},{time}\n"
            for request, time in steps
        )
    )
    return signins


def test_steps_without_signin_counted(tmp_path: Path) -> None:
    signins = write_portal_steps(tmp_path)

    report, stderr = run_report(tmp_path, signins)
    detection = report["run"]["detection"]
    (steps_file,) = [
        item
        for item in report["run"]["files"]
        if item["path"].endswith("_AuthDetails.csv")
    ]

    assert [finding["denied_prompts"] for finding in report["findings"]] == [5]
    # The file counts the unreadable time of a step that makes no prompt, and
    # the run reports how many such steps there are.
    assert steps_file["denial_step_times_unreadable"] == 1
    assert detection["denial_step_times_unreadable"] == 0
    assert detection["denial_steps_without_signin"] == 2
    assert "2 denial steps match no sign-in of the inputs" in stderr

    assert_fast_same_as_plain(
        tmp_path / "audit.ndjson", signins, signins / "signin.ndjson"
    )


def test_steps_without_signin_says_fix(tmp_path: Path) -> None:
    signins = write_portal_steps(tmp_path)

    report, stderr = run_report(tmp_path, signins)
    # The run summary wraps long lines, so compare with single spaces.
    summary = " ".join(stderr.split())

    assert report["run"]["detection"]["denial_steps_without_signin"] == 2
    assert "so they make no prompt and no burst or prompt count" in summary
    assert (
        "to hunt them, also give the sign-in download that their AuthDetails "
        "file came with" in summary
    )


def test_steps_without_signin_zero_quiet(tmp_path: Path) -> None:
    signin = write_mixed_step_times(tmp_path)

    report, stderr = run_report(tmp_path, signin)

    assert report["run"]["detection"]["denial_steps_without_signin"] == 0
    assert "match no sign-in" not in stderr


def test_step_time_doc_lists_formats(tmp_path: Path) -> None:
    # docs/output.md has a row for every --format choice, and its "each finding"
    # cell is "-" exactly for the formats that leave out a finding's counts.
    text = OUTPUT_DOC.read_text(encoding="utf-8")
    start = text.index("## Step times in reports")
    section = text[start : text.index("\n## ", start + 1)]
    finding_cells = {}
    for row in section.splitlines():
        if row.startswith("| `"):
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            finding_cells[cells[0].strip("`")] = cells[3]
    signin = write_mixed_step_times(tmp_path)

    for output_format in FORMATS:
        assert output_format in finding_cells, output_format
        result = hunt_files(
            tmp_path / "audit.ndjson", signin, "--format", output_format
        )
        assert result.exit_code == 0, result.output
        report_text = result.stdout.replace("&#x27;", "'").lower()
        gives_counts = (
            "step_times_replaced" in report_text
            or FINDING_COUNTS in report_text
            or (output_format == "table" and "WARNING: finding " in result.stderr)
        )
        assert gives_counts == (finding_cells[output_format] != "-"), output_format
