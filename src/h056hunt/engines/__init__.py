"""Engines that run the hunt.

* ``local``: pandas in this process, :func:`h056hunt.hunt.run_hunt`.
* ``spark``: Apache Spark, :mod:`h056hunt.engines.spark`, from the optional
  ``h056hunt[spark]`` extra. It runs the same per-file loader, per-user kernel and
  per-actor campaign search on the workers and finishes on the driver with the local
  engine's code, so both engines report the same findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from h056hunt.engines.session import require_pyspark

if TYPE_CHECKING:
    from h056hunt.config import HuntConfig
    from h056hunt.detect.chains import DetectionParams
    from h056hunt.hunt import HuntResult
    from h056hunt.load import LoadedData, LoadOptions

ENGINES = ("local", "spark")


def hunt_with_spark(
    master: str,
    settings: dict[str, str],
    audit_inputs: list[str],
    signin_inputs: list[str],
    options: LoadOptions,
    params: DetectionParams,
    config: HuntConfig,
    *,
    verbose: bool = False,
) -> tuple[LoadedData, HuntResult]:
    """Run the hunt on a Spark session started for this run.

    pyspark is imported here, not when this package is, so the core install runs
    without it.

    Raises:
        UsageError: pyspark is not installed or Spark cannot start.
    """
    require_pyspark()
    from h056hunt.engines.spark import hunt_on_spark

    return hunt_on_spark(
        master,
        settings,
        audit_inputs,
        signin_inputs,
        options,
        params,
        config,
        verbose=verbose,
    )
