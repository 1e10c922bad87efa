"""The ``h056`` command line: a thin layer over loading, hunting and rendering.

The CLI owns everything the user sees: logging setup, the run summary on stderr,
findings on stdout, and exit codes. Library modules only raise.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import gc
import gzip
import io
import logging
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import pyarrow as pa
from click.core import ParameterSource
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from h056hunt import __version__, interrupts
from h056hunt.activities import normalise_activity
from h056hunt.config import MAX_COUNT, HuntConfig, load_config
from h056hunt.config_search import find_config_file, user_config_file
from h056hunt.detect.revocations import find_revocations
from h056hunt.durations import parse_duration
from h056hunt.engines import ENGINES, hunt_with_spark
from h056hunt.engines.session import DEFAULT_MASTER, parse_settings
from h056hunt.errors import H056Error, MessageText, ProgramText, UsageError
from h056hunt.findings import Severity
from h056hunt.hunt import coverage_warnings, run_hunt
from h056hunt.inspect import file_record, files_with_steps, unread_record
from h056hunt.load import LoadedData, LoadOptions, ProgressCallback, load_logs
from h056hunt.loaders import fastpath
from h056hunt.loaders.csv_export import SHAPE_UAL_CSV
from h056hunt.loaders.csv_portal import SHAPE_SIGNIN as PORTAL_SIGNIN_SHAPE
from h056hunt.loaders.sink import FileReport
from h056hunt.loaders.skip_advice import skip_advice
from h056hunt.loaders.ual import SHAPE_UAL_JSON
from h056hunt.log_format import configure_logging, quote_names
from h056hunt.plurals import Counted
from h056hunt.render import (
    EXTENSION_FORMATS,
    GZIP_EXTENSION,
    RENDERERS,
    extension_fits,
    format_extension,
    format_for_extension,
    is_gzip_output,
    names_only_extension,
    names_other_file_type,
    repeated_gzip,
    unwritable_compression,
)
from h056hunt.render.context import RenderContext
from h056hunt.render.inspection import render_inspection
from h056hunt.render.jsonl import dumps
from h056hunt.render.summary import render_summary
from h056hunt.render.suppressed import render_suppressed
from h056hunt.render.text import plain
from h056hunt.render.trimmed_stream import TrimmedStream
from h056hunt.sizes import format_size, parse_size
from h056hunt.sources import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    InputFile,
    expand_inputs,
    file_uri_path,
    glob_reaches,
    is_uri,
    name_paths,
)
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES

logger = logging.getLogger("h056hunt")

FORMATS = tuple(RENDERERS)
FAIL_ON_CHOICES = ("low", "medium", "high", "critical", "none")


class ExitCode(enum.IntEnum):
    """Process exit codes."""

    OK = 0
    FINDINGS = 1
    INPUT_ERROR = 2
    # EX_SOFTWARE of sysexits.h: a bug in h056hunt, not a problem with the input.
    INTERNAL_ERROR = 70
    INTERRUPTED = 130


class _Duration(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 on
    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_duration(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


DURATION = _Duration()


class _Size(click.ParamType[int, Any]):
    name = "size"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_size(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


SIZE = _Size()


class _Count(click.IntRange):
    """A whole number of at least 1 that fits the detection's int64 columns.

    The help and the message for a value below 1 show the range as ``x>=1``. The
    upper bound gets a message of its own, because a 19-digit bound in every help
    line reads as a setting to choose.
    """

    def __init__(self) -> None:
        super().__init__(min=1)

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        count = super().convert(value, param, ctx)
        if count > MAX_COUNT:
            self.fail(
                f"{count} is larger than {MAX_COUNT}, the largest count the "
                "detection accepts",
                param,
                ctx,
            )
        return count


COUNT = _Count()


def _output_file_path(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> Path | None:
    """Convert an ``--output`` value to a path, rejecting a name that ends in a
    path separator.

    pathlib drops the trailing separator, so without this check ``out/`` for a
    folder that does not exist yet wrote the findings to a file named ``out``.

    Raises:
        click.BadParameter: the value ends in a path separator.
    """
    if value is None:
        return None
    separators = tuple(sep for sep in (os.sep, os.altsep) if sep)
    if value.endswith(separators):
        raise click.BadParameter(
            f"{value!r} names a folder; give a file name, such as "
            f"{value}findings.jsonl",
            ctx=ctx,
            param_hint="--output",
        )
    return Path(value)


def _reject_empty_values(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """Return the input values of an option or argument, rejecting an empty one.

    pathlib reads an empty path as the current folder, so without this check
    ``--audit "$AUDIT"`` with an unset variable hunted every file there.

    Raises:
        click.BadParameter: a value is the empty string.
    """
    if "" in values:
        raise click.BadParameter(
            "an empty value names no file; give a file, folder or quoted glob "
            "pattern, such as . for the current folder",
            ctx=ctx,
            param=param,
        )
    return values


def _option_group(
    *options: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Combine click options into one decorator, keeping their order in --help."""

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def _size_options(
    record_size_help: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Build the two size limits, with --max-record-size help that fits the command."""
    return _option_group(
        click.option(
            "--max-decompressed-size",
            "max_decompressed_bytes",
            type=SIZE,
            default=format_size(DEFAULT_MAX_DECOMPRESSED_BYTES),
            show_default=True,
            metavar="SIZE",
            help="Largest size one gzip input may expand to, in bytes or with a "
            "unit: K, M, G or T (powers of 1024), such as 512M or 2G.",
        ),
        click.option(
            "--max-record-size",
            "max_record_bytes",
            type=SIZE,
            default=format_size(DEFAULT_MAX_RECORD_BYTES),
            show_default=True,
            metavar="SIZE",
            help=record_size_help
            + " A record inside a JSON document that is read whole is measured in "
            "characters, so messages about it give characters.",
        ),
    )


# Shown in the help because the docs point to it: strict validation of every record,
# exact prompt counts, and a check that the fast path gives the same findings.
_NO_FAST_PATH = click.option(
    "--no-fast-path",
    is_flag=True,
    help="Decode and check every record instead of pre-filtering large exports; "
    f"slower (also ${fastpath.DISABLE_ENV}=1).",
)


def _parse_tz(value: str | None) -> tzinfo | None:
    if value is None or value.upper() == "UTC":
        return None
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        # zoneinfo raises OSError for a name that is a folder of the zone
        # database, such as Europe, and for a name too long for a file name.
        raise click.BadParameter(
            f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin",
            param_hint="--tz",
        ) from error


def _spark_settings(ctx: Any, param: Any, value: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_settings(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from error


class _Command(click.Command):
    """A command whose error for extra arguments explains how to give several files."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            # click declares an error's message final, so a new error replaces it.
            if "unexpected extra argument" in error.message:
                # The shell expands an unquoted pattern into several words, and an
                # option takes one.
                message = (
                    f"{error.message}; an option takes one path: repeat it for each "
                    "file, give a folder, or quote a pattern ('exports/*.json')"
                )
                if not any(arg.startswith("-") for arg in args):
                    message += (
                        "; give the audit export with --audit and the sign-in "
                        "export with --signin"
                    )
                raise click.UsageError(message, ctx=error.ctx) from None
            if isinstance(error, click.NoSuchOption) and error.option_name in (
                "--audit",
                "--signin",
            ):
                # inspect and the like take bare paths; a near miss such as
                # '--quiet' would mislead, so the error names no possibility.
                raise click.NoSuchOption(
                    error.option_name,
                    message=(
                        f"no such option '{error.option_name}': this command takes "
                        "the paths themselves, whatever log they hold"
                    ),
                    ctx=error.ctx,
                ) from None
            raise


class _Commands(click.Group):
    """The h056 commands, with ``simulate`` imported only when it runs or is listed.

    The simulator's modules took about 45 ms to import, which every hunt paid.
    """

    command_class = _Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "simulate"})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "simulate":
            from h056hunt.simulate.command import simulate_command

            return simulate_command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="h056")
def main() -> None:
    """Hunt exported Microsoft Entra ID logs for session revocations followed by MFA
    push bombing (ATT&CK T1550.001 and T1621).

    \b
    Examples:
      h056 hunt --audit audit.json --signin signin.json
      h056 hunt --audit 'exports/audit/*.json' --signin exports/signins/ --details
    """
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        # pyarrow's bundled allocator keeps freed memory for reuse, and the C
        # library's allocator returns it. On the 1M-sign-in input of
        # benchmarks/run.py that lowered the peak RSS from 336 to 279 MiB.
        # ARROW_DEFAULT_MEMORY_POOL still picks another pool.
        pa.set_memory_pool(pa.system_memory_pool())


_export_options = _option_group(
    click.option(
        "--audit",
        "audit_inputs",
        multiple=True,
        metavar="PATH",
        callback=_reject_empty_values,
        help="Audit log export: a file, folder or quoted glob. Repeatable.",
    ),
    click.option(
        "--signin",
        "signin_inputs",
        multiple=True,
        metavar="PATH",
        callback=_reject_empty_values,
        help="Sign-in log export: a file, folder or quoted glob. Repeatable.",
    ),
)

_date_order_options = _option_group(
    click.option(
        "--dayfirst",
        is_flag=True,
        help="Read ambiguous slash dates such as 03/04/2025 as day first.",
    ),
    click.option(
        "--monthfirst",
        is_flag=True,
        help="Read ambiguous slash dates as month first.",
    ),
)


def _logging_options(
    verbose_help: str, quiet_help: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Build the -v, -q and --debug options, with help that fits the command."""
    return _option_group(
        click.option("-v", "--verbose", count=True, help=verbose_help),
        click.option("-q", "--quiet", is_flag=True, help=quiet_help),
        click.option(
            "--debug", is_flag=True, help="Show a traceback when the run fails."
        ),
    )


def _common_input_options(
    quiet_help: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Build --lenient, the date-order flags, -v, -q and --debug for a command."""
    return _option_group(
        click.option(
            "--lenient",
            is_flag=True,
            help="Keep the complete records of a malformed file, warn, and "
            "mark the run as partial, instead of stopping.",
        ),
        _date_order_options,
        _logging_options("More messages on stderr (repeat for debug).", quiet_help),
    )


@main.command(short_help="Find revocations followed by MFA prompt bursts.")
@_export_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="Output format of findings [default: the format that the --output "
    "file's extension names, else table].",
)
@click.option(
    "--output",
    # Folders are rejected in _check_output, with a message that names what to give.
    type=click.Path(),
    metavar="FILE",
    callback=_output_file_path,
    help="Write findings to this file instead of stdout. Without --format, the "
    "extension picks the format: .jsonl or .ndjson, .json, .csv, .md or "
    ".markdown, .html or .htm. Other names, such as findings.txt, get the "
    "table, and timesketch output needs --format. A name ending in .gz, such as "
    "findings.jsonl.gz, gets gzip-compressed output.",
)
@click.option(
    "--details",
    is_flag=True,
    help="Add each finding's score factors and timeline (table format).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of thresholds and allowlists (default: $H056_CONFIG, "
    "./h056.toml, ~/.config/h056hunt/config.toml, where $XDG_CONFIG_HOME "
    "replaces ~/.config when set).",
)
@click.option(
    "--max-lag",
    type=DURATION,
    help="Longest time from a revocation to the first denial of its burst "
    "[default: 2h].",
)
@click.option(
    "--burst-window",
    type=DURATION,
    help="Sliding window that the denials of a burst must fit in [default: 30m].",
)
@click.option(
    "--min-denials",
    type=COUNT,
    help="Fewest denied prompts that make a burst [default: 5].",
)
@click.option(
    "--campaign-min-targets",
    type=COUNT,
    help="Distinct users one actor must revoke to make a campaign [default: 3].",
)
@click.option(
    "--campaign-window",
    type=DURATION,
    help="Sliding window those revocations must fit in [default: 1h].",
)
@click.option(
    "--chain-only",
    is_flag=True,
    help="Hide push_bombing findings (bursts not joined to a revocation of the "
    "user); chains and campaigns stay.",
)
@click.option(
    "--revocation-activity",
    "revocation_activities",
    multiple=True,
    metavar="NAME",
    callback=lambda _context, _param, names: _check_activity_names(names),
    help="Another audit activity that revokes sessions, added to the default list "
    "(or the config file's list). Repeatable.",
)
@click.option(
    "--show-suppressed",
    is_flag=True,
    help="List findings that allowlist entries suppressed, with the reason.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False),
    default="high",
    show_default=True,
    help="Exit 1 when a finding reaches this severity; 'none' never does.",
)
@click.option(
    "--tz",
    "display_tz",
    metavar="ZONE",
    help="Time zone for times shown in table, markdown and html output (default "
    "UTC); JSON, CSV and Timesketch output stay in UTC.",
)
@click.option("--no-color", is_flag=True, help="Print without colours.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES, case_sensitive=False),
    default="local",
    show_default=True,
    help="Where the hunt runs: local (pandas in this process) or spark (needs "
    "pip install 'h056hunt[spark]' and Java 17 or 21).",
)
@click.option(
    "--spark-master",
    default=DEFAULT_MASTER,
    show_default=True,
    metavar="URL",
    help="Spark master URL for --engine spark, such as local[4].",
)
@click.option(
    "--spark-conf",
    "spark_settings",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_spark_settings,
    help="Spark setting for --engine spark, such as spark.driver.memory=8g. "
    "Repeatable.",
)
@_common_input_options("Only errors and the findings.")
@_size_options(
    "Longest line or record read, with the same units; a longer one is skipped "
    "with --lenient and stops the run otherwise."
)
@_NO_FAST_PATH
def hunt(
    audit_inputs: tuple[str, ...],
    signin_inputs: tuple[str, ...],
    output_format: str | None,
    output: Path | None,
    details: bool,
    config_path: Path | None,
    max_lag: Any,
    burst_window: Any,
    min_denials: int | None,
    campaign_min_targets: int | None,
    campaign_window: Any,
    chain_only: bool,
    revocation_activities: tuple[str, ...],
    show_suppressed: bool,
    fail_on: str,
    display_tz: str | None,
    no_color: bool,
    lenient: bool,
    dayfirst: bool,
    monthfirst: bool,
    verbose: int,
    quiet: bool,
    debug: bool,
    max_decompressed_bytes: int,
    max_record_bytes: int,
    no_fast_path: bool,
    engine: str,
    spark_master: str,
    spark_settings: dict[str, str],
) -> None:
    """Find revocations followed by MFA prompt bursts for the same user.

    \b
    Examples:
      h056 hunt --audit audit.json --signin signin.json
      h056 hunt --audit audit/ --signin 'signins/*.json.gz' --format jsonl
      h056 hunt --audit a.json --signin s.json --details --tz Europe/Berlin
      h056 hunt --audit a.json --signin s.json --fail-on critical --min-denials 3
      h056 hunt --audit lake/h056 --engine spark --spark-master 'local[4]'
    """
    configure_logging(verbose, quiet, debug)
    if not audit_inputs and not signin_inputs:
        raise click.UsageError("give at least one --audit or --signin input")
    tz = _parse_tz(display_tz)
    overrides = {
        "max_lag": max_lag,
        "burst_window": burst_window,
        "min_denials": min_denials,
        "campaign_min_targets": campaign_min_targets,
        "campaign_window": campaign_window,
        "chain_only": chain_only or None,
    }
    options = LoadOptions(
        strict=not lenient,
        dayfirst=_date_order(dayfirst, monthfirst),
        max_decompressed_bytes=max_decompressed_bytes,
        max_record_bytes=max_record_bytes,
        fast_path=not no_fast_path,
    )
    no_color = no_color or "NO_COLOR" in os.environ
    errors = Console(
        file=_stderr_file(),
        stderr=True,
        no_color=no_color,
        highlight=False,
        quiet=quiet,
        width=_stderr_width(),
    )
    if output is not None and str(output) == "-":
        output = None
    _check_output(output, audit_inputs + signin_inputs)
    chosen_format = _choose_format(output_format, output)
    _warn_unused_options(chosen_format, details=details, tz=tz, engine=engine)

    def work() -> int:
        phases = _PhaseClock()
        config = _read_config(config_path)
        params = replace(
            config.params,
            **{name: value for name, value in overrides.items() if value is not None},
        )
        if revocation_activities:
            params = replace(
                params,
                revocation_activities=(
                    *params.revocation_activities,
                    *revocation_activities,
                ),
            )
        config = replace(config, params=params)
        load_options = replace(
            options,
            revocation_activities=params.revocation_activities,
            config_file=_config_file(config),
        )
        if engine == "spark":
            data, result = hunt_with_spark(
                spark_master,
                spark_settings,
                list(audit_inputs),
                list(signin_inputs),
                load_options,
                params,
                config,
                verbose=verbose > 0,
            )
        else:
            with _progress(errors, quiet) as progress:
                data = load_logs(
                    list(audit_inputs),
                    list(signin_inputs),
                    load_options,
                    progress=progress,
                )
            phases.mark("loading")
            result = run_hunt(data, params, config)
            phases.mark("detection")
        _warn_missing_auth_details(data)
        if lenient:
            _mark_unusable_inputs(data, audit_inputs, signin_inputs)
        # An input option without records ends the run with an error. The summary
        # still accounts for the files, without the findings of a run that failed.
        rejected: UsageError | None = None
        try:
            _reject_empty_inputs(data, audit_inputs, signin_inputs, strict=not lenient)
            if lenient:
                _reject_nothing_usable(data)
            else:
                _reject_missing_log(data, audit_inputs, signin_inputs)
        except UsageError as error:
            rejected = error
        if lenient and rejected is None:
            _warn_missing_log(data, audit_inputs, signin_inputs)
        render_summary(
            data,
            None if rejected else result,
            errors,
            tz=tz,
            suppressed_listed=show_suppressed,
        )
        if rejected is not None:
            raise rejected
        if show_suppressed:
            render_suppressed(result.suppressed, errors)

        def write(stream: TextIO, is_terminal: bool) -> None:
            context = RenderContext(
                data=data,
                result=result,
                params=params,
                tz=tz,
                details=details,
                no_color=no_color,
                is_terminal=is_terminal,
                suppressed_listed=show_suppressed,
            )
            RENDERERS[chosen_format](result.findings, stream, context)

        phases.mark("run summary")
        threshold = None if fail_on == "none" else Severity.from_label(fail_on)
        reached = threshold is not None and any(
            finding.severity >= threshold for finding in result.findings
        )
        verdict = ExitCode.FINDINGS if reached else ExitCode.OK
        try:
            _write_output(output, write)
        except BrokenPipeError:
            # A reader such as `head` closed standard output early. The verdict
            # does not depend on what was read, so the exit code stays the same.
            _discard_stdout()
            return verdict
        phases.mark(f"{chosen_format} output")
        return verdict

    sys.exit(_run(work, debug, writes_output=output is not None))


@main.command(short_help="Describe export files without hunting.")
@click.argument(
    "paths", nargs=-1, required=True, metavar="PATH...", callback=_reject_empty_values
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"], case_sensitive=False),
    default="table",
    show_default=True,
    help="table for people; json prints one JSON object per file.",
)
@click.option(
    "--max-lag",
    type=DURATION,
    help="Follow-up window after each revocation checked for coverage "
    "[default: the config file's max_lag, else 2h].",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file whose thresholds and revocation activities the coverage "
    "check uses, as h056 hunt would (default: the same search as h056 hunt).",
)
@_date_order_options
@_logging_options("More messages on stderr.", "Only errors and the report.")
@_size_options(
    "Longest line or record read, with the same units; a longer one is skipped "
    "without being decoded and makes the exit code 2."
)
@_NO_FAST_PATH
def inspect(
    paths: tuple[str, ...],
    output_format: str,
    max_lag: Any,
    config_path: Path | None,
    dayfirst: bool,
    monthfirst: bool,
    verbose: int,
    quiet: bool,
    debug: bool,
    max_decompressed_bytes: int,
    max_record_bytes: int,
    no_fast_path: bool,
) -> None:
    """Describe export files without hunting: shape, log, record accounting, time
    range and the fields the detection needs but the file lacks.

    Files are read leniently so every file gets a description; the exit code is 2
    when any file is malformed or unreadable, else 0.

    Records that the hunt's pre-filter passes over are counted, not decoded. A
    hunt also decodes those of the users its detection examines, so it can count
    more loaded records for a file than inspect does.

    \b
    Examples:
      h056 inspect exports/
      h056 inspect audit.json 'signins/*.csv' --format json
    """
    configure_logging(verbose, quiet, debug)
    options = LoadOptions(
        strict=False,
        dayfirst=_date_order(dayfirst, monthfirst),
        describe_only=True,
        max_decompressed_bytes=max_decompressed_bytes,
        max_record_bytes=max_record_bytes,
        fast_path=not no_fast_path,
    )

    def work() -> int:
        # The coverage check uses the hunt's settings, so that inspect and hunt
        # report the same gaps for the same files and config file.
        config = _read_config(config_path)
        params = config.params
        if max_lag is not None:
            params = replace(params, max_lag=max_lag)
        load_options = replace(
            options,
            revocation_activities=params.revocation_activities,
            config_file=_config_file(config),
        )
        data = load_logs(list(paths), list(paths), load_options)
        # inspect reads no pre-filtered records again, so loading ends here.
        data.conflict_warnings.log_remainder()
        revocations, _ = find_revocations(data.audit, params.revocation_activities)
        coverage = coverage_warnings(data, revocations, params)
        stepped = files_with_steps(data.signin, data.steps)
        records = [
            file_record(report, has_steps=report.path in stepped)
            for report in data.files
        ]
        if output_format == "json":
            # A path that could not be read gets an object too, so a script gets
            # one for every input it gave, with the reason in "error".
            records += [unread_record(path, reason) for path, reason in data.unreadable]
            for record in records:
                record["coverage_warnings"] = coverage
                click.echo(dumps(record))
        else:
            on_terminal = sys.stdout.isatty()
            # As for the hunt's table, COLUMNS sets the width of a pipe or file.
            sized = on_terminal or os.environ.get("COLUMNS", "").isdigit()
            console = Console(
                file=_stdout_file(on_terminal),
                highlight=False,
                width=None if sized else 160,
            )
            render_inspection(records, coverage, data.unreadable, console)
        return ExitCode.INPUT_ERROR if data.partial else ExitCode.OK

    sys.exit(_run(work, debug, writes_output=False))


@main.command(short_help="Write exports as Parquet tables for data lakes.")
@_export_options
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New or empty folder for the Parquet tables and their manifest.",
)
@_common_input_options("Only errors: no warnings and no line naming the rows written.")
@_size_options(
    "Longest line or record read, with the same units; a longer one is skipped "
    "with --lenient and stops the conversion otherwise."
)
def convert(
    audit_inputs: tuple[str, ...],
    signin_inputs: tuple[str, ...],
    out_dir: Path,
    lenient: bool,
    dayfirst: bool,
    monthfirst: bool,
    verbose: int,
    quiet: bool,
    debug: bool,
    max_decompressed_bytes: int,
    max_record_bytes: int,
) -> None:
    """Write exports as Parquet tables partitioned by date, for data lakes and
    repeated hunts; h056 hunt reads the folder like any export.

    \b
    Examples:
      h056 convert --audit audit/ --signin signins/ --out lake/h056
      h056 hunt --audit lake/h056 --format jsonl
    """
    configure_logging(verbose, quiet, debug)
    if not audit_inputs and not signin_inputs:
        raise click.UsageError("give at least one --audit or --signin input")
    _warn_out_inside_input(out_dir, (*audit_inputs, *signin_inputs))
    options = LoadOptions(
        strict=not lenient,
        dayfirst=_date_order(dayfirst, monthfirst),
        max_decompressed_bytes=max_decompressed_bytes,
        max_record_bytes=max_record_bytes,
    )

    def work() -> int:
        def reject_empty(data: LoadedData) -> None:
            if lenient:
                _mark_unusable_inputs(data, audit_inputs, signin_inputs)
            _reject_empty_inputs(
                data,
                audit_inputs,
                signin_inputs,
                strict=not lenient,
                action="converted",
            )
            if lenient:
                _reject_nothing_usable(data, action="converted")

        # Imported here, because only this command converts.
        from h056hunt.convert import convert_logs

        result = convert_logs(
            list(audit_inputs),
            list(signin_inputs),
            out_dir,
            options,
            check=reject_empty,
        )
        rows = ", ".join(
            str(Counted(count, _CONVERTED_ROW_NOUNS.get(table, f"{table} row")))
            for table, count in result.rows.items()
        )
        if not quiet:
            click.echo(f"wrote {out_dir}: {rows}", err=True)
        return ExitCode.OK

    sys.exit(_run(work, debug))


@contextlib.contextmanager
def _progress(console: Console, quiet: bool) -> Iterator[ProgressCallback | None]:
    """Show files and megabytes read on stderr while loading, on a terminal only."""
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (
        SpinnerColumn(),
        # File names come from the input: shown as plain text, never as markup.
        TextColumn("loading {task.fields[name]}", markup=False),
        TextColumn("{task.completed} files, {task.fields[megabytes]:.0f} MB"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("load", total=None, name="inputs", megabytes=0.0)
        read_bytes = 0

        def advance(input_file: InputFile, records: int) -> None:
            nonlocal read_bytes
            with contextlib.suppress(OSError):
                read_bytes += input_file.path.stat().st_size
            bar.update(
                task,
                advance=1,
                name=plain(input_file.path.name),
                megabytes=read_bytes / 1e6,
            )

        yield advance


def _date_order(dayfirst: bool, monthfirst: bool) -> bool | None:
    """Return the date order the flags ask for, None when neither is given.

    Raises:
        click.UsageError: both flags are given.
    """
    if dayfirst and monthfirst:
        raise click.UsageError("--dayfirst and --monthfirst cannot be used together")
    if dayfirst:
        return True
    return False if monthfirst else None


def _stderr_width() -> int | None:
    """Use the terminal's width or ``COLUMNS``; files and pipes get 200 columns."""
    # sys.stderr is None when file descriptor 2 was closed before the start.
    on_terminal = sys.stderr is not None and sys.stderr.isatty()
    if on_terminal or os.environ.get("COLUMNS", "").isdigit():
        return None
    return 200


def _stdout_file(on_terminal: bool) -> TextIO:
    """Return stdout, or stdout without trailing spaces when it is no terminal."""
    if on_terminal:
        return sys.stdout
    return cast(TextIO, TrimmedStream(sys.stdout))


def _stderr_file() -> TextIO | None:
    """Return stderr without trailing spaces when it is no terminal, else None.

    None lets rich use ``sys.stderr`` as it is.
    """
    if sys.stderr is None or sys.stderr.isatty():
        return None
    return cast(TextIO, TrimmedStream(sys.stderr))


def _warn_out_inside_input(out_dir: Path, inputs: tuple[str, ...]) -> None:
    """Warn when the ``--out`` folder of ``h056 convert`` is inside an input folder,
    because a later hunt of that folder skips the convert folder's files."""
    folder = _input_folder_around(out_dir, inputs)
    if folder is not None:
        logger.warning(
            "--out %s is inside the input folder %s, so a later hunt of that "
            "folder skips the convert folder with a warning; hunt the convert "
            "folder by giving it to --audit, or write it outside the input folder",
            quote_names([str(out_dir)]),
            quote_names([folder]),
        )
        return
    pattern = _glob_input_reaching(out_dir, inputs, contents=True)
    if pattern is not None:
        logger.warning(
            "--out %s would be read by the glob pattern %s, so a later hunt with "
            "that pattern skips the convert folder with a warning; hunt the "
            "convert folder by giving it to --audit, or write it where the "
            "pattern does not match",
            quote_names([str(out_dir)]),
            quote_names([pattern]),
        )


def _input_folder_around(path: Path, inputs: tuple[str, ...]) -> str | None:
    """Return the first input value that is a folder containing ``path``, if any.

    A ``file:`` URI counts as its local path. Other URIs are passed over.
    """
    target = path.resolve()
    for item in dict.fromkeys(inputs):
        local = _local_input(item)
        if local is None:
            continue
        folder = Path(local)
        if folder.is_dir() and target.is_relative_to(folder.resolve()):
            return item
    return None


def _local_input(item: str) -> str | None:
    """Return the local path that an input value names, or None for a URI of a
    scheme other than ``file:``, whose files cannot be checked here."""
    if is_uri(item):
        return file_uri_path(item)
    return item


def _glob_input_reaching(
    path: Path, inputs: tuple[str, ...], *, contents: bool = False
) -> str | None:
    """Return the first glob pattern among the inputs that would read ``path``
    (see :func:`~h056hunt.sources.glob_reaches`), if any. A ``file:`` URI
    counts as its local path."""
    for item in dict.fromkeys(inputs):
        local = _local_input(item)
        if local is None:
            continue
        if not Path(local).exists() and glob_reaches(local, path, contents=contents):
            return item
    return None


def _check_output_place(output: Path) -> None:
    """Reject an ``--output`` path that names a folder or whose folder is missing.

    Raises:
        click.BadParameter: the path is a folder, or its folder is a file or
            does not exist.
        OSError: the system cannot look the path up.
    """
    if output.is_dir():
        # click's own check passes an empty name, which pathlib reads as ".".
        name = "an empty name" if str(output) == "." else repr(str(output))
        raise click.BadParameter(
            f"{name} names a folder; give a file name, such as findings.jsonl",
            param_hint="--output",
        )
    folder = output.resolve().parent
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(
            f"{str(folder)!r} is a file, not a folder; choose another path",
            param_hint="--output",
        )
    if not folder.is_dir():
        raise click.BadParameter(
            f"folder {str(folder)!r} does not exist; create it or choose another path",
            param_hint="--output",
        )


def _check_output(output: Path | None, inputs: tuple[str, ...]) -> None:
    """Reject an ``--output`` path that cannot be written or would replace an input,
    and warn when it is inside an input folder.

    Raises:
        click.BadParameter: the folder does not exist, the path is a folder or an
            input file, or its name starts with an extension, ends in ``.gz``
            more than once or names compression other than gzip.
    """
    if output is None:
        return
    _check_output_name(output)
    extension = unwritable_compression(output)
    if extension is not None:
        raise click.BadParameter(
            f"{str(output)!r} ends in {plain(extension)}, but findings are "
            "written as text or gzip, so the file would not open as that format; "
            "name it .gz, or give a name without a compression extension",
            param_hint="--output",
        )
    try:
        _check_output_place(output)
    except OSError as error:
        # Such as a name in the path that is longer than the file system allows.
        raise click.BadParameter(
            f"{str(output)!r} cannot be checked: {error.strerror or error}; "
            "choose a path whose names fit the file system's limits",
            param_hint="--output",
        ) from error
    # A file: URI is checked as its local path. Other URIs cannot be.
    local_inputs = [local for local in map(_local_input, inputs) if local is not None]
    try:
        expansion = expand_inputs(local_inputs)
    except H056Error:
        return
    target = output.resolve()
    for input_file in expansion.files:
        if input_file.path == target:
            raise click.BadParameter(
                f"{str(output)!r} is also an input file; writing findings "
                "there would replace the export",
                param_hint="--output",
            )
    around = _input_folder_around(output, inputs)
    if around is not None:
        # quote_names() quotes a path without cutting it, unlike %r.
        logger.warning(
            "--output %s is inside the input folder %s, so a later hunt of that "
            "folder skips the findings file with a warning and counts it as one "
            "skipped record; write them outside the folder",
            quote_names([str(output)]),
            quote_names([around]),
        )
        return
    pattern = _glob_input_reaching(output, inputs)
    if pattern is not None:
        logger.warning(
            "--output %s would be read by the glob pattern %s, so a later hunt "
            "with that pattern skips the findings file with a warning and counts "
            "it as one skipped record; write them where the pattern does not match",
            quote_names([str(output)]),
            quote_names([pattern]),
        )


def _check_output_name(output: Path) -> None:
    """Reject an ``--output`` name that starts with an extension or ends in ``.gz``
    more than once, because the file's content would not match its name.

    Raises:
        click.BadParameter: the name is such a name.
    """
    if names_only_extension(output):
        raise click.BadParameter(
            f"{str(output)!r} has no file name before its extension, so it would "
            "be written as a hidden file whose name has no extension; give a "
            "file name before the extension, such as "
            f"{str(_accepted_output_name(output))!r}",
            param_hint="--output",
        )
    if repeated_gzip(output):
        raise click.BadParameter(
            f"{str(output)!r} ends in {GZIP_EXTENSION} more than once, but findings "
            "are compressed only once, so one decompression would leave gzip data "
            f"in place of the output; name it {str(_accepted_output_name(output))!r}",
            param_hint="--output",
        )


def _accepted_output_name(output: Path) -> Path:
    """Return a name close to ``output`` that every ``--output`` name check accepts.

    A suggestion must pass all checks, because ``x.tar.gz.gz`` cut to ``x.tar.gz``
    would only be rejected again for naming an archive.
    """
    # A suggestion made from a name with no file name, or with an archive
    # extension cut, gets .jsonl so that it names a format, not the table.
    add_format = names_only_extension(output)
    if add_format:
        output = output.with_name("findings" + output.name)
    while repeated_gzip(output):
        output = output.with_suffix("")
    while unwritable_compression(output) is not None:
        gzip_suffix = output.suffix if is_gzip_output(output) else ""
        # The archive extension is the last suffix once ``.gz`` is cut, so one
        # more cut removes it.
        base = output.with_suffix("") if gzip_suffix else output
        output = base.with_suffix("")
        output = output.with_name(output.name + gzip_suffix)
        add_format = True
    if add_format and names_other_file_type(output):
        if is_gzip_output(output):
            stem = output.with_suffix("")
            output = stem.with_name(stem.name + ".jsonl" + output.suffix)
        else:
            output = output.with_name(output.name + ".jsonl")
    return output


def _config_file(config: HuntConfig) -> Path | None:
    """Return the path of the config file whose settings apply, or None."""
    return Path(config.source) if config.source else None


def _read_config(config_path: Path | None) -> HuntConfig:
    """Find and read the config file, and log at info level which one applies.

    Raises:
        ConfigError: the file cannot be read or has an invalid value.
    """
    config_file = find_config_file(config_path)
    if config_file is not None:
        logger.info("using settings from %s", plain(str(config_file)))
    else:
        logger.info(
            "no config file found (--config, $H056_CONFIG, ./h056.toml, %s), "
            "so the built-in settings apply",
            plain(str(user_config_file())),
        )
    return load_config(config_file)


def _choose_format(output_format: str | None, output: Path | None) -> str:
    """Return the format given with --format, else the one that the --output
    file's extension names, else table.

    A --format that does not suit the extension still wins, with a warning.
    """
    if output_format is None:
        named = None if output is None else format_for_extension(output)
        if named is None:
            if output is not None and names_other_file_type(output):
                _warn_no_format(output)
            return "table"
        logger.info(
            "writing %s output, the format that the extension of %s names",
            named,
            quote_names([str(output)]),
        )
        return named
    if output is not None and not extension_fits(output_format, output):
        logger.warning(
            "--output %s has the extension of %s output, but --format %s was "
            "given, so %s output is written to it",
            quote_names([str(output)]),
            format_for_extension(output),
            output_format,
            output_format,
        )
    return output_format


def _warn_no_format(output: Path) -> None:
    """Warn that the ``--output`` name names no format, so the table is written."""
    extensions = ", ".join(EXTENSION_FORMATS)
    extension = format_extension(output)
    if extension:
        logger.warning(
            "--output %s: the extension %r names no output format, so the table "
            "format is written as text; give --format, or end the name in %s, or "
            "in .txt for the table",
            quote_names([str(output)]),
            extension,
            extensions,
        )
        return
    logger.warning(
        "--output %s: the name has no extension that names an output format, so "
        "the table format is written as text; give --format, or end the name in "
        "%s, or in .txt for the table",
        quote_names([str(output)]),
        extensions,
    )


def _check_activity_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Reject an activity name that folds to nothing, such as '' or '-'.

    Raises:
        click.BadParameter: such a name was given.
    """
    for name in names:
        if not normalise_activity(name):
            raise click.BadParameter(
                f"{name!r} has no letters or digits besides the articles a, an and "
                "the, which names are compared without, so it would match every "
                "audit record without an activity name",
                param_hint="--revocation-activity",
            )
    return names


# Formats that write every time in UTC, whatever --tz is.
_UTC_FORMATS = frozenset({"jsonl", "json", "csv", "timesketch"})


def _warn_unused_options(
    chosen_format: str, *, details: bool, tz: tzinfo | None, engine: str
) -> None:
    """Warn about options that the chosen format or engine does not use.

    An option that changes nothing would otherwise look as if it had worked.
    """
    context = click.get_current_context()
    if details and chosen_format != "table":
        logger.warning(
            "--details changes only the table format; --format %s is unchanged",
            chosen_format,
        )
    if tz is not None and chosen_format in _UTC_FORMATS:
        logger.warning(
            "--tz changes only the table, markdown and html formats; --format %s "
            "writes every time in UTC",
            chosen_format,
        )
    if engine != "spark":
        for name, option in (
            ("spark_master", "--spark-master"),
            ("spark_settings", "--spark-conf"),
        ):
            if context.get_parameter_source(name) == ParameterSource.COMMANDLINE:
                logger.warning("%s applies only with --engine spark", option)


def _reject_empty_inputs(
    data: LoadedData,
    audit_inputs: tuple[str, ...],
    signin_inputs: tuple[str, ...],
    *,
    strict: bool = True,
    action: str = "hunted",
) -> None:
    """Fail when an input option's files hold no record at all, or in strict mode
    no record that was not skipped.

    A hunt over an empty or header-only export would look clean while nothing was
    looked at. A lenient run keeps going, because :func:`_mark_unusable_inputs`
    marks such files partial, so its outputs carry the partial-input notice.

    Raises:
        UsageError: ``--audit`` or ``--signin`` files held no records.
    """
    for option, reports in _reports_by_option(data, audit_inputs, signin_inputs):
        if sum(r.records_seen for r in reports) == 0:
            # A file that failed part-way, such as a cut gzip stream, is named with
            # its fault rather than counted as empty.
            failed = [report for report in reports if report.error]
            empty = [report.quoted_path for report in reports if not report.error]
            parts: list[str] = []
            if empty:
                parts.append(f"empty or header-only: {name_paths(empty)}")
            # Each error stays a MessageText, so the input values it quotes are
            # cut on the terminal as in the error itself.
            parts += [report.error for report in failed if report.error]
            joined: list[str] = []
            for index, part in enumerate(parts):
                if index:
                    joined.append("; ")
                joined.append(part)
            raise UsageError(
                MessageText(
                    f"the {option} inputs contain no records at all (",
                    *joined,
                    f"), so nothing was {action}",
                ),
                hint="check the export; it may have been cut off or filtered to "
                "nothing",
            )
        if strict and _usable_records(reports) == 0:
            # Every record was skipped, as for a file that is not a log export:
            # a clean result would describe data that was never looked at.
            reasons: Counter[str] = Counter()
            for report in reports:
                reasons.update(report.skipped)
            names = name_paths([report.quoted_path for report in reports])
            # The message names the reasons itself: convert and --quiet print no
            # run summary. A reason stays a MessageText when it has one, so a
            # field value in it is cut on the terminal.
            listed: list[str] = []
            for index, (reason, _) in enumerate(reasons.most_common(2)):
                if index:
                    listed.append("; ")
                listed.append(reason)
            more = len(reasons) - 2
            if more > 0:
                listed.append(f"; {more} more")
            # A reason often ends in its own brackets, so it follows a label
            # rather than going in brackets itself.
            label = "Reason" if len(reasons) == 1 else "Reasons"
            raise UsageError(
                MessageText(
                    f"the {option} inputs contain no usable record: "
                    f"{_describe_all_skipped(reasons.total(), names)}, so nothing "
                    f"was {action}. {label}: ",
                    *listed,
                ),
                hint=_hint_with_skip_advice(
                    reports, "check that the files are the exports you meant to give"
                ),
            )


def _mark_unusable_inputs(
    data: LoadedData, audit_inputs: tuple[str, ...], signin_inputs: tuple[str, ...]
) -> None:
    """Mark the files of an input option partial when none of their records was
    usable, and warn.

    In a lenient run, a file that is not a log export is skipped with its reason.
    Without the mark, a run with no usable sign-in would report a complete result.
    """
    for option, reports in _reports_by_option(data, audit_inputs, signin_inputs):
        if not _all_skipped(reports):
            continue
        for report in reports:
            report.partial = True
        logger.warning(
            "the %s inputs contain no usable record: %s, so the result covers "
            "none of them",
            option,
            ProgramText(
                _describe_all_skipped(
                    sum(sum(r.skipped.values()) for r in reports),
                    name_paths([report.quoted_path for report in reports]),
                )
            ),
        )


def _all_skipped(reports: list[FileReport]) -> bool:
    """Tell whether files held records and every one of them was skipped."""
    return sum(r.records_seen for r in reports) > 0 and _usable_records(reports) == 0


def _reject_nothing_usable(data: LoadedData, *, action: str = "hunted") -> None:
    """Fail a lenient run in which no input held one usable record.

    Such a run looked at nothing, so its exit status must not read as a verdict,
    as a CI job would take exit 0 for a clean result.

    Raises:
        UsageError: every record of every input was skipped, or no record was
            read because the inputs that hold any could not be read.
    """
    if data.unreadable and not any(report.records_seen for report in data.files):
        raise UsageError(
            ProgramText(
                "no record was read, because these inputs could not be read: "
                f"{quote_names([path for path, _ in data.unreadable])}, so nothing "
                f"was {action}"
            ),
            hint="give paths to readable files or folders; "
            + _see_warnings("why each path was not read"),
        )
    if not _all_skipped(data.files):
        return
    raise UsageError(
        "no input contains a usable record: "
        + _describe_all_skipped(
            sum(sum(r.skipped.values()) for r in data.files),
            name_paths([report.quoted_path for report in data.files]),
        )
        + f", so nothing was {action}",
        hint=_hint_with_skip_advice(data.files, _all_skipped_hint()),
    )


def _all_skipped_hint() -> str:
    """Return the hint of a run whose every record was skipped."""
    return "give Entra ID audit and sign-in exports; " + _see_warnings(
        "why records were skipped"
    )


def _see_warnings(subject: str) -> str:
    """Return where the warnings that give ``subject`` are.

    ``-q`` hides the warnings, so the text then explains how to see them instead
    of pointing above.
    """
    if logger.isEnabledFor(logging.WARNING):
        return f"the warnings above say {subject}"
    return f"rerun without -q to see the warnings that say {subject}"


def _hint_with_skip_advice(reports: list[FileReport], hint: str) -> str:
    """Return ``hint`` after the advice of the skip reasons of ``reports``.

    The warnings that give this advice are hidden by ``-q``, so the error that
    stops the run repeats it.
    """
    reasons = [reason for report in reports for reason in report.skipped]
    return "; ".join([*skip_advice(reasons), hint])


def _describe_all_skipped(count: int, names: str) -> str:
    """Return "all 3 records of NAMES were skipped", or its singular for one record."""
    if count == 1:
        return f"the only record of {names} was skipped"
    return f"all {count} records of {names} were skipped"


def _reject_missing_log(
    data: LoadedData, audit_inputs: tuple[str, ...], signin_inputs: tuple[str, ...]
) -> None:
    """Fail when ``--audit`` or ``--signin`` files were read but no input at all
    contains a record of that log.

    An audit export as the only ``--signin`` input, or an AuthDetails CSV without
    its sign-in download, leaves the hunt without one of its two logs. Only a
    coverage line would show it, while the exit status read as clean.
    Inputs given to the wrong option are fine, because each record goes to its own
    log. An input given to both options is checked for both logs, because a run
    without one of them cannot link a revocation to a prompt. A hunt of one log
    gives only the option of that log.

    Raises:
        UsageError: a log that an option asked for has no record.
    """
    for option, inputs, log, noun, effect in (
        (
            "--audit",
            audit_inputs,
            "audit",
            "an audit record",
            "no revocation can be found",
        ),
        (
            "--signin",
            signin_inputs,
            "signin",
            "a sign-in record",
            "no prompt can be found",
        ),
    ):
        if not inputs or not data.files:
            continue
        found = sum(
            report.loaded.get(log, 0) + report.prefiltered.get(log, 0)
            for report in data.files
        )
        if found:
            continue
        reports = _option_reports(data, log)
        holding = ""
        if reports:
            names = name_paths([report.quoted_path for report in reports])
            # Copies count, because a convert folder read with the exports it
            # came from can have every record dropped as a copy.
            contents: Counter[str] = Counter()
            for report in reports:
                contents.update(report.records_by_log)
            kinds = [
                _LOG_NOUNS[kind] for kind, count in sorted(contents.items()) if count
            ]
            if kinds:
                holding = f"; they hold {' and '.join(kinds)} only"
        else:
            # An option whose inputs could not be read at all has no reports, so
            # the inputs as given stand in for them.
            names = name_paths([repr(item) for item in inputs])
        raise UsageError(
            f"no input contains {noun}, so {effect}: the {option} inputs are "
            f"{names}{holding}",
            hint=_hint_with_skip_advice(
                reports,
                f"give the {log.replace('signin', 'sign-in')} log export with "
                f"{option}; an AuthDetails CSV goes with the sign-in CSV it "
                "belongs to",
            ),
        )


def _warn_missing_log(
    data: LoadedData, audit_inputs: tuple[str, ...], signin_inputs: tuple[str, ...]
) -> None:
    """Warn where a strict run would stop for a missing log; a lenient run goes on.

    An option whose records were all skipped already got the warning of
    :func:`_mark_unusable_inputs`, so it is not checked again.
    """
    unusable = {
        option
        for option, reports in _reports_by_option(data, audit_inputs, signin_inputs)
        if _all_skipped(reports)
    }
    try:
        _reject_missing_log(
            data,
            () if "--audit" in unusable else audit_inputs,
            () if "--signin" in unusable else signin_inputs,
        )
    except UsageError as error:
        logger.warning("%s", error)


def _option_reports(data: LoadedData, log: str) -> list[FileReport]:
    """Return the reports of the files that the option of ``log`` named.

    A file given to both options is read once and a convert folder reports the
    files it was converted from, so each report's ``given_options`` lists the
    options that named it.
    """
    return [report for report in data.files if log in report.given_options]


# The nouns of the run summary for the rows of each Parquet table that convert
# writes, so the line it prints reads like the summary of a hunt.
_CONVERTED_ROW_NOUNS = {
    "audit": "audit row",
    "signin": "sign-in row",
    "steps": "authentication step row",
}

_LOG_NOUNS = {
    "audit": "audit records",
    "signin": "sign-in records",
    "steps": "authentication step rows",
}


def _reports_by_option(
    data: LoadedData, audit_inputs: tuple[str, ...], signin_inputs: tuple[str, ...]
) -> Iterator[tuple[str, list[FileReport]]]:
    """Yield each input option that was given and read, with its file reports."""
    for option, inputs, log in (
        ("--audit", audit_inputs, "audit"),
        ("--signin", signin_inputs, "signin"),
    ):
        reports = [report for report in data.files if report.requested_log == log]
        if inputs and reports:
            yield option, reports


def _usable_records(reports: list[FileReport]) -> int:
    """Count the records that were loaded, duplicates or pre-filtered."""
    return sum(
        sum(r.loaded.values()) + r.duplicates + sum(r.prefiltered.values())
        for r in reports
    )


# Purview Unified Audit Log shapes, whose sign-ins never carry steps.
UAL_SHAPES = frozenset({SHAPE_UAL_CSV, SHAPE_UAL_JSON})


def _warn_missing_auth_details(data: LoadedData) -> None:
    """Warn about portal sign-in downloads given without their AuthDetails file,
    and about Purview sign-ins, which have no steps at all.

    The portal writes the authentication steps to a separate file, so without it a
    denial recorded only in a step is not seen, and the result looks complete.
    """
    purview = [
        report.quoted_path
        for report in data.files
        if report.shape in UAL_SHAPES and report.loaded.get("signin")
    ]
    if purview:
        logger.warning(
            "%s: Purview audit log sign-ins carry no authentication steps and no "
            "MFA result text, so a denied prompt counts by its error number alone, "
            "without its outcome, and one recorded only in a step is not seen; an "
            "Entra sign-in export of the same span has both",
            ProgramText(name_paths(purview)),
        )
    portal = [
        report
        for report in data.files
        if report.shape == PORTAL_SIGNIN_SHAPE and report.loaded.get("signin")
    ]
    if not portal:
        return
    stepped = files_with_steps(data.signin, data.steps)
    alone = [report.quoted_path for report in portal if report.path not in stepped]
    if alone:
        logger.warning(
            "%s: portal sign-in download without its AuthDetails file, so denials "
            "recorded only in authentication steps are not seen; give the "
            "AuthDetails CSV of the same download too",
            ProgramText(name_paths(alone)),
        )


def _write_output(output: Path | None, write: Callable[[TextIO, bool], None]) -> None:
    """Write to stdout, or to a temporary file renamed over ``output`` when complete.

    Raises:
        UsageError: stdout is closed, or writing failed, as on a full disk.
    """
    try:
        _write_findings(output, write)
    except BrokenPipeError:
        raise
    except OSError as error:
        target = "standard output" if output is None else repr(str(output))
        raise UsageError(
            f"writing the findings to {target} failed: {error}",
            hint="free space on its disk, or write them elsewhere with --output FILE",
        ) from error


def _write_findings(output: Path | None, write: Callable[[TextIO, bool], None]) -> None:
    if output is None:
        if sys.stdout is None:
            # Python sets sys.stdout to None when file descriptor 1 is closed.
            raise UsageError(
                "standard output is closed, so the findings cannot be written",
                hint="write them to a file with --output FILE",
            )
        write(sys.stdout, sys.stdout.isatty())
        sys.stdout.flush()
        return
    if output.exists() and not output.is_file():
        # A device, pipe or socket such as /dev/null is written in place: renaming
        # a file over it would replace the device node for everyone.
        with output.open("wb") as raw, _text_stream(raw, output) as stream:
            write(stream, False)
        return
    directory = output.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    try:
        with open(handle, "wb") as raw, _text_stream(raw, output) as stream:
            write(stream, False)
        # mkstemp creates the file for its owner only; give it the usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _text_stream(raw: BinaryIO, output: Path) -> Iterator[TextIO]:
    """Yield a UTF-8 text stream over ``raw``, gzip-compressed when ``output``'s
    name ends in ``.gz``.

    The gzip header stores no file name and a zero modification time, so the same
    findings give the same bytes, as the other outputs do.
    """
    if not is_gzip_output(output):
        with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as stream:
            yield stream
        return
    # Closing the text stream closes the GzipFile, which writes the trailer but
    # leaves ``raw`` open for its owner.
    with io.TextIOWrapper(
        gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0),
        encoding="utf-8",
        newline="\n",
    ) as stream:
        yield stream


class _PhaseClock:
    """Log at debug level how long each phase of a run took, for tuning."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def mark(self, phase: str) -> None:
        """Log the time since the previous mark and this process's peak memory."""
        now = time.perf_counter()
        # ru_maxrss is in bytes on macOS and in KiB elsewhere. The scan workers'
        # peaks are not included.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if sys.platform == "darwin":
            peak /= 1024
        logger.debug(
            "%s took %.2f s; peak memory of this process so far %.0f MiB",
            phase,
            now - self._last,
            peak,
        )
        self._last = now


def _discard_stdout() -> None:
    """Point standard output at the null device after its reader went away, so
    the flush at exit raises no second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _run(work: Callable[[], int], debug: bool, *, writes_output: bool = True) -> int:
    """Run a command's work and map what it raises to a message and an exit code.

    ``writes_output`` is True when the command was given an output to write. The
    message after a Ctrl-C then states that it was not written.

    Input and usage errors, Ctrl-C and a closed stdout end with a one-line message
    (none for the pipe). Any other exception is a bug: its type and message are
    logged, and the traceback is shown only with ``--debug``. Under the console
    script, a Ctrl-C after the work ends the process at once with the exit code.
    """
    status = _run_work(work, debug, writes_output)
    if "pyspark" not in sys.modules:
        # Spark's exit handlers must still stop its JVM.
        interrupts.keep_status_on_interrupt(status)
    return status


def _run_work(work: Callable[[], int], debug: bool, writes_output: bool) -> int:
    try:
        # Until here the console script ends the process at once on Ctrl-C.
        interrupts.raise_on_interrupt()
        return work()
    except H056Error as error:
        if debug:
            logger.exception("run failed")
        logger.error("%s", error)
        return ExitCode.INPUT_ERROR
    except KeyboardInterrupt:
        # Workers that wait for tasks would keep the process from ending.
        interrupts.stop_workers()
        logger.error(
            "interrupted before the run finished, so %sanything printed so far is "
            "incomplete",
            "no --output file was written and " if writes_output else "",
        )
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()
        return ExitCode.OK
    except Exception as error:
        if debug:
            logger.exception("internal error")
        else:
            logger.error(
                "internal error: %s: %s; rerun with --debug for the traceback and "
                "please report it",
                type(error).__name__,
                error,
            )
        return ExitCode.INTERNAL_ERROR


def run() -> NoReturn:
    """Run the ``h056`` command, then end the process without the interpreter's
    teardown.

    Freeing pandas and pyarrow at exit took 0.1 s to 0.4 s on the benchmark
    machine, more than writing a hunt's output. Exit handlers still run and both
    streams are flushed first. A run that started Spark, or runs under a profiler,
    a coverage tracer or a debugger, ends the normal way, so their own handlers
    shut down the JVM gateway or write their reports.
    """
    # Every object made while importing lives until the end. Frozen, the collector
    # no longer walks them on each full collection of a hunt.
    gc.freeze()
    try:
        main()
        status: object = 0
    except SystemExit as stop:
        status = stop.code
    if "pyspark" in sys.modules or sys.getprofile() or sys.gettrace():
        # A profiler, a coverage tracer or a debugger writes its report at exit.
        sys.exit(status)  # type: ignore[arg-type]
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        # sys.exit with a message prints it and ends with status 1.
        print(status, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream has nothing left to flush. A stream is None when
        # its file descriptor was closed before the process started.
        if stream is None:
            continue
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
