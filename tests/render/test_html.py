"""Tests for the html report: self-contained, escaped, and rendered by Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_inputs import (
    CASES,
    LIST_AGENTS,
    LIST_COUNTRIES,
    case_args,
    denied_signin,
    hunt,
    hunt_in_both_orders,
    list_value_logs,
    revocation_audit,
    sample_log_args,
    write_exports,
)

from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES

SCRIPT = "<script>alert(1)</script>"
# If any script ran, this one would leave a mark in the DOM that --dump-dom shows.
MARKING_SCRIPT = "<script>document.body.setAttribute('data-pwned','1')</script>"
IMAGE = "<img src=x onerror=\"document.title='pwned'\">"
LINK = "[x](javascript:alert(1))"
CSP_META = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">"
)
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def hostile_logs(tmp_path: Path, names: list[str]) -> tuple[str, str]:
    """Write one revocation and three 500121 sign-ins per name, one user each."""
    audits = []
    signins = []
    for index, name in enumerate(names):
        user_id = f"00000000-0000-4000-8000-0000000001{index:02d}"
        upn = f"user{index}@contoso.example"
        hour = f"2025-03-01T1{index}"
        audits.append(
            revocation_audit(
                f"Directory_TEST_{index}", name, user_id, upn, f"{hour}:00:00Z"
            )
        )
        signins += [
            denied_signin(
                f"s-{index}-{minute}",
                f"request-s-{index}-{minute}",
                f"{hour}:{minute:02d}:00Z",
                name,
                user_id,
                upn,
            )
            for minute in (5, 6, 7)
        ]
    return write_exports(tmp_path, audits, signins)


def campaign_logs(tmp_path: Path) -> tuple[str, str]:
    """One revoker, four targets within minutes; two bombed, one of them approves."""
    audits = []
    signins = []
    for index in range(4):
        user_id = f"00000000-0000-4000-8000-0000000002{index:02d}"
        upn = f"target{index}@contoso.example"
        audits.append(
            revocation_audit(
                f"Directory_TEST_{index}",
                "Mallory",
                user_id,
                upn,
                f"2025-03-01T10:0{index}:00Z",
            )
        )
        if index >= 2:
            continue
        for minute in range(3):
            signins.append(
                denied_signin(
                    f"c-{index}-{minute}",
                    f"request-c-{index}-{minute}",
                    f"2025-03-01T10:1{minute}:0{index}Z",
                    "Target",
                    user_id,
                    upn,
                )
            )
    return write_exports(tmp_path, audits, signins)


def write_report(tmp_path: Path, *args: str) -> str:
    output = tmp_path / "report.html"
    result = hunt("--format", "html", "--output", str(output), *args)
    assert result.exit_code == 0, result.stderr
    return output.read_text(encoding="utf-8")


def prompt_total(finding: dict[str, Any]) -> int:
    return sum(finding["prompt_counts"].values())


@pytest.mark.parametrize("case", sorted(CASES))
def test_html_cases_are_self_contained(
    cases_dir: Path, tmp_path: Path, case: str
) -> None:
    page = write_report(tmp_path, *case_args(cases_dir, case))

    assert page.startswith("<!DOCTYPE html>")
    assert CSP_META in page
    assert page.index(CSP_META) < page.index("<style>")
    assert "<script" not in page
    assert re.findall(r"\bsrc\s*=", page) == []
    assert set(re.findall(r'href="([^"]*)"', page)) <= {
        f"#finding-{finding_id}"
        for finding_id in re.findall(r'id="finding-(\w+)"', page)
    }
    assert set(re.findall(r"https?://[^\s\"'<]+", page)) <= {SVG_NAMESPACE}
    assert "@import" not in page
    assert "url(" not in page


@pytest.mark.parametrize("case", sorted(CASES))
def test_html_chart_has_marker_per_prompt(
    cases_dir: Path, tmp_path: Path, case: str
) -> None:
    page = write_report(tmp_path, *case_args(cases_dir, case))
    finding = json.loads(hunt("--format", "json", *case_args(cases_dir, case)).stdout)[
        "findings"
    ][0]

    assert page.count("<svg ") == 1
    assert page.count("prompt-marker") == prompt_total(finding)
    assert page.count("revocation-marker") == 1
    assert '<g class="legend">' in page
    assert f'id="finding-{finding["finding_id"]}"' in page


def test_html_br08_marks_the_approval(cases_dir: Path, tmp_path: Path) -> None:
    page = write_report(tmp_path, *case_args(cases_dir, "BR-08"))

    assert page.count("approval-marker") == 1
    assert page.count("outcome-declined") == 3
    assert 'class="approved-yes">yes, 2022-12-26T11:02:40Z' in page


def test_html_tz_changes_shown_times(cases_dir: Path, tmp_path: Path) -> None:
    page = write_report(tmp_path, "--tz", "Asia/Tokyo", *case_args(cases_dir, "BR-08"))

    assert "Times in tables, timelines and time spans are shown in Asia/Tokyo;" in page
    assert "2022-12-26T20:02:40+09:00" in page
    assert "<td>2022-12-26T20:02:40+09:00</td><td>MFA prompt approved</td>" in page
    assert "<td>2022-12-26T11:02:40Z</td>" not in page


def test_html_escapes_hostile_names(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, [SCRIPT, MARKING_SCRIPT, IMAGE, LINK])
    page = write_report(tmp_path, "--audit", audit, "--signin", signin)

    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert (
        "&lt;img src=x onerror=&quot;document.title=&#x27;pwned&#x27;&quot;&gt;" in page
    )
    assert "javascript:alert(1)" in page
    assert 'href="javascript' not in page


def test_html_campaign_view_lists_every_target(tmp_path: Path) -> None:
    audit, signin = campaign_logs(tmp_path)
    page = write_report(tmp_path, "--audit", audit, "--signin", signin)
    campaigns = page.split('<section id="campaigns">')[1].split("</section>")[0]

    assert "<h3>Mallory (user 00000000-0000-4000-8000-00000000ad07)</h3>" in campaigns
    assert "4 targets, 2 bombed with MFA prompts, 0 approved a prompt." in campaigns
    for index in range(4):
        assert f"target{index}@contoso.example" in campaigns
    assert campaigns.count("<td>yes</td>") == 2


def test_html_partial_banner(tmp_path: Path) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve"])
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"id": "cut-', encoding="utf-8")
    page = write_report(
        tmp_path,
        "--lenient",
        "--audit",
        audit,
        "--signin",
        signin,
        "--signin",
        str(broken),
    )

    assert '<div class="banner partial-banner" role="alert">Partial input' in page
    assert "<dt>Partial input</dt><dd>yes</dd>" in page


def test_html_ignores_file_order_and_tz(
    tmp_path: Path, foreign_tz: Callable[[str], None]
) -> None:
    audit, signin = hostile_logs(tmp_path, ["Eve", "Mallory"])
    first, second = hunt_in_both_orders(
        "html", audit, signin, lambda: foreign_tz("Australia/Eucla")
    )

    assert first.stdout_bytes == second.stdout_bytes


def test_html_sample_logs(sample_logs_dir: Path, tmp_path: Path) -> None:
    args = sample_log_args(sample_logs_dir)
    page = write_report(tmp_path, *args)
    findings = json.loads(hunt("--format", "json", *args).stdout)["findings"]

    assert "<script" not in page
    assert page.count("<svg ") == len(findings)
    assert page.count("prompt-marker") == sum(
        prompt_total(finding)
        for finding in findings
        if finding["finding_type"] != "revocation_campaign"
    )


def chromium() -> str:
    """Return the Chromium binary, or skip (fail under CI) when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium is not installed (Debian: apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def run_chromium(binary: str, profile: Path, *args: str) -> str:
    command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_html_renders_in_chromium(tmp_path: Path) -> None:
    binary = chromium()
    audit, signin = hostile_logs(tmp_path, [SCRIPT, MARKING_SCRIPT, IMAGE, LINK])
    report = tmp_path / "report.html"
    result = hunt(
        "--format",
        "html",
        "--output",
        str(report),
        "--audit",
        audit,
        "--signin",
        signin,
    )
    assert result.exit_code == 0, result.stderr
    url = report.as_uri()

    dom = run_chromium(binary, tmp_path / "profile", "--dump-dom", url)
    screenshot = tmp_path / "report.png"
    run_chromium(
        binary,
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1200,2000",
        url,
    )

    findings_table = dom.split('class="findings-table"')[1].split("</table>")[0]
    assert findings_table.count("<tr>") == 1 + 4
    assert dom.count("<svg ") == 4
    assert dom.count('class="marker prompt-marker outcome-declined"') == 4 * 3
    assert "<script" not in dom
    assert "data-pwned" not in dom.split("<body")[1].split(">")[0]
    assert "<title>pwned</title>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert screenshot.stat().st_size > 10_000


def test_html_sample_files_show_prefiltered(
    sample_logs_dir: Path, tmp_path: Path
) -> None:
    args = sample_log_args(sample_logs_dir)
    page = write_report(tmp_path, *args)
    run = json.loads(hunt("--format", "json", *args).stdout)["run"]
    records = run["records"]

    assert "<th>Skipped</th><th>Pre-filtered</th>" in page
    for item in run["files"]:
        # The path has a break opportunity after each separator.
        rendered = item["path"].replace("/", "/<wbr>")
        row = next(line for line in page.splitlines() if rendered in line)
        cells = re.findall(r"<td>(.*?)</td>", row)
        assert cells[8:10] == [str(item["skipped"]), str(item["prefiltered"])]
    assert (
        f"{records['skipped']} skipped, {records['prefiltered']} not needed by the "
        "hunt (pre-filtered)</dd>"
    ) in page


def test_html_file_paths_break_at_separators(
    sample_logs_dir: Path, tmp_path: Path
) -> None:
    page = write_report(tmp_path, *sample_log_args(sample_logs_dir))
    files_table = page[page.index('<table class="files">') :]
    files_table = files_table[: files_table.index("</table>")]
    paths = re.findall(r"<td><code>(.*?)</code></td>", files_table)

    assert '<div class="scroll"><table class="files">' in page
    assert paths
    for rendered in paths:
        plain_path = rendered.replace("<wbr>", "")
        assert rendered == plain_path.replace("/", "/<wbr>")


class _ValueLists(HTMLParser):
    """Collect the item texts of each ``<ul class="values">`` list."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: list[list[str]] = []
        self._item: list[str] | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "ul" and ("class", "values") in attrs:
            self.lists.append([])
            self._inside = True
        elif tag == "li" and self._inside:
            self._item = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._item is not None:
            self.lists[-1].append("".join(self._item))
            self._item = None
        elif tag == "ul":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)


def test_html_lists_show_each_value(tmp_path: Path) -> None:
    audit, signin = list_value_logs(tmp_path)
    result = hunt("--format", "html", "--audit", audit, "--signin", signin)
    assert result.exit_code == 0, result.stderr
    parser = _ValueLists()
    parser.feed(result.stdout)

    addresses = ["203.0.113.5", "203.0.113.6", "203.0.113.7"]
    # The revocation activities of the thresholds table, the findings table, then
    # the finding's source IPs, countries and user agents.
    assert parser.lists == [
        list(DEFAULT_REVOCATION_ACTIVITIES),
        addresses,
        addresses,
        sorted(LIST_COUNTRIES),
        sorted(LIST_AGENTS),
    ]
