"""Load JSON exports: Graph, Azure Monitor diagnostic, Log Analytics and Purview.

Every record is classified on its own from its keys, so one file may mix shapes, and an
audit record inside a sign-in file is still used as audit data. Records of categories
the hunt does not read are counted as skipped with the category named.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from h056hunt.errors import InputError, ProgramText, quote_input
from h056hunt.loaders import entra, json_lines, ual
from h056hunt.loaders.fields import first_text, integer, lower_keys, reason_value
from h056hunt.loaders.jsondocument import DocumentReader
from h056hunt.loaders.jsonstream import OversizedRecord, iter_json_records
from h056hunt.loaders.oversized import reject_oversized
from h056hunt.streams import DEFAULT_MAX_RECORD_BYTES, TextLine, text_lines

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

logger = logging.getLogger(__name__)

# The skip reason of a saved Graph error response, whatever its code.
GRAPH_ERROR_REASON = "error object inside the export"
# The caps keep one warning to a few lines, also when an export contains a long or
# hostile error text.
_MAX_ERROR_CODE_CHARS = 80
_MAX_ERROR_MESSAGE_CHARS = 200

JSON_SCALAR_REASON = "not a log export (a JSON value that is not an object or array)"
# Skip reasons of faults that end a JSON document early without being a JSON error.
READ_FAULT_REASONS = {
    "corrupt_gzip": "corrupt or cut-off gzip data",
    "decompression_limit": "gzip content past --max-decompressed-size",
}
SHAPE_GRAPH = "graph"
SHAPE_DIAGNOSTIC = "azure-monitor-diagnostic"
SHAPE_LOG_ANALYTICS = "log-analytics"

DIAGNOSTIC_AUDIT_CATEGORIES = frozenset({"auditlogs"})
DIAGNOSTIC_ENVELOPE_TIME = "time"
# The Graph log, "audit" or "signin", of records with these keys as written, or None
# for records that are not Graph records. See _cache_graph_log for which are kept.
_GRAPH_LOGS: dict[tuple[str, ...], str | None] = {}
_UNCLASSIFIED = "unclassified"

# The "generator" value of the labels.json that `h056 simulate` writes beside its
# logs. A hunt of the simulated folder reads that file too, so it is named in the
# skip reason and shape instead of being reported as an unrecognised record.
SIMULATE_LABELS_GENERATOR = "h056hunt simulate"
SIMULATE_LABELS_SHAPE = "simulate-labels"
SIMULATE_LABELS_REASON = (
    "h056 simulate labels (the simulated scenarios, not log records)"
)
_CACHED_KEY_SETS_MAX = 256
_CACHED_KEYS_MAX = 256
# Log Analytics table names (the ``Type`` column) of the logs the hunt reads.
LOG_ANALYTICS_AUDIT_TABLES = frozenset({"auditlogs"})
LOG_ANALYTICS_SIGNIN_TABLES = frozenset(
    {
        "signinlogs",
        "aadnoninteractiveusersigninlogs",
        "aadserviceprincipalsigninlogs",
        "aadmanagedidentitysigninlogs",
    }
)


def load_json_text(
    text: str,
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> None:
    """Route every record of a JSON export into ``sink``.

    Newline-delimited JSON is read line by line (see :mod:`json_lines`); other JSON
    is read as one document, where a record longer than ``max_record_bytes``
    characters is skipped without being decoded.

    Raises:
        InputError: strict mode and the JSON is malformed or a record is too long. In
            lenient mode the complete records are kept, the fault is counted as a
            skip and the file is marked partial.
    """
    first_lines = json_lines.peek_content_lines(text_lines(text, max_record_bytes))
    if json_lines.is_line_delimited(first_lines):
        load_json_lines(
            text_lines(text, max_record_bytes),
            sink,
            strict=strict,
            max_record_bytes=max_record_bytes,
        )
        return
    _load_json_document(text, sink, strict=strict, max_record_chars=max_record_bytes)


def skip_json_scalar(first_lines: list[TextLine], sink: FileSink) -> bool:
    """Skip a file that is one JSON value other than an object or an array.

    Such a file (``null``, ``42``, ``"text"``) is valid JSON but contains no records.
    ``first_lines`` are the first non-blank lines, as
    :func:`~h056hunt.loaders.json_lines.peek_content_lines` returns them.

    Returns:
        True when the file was counted as one skipped record.
    """
    if len(first_lines) != 1 or first_lines[0].text is None:
        return False
    text = first_lines[0].text.strip().lstrip("\ufeff")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if isinstance(value, dict | list):
        return False
    logger.warning(
        "%s: valid JSON but not a log export: the file contains one JSON %s, not an "
        "object or an array of records; file skipped",
        sink.path,
        _json_type_name(value),
    )
    sink.skip(JSON_SCALAR_REASON, line=first_lines[0].number, record=None)
    return True


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "number"


def load_json_lines(
    lines: Iterable[TextLine],
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    complete_records: int = 0,
) -> None:
    """Route every record of newline-delimited JSON lines into ``sink``.

    ``complete_records`` counts the records of the file read before ``lines``.

    Raises:
        InputError: strict mode and a line is malformed or too long.
    """
    json_lines.read_json_lines(
        lines,
        sink,
        strict=strict,
        max_record_bytes=max_record_bytes,
        route=route_record,
        complete_records=complete_records,
    )


def _load_json_document(
    text: str, sink: FileSink, *, strict: bool, max_record_chars: int
) -> None:
    offset = 0
    line_offset = 0
    record_offset = 0
    while True:
        try:
            found_records = iter_json_records(
                text[offset:], sink.path, max_record_chars=max_record_chars
            )
            for found in found_records:
                line = found.line + line_offset
                record_number = found.record + record_offset
                if isinstance(found.value, OversizedRecord):
                    reject_oversized(
                        sink,
                        line=line,
                        size=found.value.chars,
                        limit=max_record_chars,
                        strict=strict,
                        unit="characters",
                    )
                    continue
                route_record(found.value, sink, line=line, record=record_number)
            return
        except InputError as error:
            if strict:
                raise
            _mark_partial(sink, error, line_offset)
            resume = _next_line_start(text, offset, error)
            if resume is None:
                return
            line_offset += text.count("\n", offset, resume)
            record_offset = sink.report.records_seen
            offset = resume


def load_json_document(
    reader: DocumentReader,
    sink: FileSink,
    *,
    strict: bool,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> None:
    """Route every record of a JSON document read in chunks into ``sink``.

    Records and faults are handled as :func:`load_json_text` handles a document
    that spans lines: a record longer than ``max_record_bytes`` characters is skipped
    without being decoded.

    Raises:
        InputError: strict mode and the JSON is malformed or a record is too long.
    """
    record_offset = 0
    while True:
        try:
            for found in reader.iter_records():
                if isinstance(found.value, OversizedRecord):
                    reject_oversized(
                        sink,
                        line=found.line,
                        size=found.value.chars,
                        limit=max_record_bytes,
                        strict=strict,
                        unit="characters",
                    )
                    continue
                record_number = found.record + record_offset
                route_record(found.value, sink, line=found.line, record=record_number)
            return
        except InputError as error:
            if strict:
                raise
            _mark_partial(sink, error, 0)
            if not reader.resume_after(error):
                if error.line is not None:
                    logger.warning(
                        "%s: nothing after line %d was read, so any records there "
                        "are missing from the counts: a page or array gives no safe "
                        "place to resume after a broken record; fix or re-export "
                        "the file for a complete result",
                        sink.path,
                        error.line,
                    )
                return
            record_offset = sink.report.records_seen


def _mark_partial(sink: FileSink, error: InputError, line_offset: int) -> None:
    if error.line is None:
        # A fault of the file rather than of its JSON, such as cut-off gzip data.
        logger.warning("%s; kept the complete records read before it", error.message)
        sink.report.partial = True
        sink.report.error = error.detail
        reason = READ_FAULT_REASONS.get(error.reason, "invalid JSON")
        sink.skip(reason, line=None, record=None)
        return
    line = error.line + line_offset
    logger.warning(
        "%s, line %d, column %s: %s; kept the complete records and skipped the rest "
        "of this fragment",
        sink.path,
        line,
        error.column,
        ProgramText(error.message.split(": ", 1)[-1]),
    )
    sink.report.partial = True
    sink.report.error = (
        f"line {line}, column {error.column}: {error.message.split(': ', 1)[-1]}"
    )
    sink.skip("invalid JSON", line=line, record=None)


def _next_line_start(text: str, offset: int, error: InputError) -> int | None:
    """Return where to resume after a fault in newline-delimited JSON, else None.

    Only one-record-per-line files can resume, on the line after the one where the
    broken record starts: in a pretty-printed or compact array a fault leaves no safe
    place to start again.
    """
    first_newline = text.find("\n", offset)
    first_record_is_one_line = first_newline != -1 and text[
        offset:first_newline
    ].rstrip().endswith("}")
    broken_line = error.fragment_line or error.line
    if not first_record_is_one_line or broken_line is None:
        return None
    position = offset
    for _ in range(broken_line):
        position = text.find("\n", position) + 1
        if position == 0:
            return None
    return position if position < len(text) else None


def route_record(value: Any, sink: FileSink, *, line: int, record: int) -> None:
    """Classify one JSON record by its keys and add it to the sink, or count a skip."""
    fields = None
    if type(value) is dict:
        keys = tuple(value)
        log = _GRAPH_LOGS.get(keys, _UNCLASSIFIED)
        if log is _UNCLASSIFIED:
            fields = lower_keys(value)
            log = _graph_log(fields)
            _cache_graph_log(keys, fields, log)
        # audit_row and signin_row read keys in any case, so the record goes as it is.
        if log == "audit":
            _add_graph_audit(value, sink, line=line, record=record)
            return
        if log == "signin":
            _add_graph_signin(value, sink, line=line, record=record)
            return
    if fields is None:
        fields = lower_keys(value)
    if not fields:
        sink.skip("not a JSON object", line=line, record=record)
        return
    if _is_diagnostic(fields):
        _route_diagnostic(fields, sink, line=line, record=record)
    elif ual.is_unified_audit_record(fields):
        ual.route_record(fields, sink, line=line, record=record)
    elif _is_log_analytics(fields):
        _route_log_analytics(fields, sink, line=line, record=record)
    elif _is_graph_audit(fields):
        _add_graph_audit(fields, sink, line=line, record=record)
    elif _is_graph_signin(fields):
        _add_graph_signin(fields, sink, line=line, record=record)
    elif set(fields) == {"error"}:
        _skip_graph_error(fields["error"], sink, line=line, record=record)
    elif _is_simulate_labels(fields):
        sink.skip_as_shape(
            SIMULATE_LABELS_SHAPE, SIMULATE_LABELS_REASON, line=line, record=record
        )
    else:
        sink.skip(
            "unrecognised record (not an Entra audit or sign-in record)",
            line=line,
            record=record,
        )


def _is_simulate_labels(fields: dict[str, Any]) -> bool:
    return (
        fields.get("generator") == SIMULATE_LABELS_GENERATOR and "scenarios" in fields
    )


def _skip_graph_error(error: Any, sink: FileSink, *, line: int, record: int) -> None:
    """Skip a saved Microsoft Graph error response, and warn with its code and
    message.

    The skip reason is the same for every code, so the run summary counts these
    records under one reason.
    """
    code: str | None = None
    message: str | None = None
    if isinstance(error, str):
        code = error
    elif type(error) is dict:
        fields = lower_keys(error)
        code = first_text(fields, "code")
        message = first_text(fields, "message")
    detail = "skipped a Microsoft Graph error response in place of log records"
    if code:
        detail += f": {_shorten(code, _MAX_ERROR_CODE_CHARS)}"
    if message:
        detail += f" ({_shorten(message, _MAX_ERROR_MESSAGE_CHARS)})"
    detail += (
        "; check the permissions of the account that exported the log and the "
        "query, then export again"
    )
    sink.skip_with_warning(GRAPH_ERROR_REASON, detail, line=line, record=record)


def _shorten(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters, ending in "..." when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def _graph_log(fields: dict[str, Any]) -> str | None:
    """Return the Graph log that :func:`route_record` adds ``fields`` to, else None."""
    if (
        not fields
        or _is_diagnostic(fields)
        or ual.is_unified_audit_record(fields)
        or _is_log_analytics(fields)
    ):
        return None
    if _is_graph_audit(fields):
        return "audit"
    if _is_graph_signin(fields):
        return "signin"
    return None


def _cache_graph_log(
    keys: tuple[Any, ...], fields: dict[str, Any], log: str | None
) -> None:
    """Keep the Graph log of records with these keys, when the keys alone decide it.

    Only ``_is_diagnostic`` reads a value, that of ``properties``. Only str keys are
    kept, because 1, True and 1.0 match as cache keys while their text differs.
    """
    if "properties" in fields or len(keys) > _CACHED_KEYS_MAX:
        return
    if not all(type(key) is str for key in keys):
        return
    if len(_GRAPH_LOGS) >= _CACHED_KEY_SETS_MAX:
        _GRAPH_LOGS.clear()
    _GRAPH_LOGS[keys] = log


def _is_log_analytics(fields: dict[str, Any]) -> bool:
    return "timegenerated" in fields or "tenantid" in fields and "type" in fields


def _is_graph_audit(fields: dict[str, Any]) -> bool:
    return "activitydisplayname" in fields or "activitydatetime" in fields


def _is_graph_signin(fields: dict[str, Any]) -> bool:
    return "createddatetime" in fields and _looks_like_signin(fields)


def _add_graph_audit(value: Any, sink: FileSink, *, line: int, record: int) -> None:
    sink.add_audit_values(
        entra.audit_values(value),
        shape=SHAPE_GRAPH,
        line=line,
        record=record,
        time_column="activityDateTime",
    )


def _add_graph_signin(value: Any, sink: FileSink, *, line: int, record: int) -> None:
    row, steps = entra.signin_row(value)
    sink.add_signin(
        row,
        steps,
        shape=SHAPE_GRAPH,
        line=line,
        record=record,
        time_column="createdDateTime",
    )


def _is_diagnostic(fields: dict[str, Any]) -> bool:
    if (
        "category" not in fields
        or "properties" in fields
        and not isinstance(fields["properties"], dict)
    ):
        return False
    return (
        "properties" in fields
        or "time" in fields
        or "resourceid" in fields
        or "operationname" in fields
    ) and "timegenerated" not in fields


def _looks_like_signin(fields: dict[str, Any]) -> bool:
    return (
        "userid" in fields
        or "userprincipalname" in fields
        or "status" in fields
        or "appdisplayname" in fields
    )


def _route_diagnostic(
    fields: dict[str, Any], sink: FileSink, *, line: int, record: int
) -> None:
    category = first_text(fields, "category") or ""
    envelope_time = first_text(fields, "time")
    properties = fields.get("properties") or {}
    kind = category.lower()
    if kind in DIAGNOSTIC_AUDIT_CATEGORIES:
        row = entra.audit_row(properties, envelope_time=envelope_time)
        if row["activity"] is None:
            row["activity"] = first_text(fields, "operationname")
        column = _time_column(row, envelope_time, "properties.activityDateTime")
        sink.add_audit(
            row, shape=SHAPE_DIAGNOSTIC, line=line, record=record, time_column=column
        )
    elif kind in entra.SIGNIN_EVENT_TYPE_BY_SOURCE:
        row, steps = entra.signin_row(
            properties, envelope_time=envelope_time, source_kind=category
        )
        if row["error_code"] is None:
            row["error_code"] = integer(fields.get("resulttype"))
        column = _time_column(row, envelope_time, "properties.createdDateTime")
        sink.add_signin(
            row,
            steps,
            shape=SHAPE_DIAGNOSTIC,
            line=line,
            record=record,
            time_column=column,
        )
    else:
        sink.skip(
            quote_input(
                "unsupported category {category}",
                category=reason_value(category, "(none)"),
            ),
            line=line,
            record=record,
        )


def _time_column(row: dict[str, Any], envelope_time: str | None, own: str) -> str:
    """Name the field the event time came from; the envelope ``time`` is special.

    Azure Monitor writes some envelope ``time`` values as US 12-hour text, so the sink
    reads slash dates in that column month first unless the user says otherwise.
    """
    if envelope_time is not None and row["event_time"] == envelope_time:
        return DIAGNOSTIC_ENVELOPE_TIME
    return own


def _route_log_analytics(
    fields: dict[str, Any], sink: FileSink, *, line: int, record: int
) -> None:
    table = (first_text(fields, "type") or "").lower()
    envelope_time = first_text(fields, "timegenerated", "timegenerated [utc]")
    # Exports from a query can carry a projected ``Type`` column that is not the
    # table name, so the audit columns decide first.
    is_audit = table in LOG_ANALYTICS_AUDIT_TABLES or (
        "activitydisplayname" in fields or "initiatedby" in fields
    )
    is_signin = table in LOG_ANALYTICS_SIGNIN_TABLES or (
        "createddatetime" in fields or "userprincipalname" in fields
    )
    if is_audit:
        row = entra.audit_row(fields, envelope_time=envelope_time)
        sink.add_audit(
            row,
            shape=SHAPE_LOG_ANALYTICS,
            line=line,
            record=record,
            time_column="ActivityDateTime",
        )
    elif is_signin:
        row, steps = entra.signin_row(
            fields,
            envelope_time=envelope_time,
            source_kind=table or None,
        )
        sink.add_signin(
            row,
            steps,
            shape=SHAPE_LOG_ANALYTICS,
            line=line,
            record=record,
            time_column="CreatedDateTime",
        )
    else:
        sink.skip(
            quote_input(
                "unsupported table {table}",
                table=reason_value(first_text(fields, "type"), "(unknown)"),
            ),
            line=line,
            record=record,
        )
