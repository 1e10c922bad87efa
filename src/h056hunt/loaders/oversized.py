"""Count or reject a record longer than the per-record limit (``--max-record-size``).

Such a record is far larger than the Entra audit and sign-in records seen in exports,
and decoding it would take several times its size in memory, so loaders pass over it
without decoding it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from h056hunt.errors import InputError
from h056hunt.plurals import Counted

if TYPE_CHECKING:
    from h056hunt.loaders.sink import FileSink

logger = logging.getLogger(__name__)

SKIP_REASON = "record larger than the limit"
_MAX_WARNINGS_PER_FILE = 5


def reject_oversized(
    sink: FileSink,
    *,
    line: int | None,
    size: int,
    limit: int,
    strict: bool,
    unit: str = "bytes",
) -> None:
    """Raise in strict mode; otherwise count one skipped record and mark the file.

    Args:
        sink: the file's sink.
        line: 1-based line where the record starts, when known.
        size: the record's length in ``unit``.
        limit: the per-record limit in ``unit``.
        strict: raise instead of counting.
        unit: ``bytes`` for lines read from a file, ``characters`` for records inside
            a decoded JSON document.

    Raises:
        InputError: strict mode (reason ``record_too_large``).
    """
    noun = unit.removesuffix("s")
    message = (
        f"a record of {Counted(size, noun)} is larger than the limit of "
        f"{Counted(limit, noun)}"
    )
    if strict:
        raise InputError(
            sink.path,
            message,
            reason="record_too_large",
            line=line,
            complete_records=sink.report.records_seen,
            hint="raise --max-record-size if the record is genuine, or rerun with "
            "--lenient to skip it",
        )
    skipped_before = sink.report.skipped[SKIP_REASON]
    if skipped_before < _MAX_WARNINGS_PER_FILE:
        logger.warning(
            "%s, line %s: %s; skipped without reading it", sink.path, line, message
        )
    elif skipped_before == _MAX_WARNINGS_PER_FILE:
        logger.warning(
            "%s: more records larger than the limit; the summary counts them",
            sink.path,
        )
    sink.report.partial = True
    sink.skip(SKIP_REASON, line=line, record=None)
