"""Scan a CSV export whose last line has no line break.

The scan reads a file in chunks and cuts each at its last line break. The last line
of a file without a final line break ends at the end of the file instead, so a
read that returns only that line must not count as a line longer than the buffer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runs import hunt_files
from h056hunt.activities import DEFAULT_REVOCATION_ACTIVITIES
from h056hunt.loaders import csv_scan

HEADER = "CreatedDateTime [UTC],Id,UserId,ResultType,UserAgent,Type"
USER = "6cf0f094-7db9-4b8b-9ea2-523d5b5afd6f"
AUDIT = (
    '{"id":"audit-1","activityDateTime":"2026-03-02T09:00:00Z",'
    '"activityDisplayName":"Update user","initiatedBy":{},"targetResources":[]}\n'
)


def _row(index: int, agent: str = "t") -> str:
    record = f"00000000-0000-4000-8000-{index:012d}"
    return f"2026-03-02T10:00:{index:02d}Z,{record},{USER},0,{agent},SigninLogs"


def test_last_line_alone_in_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signin.csv"
    # Rows are about 100 bytes long, so with 200-byte chunks the last read holds
    # only the end of the last line.
    path.write_text(HEADER + "\n" + "\n".join(_row(index) for index in range(30)))
    plan, _ = csv_scan.plan_scan(
        path,
        revocation_activities=DEFAULT_REVOCATION_ACTIVITIES,
        max_record_bytes=2**20,
    )
    whole = csv_scan.scan_rows(path, plan, "x")
    monkeypatch.setattr(csv_scan, "CHUNK_BYTES", 200)

    chunked = csv_scan.scan_rows(path, plan, "x")

    assert chunked.starts.tolist() == whole.starts.tolist()
    assert chunked.facts.keep.tolist() == whole.facts.keep.tolist()


def test_single_row_without_break_read_fast(tmp_path: Path) -> None:
    signin = tmp_path / "signin.csv"
    signin.write_text(HEADER + "\n" + _row(0, "x" * 1_100_000))
    audit = tmp_path / "audit.json"
    audit.write_text(AUDIT)

    result = hunt_files(audit, signin, "-vv", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert "longer than the scan buffer" not in result.stderr
    assert "CSV rows decoded" in result.stderr
