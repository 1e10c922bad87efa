"""Start and configure the Spark session of a CLI run.

pyspark is imported only here and in the modules that the Spark engine loads, so the
core install never needs it. The session is local by default and binds nothing but
the loopback interface. Settings from ``--spark-conf`` override every default below.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from h056hunt.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

DEFAULT_MASTER = "local[*]"
# pyspark 4.3 warns with this FutureWarning whenever it checks the pandas version
# under pandas 3 (pyspark.sql.pandas.utils.require_minimum_pandas_version).
PANDAS3_WARNING = r"PySpark does not yet fully support pandas >= 3\.0\.0"
# Settings a hunt needs on any session, a notebook's included; the engine restores
# the session's own values afterwards. The Spark engine keeps nanosecond times as
# bigint, and Parquet written by h056 convert stores TIMESTAMP(NANOS), which Spark
# reads as bigint only with this setting.
SESSION_SETTINGS = {"spark.sql.legacy.parquet.nanosAsLong": "true"}
# Defaults of a session the CLI starts: no web UI, no console progress bar.
CLI_DEFAULTS = {
    "spark.app.name": "h056hunt",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
}
# The JVM's own log on stderr: errors only, or warnings too with --verbose. Without
# a configuration file Spark prints its defaults first. The root level stays at
# WARN and the appender filters instead, because Spark announces the level it sets
# for a shell whenever the root level differs from WARN.
LOG4J2_TEMPLATE = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.filter.threshold.type = ThresholdFilter
appender.stderr.filter.threshold.level = {level}
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = spark: %p %c{{1}}: %m%n
"""
# A local master binds only to the loopback interface.
LOCAL_DEFAULTS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


@contextlib.contextmanager
def pandas3_warning_ignored() -> Iterator[None]:
    """Ignore pyspark's pandas 3 support warning, and only that warning, inside."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=PANDAS3_WARNING, category=FutureWarning
        )
        yield


def require_pyspark() -> None:
    """Raise a usage error naming the extra when pyspark is not installed."""
    if importlib.util.find_spec("pyspark") is None:
        raise UsageError(
            "--engine spark needs pyspark, which is not installed",
            hint="pip install 'h056hunt[spark]' (pyspark 4 and Java 17 or 21)",
        )


def parse_settings(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Read ``KEY=VALUE`` pairs of ``--spark-conf``.

    Raises:
        ValueError: a pair has no ``=`` or an empty key.
    """
    settings = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"invalid Spark setting {pair!r}; expected KEY=VALUE")
        settings[key.strip()] = value
    return settings


def session_settings(master: str, user_settings: dict[str, str]) -> dict[str, str]:
    """Return the settings of a session the CLI starts, the user's winning."""
    settings = {**CLI_DEFAULTS, **SESSION_SETTINGS}
    if master.startswith("local"):
        settings.update(LOCAL_DEFAULTS)
    settings.update(user_settings)
    return settings


@contextlib.contextmanager
def engine_settings(spark: SparkSession) -> Iterator[None]:
    """Apply :data:`SESSION_SETTINGS` for the duration of a hunt, then restore
    the session's own values."""
    saved: dict[str, str | None] = {
        key: spark.conf.get(key, None) for key in SESSION_SETTINGS
    }
    for key, value in SESSION_SETTINGS.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, previous in saved.items():
            if previous is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, previous)


@contextlib.contextmanager
def spark_session(
    master: str, user_settings: dict[str, str], *, verbose: bool = False
) -> Iterator[SparkSession]:
    """Start a Spark session for one run and stop it afterwards.

    Workers run the interpreter of this process unless ``PYSPARK_PYTHON`` names
    another, so they import the same h056hunt and pandas. When this process
    already has an active session, such as a notebook's or a test's, that session
    is used as it is and left running; ``master`` and ``user_settings`` then do
    not apply.

    Raises:
        UsageError: pyspark is missing or Java cannot start.
    """
    require_pyspark()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        logger.info(
            "using the active Spark session; --spark-master and "
            "--spark-conf do not apply to it"
        )
        yield active
        return
    settings = session_settings(master, user_settings)
    with contextlib.ExitStack() as cleanup:
        if "spark.driver.extraJavaOptions" not in settings:
            log_config = cleanup.enter_context(_log4j2_file(verbose))
            settings["spark.driver.extraJavaOptions"] = (
                f"-Dlog4j2.configurationFile={log_config.as_uri()}"
            )
        builder = SparkSession.builder.master(master)
        for key, value in settings.items():
            builder = builder.config(key, value)
        with pandas3_warning_ignored():
            try:
                session = builder.getOrCreate()
            except PySparkRuntimeError as error:
                raise UsageError(
                    f"Spark could not start: {error}",
                    hint="install Java 17 or 21 and set JAVA_HOME, or run with "
                    "--engine local",
                ) from error
        cleanup.callback(session.stop)
        logger.info("Spark %s session on %s", session.version, master)
        yield session


@contextlib.contextmanager
def _log4j2_file(verbose: bool) -> Iterator[Path]:
    """Write the JVM's log configuration to a temporary file for one session."""
    handle, name = tempfile.mkstemp(prefix="h056-log4j2-", suffix=".properties")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(LOG4J2_TEMPLATE.format(level="warn" if verbose else "error"))
        yield path
    finally:
        path.unlink(missing_ok=True)
