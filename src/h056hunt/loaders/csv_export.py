"""Load delimited-text exports: portal downloads, Log Analytics and Purview CSV.

The delimiter (comma or semicolon) comes from the header line, and the header names,
compared after normalisation, decide the shape of the whole file:

=======================  =========================================  ==================
shape                    header (normalised names)                  rows mapped by
=======================  =========================================  ==================
purview-ual-csv          ``auditdata``                              ual
portal-auth-details-csv  ``request id``, ``authentication method``  csv_portal
                         and no user column
portal-signin-csv        ``date (utc)``, ``request id`` and a       csv_portal
                         status or user column
portal-audit-csv         ``activity`` and an ``actor...`` or        csv_portal
                         ``target1type`` column
log-analytics-csv        ``timegenerated``, ``createddatetime`` or  csv_log_analytics
                         ``activitydatetime``, ``[UTC]`` removed
=======================  =========================================  ==================

Any other header makes every row a skip with reason "unrecognised CSV header"; text
without a delimiter in its first line is not a table at all and counts as one skipped
file. A header that reads as one column and contains a tab counts as one skipped file
too, with a reason that names the tab-separated format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from h056hunt.errors import InputError
from h056hunt.loaders import ual
from h056hunt.loaders.csv_log_analytics import LogAnalyticsRows, is_log_analytics_header
from h056hunt.loaders.csv_portal import (
    AuditRows,
    AuthDetailsRows,
    SigninRows,
    is_audit_header,
    is_auth_details_header,
    is_signin_header,
)
from h056hunt.loaders.csv_table import (
    CsvFault,
    CsvHeader,
    CsvRecord,
    RowHandler,
    read_rows,
)
from h056hunt.loaders.oversized import reject_oversized
from h056hunt.plurals import Counted
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES, TextLine, text_lines

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

logger = logging.getLogger(__name__)

# Column names that the warning about an unrecognised CSV header quotes.
PREVIEW_COLUMNS = 5

SHAPE_UAL_CSV = "purview-ual-csv"
TAB_SEPARATED_REASON = "tab-separated, not comma- or semicolon-separated CSV"
_MAX_FAULT_WARNINGS = 5


class UnifiedAuditRows:
    """Map the rows of a Purview audit search export through the ``AuditData`` cell."""

    shape = SHAPE_UAL_CSV

    def __init__(self, header: CsvHeader) -> None:
        """Take the header, whose columns this shape reads by name on each row."""

    def add(self, record: CsvRecord, sink: FileSink) -> None:
        """Parse the ``AuditData`` JSON of one row and route the record inside."""
        wrapper = {
            "auditdata": record.raw("auditdata"),
            "recordtype": record.first("recordtype", "auditlogrecordtype"),
            "creationdate": record.first("creationdate", "createddatetime"),
        }
        ual.route_record(
            wrapper, sink, line=record.line, record=record.number, shape=self.shape
        )


def is_unified_audit_header(header: CsvHeader) -> bool:
    """Tell whether the header is a Purview audit search export."""
    return "auditdata" in header


# Checked in order: an authentication-details header also has sign-in columns such as
# Request ID and Date (UTC).
_SHAPES: list[tuple[Callable[[CsvHeader], bool], Callable[[CsvHeader], RowHandler]]] = [
    (is_unified_audit_header, UnifiedAuditRows),
    (is_auth_details_header, AuthDetailsRows),
    (is_signin_header, SigninRows),
    (is_audit_header, AuditRows),
    (is_log_analytics_header, LogAnalyticsRows),
]


def load_csv_text(
    text: str,
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> None:
    """Add every row of CSV text to the sink; see :func:`load_csv_lines`."""
    load_csv_lines(
        text_lines(text, max_record_bytes),
        sink,
        strict=strict,
        max_record_bytes=max_record_bytes,
    )


def load_csv_lines(
    lines: Iterable[TextLine],
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> None:
    """Add every row of a CSV export to the sink, or count it as skipped.

    Raises:
        InputError: strict mode and a row breaks the quoting rules or has a different
            number of cells than the header (reason ``invalid_csv``), or is longer
            than ``max_record_bytes`` (reason ``record_too_large``). In lenient mode
            the complete rows are kept, each bad row is counted as a skip, and the
            file is marked partial.
    """
    rows = read_rows(lines, max_row_bytes=max_record_bytes)
    first = next(rows, None)
    if first is None:
        return
    if isinstance(first, CsvFault):
        # No row can be mapped without the header, so the rows after it are skipped.
        _reject_row(sink, first, strict=strict, complete_records=0)
        count = sum(1 for _ in rows)
        if count:
            sink.skip(
                "row after an invalid CSV header", line=None, record=None, count=count
            )
        return
    header = CsvHeader.from_cells(first[1], first[0])
    handler = choose_handler(header)
    if handler is None:
        _skip_unrecognised(sink, header, rows)
        return
    logger.debug(
        "%s: read as %s with %d columns", sink.path, handler.shape, len(header.names)
    )
    _load_rows(sink, header, rows, handler, strict=strict)


def choose_handler(header: CsvHeader) -> RowHandler | None:
    for matches, make_handler in _SHAPES:
        if matches(header):
            return make_handler(header)
    return None


def _load_rows(
    sink: FileSink,
    header: CsvHeader,
    rows: Iterator[tuple[int, list[str]] | CsvFault],
    handler: RowHandler,
    *,
    strict: bool,
) -> None:
    number = 0
    faults = 0
    for item in rows:
        number += 1
        if isinstance(item, CsvFault):
            fault = item
        elif len(item[1]) != len(header.names):
            fault = CsvFault(
                line=item[0],
                message=f"the row has {len(item[1])} cells but the header has "
                f"{len(header.names)}",
            )
        else:
            record = CsvRecord(
                cells=item[1], header=header, line=item[0], number=number
            )
            handler.add(record, sink)
            continue
        faults += 1
        _reject_row(
            sink,
            fault,
            strict=strict,
            complete_records=number - faults,
            warn=faults <= _MAX_FAULT_WARNINGS,
        )
    if faults > _MAX_FAULT_WARNINGS:
        logger.warning(
            "%s: %d invalid CSV rows skipped in total",
            sink.path,
            faults,
        )


def _reject_row(
    sink: FileSink,
    fault: CsvFault,
    *,
    strict: bool,
    complete_records: int,
    warn: bool = True,
) -> None:
    """Raise for a malformed row in strict mode; count it as skipped otherwise."""
    if fault.size is not None and fault.limit is not None:
        reject_oversized(
            sink, line=fault.line, size=fault.size, limit=fault.limit, strict=strict
        )
        return
    if strict:
        raise InputError(
            sink.path,
            f"invalid CSV: {fault.message}",
            reason="invalid_csv",
            line=fault.line,
            complete_records=complete_records,
            hint="repair or download the file again, or rerun with --lenient to keep "
            "the complete rows",
        )
    if warn:
        logger.warning(
            "%s, line %d: invalid CSV: %s; row skipped",
            sink.path,
            fault.line,
            fault.message,
        )
    sink.report.partial = True
    if sink.report.error is None:
        sink.report.error = (
            f"{sink.path}, line {fault.line}: invalid CSV: {fault.message}"
        )
    sink.skip("invalid CSV row", line=fault.line, record=None)


def _skip_unrecognised(
    sink: FileSink,
    header: CsvHeader,
    rows: Iterator[tuple[int, list[str]] | CsvFault],
) -> None:
    if len(header.names) < 2 and "\t" in header.names[0]:
        # Only comma and semicolon are delimiters here, so a tab-separated export,
        # such as Excel's "Unicode Text" save, reads as one column.
        logger.warning(
            "%s: tab-separated file, which h056hunt does not read, so it is skipped; "
            "save or export it as comma- or semicolon-separated CSV",
            sink.path,
        )
        sink.skip(TAB_SEPARATED_REASON, line=header.line, record=None)
        return
    if len(header.names) < 2:
        # One column means no delimiter at all: prose, not a table of records.
        logger.warning(
            "%s: not a log export (neither JSON nor a delimited header); file skipped",
            sink.path,
        )
        sink.skip("not a log export (file)", line=header.line, record=None)
        return
    count = sum(1 for _ in rows)
    # Each name is a %r argument, so the log formatter cuts a long one as it cuts
    # other field text, because a crafted header can contain names of any length.
    named = header.names[:PREVIEW_COLUMNS]
    placeholders = ", ".join(["%r"] * len(named))
    if len(header.names) > PREVIEW_COLUMNS:
        placeholders += ", ..."
    logger.warning(
        f"%s: unrecognised CSV header (first columns: {placeholders}); %s skipped",
        sink.path,
        *named,
        Counted(count, "row"),
    )
    if count:
        sink.skip("unrecognised CSV header", line=header.line, record=None, count=count)
