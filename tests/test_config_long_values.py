"""Config errors that quote long keys and values, and time zone names that name
no zone file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from cli_runs import run_cli
from h056hunt.config import load_config
from h056hunt.errors import ConfigError
from h056hunt.render.text import SHOWN_RUN, shown_message

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
LONG = 3_000
LEFT_OUT_MARK = f"…[+{LONG - SHOWN_RUN:,} characters]"


def hunt_with_config(config: Path, *extra: str) -> Result:
    return run_cli(
        [
            "hunt",
            "--audit",
            str(SAMPLES / "audit.json"),
            "--signin",
            str(SAMPLES / "signin.json"),
            "--config",
            str(config),
            "--fail-on",
            "none",
            *extra,
        ]
    )


CASES = {
    "unknown key": (
        f"[thresholds]\n{'k' * LONG} = 1\n",
        f"thresholds.{'k' * (SHOWN_RUN - len('thresholds.'))}",
    ),
    "time zone": (
        f'[working_hours]\ntimezone = "{"Z" * LONG}"\n',
        f"unknown time zone '{'Z' * SHOWN_RUN}'",
    ),
    "duration": (
        f'[thresholds]\nmax_lag = "{"9" * (LONG - 1)}x"\n',
        f"invalid duration '{'9' * SHOWN_RUN}'",
    ),
    "count": (
        f'[thresholds]\nmin_denials = "{"7" * LONG}"\n',
        f"found the string '{'7' * SHOWN_RUN}'",
    ),
    "IP range": (
        f'[[allowlist.source_ips]]\ncidr = "{"1" * LONG}"\nreason = "office"\n',
        f"invalid IP range '{'1' * SHOWN_RUN}'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_cuts_value(tmp_path: Path, case: str) -> None:
    text, expected_text = CASES[case]
    config = tmp_path / "h056.toml"
    config.write_text(text, encoding="utf-8")

    result = hunt_with_config(config)

    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1
    assert len(error_lines[0]) < SHOWN_RUN + 300
    assert expected_text in error_lines[0]
    assert "…[+" in error_lines[0]


def test_config_error_keeps_whole_message(tmp_path: Path) -> None:
    zone = "Z" * LONG
    config = tmp_path / "h056.toml"
    config.write_text(f'[working_hours]\ntimezone = "{zone}"\n', encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(config)

    assert f"unknown time zone {zone!r}" in caught.value.message
    assert f"'{'Z' * SHOWN_RUN}'{LEFT_OUT_MARK}" in shown_message(caught.value.message)


@pytest.mark.parametrize("zone", ["Europe", "Z" * LONG])
def test_config_zone_folder_rejected(tmp_path: Path, zone: str) -> None:
    # The zone database has a folder named Europe, and a name this long is no
    # file name at all, so opening either fails with OSError.
    config = tmp_path / "h056.toml"
    config.write_text(f'[working_hours]\ntimezone = "{zone}"\n', encoding="utf-8")

    result = hunt_with_config(config)

    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr
    assert "unknown time zone" in result.stderr


@pytest.mark.parametrize("zone", ["Europe", "Z" * LONG])
def test_tz_option_zone_folder_rejected(zone: str) -> None:
    result = run_cli(
        [
            "hunt",
            "--audit",
            str(SAMPLES / "audit.json"),
            "--signin",
            str(SAMPLES / "signin.json"),
            "--tz",
            zone,
        ]
    )

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "unknown time zone" in result.stderr
