"""Lenient reads of newline-delimited JSON count every broken line as a skip.

Each test writes a small export, runs ``h056 hunt --lenient`` through the CLI on the
default fast path and with ``--no-fast-path``, and checks the file's accounting in the
JSON report: records seen equal records loaded plus skipped, one skip per broken line.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from h056hunt.cli import main
from h056hunt.errors import InputError
from h056hunt.loaders.json_export import route_record
from h056hunt.loaders.json_lines import FirstValueReader
from h056hunt.loaders.sink import FileSink
from h056hunt.streams import TextLine

USER_ID = "11111111-1111-4111-8111-111111111111"
PATHS = [[], ["--no-fast-path"]]


def denied_signin(number: int) -> str:
    record = {
        "id": f"signin-{number}",
        "createdDateTime": f"2025-01-02T03:{number:02d}:00Z",
        "userId": USER_ID,
        "userPrincipalName": "bob@contoso.example",
        "status": {"errorCode": 500121, "additionalDetails": "MFA denied"},
    }
    return json.dumps(record)


def run_hunt(path: Path, *extra: str) -> Result:
    logger = logging.getLogger("h056hunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    arguments = ["hunt", "--signin", str(path), "--lenient", "--format", "json"]
    try:
        return CliRunner().invoke(main, [*arguments, "--fail-on", "none", *extra])
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def file_report(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    (report,) = json.loads(result.stdout)["run"]["files"]
    assert isinstance(report, dict)
    return report


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))


def good(number: int) -> str:
    return denied_signin(number)


def prefixed(number: int) -> str:
    return "xx" + denied_signin(number)


def cut_mid_string(number: int) -> str:
    text = denied_signin(number)
    return text[: text.index("bob@") + 3]


def with_byte_order_mark(number: int) -> str:
    return "\ufeff" + denied_signin(number)


CASES = {
    "prefixed lines 2 and 3": (
        [good(1), prefixed(2), prefixed(3), good(4)],
        [2, 3],
    ),
    "lines 2 to 4 '{bad'": (
        [good(1), "{bad", "{bad", "{bad", good(5)],
        [2, 3, 4],
    ),
    "lines 2 and 3 cut mid-string": (
        [good(1), cut_mid_string(2), cut_mid_string(3), good(4)],
        [2, 3],
    ),
    "byte order mark on lines 2 and 3": (
        [good(1), with_byte_order_mark(2), with_byte_order_mark(3)],
        [2, 3],
    ),
    "broken last two lines": (
        [good(1), good(2), "{bad", cut_mid_string(4)],
        [3, 4],
    ),
}


@pytest.mark.parametrize("path_option", PATHS, ids=["fast path", "plain path"])
@pytest.mark.parametrize("case", list(CASES))
def test_broken_lines_counted_one_each(
    tmp_path: Path, case: str, path_option: list[str]
) -> None:
    lines, broken = CASES[case]
    export = tmp_path / "signin.ndjson"
    write_lines(export, lines)

    result = run_hunt(export, *path_option)
    report = file_report(result)

    good_lines = len(lines) - len(broken)
    assert report["records_seen"] == len(lines)
    assert report["loaded"]["signin"] == good_lines
    assert report["duplicates"] == 0
    assert report["skipped"] == len(broken)
    assert report["skipped_by_reason"] == {"invalid JSON": len(broken)}
    assert report["partial"] is True
    for line in broken:
        assert f"line {line}, column" in result.stderr, result.stderr


@pytest.mark.parametrize("path_option", PATHS, ids=["fast path", "plain path"])
def test_broken_lines_same_on_both_paths(
    tmp_path: Path, path_option: list[str]
) -> None:
    export = tmp_path / "signin.ndjson"
    lines = [good(1), prefixed(2), "{bad", cut_mid_string(4), good(5), "xx", good(7)]
    write_lines(export, lines)

    report = file_report(run_hunt(export, *path_option))

    assert report["records_seen"] == 7
    assert report["loaded"]["signin"] == 3
    assert report["skipped_by_reason"] == {"invalid JSON": 4}


def test_pretty_printed_record_still_one_record(tmp_path: Path) -> None:
    export = tmp_path / "signin.ndjson"
    pretty = json.dumps(json.loads(denied_signin(2)), indent=2)
    export.write_text(good(1) + "\n" + pretty + "\n" + good(3) + "\n", "utf-8")

    report = file_report(run_hunt(export, "--no-fast-path"))

    assert report["records_seen"] == 3
    assert report["loaded"]["signin"] == 3
    assert report["skipped"] == 0
    assert report["partial"] is False


def _text_lines(*texts: str) -> list[TextLine]:
    return [
        TextLine(number, text + "\n", len(text) + 1)
        for number, text in enumerate(texts, start=1)
    ]


def _first_value_reader(sink: FileSink, *, strict: bool) -> FirstValueReader:
    return FirstValueReader(
        sink,
        strict=strict,
        max_record_bytes=2**20,
        route=route_record,
        complete_records=0,
    )


def test_first_value_reader_stops_at_skip() -> None:
    sink = FileSink("signin.ndjson", "signin", None)
    reader = _first_value_reader(sink, strict=False)
    cut = '{"id":"signin-1","createdDateTime":"2025-01-0'
    lines = _text_lines(cut, good(2), good(3))

    assert reader.feed(lines[0]) is False
    assert reader.feed(lines[1]) is True

    assert reader.records == 1
    assert reader.spans_lines is False
    # The joined lines fail, so the cut line is skipped; the line after it is left
    # for the caller.
    assert sink.report.skipped == {"invalid JSON": 1}
    assert sink.report.records_seen == 1
    assert sink.finish().signin.empty


def test_first_value_reader_counts_array_records() -> None:
    sink = FileSink("signin.ndjson", "signin", None)
    reader = _first_value_reader(sink, strict=False)
    (line,) = _text_lines(f"[{good(1)},{good(2)},7]")

    assert reader.feed(line) is True

    assert reader.records == 3
    assert sink.report.skipped == {"not a JSON object": 1}
    assert list(sink.finish().signin["source_record"]) == [1, 2]


def test_first_value_reader_value_across_lines() -> None:
    sink = FileSink("signin.ndjson", "signin", None)
    reader = _first_value_reader(sink, strict=False)
    lines = _text_lines("[", good(1), "]")

    assert reader.feed(lines[0]) is False
    # The array's first record starts on the second line.
    assert reader.feed(lines[1]) is True

    assert reader.spans_lines is True


def test_first_value_reader_strict_raises() -> None:
    sink = FileSink("signin.ndjson", "signin", None)
    reader = _first_value_reader(sink, strict=True)
    (line,) = _text_lines("xx")

    with pytest.raises(InputError) as raised:
        reader.feed(line)

    assert raised.value.line == 1
    assert raised.value.complete_records == 0


@pytest.mark.parametrize("cut", [2, 5])
def test_cut_lines_at_start_keep_the_rest(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "signins.ndjson"
    lines = [cut_mid_string(number) for number in range(cut)]
    lines += [good(number) for number in range(cut, cut + 6)]
    write_lines(path, lines)

    report = file_report(run_hunt(path))

    assert report["records_seen"] == cut + 6
    assert report["loaded"]["signin"] == 6
    assert report["skipped"] == cut
    assert report["partial"] is True


def test_pretty_printed_page_is_still_a_document(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    records = [json.loads(good(number)) for number in range(3)]
    path.write_text(json.dumps({"value": records}, indent=2), encoding="utf-8")

    report = file_report(run_hunt(path))

    assert report["loaded"]["signin"] == 3
    assert report["skipped"] == 0


def test_broken_page_names_unread_rest(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    elements = [good(number) for number in range(6)]
    elements[2] = elements[2].replace('"createdDateTime"', '"createdDateTime" "x"')
    path.write_text('{"value":[\n' + ",\n".join(elements) + "\n]}\n", encoding="utf-8")

    result = run_hunt(path)
    report = file_report(result)

    assert report["loaded"]["signin"] == 2
    assert report["partial"] is True
    assert "nothing after line 4 was read" in result.stderr


@pytest.mark.parametrize("path_option", ["", "--no-fast-path"])
def test_cut_gzip_keeps_one_record_singular(tmp_path: Path, path_option: str) -> None:
    # Random padding keeps the second record's compressed bytes apart from the
    # first's, so the cut takes only the second.
    rng = random.Random(7)
    lines = [
        json.dumps({**json.loads(good(n)), "pad": rng.randbytes(3000).hex()})
        for n in (1, 2)
    ]
    packed = gzip.compress("".join(line + "\n" for line in lines).encode("utf-8"))
    path = tmp_path / "signins.ndjson.gz"
    path.write_bytes(packed[:-1000])

    result = run_hunt(path, *([path_option] if path_option else []))

    assert file_report(result)["records_seen"] == 2
    assert "kept the 1 record read before it" in result.stderr


def test_cut_gzip_counts_rest_as_skipped(tmp_path: Path) -> None:
    text = "".join(good(number) + "\n" for number in range(40)).encode("utf-8")
    packed = gzip.compress(text)
    path = tmp_path / "signins.ndjson.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])

    result = run_hunt(path)
    report = file_report(result)

    assert report["partial"] is True
    assert report["skipped"] == 1
    assert report["records_seen"] == report["loaded"]["signin"] + 1
    warning = next(line for line in result.stderr.splitlines() if "WARNING" in line)
    assert warning.endswith("records read before it")
    assert "  hint: re-download or re-compress the file" in result.stderr


@pytest.mark.parametrize("path_option", PATHS, ids=["fast path", "plain path"])
def test_broken_line_warning_quotes_once(
    tmp_path: Path, path_option: list[str]
) -> None:
    # The fault message quotes the byte order mark with repr(), as the strict
    # error does, so the warning must not double its backslash.
    export = tmp_path / "signin.ndjson"
    write_lines(export, [good(1), with_byte_order_mark(2)])

    result = run_hunt(export, *path_option)

    assert result.exit_code == 0, result.stderr
    assert "found '\\ufeff'; kept the complete records" in result.stderr
    assert "'\\\\ufeff'" not in result.stderr
