"""Fixtures of the security tests: hostile exports and the outputs of runs over them."""

from __future__ import annotations

import pytest
from hostile import HostileExports, Outputs, RunFormat, hunt, write_hostile_exports


@pytest.fixture(scope="session")
def hostile_exports(tmp_path_factory: pytest.TempPathFactory) -> HostileExports:
    """Exports with a hostile payload in every attacker-written field."""
    return write_hostile_exports(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="session")
def hostile_outputs(
    hostile_exports: HostileExports, tmp_path_factory: pytest.TempPathFactory
) -> RunFormat:
    """Return a function that runs one format to stdout and to ``--output``.

    Runs are cached per format, because every test of a format reads the same bytes.
    """
    cache: dict[str, tuple[Outputs, Outputs]] = {}

    def run(output_format: str) -> tuple[Outputs, Outputs]:
        if output_format not in cache:
            folder = tmp_path_factory.mktemp(output_format)
            target = folder / f"findings\x1b[31m.{output_format}"
            to_stdout = hunt(hostile_exports, output_format, "--details")
            to_file = hunt(
                hostile_exports, output_format, "--details", "--output", str(target)
            )
            cache[output_format] = (to_stdout, to_file)
        return cache[output_format]

    return run
