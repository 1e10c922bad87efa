"""One row of the input file tables for each convert folder that a run skipped.

A convert folder found inside an input folder is skipped file by file, and each
file keeps its own record in JSON. The text, Markdown and HTML tables show the
folder once instead, with the number of its files and the sums of their counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from h056hunt.plurals import Counted

Item = TypeVar("Item")

LOG_COLUMNS = ("audit", "signin", "steps")


def group_by_convert_folder(
    items: Sequence[Item], folder_of: Callable[[Item], str | None]
) -> list[tuple[str | None, list[Item]]]:
    """Group the items of each skipped convert folder, in input order.

    Returns:
        ``(folder, items)`` pairs: one for each convert folder, at the place of
        its first item, and ``(None, [item])`` for every other item.
    """
    groups: list[tuple[str | None, list[Item]]] = []
    by_folder: dict[str, list[Item]] = {}
    for item in items:
        folder = folder_of(item)
        if folder is None:
            groups.append((None, [item]))
        elif folder in by_folder:
            by_folder[folder].append(item)
        else:
            by_folder[folder] = [item]
            groups.append((folder, by_folder[folder]))
    return groups


def folder_label(folder: str, file_count: int) -> str:
    """Return the File cell of a convert folder's row, such as ``lake (7 files)``."""
    return f"{folder} ({Counted(file_count, 'file')})"


def ordered_union(values: Iterable[Iterable[str]]) -> list[str]:
    """Return each value of ``values`` once, in the order first seen."""
    return list(dict.fromkeys(value for group in values for value in group))


def folder_record(folder: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the JSON file records of one convert folder into one table row.

    The counts are summed. The time spans are null, because a file skipped as
    part of a convert folder loads no record. ``file_count`` is the number of
    files merged.
    """
    return {
        "path": folder,
        "converted_in": None,
        "file_count": len(items),
        "given_to": ordered_union(item["given_to"] for item in items),
        "shape": ",".join(ordered_union(item["shape"].split(",") for item in items)),
        "records_seen": sum(item["records_seen"] for item in items),
        "loaded": {
            log: sum(item["loaded"][log] for item in items) for log in LOG_COLUMNS
        },
        "duplicates": sum(item["duplicates"] for item in items),
        "skipped": sum(item["skipped"] for item in items),
        "prefiltered": sum(item["prefiltered"] for item in items),
        "time_span": {"audit": None, "signin": None},
        "partial": any(item["partial"] for item in items),
    }


def table_records(files: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the JSON file records as table rows: one per file, but one per
    skipped convert folder."""
    rows = []
    for folder, items in group_by_convert_folder(
        files, lambda item: item["in_convert_folder"]
    ):
        if folder is None:
            rows.extend(items)
        else:
            rows.append(folder_record(folder, items))
    return rows
