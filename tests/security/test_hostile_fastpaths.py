"""Hostile input for the fast paths: files that change while read, odd CSVs, Ctrl-C.

Each test compares the fast path with ``--no-fast-path`` or checks that a fault ends
with an input error (exit 2) and never with an internal error or a signal. Faults
that need exact timing (a file shrinking mid-scan, Ctrl-C while the scan workers
wait) are injected by a small wrapper script that patches one function and then
runs the real CLI in a child process.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from hostile import run_cli

from h056hunt.loaders import csv_scan, fastpath

ARGUMENTS = ["--fail-on", "none", "--format", "jsonl"]
LOG_ANALYTICS_HEADER = (
    "TimeGenerated [UTC],Type,Id,CreatedDateTime [UTC],UserId,UserPrincipalName,"
    "ResultType,ResultDescription"
)


def signin_line(number: int, denied: bool = False) -> str:
    """Return one Graph sign-in as a line, shaped as the fast path expects."""
    record_id = str(uuid.UUID(int=number))
    user = str(uuid.UUID(int=10_000 + number % 50))
    status = {"errorCode": 500121, "additionalDetails": "MFA denied; user declined"}
    if not denied:
        status = {"errorCode": 0, "additionalDetails": "MFA completed"}
    record = {
        "id": record_id,
        "createdDateTime": f"2026-03-02T{number // 3600 % 24:02}:"
        f"{number // 60 % 60:02}:{number % 60:02}Z",
        "userId": user,
        "userPrincipalName": f"user{number % 50}@contoso.example",
        "status": status,
        "pad": "x" * 400,
    }
    return json.dumps(record, separators=(",", ":")) + "\n"


def export_line(number: int) -> str:
    """Return line ``number`` of the exports that :func:`write_signins` writes."""
    return signin_line(number, denied=number % 997 == 0)


def write_signins(path: Path, records: int) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for number in range(records):
            stream.write(export_line(number))
    return path


def run_wrapped(script: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (patches, then the CLI's ``main``) in a child process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# Truncates the input file just before the scanner reads its first chunk, as a
# collector that rewrites the file in place would. With the argument "parallel" the
# parallel scan takes files from 1 MiB up.
SHRINK_DURING_SCAN = """
    import os, sys
    from h056hunt.cli import main
    from h056hunt.loaders import fastpath, prefilter

    target, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "parallel":
        fastpath.PARALLEL_MIN_BYTES = 1024 * 1024
    feed = prefilter.LineScanner.feed

    def shrink_then_feed(self, chunk, length):
        if os.path.getsize(target) > size:
            os.truncate(target, size)
        return feed(self, chunk, length)

    prefilter.LineScanner.feed = shrink_then_feed
    sys.argv = ["h056", "hunt", "--signin", target, "--fail-on", "none"]
    main()
"""


@pytest.mark.parametrize("mode", ["in-process", "parallel"])
def test_file_shrinking_during_scan(tmp_path: Path, mode: str) -> None:
    # Over one chunk, so the in-process scan reads again after the file shrank.
    path = write_signins(tmp_path / "signins.json", 20_000)
    assert path.stat().st_size > fastpath.CHUNK_BYTES
    # Cut the file inside its first line.
    result = run_wrapped(SHRINK_DURING_SCAN, str(path), "100", mode)
    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    assert "signins.json, line 1" in result.stderr


def test_file_shrinking_at_line_end(tmp_path: Path) -> None:
    path = write_signins(tmp_path / "signins.json", 20_000)
    kept = sum(len(export_line(number)) for number in range(3))
    result = run_wrapped(SHRINK_DURING_SCAN, str(path), str(kept), "parallel")
    assert result.returncode == 0, result.stderr
    assert "Records: 3 seen, 3 loaded" in result.stderr


def test_file_shrinking_in_last_range(tmp_path: Path) -> None:
    # The last worker's range has no planned end. Its first chunk is read before
    # the file shrinks, and its next read finds the end of the file before the
    # size that the file had when the range started.
    records = 70_000
    path = write_signins(tmp_path / "signins.json", records)
    kept_records = records * 80 // 100
    kept_bytes = sum(len(export_line(number)) for number in range(kept_records))
    second_range = path.stat().st_size // 2
    assert second_range + fastpath.CHUNK_BYTES < kept_bytes
    result = run_wrapped(SHRINK_DURING_SCAN, str(path), str(kept_bytes), "parallel")
    assert result.returncode == 0, result.stderr
    assert f"Records: {kept_records} seen, {kept_records} loaded" in result.stderr


# Truncates the input file after the first range's scan has read its range and
# before the second range's scan opens the file, as when the second range waits in
# the queue behind another file. The parallel scan takes files from 1 MiB up.
SHRINK_BEFORE_SECOND_RANGE = """
    import os, sys, time
    from h056hunt.cli import main
    from h056hunt.loaders import fastpath

    target, size, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fastpath.PARALLEL_MIN_BYTES = 1024 * 1024
    chunks = fastpath._chunks

    def chunks_with_shrink(task, start, end, **options):
        if start == 0:
            yield from chunks(task, start, end, **options)
            open(marker, "w").close()
            return
        deadline = time.monotonic() + 60
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.truncate(target, size)
        yield from chunks(task, start, end, **options)

    fastpath._chunks = chunks_with_shrink
    sys.argv = ["h056", "hunt", "--signin", target, "--fail-on", "none"]
    main()
"""


@pytest.mark.parametrize("kept_records", [0, 3])
def test_file_shrinking_before_second_range(tmp_path: Path, kept_records: int) -> None:
    # The second range starts past the new end of the file. Unless its scan
    # raises there, the run counts the first range's lines, which are gone.
    path = write_signins(tmp_path / "signins.json", 20_000)
    kept_bytes = sum(len(export_line(number)) for number in range(kept_records))
    marker = tmp_path / "first-range-read"
    result = run_wrapped(
        SHRINK_BEFORE_SECOND_RANGE, str(path), str(kept_bytes), str(marker)
    )
    assert path.stat().st_size == kept_bytes
    assert "Traceback" not in result.stderr
    if kept_records:
        assert result.returncode == 0, result.stderr
        assert f"Records: {kept_records} seen, {kept_records} loaded" in result.stderr
    else:
        assert result.returncode == 2, result.stderr
        assert "contain no records" in result.stderr


def test_chunks_past_end_of_file_rejected(tmp_path: Path) -> None:
    path = write_signins(tmp_path / "signins.json", 10)
    size = path.stat().st_size
    spec = fastpath.prefilter.signin_spec()
    limits = fastpath._Limits(2**30, 2**20)
    plan = fastpath.RangePlan(size + 100, None)
    task = fastpath._Task(path, "signins.json", spec, False, False, plan, limits)
    with pytest.raises(fastpath.Unsupported, match="file changed while it was read"):
        list(fastpath._chunks(task, plan.start, plan.end))


# Replaces the input file by a rename, truncates it or appends to it, once every
# range has been read and before the run routes the scanned records. With the
# mode "parallel" the parallel scan takes files from 1 MiB up, and the second
# range waits for the first so that the change comes after both.
CHANGE_AFTER_SCAN = """
    import os, sys, time
    from h056hunt.cli import main
    from h056hunt.loaders import fastpath

    target, mode, change, marker = sys.argv[1:5]
    if mode == "parallel":
        fastpath.PARALLEL_MIN_BYTES = 1024 * 1024
    chunks = fastpath._chunks

    def chunks_then_change(task, start, end, **options):
        if mode == "parallel" and start == 0:
            yield from chunks(task, start, end, **options)
            open(marker, "w").close()
            return
        deadline = time.monotonic() + 60
        while mode == "parallel" and not os.path.exists(marker):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        yield from chunks(task, start, end, **options)
        if change.startswith("truncate:"):
            os.truncate(target, int(change.removeprefix("truncate:")))
        elif change.startswith("append:"):
            with open(change.removeprefix("append:"), "rb") as source:
                with open(target, "ab") as output:
                    output.write(source.read())
        else:
            os.replace(change, target)

    fastpath._chunks = chunks_then_change
    sys.argv = ["h056", "hunt", "--signin", target, "--fail-on", "none"]
    main()
"""


@pytest.mark.parametrize("mode", ["in-process", "parallel"])
@pytest.mark.parametrize("change", ["truncate", "rename", "append"])
def test_file_changed_after_scan(tmp_path: Path, mode: str, change: str) -> None:
    # The run must not keep the counts of the file it scanned, and the second
    # pass must not read the other file at the offsets of the first.
    path = write_signins(tmp_path / "signins.json", 20_000)
    kept_records = 3
    if change == "truncate":
        kept_bytes = sum(len(export_line(number)) for number in range(kept_records))
        argument = f"truncate:{kept_bytes}"
    elif change == "append":
        # Lines 20,000 to 20,099 of the same export, without a line end at the end.
        added = "".join(export_line(number) for number in range(20_000, 20_100))
        (tmp_path / "added.json").write_text(added.removesuffix("\n"))
        kept_records = 20_100
        argument = f"append:{tmp_path / 'added.json'}"
    else:
        kept_records = 5_000
        write_signins(tmp_path / "replacement.json", kept_records)
        argument = str(tmp_path / "replacement.json")
    marker = tmp_path / "first-range-read"
    result = run_wrapped(CHANGE_AFTER_SCAN, str(path), mode, argument, str(marker))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Records: {kept_records} seen, {kept_records} loaded" in result.stderr


def write_csv(path: Path, rows: list[str], padding: int = 0) -> Path:
    header = LOG_ANALYTICS_HEADER + " " * padding
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode())
    return path


def test_header_only_csv_over_fast_size(tmp_path: Path) -> None:
    # Trailing spaces in the header line bring the file to the fast path's size
    # while the line break stays inside the window where it looks for the header.
    padding = csv_scan.MIN_BYTES - len(LOG_ANALYTICS_HEADER) - 2
    path = write_csv(tmp_path / "header.csv", [], padding)
    assert path.stat().st_size == csv_scan.MIN_BYTES
    fast = run_cli(["hunt", "--signin", str(path), *ARGUMENTS])
    plain = run_cli(["hunt", "--signin", str(path), "--no-fast-path", *ARGUMENTS])
    assert "internal error" not in fast.stderr
    assert fast.exit_code == plain.exit_code == 2
    assert "contain no records" in fast.stderr


# Stops the run once the scan workers have finished the parallel file and wait for
# more work, while the plain path reads the next file.
INTERRUPT_IDLE_WORKERS = """
    import sys, time
    from h056hunt.cli import main
    from h056hunt.loaders import fastpath, registry

    fastpath.PARALLEL_MIN_BYTES = 1024 * 1024

    def wait_for_interrupt(*args, **kwargs):
        sys.stderr.write("PLAIN PATH STARTED\\n")
        sys.stderr.flush()
        time.sleep(60)

    registry.load_file = wait_for_interrupt
    sys.argv = ["h056", "hunt", *sys.argv[1:], "--fail-on", "none"]
    main()
"""


def test_interrupt_with_idle_workers(tmp_path: Path) -> None:
    big = write_signins(tmp_path / "a-signins.json", 12_000)
    # Pretty-printed, so the plain path reads it.
    small = tmp_path / "b-signins.json"
    small.write_text(json.dumps([json.loads(signin_line(1))], indent=2))
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(INTERRUPT_IDLE_WORKERS),
            "--signin",
            str(big),
            "--signin",
            str(small),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            assert process.stderr is not None
            started = process.stderr.readline()
            assert "PLAIN PATH STARTED" in started
            os.killpg(process.pid, signal.SIGINT)
            stderr = process.stderr.read()
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "interrupted" in stderr
    assert group_ends(process.pid), "worker processes outlived the run"


def group_ends(group: int) -> bool:
    """Wait up to 10 s for every process of ``group`` to end."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


# "Revoke user sessions" with U+212A KELVIN SIGN for the k: str.casefold() turns it
# into the listed activity name, as an export tool that folds case would not.
KELVIN_REVOCATION = "Revo\u212ae user sessions"
# "refresh" with U+017F LATIN SMALL LETTER LONG S for the s, which only
# str.casefold() turns into the ASCII letter.
LONG_S_REVOCATION = "Update StsRefre\u017fhTokenValidFrom Timestamp"
# "Update" in fullwidth letters, which NFKC turns into ASCII letters, as an East Asian
# spreadsheet or input method may write it.
FULLWIDTH_REVOCATION = (
    "\uff35\uff50\uff44\uff41\uff54\uff45 StsRefreshTokenValidFrom Timestamp"
)
# "user" in MATHEMATICAL BOLD SMALL letters, four UTF-8 bytes each, which NFKC turns
# into ASCII letters.
BOLD_REVOCATION = "Revoke \U0001d42e\U0001d42c\U0001d41e\U0001d42b sessions"
FOLDED_REVOCATIONS = [
    KELVIN_REVOCATION,
    LONG_S_REVOCATION,
    FULLWIDTH_REVOCATION,
    BOLD_REVOCATION,
]
TARGET_ID = "5f0c4a9e-2b7d-4e61-9a3c-0d8e7f6a5b4c"
ADMIN_ID = "a1b2c3d4-0000-4000-8000-00000000ad01"


def denial_lines() -> str:
    """Return three denied prompts for the target, 3 to 5 minutes after 10:00."""
    lines = []
    for minute in (3, 4, 5):
        record = {
            "id": str(uuid.UUID(int=900 + minute)),
            "createdDateTime": f"2026-03-02T10:0{minute}:00Z",
            "userId": TARGET_ID,
            "userPrincipalName": "target@contoso.example",
            "status": {
                "errorCode": 500121,
                "additionalDetails": "MFA denied; user declined the authentication",
            },
        }
        lines.append(json.dumps(record, separators=(",", ":")) + "\n")
    return "".join(lines)


def graph_revocation() -> dict[str, object]:
    return {
        "id": "Directory_revocation_1",
        "category": "UserManagement",
        "correlationId": str(uuid.UUID(int=77)),
        "result": "success",
        "activityDisplayName": KELVIN_REVOCATION,
        "activityDateTime": "2026-03-02T10:00:00Z",
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {
            "user": {
                "id": ADMIN_ID,
                "userPrincipalName": "admin@contoso.example",
                "ipAddress": "203.0.113.9",
            }
        },
        "targetResources": [
            {
                "id": TARGET_ID,
                "type": "User",
                "userPrincipalName": "target@contoso.example",
            }
        ],
    }


def assert_same_findings(audit: Path, signin: Path) -> None:
    """Run both paths; the revocation must be found and the outputs must match."""
    arguments = ["--audit", str(audit), "--signin", str(signin), "--min-denials", "3"]
    fast = run_cli(["hunt", *arguments, *ARGUMENTS])
    plain = run_cli(["hunt", *arguments, "--no-fast-path", *ARGUMENTS])
    assert plain.exit_code == 0, plain.stderr
    assert '"revocation_chain"' in plain.stdout
    assert fast.exit_code == plain.exit_code
    assert fast.stdout == plain.stdout


@pytest.mark.parametrize("activity", FOLDED_REVOCATIONS)
def test_casefolded_activity_in_crlf_lines(tmp_path: Path, activity: str) -> None:
    # CRLF line ends send the scanner down its line-by-line branch, the one that
    # checks the words of activity names.
    revocation = graph_revocation()
    revocation["activityDisplayName"] = activity
    audit = tmp_path / "audit.json"
    line = json.dumps(revocation, separators=(",", ":"), ensure_ascii=False)
    audit.write_bytes(line.encode() + b"\r\n")
    signin = tmp_path / "signins.json"
    signin.write_text(denial_lines(), encoding="utf-8")
    assert_same_findings(audit, signin)


@pytest.mark.parametrize("activity", FOLDED_REVOCATIONS)
def test_casefolded_activity_in_lf_lines(tmp_path: Path, activity: str) -> None:
    # LF line ends take the scanner's array branch. It searches a lower-cased copy
    # of the chunk, where U+017F LATIN SMALL LETTER LONG S hides "refresh", and
    # checks each non-ASCII line on its own.
    revocation = graph_revocation()
    revocation["activityDisplayName"] = activity
    other = graph_revocation()
    other["id"] = "Directory_other_1"
    other["activityDisplayName"] = "Update user"
    other["initiatedBy"] = {"user": {"id": ADMIN_ID, "displayName": "Jos\u00e9"}}
    lines = [
        json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        for record in (other, revocation)
    ]
    audit = tmp_path / "audit.json"
    audit.write_bytes("\n".join(lines).encode() + b"\n")
    signin = tmp_path / "signins.json"
    signin.write_text(denial_lines(), encoding="utf-8")
    assert_same_findings(audit, signin)


@pytest.mark.parametrize("activity", FOLDED_REVOCATIONS)
def test_casefolded_activity_in_portal_csv(tmp_path: Path, activity: str) -> None:
    shapes = tmp_path / "shapes"
    simulated = run_cli(
        ["simulate", "--users", "5", "--noise", "0", "--scenario", "add_user"]
        + ["--audit-shape", "portal-csv", "--out", str(shapes)]
    )
    assert simulated.exit_code == 0, simulated.stderr
    with (shapes / "audit.csv").open(encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream))
    audit = tmp_path / "audit.csv"
    with audit.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=header, restval="")
        writer.writeheader()
        base = {
            "Category": "UserManagement",
            "Result": "success",
            "ActorType": "User",
            "ActorObjectId": ADMIN_ID,
            "ActorUserPrincipalName": "admin@contoso.example",
            "Target1Type": "User",
        }
        # Enough other rows to bring the file over the CSV fast path's size.
        for number in range(3_000):
            writer.writerow(
                base
                | {
                    "Date (UTC)": f"2026-03-02T09:{number % 60:02}:00Z",
                    "CorrelationId": str(uuid.UUID(int=number)),
                    "Activity": "Update user",
                    "User Agent": "x" * 300,
                    "Target1ObjectId": str(uuid.UUID(int=5_000 + number)),
                }
            )
        writer.writerow(
            base
            | {
                "Date (UTC)": "2026-03-02T10:00:00Z",
                "CorrelationId": str(uuid.UUID(int=77)),
                "Activity": activity,
                "Target1ObjectId": TARGET_ID,
                "Target1UserPrincipalName": "target@contoso.example",
            }
        )
    assert audit.stat().st_size >= csv_scan.MIN_BYTES
    signin = tmp_path / "signins.json"
    signin.write_text(denial_lines(), encoding="utf-8")
    assert_same_findings(audit, signin)
