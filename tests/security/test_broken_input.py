"""Broken, mis-encoded, huge and wrong inputs: a clear message or a counted skip.

Every run goes through the real CLI. A strict run over a broken file must stop with
exit code 2 and a message that names the file, the line or record, what is wrong
and what to do, never with a traceback. A lenient run must count every record:
for each file, records seen equal records loaded plus duplicates plus skipped.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import Result
from hostile import PLAIN_USER, denied_signin, run_cli

ARGUMENTS = ["--fail-on", "none", "--format", "json", "--min-denials", "3"]
FORMATS_DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
HUGE_LINE_BYTES = 300 * 1024 * 1024
CHUNK_BYTES = 8 * 1024 * 1024


def audit(record_id: str = "A1") -> dict[str, Any]:
    return {
        "id": record_id,
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": "2025-01-02T03:00:00Z",
        "result": "success",
        "initiatedBy": {"user": {"id": "admin-id", "userPrincipalName": "a@x.example"}},
        "targetResources": [{"id": PLAIN_USER, "type": "User"}],
    }


def ndjson(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def graph_page(*records: dict[str, Any]) -> str:
    return json.dumps({"value": list(records)}, indent=2)


def hunt(*arguments: str) -> Result:
    return run_cli(["hunt", *arguments, *ARGUMENTS])


def report_of(result: Result) -> dict[str, Any]:
    assert "Traceback" not in result.stderr
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def file_report(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [item for item in report["run"]["files"] if item["path"].endswith(name)]
    return found


def assert_accounting(report: dict[str, Any]) -> None:
    """Assert seen == loaded + duplicates + skipped for every file of a report."""
    for item in report["run"]["files"]:
        loaded = sum(item["loaded"].values())
        total = loaded + item["duplicates"] + item["skipped"]
        assert item["records_seen"] == total, item
        assert item["skipped"] == sum(item["skipped_by_reason"].values()), item


def assert_clean_failure(result: Result, *fragments: str) -> None:
    """Assert exit code 2, no traceback, and each fragment in the message."""
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


# Each case writes one broken file and returns its name; lenient runs of all of them
# must keep the accounting.
def empty_file(folder: Path) -> str:
    (folder / "empty.json").write_bytes(b"")
    return "empty.json"


def blank_file(folder: Path) -> str:
    (folder / "blank.json").write_text("\n \r\n\t\n", encoding="utf-8")
    return "blank.json"


def header_only_csv(folder: Path) -> str:
    header = "Date (UTC),Request ID,User ID,Username,Status,Sign-in error code\n"
    (folder / "header.csv").write_text(header, encoding="utf-8")
    return "header.csv"


def array_cut_mid_record(folder: Path) -> str:
    text = graph_page(denied_signin("S1"), denied_signin("S2"), denied_signin("S3"))
    (folder / "cut.json").write_text(text[: text.index('"S3"') + 2], encoding="utf-8")
    return "cut.json"


def ndjson_cut_mid_record(folder: Path) -> str:
    cut = json.dumps(denied_signin("S3"))[:40]
    text = ndjson(denied_signin("S1"), denied_signin("S2")) + cut
    (folder / "cut.ndjson").write_text(text, encoding="utf-8")
    return "cut.ndjson"


def invalid_utf8(folder: Path) -> str:
    lines = ndjson(denied_signin("S1"), denied_signin("S2")).encode()
    bad = json.dumps(denied_signin("S3")).encode().replace(b"bob", b"b\xffb") + b"\n"
    (folder / "latin.json").write_bytes(lines + bad)
    return "latin.json"


def invalid_utf8_csv(folder: Path) -> str:
    header = "Date (UTC),Request ID,User ID,Username,Status,Sign-in error code\n"
    row = "2025-01-02T03:01:00Z,R{0},{1},b\xf6b@contoso.example,Failure,500121\n"
    data = header.encode() + b"".join(
        row.format(number, PLAIN_USER).encode("latin-1") for number in range(3)
    )
    (folder / "latin.csv").write_bytes(data)
    return "latin.csv"


def nul_bytes(folder: Path) -> str:
    data = ndjson(denied_signin("S1")).encode() + b"\x00" * 64 + b"\n"
    data += ndjson(denied_signin("S2")).encode()
    (folder / "nul.json").write_bytes(data)
    return "nul.json"


def deep_nesting(folder: Path) -> str:
    deep = "[" * 50_000 + "]" * 50_000
    text = ndjson(denied_signin("S1")) + deep + "\n" + ndjson(denied_signin("S2"))
    (folder / "deep.json").write_text(text, encoding="utf-8")
    return "deep.json"


def deep_nesting_in_field(folder: Path, depth: int = 980) -> str:
    # Near the decoder's recursion limit, so the value may decode and reach the field
    # mapping, which must not recurse past the limit either.
    record = denied_signin("S1")
    text = json.dumps(record)[:-1] + ', "userDisplayName": ' + "[" * depth + "]" * depth
    text += "}\n" + ndjson(denied_signin("S2"))
    (folder / "deep_field.json").write_text(text, encoding="utf-8")
    return "deep_field.json"


def huge_number(folder: Path) -> str:
    number = '{"id": ' + "9" * 5000 + "}\n"
    text = ndjson(denied_signin("S1")) + number + ndjson(denied_signin("S2"))
    (folder / "number.json").write_text(text, encoding="utf-8")
    return "number.json"


def plain_file_named_gz(folder: Path) -> str:
    (folder / "plain.json.gz").write_text(ndjson(denied_signin("S1")), encoding="utf-8")
    return "plain.json.gz"


def gzip_file_named_json(folder: Path) -> str:
    data = gzip.compress(ndjson(denied_signin("S1"), denied_signin("S2")).encode())
    (folder / "packed.json").write_bytes(data)
    return "packed.json"


def truncated_gzip(folder: Path) -> str:
    records = [denied_signin(f"S{number}", number % 60) for number in range(3000)]
    data = gzip.compress(ndjson(*records).encode())
    (folder / "cut.json.gz").write_bytes(data[: len(data) * 2 // 3])
    return "cut.json.gz"


def binary_file(folder: Path) -> str:
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 8)
    return "picture.png"


def prose_file(folder: Path) -> str:
    (folder / "README.txt").write_text("These are the exports.\n", encoding="utf-8")
    return "README.txt"


def zip_archive(folder: Path) -> str:
    with zipfile.ZipFile(folder / "signins.zip", "w") as archive:
        archive.writestr("signin.json", ndjson(denied_signin("S1")))
    return "signins.zip"


def parquet_file(folder: Path) -> str:
    table = pa.table({"record_id": ["S1", "S2"], "user_id": [PLAIN_USER, PLAIN_USER]})
    pq.write_table(table, folder / "part-0.parquet")
    return "part-0.parquet"


def double_gzip(folder: Path) -> str:
    text = ndjson(denied_signin("S1"), denied_signin("S2"))
    (folder / "twice.json.gz").write_bytes(gzip.compress(gzip.compress(text.encode())))
    return "twice.json.gz"


def bzip2_file(folder: Path) -> str:
    text = ndjson(denied_signin("S1"), denied_signin("S2"))
    (folder / "signins.json.bz2").write_bytes(bz2.compress(text.encode()))
    return "signins.json.bz2"


def xz_file(folder: Path) -> str:
    text = ndjson(denied_signin("S1"), denied_signin("S2"))
    (folder / "signins.json.xz").write_bytes(lzma.compress(text.encode()))
    return "signins.json.xz"


def zstd_file(folder: Path) -> str:
    # A zstd frame header and raw bytes, since Python has no zstd module before 3.14.
    (folder / "signins.json.zst").write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(256)))
    return "signins.json.zst"


def lz4_file(folder: Path) -> str:
    # An LZ4 frame header and raw bytes, since Python has no lz4 module.
    (folder / "signins.json.lz4").write_bytes(b"\x04\x22\x4d\x18" + bytes(range(256)))
    return "signins.json.lz4"


def seven_zip_archive(folder: Path) -> str:
    # A 7z signature header and raw bytes, since Python has no 7z module.
    header = b"7z\xbc\xaf\x27\x1c\x00\x04"
    (folder / "signins.7z").write_bytes(header + bytes(range(256)))
    return "signins.7z"


def write_tar(
    folder: Path, name: str, mode: str, tar_format: int = tarfile.DEFAULT_FORMAT
) -> str:
    """Write a tar archive of one sign-in export, opened with tarfile ``mode``."""
    data = ndjson(denied_signin("S1"), denied_signin("S2")).encode()
    member = tarfile.TarInfo("signin.json")
    member.size = len(data)
    with tarfile.open(folder / name, mode, format=tar_format) as archive:
        archive.addfile(member, io.BytesIO(data))
    return name


def tar_archive(folder: Path) -> str:
    return write_tar(folder, "signins.tar", "w")


def tar_in_gzip(folder: Path) -> str:
    return write_tar(folder, "signins.tar.gz", "w:gz")


def gnu_tar_archive(folder: Path) -> str:
    return write_tar(folder, "signins-gnu.tar", "w", tarfile.GNU_FORMAT)


def tab_separated(folder: Path) -> str:
    text = "Date (UTC)\tRequest ID\tUser ID\n2025-01-02T03:01:00Z\tR1\tu1\n"
    (folder / "signins.tsv").write_text(text, encoding="utf-8")
    return "signins.tsv"


def json_null(folder: Path) -> str:
    (folder / "null.json").write_text("null\n", encoding="utf-8")
    return "null.json"


def oversized_csv_row(folder: Path) -> str:
    header = "Date (UTC),Request ID,User ID,Username,Status,Sign-in error code\n"
    row = "2025-01-02T03:01:00Z,R{0},{1},{2},Failure,500121\n"
    text = header + row.format(1, PLAIN_USER, "bob@contoso.example")
    text += row.format(2, PLAIN_USER, "x" * 5000)
    text += row.format(3, PLAIN_USER, "bob@contoso.example")
    (folder / "wide.csv").write_text(text, encoding="utf-8")
    return "wide.csv"


CASES: dict[str, Callable[[Path], str]] = {
    function.__name__: function
    for function in (
        empty_file,
        blank_file,
        header_only_csv,
        array_cut_mid_record,
        ndjson_cut_mid_record,
        invalid_utf8,
        invalid_utf8_csv,
        nul_bytes,
        deep_nesting,
        deep_nesting_in_field,
        huge_number,
        plain_file_named_gz,
        gzip_file_named_json,
        truncated_gzip,
        binary_file,
        prose_file,
        oversized_csv_row,
        zip_archive,
        parquet_file,
        double_gzip,
        bzip2_file,
        xz_file,
        zstd_file,
        lz4_file,
        tar_archive,
        tar_in_gzip,
        seven_zip_archive,
        tab_separated,
        json_null,
    )
}

# Files that cannot be read as an export at all. Each counts as one record seen
# and skipped, whatever it contains, because its records cannot be counted.
NOT_EXPORT_CASES = (
    zip_archive,
    parquet_file,
    double_gzip,
    bzip2_file,
    xz_file,
    zstd_file,
    lz4_file,
    tar_archive,
    tar_in_gzip,
    seven_zip_archive,
    tab_separated,
    json_null,
    prose_file,
    binary_file,
)


# A hunt over files with no record at all stops with exit code 2, because nothing
# would be looked at. inspect still describes such files.
EMPTY_CASES = frozenset({"empty_file", "blank_file", "header_only_csv"})


@pytest.mark.parametrize("case", sorted(CASES))
def test_lenient_run_accounts_for_every_record(case: str, tmp_path: Path) -> None:
    name = CASES[case](tmp_path)

    result = hunt(
        "--lenient", "--signin", str(tmp_path / name), "--max-record-size", "4K"
    )

    if case in EMPTY_CASES:
        assert result.exit_code == 2
        assert "--signin inputs contain no records" in result.stderr
        assert result.stdout == ""
        return
    if "no input contains a usable record" in result.stderr:
        # Every record was skipped: no verdict, but the summary counts each one.
        assert result.exit_code == 2
        assert result.stdout == ""
        (records,) = [
            line for line in result.stderr.splitlines() if line.startswith("Records: ")
        ]
        seen = int(records.split()[1])
        assert seen > 0
        assert f"0 loaded, 0 duplicate, {seen} skipped" in records
        return
    report = report_of(result)
    assert_accounting(report)
    assert [Path(item["path"]).name for item in report["run"]["files"]] == [name]


@pytest.mark.parametrize("path_option", ["", "--no-fast-path"])
@pytest.mark.parametrize("case", NOT_EXPORT_CASES, ids=lambda case: case.__name__)
def test_file_not_export_counts_one_skip(
    case: Callable[[Path], str], path_option: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    good.write_text(ndjson(denied_signin("S1"), denied_signin("S2")), encoding="utf-8")
    name = case(tmp_path)
    options = [path_option] if path_option else []

    alone = hunt("--lenient", "--signin", str(tmp_path / name), *options)
    beside = report_of(
        hunt(
            "--lenient",
            "--signin",
            str(good),
            "--signin",
            str(tmp_path / name),
            *options,
        )
    )

    assert_accounting(beside)
    item = file_report(beside, name)
    assert item["records_seen"] == 1, item
    assert item["skipped"] == 1, item
    assert sum(item["loaded"].values()) == 0, item
    assert sum(file_report(beside, "good.json")["loaded"].values()) == 2
    # Alone, the file leaves nothing to hunt: no verdict, and the summary counts it.
    assert alone.exit_code == 2, alone.stderr
    assert alone.stdout == ""
    assert "no input contains a usable record" in alone.stderr
    assert "Records: 1 seen, 0 loaded, 0 duplicate, 1 skipped" in alone.stderr


def test_formats_doc_says_archive_stops_strict_run(tmp_path: Path) -> None:
    text = " ".join(FORMATS_DOC.read_text(encoding="utf-8").split())
    name = bzip2_file(tmp_path)

    strict = hunt("--signin", str(tmp_path / name))
    lenient = hunt("--lenient", "--signin", str(tmp_path / name))

    assert "Such a file stops a strict run with exit code 2" in text
    assert strict.exit_code == 2, strict.stderr
    assert "bzip2-compressed" in strict.stderr
    assert "With `--lenient`, a warning names each such file" in text
    assert "bzip2-compressed" in lenient.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_strict_run_fails_cleanly_or_loads(case: str, tmp_path: Path) -> None:
    name = CASES[case](tmp_path)

    result = hunt("--signin", str(tmp_path / name), "--max-record-size", "4K")

    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 2:
        assert name in result.stderr
        assert "hint:" in result.stderr
    else:
        assert_accounting(json.loads(result.stdout))


@pytest.mark.parametrize("case", sorted(CASES))
def test_inspect_describes_every_case(case: str, tmp_path: Path) -> None:
    name = CASES[case](tmp_path)

    result = run_cli(
        ["inspect", "--format", "json", "--max-record-size", "4K", str(tmp_path)]
    )

    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 2)
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert Path(record["path"]).name == name
    skipped = sum(record["skipped"].values())
    assert record["records_seen"] == record["loaded"] + record["duplicates"] + skipped


@pytest.mark.parametrize(
    ("case", "description"),
    [
        (bzip2_file, "the file is bzip2-compressed"),
        (xz_file, "the file is xz-compressed"),
        (zstd_file, "the file is zstd-compressed"),
        (lz4_file, "the file is lz4-compressed"),
        (tar_archive, "the file is a tar archive"),
        (tar_in_gzip, "the file is a tar archive"),
        (gnu_tar_archive, "the file is a tar archive"),
        (seven_zip_archive, "the file is a 7z archive"),
    ],
    ids=["bzip2", "xz", "zstd", "lz4", "tar", "tar_in_gzip", "gnu_tar", "7z"],
)
def test_other_compression_named(
    case: Callable[[Path], str], description: str, tmp_path: Path
) -> None:
    name = case(tmp_path)

    strict = hunt("--signin", str(tmp_path / name))
    lenient = hunt("--lenient", "--signin", str(tmp_path / name))

    assert strict.exit_code == 2
    assert f"{name}: {description}, which h056hunt does not read" in strict.stderr
    assert "Traceback" not in strict.stderr
    assert f"{name}: {description}" in lenient.stderr
    assert "Records: 1 seen, 0 loaded, 0 duplicate, 1 skipped" in lenient.stderr


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
def test_ustar_in_export_text_loads(tmp_path: Path, path_option: list[str]) -> None:
    # A tar archive has "ustar" at offset 257, and so can a line of an export.
    for padding in range(300):
        name = "G" * padding + "ustarsson"
        # The name comes first, so padding moves "ustar" to any offset.
        first = {"userDisplayName": name, **denied_signin("S1")}
        first["userDisplayName"] = name
        text = ndjson(first, denied_signin("S2"))
        if text.encode().find(b"ustar") == 257:
            break
    path = tmp_path / "signins.json"
    path.write_text(text, encoding="utf-8")

    result = hunt("--signin", str(path), *path_option)

    assert text.encode().find(b"ustar") == 257
    assert result.exit_code == 0, result.stderr
    assert "tar archive" not in result.stderr
    assert sum(file_report(report_of(result), "signins.json")["loaded"].values()) == 2


def tar_header_in_display_name() -> str:
    """Return a sign-in export whose first display name puts "ustar" at offset 257
    and a matching tar checksum at offsets 148 to 155, as a user who picks their
    own display name can."""
    first = {"userDisplayName": "x" * 300, **denied_signin("S1")}
    start = json.dumps(first).index("x")
    name = ["x"] * 300

    def place(offset: int, text: str) -> None:
        name[offset - start : offset - start + len(text)] = list(text)

    place(257, "ustar")
    place(148, "0000000 ")
    # The checksum field counts as spaces, so one pass settles its value.
    first["userDisplayName"] = "".join(name)
    block = json.dumps(first).encode()[:512]
    checksum = sum(block) - sum(block[148:156]) + 8 * ord(" ")
    place(148, f"{checksum:07o} ")
    first["userDisplayName"] = "".join(name)
    return ndjson(first, denied_signin("S2"))


@pytest.mark.parametrize("path_option", [[], ["--no-fast-path"]], ids=["fast", "plain"])
@pytest.mark.parametrize("compressed", [False, True], ids=["text", "gzip"])
def test_tar_header_in_export_text_loads(
    tmp_path: Path, path_option: list[str], compressed: bool
) -> None:
    text = tar_header_in_display_name()
    block = text.encode()[:512]
    path = tmp_path / "signins.json"
    if compressed:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")

    result = hunt("--signin", str(path), *path_option)

    assert block[257:262] == b"ustar"
    assert int(block[148:155], 8) == sum(block) - sum(block[148:156]) + 8 * ord(" ")
    assert result.exit_code == 0, result.stderr
    assert "tar archive" not in result.stderr
    assert sum(file_report(report_of(result), "signins.json")["loaded"].values()) == 2


def test_empty_file_warns(tmp_path: Path) -> None:
    empty_file(tmp_path)

    result = hunt("--signin", str(tmp_path / "empty.json"))

    assert "empty.json: the file contains no records" in result.stderr
    assert "--signin inputs contain no records" in result.stderr
    assert result.exit_code == 2


def test_cut_gzip_without_records_named(tmp_path: Path) -> None:
    line = json.dumps({"id": "a", "createdDateTime": "2026-03-02T10:00:00Z"})
    packed = gzip.compress((line + "\n").encode() * 50)
    (tmp_path / "cut.ndjson.gz").write_bytes(packed[:30])

    result = hunt("--signin", str(tmp_path / "cut.ndjson.gz"), "--lenient")

    assert "cut.ndjson.gz: corrupt or truncated gzip data" in result.stderr
    assert "empty or header-only" not in result.stderr
    # The file is counted as one skipped record, and with nothing else to hunt
    # the run gives no verdict.
    assert "Records: 1 seen, 0 loaded, 0 duplicate, 1 skipped" in result.stderr
    assert "no input contains a usable record" in result.stderr
    assert result.exit_code == 2


def test_header_only_csv_warns(tmp_path: Path) -> None:
    header_only_csv(tmp_path)

    result = hunt("--signin", str(tmp_path / "header.csv"))

    assert "header.csv: the file contains no records" in result.stderr
    assert result.exit_code == 2


def test_cut_array_strict_names_location(tmp_path: Path) -> None:
    array_cut_mid_record(tmp_path)

    result = hunt("--signin", str(tmp_path / "cut.json"))

    assert_clean_failure(
        result, "cut.json, line", "column", "2 complete records", "--lenient"
    )


def test_cut_array_lenient_keeps_complete(tmp_path: Path) -> None:
    array_cut_mid_record(tmp_path)

    result = hunt("--lenient", "--signin", str(tmp_path / "cut.json"))

    item = file_report(report_of(result), "cut.json")
    assert item["loaded"]["signin"] == 2
    assert item["skipped_by_reason"] == {"invalid JSON": 1}
    assert item["partial"] is True


def test_cut_ndjson_lenient_keeps_complete(tmp_path: Path) -> None:
    ndjson_cut_mid_record(tmp_path)

    result = hunt("--lenient", "--signin", str(tmp_path / "cut.ndjson"))

    item = file_report(report_of(result), "cut.ndjson")
    assert item["loaded"]["signin"] == 2
    assert item["skipped_by_reason"] == {"invalid JSON": 1}


def test_invalid_utf8_strict_names_line(tmp_path: Path) -> None:
    invalid_utf8(tmp_path)

    result = hunt("--signin", str(tmp_path / "latin.json"))

    assert_clean_failure(
        result, "latin.json, line 3", "invalid UTF-8 byte", "re-export as UTF-8"
    )


def test_invalid_utf8_lenient_replaces(tmp_path: Path) -> None:
    invalid_utf8(tmp_path)

    result = hunt("--lenient", "--signin", str(tmp_path / "latin.json"))

    item = file_report(report_of(result), "latin.json")
    assert item["loaded"]["signin"] == 3
    assert "replaced with U+FFFD" in result.stderr


def test_invalid_utf8_csv_strict_names_line(tmp_path: Path) -> None:
    invalid_utf8_csv(tmp_path)

    result = hunt("--signin", str(tmp_path / "latin.csv"))

    assert_clean_failure(result, "latin.csv, line 2", "invalid UTF-8 byte")


def test_nul_bytes_strict_names_line(tmp_path: Path) -> None:
    nul_bytes(tmp_path)

    result = hunt("--signin", str(tmp_path / "nul.json"))

    assert_clean_failure(result, "nul.json, line 2", "NUL character", "--lenient")


def test_nul_bytes_lenient_drops_them(tmp_path: Path) -> None:
    nul_bytes(tmp_path)

    result = hunt("--lenient", "--signin", str(tmp_path / "nul.json"))

    item = file_report(report_of(result), "nul.json")
    assert item["loaded"]["signin"] == 2
    assert "NUL characters removed" in result.stderr


def test_deep_nesting_strict_says_so(tmp_path: Path) -> None:
    deep_nesting(tmp_path)

    result = hunt("--signin", str(tmp_path / "deep.json"))

    assert_clean_failure(result, "deep.json, line 2", "nested too deeply")


def test_deep_nesting_lenient_skips_line(tmp_path: Path) -> None:
    deep_nesting(tmp_path)

    result = hunt("--lenient", "--signin", str(tmp_path / "deep.json"))

    item = file_report(report_of(result), "deep.json")
    assert item["loaded"]["signin"] == 2
    assert item["skipped_by_reason"] == {"invalid JSON": 1}


@pytest.mark.parametrize("depth", [500, 900, 950, 970, 980, 985, 990, 995])
def test_deep_field_values_never_crash(depth: int, tmp_path: Path) -> None:
    # Where decoding stops depends on the stack depth of the caller, so the test
    # walks across the limit: each depth either loads or is counted as skipped.
    deep_nesting_in_field(tmp_path, depth)

    result = hunt("--lenient", "--signin", str(tmp_path / "deep_field.json"))

    report = report_of(result)
    assert_accounting(report)
    assert file_report(report, "deep_field.json")["records_seen"] == 2


def test_huge_number_strict_says_so(tmp_path: Path) -> None:
    huge_number(tmp_path)

    result = hunt("--signin", str(tmp_path / "number.json"))

    assert_clean_failure(result, "number.json, line 2", "invalid number")


def test_gz_name_on_plain_file_loads(tmp_path: Path) -> None:
    plain_file_named_gz(tmp_path)

    result = hunt("--signin", str(tmp_path / "plain.json.gz"))

    assert file_report(report_of(result), "plain.json.gz")["loaded"]["signin"] == 1


def test_gzip_content_without_gz_name_loads(tmp_path: Path) -> None:
    gzip_file_named_json(tmp_path)

    result = hunt("--signin", str(tmp_path / "packed.json"))

    assert file_report(report_of(result), "packed.json")["loaded"]["signin"] == 2


def test_truncated_gzip_strict_fails_cleanly(tmp_path: Path) -> None:
    truncated_gzip(tmp_path)

    result = hunt("--signin", str(tmp_path / "cut.json.gz"))

    assert_clean_failure(result, "cut.json.gz", "corrupt or truncated gzip data")


def test_truncated_gzip_lenient_keeps_records(tmp_path: Path) -> None:
    truncated_gzip(tmp_path)

    result = hunt("--lenient", "--signin", str(tmp_path / "cut.json.gz"))

    item = file_report(report_of(result), "cut.json.gz")
    assert item["loaded"]["signin"] > 0
    assert item["partial"] is True
    assert "kept the" in result.stderr


def write_gzip_bomb(folder: Path) -> Path:
    """Write about 20 MB of sign-ins as a gzip file of a few hundred kilobytes."""
    line = (json.dumps(denied_signin("S1")) + "\n").encode()
    path = folder / "bomb.json.gz"
    with gzip.open(path, "wb", compresslevel=9) as stream:
        for _ in range(20 * 1024 * 1024 // len(line)):
            stream.write(line)
    return path


def test_gzip_bomb_strict_stops_at_limit(tmp_path: Path) -> None:
    path = write_gzip_bomb(tmp_path)

    result = hunt("--signin", str(path), "--max-decompressed-size", "1M")

    assert_clean_failure(
        result,
        "bomb.json.gz",
        "expands past the limit of 1048576 bytes",
        "--max-decompressed-size",
    )


def test_gzip_bomb_lenient_keeps_records_before(tmp_path: Path) -> None:
    path = write_gzip_bomb(tmp_path)

    result = hunt("--lenient", "--signin", str(path), "--max-decompressed-size", "1M")

    report = report_of(result)
    assert_accounting(report)
    item = file_report(report, "bomb.json.gz")
    assert item["partial"] is True
    assert 0 < item["records_seen"] < 1024 * 1024 // 100


def test_gzip_limit_accepts_units(tmp_path: Path) -> None:
    path = write_gzip_bomb(tmp_path)

    for size in ("512M", "2G", "20GiB", "40000000"):
        result = hunt("--signin", str(path), "--max-decompressed-size", size)
        assert result.exit_code == 0, (size, result.stderr)


def test_size_option_rejects_nonsense(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(ndjson(denied_signin("S1")), encoding="utf-8")

    result = hunt("--signin", str(path), "--max-record-size", "lots")

    assert result.exit_code == 2
    assert "invalid size 'lots'" in result.stderr


def test_audit_given_as_signin_warns(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text(graph_page(audit()), encoding="utf-8")
    signins = tmp_path / "signins.json"
    signins.write_text(graph_page(denied_signin("S1")), encoding="utf-8")

    # With a sign-in export beside it, the hunt has both logs and goes on.
    result = hunt("--signin", str(path), "--signin", str(signins))

    item = file_report(report_of(result), "audit.json")
    assert item["loaded"] == {"audit": 1, "signin": 0, "steps": 0}
    assert "was given as sign-in data but contains only audit records" in result.stderr
    assert "pass it with --audit next time" in result.stderr


def test_signin_given_as_audit_warns(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    path.write_text(graph_page(denied_signin("S1")), encoding="utf-8")
    audits = tmp_path / "audits.json"
    audits.write_text(graph_page(audit()), encoding="utf-8")

    result = hunt("--audit", str(path), "--audit", str(audits))

    item = file_report(report_of(result), "signins.json")
    assert item["loaded"] == {"audit": 0, "signin": 1, "steps": 0}
    assert "pass it with --signin next time" in result.stderr


def write_mixed_folder(folder: Path, signin_files: int) -> Path:
    """Write one audit export and ``signin_files`` sign-in exports into ``folder``."""
    folder.mkdir()
    (folder / "audit.json").write_text(graph_page(audit()), encoding="utf-8")
    for number in range(signin_files):
        signin = denied_signin(f"S{number}")
        path = folder / f"signin-{number:02d}.json"
        path.write_text(graph_page(signin), encoding="utf-8")
    return folder


def test_misfiled_folder_warns_once(tmp_path: Path) -> None:
    folder = write_mixed_folder(tmp_path / "mixed", 14)

    result = hunt("--audit", str(folder))
    report = report_of(result)

    warnings = [line for line in result.stderr.splitlines() if "next time" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"h056: WARNING: {folder}: 14 files given as audit")
    assert f"through --audit {folder} contain only sign-in records" in warnings[0]
    assert "'signin-00.json', 'signin-01.json'" in warnings[0]
    assert "and 9 more" in warnings[0]
    assert f"next time pass {folder} with --signin too" in warnings[0]
    assert "pass those files with --signin instead" in warnings[0]
    assert len(report["run"]["files"]) == 15
    for number in range(14):
        item = file_report(report, f"signin-{number:02d}.json")
        assert item["loaded"]["signin"] == 1


def test_few_misfiled_files_warn_each(tmp_path: Path) -> None:
    folder = write_mixed_folder(tmp_path / "mixed", 3)

    result = hunt("--audit", str(folder))

    warnings = [line for line in result.stderr.splitlines() if "next time" in line]
    assert len(warnings) == 3
    for line in warnings:
        # The advice names the folder that the user gave, not the file alone.
        assert f"through --audit {folder} but contains only sign-in" in line
        assert f"next time pass {folder} with --signin too" in line
        assert "pass that file with --signin instead" in line
    assert f"{folder / 'signin-02.json'} was given as audit data" in warnings[2]


def test_misfiled_glob_names_pattern(tmp_path: Path) -> None:
    folder = write_mixed_folder(tmp_path / "mixed", 4)
    pattern = str(folder / "*.json")

    result = hunt("--audit", pattern)

    warnings = [line for line in result.stderr.splitlines() if "next time" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"h056: WARNING: {folder}: 4 files given as audit")
    assert f"through --audit '{pattern}' contain only sign-in records" in warnings[0]
    assert "'signin-00.json', 'signin-01.json'" in warnings[0]
    assert f"next time pass '{pattern}' with --signin too" in warnings[0]


def test_few_misfiled_glob_quoted(tmp_path: Path) -> None:
    folder = write_mixed_folder(tmp_path / "mixed", 2)
    pattern = str(folder / "*.json")

    result = hunt("--audit", pattern)

    warnings = [line for line in result.stderr.splitlines() if "next time" in line]
    assert len(warnings) == 2
    for line in warnings:
        assert f"through --audit '{pattern}' but contains only sign-in" in line
        assert f"next time pass '{pattern}' with --signin too" in line


def test_misfiled_file_keeps_short_advice(tmp_path: Path) -> None:
    folder = write_mixed_folder(tmp_path / "mixed", 1)
    signin = folder / "signin-00.json"

    result = hunt("--audit", str(folder / "audit.json"), "--audit", str(signin))

    warnings = [line for line in result.stderr.splitlines() if "next time" in line]
    assert len(warnings) == 1
    assert f"{signin} was given as audit data but contains only" in warnings[0]
    assert "through" not in warnings[0]
    assert "(pass it with --signin next time)" in warnings[0]


def test_misfiled_export_alone_stops(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    path.write_text(graph_page(denied_signin("S1")), encoding="utf-8")

    result = hunt("--audit", str(path))

    assert result.exit_code == 2
    assert "pass it with --signin next time" in result.stderr
    assert "no input contains an audit record" in result.stderr


def unreadable_folder(folder: Path) -> Path:
    """Write a folder with one good file and entries that cannot be read."""
    exports = folder / "exports"
    exports.mkdir()
    (exports / "good.json").write_text(ndjson(denied_signin("S1")), encoding="utf-8")
    os.symlink(exports / "gone.json", exports / "dangling.json")
    os.symlink(exports / "loop_b.json", exports / "loop_a.json")
    os.symlink(exports / "loop_a.json", exports / "loop_b.json")
    os.symlink(exports, exports / "again")
    os.mkfifo(exports / "pipe.json")
    return exports


def test_unreadable_entries_listed_not_read(tmp_path: Path) -> None:
    exports = unreadable_folder(tmp_path)

    result = hunt("--lenient", "--signin", str(exports))

    report = report_of(result)
    assert_accounting(report)
    reasons = {
        Path(item["path"]).name: item["reason"] for item in report["run"]["unreadable"]
    }
    assert set(reasons) == {
        "dangling.json",
        "loop_a.json",
        "loop_b.json",
        "again",
        "pipe.json",
    }
    assert "named pipe" in reasons["pipe.json"]
    assert "symlink loop" in reasons["again"]
    assert "symlink loop" in reasons["loop_a.json"]
    assert "dangling symlink" in reasons["dangling.json"]
    assert report["run"]["partial"] is True
    assert file_report(report, "good.json")["loaded"]["signin"] == 1


def test_unreadable_entries_named_on_stderr(tmp_path: Path) -> None:
    exports = unreadable_folder(tmp_path)

    result = hunt("--lenient", "--signin", str(exports))

    assert "pipe.json: not a regular file (named pipe); not read" in result.stderr
    assert "dangling.json: dangling symlink: its target" in result.stderr
    # good.json was read, so the run is partial, not empty.
    assert "no record was read" not in result.stderr


def test_unreadable_folder_entries_stop_strict_run(tmp_path: Path) -> None:
    exports = unreadable_folder(tmp_path)

    result = hunt("--signin", str(exports))

    assert_clean_failure(
        result,
        "again: cannot read this input: symlink loop",
        "these inputs cannot be read either:",
        "dangling.json",
        "pipe.json",
        "hint: fix the path or leave it out, or rerun with --lenient",
    )


@pytest.mark.parametrize("kind", ["dangling", "fifo", "loop"])
def test_unreadable_named_input_stops_strict_run(kind: str, tmp_path: Path) -> None:
    path = special_path(tmp_path, kind)

    result = hunt("--signin", str(path))

    assert_clean_failure(
        result,
        f"{path}: cannot read this input: {UNREADABLE_REASONS[kind]}",
        "rerun with --lenient",
    )
    assert "No findings" not in result.stderr


@pytest.mark.parametrize("kind", ["dangling", "fifo", "loop"])
def test_unreadable_input_stops_strict_convert(kind: str, tmp_path: Path) -> None:
    path = special_path(tmp_path, kind)
    out = tmp_path / "lake"

    result = run_cli(["convert", "--signin", str(path), "--out", str(out)])

    assert_clean_failure(result, f"{path}: cannot read this input")
    assert not out.exists()
    assert "wrote" not in result.stderr


def test_unreadable_input_fails_inspect_once(tmp_path: Path) -> None:
    path = special_path(tmp_path, "dangling")

    result = run_cli(["inspect", str(path)])

    assert result.exit_code == 2
    # inspect reads each path as audit and as sign-in data; it is listed once.
    assert result.stdout.count("not read:") == 1
    assert result.stderr.count("not read") == 1


def test_lenient_run_reading_nothing_says_so(tmp_path: Path) -> None:
    path = special_path(tmp_path, "dangling")

    result = run_cli(["hunt", "--lenient", "--signin", str(path), "--fail-on", "none"])

    # A run that read nothing must not pass for a clean result in CI.
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"no record was read, because these inputs could not be read: {str(path)!r}"
        ", so nothing was hunted" in result.stderr
    )
    assert result.stdout == ""


def test_lenient_convert_reading_nothing_fails(tmp_path: Path) -> None:
    path = special_path(tmp_path, "dangling")
    out = tmp_path / "lake"

    result = run_cli(["convert", "--lenient", "--signin", str(path), "--out", str(out)])

    assert result.exit_code == 2, result.stderr
    assert "so nothing was converted" in result.stderr
    assert not out.exists()


def test_lenient_run_quotes_unread_names(tmp_path: Path) -> None:
    # Two dangling links: one name contains the ", " that separates listed
    # names, and one contains a backslash before text that reads as an escape.
    paths = [tmp_path / "a, b.json", tmp_path / "c\\x1b.json"]
    for path in paths:
        os.symlink(tmp_path / "missing", path)
    arguments = ["hunt", "--lenient", "--fail-on", "none"]
    for path in paths:
        arguments += ["--signin", str(path)]

    result = run_cli(arguments)

    assert result.exit_code == 2, result.stderr
    listed = ", ".join(repr(str(path)) for path in paths)
    assert f"these inputs could not be read: {listed}, so nothing" in result.stderr


def test_lenient_run_with_good_input_keeps_it(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(ndjson(denied_signin("S1")), encoding="utf-8")
    path = special_path(tmp_path, "fifo")

    result = hunt("--lenient", "--signin", str(good), "--signin", str(path))

    report = report_of(result)
    assert report["run"]["partial"] is True
    assert file_report(report, "good.json")["loaded"]["signin"] == 1
    assert "no record was read" not in result.stderr


UNREADABLE_REASONS = {
    "dangling": "dangling symlink: its target",
    "fifo": "not a regular file (named pipe)",
    "loop": "symlink loop: the links point at each other",
}


def special_path(folder: Path, kind: str) -> Path:
    """Make a path of one kind that cannot be read as a file."""
    path = folder / f"{kind}.json"
    if kind == "dangling":
        os.symlink(folder / "gone.json", path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(folder / "other.json", path)
        os.symlink(path, folder / "other.json")
    return path


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads files whatever their permission bits"
)
def test_permission_denied_listed(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text(ndjson(denied_signin("S1")), encoding="utf-8")
    path.chmod(0)

    result = hunt("--lenient", "--signin", str(tmp_path))

    report = report_of(result)
    assert report["run"]["unreadable"] == [
        {"path": str(path), "reason": "permission denied"}
    ]


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads files whatever their permission bits"
)
def test_permission_denied_stops_strict_run(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text(ndjson(denied_signin("S1")), encoding="utf-8")
    path.chmod(0)

    result = hunt("--signin", str(tmp_path))

    assert_clean_failure(result, f"{path}: cannot read this input: permission denied")


def test_denied_access_stops_strict_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root reads any file, so os.access is made to deny this one."""
    path = tmp_path / "locked.json"
    path.write_text(ndjson(denied_signin("S1")), encoding="utf-8")
    real_access = os.access

    def access(target: Any, mode: int) -> bool:
        return Path(target) != path.resolve() and real_access(target, mode)

    monkeypatch.setattr("h056hunt.sources.os.access", access)

    strict = hunt("--signin", str(tmp_path))
    lenient = hunt("--lenient", "--signin", str(tmp_path))

    assert_clean_failure(strict, f"{path}: cannot read this input: permission denied")
    # Nothing was read, so the lenient run has no verdict to give.
    assert lenient.exit_code == 2, lenient.stderr
    assert "no record was read, because these inputs could not be read" in (
        lenient.stderr
    )


def mixed_folder(folder: Path) -> Path:
    """Write one folder with every shape the loaders read, plus strangers."""
    exports = folder / "mixed"
    exports.mkdir()
    (exports / "graph.json").write_text(
        graph_page(denied_signin("G1")), encoding="utf-8"
    )
    diagnostic = {
        "time": "2025-01-02T03:05:00Z",
        "category": "SignInLogs",
        "properties": denied_signin("D1", 5),
    }
    (exports / "diagnostic.json").write_text(ndjson(diagnostic), encoding="utf-8")
    (exports / "audit.json").write_text(graph_page(audit()), encoding="utf-8")
    portal = "Date (UTC),Request ID,User ID,Username,Status,Sign-in error code\n"
    portal += (
        f"2025-01-02T03:07:00Z,P1,{PLAIN_USER},bob@contoso.example,Failure,500121\n"
    )
    (exports / "portal.csv").write_text(portal, encoding="utf-8")
    ual = {
        "Id": "U1",
        "RecordType": 15,
        "CreationTime": "2025-01-02T03:08:00",
        "Operation": "UserLoginFailed",
        "UserId": "bob@contoso.example",
        "UserKey": PLAIN_USER,
        "ErrorNumber": "500121",
    }
    (exports / "ual.json").write_text(ndjson(ual), encoding="utf-8")
    prose_file(exports)
    return exports


def test_mixed_folder_reads_every_shape(tmp_path: Path) -> None:
    exports = mixed_folder(tmp_path)

    result = hunt("--lenient", "--audit", str(exports), "--signin", str(exports))

    report = report_of(result)
    assert_accounting(report)
    shapes = {Path(item["path"]).name: item["shape"] for item in report["run"]["files"]}
    assert shapes["graph.json"] == "graph"
    assert shapes["diagnostic.json"] == "azure-monitor-diagnostic"
    assert shapes["portal.csv"] == "portal-signin-csv"
    assert shapes["ual.json"] == "purview-ual"
    assert shapes["README.txt"] == "unknown"
    assert len(report["findings"]) == 1


def write_huge_line_file(path: Path, size: int = HUGE_LINE_BYTES) -> None:
    """Write a good line, one line of ``size`` bytes, and a good line, in chunks."""
    chunk = b"A" * CHUNK_BYTES
    with path.open("wb") as stream:
        stream.write(ndjson(denied_signin("S1")).encode())
        stream.write(b'{"id": "huge", "pad": "')
        for _ in range(size // CHUNK_BYTES):
            stream.write(chunk)
        stream.write(b'"}\n')
        stream.write(ndjson(denied_signin("S2", 2)).encode())


@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak memory is read from /proc"
)
def test_huge_line_skipped_in_bounded_memory(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    write_huge_line_file(huge)
    small = tmp_path / "small.json"
    small.write_text(
        ndjson(denied_signin("S1"), denied_signin("S2", 2)), encoding="utf-8"
    )
    limit = ["--max-record-size", "16M"]

    _, _, baseline_kib = run_child(["hunt", "--signin", str(small), *ARGUMENTS])
    code, errors, peak_kib = run_child(
        ["hunt", "--lenient", "--signin", str(huge), *limit, *ARGUMENTS]
    )

    assert code == 0, errors
    assert "huge.json, line 2: a record of" in errors
    assert "larger than the limit of 16777216 bytes" in errors
    # Reading the file whole would add more than twice its size (bytes and text);
    # the line reader adds a few times the limit at most.
    assert baseline_kib > 0
    assert (peak_kib - baseline_kib) * 1024 < 4 * 16 * 1024 * 1024


def test_huge_line_strict_stops_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    write_huge_line_file(path)

    code, errors, _ = run_child(["hunt", "--signin", str(path), *ARGUMENTS])

    assert code == 2
    assert "Traceback" not in errors
    assert "huge.json, line 2" in errors
    assert "--max-record-size" in errors


# Runs the CLI and writes the process's peak resident set size (VmHWM, in KiB) to
# stderr at exit. ru_maxrss of a child is no use here: Linux carries the parent's
# peak over the fork and exec that start it.
_MEASURED_CLI = """
import atexit, sys
def report_peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("peak-rss-kib " + line.split()[1] + "\\n")
atexit.register(report_peak)
from h056hunt.cli import main
sys.argv[0] = "h056"
main()
"""


def run_child(arguments: list[str]) -> tuple[int, str, int]:
    """Run the CLI in a child process; return exit code, stderr and peak RSS in KiB."""
    process = subprocess.run(
        [sys.executable, "-c", _MEASURED_CLI, *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
        check=False,
    )
    errors = process.stderr.decode()
    peaks = [line.split()[1] for line in errors.splitlines() if "peak-rss-kib" in line]
    return process.returncode, errors, int(peaks[-1]) if peaks else 0


def write_huge_record_page(
    path: Path, size: int = HUGE_LINE_BYTES, encoding: str = "utf-8"
) -> None:
    """Write a pretty-printed Graph page whose second record has ``size`` characters.

    The file is written in chunks; with ``utf-16`` it starts with a byte order mark
    and takes two bytes per character.
    """
    body = "utf-16-le" if encoding == "utf-16" else encoding
    first = json.dumps(denied_signin("S1"))
    last = json.dumps(denied_signin("S2", 2))
    chunk = ("A" * CHUNK_BYTES).encode(body)
    with path.open("wb") as stream:
        head = '{\n  "value": [\n    ' + first + ',\n    {"id": "huge", "pad": "'
        stream.write(head.encode(encoding))
        for _ in range(size // CHUNK_BYTES):
            stream.write(chunk)
        stream.write(('"},\n    ' + last + "\n  ]\n}\n").encode(body))


@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak memory is read from /proc"
)
@pytest.mark.parametrize(
    ("encoding", "size"),
    [("utf-8", HUGE_LINE_BYTES), ("utf-16", HUGE_LINE_BYTES // 3)],
)
def test_huge_record_in_page_skipped_in_bounded_memory(
    tmp_path: Path, encoding: str, size: int
) -> None:
    huge = tmp_path / "page.json"
    write_huge_record_page(huge, size, encoding)
    small = tmp_path / "small.json"
    small.write_text(graph_page(denied_signin("S1"), denied_signin("S2", 2)))
    limit = ["--max-record-size", "16M"]

    _, _, baseline_kib = run_child(["hunt", "--signin", str(small), *ARGUMENTS])
    code, errors, peak_kib = run_child(
        ["hunt", "--lenient", "--signin", str(huge), *limit, *ARGUMENTS]
    )

    assert code == 0, errors
    assert "page.json, line 4: a record of" in errors
    assert "larger than the limit of 16777216 characters" in errors
    # Reading the page whole would add about twice the file's size. The chunked
    # reader keeps about the limit and one chunk in memory.
    assert baseline_kib > 0
    assert (peak_kib - baseline_kib) * 1024 < 4 * 16 * 1024 * 1024


def test_only_skipped_records_exit_two(tmp_path: Path) -> None:
    (tmp_path / "scalar.json").write_text("null\n")

    result = hunt("--signin", str(tmp_path / "scalar.json"))

    assert result.exit_code == 2
    assert "--signin inputs contain no usable record" in result.stderr
    assert "No findings" not in result.stdout


def test_misfiled_dot_slash_file_short_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_mixed_folder(tmp_path / "mixed", 1)
    monkeypatch.chdir(folder)

    result = hunt("--audit", "./audit.json", "--audit", "./signin-00.json")

    warnings = [line for line in result.stderr.splitlines() if "next time" in line]
    assert len(warnings) == 1
    assert "signin-00.json was given as audit data but contains only" in warnings[0]
    assert "(pass it with --signin next time)" in warnings[0]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_limit_of_one_is_singular(tmp_path: Path, fast: bool) -> None:
    path = tmp_path / "signin.json"
    path.write_text(
        ndjson(denied_signin("S1"), denied_signin("S2", 2)), encoding="utf-8"
    )
    plain = [] if fast else ["--no-fast-path"]

    record = hunt("--signin", str(path), "--max-record-size", "1", *plain)
    packed = tmp_path / "signin.json.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    expanded = hunt("--signin", str(packed), "--max-decompressed-size", "1", *plain)

    assert record.exit_code == expanded.exit_code == 2
    assert "larger than the limit of 1 byte " in record.stderr
    assert "expands past the limit of 1 byte\n" in expanded.stderr


@pytest.mark.parametrize("shape", ["ndjson", "page"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_overlong_number_named_plainly(tmp_path: Path, shape: str, fast: bool) -> None:
    records = [denied_signin("S1"), denied_signin("S2", 2)]
    text = ndjson(*records) if shape == "ndjson" else json.dumps({"value": records})
    # One more digit than int() converts by default.
    path = tmp_path / "signin.json"
    path.write_text(
        text.replace('"errorCode": 500121', '"errorCode": ' + "9" * 4301, 1)
    )
    plain = [] if fast else ["--no-fast-path"]

    result = hunt("--signin", str(path), *plain)

    assert result.exit_code == 2, result.stderr
    assert "signin.json, line 1, column" in result.stderr
    assert "an integer of more than 4,300 digits" in result.stderr
    assert "set_int_max_str_digits" not in result.stderr
