"""Map Log Analytics (Microsoft Sentinel) CSV exports to canonical rows.

The portal's "Export to CSV" writes the table's PascalCase columns, appends ``[UTC]``
to datetime column names and stores every nested column as JSON text in its cell. With
the suffix removed, a row has the names of the Log Analytics JSON export, so the
mapping of :mod:`h056hunt.loaders.entra` reads it as is.

Field sources, canonical column first:

=========================  ===================================================
log                        ``Type`` (the table), else a sign-in ``Category``, else
                           the columns: ``InitiatedBy`` or ``ActivityDisplayName``
                           mean audit, ``UserPrincipalName`` or ``ResultType``
                           mean sign-in
audit ``event_time``       ``ActivityDateTime [UTC]``, else ``TimeGenerated [UTC]``
sign-in ``event_time``     ``CreatedDateTime [UTC]``, else ``TimeGenerated [UTC]``
other columns              as for Log Analytics JSON, see ``entra``
=========================  ===================================================
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from h056hunt.errors import quote_input
from h056hunt.loaders import entra
from h056hunt.loaders.csv_table import CsvHeader, CsvRecord
from h056hunt.loaders.fields import first_text, reason_value

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

logger = logging.getLogger(__name__)

SHAPE_LOG_ANALYTICS_CSV = "log-analytics-csv"

AUDIT_TABLES = frozenset({"auditlogs"})
TIME_COLUMNS = ("timegenerated", "createddatetime", "activitydatetime")
_BRACKET_SUFFIX = re.compile(r"\s*\[(?P<label>[^\]]*)\]\s*$")
# Columns that the warning about times not marked [UTC] names. It counts the rest.
NAMED_COLUMNS = 5


def is_log_analytics_header(header: CsvHeader) -> bool:
    """Tell whether the header has a Log Analytics time column."""
    keys = {column_key(name) for name in header.names}
    return any(column in keys for column in TIME_COLUMNS)


def column_key(name: str) -> str:
    """Return a column name lower-cased, without BOM and bracketed suffix."""
    return _BRACKET_SUFFIX.sub("", name.replace("\ufeff", "").strip()).lower()


class LogAnalyticsRows:
    """Map the rows of a Log Analytics CSV export of sign-in or audit tables."""

    shape = SHAPE_LOG_ANALYTICS_CSV

    def __init__(self, header: CsvHeader) -> None:
        self._keys: list[tuple[int, str]] = []
        self._columns_not_in_utc: list[str] = []
        written_names: dict[str, str] = {}
        for position, name in enumerate(header.names):
            key = column_key(name)
            if key in written_names:
                continue
            written_names[key] = name
            self._keys.append((position, key))
            suffix = _BRACKET_SUFFIX.search(name)
            if suffix is not None and suffix.group("label").strip().upper() != "UTC":
                self._columns_not_in_utc.append(name)
        self._time_names = {
            "audit": written_names.get("activitydatetime")
            or written_names.get("timegenerated", "TimeGenerated"),
            "signin": written_names.get("createddatetime")
            or written_names.get("timegenerated", "TimeGenerated"),
        }

    def add(self, record: CsvRecord, sink: FileSink) -> None:
        """Classify one row as audit or sign-in and add it to the sink."""
        if self._columns_not_in_utc:
            # NOTE: values of a column exported in another display zone are read as
            # UTC unless they carry an offset.
            # Each name is a %r argument, so the log formatter cuts a long one as it
            # cuts other field text, and only the first few are named.
            names = self._columns_not_in_utc
            named = names[:NAMED_COLUMNS]
            listed = ", ".join(["%r"] * len(named))
            if len(names) > NAMED_COLUMNS:
                listed += f" and {len(names) - NAMED_COLUMNS:,} more"
            logger.warning(
                f"%s: columns {listed} are not marked [UTC]; their times are read "
                "as UTC",
                sink.path,
                *named,
            )
            self._columns_not_in_utc = []
        fields: dict[str, Any] = {
            key: record.cells[position]
            for position, key in self._keys
            if position < len(record.cells)
        }
        table = (first_text(fields, "type") or "").lower()
        category = (first_text(fields, "category") or "").lower()
        envelope_time = first_text(fields, "timegenerated")
        log = _log_of(fields, table, category)
        if log == "audit":
            sink.add_audit(
                entra.audit_row(fields, envelope_time=envelope_time),
                shape=self.shape,
                line=record.line,
                record=record.number,
                time_column=self._time_names["audit"],
            )
        elif log == "signin":
            source_kind = table or None
            if not table and category in entra.SIGNIN_EVENT_TYPE_BY_SOURCE:
                source_kind = category
            row, steps = entra.signin_row(
                fields, envelope_time=envelope_time, source_kind=source_kind
            )
            sink.add_signin(
                row,
                steps,
                shape=self.shape,
                line=record.line,
                record=record.number,
                time_column=self._time_names["signin"],
            )
        else:
            table_name = reason_value(first_text(fields, "type"), "(unknown)")
            sink.skip(
                quote_input("unsupported table {table}", table=table_name),
                line=record.line,
                record=record.number,
            )


def _log_of(fields: dict[str, Any], table: str, category: str) -> str | None:
    """Return ``audit``, ``signin`` or None for a row of a Log Analytics export."""
    if table:
        if table in AUDIT_TABLES:
            return "audit"
        if table in entra.SIGNIN_EVENT_TYPE_BY_SOURCE:
            return "signin"
        return None
    if category in AUDIT_TABLES:
        return "audit"
    if category in entra.SIGNIN_EVENT_TYPE_BY_SOURCE:
        return "signin"
    if any(key in fields for key in ("initiatedby", "activitydisplayname")):
        return "audit"
    if any(key in fields for key in ("userprincipalname", "resulttype", "userid")):
        return "signin"
    return None
