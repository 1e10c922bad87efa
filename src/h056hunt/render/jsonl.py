"""JSON Lines output: one finding per line, keys sorted, ASCII only.

Escaping every non-ASCII character keeps bidirectional overrides and other invisible
characters from log fields out of the bytes, while the decoded values stay exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from h056hunt.findings import Finding
from h056hunt.render.records import finding_record


def dumps(record: Any) -> str:
    """Serialise one record the way every JSON output of the tool does."""
    return json.dumps(record, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def render_jsonl(
    findings: Iterable[Finding], stream: TextIO, *, partial: bool = False
) -> None:
    """Write one JSON object per finding, one per line."""
    for finding in findings:
        stream.write(dumps(finding_record(finding, partial=partial)))
        stream.write("\n")
