"""Read the Parquet folders that ``h056 convert`` writes.

A convert folder holds one Parquet table per canonical frame, partitioned by the UTC
date of the frame's time column, and a manifest written last::

    DIR/_h056_manifest.json
    DIR/audit/date=2026-03-02/part-0.parquet
    DIR/signin/date=2026-03-02/part-0.parquet
    DIR/steps/date=2026-03-02/part-0.parquet

The manifest's content marks the folder: its ``format`` and ``schema_version``, the
columns of each table, the partition files, and the accounting of the original input
files (records seen, loaded, duplicate and skipped per file). A folder whose manifest
names another format is read like any other folder of exports. Timestamps are stored
as Parquet ``TIMESTAMP(NANOS)`` in UTC, because Entra writes 7 fractional digits.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from h056hunt import schema
from h056hunt.errors import (
    InputError,
    InputValue,
    MessageText,
    ProgramText,
    quote_input,
)
from h056hunt.loaders import manifest_fields
from h056hunt.loaders.manifest_fields import ManifestFieldError
from h056hunt.loaders.sink import FileFrames, FileReport
from h056hunt.log_format import quote_names
from h056hunt.plurals import Counted
from h056hunt.sources import (
    MANIFEST_FORMAT,
    MAX_MANIFEST_BYTES,
    PARQUET_MANIFEST_NAME,
)

if TYPE_CHECKING:
    from h056hunt.conflict_log import ConflictWarnings
    from h056hunt.load import Conflict, LoadedData, LoadOptions, ProgressCallback

logger = logging.getLogger(__name__)

MANIFEST_NAME = PARQUET_MANIFEST_NAME
SCHEMA_VERSION = 1
# The partition value Hive, Spark and pyarrow use for a missing date.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PARTITION_COLUMN = "date"
# Each table with its canonical schema and the time column that sets its partition.
TABLES: dict[str, tuple[pa.Schema, str]] = {
    "audit": (schema.AUDIT_SCHEMA, "event_time"),
    "signin": (schema.SIGNIN_SCHEMA, "event_time"),
    "steps": (schema.STEP_SCHEMA, "step_time"),
}
# The decoder of each FileReport field that report_record writes.
_REPORT_FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "path": manifest_fields.text,
    "requested_log": manifest_fields.log_name,
    "shapes": manifest_fields.counter,
    "records_seen": manifest_fields.count,
    "loaded": manifest_fields.counter,
    "duplicates": manifest_fields.count,
    "skipped": manifest_fields.counter,
    "partial": manifest_fields.flag,
    "error": manifest_fields.optional_text,
    "time_min": manifest_fields.timestamps,
    "time_max": manifest_fields.timestamps,
    "present_columns": manifest_fields.column_sets,
    "prefiltered": manifest_fields.counter,
    "time_ranges": manifest_fields.time_ranges,
    "step_rows": manifest_fields.count,
    "denial_step_times_unreadable": manifest_fields.count,
    "converted_in": manifest_fields.optional_text,
    "in_convert_folder": manifest_fields.optional_text,
    "given_to": manifest_fields.log_names,
    "duplicates_by_log": manifest_fields.counter,
}
_REQUIRED_REPORT_FIELDS = ("path", "requested_log")


@dataclass(frozen=True)
class Manifest:
    """The content of one convert folder's manifest.

    Attributes:
        root: the folder, as the user named it.
        input_paths: each original file's path as the manifest stores it, mapped to
            the path that messages name (see :func:`shown_input_path`).
        partitions: per table, the partition files relative to ``root``.
        rows: per table, the row count the writer recorded.
        files: the accounting of the input files that were converted.
        unreadable: inputs the conversion could not read, with the reason.
        conflicts: record ids whose copies differed, as written by the converter.
    """

    root: str
    input_paths: dict[str, str]
    partitions: dict[str, list[str]]
    rows: dict[str, int]
    files: list[FileReport]
    unreadable: list[tuple[str, str]]
    conflicts: list[dict[str, Any]]


def stored_input_path(path: str) -> str:
    """Return an input file's path as a manifest stores it: absolute, so that a
    hunt run from another directory names the file truthfully.

    ``os.path.abspath`` removes ``..`` without resolving symlinks, so the path keeps
    the names the user gave. A ``..`` after a symlink in the given path can then
    name another file.
    """
    return os.path.abspath(path)


def shown_input_path(stored: str) -> str:
    """Return a manifest's input file path as messages name it: relative to the
    current directory when it lies under it, else as stored.

    Manifests written before paths were stored absolute hold each path as it was
    given to ``h056 convert``, relative to a directory they do not record, so such
    a path is shown as stored.
    """
    path = Path(stored)
    if not path.is_absolute():
        return stored
    try:
        return str(path.relative_to(os.getcwd()))
    except ValueError:
        return stored


def with_input_paths(frame: pd.DataFrame, paths: dict[str, str]) -> pd.DataFrame:
    """Return ``frame`` with each ``source_file`` value that ``paths`` maps
    replaced, keeping the column's dtype."""
    if frame.empty or not paths:
        return frame
    column = frame["source_file"]
    mapping = {value: paths.get(value, value) for value in column.dropna().unique()}
    return frame.assign(source_file=column.map(mapping).astype(column.dtype))


def columns_record(arrow_schema: pa.Schema) -> list[list[str]]:
    """Return a schema's columns as ``[name, type]`` pairs for the manifest."""
    return [[field.name, str(field.type)] for field in arrow_schema]


def manifest_text(
    partitions: dict[str, list[str]],
    rows: dict[str, int],
    data: LoadedData,
    writer: str,
) -> str:
    """Return the manifest of a convert folder as JSON text."""
    document = {
        "format": MANIFEST_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "writer": writer,
        "tables": {
            log: {
                "time_column": time_column,
                "columns": columns_record(arrow_schema),
                "rows": rows[log],
                "partitions": partitions[log],
            }
            for log, (arrow_schema, time_column) in TABLES.items()
        },
        "files": [report_record(report) for report in data.files],
        "unreadable": [list(entry) for entry in data.unreadable],
        "conflicts": [
            {
                "log": conflict.log,
                "record_id": conflict.record_id,
                "columns": conflict.columns,
                "files": conflict.files,
                "kept_file": conflict.kept_file,
                "kept_record": conflict.kept_record,
            }
            for conflict in data.conflicts
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def report_record(report: FileReport) -> dict[str, Any]:
    """Return one file's accounting as a JSON-ready dict.

    Timestamps, sets and arrays are tagged (``$timestamp``, ``$set``, ``$array``)
    so :func:`report_from_record` restores their types.
    """
    return {item.name: _encode(getattr(report, item.name)) for item in fields(report)}


def report_from_record(record: Any, field: str = "report") -> FileReport:
    """Rebuild a :class:`FileReport` from :func:`report_record` output.

    Args:
        record: the decoded JSON object.
        field: where ``record`` sits in its document, for error messages.

    Raises:
        ManifestFieldError: a field is missing, of the wrong type, or out of range.
    """
    entries = manifest_fields.mapping(record, field)
    values: dict[str, Any] = {}
    for name, decode in _REPORT_FIELDS.items():
        if name in entries:
            values[name] = decode(entries[name], f"{field}.{name}")
        elif name in _REQUIRED_REPORT_FIELDS:
            raise manifest_fields.ManifestFieldError(field, f"missing field {name}")
    return FileReport(**values)


def _encode(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, set | frozenset):
        return {"$set": sorted(value)}
    if isinstance(value, np.ndarray):
        return {"$array": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in sorted(value.items())}
    if isinstance(value, np.generic):
        return value.item()
    return value


def parse_manifest(text: str, root: str) -> Manifest | None:
    """Read a manifest's JSON text; return None when it is not a convert manifest.

    Raises:
        InputError: the manifest names the convert format but a version this
            release does not read, columns that differ from the canonical schema,
            or a field that is missing, of the wrong type or out of range. A
            partition path that is absolute or leads out of the folder is invalid.
    """
    where = f"{root.rstrip('/')}/{MANIFEST_NAME}"
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        # A manifest cut off by a full disk or an interrupted copy no longer
        # names the convert format, which follows the long "files" list. Another
        # tool's file of this name is still valid JSON, which is how the two differ.
        problem = f"the manifest is not valid JSON: {error}"
        raise _damaged_manifest_error(problem, where) from error
    if not isinstance(document, dict):
        if json.dumps(MANIFEST_FORMAT) in text:
            problem = "the manifest is not a JSON object"
            raise _damaged_manifest_error(problem, where)
        return None
    if document.get("format") != MANIFEST_FORMAT:
        return None
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            where,
            quote_input(
                "convert folder of schema version {version}; this release reads "
                "version {supported}",
                version=version,
                supported=ProgramText(str(SCHEMA_VERSION)),
            ),
            reason="unsupported_schema_version",
            hint="run h056 convert again with this release, or use the release "
            "that wrote the folder",
        )
    try:
        return _manifest_from_document(document, root, where)
    except ManifestFieldError as error:
        raise InputError(
            where,
            # The field's path contains the manifest's keys, so it is cut as a
            # value is, but shown bare.
            MessageText(
                "invalid manifest field ",
                InputValue(error.field, quoted=False),
                ": ",
                error.problem,
            ),
            reason="invalid_manifest",
            hint="the manifest was changed or damaged after h056 convert wrote it; "
            "run h056 convert again",
        ) from error


def _damaged_manifest_error(problem: str, where: str) -> InputError:
    """Return the error for a manifest that was cut off or changed.

    Read as an export folder instead, the folder's manifest failed as a broken
    export and each Parquet file asked for the folder that the user had given.
    """
    return InputError(
        where,
        problem,
        reason="invalid_manifest",
        hint="the manifest was changed or damaged after h056 convert wrote it; "
        "run h056 convert again",
    )


def _manifest_from_document(
    document: dict[str, Any], root: str, where: str
) -> Manifest:
    tables = manifest_fields.mapping(document.get("tables"), "tables")
    partitions = {}
    rows = {}
    for log, (arrow_schema, _) in TABLES.items():
        field = f"tables.{log}"
        table = manifest_fields.mapping(tables.get(log), field)
        if table.get("columns") != columns_record(arrow_schema):
            raise InputError(
                where,
                f"the {log} table's columns differ from the canonical schema",
                reason="schema_mismatch",
                hint="run h056 convert again with this release",
            )
        listed = manifest_fields.array(table.get("partitions"), f"{field}.partitions")
        partitions[log] = [
            manifest_fields.relative_partition(item, f"{field}.partitions[{index}]")
            for index, item in enumerate(listed)
        ]
        rows[log] = manifest_fields.count(table.get("rows"), f"{field}.rows")
    files = manifest_fields.array(document.get("files", []), "files")
    unreadable = manifest_fields.array(document.get("unreadable", []), "unreadable")
    conflicts = manifest_fields.array(document.get("conflicts", []), "conflicts")
    reports = [
        report_from_record(item, f"files[{index}]") for index, item in enumerate(files)
    ]
    input_paths = {report.path: shown_input_path(report.path) for report in reports}
    for report in reports:
        report.path = input_paths[report.path]
    not_read = [
        manifest_fields.string_pair(item, f"unreadable[{index}]")
        for index, item in enumerate(unreadable)
    ]
    conflict_records = [
        _conflict_record(item, f"conflicts[{index}]")
        for index, item in enumerate(conflicts)
    ]
    for record in conflict_records:
        record["files"] = [input_paths.get(path, path) for path in record["files"]]
        # The kept copy is in one of the files, so its path is shown as theirs are.
        kept_file = record["kept_file"]
        if kept_file is not None:
            record["kept_file"] = input_paths.get(kept_file, kept_file)
    return Manifest(
        root=root,
        input_paths=input_paths,
        partitions=partitions,
        rows=rows,
        files=reports,
        unreadable=[(shown_input_path(path), reason) for path, reason in not_read],
        conflicts=conflict_records,
    )


def _conflict_record(value: Any, field: str) -> dict[str, Any]:
    """Check one conflict entry, which becomes a ``load.Conflict``."""
    entry = manifest_fields.mapping(value, field)
    return {
        "log": manifest_fields.log_name(entry.get("log"), f"{field}.log"),
        "record_id": manifest_fields.text(entry.get("record_id"), f"{field}.record_id"),
        "columns": manifest_fields.string_list(
            entry.get("columns"), f"{field}.columns"
        ),
        "files": manifest_fields.string_list(entry.get("files"), f"{field}.files"),
        # Manifests written before the kept copy was recorded have neither field.
        "kept_file": manifest_fields.optional_text(
            entry.get("kept_file"), f"{field}.kept_file"
        ),
        "kept_record": (
            None
            if entry.get("kept_record") is None
            else manifest_fields.count(entry["kept_record"], f"{field}.kept_record")
        ),
    }


def find_manifest(input_path: str) -> Manifest | None:
    """Return the manifest when a local input is a convert folder or its manifest.

    Only the manifest file is opened, and only when its name is
    :data:`MANIFEST_NAME`; its content decides.
    """
    path = Path(input_path)
    try:
        if path.is_dir():
            candidate, root = path / MANIFEST_NAME, input_path
        elif path.name == MANIFEST_NAME and path.is_file():
            candidate, root = path, str(path.parent)
        else:
            return None
    except OSError:
        # Such as a name longer than the file system allows: the input is no
        # convert folder, and reading it reports the fault.
        return None
    try:
        if not candidate.is_file() or candidate.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        text = candidate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return parse_manifest(text, root)


def read_table(manifest: Manifest, log: str) -> pd.DataFrame:
    """Read one table of a convert folder into a canonical frame.

    Raises:
        InputError: a partition file is missing, unreadable, outside the folder
            once symlinks are resolved, or has other columns.
    """
    arrow_schema, _ = TABLES[log]
    parts = []
    for relative in manifest.partitions[log]:
        location = f"{manifest.root.rstrip('/')}/{relative}"
        target = _partition_target(manifest, relative)
        # Imported here, because most runs read no Parquet: about 9 ms of CPU.
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(target)
        except (OSError, pa.ArrowException) as error:
            raise InputError(
                location,
                f"cannot read Parquet partition: {error}",
                reason="unreadable",
                hint="the convert folder is incomplete; run h056 convert again",
            ) from error
        if not table.schema.equals(arrow_schema):
            raise InputError(
                location,
                "the partition's columns differ from the canonical schema",
                reason="schema_mismatch",
                hint="run h056 convert again with this release",
            )
        parts.append(table)
    if not parts:
        return schema.empty_frame(arrow_schema)
    frame = schema.frame_from_table(pa.concat_tables(parts))
    return with_input_paths(frame, manifest.input_paths)


def _partition_target(manifest: Manifest, relative: str) -> Path:
    """Return the resolved path of one partition that the manifest lists.

    Raises:
        InputError: the partition resolves outside the convert folder.
    """
    root = Path(manifest.root).resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        # parse_manifest rejects ".." and absolute paths; this catches a symlink
        # inside the folder that leads out of it.
        raise InputError(
            f"{manifest.root.rstrip('/')}/{relative}",
            f"partition resolves to {target}, outside the convert folder {root}",
            reason="invalid_manifest",
            hint="the convert folder was changed after h056 convert wrote it; "
            "run h056 convert again",
        )
    return target


def check_partitions(manifests: list[Manifest]) -> None:
    """Raise InputError when a partition of a convert folder leads out of it.

    Checked before the folder's other files are read, so that a changed folder
    is named as such rather than by the first file that its manifest no longer
    lists.
    """
    for manifest in manifests:
        for partitions in manifest.partitions.values():
            for relative in partitions:
                _partition_target(manifest, relative)


def stray_files(manifest: Manifest) -> list[str]:
    """Return the files inside a convert folder that are neither its manifest nor
    a partition that it lists, as paths under the folder as the user named it.

    Names that start with "." are passed over, as input folders pass over them.
    NOTE: os.walk does not enter a symlink to a folder, so files below one are
    not returned.
    """
    root = Path(manifest.root)
    listed = {MANIFEST_NAME}
    for partitions in manifest.partitions.values():
        listed.update(partitions)
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            relative = Path(folder, name).relative_to(root).as_posix()
            if relative not in listed:
                found.append(f"{manifest.root.rstrip('/')}/{relative}")
    return found


def add_stray_files(*logs: tuple[list[Manifest], list[str]]) -> set[str]:
    """Add the :func:`stray_files` of each log's convert folders to that log's
    raw inputs, warn once for each folder, and return the files added.

    Such a file can be an export saved into the folder after the conversion.
    Read as an export, it is hunted and accounted for like a file of an input
    folder, and its records that the folder contains too count as duplicates.
    """
    warned: set[str] = set()
    added: set[str] = set()
    for manifests, raw in logs:
        for manifest in manifests:
            found = stray_files(manifest)
            raw.extend(found)
            added.update(found)
            # The same folder can be given as "lake", "lake/" or through a
            # symlink, so it is known by its resolved path.
            folder = os.path.realpath(manifest.root)
            if found and folder not in warned:
                warned.add(folder)
                logger.warning(
                    "%s: reading %s as exports, because h056 convert did not "
                    "write %s into this convert folder: %s",
                    manifest.root,
                    Counted(len(found), "file"),
                    "it" if len(found) == 1 else "them",
                    quote_names(found),
                )
    return added


def converted_inputs(inputs: list[str]) -> tuple[list[Manifest], list[str]]:
    """Split inputs into convert folders and everything else."""
    manifests = []
    others = []
    for item in inputs:
        manifest = find_manifest(item)
        if manifest is None:
            others.append(item)
        else:
            manifests.append(manifest)
    return manifests, others


def holds_converted(audit_inputs: list[str], signin_inputs: list[str]) -> bool:
    """Tell whether any input is a convert folder."""
    return any(find_manifest(item) for item in (*audit_inputs, *signin_inputs))


def load_with_converted(
    audit_inputs: list[str],
    signin_inputs: list[str],
    options: LoadOptions,
    progress: ProgressCallback | None,
) -> LoadedData:
    """Load convert folders and raw exports together, as ``load_logs`` does.

    Each convert folder brings its stored frames and the accounting of its original
    files. Records present in more than one input are de-duplicated across all of
    them, and their duplicates are counted against the file that held them.
    """
    # Imported here because h056hunt.load imports this module.
    from h056hunt import load

    audit_manifests, raw_audit = converted_inputs(audit_inputs)
    signin_manifests, raw_signin = converted_inputs(signin_inputs)
    check_partitions([*audit_manifests, *signin_manifests])
    strays = add_stray_files(
        (audit_manifests, raw_audit), (signin_manifests, raw_signin)
    )
    frames: list[FileFrames] = []
    reports: list[FileReport] = []
    unreadable: list[tuple[str, str]] = []
    conflicts: list[Conflict] = []
    conflict_warnings: ConflictWarnings | None = None
    if raw_audit or raw_signin:
        # The fast path's second pass belongs to the LoadedData it returns, which
        # is merged away here, so the raw exports are read whole.
        plain = replace(options, fast_path=False)
        raw = load.load_logs(
            raw_audit,
            raw_signin,
            plain,
            progress,
            convert_folders_read=[
                manifest.root for manifest in (*audit_manifests, *signin_manifests)
            ],
            stray_files=strays,
        )
        frames.append(FileFrames(audit=raw.audit, signin=raw.signin, steps=raw.steps))
        reports.extend(raw.files)
        unreadable.extend(raw.unreadable)
        conflicts.extend(raw.conflicts)
        conflict_warnings = raw.conflict_warnings
    # The run summary names each folder as given and the options that named it,
    # not the original files' paths and options alone.
    folder_options: dict[Path, list[str]] = {}
    for log, manifests in (("audit", audit_manifests), ("signin", signin_manifests)):
        for manifest in manifests:
            logs = folder_options.setdefault(Path(manifest.root).resolve(), [])
            if log not in logs:
                logs.append(log)
    read_roots: set[Path] = set()
    for manifest in (*audit_manifests, *signin_manifests):
        root = Path(manifest.root).resolve()
        if root in read_roots:
            continue
        read_roots.add(root)
        for report in manifest.files:
            report.converted_in = manifest.root
            report.given_to = tuple(folder_options[root])
        logger.debug("%s: reading a convert folder", manifest.root)
        frames.append(
            FileFrames(
                audit=read_table(manifest, "audit"),
                signin=read_table(manifest, "signin"),
                steps=read_table(manifest, "steps"),
            )
        )
        reports.extend(manifest.files)
        unreadable.extend(manifest.unreadable)
        conflicts.extend(load.Conflict(**item) for item in manifest.conflicts)
    data = load._combine(frames, reports, unreadable, conflict_warnings)
    data.conflict_warnings.log_remainder()
    data.conflicts[:0] = conflicts
    return data
