"""JSON output: one document with the run summary and every finding.

The document follows ``schemas/report.schema.json``; each item of ``findings`` is the
record that the ``jsonl`` format writes on one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from h056hunt.render.jsonl import dumps, write_record
from h056hunt.render.records import SCHEMA_VERSION, finding_record
from h056hunt.render.run_summary import run_record

if TYPE_CHECKING:
    from h056hunt.findings import Finding
    from h056hunt.render.context import RenderContext


def report_record(findings: list[Finding], context: RenderContext) -> dict[str, Any]:
    """Return the whole report as a JSON-ready dict with ISO 8601 UTC times."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run_record(context),
        "findings": [
            finding_record(finding, partial=context.partial) for finding in findings
        ],
    }


def render_json(
    findings: list[Finding], stream: TextIO, context: RenderContext
) -> None:
    """Write the report as one JSON document followed by a newline.

    The bytes are those of ``dumps(report_record(findings, context))``, but each
    finding's record is made and written in turn, so a mass revocation's record is
    never held beside the others or as one string.
    """
    # The keys in the order that dumps sorts them: findings, run, schema_version.
    stream.write('{"findings":[')
    for index, finding in enumerate(findings):
        if index:
            stream.write(",")
        write_record(finding_record(finding, partial=context.partial), stream)
    stream.write('],"run":')
    stream.write(dumps(run_record(context)))
    stream.write(',"schema_version":')
    stream.write(dumps(SCHEMA_VERSION))
    stream.write("}\n")
