"""Tests for reading a JSON document in chunks, against the whole-text walker.

Every document is read by :func:`iter_json_records` over the whole text and by
:class:`DocumentReader` over the same text cut into chunks of many sizes, so chunk
ends fall inside strings, escapes, numbers, line breaks and between records.
"""

from __future__ import annotations

import functools
import json
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from h056hunt.errors import InputError
from h056hunt.loaders import json_export, jsonwindow
from h056hunt.loaders.jsondocument import DocumentReader
from h056hunt.loaders.jsonstream import JsonRecord, iter_json_records
from h056hunt.loaders.sink import FileSink

CHUNK_SIZES = (1, 2, 3, 7, 64, 1_000_000)
NO_LIMIT = 1_000_000
Event = tuple[Any, ...]
ROUTE_RECORD = json_export.route_record


def cut(text: str, size: int) -> Callable[[], Iterator[str]]:
    """Return a chunk source that yields ``text`` in pieces of ``size``."""

    def open_chunks() -> Iterator[str]:
        return iter([text[start : start + size] for start in range(0, len(text), size)])

    return open_chunks


def events(records: Iterator[JsonRecord]) -> list[Event]:
    """List each record and the error that ends the walk, if any."""
    found: list[Event] = []
    try:
        for record in records:
            found.append(("record", repr(record.value), record.line, record.record))
    except InputError as error:
        found.append(
            (
                "error",
                error.detail,
                error.reason,
                error.line,
                error.column,
                error.complete_records,
                error.fragment_line,
            )
        )
    return found


def whole_text_events(text: str, limit: int) -> list[Event]:
    return events(iter_json_records(text, "export.json", max_record_chars=limit))


def chunked_events(text: str, size: int, limit: int) -> list[Event]:
    reader = DocumentReader(cut(text, size), "export.json", max_record_chars=limit)
    return events(reader.iter_records())


def assert_same_as_whole_text(text: str, limit: int = NO_LIMIT) -> None:
    expected = whole_text_events(text, limit)
    for size in CHUNK_SIZES:
        assert chunked_events(text, size, limit) == expected, f"chunks of {size}"


def random_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.random()
    if depth > 3 or choice < 0.3:
        return rng.choice(
            [1, -2.5, 1e300, "x", 'a"b', "back\\slash", "é😀", "line\nbreak", True]
            + [None, "[{", "\u00e9", 12345678901234567890, ""]
        )
    if choice < 0.65:
        keys = ["id", "a", "value", "records", 'k"q']
        return {
            rng.choice(keys): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))
        }
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def random_document(rng: random.Random) -> str:
    records = [random_value(rng, 1) for _ in range(rng.randint(0, 5))]
    indent = rng.choice([None, 2, 0])
    kind = rng.randrange(5)
    if kind == 0:
        text = json.dumps({"@odata.context": "c", "value": records}, indent=indent)
    elif kind == 1:
        text = json.dumps({"records": records}, indent=indent)
    elif kind == 2:
        text = json.dumps(records, indent=indent)
    elif kind == 3:
        text = "\n".join(json.dumps(record) for record in records)
    else:
        pages = [json.dumps({"value": [record]}, indent=indent) for record in records]
        text = "\r\n".join(pages)
    return mutate(rng, text)


def mutate(rng: random.Random, text: str) -> str:
    """Cut the text off, or insert or delete one character, zero to two times."""
    for _ in range(rng.choice([0, 0, 1, 2])):
        if not text:
            break
        position = rng.randrange(len(text))
        operation = rng.random()
        if operation < 0.4:
            text = text[:position]
        elif operation < 0.7:
            inserted = rng.choice(['"', "\\", "{", "]", ",", "x", "\n", " "])
            text = text[:position] + inserted + text[position:]
        else:
            text = text[:position] + text[position + 1 :]
    return text


@pytest.mark.parametrize("seed", range(4))
def test_random_documents_match_whole_text(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        text = random_document(rng)
        for limit in (rng.randint(0, 40), NO_LIMIT):
            expected = whole_text_events(text, limit)
            for size in CHUNK_SIZES:
                found = chunked_events(text, size, limit)
                assert found == expected, (text, limit, size)


@pytest.mark.parametrize(
    "text",
    [
        '{"value": [{"id": "a\\"b"}, {"id": "c\\\\"}, '
        '{"id": "\\u00e9\\ud83d\\ude00"}]}',
        '[\r\n  {"id": 1},\r\n  {"id": 2}\r\n]\r\n',
        '{"records": [{"n": 12345678901234567890, "f": -1.5e-7}]}\n{"value": []}\n',
        '[{"id": "😀é"}, {"id": "line\\nbreak"}]',
        '  \n\n[{"id": "a"}]  \n  [{"id": "b"}]',
        '{"id": "single object", "activityDisplayName": "x"}',
    ],
    ids=["escapes", "crlf", "numbers", "non_ascii", "blank_lines", "single_object"],
)
def test_chunk_ends_inside_tokens(text: str) -> None:
    assert_same_as_whole_text(text)
    for limit in range(0, 30, 3):
        assert_same_as_whole_text(text, limit)


@pytest.mark.parametrize(
    "text",
    [
        '{"value": [{"id": "a"}, {"id": "b"',
        '[{"id": "a"}, {"id": "b"}',
        '[{"id": "a"}, {"id": "unterminated',
        '{"value": [{"id": "a"}], "next": ',
        '[{"id": "a"} {"id": "b"}]',
        '{"value": [{"id": "a"}]} x',
        '[{"id": 1}, {"id": "\\q"}]',
        '[{"id": 1}, {"id": "\\\n"}]',
        "[" * 5000 + "]" * 5000,
        '[{"n": ' + "1" * 5000 + "}]",
    ],
    ids=[
        "page_cut_in_record",
        "array_cut_after_record",
        "string_cut_off",
        "cut_after_member",
        "missing_comma",
        "text_after_page",
        "invalid_escape",
        "escaped_line_break",
        "nested_too_deeply",
        "number_past_digit_limit",
    ],
)
def test_broken_documents_match_whole_text(text: str) -> None:
    assert_same_as_whole_text(text)
    assert_same_as_whole_text(text, 12)


def test_oversized_records_match_whole_text() -> None:
    huge = "A" * 500
    text = json.dumps(
        {"value": [{"id": "a"}, {"id": "huge", "pad": huge}, "x" * 300, {"id": "b"}]},
        indent=2,
    )

    found = chunked_events(text, 7, 100)

    assert found == whole_text_events(text, 100)
    assert [event[1] for event in found] == [
        "{'id': 'a'}",
        "OversizedRecord(chars=543)",
        "OversizedRecord(chars=302)",
        "{'id': 'b'}",
    ]


def test_oversized_top_level_object_skipped_to_its_end() -> None:
    text = (
        '{"id": "big", "pad": "' + "A" * 200 + '", "more": [1, {"x": "]"}]}\n'
        '{"value": [{"id": "after"}]}'
    )

    assert_same_as_whole_text(text, 50)
    assert chunked_events(text, 5, 50)[-1] == ("record", "{'id': 'after'}", 2, 2)


def test_oversized_record_cut_off_at_end() -> None:
    text = '{"value": [{"id": "a"}, {"pad": "' + "A" * 300

    found = chunked_events(text, 16, 100)

    assert found == whole_text_events(text, 100)
    assert found[-1][1] == (
        "a record longer than 100 characters is cut off at the end of the file"
    )


def test_limit_edges_match_whole_text() -> None:
    for limit in range(20, 32):
        for text in (
            '[{"id": "' + "x" * 20 + '"}, 1]',
            '["' + "x" * 22 + '", 2]',
            "[" + "7" * 25 + ", 3]",
            "[" + "7" * 25 + "]",
            "[" + "7" * 25,
        ):
            assert_same_as_whole_text(text, limit)


def test_duplicate_envelope_key_keeps_array_records() -> None:
    # The whole-text walker keeps an envelope's records until the object ends, and
    # drops them when a later member replaces the array. The chunked reader has
    # already yielded them by then.
    text = '{"value": [{"id": "a"}], "value": 1}'

    found = chunked_events(text, 4, NO_LIMIT)

    assert found == [
        ("record", "{'id': 'a'}", 1, 1),
        ("record", "{'value': 1}", 1, 2),
    ]


Outcome = tuple[list[Event], str | None, int, dict[str, int], bool, str | None]


def load_outcome(
    monkeypatch: pytest.MonkeyPatch,
    load: Callable[[FileSink], None],
) -> Outcome:
    """Run one loader; return its routed records, error and the file's accounting."""
    routed: list[Event] = []
    route = ROUTE_RECORD

    def record_route(value: Any, sink: FileSink, *, line: int, record: int) -> None:
        routed.append((repr(value), line, record))
        route(value, sink, line=line, record=record)

    monkeypatch.setattr(json_export, "route_record", record_route)
    sink = FileSink("export.json", "signin", None)
    error = None
    try:
        load(sink)
    except InputError as raised:
        error = str(raised)
    report = sink.report
    skipped = dict(report.skipped)
    return routed, error, report.records_seen, skipped, report.partial, report.error


def broken_lines(rng: random.Random) -> str:
    """Lines of records, envelopes and broken fragments, starting with a broken one.

    A document whose first line is a broken one-line record is the case where a
    lenient read resumes on the line after each fault.
    """
    lines = [rng.choice(['{"id": x}', '{"a": 1} }', '{"q": [1, }'])]
    for _ in range(rng.randint(1, 7)):
        choice = rng.random()
        if choice < 0.5:
            lines.append(json.dumps({"id": rng.randint(0, 9), "v": random_value(rng)}))
        elif choice < 0.7:
            records = [random_value(rng, 2) for _ in range(2)]
            lines.append(json.dumps({"value": records}, indent=rng.choice([None, 1])))
        else:
            fragments = ['{"id": x}', '{"a": 1,', "[", "]}", '{"b":', "}", ""]
            lines.append(rng.choice(fragments))
    return "\n".join(lines) + rng.choice(["", "\n"])


def load_in_chunks(
    text: str, size: int, sink: FileSink, *, strict: bool, limit: int
) -> None:
    reader = DocumentReader(cut(text, size), "export.json", max_record_chars=limit)
    json_export.load_json_document(reader, sink, strict=strict, max_record_bytes=limit)


@pytest.mark.parametrize("rewind_chars", [2, 10, 1_000_000])
def test_lenient_resume_matches_whole_text(
    monkeypatch: pytest.MonkeyPatch, rewind_chars: int
) -> None:
    # A small rewind window makes the reader open the text again to resume.
    monkeypatch.setattr(jsonwindow, "REWIND_CHARS", rewind_chars)
    logging.disable(logging.WARNING)
    try:
        rng = random.Random(rewind_chars)
        resumed = 0
        for _ in range(150):
            text = broken_lines(rng)
            limit = rng.choice([5, 20, NO_LIMIT])
            strict = rng.random() < 0.2
            whole_text = functools.partial(
                json_export._load_json_document,
                text,
                strict=strict,
                max_record_chars=limit,
            )
            expected = load_outcome(monkeypatch, whole_text)
            resumed += expected[3].get("invalid JSON", 0) > 1
            for size in (1, 3, 50, NO_LIMIT):
                chunked = functools.partial(
                    load_in_chunks, text, size, strict=strict, limit=limit
                )
                found = load_outcome(monkeypatch, chunked)
                assert found == expected, (text, limit, size, strict)
    finally:
        logging.disable(logging.NOTSET)
    assert resumed > 20
