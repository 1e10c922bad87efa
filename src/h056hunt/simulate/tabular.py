"""Writing simulated records in the Log Analytics, portal and Purview shapes.

Shapes:

* ``log-analytics-json``: one Log Analytics row per line (``SigninLogs``,
  ``AADNonInteractiveUserSignInLogs`` or ``AuditLogs``), nested columns as JSON text.
* ``log-analytics-csv``: the same rows as CSV, with ``[UTC]`` time headers and US
  12-hour time values.
* ``portal-csv``: the Entra admin center download. Sign-ins write a second file,
  ``<name>_AuthDetails.csv``, with one row per authentication step.
* ``purview-ual-csv``: a Purview audit search export with ``AuditData`` JSON text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TextIO

from h056hunt.simulate import log_analytics, portal, purview

SHAPES: tuple[str, ...] = (
    "log-analytics-json",
    "log-analytics-csv",
    "portal-csv",
    "purview-ual-csv",
)
AUTH_DETAILS_SUFFIX = "_AuthDetails"

OpenText = Callable[[Path], AbstractContextManager[TextIO]]
Records = Iterable[tuple[int, dict[str, Any]]]

_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def file_extension(shape: str) -> str:
    """Return the file extension of a shape, without ``.gz``."""
    return "json" if shape == "log-analytics-json" else "csv"


def auth_details_path(signin_path: Path) -> Path:
    """Return the path of the authentication-details file beside a sign-in file."""
    stem, _, extension = signin_path.name.partition(".")
    return signin_path.with_name(f"{stem}{AUTH_DETAILS_SUFFIX}.{extension}")


def _csv_writer(handle: TextIO) -> Any:
    return csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def write_tabular(
    path: Path,
    shape: str,
    is_signin: bool,
    records: Records,
    tenant_id: str,
    open_text: OpenText,
) -> int:
    """Write ``(ticks, record)`` pairs to ``path`` in ``shape`` and return the count.

    Raises:
        ValueError: ``shape`` is not one of ``SHAPES``.
    """
    if shape == "log-analytics-json":
        return _write_log_analytics_json(path, is_signin, records, tenant_id, open_text)
    if shape == "log-analytics-csv":
        return _write_log_analytics_csv(path, is_signin, records, tenant_id, open_text)
    if shape == "portal-csv" and is_signin:
        return _write_portal_signins(path, records, open_text)
    if shape == "portal-csv":
        return _write_rows(
            path,
            portal.audit_header(),
            (portal.audit_cells(ticks, record) for ticks, record in records),
            open_text,
        )
    if shape == "purview-ual-csv":
        to_cells = purview.signin_cells if is_signin else purview.audit_cells
        rows = (to_cells(ticks, record, tenant_id) for ticks, record in records)
        return _write_rows(path, list(purview.HEADER), rows, open_text)
    raise ValueError(f"unknown tabular shape {shape!r}")


def _write_rows(
    path: Path, header: list[str], rows: Iterable[list[str]], open_text: OpenText
) -> int:
    count = 0
    with open_text(path) as handle:
        writer = _csv_writer(handle)
        writer.writerow(header)
        for cells in rows:
            writer.writerow(cells)
            count += 1
    return count


def _log_analytics_rows(
    is_signin: bool, records: Records, tenant_id: str
) -> Iterable[dict[str, Any]]:
    to_row = log_analytics.signin_row if is_signin else log_analytics.audit_row
    return (to_row(ticks, record, tenant_id) for ticks, record in records)


def _write_log_analytics_json(
    path: Path, is_signin: bool, records: Records, tenant_id: str, open_text: OpenText
) -> int:
    count = 0
    with open_text(path) as handle:
        for row in _log_analytics_rows(is_signin, records, tenant_id):
            handle.write(_ENCODE(row))
            handle.write("\n")
            count += 1
    return count


def _write_log_analytics_csv(
    path: Path, is_signin: bool, records: Records, tenant_id: str, open_text: OpenText
) -> int:
    count = 0
    with open_text(path) as handle:
        writer = _csv_writer(handle)
        for row in _log_analytics_rows(is_signin, records, tenant_id):
            if count == 0:
                writer.writerow(log_analytics.csv_header(row))
            writer.writerow(log_analytics.csv_row(row))
            count += 1
    return count


def _write_portal_signins(path: Path, records: Records, open_text: OpenText) -> int:
    count = 0
    with (
        open_text(path) as handle,
        open_text(auth_details_path(path)) as details_handle,
    ):
        writer = _csv_writer(handle)
        details_writer = _csv_writer(details_handle)
        writer.writerow(portal.SIGNIN_HEADER)
        details_writer.writerow(portal.AUTH_DETAILS_HEADER)
        for ticks, record in records:
            writer.writerow(portal.signin_cells(ticks, record))
            details_writer.writerows(portal.auth_detail_cells(record))
            count += 1
    return count
