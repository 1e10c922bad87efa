"""Warnings about record ids whose copies differ, limited per run.

Two overlapping exports can differ in thousands of records. The JSON report lists
every conflict under ``run.conflicts``, so the log names only the first few and
then gives the number of the others in one line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from h056hunt.errors import ProgramText
from h056hunt.log_format import quote_names
from h056hunt.plurals import Counted

if TYPE_CHECKING:
    from h056hunt.load import Conflict

logger = logging.getLogger(__name__)

MAX_CONFLICT_WARNINGS = 5


class ConflictWarnings:
    """The conflict warnings of one run.

    The fast path de-duplicates again after each read of pre-filtered records, and
    each pass finds the earlier conflicts again. This object keeps the conflicts
    already handled, so none is logged twice, and holds back the count of the
    unnamed ones until :meth:`log_remainder`.
    """

    def __init__(self) -> None:
        self._handled: set[tuple[str, str]] = set()
        self._unnamed = 0

    def add(self, conflicts: list[Conflict]) -> None:
        """Log new conflicts one by one until the run has named the maximum."""
        new = [
            item
            for item in conflicts
            if (item.log, item.record_id) not in self._handled
        ]
        room = max(0, MAX_CONFLICT_WARNINGS - len(self._handled))
        for conflict in new[:room]:
            logger.warning(
                "%s record %r differs between copies in %s (columns: %s); kept the "
                "most complete copy%s",
                conflict.log,
                conflict.record_id,
                quote_names(conflict.files),
                ", ".join(conflict.columns),
                _kept_copy(conflict),
            )
        self._unnamed += len(new[room:])
        self._handled.update((item.log, item.record_id) for item in new)

    def log_remainder(self) -> None:
        """Log in one line how many conflicts were not named; call when loading ends.

        A later call logs only conflicts added after the earlier one.
        """
        if not self._unnamed:
            return
        logger.warning(
            "%s between copies; kept the most complete copy of each. The JSON "
            "report of h056 hunt (--format json) lists every one under "
            "run.conflicts",
            Counted(self._unnamed, "more record id differs", "more record ids differ"),
        )
        self._unnamed = 0


def _kept_copy(conflict: Conflict) -> ProgramText:
    """Name the kept copy, such as ``, record 3 of 'a.json'``, or nothing when the
    conflict does not record it."""
    if conflict.kept_file is None or conflict.kept_record is None:
        return ProgramText("")
    return ProgramText(f", record {conflict.kept_record} of {conflict.kept_file!r}")
