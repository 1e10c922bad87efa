"""The Spark engine reports the local engine's findings, byte for byte.

Each case runs ``h056 hunt --format jsonl`` through the CLI in this process, once
per engine, and compares stdout. One local Spark session (two cores, two shuffle
partitions) serves the module: the CLI finds it active, uses it and leaves it
running. Without pyspark or Java the module skips with the reason, except under
``CI=true``, where CI installs both and their absence fails the run.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.config import HuntConfig
from h056hunt.convert import convert_logs
from h056hunt.detect.chains import DetectionParams
from h056hunt.hunt import run_hunt
from h056hunt.load import LoadOptions, load_logs
from h056hunt.loaders.parquet import report_record
from h056hunt.render.jsonl import render_jsonl
from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

# pyspark 4.3 warns on every pandas version check under pandas 3, and
# docs/scale.md lists what was checked. Only that warning is ignored here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)

REPOSITORY = Path(__file__).resolve().parents[2]
SAMPLE_LOGS = REPOSITORY / "sample_logs"
MASTER = "local[2]"
SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
SETTINGS = {SHUFFLE_PARTITIONS: "2", "spark.default.parallelism": "2"}
SPARK_ARGS = [
    "--engine",
    "spark",
    "--spark-master",
    MASTER,
    "--spark-conf",
    "spark.sql.shuffle.partitions=2",
]
JSONL_ARGS = ["--format", "jsonl", "--fail-on", "none"]


def _missing_requirement() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install 'h056hunt[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    has_java_home = bool(java_home) and (Path(str(java_home)) / "bin" / "java").exists()
    if shutil.which("java") is None and not has_java_home:
        return "Java is not installed: Spark needs Java 17 or 21"
    return None


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    reason = _missing_requirement()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true requires the Spark engine)")
        pytest.skip(reason)
    from h056hunt.engines.session import spark_session

    with spark_session(MASTER, SETTINGS) as session:
        yield session


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    result = simulate(SimulationConfig(users=30, days=2, seed=11), folder)
    paths = (result.audit_path, result.signin_path, result.labels_path)
    return Path(paths[0]), Path(paths[1]), Path(paths[2])


def _hunt(*args: str) -> str:
    result = CliRunner().invoke(main, ["hunt", *args, *JSONL_ARGS])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_sample_logs_identical(spark: Any) -> None:
    if not list(SAMPLE_LOGS.glob("*.json")):
        pytest.skip(f"{SAMPLE_LOGS}/*.json is missing: the sample exports are absent")
    inputs = ["--audit", str(SAMPLE_LOGS), "--signin", str(SAMPLE_LOGS)]
    assert _hunt(*inputs, *SPARK_ARGS) == _hunt(*inputs)


def test_scenario_corpus_identical(spark: Any, corpus: tuple[Path, Path, Path]) -> None:
    audit, signin, labels_path = corpus
    inputs = ["--audit", str(audit), "--signin", str(signin)]
    local = _hunt(*inputs)
    on_spark = _hunt(*inputs, *SPARK_ARGS)
    labels = json.loads(labels_path.read_text())["scenarios"]
    expected = {
        user.lower()
        for scenario in labels
        if scenario["expected_finding"] == "revocation_chain"
        for user in scenario.get("bombed_user_ids") or scenario["target_user_ids"]
    }
    findings = [json.loads(line) for line in on_spark.splitlines()]
    chained = {
        (finding["target_user_id"] or "").lower()
        for finding in findings
        if finding["finding_type"] == "revocation_chain"
    }
    assert on_spark == local
    assert expected <= chained
    assert any(f["finding_type"] == "revocation_campaign" for f in findings)


def test_convert_folder_identical(
    spark: Any, corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    audit, signin, _ = corpus
    raw = _hunt("--audit", str(audit), "--signin", str(signin))
    out = tmp_path / "h056"
    convert_logs([str(audit)], [str(signin)], out)
    assert _hunt("--audit", str(out)) == raw
    assert _hunt("--audit", str(out), *SPARK_ARGS) == raw


def test_copies_in_second_file_identical(spark: Any, tmp_path: Path) -> None:
    # Both logs again in one file given as sign-ins: every record has a copy.
    # With this tenant a Spark task's revocation kernel keeps no row, which
    # crashed the engine.
    result = simulate(SimulationConfig(users=30, days=2, seed=1), tmp_path)
    audit, signin = Path(result.audit_path), Path(result.signin_path)
    both = tmp_path / "both.ndjson"
    both.write_bytes(audit.read_bytes() + signin.read_bytes())
    inputs = ["--audit", str(audit), "--signin", str(signin), "--signin", str(both)]
    local = _hunt(*inputs)

    # Many shuffle partitions, as Spark's default of 200 gives, leave some empty.
    spark.conf.set("spark.sql.shuffle.partitions", "40")
    try:
        on_spark = _hunt(*inputs, "--engine", "spark")
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", SETTINGS[SHUFFLE_PARTITIONS])

    assert on_spark == local


def test_overlap_and_upn_only_identical(
    spark: Any, corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    from h056hunt.engines.spark import run_spark_hunt

    audit, signin, labels_path = corpus
    labels = json.loads(labels_path.read_text())["scenarios"]
    bombed = next(
        s["target_user_ids"][0] for s in labels if s["scenario"] == "chain_approved"
    )
    lines = signin.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    # Every other sign-in of the bombed user loses its user id, so the UPN index
    # must join it back to the user.
    upn_only = 0
    for record in records:
        if record.get("userId") == bombed and upn_only % 2 == 0:
            del record["userId"]
            upn_only += 1
        elif record.get("userId") == bombed:
            upn_only += 1
    # Step times that cannot be read, or lie far from their sign-in, date their
    # prompts at the sign-in, and both engines count them.
    bad_times = ["not a time", "2262-05-01T00:00:00Z", "2024-01-01T00:00:00Z"]
    edited_steps = 0
    for record in records:
        for step in record.get("authenticationDetails") or []:
            denied = "denied" in str(step.get("authenticationStepResultDetail"))
            if denied and edited_steps < 3 * len(bad_times):
                step["authenticationStepDateTime"] = bad_times[edited_steps % 3]
                edited_steps += 1
    edited = tmp_path / "signin.ndjson"
    edited.write_text("".join(json.dumps(record) + "\n" for record in records))
    changed = dict(records[1], ipAddress="198.51.100.99")
    overlap = tmp_path / "overlap.ndjson"
    copies = [*records[:5], changed]
    overlap.write_text("".join(json.dumps(r) + "\n" for r in copies) + "{broken\n")
    inputs = ([str(audit)], [str(edited), str(overlap)])
    options = LoadOptions(strict=False, fast_path=False)
    params = DetectionParams()
    config = HuntConfig(params=params)
    local = load_logs(*inputs, options)
    local_result = run_hunt(local, params, config)
    data, result = run_spark_hunt(spark, *inputs, options, params, config)

    assert upn_only > 5
    assert [report_record(r) for r in data.files] == [
        report_record(r) for r in local.files
    ]
    assert data.conflicts == local.conflicts
    assert len(data.conflicts) == 1
    assert sum(report.duplicates for report in data.files) == 6
    assert data.partial
    assert _jsonl(result.findings) == _jsonl(local_result.findings)
    assert bombed in {f.target_user_id for f in result.findings}
    assert result.prompt_count == local_result.prompt_count
    assert result.upn_fallback_rows == local_result.upn_fallback_rows
    assert edited_steps == 3 * len(bad_times)
    assert local_result.denial_step_times_unreadable > 0
    assert local_result.denial_step_times_replaced > 0
    assert (
        result.denial_step_times_unreadable == local_result.denial_step_times_unreadable
    )
    assert result.denial_step_times_replaced == local_result.denial_step_times_replaced
    assert sum(report.denial_step_times_unreadable for report in local.files) > 0


def _jsonl(findings: list[Any]) -> str:
    stream = io.StringIO()
    render_jsonl(findings, stream, partial=True)
    return stream.getvalue()


def test_hourly_uri_layout_same_findings(spark: Any, tmp_path: Path) -> None:
    config = SimulationConfig(
        users=30,
        days=1,
        seed=5,
        signin_shape="diagnostic-ndjson",
        audit_shape="diagnostic-ndjson",
    )
    result = simulate(config, tmp_path / "corpus")
    lake = tmp_path / "lake"
    folders = [lake / "insights-logs-auditlogs", lake / "insights-logs-signinlogs"]
    for source, folder in zip(
        (result.audit_path, result.signin_path), folders, strict=True
    ):
        _write_hourly_blobs(Path(source), folder)
    local = _hunt("--audit", str(folders[0]), "--signin", str(folders[1]))
    uris = [folder.as_uri() for folder in folders]
    on_spark = _hunt("--audit", uris[0], "--signin", uris[1], *SPARK_ARGS)
    local_findings = [json.loads(line) for line in local.splitlines()]
    spark_findings = [json.loads(line) for line in on_spark.splitlines()]
    evidence_files = {
        item["file"] for finding in spark_findings for item in finding["evidence"]
    }
    assert local_findings
    assert [_without_files(f) for f in spark_findings] == [
        _without_files(f) for f in local_findings
    ]
    assert all(name.startswith("file:/") for name in evidence_files)
    assert all("/y=2026/m=03/d=02/h=" in name for name in evidence_files)


def _write_hourly_blobs(source: Path, container: Path) -> None:
    """Lay diagnostic records out as diagnostic settings writes PT1H.json blobs."""
    blobs: dict[Path, list[str]] = {}
    for line in source.read_text().splitlines():
        if not line.strip():
            continue
        time = json.loads(line)["time"]
        folder = (
            container
            / "tenantId=00000000-0000-4000-8000-000000000001"
            / f"y={time[0:4]}/m={time[5:7]}/d={time[8:10]}/h={time[11:13]}/m=00"
        )
        blobs.setdefault(folder / "PT1H.json", []).append(line + "\n")
    for path, records in blobs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(records))


def _without_files(finding: dict[str, Any]) -> dict[str, Any]:
    stripped = dict(finding)
    stripped["evidence"] = [
        {key: value for key, value in item.items() if key != "file"}
        for item in finding["evidence"]
    ]
    return stripped


def test_fullwidth_activity_identical(spark: Any, tmp_path: Path) -> None:
    # "Update" in fullwidth letters: both engines fold it to the listed name.
    if not list(SAMPLE_LOGS.glob("*.json")):
        pytest.skip(f"{SAMPLE_LOGS}/*.json is missing: the sample exports are absent")
    listed = '"activityDisplayName":"Update StsRefreshTokenValidFrom'
    fullwidth = listed.replace("Update", "\uff35\uff50\uff44\uff41\uff54\uff45")
    original = SAMPLE_LOGS / "audit.json"
    edited = tmp_path / "audit.json"
    edited.write_text(original.read_text().replace(listed, fullwidth))
    signin = str(SAMPLE_LOGS / "signin.json")
    before = _hunt("--audit", str(original), "--signin", signin)
    local = _hunt("--audit", str(edited), "--signin", signin)
    on_spark = _hunt("--audit", str(edited), "--signin", signin, *SPARK_ARGS)

    assert fullwidth in edited.read_text()
    assert on_spark == local
    assert _chain_count(local) == _chain_count(before)
    assert _chain_count(before) > 0


def _chain_count(jsonl: str) -> int:
    findings = [json.loads(line) for line in jsonl.splitlines()]
    return sum(f["finding_type"] == "revocation_chain" for f in findings)


def test_copied_folder_missing_log_named(
    spark: Any, corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    # Every sign-in of the folder is a copy of one in the export it came from.
    _, signin, _ = corpus
    folder = tmp_path / "signins"
    convert_logs([], [str(signin)], folder)
    arguments = ["hunt", "--audit", str(folder), "--signin", str(signin)]

    result = CliRunner().invoke(main, [*arguments, *SPARK_ARGS])

    message = " ".join(result.stderr.split())
    assert result.exit_code == 2, result.output
    assert f"{folder} (converted from " in message
    assert "they hold sign-in records only" in message


def test_relative_convert_paths_identical(
    spark: Any,
    corpus: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Inside the folder where convert ran, both engines name the original exports
    # relative to it, as given, though the manifest stores absolute paths.
    audit, signin, _ = corpus
    (tmp_path / "exports").mkdir()
    for original in (audit, signin):
        (tmp_path / "exports" / original.name).write_bytes(original.read_bytes())
    monkeypatch.chdir(tmp_path)
    given = [f"exports/{audit.name}"], [f"exports/{signin.name}"]
    convert_logs(*given, Path("converted"))

    # The module's Spark session started in another working directory, against
    # which Spark itself would resolve the relative folder.
    local = _hunt("--audit", "converted")
    on_spark = _hunt("--audit", "converted", *SPARK_ARGS)

    files = {
        item["file"]
        for line in on_spark.splitlines()
        for item in json.loads(line)["evidence"]
    }
    assert on_spark == local
    assert files == {f"exports/{audit.name}", f"exports/{signin.name}"}


def test_steps_without_signin_identical(spark: Any, tmp_path: Path) -> None:
    from h056hunt.engines.spark import run_spark_hunt

    user_id = "22222222-2222-4222-8222-22222222abcd"
    denied = "MFA denied; user declined the authentication"
    audit = tmp_path / "audit.ndjson"
    audit.write_text(
        json.dumps(
            {
                "id": "a0a0a0a0-0000-4000-8000-00000000abcd",
                "activityDisplayName": "Revoke user sessions",
                "activityDateTime": "2025-01-02T03:00:00Z",
                "result": "success",
                "initiatedBy": {"user": {"id": "11111111-1111-4111-8111-111111111111"}},
                "targetResources": [{"id": user_id, "type": "User"}],
            }
        )
        + "\n"
    )
    signins = tmp_path / "signin"
    signins.mkdir()
    (signins / "signin.ndjson").write_text(
        "".join(
            json.dumps(
                {
                    "id": f"5e5e5e5e-0000-4000-8000-0000000000a{minute}",
                    "createdDateTime": f"2025-01-02T03:0{minute}:30Z",
                    "userId": user_id,
                    "userPrincipalName": "dana@x.example",
                    "originalRequestId": f"request-{minute}",
                    "status": {"errorCode": 500121, "additionalDetails": denied},
                }
            )
            + "\n"
            for minute in range(2, 7)
        )
    )
    # The two steps of requests 40 and 41 match no sign-in.
    (signins / "signin_AuthDetails.csv").write_text(
        "Request ID,Authentication method,Succeeded,Result detail,Date (UTC)\n"
        + "".join(
            f"request-{number},Mobile app notification,false,{denied},{time}\n"
            for number, time in [
                *((minute, f"2025-01-02T03:0{minute}:40Z") for minute in range(2, 7)),
                (40, "not a time"),
                (41, "2025-01-02T03:09:40Z"),
            ]
        )
    )
    inputs = ([str(audit)], [str(signins)])
    options = LoadOptions(strict=True, fast_path=False)
    params = DetectionParams()
    config = HuntConfig(params=params)
    local_result = run_hunt(load_logs(*inputs, options), params, config)
    _, result = run_spark_hunt(spark, *inputs, options, params, config)

    assert local_result.denial_steps_without_signin == 2
    assert result.denial_steps_without_signin == 2
    assert _jsonl(result.findings) == _jsonl(local_result.findings)


def test_tool_files_in_folder_identical(spark: Any, tmp_path: Path) -> None:
    # Findings, a config file and a convert folder beside the exports are
    # skipped under their own reasons by both engines.
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        shutil.copy(SAMPLE_LOGS / name, folder / name)
    inputs = ["--audit", str(folder), "--signin", str(folder)]
    findings = CliRunner().invoke(
        main, ["hunt", *inputs, *JSONL_ARGS, "--output", str(folder / "found.jsonl")]
    )
    assert findings.exit_code == 0, findings.output
    (folder / "h056.toml").write_text("[thresholds]\nmin_denials = 5\n", "utf-8")
    convert_logs(
        [str(folder / "audit.json")], [str(folder / "signin.json")], folder / "lake"
    )
    json_args = ["--format", "json", "--fail-on", "none"]

    local = CliRunner().invoke(main, ["hunt", *inputs, *json_args])
    on_spark = CliRunner().invoke(main, ["hunt", *inputs, *json_args, *SPARK_ARGS])

    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    local_files = json.loads(local.stdout)["run"]["files"]
    spark_files = json.loads(on_spark.stdout)["run"]["files"]
    reasons = {item["path"]: item["skipped_by_reason"] for item in local_files}
    assert reasons == {item["path"]: item["skipped_by_reason"] for item in spark_files}
    for field in ("shape", "in_convert_folder"):
        local_values = {item["path"]: item[field] for item in local_files}
        spark_values = {item["path"]: item[field] for item in spark_files}
        assert local_values == spark_values, field
    shapes = {item["path"]: item["shape"] for item in spark_files}
    assert shapes[str(folder / "found.jsonl")] == "h056-findings"
    assert shapes[str(folder / "h056.toml")] == "h056-config"
    assert reasons[str(folder / "found.jsonl")] == {
        "h056 findings output, not an export": 1
    }
    assert reasons[str(folder / "h056.toml")] == {"h056 config file, not an export": 1}
    in_lake = [path for path in reasons if path.startswith(str(folder / "lake"))]
    assert len(in_lake) > 1
    for path in in_lake:
        assert reasons[path] == {
            "file of an h056 convert folder, which is read only whole": 1
        }
    assert (
        json.loads(on_spark.stdout)["findings"] == json.loads(local.stdout)["findings"]
    )
    for message in ("found.jsonl: h056 findings output", "written by h056 convert"):
        assert message in on_spark.stderr
        assert message in local.stderr


def test_convert_folder_by_glob_warned_alike(spark: Any, tmp_path: Path) -> None:
    # A convert folder that a glob pattern matches is named with the pattern by
    # both engines, not as a folder inside an input folder.
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        shutil.copy(SAMPLE_LOGS / name, folder / name)
    convert_logs(
        [str(folder / "audit.json")], [str(folder / "signin.json")], folder / "lake"
    )
    pattern = str(folder / "*")
    inputs = ["--audit", pattern, "--signin", pattern, *JSONL_ARGS]

    local = CliRunner().invoke(main, ["hunt", *inputs])
    on_spark = CliRunner().invoke(main, ["hunt", *inputs, *SPARK_ARGS])

    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    for result in (local, on_spark):
        warning = " ".join(result.stderr.split())
        assert "found through the glob pattern" in warning
        assert "inside an input folder" not in warning


def test_convert_parquet_glob_skipped_alike(spark: Any, tmp_path: Path) -> None:
    # A glob pattern that matches the Parquet files of a convert folder, not the
    # folder, skips them under the folder's reason in both engines.
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        shutil.copy(SAMPLE_LOGS / name, folder / name)
    lake = folder / "lake"
    convert_logs([str(folder / "audit.json")], [str(folder / "signin.json")], lake)
    pattern = str(lake / "**" / "*.parquet")
    inputs = [
        "--audit",
        str(folder / "audit.json"),
        "--signin",
        str(folder / "signin.json"),
        "--signin",
        pattern,
        "--format",
        "json",
        "--fail-on",
        "none",
    ]

    local = CliRunner().invoke(main, ["hunt", *inputs])
    on_spark = CliRunner().invoke(main, ["hunt", *inputs, *SPARK_ARGS])

    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    local_files = json.loads(local.stdout)["run"]["files"]
    spark_files = json.loads(on_spark.stdout)["run"]["files"]
    reasons = {item["path"]: item["skipped_by_reason"] for item in local_files}
    assert reasons == {item["path"]: item["skipped_by_reason"] for item in spark_files}
    in_lake = [path for path in reasons if path.startswith(str(lake))]
    assert len(in_lake) > 1
    for path in in_lake:
        assert reasons[path] == {
            "file of an h056 convert folder, which is read only whole": 1
        }
    for result in (local, on_spark):
        warning = " ".join(result.stderr.split())
        assert f"{lake}: a folder written by h056 convert found through" in warning


CONVERT_FOLDER_REASON = "file of an h056 convert folder, which is read only whole"


def _exports_with_lake(folder: Path) -> Path:
    """Copy the sample exports into ``folder`` and convert them into
    ``folder / "lake"``, which is returned."""
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        shutil.copy(SAMPLE_LOGS / name, folder / name)
    lake = folder / "lake"
    convert_logs([str(folder / "audit.json")], [str(folder / "signin.json")], lake)
    return lake


def test_convert_folder_in_uri_skipped(spark: Any, tmp_path: Path) -> None:
    # Spark's listing hides the manifest, so only the Parquet files are seen.
    folder = tmp_path / "exports"
    lake = _exports_with_lake(folder)
    json_args = ["--format", "json", "--fail-on", "none"]
    uri = folder.as_uri()

    local = CliRunner().invoke(
        main, ["hunt", "--audit", str(folder), "--signin", str(folder), *json_args]
    )
    on_spark = CliRunner().invoke(
        main, ["hunt", "--audit", uri, "--signin", uri, *json_args, *SPARK_ARGS]
    )

    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    spark_files = json.loads(on_spark.stdout)["run"]["files"]
    in_lake = [item for item in spark_files if "/exports/lake/" in item["path"]]
    parquet_files = list(lake.rglob("*.parquet"))
    assert len(in_lake) == len(parquet_files)
    for item in in_lake:
        assert item["skipped_by_reason"] == {CONVERT_FOLDER_REASON: 1}, item["path"]
        assert item["partial"] is False, item["path"]
    # Evidence names a file by its URI on Spark and by its path here.
    local_findings = json.loads(local.stdout)["findings"]
    spark_findings = json.loads(on_spark.stdout)["findings"]
    assert local_findings
    assert [_without_files(f) for f in spark_findings] == [
        _without_files(f) for f in local_findings
    ]
    warning = " ".join(on_spark.stderr.split())
    assert f"file:{lake}: a folder written by h056 convert inside an input" in warning
    assert f"its {len(parquet_files)} files were skipped" in warning
    assert "file is Parquet" not in warning


def test_convert_table_uri_skipped(spark: Any, tmp_path: Path) -> None:
    # A table folder inside a convert folder, named by its URI.
    folder = tmp_path / "exports"
    lake = _exports_with_lake(folder)
    table = (lake / "signin").as_uri()
    inputs = [
        "--audit",
        str(folder / "audit.json"),
        "--signin",
        str(folder / "signin.json"),
        "--signin",
        table,
        "--format",
        "json",
        "--fail-on",
        "none",
    ]

    result = CliRunner().invoke(main, ["hunt", *inputs, *SPARK_ARGS])

    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["run"]["files"]
    in_table = [item for item in files if "/lake/signin/" in item["path"]]
    assert len(in_table) == len(list((lake / "signin").rglob("*.parquet")))
    for item in in_table:
        assert item["skipped_by_reason"] == {CONVERT_FOLDER_REASON: 1}, item["path"]
    warning = " ".join(result.stderr.split())
    assert f"file:{lake}: a folder written by h056 convert that contains" in warning
    assert "file is Parquet" not in warning


def test_convert_folder_uri_identical(spark: Any, tmp_path: Path) -> None:
    lake = _exports_with_lake(tmp_path / "exports")

    local = _hunt("--audit", str(lake))
    on_spark = _hunt("--audit", lake.as_uri(), *SPARK_ARGS)

    assert on_spark == local


class _ConnectSession:
    """A stand-in for a Spark Connect session, which has no SparkContext.

    pyspark 4.3.0 raises a subclass of AttributeError there.
    """

    @property
    def sparkContext(self) -> Any:
        raise AttributeError("Spark Connect sessions have no SparkContext")


def test_convert_folder_found_without_jvm(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from h056hunt.engines.spark_inputs import uri_convert_folders

    lake = _exports_with_lake(tmp_path / "exports")
    listed = [f"file:{path}" for path in sorted(lake.rglob("*.parquet"))]
    beside = f"file:{tmp_path / 'exports' / 'audit.json'}"

    folders = uri_convert_folders(_ConnectSession(), [*listed, beside])
    other_scheme = uri_convert_folders(
        _ConnectSession(), ["abfss://logs@account/lake/audit/part-0.parquet"]
    )

    assert listed
    assert folders == {uri: f"file:{lake}" for uri in listed}
    assert other_scheme == {}


def test_convert_files_of_given_folder_alike(spark: Any, tmp_path: Path) -> None:
    # The folder itself is an input too, by path and then by URI, so the
    # warning about its files found through another input does not ask for it.
    lake = _exports_with_lake(tmp_path / "exports")
    by_path = ["--audit", str(lake), "--signin", str(lake / "**" / "*.parquet")]
    by_uri = ["--audit", lake.as_uri(), "--signin", (lake / "signin").as_uri()]

    for inputs in (by_path, by_uri):
        result = CliRunner().invoke(main, ["hunt", *inputs, *JSONL_ARGS, *SPARK_ARGS])

        assert result.exit_code == 0, result.output
        warning = " ".join(result.stderr.split())
        assert "a folder written by h056 convert" in warning, inputs
        assert "another input gives the folder itself" in warning, inputs
        assert "give the folder itself as an input" not in warning, inputs


def test_convert_folder_stray_files_read(spark: Any, tmp_path: Path) -> None:
    # A later export saved into a convert folder, which convert did not write.
    lake = _exports_with_lake(tmp_path / "exports")
    later = lake / "later.ndjson"
    later.write_text(
        json.dumps(
            {
                "id": "later-signin-1",
                "createdDateTime": "2026-03-05T10:00:00Z",
                "userId": "later-user-1",
                "userPrincipalName": "later.user@contoso.example",
                "status": {"errorCode": 0},
            }
        )
        + "\n",
        "utf-8",
    )
    arguments = ["hunt", "--audit", str(lake), "--signin", str(lake)]
    arguments += ["--format", "json", "--fail-on", "none"]

    local = CliRunner().invoke(main, arguments)
    on_spark = CliRunner().invoke(main, [*arguments, *SPARK_ARGS])

    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    for result in (local, on_spark):
        files = {
            item["path"]: item for item in json.loads(result.stdout)["run"]["files"]
        }
        assert files[str(later)]["loaded"]["signin"] == 1
        assert files[str(later)]["skipped"] == 0
        warning = " ".join(result.stderr.split())
        assert "because h056 convert did not write it into this convert" in warning
    local_findings = json.loads(local.stdout)["findings"]
    assert json.loads(on_spark.stdout)["findings"] == local_findings


def test_strict_archives_named_alike(spark: Any, tmp_path: Path) -> None:
    # A strict run names every archive of a local folder on both engines.
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("audit.json", "signin.json"):
        shutil.copy(SAMPLE_LOGS / name, folder / name)
    (folder / "a.xz").write_bytes(b"\xfd7zXZ\x00" + b"\x00" * 600)
    (folder / "b.parquet").write_bytes(b"PAR1" + b"\x00" * 600)
    inputs = ["--audit", str(folder), "--signin", str(folder)]

    local = CliRunner().invoke(main, ["hunt", *inputs])
    on_spark = CliRunner().invoke(main, ["hunt", *inputs, *SPARK_ARGS])

    assert local.exit_code == 2, local.output
    assert on_spark.exit_code == 2, on_spark.output
    for result in (local, on_spark):
        assert f"'{folder / 'a.xz'}' (xz-compressed)" in result.stderr
        assert f"'{folder / 'b.parquet'}' (Parquet)" in result.stderr
