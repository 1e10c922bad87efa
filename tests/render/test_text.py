"""Tests for safe field text, ISO 8601 times and short durations."""

from __future__ import annotations

import itertools
import re
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from h056hunt.render.text import (
    SHOWN_RUN,
    display_text,
    escape_unsafe,
    format_duration,
    format_time,
    plain,
    quote_cut,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("evil\x1b[31mred", "evil\\x1b[31mred"),
        (
            "\x1b]8;;https://example.invalid\x1b\\link",
            "\\x1b]8;;https://example.invalid\\x1b\\link",
        ),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("bell\x07", "bell\\x07"),
        ("csi\x9b", "csi\\x9b"),
        ("tab\there", "tab\\x09here"),
        ("[bold red]x[/]", "[bold red]x[/]"),
        ("Zoë 漢字", "Zoë 漢字"),
        ("\\x1b[31m", "\\\\x1b[31m"),
        ("\\u202e", "\\\\u202e"),
        ("\\U000e0041", "\\\\U000e0041"),
        ("\\\x1b", "\\\\\\x1b"),
        ("two\\\\", "two\\\\\\"),
        ("two\\\\x1b", "two\\\\\\\\x1b"),
        ("two\\\\x", "two\\\\\\x"),
        ("CONTOSO\\alice", "CONTOSO\\alice"),
        ("CONTOSO\\user1", "CONTOSO\\user1"),
        ("C:\\Users\\xavier", "C:\\Users\\xavier"),
        ("\\uABCD", "\\\\uABCD"),
        ("C:\\logs\\signin.json", "C:\\logs\\signin.json"),
        ("ends\\", "ends\\"),
        ("a…[+12 characters]", "a\\u2026[+12 characters]"),
        ("\\…[+1 character]", "\\\\\\u2026[+1 character]"),
        ("wait… [+1]", "wait… [+1]"),
        ("…", "…"),
        (None, ""),
        (42, "42"),
    ],
)
def test_plain(value: object, expected: str) -> None:
    assert plain(value) == expected


def _read_back(shown_text: str) -> str:
    """Read text shown by plain() back, by the rule its comment states."""
    escape = re.compile(r"\\(?:\\|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")

    def unescape(found: re.Match[str]) -> str:
        text = found.group()
        return "\\" if text == "\\\\" else chr(int(text[2:], 16))

    return escape.sub(unescape, shown_text)


def test_plain_reads_back_to_one_text() -> None:
    # Every text of up to four of these pieces: shown texts never collide.
    pieces = [
        "\\",
        "x",
        "u",
        "U",
        "1b",
        "00e0041",
        "s",
        "\x1b",
        "\u202e",
        "\U000e0041",
        "…",
        "[+",
        "2026",
    ]
    for length in range(5):
        for characters in itertools.product(pieces, repeat=length):
            text = "".join(characters)
            assert _read_back(plain(text)) == text, text


def test_display_text_marks_only_real_cuts() -> None:
    imitation = "Eve…[+12 characters]"
    long_run = "x" * (SHOWN_RUN + 12)

    assert display_text(imitation) == "Eve\\u2026[+12 characters]"
    assert display_text(long_run) == "x" * SHOWN_RUN + "…[+12 characters]"
    assert display_text(f"{imitation} {long_run}") == (
        "Eve\\u2026[+12 characters] " + "x" * SHOWN_RUN + "…[+12 characters]"
    )


def test_quote_cut_marks_outside_quotes() -> None:
    long_run = "x" * (SHOWN_RUN + 12)

    assert quote_cut("Eve…[+12 characters]") == "'Eve\\u2026[+12 characters]'"
    assert quote_cut(long_run) == repr("x" * SHOWN_RUN) + "…[+12 characters]"
    assert quote_cut(f"{long_run} tail") == (
        repr("x" * SHOWN_RUN) + "…[+12 characters]" + repr(" tail")
    )
    assert quote_cut("") == "''"
    assert quote_cut("C:\\x\x1b") == "'C:\\\\x\\x1b'"


def test_escape_unsafe_keeps_backslashes() -> None:
    assert escape_unsafe("found '\\ufeff' \x1b") == "found '\\ufeff' \\x1b"


def test_plain_leaves_no_control_characters() -> None:
    text = plain("".join(chr(code) for code in range(0x00, 0xA0)))

    assert not any(
        ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F for character in text
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-01T00:00:00.1234567Z", "2025-01-01T00:00:00.1234567Z"),
        ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00.5Z"),
        ("2025-01-01T00:00:00.000000001Z", "2025-01-01T00:00:00.000000001Z"),
        ("2025-01-01T09:00:00+09:00", "2025-01-01T00:00:00Z"),
    ],
)
def test_format_time_utc(value: str, expected: str) -> None:
    assert format_time(pd.Timestamp(value)) == expected


def test_format_time_naive_is_utc() -> None:
    assert format_time(pd.Timestamp("2025-01-01 12:00")) == "2025-01-01T12:00:00Z"


def test_format_time_missing() -> None:
    assert format_time(None) == ""
    assert format_time(pd.NaT) == ""


def test_format_time_in_zone() -> None:
    stamp = pd.Timestamp("2025-01-01T00:00:00.5Z")

    assert format_time(stamp, ZoneInfo("Asia/Tokyo")) == "2025-01-01T09:00:00.5+09:00"


def test_format_time_half_hour_offset() -> None:
    stamp = pd.Timestamp("2025-01-01T00:00:00Z")

    assert format_time(stamp, ZoneInfo("America/St_Johns")) == (
        "2024-12-31T20:30:00-03:30"
    )


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        ("245s", "4m05s"),
        ("2h", "2h"),
        ("90s", "1m30s"),
        ("1h30m", "1h30m"),
        ("1h05m", "1h05m"),
        ("10m", "10m"),
        ("0s", "0s"),
        ("59.9s", "59s"),
        ("-3m", "-3m"),
    ],
)
def test_format_duration(delta: str, expected: str) -> None:
    assert format_duration(pd.Timedelta(delta)) == expected
