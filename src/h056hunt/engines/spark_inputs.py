"""Decide which files the Spark engine reads, in the order the local engine reads them.

An input is one of three kinds:

* A local path (file, folder or quoted glob). The driver expands it with the local
  engine's :func:`h056hunt.sources.expand_inputs`, so the same files, display names
  and unreadable entries come out. The workers open the files by path, so the path
  must be visible to every worker: always in local mode, and on clusters for shared
  mounts such as ``/dbfs/`` or ``/lakehouse/default/Files/``.
* A URI with a scheme (``abfss://``, ``s3a://``, ``dbfs:/``, ``file:///``). Spark
  lists it with ``recursiveFileLookup``, so a diagnostic-settings folder with its
  ``y=/m=/d=/h=/m=`` levels is read whole, and Hadoop glob patterns work. Each file is
  shown by the URI that Spark reports, and its bytes reach the worker through Spark's
  ``binaryFile`` source.
* A convert folder, local or URI, recognised by its manifest's content. Spark's
  listing hides the manifest, whose name starts with ``_``, so inside a URI input
  each folder above a listed file is checked for it by name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from py4j.protocol import Py4JError
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from h056hunt.errors import UsageError
from h056hunt.loaders.parquet import (
    MANIFEST_NAME,
    Manifest,
    add_stray_files,
    find_manifest,
    parse_manifest,
)
from h056hunt.sources import (
    MAX_MANIFEST_BYTES,
    expand_inputs,
    is_convert_manifest,
    is_uri,
    read_manifest,
)

logger = logging.getLogger(__name__)

LOGS = ("audit", "signin")
# A URI as Spark lists it: the scheme with the authority, if any, such as
# "file:" or "abfss://container@account.dfs.core.windows.net", then the path.
_URI_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+:(?://[^/]*)?)(/.*)?$")
# The start of a file: URI, before its absolute path.
_FILE_URI_START = re.compile(r"^file:(?://[^/]*)?(?=/)")


@dataclass(frozen=True)
class PlannedFile:
    """One file to read, numbered in the local engine's reading order.

    Attributes:
        order: position in the reading order, from 0.
        location: the local path or the URI that Spark reports.
        display: the file as the user sees it in evidence and messages.
        requested_log: ``audit`` or ``signin``, the option the file came from.
        check_log: warn when the file contains only the other log's records; False for
            a file given to both options.
        uri_input: for a listed URI, the URI input that listed it, else None.
        source: the input value, such as a folder or a glob pattern, that found
            the file.
        convert_folder: the convert folder inside a local input folder that
            contains the file, as in :class:`h056hunt.sources.InputFile`.
    """

    order: int
    location: str
    display: str
    requested_log: str
    check_log: bool
    uri_input: str | None = None
    source: str = ""
    convert_folder: str = ""


@dataclass
class InputPlan:
    """Every file and convert folder of a run.

    Attributes:
        files: raw export files in reading order.
        unreadable: per log, the entries that could not be used, with the reason.
        manifests: convert folders, each read once.
        manifest_options: per convert folder root without a trailing slash, the
            logs whose options named it.
    """

    files: list[PlannedFile] = field(default_factory=list)
    unreadable: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    manifests: list[Manifest] = field(default_factory=list)
    manifest_options: dict[str, list[str]] = field(default_factory=dict)


def plan_inputs(
    spark: SparkSession, audit_inputs: list[str], signin_inputs: list[str]
) -> InputPlan:
    """Sort the inputs into convert folders and raw files, like ``load_logs``.

    Raises:
        UsageError: an input matches nothing.
        InputError: a convert folder has a manifest this release does not read.
    """
    plan = InputPlan()
    raw: dict[str, list[str]] = {log: [] for log in LOGS}
    local_manifests: dict[str, list[Manifest]] = {log: [] for log in LOGS}
    roots: set[str] = set()
    for log, inputs in zip(LOGS, (audit_inputs, signin_inputs), strict=True):
        for item in inputs:
            manifest = (
                uri_manifest(spark, item) if is_uri(item) else find_manifest(item)
            )
            if manifest is None:
                raw[log].append(item)
                continue
            root = manifest.root.rstrip("/")
            options = plan.manifest_options.setdefault(root, [])
            if log not in options:
                options.append(log)
            if not is_uri(item):
                local_manifests[log].append(manifest)
            if root not in roots:
                roots.add(root)
                plan.manifests.append(manifest)
    # As the local engine does, the files inside a local convert folder that
    # convert did not write are read as exports.
    # NOTE: such files inside a convert folder given as a URI are not listed.
    strays = add_stray_files(*((local_manifests[log], raw[log]) for log in LOGS))
    listed = {
        log: _list_files(spark, log, inputs, plan, strays)
        for log, inputs in raw.items()
        if inputs
    }
    given_twice = set()
    if len(listed) == len(LOGS):
        keys = [{location for location, *_ in listed[log]} for log in LOGS]
        given_twice = keys[0] & keys[1]
    read: set[str] = set()
    for log, files in listed.items():
        for location, display, uri_input, source, convert_folder in files:
            if location in read:
                logger.debug("%s: already read", display)
                continue
            read.add(location)
            plan.files.append(
                PlannedFile(
                    order=len(plan.files),
                    location=location,
                    display=display,
                    requested_log=log,
                    check_log=location not in given_twice,
                    uri_input=uri_input,
                    source=source,
                    convert_folder=convert_folder,
                )
            )
    return plan


def _list_files(
    spark: SparkSession,
    log: str,
    inputs: list[str],
    plan: InputPlan,
    strays: Collection[str] = (),
) -> list[tuple[str, str, str | None, str, str]]:
    """Return ``(location, display, uri_input, source, convert_folder)`` for every
    file of one log.

    ``strays`` are inputs inside convert folders that convert did not write, which
    are read as exports rather than skipped as the folder's files."""
    files: list[tuple[str, str, str | None, str, str]] = []
    plan.unreadable[log] = []
    local = [item for item in inputs if not is_uri(item)]
    if local:
        expansion = expand_inputs(local)
        plan.unreadable[log].extend(expansion.unreadable)
        files.extend(
            (
                str(item.path),
                item.display,
                None,
                item.source,
                "" if item.source in strays else item.convert_folder,
            )
            for item in expansion.files
        )
    for uri in (item for item in inputs if is_uri(item)):
        listed = list_uri(spark, uri)
        folders = uri_convert_folders(spark, listed)
        files.extend((path, path, uri, uri, folders.get(path, "")) for path in listed)
    return files


def list_uri(spark: SparkSession, uri: str) -> list[str]:
    """List the files under a URI, as Spark names them, in sorted order.

    Raises:
        UsageError: the URI matches nothing.
    """
    reader = spark.read.format("binaryFile").option("recursiveFileLookup", "true")
    try:
        rows = reader.load(uri).select("path").collect()
    except AnalysisException as error:
        raise UsageError(
            f"{uri}: no such file, folder or matching glob pattern",
            hint="check the URI and that the Spark session has the connector and "
            "credentials for its storage",
        ) from error
    return sorted(str(row.path) for row in rows)


def uri_manifest(spark: SparkSession, uri: str) -> Manifest | None:
    """Return the manifest when a URI is a convert folder or its manifest."""
    trimmed = uri.rstrip("/")
    if trimmed.endswith("/" + MANIFEST_NAME):
        root = trimmed[: -len(MANIFEST_NAME) - 1]
    else:
        root = trimmed
    data = read_uri_manifest(spark, root)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return parse_manifest(text, root)


def uri_convert_folders(spark: SparkSession, paths: list[str]) -> dict[str, str]:
    """Return the convert folder above each listed file that has one, by the
    file's URI.

    Each folder is checked once, up to the root of the URI's file system, as
    the local engine checks every folder above a file.

    NOTE: that is one existence check per folder, which on an object store such
    as ``abfss://`` or ``s3a://`` is a request each. Its time is not measured.
    """
    checked: dict[str, bool] = {}
    folders: dict[str, str] = {}
    for path in paths:
        for folder in _uri_parents(path):
            if folder not in checked:
                data = read_uri_manifest(spark, folder)
                checked[folder] = data is not None and is_convert_manifest(data)
            if checked[folder]:
                folders[path] = folder
                break
    return folders


def _uri_parents(uri: str) -> list[str]:
    """Return the folders above a URI that Spark listed, nearest first."""
    match = _URI_PARTS.match(uri)
    if match is None:
        return []
    start, path = match.group(1), match.group(2) or "/"
    return [start + str(parent) for parent in PurePosixPath(path).parents]


def read_uri_manifest(spark: SparkSession, folder: str) -> bytes | None:
    """Read the convert manifest inside a URI folder, or return None when there
    is none, it cannot be read, or it is larger than :data:`MAX_MANIFEST_BYTES`.

    Spark's readers return nothing for a file whose name starts with ``_``, also
    when the path names it (checked with pyspark 4.3.0), so Hadoop's FileSystem
    API reads the manifest through the session's JVM. A Spark Connect session
    has no JVM, so only the local file system is read for its ``file:`` URIs.

    NOTE: with Spark Connect, a convert folder under any other scheme is not
    recognised.
    """
    try:
        context = spark.sparkContext
        jvm = context._jvm
        java_context = context._jsc
    except (AttributeError, NotImplementedError):
        jvm = java_context = None
    if jvm is None or java_context is None:
        return _read_local_manifest(folder)
    hadoop_conf = java_context.hadoopConfiguration()
    try:
        path = jvm.org.apache.hadoop.fs.Path(folder, MANIFEST_NAME)
        file_system = path.getFileSystem(hadoop_conf)
        if not file_system.exists(path):
            return None
        status = file_system.getFileStatus(path)
        if status.isDirectory() or status.getLen() > MAX_MANIFEST_BYTES:
            return None
        stream = file_system.open(path)
        try:
            return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()
    except Py4JError as error:
        # As the local engine does for a manifest it cannot read, the folder is
        # read as ordinary files.
        logger.debug("%s/%s: cannot read: %s", folder, MANIFEST_NAME, error)
        return None


def _read_local_manifest(folder: str) -> bytes | None:
    """Read the manifest inside a ``file:`` URI folder from the local file
    system; return None for other schemes."""
    start = _FILE_URI_START.match(folder)
    if start is None:
        return None
    return read_manifest(Path(folder[start.end() :]))
