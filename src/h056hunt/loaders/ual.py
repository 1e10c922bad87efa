"""Map Purview Unified Audit Log records of Entra ID to canonical rows."""

from __future__ import annotations

from typing import Any

from h056hunt.loaders.sink import FileSink


def is_unified_audit_record(fields: dict[str, Any]) -> bool:
    """Tell whether lower-keyed ``fields`` are a Unified Audit Log ``AuditData`` record."""
    return "workload" in fields or ("recordtype" in fields and "creationtime" in fields)


def route_record(
    fields: dict[str, Any], sink: FileSink, *, line: int | None, record: int
) -> None:
    """Add one Unified Audit Log record to the sink, or count it as skipped."""
    sink.skip("Unified Audit Log record (not read yet)", line=line, record=record)
