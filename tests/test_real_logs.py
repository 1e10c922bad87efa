"""Real exported records collected from public repositories must load and hunt cleanly.

RECORD_COUNTS holds the documented record count of each file. The only records a loader
may skip are categories the hunt does not read, which are risk events and Microsoft
Graph activity logs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.detect.revocations import find_revocations
from h056hunt.load import LoadedData, load_logs

# Records per data file, relative to the real-logs folder.
RECORD_COUNTS = {
    "blawson490-axios/test-logs.json": 15,
    "elastic-integrations/test-auditlogs-raw.log": 3,
    "elastic-integrations/test-signinlogs-raw.log": 5,
    "elastic-integrations/test-time-formats-corner-cases.log": 11,
    "microsoft-graph-docs/directoryaudit-list.v1.example1.json": 1,
    "microsoft-graph-docs/directoryaudit-list.v1.example2.json": 1,
    "microsoft-graph-docs/signin-list.beta.example2.json": 1,
    "otrf-security-datasets/AADAuditEvents.json": 4,
    "sekoia-intake-formats/azure-ad/add_member_to_group.json": 1,
    "sekoia-intake-formats/azure-ad/add_user.json": 1,
    "sekoia-intake-formats/azure-ad/change_user_password.json": 1,
    "sekoia-intake-formats/azure-ad/empty_geolocalisation.json": 1,
    "sekoia-intake-formats/azure-ad/graph_activity.json": 1,
    "sekoia-intake-formats/azure-ad/sign-in_activity.json": 1,
    "sekoia-intake-formats/azure-ad/sign-in_activity2.json": 1,
    "sekoia-intake-formats/azure-ad/sign-in_activity4.json": 1,
    "sekoia-intake-formats/azure-ad/sign-in_activity5.json": 1,
    "sekoia-intake-formats/azure-ad/sign-in_activity6.json": 1,
    "sekoia-intake-formats/azure-ad/sign-in_activity7.json": 1,
    "sekoia-intake-formats/azure-ad/update_ststoken.json": 1,
    "sekoia-intake-formats/azure-ad/user_risk_detection.json": 1,
    "sekoia-intake-formats/azure-ad/user_risk_detection_3.json": 1,
    "sekoia-intake-formats/microsoft-entraid-graphapi/test_directory_audit.json": 1,
    "sekoia-intake-formats/microsoft-entraid-graphapi/test_event_0003.json": 1,
    "sekoia-intake-formats/microsoft-entraid-graphapi/test_event_0041.json": 1,
    "sekoia-intake-formats/microsoft-entraid-graphapi/test_event_0077.json": 1,
    "sekoia-intake-formats/microsoft-entraid-graphapi/test_signin.json": 1,
    "sekoia-intake-formats/o365/ad_1.json": 1,
    "sekoia-intake-formats/o365/add_member_to_role.json": 1,
    "sekoia-intake-formats/o365/update_user.json": 1,
    "sekoia-intake-formats/o365/update_user_empty_source_ip.json": 1,
    "sekoia-intake-formats/o365/user_logged_in.json": 1,
    "sekoia-intake-formats/o365/user_logged_in_2.json": 1,
}
SKIPPABLE_CATEGORIES = frozenset({"UserRiskEvents", "MicrosoftGraphActivityLogs"})
DATA_FILES = sorted(RECORD_COUNTS)


def hunt(*args: str) -> Result:
    return CliRunner().invoke(
        main, ["hunt", "--format", "jsonl", *args], catch_exceptions=True
    )


def load_one(path: Path) -> LoadedData:
    return load_logs([str(path)], [str(path)])


def test_every_data_file_listed(real_logs_dir: Path) -> None:
    found = {
        path.relative_to(real_logs_dir).as_posix()
        for path in real_logs_dir.rglob("*")
        if path.is_file() and path.suffix != ".md"
    }

    assert found == set(RECORD_COUNTS)


def test_whole_folder_hunt(real_logs_dir: Path) -> None:
    result = hunt("--audit", str(real_logs_dir), "--signin", str(real_logs_dir))

    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", DATA_FILES)
def test_file_hunt_clean(real_logs_dir: Path, name: str) -> None:
    path = str(real_logs_dir / name)
    report = load_one(real_logs_dir / name).files[0]
    usable = sum(report.loaded.values()) + sum(report.prefiltered.values())
    # A hunt rejects an option whose log no input contains, so the file goes only
    # to the options of the logs it holds.
    options = [
        option
        for option, log in (("--audit", "audit"), ("--signin", "signin"))
        if report.loaded[log] + report.prefiltered[log] or not usable
    ]

    result = hunt(*(part for option in options for part in (option, path)))

    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    if usable:
        assert result.exit_code in (0, 1), result.output
    else:
        # Only categories the hunt does not read: nothing was hunted.
        assert result.exit_code == 2
        assert "contain no usable record" in result.stderr


@pytest.mark.parametrize("name", DATA_FILES)
def test_file_records_seen(real_logs_dir: Path, name: str) -> None:
    report = load_one(real_logs_dir / name).files[0]

    assert report.records_seen == RECORD_COUNTS[name]


@pytest.mark.parametrize("name", DATA_FILES)
def test_file_skips_only_unread_categories(real_logs_dir: Path, name: str) -> None:
    report = load_one(real_logs_dir / name).files[0]

    for reason in report.skipped:
        category = reason.removeprefix("unsupported category ")
        assert category in SKIPPABLE_CATEGORIES, reason


@pytest.mark.parametrize("name", DATA_FILES)
def test_file_accounting_adds_up(real_logs_dir: Path, name: str) -> None:
    report = load_one(real_logs_dir / name).files[0]

    accounted = (
        report.loaded_total
        + report.duplicates
        + sum(report.skipped.values())
        + sum(report.prefiltered.values())
    )
    assert accounted == report.records_seen
    assert not report.partial


def test_time_format_variants_all_load(real_logs_dir: Path) -> None:
    name = "elastic-integrations/test-time-formats-corner-cases.log"

    data = load_one(real_logs_dir / name)

    assert data.files[0].loaded["signin"] == 11
    assert data.signin["event_time"].notna().all()


def test_self_revocation_recognised(real_logs_dir: Path) -> None:
    data = load_one(
        real_logs_dir / "sekoia-intake-formats/azure-ad/update_ststoken.json"
    )

    revocations, _ = find_revocations(data.audit)

    assert len(revocations) == 1
    assert bool(revocations["is_self_revocation"].iloc[0])


def test_add_user_not_revocation(real_logs_dir: Path) -> None:
    data = load_one(real_logs_dir / "sekoia-intake-formats/azure-ad/add_user.json")

    revocations, near_misses = find_revocations(data.audit)

    assert len(data.audit) == 1
    assert revocations.empty
    assert near_misses.empty
