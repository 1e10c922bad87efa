"""The ``simulate`` command, which writes a synthetic tenant's logs and labels."""

from __future__ import annotations

import errno
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

from h056hunt import interrupts
from h056hunt.errors import H056Error, UsageError
from h056hunt.output_folder import check_output_folder
from h056hunt.plurals import Counted
from h056hunt.simulate import tabular
from h056hunt.simulate.config import (
    DEFAULT_START,
    SCENARIO_NAMES,
    SHAPES,
    SimulationConfig,
)
from h056hunt.simulate.output import simulate

_START_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]


class StartTime(click.DateTime):
    """A --start value in one of :data:`_START_FORMATS`.

    click.DateTime (click 8.5) reports "does not match the formats" for every
    failure, so a value such as 2026-02-30, written in the right format but not
    a real date, would look like a format mistake.
    """

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        if isinstance(value, str):
            for time_format in self.formats:
                try:
                    return datetime.strptime(value, time_format)
                except ValueError as error:
                    # strptime reports "does not match format" or "unconverted
                    # data remains" when the shape is wrong, and names the
                    # field otherwise, such as "day is out of range for month".
                    reason = str(error)
                    if "does not match format" in reason or "unconverted" in reason:
                        continue
                    self.fail(
                        f"invalid date {value!r}: {reason}; give a calendar date "
                        "such as 2026-03-02",
                        param,
                        ctx,
                    )
        return super().convert(value, param, ctx)


class OutputError(click.ClickException):
    """A simulation that could not write its files: exit code 2, as for the
    other commands' input and usage errors."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message as it is, in the format of the other commands."""
        click.echo(self.format_message(), err=True)


class Interrupted(OutputError):
    """A simulation stopped by Ctrl-C: exit code 130, as for the other commands."""

    exit_code = 130


@click.command(
    name="simulate", short_help="Write simulated logs with labelled attacks."
)
@click.option(
    "--users",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Directory users in the simulated tenant, admins included. Every scenario "
    f"together needs at least {SimulationConfig().minimum_users()}.",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Length of the simulated period in days.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed. The same options always write the same bytes.",
)
@click.option(
    "--start",
    type=StartTime(formats=_START_FORMATS),
    default=DEFAULT_START.strftime("%Y-%m-%d"),
    show_default=True,
    help="First instant of the period, read as UTC.",
)
@click.option(
    "--scenario",
    "scenarios",
    type=click.Choice(SCENARIO_NAMES, case_sensitive=False),
    multiple=True,
    help="Scenario to inject, repeatable. All scenarios when omitted.",
)
@click.option(
    "--signin-shape",
    type=click.Choice(SHAPES, case_sensitive=False),
    default="graph-ndjson",
    show_default=True,
    help="Export shape of the sign-in file. portal-csv also writes "
    "signin_AuthDetails.csv.",
)
@click.option(
    "--audit-shape",
    type=click.Choice(SHAPES, case_sensitive=False),
    default="graph-ndjson",
    show_default=True,
    help="Export shape of the audit file.",
)
@click.option(
    "--noise",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Mean background sign-ins per user and day. 0 writes the scenarios only.",
)
@click.option(
    "--audit-rate",
    type=click.FloatRange(min=0),
    default=None,
    help="Mean background audit rows per user and day [default: 0.25, scaled "
    "with --noise].",
)
@click.option("--gzip", "compress", is_flag=True, help="Compress both log files.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    required=True,
    help="New or empty folder for audit.*, signin.* and labels.json, created "
    "when missing.",
)
def simulate_command(
    users: int,
    days: int,
    seed: int,
    start: datetime,
    scenarios: tuple[str, ...],
    signin_shape: str,
    audit_shape: str,
    noise: int,
    audit_rate: float | None,
    compress: bool,
    out_dir: Path,
) -> None:
    """Write simulated Entra ID audit and sign-in logs with labelled attacks.

    The logs hold background activity of ordinary users plus each selected
    scenario: admin session revocations followed by MFA push bombing, and benign
    look-alikes. labels.json lists every scenario with its target users, actor,
    revocation time and expected finding.

    \b
    Examples:
      h056 simulate --out sim
      h056 simulate --users 40 --days 2 --seed 7 --noise 6 \\
          --signin-shape graph-page --audit-shape graph-page --out samples
      h056 simulate --scenario chain_approved --scenario helpdesk_benign \\
          --noise 0 --out two-scenarios
      h056 simulate --users 25000 --signin-shape diagnostic-ndjson --gzip --out big
      h056 simulate --signin-shape portal-csv --audit-shape portal-csv --out portal
      h056 simulate --signin-shape purview-ual-csv --audit-shape log-analytics-csv \\
          --out mixed
      h056 hunt --audit mixed/audit.csv --signin mixed/signin.csv --monthfirst

    log-analytics-csv writes US month-first dates such as 3/2/2026. When no day
    in the period is after the 12th, as with the default period, every date also
    reads as day-first, so hunt those files with --monthfirst.
    """
    try:
        config = SimulationConfig(
            users=users,
            days=days,
            seed=seed,
            start=start.replace(tzinfo=UTC),
            scenarios=scenarios or SCENARIO_NAMES,
            signin_shape=signin_shape,
            audit_shape=audit_shape,
            noise_per_user_per_day=noise,
            audit_rows_per_user_per_day=audit_rate,
            gzip=compress,
        )
    except H056Error as error:
        raise click.UsageError(str(error)) from error

    try:
        check_output_folder(out_dir, "simulate")
    except UsageError as error:
        raise OutputError(f"h056: ERROR: {error}") from error
    _check_free_space(config, out_dir)

    # Until here the console script ends the process at once on Ctrl-C.
    interrupts.raise_on_interrupt()
    try:
        result = simulate(config, out_dir)
    except KeyboardInterrupt:
        raise Interrupted(
            f"h056: ERROR: interrupted; no file in {out_dir} was written or replaced"
        ) from None
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            # The free space check uses a lower bound of the logs' size, so a
            # run that passed it can still fill the disk.
            hint = f"{_smaller_logs_hint(config)}, or name a folder on a larger disk"
        else:
            hint = "name a folder on a writable disk"
        raise OutputError(
            f"h056: ERROR: writing {error.filename or out_dir} failed: "
            f"{error.strerror or error}\n  hint: {hint} with --out"
        ) from error

    click.echo(f"{result.audit_path}: {Counted(result.audit_records, 'audit record')}")
    click.echo(
        f"{result.signin_path}: {Counted(result.signin_records, 'sign-in record')}"
    )
    if config.signin_shape == "portal-csv":
        # The hunt reads the steps file only when given, so the line names the option.
        details_path = tabular.auth_details_path(result.signin_path)
        click.echo(
            f"{details_path}: authentication steps of the sign-ins (give it to "
            f"--signin with {result.signin_path.name})"
        )
    click.echo(f"{result.labels_path}: {Counted(len(result.scenarios), 'scenario')}")


def _check_free_space(config: SimulationConfig, out_dir: Path) -> None:
    """Stop before writing when the logs cannot fit on the output folder's disk.

    Raises:
        OutputError: the lower bound of the logs' size exceeds the free space.
    """
    needed = config.minimum_bytes()
    existing = out_dir.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        # Writing reports the folder's fault with its own message.
        return
    if needed > free:
        users = "user" if config.users == 1 else "users"
        days = "day" if config.days == 1 else "days"
        raise OutputError(
            f"h056: ERROR: the logs of {config.users:,} {users} over {config.days:,} "
            f"{days} take at least {_decimal_size(needed)}, and the disk of "
            f"{str(out_dir)!r} has {_decimal_size(free)} free\n  hint: "
            f"{_smaller_logs_hint(config)}, or name a folder on a larger disk with "
            "--out"
        )


def _smaller_logs_hint(config: SimulationConfig) -> str:
    """Name the options that make the simulated logs smaller."""
    options = "--users, --days or --noise"
    if config.audit_rows_per_user_per_day:
        options = "--users, --days, --noise or --audit-rate"
    if config.gzip:
        return f"lower {options}"
    return f"lower {options}, add --gzip"


def _decimal_size(size: int) -> str:
    """Format a byte count in the largest decimal unit it reaches, such as 1.2 MB.

    A fixed unit would print a small disk's free space as 0.0 GB.
    """
    for unit, unit_bytes in (
        ("TB", 10**12),
        ("GB", 10**9),
        ("MB", 10**6),
        ("KB", 1000),
    ):
        if size >= unit_bytes:
            return f"{size / unit_bytes:,.1f} {unit}"
    return f"{size:,} bytes"
