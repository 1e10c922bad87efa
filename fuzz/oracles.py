"""Run h056hunt on one fuzzed input and check what must hold for any input.

Each check writes the input to a file and raises :class:`Violation` when an invariant
breaks; any other exception that escapes is a crash. The invariants:

* loading raises nothing but :class:`~h056hunt.errors.H056Error`, and in lenient mode
  only for a file that cannot be read at all or whose dates are ambiguous;
* an input error names the file;
* for every file, records seen equal records loaded plus duplicates plus skipped;
* the streaming loader and the whole-text loader agree on valid UTF-8;
* the CLI exits 0, 1 or 2, never with a traceback or an internal error, writes no
  raw control or bidirectional character to a terminal format, and writes JSON
  that parses.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path

from click.testing import CliRunner

from h056hunt.cli import main
from h056hunt.errors import H056Error, InputError
from h056hunt.load import LoadedData, LoadOptions, load_logs
from h056hunt.loaders import registry
from h056hunt.loaders.sink import FileSink

# Small limits make the size checks reachable with small inputs.
MAX_RECORD_BYTES = 4096
MAX_DECOMPRESSED_BYTES = 1024 * 1024
# Faults that stop even a lenient hunt: nothing of the file can be used.
STOPPING_REASONS = frozenset({"unreadable", "ambiguous_date_order"})
FORMATS = ("table", "jsonl", "json", "csv", "markdown", "html", "timesketch")
JSON_FORMATS = frozenset({"jsonl", "json", "timesketch"})
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069\ufeff]"
)


class Violation(AssertionError):
    """An input broke an invariant that holds for every input."""


def write_input(folder: Path, data: bytes, name: str) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def check_load(data: bytes, name: str = "input.json") -> None:
    """Load ``data`` strictly and leniently and check the invariants of loading."""
    logging.disable(logging.CRITICAL)
    try:
        with tempfile.TemporaryDirectory(prefix="h056-fuzz-") as folder:
            path = write_input(Path(folder), data, name)
            for strict in (True, False):
                loaded = _load(path, strict=strict)
                if loaded is not None:
                    check_accounting(loaded)
            _check_stream_matches_text(path, data)
    finally:
        logging.disable(logging.NOTSET)


def _load(path: Path, *, strict: bool) -> LoadedData | None:
    options = LoadOptions(
        strict=strict,
        max_record_bytes=MAX_RECORD_BYTES,
        max_decompressed_bytes=MAX_DECOMPRESSED_BYTES,
    )
    try:
        return load_logs([str(path)], [str(path)], options)
    except InputError as error:
        if not strict and error.reason not in STOPPING_REASONS:
            raise Violation(f"lenient load raised {error.reason}: {error}") from error
        if path.name not in error.message and str(path) not in error.message:
            raise Violation(f"input error does not name the file: {error}") from error
        return None
    except H056Error:
        return None


def check_accounting(loaded: LoadedData) -> None:
    """Raise :class:`Violation` unless seen == loaded + duplicates + skipped."""
    for report in loaded.files:
        skipped = sum(report.skipped.values())
        total = report.loaded_total + report.duplicates + skipped
        if report.records_seen != total:
            raise Violation(
                f"{report.path}: {report.records_seen} records seen but "
                f"{report.loaded_total} loaded + {report.duplicates} duplicates + "
                f"{skipped} skipped = {total}"
            )
        if min(report.loaded.values(), default=0) < 0:
            raise Violation(f"{report.path}: negative loaded count {report.loaded}")


def _check_stream_matches_text(path: Path, data: bytes) -> None:
    """Compare the line-by-line loader with the whole-text loader on lenient runs.

    Only plain UTF-8 input qualifies: the two differ by design in where they report
    an invalid byte, and the whole-text loader does not decompress.
    """
    if data[:2] == b"\x1f\x8b" or b"\x00" in data:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    text = text.removeprefix("\ufeff")
    streamed = FileSink(path.name, "signin", None)
    whole = FileSink(path.name, "signin", None)
    outcomes = []
    for sink, load in (
        (
            streamed,
            lambda sink: registry.load_file(
                path,
                path.name,
                sink,
                strict=False,
                max_record_bytes=MAX_RECORD_BYTES,
            ),
        ),
        (
            whole,
            lambda sink: registry.load_text(
                text, sink, strict=False, max_record_bytes=MAX_RECORD_BYTES
            ),
        ),
    ):
        try:
            load(sink)
            outcomes.append(None)
        except InputError as error:
            outcomes.append(error.reason)
    streamed_report, whole_report = streamed.report, whole.report
    if outcomes[0] != outcomes[1]:
        raise Violation(f"stream raised {outcomes[0]}, text raised {outcomes[1]}")
    if streamed_report.records_seen != whole_report.records_seen:
        raise Violation(
            f"stream saw {streamed_report.records_seen} records, text saw "
            f"{whole_report.records_seen}"
        )
    if streamed_report.skipped != whole_report.skipped:
        raise Violation(
            f"stream skipped {dict(streamed_report.skipped)}, text skipped "
            f"{dict(whole_report.skipped)}"
        )


def check_cli(
    data: bytes, name: str = "input.json", output_format: str = "table"
) -> None:
    """Run ``h056 hunt --lenient`` on ``data`` and check exit code and output bytes."""
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        with tempfile.TemporaryDirectory(prefix="h056-fuzz-") as folder:
            path = write_input(Path(folder), data, name)
            result = CliRunner().invoke(
                main,
                [
                    "hunt",
                    "--lenient",
                    "--audit",
                    str(path),
                    "--signin",
                    str(path),
                    "--format",
                    output_format,
                    "--fail-on",
                    "none",
                    "--min-denials",
                    "2",
                    "--max-record-size",
                    str(MAX_RECORD_BYTES),
                    "--max-decompressed-size",
                    str(MAX_DECOMPRESSED_BYTES),
                ],
            )
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code not in (0, 2):
        raise Violation(f"exit code {result.exit_code}: {result.stderr[-2000:]}")
    if "Traceback" in result.stderr:
        raise Violation(f"traceback on stderr: {result.stderr[-2000:]}")
    _check_bytes(result.stderr_bytes, "stderr")
    if output_format in JSON_FORMATS:
        _check_json(result.stdout_bytes, output_format)
    else:
        _check_bytes(result.stdout_bytes, "stdout")


def _check_bytes(written: bytes, where: str) -> None:
    text = written.decode("utf-8")
    found = UNSAFE_CHARACTERS.findall(text)
    if found:
        raise Violation(
            f"{where} contains raw control characters {sorted(set(found))!r}"
        )


def _check_json(written: bytes, output_format: str) -> None:
    if not written.isascii():
        raise Violation(f"{output_format} output is not ASCII")
    for line in written.decode().splitlines():
        try:
            json.loads(line)
        except ValueError as error:
            raise Violation(
                f"{output_format} line is not JSON: {line[:200]}"
            ) from error
