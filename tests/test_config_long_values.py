"""Time zone names that name no zone file, in a config file and in --tz."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
LONG = 3_000


def run_cli(arguments: list[str]) -> Result:
    """Run the CLI in-process and put the ``h056hunt`` logger back afterwards."""
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        return CliRunner().invoke(main, arguments)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


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
