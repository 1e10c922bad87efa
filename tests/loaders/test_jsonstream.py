"""Tests for walking the JSON containers that Entra exports arrive in."""

from __future__ import annotations

import json

import pytest

from h056hunt.errors import InputError
from h056hunt.loaders.jsonstream import JsonRecord, iter_json_records
from h056hunt.sources import decode_text


def records(text: str) -> list[JsonRecord]:
    return list(iter_json_records(text, "export.json"))


def values(text: str) -> list[object]:
    return [found.value for found in records(text)]


def positions(text: str) -> list[tuple[int, int]]:
    return [(found.line, found.record) for found in records(text)]


def test_graph_page_with_next_link() -> None:
    text = json.dumps(
        {
            "@odata.context": "https://graph.example/$metadata#auditLogs/signIns",
            "@odata.nextLink": "https://graph.example/next",
            "value": [{"id": "a"}, {"id": "b"}],
        }
    )

    assert values(text) == [{"id": "a"}, {"id": "b"}]


def test_graph_page_without_next_link() -> None:
    text = '{"@odata.context": "x", "value": [{"id": "a"}]}'

    assert values(text) == [{"id": "a"}]


def test_next_link_after_value() -> None:
    text = '{"value": [{"id": "a"}], "@odata.nextLink": "https://graph.example/next"}'

    assert values(text) == [{"id": "a"}]


def test_concatenated_pages_in_one_file() -> None:
    text = (
        '{"value": [{"id": "a"}, {"id": "b"}], "@odata.nextLink": "n"}\n'
        '{"value": [{"id": "c"}]}\n'
        '{"value": []}\n'
    )

    assert values(text) == [{"id": "a"}, {"id": "b"}, {"id": "c"}]


def test_concatenated_pages_number_records() -> None:
    text = '{"value": [{"id": "a"}, {"id": "b"}]}\n{"value": [{"id": "c"}]}\n'

    assert positions(text) == [(1, 1), (1, 2), (2, 3)]


def test_bare_array() -> None:
    assert values('[{"id": "a"}, {"id": "b"}]') == [{"id": "a"}, {"id": "b"}]


def test_empty_array_yields_nothing() -> None:
    assert values("[]") == []


def test_single_object() -> None:
    assert values('{"id": "a", "activityDisplayName": "x"}') == [
        {"id": "a", "activityDisplayName": "x"}
    ]


def test_scalar_value_member_kept() -> None:
    assert values('{"value": 5, "id": "a"}') == [{"value": 5, "id": "a"}]


def test_newline_delimited_json() -> None:
    text = '{"id": "a"}\n{"id": "b"}\n{"id": "c"}\n'

    assert positions(text) == [(1, 1), (2, 2), (3, 3)]


def test_concatenated_pretty_printed_arrays() -> None:
    text = '[\n  {"id": "a"},\n  {"id": "b"}\n]\n[\n  {\n    "id": "c"\n  }\n]\n'

    assert values(text) == [{"id": "a"}, {"id": "b"}, {"id": "c"}]


def test_pretty_printed_arrays_line_numbers() -> None:
    text = '[\n  {"id": "a"},\n  {"id": "b"}\n]\n[\n  {\n    "id": "c"\n  }\n]\n'

    assert positions(text) == [(2, 1), (3, 2), (6, 3)]


def test_records_envelope() -> None:
    text = '{"records": [{"category": "AuditLogs"}, {"category": "SignInLogs"}]}'

    assert values(text) == [{"category": "AuditLogs"}, {"category": "SignInLogs"}]


def test_byte_order_mark_through_decode() -> None:
    data = '\ufeff{"value": [{"id": "a"}]}'.encode()

    text = decode_text(data, "export.json")

    assert values(text) == [{"id": "a"}]


def test_crlf_and_blank_lines() -> None:
    text = '\r\n{"id": "a"}\r\n\r\n\r\n{"id": "b"}\r\n\r\n'

    assert positions(text) == [(2, 1), (5, 2)]


def test_crlf_values_unchanged() -> None:
    text = '{"id": "a"}\r\n{"id": "b"}\r\n'

    assert values(text) == [{"id": "a"}, {"id": "b"}]


def test_line_numbers_inside_pretty_page() -> None:
    text = (
        "{\n"
        '  "@odata.context": "x",\n'
        '  "value": [\n'
        '    {"id": "a"},\n'
        "    {\n"
        '      "id": "b"\n'
        "    },\n"
        '    {"id": "c"}\n'
        "  ]\n"
        "}\n"
    )

    assert positions(text) == [(4, 1), (5, 2), (8, 3)]


def test_line_numbers_after_earlier_lookup() -> None:
    # The error path requests an earlier line after later lines were counted.
    text = '{"id": "a"}\n\n{"id": "b"}\n{"id": '
    found: list[JsonRecord] = []

    with pytest.raises(InputError) as caught:
        for record in iter_json_records(text, "export.json"):
            found.append(record)

    assert [(item.line, item.record) for item in found] == [(1, 1), (3, 2)]
    assert caught.value.line == 4


def test_truncated_page_yields_complete_records() -> None:
    text = '{"value": [\n{"id": "a"},\n{"id": "b"},\n{"id": "c", "x": '
    found: list[object] = []

    with pytest.raises(InputError):
        for record in iter_json_records(text, "export.json"):
            found.append(record.value)

    assert found == [{"id": "a"}, {"id": "b"}]


def test_truncated_page_error_location() -> None:
    text = '{"value": [\n{"id": "a"},\n{"id": "b"},\n{"id": "c", "x": '

    with pytest.raises(InputError) as caught:
        records(text)

    error = caught.value
    assert error.reason == "invalid_json"
    assert error.line == 4
    assert error.column == 18
    assert error.complete_records == 2
    assert error.path == "export.json"


def test_truncated_page_message_names_location() -> None:
    text = '{"value": [\n{"id": "a"},\n{"id": "b"},\n{"id": "c", "x": '

    with pytest.raises(InputError) as caught:
        records(text)

    message = str(caught.value)
    assert "export.json, line 4, column 18" in message
    assert "2 complete records before the error" in message


def test_page_cut_between_records() -> None:
    text = '{"value": [{"id": "a"}, {"id": "b"}'

    with pytest.raises(InputError) as caught:
        records(text)

    assert caught.value.complete_records == 2
    assert caught.value.column == len(text) + 1


def test_garbage_at_top_level() -> None:
    with pytest.raises(InputError) as caught:
        records('{"id": "a"}\nhello\n')

    assert caught.value.reason == "invalid_json"
    assert caught.value.line == 2
    assert caught.value.column == 1
    assert caught.value.complete_records == 1


def test_deep_array_nesting_rejected() -> None:
    with pytest.raises(InputError) as caught:
        records("[" * 100_000)

    assert caught.value.reason == "nesting_too_deep"


def test_deep_nesting_in_member() -> None:
    with pytest.raises(InputError) as caught:
        records('{"id": ' + "[" * 100_000)

    assert caught.value.reason == "nesting_too_deep"


def test_deep_nesting_keeps_earlier_records() -> None:
    text = '{"value": [{"id": "a"}, ' + "[" * 100_000
    found: list[object] = []

    with pytest.raises(InputError) as caught:
        for record in iter_json_records(text, "export.json"):
            found.append(record.value)

    assert found == [{"id": "a"}]
    assert caught.value.reason == "nesting_too_deep"
    assert caught.value.complete_records == 1


def test_deep_object_nesting_rejected() -> None:
    with pytest.raises(InputError) as caught:
        records('{"a": ' * 100_000)

    assert caught.value.reason == "nesting_too_deep"
