"""Tests for the Spark engine's settings, warning filter and optional import."""

from __future__ import annotations

import warnings

import pytest
from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.engines import session
from h056hunt.errors import UsageError

PANDAS3_MESSAGE = (
    "PySpark does not yet fully support pandas >= 3.0.0. Some features may not "
    "work correctly. It is recommended to use pandas < 3.0.0 for now."
)


def test_settings_parse_pairs() -> None:
    settings = session.parse_settings(["spark.a=1", "spark.b=x=y", "spark.c="])
    assert settings == {"spark.a": "1", "spark.b": "x=y", "spark.c": ""}


@pytest.mark.parametrize("pair", ["spark.a", "=1", " =1"])
def test_settings_reject_invalid_pair(pair: str) -> None:
    with pytest.raises(ValueError, match="KEY=VALUE"):
        session.parse_settings([pair])


def test_local_master_binds_loopback() -> None:
    settings = session.session_settings("local[2]", {})
    assert settings["spark.driver.host"] == "127.0.0.1"
    assert settings["spark.driver.bindAddress"] == "127.0.0.1"
    assert settings["spark.ui.enabled"] == "false"
    assert settings["spark.sql.session.timeZone"] == "UTC"


def test_cluster_master_keeps_host() -> None:
    settings = session.session_settings("spark://spark-master.example:7077", {})
    assert "spark.driver.host" not in settings
    assert "spark.driver.bindAddress" not in settings


def test_user_settings_win() -> None:
    settings = session.session_settings("local[*]", {"spark.ui.enabled": "true"})
    assert settings["spark.ui.enabled"] == "true"


def test_pandas3_warning_ignored_only() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with session.pandas3_warning_ignored():
            warnings.warn(PANDAS3_MESSAGE, FutureWarning, stacklevel=1)
            warnings.warn("another future change", FutureWarning, stacklevel=1)
            warnings.warn(PANDAS3_MESSAGE, UserWarning, stacklevel=1)
    messages = [(w.category, str(w.message)) for w in caught]
    assert (FutureWarning, "another future change") in messages
    assert (UserWarning, PANDAS3_MESSAGE) in messages
    assert (FutureWarning, PANDAS3_MESSAGE) not in messages


def test_missing_pyspark_is_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match=r"h056hunt\[spark\]"):
        session.require_pyspark()


def test_cli_missing_pyspark_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session.importlib.util, "find_spec", lambda name: None)
    result = CliRunner().invoke(
        main, ["hunt", "--signin", __file__, "--engine", "spark", "--format", "jsonl"]
    )
    assert result.exit_code == 2
    assert "needs pyspark" in result.stderr
    assert result.stdout == ""


def test_cli_rejects_invalid_spark_conf() -> None:
    result = CliRunner().invoke(
        main, ["hunt", "--signin", __file__, "--spark-conf", "spark.ui.enabled"]
    )
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr
