"""Write loaded exports as Parquet tables partitioned by date: ``h056 convert``.

The local engine, the Spark engine and any lake query can read the result without
parsing JSON or CSV again. :mod:`h056hunt.loaders.parquet` describes the layout and
reads it back. The folder appears complete or not at all: the tables and the
manifest are written to a hidden sibling folder, which is then renamed.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from h056hunt import __version__
from h056hunt.errors import InputValue, MessageText, UsageError
from h056hunt.load import LoadedData, LoadOptions, ProgressCallback, load_logs
from h056hunt.loaders.parquet import (
    MANIFEST_NAME,
    NULL_PARTITION,
    PARTITION_COLUMN,
    TABLES,
    manifest_text,
    stored_input_path,
    with_input_paths,
)
from h056hunt.output_folder import (
    check_output_folder,
    missing_folders,
    remove_created,
)

logger = logging.getLogger(__name__)

PART_FILE_NAME = "part-0.parquet"


@dataclass(frozen=True)
class ConvertResult:
    """The result of ``h056 convert``: the folder, rows and partitions written.

    Attributes:
        data: the loaded frames and the accounting of every input file.
        out_dir: the convert folder.
        rows: rows written per table.
        partitions: partition files written per table, relative to ``out_dir``.
    """

    data: LoadedData
    out_dir: Path
    rows: dict[str, int]
    partitions: dict[str, list[str]]


def convert_logs(
    audit_inputs: list[str],
    signin_inputs: list[str],
    out_dir: Path,
    options: LoadOptions | None = None,
    progress: ProgressCallback | None = None,
    check: Callable[[LoadedData], None] | None = None,
) -> ConvertResult:
    """Load exports like ``h056 hunt`` does and write them to ``out_dir``.

    ``check`` is called with the loaded data before anything is written, and may
    raise to stop the conversion.

    Raises:
        UsageError: ``out_dir`` exists and is not an empty folder, or an input
            matches nothing.
        InputError: strict mode and an input is malformed.
    """
    check_output_folder(out_dir, "convert")
    # The fast path leaves records undecoded until a hunt asks for them; a convert
    # folder must hold every record.
    options = replace(options or LoadOptions(), fast_path=False)
    data = load_logs(audit_inputs, signin_inputs, options, progress=progress)
    if check is not None:
        check(data)
    rows, partitions = write_converted(data, out_dir)
    return ConvertResult(data=data, out_dir=out_dir, rows=rows, partitions=partitions)


def write_converted(
    data: LoadedData, out_dir: Path
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Write the canonical frames and the manifest of ``data`` to ``out_dir``.

    Returns:
        Rows and partition files written per table.

    Raises:
        UsageError: ``out_dir`` exists and is not an empty folder, or writing the
            tables failed, as on a full disk.
    """
    check_output_folder(out_dir, "convert")
    parent = out_dir.absolute().parent
    # The folders above out_dir that this run creates, removed again when it fails.
    created = missing_folders(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    except OSError as error:
        remove_created([], created)
        raise UsageError(
            MessageText(
                InputValue(str(out_dir), quoted=False, cut=False),
                f": the output folder cannot be created: {error.strerror or error}",
            ),
            hint="name a folder on a writable disk",
        ) from error
    try:
        # mkdtemp makes the folder readable by its owner only; the folder that
        # replaces out_dir gets the usual mode, as its subfolders do.
        staging.chmod(0o777 & ~_umask())
        stored = _with_stored_paths(data)
        frames = {
            "audit": stored.audit,
            "signin": stored.signin,
            "steps": stored.steps,
        }
        rows = {log: len(frame) for log, frame in frames.items()}
        partitions = {log: _write_table(staging, log, frames[log]) for log in TABLES}
        text = manifest_text(partitions, rows, stored, f"h056hunt {__version__}")
        (staging / MANIFEST_NAME).write_text(text, encoding="utf-8")
        if out_dir.is_dir():
            out_dir.rmdir()
        os.replace(staging, out_dir)
    except OSError as error:
        # pyarrow 26.0.1 reports a full disk as an OSError too, with errno set.
        shutil.rmtree(staging, ignore_errors=True)
        remove_created([], created)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            hint = "free space on that disk, or name a folder on a larger disk"
        else:
            hint = "name a folder on a writable disk"
        raise UsageError(
            MessageText(
                InputValue(str(out_dir), quoted=False, cut=False),
                f": writing the Parquet tables failed: {error.strerror or error}",
            ),
            hint=hint,
        ) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_created([], created)
        raise
    return rows, partitions


def _with_stored_paths(data: LoadedData) -> LoadedData:
    """Return a copy of ``data`` that names each input file by the absolute path
    that the manifest and the tables store.

    A path relative to the directory where convert ran would name another file, or
    none, in a hunt run from elsewhere. ``data`` itself keeps the paths as given,
    which convert's own run summary prints.
    """
    paths = {report.path: stored_input_path(report.path) for report in data.files}
    return replace(
        data,
        audit=with_input_paths(data.audit, paths),
        signin=with_input_paths(data.signin, paths),
        steps=with_input_paths(data.steps, paths),
        files=[replace(report, path=paths[report.path]) for report in data.files],
        unreadable=[
            (stored_input_path(path), reason) for path, reason in data.unreadable
        ],
        conflicts=[
            replace(
                conflict,
                files=[paths.get(path, path) for path in conflict.files],
                kept_file=(
                    None
                    if conflict.kept_file is None
                    else paths.get(conflict.kept_file, conflict.kept_file)
                ),
            )
            for conflict in data.conflicts
        ],
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_table(root: Path, log: str, frame: pd.DataFrame) -> list[str]:
    """Write one frame as one Parquet file per UTC date of its time column."""
    arrow_schema, time_column = TABLES[log]
    if frame.empty:
        return []
    dates = frame[time_column].dt.strftime("%Y-%m-%d").fillna(NULL_PARTITION)
    written = []
    for date in sorted(dates.unique()):
        part = frame[(dates == date).to_numpy()]
        relative = f"{log}/{PARTITION_COLUMN}={date}/{PART_FILE_NAME}"
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(part, schema=arrow_schema, preserve_index=False)
        pq.write_table(table, target)
        written.append(relative)
    return written
