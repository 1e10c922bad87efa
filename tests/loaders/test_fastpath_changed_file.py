"""A fast-path file that changes between the two passes is never read silently.

The first pass indexes the pre-filtered lines of a sign-in file; after detection the
second pass reads the blocks of the matched user again. These tests change the file
in between, in-process, so no timing is involved. A strict run must stop with exit
code 2 and name the file. A lenient run must be partial, and the pre-filtered records
that could not be read back count as skipped.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt import cli
from h056hunt.errors import InputError
from h056hunt.load import CHANGED_FILE_REASON, LoadedData, LoadOptions, load_logs

USER_ID = "11111111-1111-4111-8111-111111111111"
ADMIN_ID = "22222222-2222-4222-8222-222222222222"


def revocation() -> dict[str, Any]:
    return {
        "id": "audit-1",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2025-01-02T03:00:00Z",
        "result": "success",
        "initiatedBy": {
            "user": {"id": ADMIN_ID, "userPrincipalName": "admin@contoso.example"}
        },
        "targetResources": [
            {
                "id": USER_ID,
                "type": "User",
                "userPrincipalName": "bob@contoso.example",
            }
        ],
    }


def signin(number: int, *, denied: bool, user: str = USER_ID) -> dict[str, Any]:
    status = (
        {"errorCode": 500121, "additionalDetails": "MFA denied; user declined"}
        if denied
        else {"errorCode": 0, "additionalDetails": "MFA completed in Azure AD"}
    )
    return {
        "id": f"signin-{number}",
        "createdDateTime": f"2025-01-02T03:{number:02d}:00Z",
        "userId": user,
        "userPrincipalName": "bob@contoso.example",
        "status": status,
    }


def compact(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":")) + "\n"


def write_exports(
    folder: Path, *, denial_without_id: bool = False
) -> tuple[Path, Path]:
    """Write a revocation, 6 denied prompts and a later approval of the same user.

    The lines are compact, as exports write them, and the approval contains no searched
    word, so the first pass pre-filters it and only the second pass reads it. With
    ``denial_without_id``, the first denial has a UPN and no user id.
    """
    audit = folder / "audit.ndjson"
    audit.write_text(compact(revocation()), "utf-8")
    records = [signin(number, denied=True) for number in range(5, 11)]
    if denial_without_id:
        del records[0]["userId"]
    records.append(signin(12, denied=False))
    signins = folder / "signin.ndjson"
    signins.write_text("".join(compact(record) for record in records), "utf-8")
    return audit, signins


def truncate_last_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))


def replace_same_size(path: Path) -> None:
    """Put a new file of the same bytes in place, so only the inode differs."""
    stat = os.stat(path)
    copy = path.with_suffix(".new")
    copy.write_bytes(path.read_bytes())
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(copy, path)


def rewrite_same_size(path: Path) -> None:
    """Change one byte in place, keeping the size, with a later modification time."""
    data = bytearray(path.read_bytes())
    data[data.rindex(b"Azure")] = ord("a")
    stat = os.stat(path)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


CHANGES: dict[str, Callable[[Path], None]] = {
    "truncated": truncate_last_line,
    "replaced": replace_same_size,
    "rewritten": rewrite_same_size,
    "deleted": Path.unlink,
}


def run_with_change(
    monkeypatch: pytest.MonkeyPatch,
    audit: Path,
    signins: Path,
    change: Callable[[Path], None],
    *extra: str,
) -> Result:
    """Run ``h056 hunt``, changing the sign-in file right after the first pass."""

    def load_then_change(*args: Any, **kwargs: Any) -> LoadedData:
        data = load_logs(*args, **kwargs)
        change(signins)
        return data

    monkeypatch.setattr(cli, "load_logs", load_then_change)
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    arguments = ["hunt", "--audit", str(audit), "--signin", str(signins)]
    arguments += ["--format", "json", "--fail-on", "none", "--min-denials", "3"]
    try:
        return CliRunner().invoke(cli.main, [*arguments, *extra])
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def test_unchanged_file_reads_approval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, signins = write_exports(tmp_path)

    result = run_with_change(monkeypatch, audit, signins, lambda path: None)

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    (finding,) = report["findings"]
    assert finding["approved"] is True
    assert report["run"]["partial"] is False


@pytest.mark.parametrize("change", list(CHANGES))
def test_changed_file_strict_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    audit, signins = write_exports(tmp_path)

    result = run_with_change(monkeypatch, audit, signins, CHANGES[change])

    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert "signin.ndjson" in result.stderr
    assert "the file changed while it was read" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("change", list(CHANGES))
def test_changed_file_lenient_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    audit, signins = write_exports(tmp_path)

    result = run_with_change(monkeypatch, audit, signins, CHANGES[change], "--lenient")

    assert result.exit_code == 0, result.stderr
    assert "the file changed while it was read" in result.stderr
    run = json.loads(result.stdout)["run"]
    assert run["partial"] is True
    (report,) = [
        item for item in run["files"] if item["path"].endswith("signin.ndjson")
    ]
    assert report["partial"] is True
    assert report["records_seen"] == 7
    assert report["loaded"]["signin"] == 6
    assert report["prefiltered"] == 0
    assert report["skipped_by_reason"] == {CHANGED_FILE_REASON: 1}
    loaded = sum(report["loaded"].values())
    assert report["records_seen"] == loaded + report["duplicates"] + report["skipped"]


def test_read_context_after_truncation_raises(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    truncate_last_line(signins)

    with pytest.raises(InputError) as raised:
        data.read_context({USER_ID})

    assert raised.value.path == str(signins)
    assert raised.value.reason == "file_changed"
    assert "its size went from" in str(raised.value)


def test_read_context_unchanged_adds_rows(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    (report,) = [item for item in data.files if item.path.endswith("signin.ndjson")]
    assert len(data.signin) == 6
    assert report.prefiltered["signin"] == 1

    assert data.read_context({USER_ID}) is True

    assert len(data.signin) == 7
    assert data.partial is False


def test_read_context_lenient_marks_partial(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path)
    data = load_logs([str(audit)], [str(signins)], LoadOptions(strict=False))
    truncate_last_line(signins)

    assert data.read_context({USER_ID}) is False
    # A second request reads nothing again and counts nothing twice.
    assert data.read_context({USER_ID, ADMIN_ID}) is False

    (report,) = [item for item in data.files if item.path.endswith("signin.ndjson")]
    assert data.partial is True
    assert report.partial is True
    assert report.skipped[CHANGED_FILE_REASON] == 1
    assert sum(report.prefiltered.values()) == 0
    assert report.error is not None
    assert "changed while it was read" in report.error
    assert len(data.signin) == 6


def test_upn_search_reads_prefiltered_pair(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path, denial_without_id=True)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())

    pairs = data.prefiltered_upn_pairs()

    ids = {value for column, _ in pairs for value in column.dropna()}
    assert ids == {USER_ID}
    # The records are read for the pairs only, not added to the data.
    assert len(data.signin) == 6


def test_upn_search_not_needed_reads_nothing(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    # Every decoded record has an id, so no UPN is looked up.
    truncate_last_line(signins)

    assert data.prefiltered_upn_pairs() == []
    assert data.partial is False


def test_upn_search_after_truncation_raises(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path, denial_without_id=True)
    data = load_logs([str(audit)], [str(signins)], LoadOptions())
    truncate_last_line(signins)

    with pytest.raises(InputError) as raised:
        data.prefiltered_upn_pairs()

    assert raised.value.path == str(signins)
    assert raised.value.reason == "file_changed"


def test_upn_search_lenient_marks_partial(tmp_path: Path) -> None:
    audit, signins = write_exports(tmp_path, denial_without_id=True)
    data = load_logs([str(audit)], [str(signins)], LoadOptions(strict=False))
    truncate_last_line(signins)

    assert data.prefiltered_upn_pairs() == []
    # The file is not read again for the context either.
    assert data.read_context({USER_ID}) is False

    (report,) = [item for item in data.files if item.path.endswith("signin.ndjson")]
    assert report.partial is True
    assert report.skipped[CHANGED_FILE_REASON] == 1
    assert sum(report.prefiltered.values()) == 0


@pytest.mark.usefixtures("small_fast_path_units")
@pytest.mark.parametrize("strict", [True, False])
def test_undecodable_prefiltered_line_named(tmp_path: Path, strict: bool) -> None:
    samples = Path(__file__).resolve().parents[2] / "sample_logs"
    lines = (samples / "signin.json").read_text(encoding="utf-8").split("\n")
    # Line 3 is a pre-filtered sign-in of a user whose context the hunt reads.
    # A member without its value keeps the line's form, so the first pass
    # pre-filters it, but it is not valid JSON.
    lines[2] = lines[2].replace('"userDisplayName":"', '"userDisplayName":,"', 1)
    signins = tmp_path / "signin.json"
    signins.write_text("\n".join(lines), encoding="utf-8")
    mode = [] if strict else ["--lenient"]

    result = CliRunner().invoke(
        cli.main,
        ["hunt", "--audit", str(samples / "audit.json"), "--signin", str(signins)]
        + ["--fail-on", "none", "--format", "json", *mode],
    )

    assert "a pre-filtered line read again does not decode" in result.stderr
    assert "line 3" in result.stderr
    assert "changed while it was read" not in result.stderr
    if strict:
        assert result.exit_code == 2
        assert "--no-fast-path" in result.stderr
    else:
        assert result.exit_code == 0, result.stderr
        (report,) = [
            item
            for item in json.loads(result.stdout)["run"]["files"]
            if item["path"].endswith("signin.json")
        ]
        assert report["partial"] is True
