"""Text helpers shared by every renderer: safe field text, times and durations.

Log fields such as display names, user agents and app names are written by whoever
signed in, attacker included. :func:`plain` makes them inert for a terminal: control
characters, escape sequences and bidirectional overrides are shown as escapes, and a
backslash that would make field text read as one of those escapes is doubled.
Renderers never pass field text through a markup parser.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Iterable
from datetime import tzinfo

import pandas as pd

from h056hunt.errors import InputValue, MessageText
from h056hunt.findings import Finding, FindingType

# C0 and C1 controls, DEL, and the Unicode bidirectional and invisible format
# characters that can reorder or hide text on screen.
_EPOCH = datetime.datetime(1970, 1, 1)
# Control characters, the line and paragraph separators, and every format
# character (Unicode category Cf, as of Unicode 14 and 15.1: bidirectional
# controls, zero-width characters, the soft hyphen, tag characters and others),
# which change or hide text without showing.
_UNSAFE_CLASS = (
    "[\x00-\x1f\x7f-\x9f\u2028\u2029"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# A backslash is doubled when what follows it reads as one of these escapes (x and
# 2, u and 4, or U and 8 hexadecimal digits), another backslash, an unsafe
# character or an imitation of a cut mark. Then the text "\x1b" shows as \\x1b
# and a real escape character as \x1b. Each shown text reads back to one field
# text: \\ is a backslash, such an escape is one character, and any other
# backslash is itself. So a backslash in CONTOSO\user1 or C:\Users\xavier is
# shown as it is.
_HEX = "[0-9a-fA-F]"
# Text of a log value that starts like a cut mark, "…[+", gets its "…" shown as
# \u2026, so a raw "…[+" in text output is always a real cut (see display_text).
_MARK_IMITATION = "…(?=\\[\\+)"
_ESCAPE_LOOKALIKE = (
    f"x{_HEX}{{2}}|u{_HEX}{{4}}|U{_HEX}{{8}}|\\\\|{_UNSAFE_CLASS}|{_MARK_IMITATION}"
)
_UNSAFE = re.compile(f"{_UNSAFE_CLASS}|{_MARK_IMITATION}|\\\\(?={_ESCAPE_LOOKALIKE})")
_UNSAFE_ONLY = re.compile(f"{_UNSAFE_CLASS}|{_MARK_IMITATION}")


def plain(value: object) -> str:
    """Return field text with every unsafe character shown as a visible escape.

    >>> plain("evil\\x1b[31m\\u202e")
    'evil\\\\x1b[31m\\\\u202e'
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escape, text)


# Text for a person reading a terminal is cut: each run of more characters than
# SHOWN_RUN without a space, then the whole text past SHOWN_TEXT characters. The
# UPNs and display names of the exports that the tests read are far shorter, so
# only crafted or broken values are cut. The machine-readable formats keep every
# value whole.
SHOWN_RUN = 200
SHOWN_TEXT = 2000
_LONG_RUN = re.compile(f"\\S{{{SHOWN_RUN + 1},}}")
_LAST_RUN = re.compile(r"\S+$")


def display_text(value: object) -> str:
    """Return :func:`plain` of ``value`` with long runs and long text cut.

    Each cut ends in a mark that counts the characters it left out, such as
    ``…[+99,800 characters]``. The mark is added after :func:`plain`, which
    shows the ``…`` of log text that starts like a mark as ``\\u2026``.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "".join(
        plain(kept) + _cut_mark(left_out) if left_out else plain(kept)
        for kept, left_out in _cut_pieces(text)
    )


def quote_cut(text: str) -> str:
    """Return ``repr(text)`` made safe by :func:`escape_unsafe`, cut as
    :func:`display_text` cuts it, for log messages.

    Each kept part is quoted on its own and its mark follows the closing quote,
    such as ``'abc'…[+1,200 characters]``, so no mark is inside the quotes.
    """
    parts = [
        _quote(kept) + _cut_mark(left_out) if left_out else _quote(kept)
        for kept, left_out in _cut_pieces(text)
        if kept or left_out
    ]
    return "".join(parts) if parts else repr(text)


def _quote(text: str) -> str:
    return escape_unsafe(repr(text))


def shown_message(text: str) -> str:
    """Return one of the program's messages made safe for a terminal.

    The program's text is escaped by :func:`escape_unsafe`. Each input value that a
    :class:`~h056hunt.errors.MessageText` keeps apart is cut as
    :func:`quote_cut` cuts it, or as :func:`display_text` cuts a bare value. So
    each cut mark is added after escaping and no value can imitate one.
    """
    if not isinstance(text, MessageText):
        return escape_unsafe(text)
    return "".join(
        _shown_value(part) if isinstance(part, InputValue) else escape_unsafe(part)
        for part in text.parts
    )


def _shown_value(part: InputValue) -> str:
    if not part.quoted:
        return display_text(part.value) if part.cut else plain(str(part.value))
    if isinstance(part.value, str):
        return quote_cut(part.value)
    # A value of another type, such as a list read from a manifest, is shown as
    # its repr() cut as text. A mark that the repr() imitates is escaped by
    # escape_unsafe(), as in a quoted value.
    return "".join(
        escape_unsafe(kept) + _cut_mark(left_out) if left_out else escape_unsafe(kept)
        for kept, left_out in _cut_pieces(repr(part.value))
    )


# The separator of a list of values in text output. A value that contains it, a
# quote, or space at either end is quoted with repr() so that it reads as one entry.
LIST_SEPARATOR = ", "


def needs_quotes(
    text: str, separator: str = LIST_SEPARATOR, reserved: str = ""
) -> bool:
    """Return whether ``text`` would read as more or less than one list entry.

    That is when it is empty, contains ``separator``, a quote or one of the
    characters of ``reserved``, or starts or ends with whitespace.
    """
    return (
        not text
        or separator in text
        or "'" in text
        or '"' in text
        or text != text.strip()
        or any(character in text for character in reserved)
    )


def list_entry(text: str, separator: str = LIST_SEPARATOR, reserved: str = "") -> str:
    """Return ``text`` as one entry of a list joined with ``separator``: as it is,
    or quoted with repr() when :func:`needs_quotes` returns true.

    For texts that are stored, such as score-factor facts, and made safe for a
    terminal only when they are shown.
    """
    if needs_quotes(text, separator, reserved):
        return repr(text)
    return text


def join_entries(
    values: Iterable[object],
    separator: str = LIST_SEPARATOR,
    reserved: str = "",
) -> str:
    """Join stored texts with ``separator``, each made one entry by
    :func:`list_entry`."""
    return separator.join(
        list_entry(str(value), separator, reserved) for value in values
    )


def join_shown(
    values: Iterable[object],
    separator: str = LIST_SEPARATOR,
    *,
    reserved: str = "",
    cut: bool = True,
) -> str:
    """Join log values or file paths for text output, so each reads as one entry.

    A value that :func:`needs_quotes` marks is quoted with repr() and made safe by
    :func:`escape_unsafe`. Any other value is shown bare, through
    :func:`display_text`, or through :func:`plain` when ``cut`` is false, as for
    file paths, which are never cut.
    """
    entries = []
    for value in values:
        text = value if isinstance(value, str) else str(value)
        if not needs_quotes(text, separator, reserved):
            entries.append(display_text(text) if cut else plain(text))
        elif cut:
            entries.append(quote_cut(text))
        else:
            entries.append(_quote(text))
    return separator.join(entries)


def _cut_pieces(text: str) -> list[tuple[str, int]]:
    """Split ``text`` into the parts that a cut keeps, each with the number of
    characters left out after it (0 for none)."""
    if len(text) <= SHOWN_RUN:
        return [(text, 0)]
    left_out = 0
    if len(text) > SHOWN_TEXT:
        left_out = len(text) - SHOWN_TEXT
        text = text[:SHOWN_TEXT]
        # A run that the cut ends inside gets one mark for both cuts.
        last = _LAST_RUN.search(text)
        if last is not None and len(last.group()) > SHOWN_RUN:
            left_out += len(last.group()) - SHOWN_RUN
            text = text[: last.start() + SHOWN_RUN]
    pieces = []
    start = 0
    for found in _LONG_RUN.finditer(text):
        kept_end = found.start() + SHOWN_RUN
        pieces.append((text[start:kept_end], found.end() - kept_end))
        start = found.end()
    pieces.append((text[start:], left_out))
    return pieces


def _cut_mark(left_out: int) -> str:
    return f"…[+{left_out:,} {'character' if left_out == 1 else 'characters'}]"


def escape_unsafe(text: str) -> str:
    """Return ``text`` with unsafe characters and the ``…`` of a cut mark imitation
    escaped as :func:`plain` does, and every backslash as it is.

    For the program's own messages, whose quoted values ``repr()`` has already
    escaped, backslashes included: :func:`plain` would double those backslashes.
    """
    return _UNSAFE_ONLY.sub(_escape, text)


def json_text(value: object) -> str:
    """Return ``value`` as JSON text that is inert on a terminal.

    Non-ASCII text stays readable, but every character that :func:`plain` would
    escape becomes a JSON ``\\u`` escape, so a JSON parser returns the exact value.
    """
    text = json.dumps(value, ensure_ascii=False)
    return _UNSAFE_ONLY.sub(_json_escape, text)


def _json_escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    # JSON writes a character outside the Basic Multilingual Plane as a UTF-16
    # surrogate pair.
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def plain_units(text: str) -> list[str]:
    """Return what :func:`plain` shows for each character of ``text``, in order.

    A caller that cuts the shown text into lines cuts between these units, so no
    escape is split and each backslash is judged by the character after it.
    """
    units = list(text)
    for found in _UNSAFE.finditer(text):
        units[found.start()] = _escape(found)
    return units


def _escape(found: re.Match[str]) -> str:
    if found.group() == "\\":
        return "\\\\"
    code = ord(found.group())
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def user_label(finding: Finding) -> str | None:
    """Return the user every report names for a finding, before :func:`plain`.

    A campaign has many targets, so it is named by their count, such as
    ``6 users (campaign)``; other findings by the target's UPN, else its object id.
    None means the finding names no user.
    """
    if finding.finding_type is FindingType.REVOCATION_CAMPAIGN:
        return f"{len(finding.extra.get('targets', []))} users (campaign)"
    return finding.target_upn or finding.target_user_id


def time_zone_note(zone: str | None) -> str:
    """Return the report sentence that states which times follow ``--tz``.

    The markdown and HTML reports use it. Summaries, score-factor facts and
    coverage warnings are written in UTC when the hunt runs and are part of the
    JSON report, so ``--tz`` does not convert them. ``zone`` must already be
    escaped for the report's format.
    """
    if zone is None:
        return "Times are shown in UTC."
    return (
        f"Times in tables, timelines and time spans are shown in {zone}; finding "
        "summaries, score-factor facts and coverage warnings are in UTC, as are "
        "the machine-readable formats."
    )


def format_time(value: pd.Timestamp | None, tz: tzinfo | None = None) -> str:
    """Return an ISO 8601 time with up to 9 fractional digits and no trailing zeros.

    UTC times end in ``Z``; with ``tz`` the time is converted and shows its offset.
    """
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    if tz is None:
        # A naive time is UTC here, and .value is UTC nanoseconds either way; this
        # path skips the time zone conversion, which dominates long target lists.
        seconds, nanoseconds = divmod(stamp.value, 1_000_000_000)
        fraction = f".{nanoseconds:09d}".rstrip("0").rstrip(".")
        return f"{_utc_seconds(seconds)}{fraction}Z"
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    stamp = stamp.tz_convert(tz)
    base = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    nanoseconds = stamp.microsecond * 1000 + stamp.nanosecond
    fraction = f".{nanoseconds:09d}".rstrip("0").rstrip(".")
    offset = stamp.strftime("%z")
    return f"{base}{fraction}{offset[:3]}:{offset[3:]}"


@functools.lru_cache(maxsize=4096)
def _utc_seconds(seconds: int) -> str:
    """Return ``YYYY-MM-DDTHH:MM:SS`` of a count of seconds since 1970 in UTC."""
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def format_duration(delta: pd.Timedelta) -> str:
    """Return a short duration such as ``4m05s``, ``2h``, ``90s`` or ``1h30m``."""
    total = int(pd.Timedelta(delta).total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        text = f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    elif minutes:
        text = f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"
    else:
        text = f"{seconds}s"
    return sign + text


def format_short_time(value: pd.Timestamp | None, tz: tzinfo | None = None) -> str:
    """Return a time to the second for tables, such as ``2026-03-02 18:58:57Z``."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    if tz is None:
        return str(stamp.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%SZ"))
    return str(stamp.tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S%z"))
