"""The JSON Schemas shipped in the package, which describe every JSON output.

``finding.schema.json`` describes one finding (a ``jsonl`` line, an item of the
``json`` report's ``findings``), ``report.schema.json`` the ``json`` report, and
``timesketch_event.schema.json`` one ``timesketch`` line. The report schema refers to
the finding schema by its ``$id``, so a validator needs both; see ``docs/output.md``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

FINDING_SCHEMA = "finding.schema.json"
REPORT_SCHEMA = "report.schema.json"
TIMESKETCH_EVENT_SCHEMA = "timesketch_event.schema.json"
SCHEMA_FILES = (FINDING_SCHEMA, REPORT_SCHEMA, TIMESKETCH_EVENT_SCHEMA)


def load_schema(name: str) -> dict[str, Any]:
    """Return one shipped schema, parsed, by its file name.

    Raises:
        FileNotFoundError: no shipped schema has that name.
    """
    if name not in SCHEMA_FILES:
        expected = ", ".join(SCHEMA_FILES)
        raise FileNotFoundError(
            f"schema {name!r} not found in the package: expected one of {expected}"
        )
    text = resources.files("h056hunt").joinpath("schemas", name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
