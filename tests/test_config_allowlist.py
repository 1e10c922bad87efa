"""Config files and allowlists, through real CLI runs on the bug-report cases."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.config import load_config
from h056hunt.config_search import find_config_file
from h056hunt.errors import ConfigError

THRESHOLDS = ["--min-denials", "3", "--burst-window", "10m", "--max-lag", "60m"]


def hunt(cases: Path, config: Path | None, *extra: str) -> tuple[int, list[dict], str]:
    arguments = [
        "hunt",
        "--audit",
        str(cases / "BR-11.json"),
        "--signin",
        str(cases / "BR-11_signins.json"),
        "--format",
        "jsonl",
        *THRESHOLDS,
        *extra,
    ]
    if config is not None:
        arguments += ["--config", str(config)]
    result = CliRunner().invoke(main, arguments)
    findings = [json.loads(line) for line in result.stdout.splitlines() if line]
    return result.exit_code, findings, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def app_initiator(cases: Path) -> dict[str, str]:
    """Return the ``initiatedBy.app`` object of the case's app-made revocation."""
    records = json.loads((cases / "BR-11.json").read_text(encoding="utf-8"))["value"]
    return next(r["initiatedBy"]["app"] for r in records if r["initiatedBy"].get("app"))


@pytest.mark.parametrize("key", ["appId", "servicePrincipalId"])
def test_actor_entry_suppresses_chain(
    cases_dir: Path, tmp_path: Path, key: str
) -> None:
    app_id = app_initiator(cases_dir)[key].upper()
    config = write(
        tmp_path / "h056.toml",
        f'[[allowlist.actors]]\nmatch = "{app_id}"\nreason = "automation"\n',
    )

    code, findings, stderr = hunt(cases_dir, config, "--show-suppressed")

    assert findings == []
    assert code == 0
    assert f"suppressed 1 finding by allowlist actor {app_id}" in stderr
    assert "automation" in stderr


def test_display_name_entry_keeps_chain(cases_dir: Path, tmp_path: Path) -> None:
    name = app_initiator(cases_dir)["displayName"]
    config = write(
        tmp_path / "h056.toml",
        f'[[allowlist.actors]]\nmatch = "{name}"\nreason = "automation"\n',
    )

    code, findings, stderr = hunt(cases_dir, config)

    assert [f["target_upn"] for f in findings] == ["ken@contoso.example"]
    assert code == 1
    assert "suppressed 1 finding" not in stderr
    assert f"allowlist actor entry '{name}' equals only the display name" in stderr
    assert "of 1 finding, so it is not suppressed" in stderr


def test_target_entry_suppresses_chain(cases_dir: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "h056.toml",
        '[[allowlist.targets]]\nusers = ["KEN@contoso.example"]\n'
        'group = "drill"\nreason = "MFA drill"\n',
    )

    _, findings, stderr = hunt(cases_dir, config)

    assert findings == []
    assert "target group drill" in stderr


def test_source_range_entry_suppresses(cases_dir: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "h056.toml",
        '[[allowlist.source_ips]]\ncidr = "203.0.113.0/24"\nreason = "lab"\n',
    )

    _, findings, _ = hunt(cases_dir, config)

    assert findings == []


def test_unmatched_entry_keeps_finding(cases_dir: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "h056.toml",
        '[[allowlist.actors]]\nmatch = "someone-else"\nreason = "other"\n',
    )

    _, findings, _ = hunt(cases_dir, config)

    assert [f["target_upn"] for f in findings] == ["ken@contoso.example"]


def test_actor_entry_keeps_approved_chain(cases_dir: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "h056.toml",
        '[[allowlist.actors]]\nmatch = "secadmin@contoso.example"\n'
        'reason = "helpdesk"\n',
    )
    result = CliRunner().invoke(
        main,
        [
            "hunt",
            "--audit",
            str(cases_dir / "BR-08_audit.json"),
            "--signin",
            str(cases_dir / "BR-08.json"),
            "--format",
            "jsonl",
            "--min-denials",
            "3",
            "--config",
            str(config),
        ],
    )

    findings = [json.loads(line) for line in result.stdout.splitlines() if line]
    assert [f["approved"] for f in findings] == [True]


def test_flag_beats_config_threshold(cases_dir: Path, tmp_path: Path) -> None:
    config = write(tmp_path / "h056.toml", "[thresholds]\nmin_denials = 9\n")

    _, from_file, _ = hunt(cases_dir, config, "--min-denials", "9")
    _, from_flag, _ = hunt(cases_dir, config, "--min-denials", "3")

    assert from_file == []
    assert len(from_flag) == 1


def test_config_thresholds_parsed(tmp_path: Path) -> None:
    config = write(
        tmp_path / "h056.toml",
        '[thresholds]\nmax_lag = "90m"\nmin_denials = 4\n'
        'revocation_activities = ["Revoke user sessions"]\n'
        '[working_hours]\nstart = 7\nend = 19\ntimezone = "Europe/Berlin"\n',
    )

    loaded = load_config(config)

    assert loaded.params.max_lag == pd.Timedelta(minutes=90)
    assert loaded.params.min_denials == 4
    assert loaded.params.revocation_activities == ("Revoke user sessions",)
    assert loaded.working_hours.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[thresholds]\nmin_denials = 0\n", "thresholds.min_denials"),
        ('[thresholds]\nmax_lag = "soon"\n', "thresholds.max_lag"),
        ("[thresholds]\nunknown = 1\n", "thresholds.unknown"),
        ('[[allowlist.actors]]\nmatch = "x"\n', "allowlist.actors[0].reason"),
        (
            '[[allowlist.source_ips]]\ncidr = "300.1.1.1/8"\nreason = "r"\n',
            "allowlist.source_ips[0].cidr",
        ),
        ('[working_hours]\ntimezone = "Mars/Olympus"\n', "working_hours.timezone"),
        ("not toml at all [", "invalid TOML"),
    ],
)
def test_invalid_config_names_key(tmp_path: Path, text: str, key: str) -> None:
    config = write(tmp_path / "bad.toml", text)

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert key in str(raised.value)
    assert str(config) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ('"5"', "found the string '5'; write the number without quotes"),
        ('"five"', "found the string 'five'"),
        ("0", "found 0"),
        ("2.5", "found 2.5"),
        ("true", "found true"),
    ],
)
def test_invalid_count_shows_value(tmp_path: Path, value: str, found: str) -> None:
    config = write(tmp_path / "h056.toml", f"[thresholds]\nmin_denials = {value}\n")

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    message = str(raised.value).splitlines()[0]
    assert "thresholds.min_denials: must be a whole number" in message
    assert message.endswith(found)


def test_invalid_config_exits_two(cases_dir: Path, tmp_path: Path) -> None:
    config = write(tmp_path / "bad.toml", "[thresholds]\nmin_denials = -1\n")

    code, findings, stderr = hunt(cases_dir, config)

    assert code == 2
    assert findings == []
    assert "bad.toml" in stderr


def test_search_path_prefers_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = write(tmp_path / "env.toml", "")
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "h056.toml", "")
    monkeypatch.setenv("H056_CONFIG", str(from_env))

    assert find_config_file(None) == from_env


def test_search_path_finds_local_file(without_config_files: Path) -> None:
    write(without_config_files / "h056.toml", "")

    assert find_config_file(None) == Path("h056.toml")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[[allowlist.actors]]\nmatch = "x"\n', "allowlist.actors[0].reason"),
        ('[[allowlist.actors]]\nreason = "r"\n', "allowlist.actors[0].match"),
        ('[[allowlist.targets]]\nreason = "r"\n', "allowlist.targets[0].users"),
        ('[[allowlist.source_ips]]\nreason = "r"\n', "allowlist.source_ips[0].cidr"),
    ],
)
def test_missing_required_key_hint(tmp_path: Path, text: str, key: str) -> None:
    config = write(tmp_path / "h056.toml", text)

    result = CliRunner().invoke(
        main, ["hunt", "--audit", str(config), "--config", str(config)]
    )

    assert result.exit_code == 2
    assert key in result.stderr
    assert "hint: add the key; this key is required" in result.stderr
    assert "remove the key" not in result.stderr


def test_invalid_required_key_hint(tmp_path: Path) -> None:
    text = '[[allowlist.targets]]\nusers = []\nreason = "r"\n'
    config = write(tmp_path / "h056.toml", text)

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert "allowlist.targets[0].users" in str(raised.value)
    assert raised.value.hint.startswith("fix the value; this key is required")


def test_optional_key_hint_names_default(tmp_path: Path) -> None:
    config = write(tmp_path / "h056.toml", "[thresholds]\nmin_denials = 0\n")

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert raised.value.hint == "fix the value or remove the key to use the default"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[thresholds]\nmin_denial = 3\n", "thresholds.min_denial"),
        ("[treshold]\nmin_denials = 3\n", "treshold"),
        ("[working_hours]\nbegin = 9\n", "working_hours.begin"),
    ],
)
def test_unknown_key_hint_names_spelling(tmp_path: Path, text: str, key: str) -> None:
    config = write(tmp_path / "h056.toml", text)

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert f"{key}: unknown key" in str(raised.value)
    assert raised.value.hint == "correct the key's spelling or remove it"


def test_invalid_cidr_hint_says_required(tmp_path: Path) -> None:
    text = '[[allowlist.source_ips]]\ncidr = "203.0.113.0/33"\nreason = "r"\n'
    config = write(tmp_path / "h056.toml", text)

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert "allowlist.source_ips[0].cidr" in str(raised.value)
    assert "'203.0.113.0/33'" in str(raised.value)
    assert raised.value.hint.startswith("fix the value; this key is required")
    assert "remove the key" not in raised.value.hint


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-03T21:59:00Z", False),
        ("2026-03-03T22:00:00Z", True),
        ("2026-03-03T23:30:00Z", True),
        ("2026-03-04T05:59:00Z", True),
        ("2026-03-04T06:00:00Z", False),
        ("2026-03-04T12:00:00Z", False),
        ("2026-03-07T02:00:00Z", False),
    ],
)
def test_working_hours_cross_midnight(
    tmp_path: Path, moment: str, expected: bool
) -> None:
    text = "[working_hours]\nstart = 22\nend = 6\nweekdays_only = true\n"
    hours = load_config(write(tmp_path / "h056.toml", text)).working_hours

    assert hours.contains(pd.Timestamp(moment)) is expected


def test_working_hours_same_day(tmp_path: Path) -> None:
    text = "[working_hours]\nstart = 8\nend = 18\n"
    hours = load_config(write(tmp_path / "h056.toml", text)).working_hours

    assert hours.contains(pd.Timestamp("2026-03-03T07:59:00Z")) is False
    assert hours.contains(pd.Timestamp("2026-03-03T08:00:00Z")) is True
    assert hours.contains(pd.Timestamp("2026-03-03T17:59:00Z")) is True
    assert hours.contains(pd.Timestamp("2026-03-03T18:00:00Z")) is False


def test_working_hours_equal_bounds_rejected(tmp_path: Path) -> None:
    config = write(tmp_path / "h056.toml", "[working_hours]\nstart = 9\nend = 9\n")

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert "working_hours: start and end are both 9" in str(raised.value)
    assert str(config) in str(raised.value)
    assert "cross midnight" in raised.value.hint


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("thresholds = 3\n", "thresholds"),
        ("working_hours = 1\n", "working_hours"),
        ('allowlist = "x"\n', "allowlist"),
    ],
)
def test_section_not_table_rejected(tmp_path: Path, text: str, key: str) -> None:
    config = write(tmp_path / "h056.toml", text)

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert f"{config}: {key}: must be a table such as [{key}]" in str(raised.value)


@pytest.mark.parametrize("name", ["actors", "targets", "source_ips"])
def test_single_bracket_entry_rejected(tmp_path: Path, name: str) -> None:
    # [allowlist.actors] makes one table, and [[allowlist.actors]] makes a list of
    # entries. Reading the table as a list would take its keys for entries.
    config = write(tmp_path / "h056.toml", f'[allowlist.{name}]\nreason = "r"\n')

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    message = str(raised.value)
    assert f"allowlist.{name}: must be a list of tables" in message
    assert f"[[allowlist.{name}]]" in message


def test_entry_not_table_rejected(tmp_path: Path) -> None:
    config = write(
        tmp_path / "h056.toml", 'allowlist = {source_ips = ["10.0.0.0/8"]}\n'
    )

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert "allowlist.source_ips[0]: must be a table" in str(raised.value)


def test_section_not_table_exits_two(tmp_path: Path) -> None:
    config = write(tmp_path / "h056.toml", "thresholds = 3\n")
    samples = Path(__file__).resolve().parents[1] / "sample_logs"

    result = CliRunner().invoke(
        main,
        ["hunt", "--audit", str(samples / "audit.json"), "--config", str(config)],
    )

    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr


def write_chain(folder: Path, addresses: list[str | None]) -> tuple[Path, Path]:
    """Write a revocation and one denied sign-in per address, ``None`` writing a
    sign-in without ``ipAddress``, and return the audit and sign-in files."""
    user_id = "22222222-2222-4222-8222-222222222222"
    revocation = {
        "id": "audit-1",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2025-01-02T03:00:00Z",
        "result": "success",
        "initiatedBy": {"user": {"id": "11111111-1111-4111-8111-111111111111"}},
        "targetResources": [
            {"id": user_id, "type": "User", "userPrincipalName": "dana@contoso.example"}
        ],
    }
    audit = write(folder / "audit.ndjson", json.dumps(revocation) + "\n")
    lines = []
    for index, address in enumerate(addresses):
        signin = {
            "id": f"5e5e5e5e-0000-4000-8000-00000000000{index}",
            "createdDateTime": f"2025-01-02T03:0{index + 1}:30Z",
            "userId": user_id,
            "userPrincipalName": "dana@contoso.example",
            "status": {
                "errorCode": 500121,
                "additionalDetails": "MFA denied; user declined the authentication",
            },
        }
        if address is not None:
            signin["ipAddress"] = address
        lines.append(json.dumps(signin) + "\n")
    return audit, write(folder / "signin.ndjson", "".join(lines))


LAB_RANGE = '[[allowlist.source_ips]]\ncidr = "203.0.113.0/24"\nreason = "lab"\n'


@pytest.mark.parametrize(
    ("addresses", "kept"),
    [
        (["203.0.113.5"] * 4, 0),
        # Three denials with no address could come from anywhere.
        (["203.0.113.5", None, None, None], 1),
    ],
    ids=["all_in_range", "addresses_missing"],
)
def test_source_range_needs_every_address(
    tmp_path: Path, addresses: list[str | None], kept: int
) -> None:
    audit, signins = write_chain(tmp_path, addresses)
    config = write(tmp_path / "h056.toml", LAB_RANGE)

    result = CliRunner().invoke(
        main,
        ["hunt", "--audit", str(audit), "--signin", str(signins), "--format"]
        + ["jsonl", "--config", str(config), "--fail-on", "none", *THRESHOLDS],
    )
    findings = [json.loads(line) for line in result.stdout.splitlines() if line]

    assert result.exit_code == 0, result.output
    assert len(findings) == kept
