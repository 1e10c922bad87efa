"""Decide from raw bytes which lines of a one-record-per-line export need decoding.

Newline-delimited JSON, and Graph pages or JSON arrays written one record per line, are
scanned in chunks with literal searches (StringZilla, which searches several times
faster than ``bytes.find``). A line is decoded when it can matter to the hunt:

* a sign-in line holding ``500121`` (the MFA failure code) or ``denied`` in any case,
  the word every denied-prompt result text starts with;
* an audit line holding a word of a revocation, near-miss or context activity name;
* a sign-in line without a ``userId`` (missing, empty, the nil GUID or a
  placeholder such as ``"null"``) that may hold a ``userPrincipalName``: the plain
  path matches such a sign-in to its user by UPN, which the per-block index of user
  ids cannot find;
* a line that contains ``\\u`` (an escape could spell any of those words), lacks the
  expected keys, has them more than once, or does not look like a single record.

Every other line is counted as pre-filtered: its ``createdDateTime`` or
``activityDateTime`` literal is kept for the file's time ranges and its ``userId`` is
hashed into a per-block index, so :mod:`h056hunt.loaders.fastpath` can fetch the lines
of the users who matter in a second pass.

A line with a control character, a carriage return inside it or invalid UTF-8 is
decoded too, so the plain path's reader reports it as it would.

NOTE: other lines that are not decoded are not validated: a JSON syntax error inside
such a line goes unnoticed, where the plain path reports it.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import stringzilla as sz
from numpy.lib.stride_tricks import sliding_window_view

from h056hunt import timeranges
from h056hunt.activities import (
    MFA_CHANGE_ACTIVITIES,
    NEAR_MISS_WORDS,
    PERSISTENCE_ACTIVITIES,
    ROLE_GRANT_ACTIVITIES,
    fold_text,
    normalise_activity,
)
from h056hunt.loaders.entra import SIGNIN_EVENT_TYPE_BY_SOURCE, id_unless_nil
from h056hunt.loaders.fields import NULL_PLACEHOLDERS
from h056hunt.loaders.spill import PairFile, PairWriter

if TYPE_CHECKING:
    from h056hunt.loaders.upn_search import UpnSearch

NEWLINE = "\n"
OPEN_BRACE = 0x7B
CLOSE_BRACE = 0x7D
COMMA = 0x2C
CARRIAGE_RETURN = 0x0D
BACKSLASH = 0x5C
WHITESPACE = b" \t\r\n"
QUOTE = b'"'
# A time or user id literal longer than this is not one an export writes.
MAX_LITERAL_BYTES = 80
# Lines are grouped into blocks of about this many bytes for the user id index; the
# second pass re-reads whole blocks.
INDEX_BLOCK_BYTES = 256 * 1024
# Time literals are parsed in batches of this many values.
TIME_BATCH = 65_536

CATEGORY_KEY = '"category":"'
# A time literal is read as a fixed window after its key and cut at the closing
# quote in bulk. Time literals are far shorter than this window.
TIME_WINDOW = 48
# A user id hashes to the value of its first 8 hex digits, so only those are read.
USER_WINDOW = 8
NO_USER_WINDOW = QUOTE + bytes(USER_WINDOW - 1)
_NO_USER_CELLS = np.frombuffer(NO_USER_WINDOW, dtype=np.uint8)
# The member name of a UPN, lower-cased with its quotes.
_UPN_MEMBER = b'"userprincipalname"'
# A GUID's length in characters, the usual length of a user id.
_GUID_LENGTH = 36
# The hash of a user id that does not start with 8 hex digits: its block is always
# re-read.
UNKNOWN_USER = np.uint32(0xFFFFFFFF)
# The first bytes that a user id value can have when str.strip() leaves a null
# placeholder or nothing: a placeholder's first letter in either case, the closing
# quote of an empty value, ASCII whitespace and control bytes. Every non-ASCII byte
# is one too, because str.strip() removes Unicode spaces.
_PLACEHOLDER_START = np.zeros(256, dtype=bool)
_PLACEHOLDER_START[: ord(" ") + 1] = True
_PLACEHOLDER_START[0x80:] = True
_PLACEHOLDER_START[ord(QUOTE)] = True
for _placeholder in NULL_PLACEHOLDERS:
    for _letter in _placeholder[:1].lower() + _placeholder[:1].upper():
        _PLACEHOLDER_START[ord(_letter)] = True
# A literal runs to its closing quote; windows are joined by NUL, which no
# literal holds.
_LITERAL = re.compile('\x00([^"\x00]*)"')
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
for _index, _digit in enumerate(b"0123456789abcdef"):
    _HEX_VALUE[_digit] = _index
for _index, _digit in enumerate(b"ABCDEF"):
    _HEX_VALUE[_digit] = 10 + _index
# The bytes YYYY-MM-DDTHH:MM:SS may hold: a digit or one separator per position.
_ISO_HEAD = 19
_ISO_LOW = np.frombuffer(b"0000-00-00T00:00:00", dtype=np.uint8)
_ISO_HIGH = np.frombuffer(b"9999-99-99T99:99:99", dtype=np.uint8)
# A literal, its fraction of up to 9 digits, Z and the closing quote fit this width.
ISO_WIDTH = 31
# Seconds of 1678-01-01 and 2262-01-01, the years a nanosecond time can hold.
_MIN_SECONDS = int(np.datetime64("1678-01-01T00:00:00", "s").astype(np.int64))
_MAX_SECONDS = int(np.datetime64("2262-01-01T00:00:00", "s").astype(np.int64))
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_FRACTION_WEIGHTS = 10 ** np.arange(8, -1, -1, dtype=np.int64)
NEWLINE_BYTE = 0x0A
# In a Graph record the time key follows {"id":"<36-character id>", at this offset.
GRAPH_KEY_OFFSET = 45
_GRAPH_PREFIX = np.frombuffer(b'{"id":"', dtype=np.uint8)
_UNKNOWN_WINDOW = np.frombuffer(b"?" * USER_WINDOW, dtype=np.uint8)
# Maps A-Z to a-z and every other byte to itself.
ASCII_LOWER = bytes(range(256)).lower()
# Inclusive code point ranges of the non-ASCII characters that fold to ASCII. Their
# str.casefold() contains ASCII characters, as U+212A KELVIN SIGN (k) does, or their
# activities.fold_text() contains ASCII letters or digits, as the fullwidth U+FF35 (u)
# and U+1D42E MATHEMATICAL BOLD SMALL U (u) do. Only these can turn a non-ASCII
# activity name or UPN into listed words. The ranges were computed with Unicode 14.0
# (Python 3.11), and a test checks that they cover the running Python's version.
ASCII_FOLDING_RANGES = (
    (0xAA, 0xAA),
    (0xB2, 0xB3),
    (0xB9, 0xBA),
    (0xBC, 0xBE),
    (0xDF, 0xDF),
    (0x130, 0x130),
    (0x132, 0x133),
    (0x13F, 0x140),
    (0x149, 0x149),
    (0x17F, 0x17F),
    (0x1C4, 0x1CC),
    (0x1F0, 0x1F3),
    (0x2B0, 0x2B0),
    (0x2B2, 0x2B3),
    (0x2B7, 0x2B8),
    (0x2E1, 0x2E3),
    (0x1D2C, 0x1D2C),
    (0x1D2E, 0x1D2E),
    (0x1D30, 0x1D31),
    (0x1D33, 0x1D3A),
    (0x1D3C, 0x1D3C),
    (0x1D3E, 0x1D43),
    (0x1D47, 0x1D49),
    (0x1D4D, 0x1D4D),
    (0x1D4F, 0x1D50),
    (0x1D52, 0x1D52),
    (0x1D56, 0x1D58),
    (0x1D5B, 0x1D5B),
    (0x1D62, 0x1D65),
    (0x1D9C, 0x1D9C),
    (0x1DA0, 0x1DA0),
    (0x1DBB, 0x1DBB),
    (0x1E96, 0x1E9A),
    (0x1E9E, 0x1E9E),
    (0x2070, 0x2071),
    (0x2074, 0x2079),
    (0x207F, 0x2089),
    (0x2090, 0x2093),
    (0x2095, 0x209C),
    (0x20A8, 0x20A8),
    (0x2100, 0x2103),
    (0x2105, 0x2106),
    (0x2109, 0x210E),
    (0x2110, 0x2113),
    (0x2115, 0x2116),
    (0x2119, 0x211D),
    (0x2120, 0x2122),
    (0x2124, 0x2124),
    (0x2128, 0x2128),
    (0x212A, 0x212A),
    (0x212C, 0x212D),
    (0x212F, 0x2131),
    (0x2133, 0x2134),
    (0x2139, 0x2139),
    (0x213B, 0x213B),
    (0x2145, 0x2149),
    (0x2150, 0x217F),
    (0x2189, 0x2189),
    (0x2460, 0x24EA),
    (0x2C7C, 0x2C7D),
    (0x3250, 0x325F),
    (0x32B1, 0x32CF),
    (0x3358, 0x337A),
    (0x3380, 0x33FF),
    (0xA7F2, 0xA7F4),
    (0xFB00, 0xFB06),
    (0xFF10, 0xFF19),
    (0xFF21, 0xFF3A),
    (0xFF41, 0xFF5A),
    (0x107A5, 0x107A5),
    (0x1D400, 0x1D454),
    (0x1D456, 0x1D49C),
    (0x1D49E, 0x1D49F),
    (0x1D4A2, 0x1D4A2),
    (0x1D4A5, 0x1D4A6),
    (0x1D4A9, 0x1D4AC),
    (0x1D4AE, 0x1D4B9),
    (0x1D4BB, 0x1D4BB),
    (0x1D4BD, 0x1D4C3),
    (0x1D4C5, 0x1D505),
    (0x1D507, 0x1D50A),
    (0x1D50D, 0x1D514),
    (0x1D516, 0x1D51C),
    (0x1D51E, 0x1D539),
    (0x1D53B, 0x1D53E),
    (0x1D540, 0x1D544),
    (0x1D546, 0x1D546),
    (0x1D54A, 0x1D550),
    (0x1D552, 0x1D6A3),
    (0x1D7CE, 0x1D7FF),
    (0x1F100, 0x1F10A),
    (0x1F110, 0x1F12E),
    (0x1F130, 0x1F14F),
    (0x1F16A, 0x1F16C),
    (0x1F190, 0x1F190),
    (0x1FBF0, 0x1FBF9),
)
_FOLDING_FIRST = np.array([first for first, _ in ASCII_FOLDING_RANGES], dtype=np.int64)
_FOLDING_LAST = np.array([last for _, last in ASCII_FOLDING_RANGES], dtype=np.int64)
# The UTF-8 lead bytes of those characters. Han characters, Cyrillic, Greek and
# Arabic use none of them, so their characters are passed over without decoding.
_FOLDING_LEADS = np.zeros(256, dtype=bool)
for _first, _last in ASCII_FOLDING_RANGES:
    for _code in range(_first, _last + 1):
        _FOLDING_LEADS[chr(_code).encode()[0]] = True
# Graph writes userId within a few hundred bytes after createdDateTime.
# NOTE: only the first userId key in that span is read; Graph sign-ins have one.
USER_KEY_SPAN = 1024
SHAPE_GRAPH = "graph"
SHAPE_DIAGNOSTIC = "azure-monitor-diagnostic"
ISO_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


@dataclass(frozen=True)
class LogSpec:
    """The literals that find, time and index the records of one log.

    Attributes:
        log: ``signin`` or ``audit``.
        time_key: the member name of the event time, with the value's opening quote.
        user_key: the member name of the user id, or None for no index.
        needles: exact literals that make a line worth decoding.
        uncased_needles: literals that do, compared without case.
        diagnostic_categories: lower-cased Azure Monitor categories of this log.
        word_groups: when set, a line with an uncased needle is decoded only if it
            also holds every word of one group.
    """

    log: str
    time_key: bytes
    user_key: bytes | None
    needles: tuple[bytes, ...]
    uncased_needles: tuple[bytes, ...]
    diagnostic_categories: frozenset[str]
    word_groups: tuple[tuple[bytes, ...], ...] = ()


# Words of activity names that most audit records contain somewhere, in keys such as
# "initiatedBy" or values such as "Member", so they are a poor choice to search for.
_COMMON_WORDS = frozenset(
    {"add", "admin", "all", "app", "detail", "for", "in", "member", "to", "update"}
    | {"updated", "user", "users", "sign", "remove", "phone", "completed", "enable"}
)


def _activity_words(
    revocation_activities: tuple[str, ...],
) -> tuple[tuple[bytes, ...], ...]:
    """Return the word groups of every activity name the detection reads.

    Activity names are compared after lower-casing and dropping punctuation and
    articles (:func:`~h056hunt.activities.normalise_activity`), so a record
    whose activity is one of them contains every word of it in its raw text. Near
    misses are names with one of a few words, or with "refresh" and "tokens".
    """
    names = {normalise_activity(name) for name in revocation_activities}
    names |= PERSISTENCE_ACTIVITIES | ROLE_GRANT_ACTIVITIES | MFA_CHANGE_ACTIVITIES
    groups = {tuple(name.split()) for name in names if name}
    groups |= {(word,) for word in NEAR_MISS_WORDS}
    groups.add(("refresh", "tokens"))
    return tuple(tuple(word.encode() for word in group) for group in sorted(groups))


def _shortest_needles(needles: set[bytes]) -> tuple[bytes, ...]:
    """Drop needles that contain another: a line they hit, the other hits too."""
    return tuple(
        sorted(
            needle
            for needle in needles
            if not any(other != needle and other in needle for other in needles)
        )
    )


def _needle_of(group: tuple[bytes, ...]) -> bytes:
    """Pick the word of a group to search for: the longest uncommon one."""
    uncommon = [word for word in group if word.decode() not in _COMMON_WORDS]
    return max(uncommon or group, key=len)


def signin_spec() -> LogSpec:
    """Return the spec of sign-in lines: keep MFA failures and denial texts."""
    return LogSpec(
        log="signin",
        time_key=b'"createdDateTime":"',
        user_key=b'"userId":"',
        needles=(b"500121",),
        uncased_needles=(b"denied",),
        diagnostic_categories=frozenset(SIGNIN_EVENT_TYPE_BY_SOURCE),
    )


def audit_spec(revocation_activities: tuple[str, ...]) -> LogSpec:
    """Return the spec of audit lines: keep the activities the detection reads."""
    groups = _activity_words(revocation_activities)
    return LogSpec(
        log="audit",
        time_key=b'"activityDateTime":"',
        user_key=None,
        needles=(),
        uncased_needles=_shortest_needles({_needle_of(group) for group in groups}),
        diagnostic_categories=frozenset({"auditlogs"}),
        word_groups=groups,
    )


class DecodeLine(NamedTuple):
    """A line that the scan marks for decoding.

    Attributes:
        line: 0-based line number, relative to the start of the range.
        record: 0-based record number, relative to the start of the range.
        text: the line's bytes without its line end, and without the trailing comma
            of a container's element line.
        offset: the file's byte offset where the line starts.
    """

    line: int
    record: int
    text: bytes
    offset: int


class LineStart(NamedTuple):
    """A line's 0-based number, relative to the start of the range, and the file's
    byte offset where it starts."""

    line: int
    offset: int


@dataclass
class ScanResult:
    """The findings of a scan of one byte range of a file.

    Line and record numbers are 0-based and relative to the start of the range.

    Attributes:
        lines: lines in the range, blank ones included.
        records: non-blank lines, each one record.
        decode: every line to decode.
        prefiltered: record lines that were not decoded, by shape.
        time_ranges: ``(n, 2)`` int64 nanosecond ranges of the pre-filtered records.
        block_offsets: absolute byte offset where each index block starts.
        block_lines: first line of each block.
        block_records: first record of each block.
        user_index: ``block << 32 | hash`` of each user id per block, where the
            block is an index into ``block_offsets`` (see :func:`user_hashes`),
            written to a file as the scan goes (see :mod:`h056hunt.loaders.spill`).
        closing_line: line of a container's closing bracket, when found.
        missing_commas: element lines of a container without a trailing comma.
        last_element_line: the last element line of a container.
        unsupported: why the file must be read by the plain path, if it must.
        unsupported_line: the line that ``unsupported`` names, when it names one.
        cut_off_line: the file's last line when it lacks a line end and does not
            decode, in the first pass; see :class:`CutOffLine`.
    """

    lines: int = 0
    records: int = 0
    decode: list[DecodeLine] = field(default_factory=list)
    prefiltered: Counter[str] = field(default_factory=Counter)
    time_ranges: list[np.ndarray] = field(default_factory=list)
    block_offsets: list[int] = field(default_factory=list)
    block_lines: list[int] = field(default_factory=list)
    block_records: list[int] = field(default_factory=list)
    user_index: PairFile = field(default_factory=PairFile)
    closing_line: int | None = None
    closing_text: bytes = b""
    missing_commas: list[LineStart] = field(default_factory=list)
    last_element_line: int | None = None
    unsupported: str | None = None
    unsupported_line: int | None = None
    cut_off_line: CutOffLine | None = None


@dataclass(frozen=True)
class CutOffLine:
    """The last line of a file when it has no line end and is not a JSON value.

    Such a line is usually a record cut off by an interrupted download. The scan
    leaves it out of every count, so the caller can hand it to the plain path's
    reader.

    Attributes:
        line: 0-based line number, relative to the start of the range.
        text: the line's bytes, a carriage return or comma at its end included.
        offset: the file's byte offset where the line starts.
    """

    line: int
    text: bytes
    offset: int


class LineScanner:
    """Classify the lines of one byte range, chunk by chunk.

    Args:
        spec: the literals of the log the file was given as.
        container: True for the element lines of a page or array (a trailing comma
            is allowed), False for newline-delimited JSON.
        path: the file as shown to the user, for time parsing messages.
        start_offset: absolute byte offset of the range.
        wanted: in the second pass, the lower-cased user ids whose pre-filtered lines
            to return; None in the first pass.
        upn_search: in the second pass, also return the pre-filtered lines that
            this search marks as candidates.
        max_line_bytes: a longer line makes the file unsupported, so the plain
            path applies the per-record limit.
    """

    def __init__(
        self,
        spec: LogSpec,
        *,
        container: bool,
        path: str,
        start_offset: int,
        wanted: set[bytes] | None = None,
        upn_search: UpnSearch | None = None,
        max_line_bytes: int = 2**62,
    ) -> None:
        self.spec = spec
        self.max_line_bytes = max_line_bytes
        self.container = container
        self.path = path
        self.wanted = wanted
        self.upn_search = upn_search
        # Offsets in the chunk being scanned of the lines upn_search marks.
        self._upn_hits: list[int] = []
        self._wanted_hashes = _wanted_hashes(frozenset(wanted or ()))
        self.result = ScanResult()
        self._offset = start_offset
        self._next_block = start_offset
        self._users: list[bytes] = []
        self._user_blocks: list[np.ndarray] = []
        self._pairs = PairWriter()
        self._times: list[bytes] = []
        self._time_count = 0
        self._nanoseconds: list[np.ndarray] = []
        self._parsed_count = 0
        self._prefixes = ((b'{"id":"', SHAPE_GRAPH), (b'{"time":"', SHAPE_DIAGNOSTIC))
        # The user id member's name with its quotes, without the colon and the
        # value's opening quote that the user key adds.
        user_key = spec.user_key or b""
        self._user_name = user_key[: user_key.find(b'"', 1) + 1]
        # Whether the chunk that feed() scans contains a backslash.
        self._has_backslash = False

    def feed(self, chunk: bytes | bytearray | memoryview, length: int) -> None:
        """Scan the first ``length`` bytes of ``chunk``: whole lines, the last of
        which may lack its newline at the end of the file.

        ``chunk`` must hold at least ``WINDOW_SLACK`` bytes past ``length``.
        """
        if self.result.unsupported:
            return
        text = sz.Str(chunk)[:length]
        cut_off = self._cut_off_text(chunk, text)
        scanned = length - len(cut_off)
        if scanned:
            self._feed_whole_lines(chunk, text[:scanned], scanned)
        if cut_off and self.wanted is None:
            self.result.cut_off_line = CutOffLine(
                self.result.lines, cut_off, self._offset + scanned
            )
        self._offset += length
        if max(self._time_count, self._parsed_count) >= TIME_BATCH:
            self._flush()

    def _feed_whole_lines(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str, length: int
    ) -> None:
        hits, newlines = self._needle_hits(chunk, text)
        if self.upn_search is not None:
            self._upn_hits = self.upn_search.hits(chunk, length)
        if not self._feed_regular(chunk, text, hits, newlines):
            self._feed_lines(chunk, text, hits)

    def _cut_off_text(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str
    ) -> bytes:
        """Return the chunk's last line when the file ends in it without a line end
        and it is not a JSON value, else nothing.

        Only the file's last chunk can end without a line end. A container's
        closing line is left to the scan, which checks it.
        """
        length = len(text)
        if not length or chunk[length - 1] == NEWLINE_BYTE:
            return b""
        line = bytes(chunk[text.rfind(NEWLINE) + 1 : length])
        if not line.strip() or (self.container and line.startswith(b"]")):
            return b""
        try:
            json.loads(line)
        except (ValueError, RecursionError):
            return line
        return b""

    def finish(self) -> ScanResult:
        """Flush the last time and user batch; return the result."""
        self._parsed_count = TIME_BATCH
        try:
            self._flush()
        finally:
            self.result.user_index = self._pairs.close()
        return self.result

    def _feed_regular(
        self,
        chunk: bytes | bytearray | memoryview,
        text: sz.Str,
        hits: list[int],
        newlines: int,
    ) -> bool:
        """Scan a chunk whose every line is a Graph record, with array operations.

        ``newlines`` is the count of line ends in ``text``.

        Returns False, having changed nothing, when some line is not: blank, of
        another shape, without the time key or with it twice.
        """
        length = len(text)
        find = text.find
        time_key = self.spec.time_key
        key_length = len(time_key)
        keys = []
        user_key = self.spec.user_key
        # The user key is looked for in the same loop, in the span after each time
        # key where Graph writes it. _user_windows drops a hit past the line's end.
        users: list[int] = []
        position = find(time_key)
        if user_key is None:
            while position >= 0:
                keys.append(position)
                position = find(time_key, position + key_length)
        else:
            while position >= 0:
                keys.append(position)
                users.append(find(user_key, position, position + USER_KEY_SPAN))
                position = find(time_key, position + key_length)
        if not keys:
            return False
        data = np.frombuffer(chunk, dtype=np.uint8)
        key_array = np.array(keys, dtype=np.int64)
        starts = _line_starts(data, text, key_array, newlines)
        if starts is None:
            return False
        ends = np.append(starts[1:] - 1, length)
        if data[length - 1] == NEWLINE_BYTE:
            ends[-1] = length - 1
        if (ends - starts).max() >= self.max_line_bytes:
            self.result.unsupported = "a line at or over the record size limit"
            return True
        content_ends = ends - 1 if self.container else ends
        if (
            (data[key_array - 1] != COMMA).any()
            or (data[key_array - 2] != ord(QUOTE)).any()
            or (ends <= starts).any()
            or (data[content_ends - 1] != CLOSE_BRACE).any()
            or (self.container and (data[content_ends] != COMMA).any())
            or (_windows(data, starts, len(_GRAPH_PREFIX)) != _GRAPH_PREFIX).any()
        ):
            return False
        user_windows = None
        odd_users = np.zeros(len(keys), dtype=bool)
        if self.spec.user_key is not None:
            user_windows, located = self._user_windows(data, users, ends)
            # A line without the exact user key in its span is decoded when
            # :meth:`_user` cannot read its user, as the line-by-line scan does.
            # A line with neither a user id nor a UPN is not indexed, where the
            # window of an id found elsewhere in the line hashes as unknown.
            for index in np.flatnonzero(~located).tolist():
                end = int(content_ends[index])
                user = self._user(chunk, text, int(starts[index]), end)
                odd_users[index] = user is False
                if user is None:
                    user_windows[index] = _NO_USER_CELLS
        if self.wanted is not None:
            self._feed_wanted(chunk, text, hits, starts, ends, key_array, user_windows)
            return True
        if user_windows is not None:
            self._find_unreadable_users(
                chunk, text, users, located, starts, content_ends, odd_users
            )
        result = self.result
        decode = odd_users
        if hits:
            decode[np.searchsorted(starts, hits, side="right") - 1] = True
        line_base = result.lines
        record_base = result.records
        for index in np.flatnonzero(decode).tolist():
            result.decode.append(
                DecodeLine(
                    line_base + index,
                    record_base + index,
                    bytes(chunk[starts[index] : content_ends[index]]),
                    self._offset + int(starts[index]),
                )
            )
        kept = ~decode
        block_of = self._blocks_for(starts, line_base, record_base)
        values = key_array[kept] + key_length
        nanoseconds, parsed = iso_nanoseconds(_windows(data, values, ISO_WIDTH))
        self._nanoseconds.append(nanoseconds[parsed])
        self._parsed_count += int(parsed.sum())
        if not parsed.all():
            others = np.zeros((int((~parsed).sum()), TIME_WINDOW + 1), dtype=np.uint8)
            others[:, 1:] = _windows(data, values[~parsed], TIME_WINDOW)
            self._times.append(others.tobytes())
            self._time_count += len(others)
        if user_windows is not None:
            self._users.append(user_windows[kept].tobytes())
            self._user_blocks.append(block_of[kept])
        result.lines += len(keys)
        result.records += len(keys)
        result.prefiltered[SHAPE_GRAPH] += int(kept.sum())
        if self.container:
            result.last_element_line = result.lines - 1
        return True

    def _feed_wanted(
        self,
        chunk: bytes | bytearray | memoryview,
        text: sz.Str,
        hits: list[int],
        starts: np.ndarray,
        ends: np.ndarray,
        keys: np.ndarray,
        user_windows: np.ndarray | None,
    ) -> None:
        """Pass the lines whose user hash may be wanted, and those the UPN search
        marks, to :meth:`_line`."""
        result = self.result
        line_base = result.lines
        record_base = result.records
        selected = np.zeros(len(starts), dtype=bool)
        if user_windows is not None:
            hashes, has_user = user_hashes(user_windows.tobytes())
            maybe = np.isin(hashes, self._wanted_hashes) | (hashes == UNKNOWN_USER)
            selected = has_user & maybe
        if self.upn_search is not None:
            if self.upn_search.every_line:
                selected[:] = True
            elif self._upn_hits:
                hit = np.searchsorted(starts, self._upn_hits, side="right") - 1
                selected[hit] = True
        hit_lines: set[int] = set()
        if selected.any():
            hit_lines = set((np.searchsorted(starts, hits, side="right") - 1).tolist())
        for index in np.flatnonzero(selected).tolist():
            result.lines = line_base + index
            result.records = record_base + index
            self._line(
                chunk,
                text,
                int(starts[index]),
                int(ends[index]),
                int(keys[index]),
                False,
                index in hit_lines,
            )
        result.lines = line_base + len(starts)
        result.records = record_base + len(starts)

    def _find_unreadable_users(
        self,
        chunk: bytes | bytearray | memoryview,
        text: sz.Str,
        users: list[int],
        located: np.ndarray,
        starts: np.ndarray,
        content_ends: np.ndarray,
        odd_users: np.ndarray,
    ) -> None:
        """Mark in ``odd_users`` the lines that :meth:`_user` sends to decoding.

        The second pass reads a line's user id with :meth:`_user` and skips the
        line when that fails, so the first pass decodes such a line instead of
        pre-filtering it. That covers a line with an empty, nil or placeholder id
        that may hold a UPN. Only some ids can fail: one with an escape, one that
        does not close where a GUID does, one that starts like a placeholder or a
        brace, and one whose first 8 digits are zeros. So only the lines that may
        contain one are read.
        """
        assert self.spec.user_key is not None
        data = np.frombuffer(chunk, dtype=np.uint8)
        length = len(text)
        values = np.array(users, dtype=np.int64) + len(self.spec.user_key)
        closing = np.clip(values + _GUID_LENGTH, 0, length - 1)
        suspect = data[closing] != ord(QUOTE)
        suspect |= _PLACEHOLDER_START[data[np.clip(values, 0, length - 1)]]
        # The nil GUID, in each of its forms, starts with a brace or 8 zeros.
        suspect |= data[np.clip(values, 0, length - 1)] == ord("{")
        suspect |= (
            _windows(
                data, np.clip(values, 0, max(length - USER_WINDOW, 0)), USER_WINDOW
            )
            == ord("0")
        ).all(axis=1)
        if self._has_backslash:
            escapes = np.flatnonzero(data[:length] == BACKSLASH)
            suspect[np.searchsorted(starts, escapes, side="right") - 1] = True
        for index in np.flatnonzero(suspect & located).tolist():
            end = int(content_ends[index])
            odd_users[index] = self._user(chunk, text, int(starts[index]), end) is False

    def _user_windows(
        self, data: np.ndarray, positions: list[int], ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the user id window of each line and a mask of the lines where the
        user key was found.

        ``positions`` holds where the user key was found in the ``USER_KEY_SPAN``
        bytes after each line's time key, or -1. Graph writes it there, so the search
        reads a few hundred bytes per line instead of the whole line. A hit that
        runs past the end of its line does not count. A line without the key gets a
        window that hashes to :data:`UNKNOWN_USER`, so the second pass re-reads its
        block.
        """
        assert self.spec.user_key is not None
        key_length = len(self.spec.user_key)
        found = np.array(positions, dtype=np.int64)
        located = (found >= 0) & (found + key_length <= ends)
        if located.all():
            # The usual case, since Graph writes the key in every sign-in. A mask
            # would copy every window once more.
            return _windows(data, found + key_length, USER_WINDOW), located
        windows = np.empty((len(found), USER_WINDOW), dtype=np.uint8)
        windows[:] = _UNKNOWN_WINDOW
        windows[located] = _windows(data, found[located] + key_length, USER_WINDOW)
        return windows, located

    def _blocks_for(
        self, starts: np.ndarray, line_base: int, record_base: int
    ) -> np.ndarray:
        """Return the index block of each line, opening blocks as lines cross into
        new ones."""
        result = self.result
        absolute = starts + self._offset
        number = absolute // INDEX_BLOCK_BYTES
        first = np.flatnonzero(
            np.concatenate(([absolute[0] >= self._next_block], np.diff(number) > 0))
        )
        for index in first.tolist():
            result.block_offsets.append(int(absolute[index]))
            result.block_lines.append(line_base + index)
            result.block_records.append(record_base + index)
        if len(first):
            last = int(absolute[first[-1]])
            self._next_block = last - last % INDEX_BLOCK_BYTES + INDEX_BLOCK_BYTES
        block_of = np.searchsorted(first, np.arange(len(starts)), side="right") - 1
        return block_of + len(result.block_offsets) - len(first)

    def _feed_lines(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str, hits: list[int]
    ) -> None:
        """Scan a chunk line by line; every kind of line is handled here."""
        length = len(text)
        find = text.find
        hits = [*hits, length + 1]
        hit_index = 0
        time_key = self.spec.time_key
        key_length = len(time_key)
        time_hit = find(time_key)
        if time_hit < 0:
            time_hit = length + 1
        start = 0
        while start < length:
            if chunk[start] == NEWLINE_BYTE:
                # A run of empty lines is counted in one search: a file of nothing
                # but line feeds would otherwise cost a loop turn per byte.
                stop = text.find_first_not_of(NEWLINE, start)
                stop = length if stop < 0 else stop
                self.result.lines += stop - start
                start = stop
                continue
            end = find(NEWLINE, start)
            following = end + 1
            if end < 0:
                end = following = length
            while hits[hit_index] < start:
                hit_index += 1
            first_key = -1
            repeated_key = False
            while time_hit < end:
                if first_key < 0:
                    first_key = time_hit
                else:
                    repeated_key = True
                time_hit = find(time_key, time_hit + key_length)
                if time_hit < 0:
                    time_hit = length + 1
            has_needle = hits[hit_index] < end
            if end - start >= self.max_line_bytes:
                self.result.unsupported = "a line at or over the record size limit"
                return
            self._line(chunk, text, start, end, first_key, repeated_key, has_needle)
            if self.result.unsupported:
                return
            self.result.lines += 1
            start = following

    def _needle_hits(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str
    ) -> tuple[list[int], int]:
        """Return where the needles and the faulty bytes of ``text`` are, in order,
        and the count of its line ends.

        The chunk is searched a piece of whole lines at a time (see
        :data:`_PIECE_BYTES`), and the line ends are counted on the way. No needle
        contains a line end, so every match lies within one piece.
        """
        hits: list[int] = []
        length = len(text)
        uncased = () if self.spec.word_groups else self.spec.uncased_needles
        special = False
        newlines = 0
        start = 0
        while start < length:
            end = text.find(NEWLINE, start + _PIECE_BYTES - 1) + 1 or length
            piece = text[start:end]
            # Most exports contain none of these bytes, so one search clears both the
            # escape search and the fault checks.
            if not special:
                special = piece.find_first_of(_SPECIAL_BYTES) >= 0
            for needle in self.spec.needles:
                position = piece.find(needle)
                while position >= 0:
                    hits.append(start + position)
                    position = piece.find(needle, position + 1)
            for needle in uncased:
                position = sz.utf8_uncased_search(piece, needle)
                while position >= 0:
                    hits.append(start + position)
                    position = sz.utf8_uncased_search(piece, needle, position + 1)
            newlines += piece.count(NEWLINE)
            start = end
        self._has_backslash = False
        if special:
            if text.find_first_of(_ASCII_SPECIAL_BYTES) >= 0:
                self._has_backslash = text.find(b"\\") >= 0
                hits.extend(_control_hits(chunk, text))
            if text.find_first_of(_HIGH_BYTES) >= 0 and not _is_utf8(chunk, length):
                hits.extend(_invalid_utf8_lines(chunk, text))
        if self._has_backslash:
            position = text.find(b"\\u")
            while position >= 0:
                hits.append(position)
                position = text.find(b"\\u", position + 1)
        if self.spec.word_groups:
            hits.extend(self._word_hits(chunk, text))
        hits.sort()
        return hits, newlines

    def _line(
        self,
        chunk: bytes | bytearray | memoryview,
        text: sz.Str,
        start: int,
        end: int,
        time_key: int,
        repeated_key: bool,
        has_needle: bool,
    ) -> None:
        result = self.result
        line = result.lines
        content_end = end
        if content_end > start and chunk[content_end - 1] == CARRIAGE_RETURN:
            content_end -= 1
        if content_end == start:
            return
        if chunk[start] in WHITESPACE and not bytes(chunk[start:content_end]).strip():
            return
        absolute = self._offset + start
        if absolute >= self._next_block:
            self._open_block(absolute, line)
        record = result.records
        if self.container and chunk[start] == ord("]"):
            self._closing(chunk, start, content_end, line)
            return
        if result.closing_line is not None:
            result.unsupported = "content after the closing bracket of a container"
            return
        result.records += 1
        if self.container:
            result.last_element_line = line
            if chunk[content_end - 1] == COMMA:
                content_end -= 1
            elif len(result.missing_commas) < 2:
                result.missing_commas.append(LineStart(line, absolute))
        if has_needle and self.spec.word_groups:
            has_needle = self._names_activity(chunk[start:content_end])
        shape = self._shape(chunk, text, start, content_end)
        decode = has_needle or repeated_key or time_key < 0 or shape is None
        time_text = None
        if not decode:
            value_start = time_key + len(self.spec.time_key)
            time_text = _string_value(chunk, value_start, content_end)
        user: bytes | Literal[False] | None = None
        if not decode and self.spec.user_key is not None:
            user = self._user(chunk, text, start, content_end)
            decode = user is False
        if decode or time_text is None or user is False:
            if self.wanted is None:
                result.decode.append(
                    DecodeLine(line, record, bytes(chunk[start:content_end]), absolute)
                )
            return
        if self.wanted is not None:
            if (isinstance(user, bytes) and user in self.wanted) or self._upn_marks(
                start, content_end
            ):
                result.decode.append(
                    DecodeLine(line, record, bytes(chunk[start:content_end]), absolute)
                )
            return
        assert shape is not None
        result.prefiltered[shape] += 1
        self._times.append(b"\x00" + time_text.encode() + QUOTE)
        self._time_count += 1
        if self.spec.user_key is not None:
            self._users.append(user_window(user))
            block = len(result.block_offsets) - 1
            self._user_blocks.append(np.array([block], dtype=np.int64))

    def _word_hits(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str
    ) -> list[int]:
        """Return where the uncased needles of a spec with word groups occur.

        The chunk is lower-cased once through a byte table and searched with exact
        needles. For an audit spec's 13 needles that took 7 ms per 8 MiB on the
        benchmark machine, against 21 ms for the Unicode-aware uncased search. Some
        non-ASCII characters fold to ASCII letters that the table does not produce
        (:data:`ASCII_FOLDING_RANGES`), so each line with one of them
        is checked with :meth:`_names_activity` and gives a hit at its start when
        it names an activity.
        """
        lowered = sz.Str(text.translate(ASCII_LOWER))
        hits: list[int] = []
        for needle in self.spec.uncased_needles:
            position = lowered.find(needle)
            while position >= 0:
                hits.append(position)
                position = lowered.find(needle, position + 1)
        data = np.frombuffer(chunk, dtype=np.uint8, count=len(text))
        folding = ascii_folding_positions(data)
        if not len(folding):
            return hits
        newlines = np.flatnonzero(data == NEWLINE_BYTE)
        line_ends = np.append(newlines, len(text))
        lines = np.unique(np.searchsorted(newlines, folding))
        line_starts = np.concatenate(([0], newlines + 1))
        for start, end in zip(
            line_starts[lines].tolist(), line_ends[lines].tolist(), strict=True
        ):
            if self._names_activity(chunk[start:end]):
                hits.append(start)
        return hits

    def _upn_marks(self, start: int, end: int) -> bool:
        """Tell whether the UPN search marks the line at ``[start, end)``."""
        if self.upn_search is None:
            return False
        if self.upn_search.every_line:
            return True
        hits = self._upn_hits
        index = bisect.bisect_left(hits, start)
        return index < len(hits) and hits[index] < end

    def _names_activity(self, line: bytes | bytearray | memoryview) -> bool:
        """Tell whether a line holds an escape or every word of one activity name."""
        lowered = fold_activity_line(bytes(line))
        if b"\\u" in lowered:
            return True
        # Each group contains a word that contains one of the needles, so a line
        # without any needle names no activity. The check of the 30 or so groups
        # costs about ten times as much.
        if not any(needle in lowered for needle in self.spec.uncased_needles):
            return False
        return any(
            all(word in lowered for word in group) for group in self.spec.word_groups
        )

    def _shape(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str, start: int, end: int
    ) -> str | None:
        """Return the record shape a line starts like, or None to decode it."""
        if chunk[end - 1] != CLOSE_BRACE:
            return None
        shape = next(
            (name for prefix, name in self._prefixes if text.startswith(prefix, start)),
            None,
        )
        if shape is None:
            return None
        if shape == SHAPE_GRAPH:
            return shape
        # Azure Monitor records of other categories are skipped by the loader, so
        # only this log's categories can be counted without decoding.
        category = text.find(CATEGORY_KEY, start, end)
        if category < 0:
            return None
        value = _string_value(chunk, category + len(CATEGORY_KEY), end)
        if value is None or value.lower() not in self.spec.diagnostic_categories:
            return None
        return shape

    def _user(
        self, chunk: bytes | bytearray | memoryview, text: sz.Str, start: int, end: int
    ) -> bytes | Literal[False] | None:
        """Return the lower-cased user id of a line, None when the line has neither
        a user id nor a UPN, or False when it must be decoded.

        A line is decoded when its id cannot be read here. It is also decoded when
        it has no id but may contain a UPN: the plain path matches such a sign-in
        by UPN, and the index of user ids cannot find it.
        """
        assert self.spec.user_key is not None
        key = text.find(self.spec.user_key, start, end)
        if key < 0:
            # The member written another way, such as "userId": "..." with a space,
            # "userId":null or "UserId", cannot be read here, so the line is
            # decoded. The loaders read member names in any ASCII case.
            line = bytes(chunk[start:end])
            if self._user_name.lower() in line.lower():
                return False
            return False if may_hold_upn(line) else None
        value = _string_value(chunk, key + len(self.spec.user_key), end)
        if value is None:
            return False
        folded = value.lower()
        if folded in NULL_PLACEHOLDERS or id_unless_nil(folded) is None:
            return False if may_hold_upn(bytes(chunk[start:end])) else None
        return folded.encode()

    def _closing(
        self, chunk: bytes | bytearray | memoryview, start: int, end: int, line: int
    ) -> None:
        result = self.result
        if result.closing_line is not None:
            result.unsupported = "more than one closing bracket"
            return
        result.closing_line = line
        result.closing_text = bytes(chunk[start:end])

    def _open_block(self, offset: int, line: int) -> None:
        result = self.result
        result.block_offsets.append(offset)
        result.block_lines.append(line)
        result.block_records.append(result.records)
        self._next_block = offset - offset % INDEX_BLOCK_BYTES + INDEX_BLOCK_BYTES

    def _flush(self) -> None:
        """Parse the pending time literals into ranges and hash the user ids."""
        if self.result.unsupported:
            return
        if self._users:
            hashes, has_user = user_hashes(b"".join(self._users))
            # A window with no user id (an empty id) adds no pair, so the hashes
            # take the same mask as the blocks.
            blocks = np.concatenate(self._user_blocks)[has_user]
            # Pairs are not de-duplicated: a user seldom appears twice in one
            # block, and np.unique took about as long as the hashing.
            pairs = (blocks.astype(np.uint64) << np.uint64(32)) | hashes[
                has_user
            ].astype(np.uint64)
            self._pairs.write(pairs)
            self._users.clear()
            self._user_blocks.clear()
        if self._nanoseconds and self._parsed_count >= TIME_BATCH:
            parsed = np.concatenate(self._nanoseconds)
            self.result.time_ranges.append(timeranges.from_nanoseconds(parsed))
            self._nanoseconds.clear()
            self._parsed_count = 0
        if not self._times:
            return
        values = _LITERAL.findall(b"".join(self._times).decode("utf-8", "replace"))
        if len(values) != self._time_count:
            self.result.unsupported = "a time literal that does not close"
            return
        self._times.clear()
        self._time_count = 0
        # Imported here, so a scan of regular Graph lines runs without pyarrow and
        # pandas.
        import pyarrow as pa
        import pyarrow.compute as pc

        from h056hunt.timeparse import parse_time_column

        iso = pc.match_substring_regex(pa.array(values, pa.string()), ISO_PATTERN)
        if not pc.all(iso).as_py():
            self.result.unsupported = "a time that is not ISO 8601"
            return
        times, failures = parse_time_column(
            values, path=self.path, column=self.spec.time_key.decode()
        )
        if failures or times.isna().any():
            self.result.unsupported = "a time that does not parse"
            return
        nanoseconds = times.to_numpy(dtype="datetime64[ns]").view(np.int64)
        self.result.time_ranges.append(timeranges.from_nanoseconds(nanoseconds))


def may_hold_upn(line: bytes) -> bool:
    """Tell whether a record line may contain a UPN that the loaders read.

    The loaders read the ``userPrincipalName`` member in any ASCII case. A line
    that names it once, with null, an empty string or a null placeholder after
    the colon, contains no UPN. A line that names it more than once, or in a form
    not read here, may contain one.
    """
    lowered = line.lower()
    count = lowered.count(_UPN_MEMBER)
    if count != 1:
        return count > 1
    colon = lowered.find(_UPN_MEMBER) + len(_UPN_MEMBER)
    if lowered[colon : colon + 1] != b":":
        return True
    value = colon + 1
    if lowered.startswith(b"null", value):
        return lowered[value + 4 : value + 5] not in (b",", b"}")
    if lowered[value : value + 1] != QUOTE:
        return True
    text = _string_value(line, value + 1, len(line))
    return text is None or text.lower() not in NULL_PLACEHOLDERS


def iso_nanoseconds(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse time literals of the form ``2026-03-02T10:00:00.1234567Z`` in bulk.

    ``cells`` holds one row of bytes per literal, starting at its first character
    and running at least ``ISO_WIDTH`` bytes, past its closing quote. Returns UTC
    nanoseconds and a mask of the rows in exactly that form (0 to 9 fractional
    digits, years 1678 to 2261). Other rows are left to
    :func:`~h056hunt.timeparse.parse_time_column`, which gives the same value for
    every row this function accepts.
    """
    head = cells[:, :_ISO_HEAD]
    parsed = ((head >= _ISO_LOW) & (head <= _ISO_HIGH)).all(axis=1)
    hour, minute, second = (
        cells[:, position].astype(np.int16) * 10 + cells[:, position + 1] - 528
        for position in (11, 14, 17)
    )
    parsed &= (hour < 24) & (minute < 60) & (second < 60)
    seconds = np.zeros(len(cells), dtype=np.int64)
    if parsed.any():
        # numpy's ISO parser reads the date and time. A date that does not exist,
        # such as 2023-02-29, sends the batch to the slower digit arithmetic. Such
        # dates are found here first, because numpy 2.4 raises ValueError for them
        # only in short arrays and ends the process with a segmentation fault past
        # a few hundred rows.
        if not _dates_exist(cells[parsed]).all():
            return _iso_nanoseconds_by_digits(cells)
        texts = np.ascontiguousarray(head[parsed]).view(f"S{_ISO_HEAD}").ravel()
        try:
            seconds[parsed] = texts.astype("datetime64[s]").view(np.int64)
        except ValueError:
            return _iso_nanoseconds_by_digits(cells)
        parsed &= (seconds >= _MIN_SECONDS) & (seconds < _MAX_SECONDS)
    fraction, parsed_fraction = _iso_fraction(cells)
    return seconds * 1_000_000_000 + fraction, parsed & parsed_fraction


def _iso_fraction(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the fractional nanoseconds of ISO literals and a mask of the rows
    whose fraction, ``Z`` and closing quote are in the accepted form."""
    has_fraction = cells[:, 19] == ord(".")
    if not has_fraction.any():
        # Graph writes sign-in times to the second, so a batch often has no fraction.
        parsed = (cells[:, 19] == ord("Z")) & (cells[:, 20] == ord(QUOTE))
        return np.zeros(len(cells), dtype=np.int64), parsed
    rows = np.arange(len(cells))
    tail = cells[:, 20:30]
    is_digit = (tail >= ord("0")) & (tail <= ord("9"))
    run = np.logical_and.accumulate(is_digit, axis=1) & has_fraction[:, None]
    fraction_digits = run.sum(axis=1)
    digits = np.where(run[:, :9], tail[:, :9].astype(np.int64) - ord("0"), 0)
    fraction = digits @ _FRACTION_WEIGHTS
    parsed = ~has_fraction | ((fraction_digits >= 1) & (fraction_digits <= 9))
    zone = np.where(has_fraction, 20 + fraction_digits, 19)
    parsed &= cells[rows, np.minimum(zone, cells.shape[1] - 2)] == ord("Z")
    parsed &= cells[rows, np.minimum(zone + 1, cells.shape[1] - 1)] == ord(QUOTE)
    return fraction, parsed


def _dates_exist(cells: np.ndarray) -> np.ndarray:
    """Return a mask of the rows whose ``yyyy-mm-dd`` digits name a real date."""
    digits = cells[:, :10].astype(np.int64) - ord("0")
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 5] * 10 + digits[:, 6]
    day = digits[:, 8] * 10 + digits[:, 9]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 1, 12)] + ((month == 2) & leap)
    exists: np.ndarray = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    return exists


def _iso_nanoseconds_by_digits(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return what :func:`iso_nanoseconds` returns, computed with digit arithmetic.

    This is slower, and serves a batch where some row names a date that does not
    exist, which the numpy parser rejects for the whole batch.
    """
    digits = cells[:, :_ISO_HEAD].astype(np.int64) - ord("0")
    head = cells[:, :_ISO_HEAD]
    parsed = ((head >= _ISO_LOW) & (head <= _ISO_HIGH)).all(axis=1)

    def number(first: int, count: int) -> np.ndarray:
        value = np.zeros(len(cells), dtype=np.int64)
        for position in range(first, first + count):
            value = value * 10 + digits[:, position]
        return value

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second = number(11, 2), number(14, 2), number(17, 2)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 1, 12)] + ((month == 2) & leap)
    parsed &= (year >= 1678) & (year <= 2261) & (month >= 1) & (month <= 12)
    parsed &= (day >= 1) & (day <= month_days)
    parsed &= (hour < 24) & (minute < 60) & (second < 60)
    fraction, parsed_fraction = _iso_fraction(cells)

    shifted = year - (month <= 2)
    era = shifted // 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    return seconds * 1_000_000_000 + fraction, parsed & parsed_fraction


# Bytes that can make the plain path reject a line. These are the C0 controls
# other than the line feed (a NUL among them), a carriage return, which ends a line
# only before its line feed, and any byte over 0x7F, which must be valid UTF-8.
# A backslash is searched with them for the escape check.
_CONTROL_BYTES = bytes(byte for byte in range(0x20) if byte not in (0x0A, 0x0D))
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_SPECIAL_BYTES = _CONTROL_BYTES + b"\r\\"
_SPECIAL_BYTES = _ASCII_SPECIAL_BYTES + _HIGH_BYTES
# The needle searches and the newline count read a chunk this many bytes at a time,
# up to the next line end, so each search after the first finds the piece in the
# core's cache. Over half of the 1M benchmark file, those four searches alone took
# 0.87 to 0.99 s of CPU in whole 8 MiB chunks. In 256 KiB pieces they took 0.66 to
# 0.68 s, and in 1 or 2 MiB pieces 0.71 to 0.79 s. The whole scan of that half took
# 2 to 3 % less CPU.
_PIECE_BYTES = 256 * 1024


def _control_hits(chunk: bytes | bytearray | memoryview, text: sz.Str) -> list[int]:
    """Return a position in each line of ``text`` with a control character or a
    carriage return that does not end the line.

    The plain path rejects such a line in strict mode, so it is decoded and the
    plain path's reader reports it as it would. A raw control character is invalid
    JSON inside a string and rare between tokens, so every line with one is
    decoded. :func:`_invalid_utf8_lines` finds the lines with invalid UTF-8.
    """
    hits: list[int] = []
    length = len(text)
    position = text.find_first_of(_CONTROL_BYTES)
    while position >= 0:
        hits.append(position)
        end = text.find(NEWLINE, position)
        if end < 0:
            break
        position = text.find_first_of(_CONTROL_BYTES, end + 1)
    # Lines that end in CR LF are common; count before looking at each return.
    if text.find("\r") >= 0 and text.count("\r") != text.count("\r\n"):
        position = text.find("\r")
        while position >= 0:
            if position + 1 >= length or chunk[position + 1] != NEWLINE_BYTE:
                hits.append(position)
            position = text.find("\r", position + 1)
    return hits


def _is_utf8(chunk: bytes | bytearray | memoryview, length: int) -> bool:
    """Tell whether the first ``length`` bytes of ``chunk`` are valid UTF-8.

    Arrow's validator checks 8 MiB of text with non-ASCII characters in about
    0.35 ms on the benchmark machine, where decoding it took 3.4 ms (Latin) to
    11 ms (CJK). It rejects what Python's decoder rejects: overlong forms,
    surrogates and code points past U+10FFFF. pyarrow is imported here, not at the
    top, because the scan workers start before the main process imports it.
    """
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, length], dtype=np.int64).tobytes())
    text = pa.Array.from_buffers(
        pa.large_string(), 1, [None, offsets, pa.py_buffer(chunk)]
    )
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _invalid_utf8_lines(
    chunk: bytes | bytearray | memoryview, text: sz.Str
) -> list[int]:
    """Return the position of the first byte over 0x7F of each line that is not
    valid UTF-8, decoding each line with such bytes as the plain path does."""
    hits: list[int] = []
    position = text.find_first_of(_HIGH_BYTES)
    while position >= 0:
        start = text.rfind(NEWLINE, 0, position) + 1
        end = text.find(NEWLINE, position)
        stop = len(text) if end < 0 else end
        try:
            bytes(chunk[start:stop]).decode("utf-8")
        except UnicodeDecodeError:
            hits.append(position)
        if end < 0:
            break
        position = text.find_first_of(_HIGH_BYTES, end + 1)
    return hits


def ascii_folding_positions(data: np.ndarray) -> np.ndarray:
    """Return the positions of the characters of :data:`ASCII_FOLDING_RANGES` in
    ``data``, UTF-8 bytes.

    Only lead bytes of multi-byte characters are looked at, so text with many
    other non-ASCII characters costs a few array operations per chunk. A lead byte
    whose character runs past the end of ``data`` is not a position.
    """
    leads: np.ndarray = np.flatnonzero(data >= 0xC0)
    leads = leads[_FOLDING_LEADS[data[leads]]]
    if not len(leads):
        return leads
    # Reads past the end are clamped to the last byte, and the width check below
    # drops the characters they belong to.
    last = len(data) - 1
    first = data[leads].astype(np.int64)
    second = data[np.minimum(leads + 1, last)].astype(np.int64) & 0x3F
    third = data[np.minimum(leads + 2, last)].astype(np.int64) & 0x3F
    fourth = data[np.minimum(leads + 3, last)].astype(np.int64) & 0x3F
    width = np.where(first < 0xE0, 2, np.where(first < 0xF0, 3, 4))
    code = np.where(
        width == 2,
        ((first & 0x1F) << 6) | second,
        np.where(
            width == 3,
            ((first & 0x0F) << 12) | (second << 6) | third,
            ((first & 0x07) << 18) | (second << 12) | (third << 6) | fourth,
        ),
    )
    index = np.searchsorted(_FOLDING_FIRST, code, side="right") - 1
    found = (index >= 0) & (code <= _FOLDING_LAST[np.maximum(index, 0)])
    found &= leads + width <= len(data)
    positions: np.ndarray = leads[found]
    return positions


def fold_case(line: bytes) -> bytes:
    """Fold the case of a raw line as activity names are folded before matching.

    Detection compares ``str.casefold()`` forms, and some characters fold to ASCII
    letters: U+212A KELVIN SIGN to ``k``, U+017F LATIN SMALL LETTER LONG S to ``s``,
    ``ß`` to ``ss``, ligatures such as U+FB06 to ``st``. A line with such a character
    names an activity that ``bytes.lower()`` does not reveal, so it is decoded first.
    """
    if line.isascii():
        return line.lower()
    return line.decode("utf-8", "replace").casefold().encode("utf-8")


def fold_activity_line(line: bytes) -> bytes:
    """Fold a raw audit line as :func:`~h056hunt.activities.normalise_activity`
    folds activity names, so the words of a listed name can be searched in it.

    Besides what :func:`fold_case` folds, NFKC turns compatibility forms such as
    fullwidth letters into ASCII letters.
    """
    if line.isascii():
        return line.lower()
    return fold_text(line.decode("utf-8", "replace")).encode("utf-8")


def user_hashes(windows: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Hash user id windows: the first ``USER_WINDOW`` bytes of each record's id.

    Returns the hashes and a mask of the windows that hold a user id at all: an
    empty id has none. An id that starts with 8 hex digits, as a GUID does, hashes
    to their value in any case, so ids that are equal after lower-casing hash
    alike. Any other id hashes to :data:`UNKNOWN_USER`.
    """
    cells = np.frombuffer(windows, dtype=np.uint8).reshape(-1, USER_WINDOW)
    digits = _HEX_VALUE[cells]
    is_hex = (digits < 16).all(axis=1)
    # Two digits per byte, read as big-endian 32-bit integers.
    packed = (digits[:, 0::2] << np.uint8(4)) | digits[:, 1::2]
    value = np.ascontiguousarray(packed).view(">u4").ravel().astype(np.uint32)
    hashes = np.where(is_hex, value, UNKNOWN_USER).astype(np.uint32)
    return hashes, cells[:, 0] != ord(QUOTE)


@functools.lru_cache(maxsize=8)
def _wanted_hashes(users: frozenset[bytes]) -> np.ndarray:
    """Return the hashes of the wanted user ids, once per set.

    The second pass makes a scanner per block with the same set, and hashing it
    for each of the 305 blocks of the benchmark's 1M file took about 18 ms in
    all under cProfile.
    """
    return user_hashes(b"".join(user_window(user) for user in sorted(users)))[0]


def user_window(user: bytes | None) -> bytes:
    """Return the window :func:`user_hashes` reads for a lower-cased user id."""
    if user is None:
        return NO_USER_WINDOW
    return (user + QUOTE).ljust(USER_WINDOW, b"?")[:USER_WINDOW]


def _windows(data: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """Return a copy of the ``width`` bytes at each offset, one row per offset.

    Taking rows of a sliding window view copies about four times faster than
    indexing with an offset grid.
    """
    rows: np.ndarray = sliding_window_view(data, width)[offsets]
    return rows


def _line_starts(
    data: np.ndarray, text: sz.Str, keys: np.ndarray, newlines: int
) -> np.ndarray | None:
    """Return the start of each line when every line holds the time key once.

    ``newlines`` is the count of line ends in ``text``. Graph sign-ins put the key
    at a fixed offset, so the starts follow from the keys; otherwise they come from
    the newlines. None when the lines and keys do not pair up one to one.
    """
    length = len(text)
    lines = newlines + (data[length - 1] != NEWLINE_BYTE)
    if lines != len(keys):
        return None
    starts = keys - GRAPH_KEY_OFFSET
    if starts[0] == 0 and (data[starts[1:] - 1] == NEWLINE_BYTE).all():
        return starts
    found = [0]
    find = text.find
    position = find(NEWLINE)
    while 0 <= position < length - 1:
        found.append(position + 1)
        position = find(NEWLINE, position + 1)
    starts = np.array(found, dtype=np.int64)
    following = np.append(starts[1:], length)
    if len(starts) != len(keys) or (keys < starts).any() or (keys >= following).any():
        return None
    return starts


def _string_value(
    chunk: bytes | bytearray | memoryview, start: int, end: int
) -> str | None:
    """Return the stripped JSON string that starts at ``start`` and has no escape.

    None when it does not close before ``end`` or within ``MAX_LITERAL_BYTES``, or
    holds a backslash, so the caller decodes the line instead.
    """
    # A copy of at most MAX_LITERAL_BYTES, so a memoryview chunk works as well.
    window = bytes(chunk[start : min(end, start + MAX_LITERAL_BYTES)])
    close = window.find(QUOTE)
    if close < 0 or window.find(b"\\", 0, close) >= 0:
        return None
    return window[:close].decode("utf-8", "replace").strip()
