"""Recognise files that h056hunt writes itself, so a hunt skips and names each one.

Findings written with ``--output`` and a config file can sit in the folder of the
exports they came from. Read as exports, a findings file would count one
"unrecognised record" per finding, and a config file would fail as invalid JSON.
Each kind is recognised from the start of its content, never from its name, so a
renamed file is still found:

* JSON findings: a document whose first key is ``findings`` and whose first finding
  starts with the ``actor`` and ``approval_time`` keys, as every finding record
  does because its keys are sorted.
* JSON Lines and Timesketch findings: a first line that is a finding record, the
  partial-input notice, or an event whose ``data_type`` starts with ``h056hunt:``.
* CSV findings: a header row that starts with the report's first four columns.
* HTML and Markdown reports: the report's title.
* The table format: header lines whose first column reads ``Severity``, also
  when a narrow width folds the name, followed by the table's rule line, or the
  "No findings." line. Either can follow the lines about partial input and
  coverage gaps.
* A config file: TOML whose top-level keys include one of the config file's tables.
  A config file longer than the head is parsed up to the head's last table.

An export's first record or header never has these markers, because Entra writes
none of these keys or column names. Each check reads only what a log value cannot
set: the keys or the first line of the file, or the lines after a first line that
no export has. So a sign-in whose fields copy a finding cannot get its export
skipped. Files of a folder written by ``h056 convert`` are marked while the inputs
are expanded (see :attr:`~h056hunt.sources.InputFile.convert_folder`).
"""

from __future__ import annotations

import csv
import glob
import html
import json
import logging
import os
import re
import shlex
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

from h056hunt.config import CONFIG_KEYS
from h056hunt.errors import InputError
from h056hunt.loaders.sink import FileSink
from h056hunt.plurals import Counted
from h056hunt.sources import UTF16_MARKS, InputFile, is_uri, utf16_without_mark
from h056hunt.streams import open_input

logger = logging.getLogger(__name__)

# Decompressed bytes of a file's start that recognition reads. A finding record
# of a mass revocation can be far longer, so the JSON findings are recognised by
# the keys that start a record. The first of them, the actor, contains ids, names
# and an address, which fit in this part.
HEAD_BYTES = 64 * 1024

FINDINGS_OUTPUT_REASON = "h056 findings output, not an export"
CONFIG_FILE_REASON = "h056 config file, not an export"
CONVERT_FOLDER_REASON = "file of an h056 convert folder, which is read only whole"
# The shape that a file's report shows for each kind, as a simulate labels file
# shows json_export.SIMULATE_LABELS_SHAPE.
FINDINGS_OUTPUT_SHAPE = "h056-findings"
CONFIG_FILE_SHAPE = "h056-config"
CONVERT_FOLDER_SHAPE = "h056-convert-folder"

# The title of the HTML and Markdown reports (render.html_report.TITLE and
# render.markdown.TITLE). Those modules are imported only when a report is
# written, so the text is repeated here, and a test compares the two.
REPORT_TITLE = "Hunt report: session revocation followed by MFA push bombing"
# The first columns of the CSV findings report (render.csv_report.COLUMNS).
CSV_FIRST_COLUMNS = ("finding_id", "finding_type", "severity", "score")
# The record_type of the notice that a partial run with no finding writes to
# JSON Lines (render.partial.NOTICE_RECORD_TYPE).
NOTICE_RECORD_TYPE = "partial_input_notice"
# The start of the data_type of every Timesketch event that h056hunt writes.
TIMESKETCH_DATA_TYPE_PREFIX = "h056hunt:"

_LEADING_BLANKS = "\ufeff \t\r\n"
_DOCUMENT_START = re.compile(r'\{\s*"findings"\s*:\s*\[\s*')
_RECORD_START = re.compile(r'\{\s*"actor"\s*:\s*')
_AFTER_ACTOR = re.compile(r'\s*,\s*"approval_time"\s*:')
# The first column of every layout of the table (render.table.TABLE_LAYOUTS).
_TABLE_FIRST_COLUMN = "Severity"
_TABLE_RULE = "\u2501"
# Header lines above the rule. A column name folds at a narrow width, one piece
# per line, as "Seve" above "rity" at 20 columns.
_TABLE_HEADER_LINES = 8
# The first words of the lines that the table format writes above the table
# (render.partial.PARTIAL_HEADLINE and the coverage line of render.table), and of
# the line it writes in place of a table without findings.
_TABLE_BANNERS = ("PARTIAL INPUT: ", "COVERAGE: ")
# The first word of each, which starts the first line at every width, because a
# narrow width can wrap the line right after it.
_TABLE_BANNER_WORDS = frozenset(banner.split(" ", 1)[0] for banner in _TABLE_BANNERS)
# The line written in place of a table without findings: "No findings." or "No
# findings reported; N suppressed ...". A narrow width wraps the second right
# after "No findings" or "reported;".
_NO_FINDINGS = re.compile(r"No findings(?:\.|;| reported;)?(?: |\r?$)")
# Lines of the table output searched for the header after those lines.
_TABLE_SEARCH_LINES = 40


@dataclass(frozen=True)
class ToolFile:
    """A file that h056hunt wrote, as messages name it, with its skip reason.

    Attributes:
        kind: what the file is, such as "h056 findings output (CSV)".
        reason: the skip reason that the run summary counts the file under.
        shape: the shape that the file's report shows.
    """

    kind: str
    reason: str
    shape: str


def recognise(input_file: InputFile, *, max_decompressed_bytes: int) -> ToolFile | None:
    """Return what the file is when h056hunt wrote it, else None.

    A file that cannot be opened or decompressed returns None, so that the
    loader reports the fault as it does for any export.
    """
    if input_file.convert_folder:
        return ToolFile(
            f"a file of the h056 convert folder {input_file.convert_folder}",
            CONVERT_FOLDER_REASON,
            CONVERT_FOLDER_SHAPE,
        )
    read = _read_head(input_file.path, input_file.display, max_decompressed_bytes)
    if read is None:
        return None
    text, complete = read
    text = text.lstrip(_LEADING_BLANKS)
    kind = _findings_kind(text, complete)
    if kind is not None:
        return ToolFile(
            f"h056 findings output ({kind})",
            FINDINGS_OUTPUT_REASON,
            FINDINGS_OUTPUT_SHAPE,
        )
    is_config = _is_config(text) if complete else _starts_config(text)
    if is_config:
        return ToolFile("h056 config file", CONFIG_FILE_REASON, CONFIG_FILE_SHAPE)
    return None


def _read_head(
    path: Path, display: str, max_decompressed_bytes: int
) -> tuple[str, bool] | None:
    """Return the decoded text of the file's first :data:`HEAD_BYTES` bytes, and
    whether that is the whole file."""
    try:
        with open_input(
            path, display, max_decompressed_bytes=max_decompressed_bytes
        ) as stream:
            pieces: list[bytes] = []
            size = 0
            # Reading one byte past the head shows whether the file is longer.
            while size <= HEAD_BYTES:
                piece = stream.read(HEAD_BYTES + 1 - size)
                if not piece:
                    break
                pieces.append(piece)
                size += len(piece)
    except (InputError, OSError):
        return None
    head = b"".join(pieces)
    complete = len(head) <= HEAD_BYTES
    head = head[:HEAD_BYTES]
    # The encodings that the loaders detect. A character cut at the end of the
    # head decodes to U+FFFD, which no marker contains.
    if head[:2] in UTF16_MARKS:
        encoding = "utf-16"
    else:
        encoding = utf16_without_mark(head) or "utf-8-sig"
    return head.decode(encoding, errors="replace"), complete


def _findings_kind(text: str, complete: bool) -> str | None:
    """Return the output format of findings that ``text`` starts, else None."""
    if text.startswith("{"):
        if _is_findings_document(text, complete):
            return "JSON"
        return _json_lines_kind(text, complete)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if first_line.startswith('"') or first_line.startswith("finding_id"):
        cells = next(csv.reader([first_line]), [])
        if tuple(cells[: len(CSV_FIRST_COLUMNS)]) == CSV_FIRST_COLUMNS:
            return "CSV"
    if first_line == f"# {REPORT_TITLE}":
        return "Markdown"
    if text[:15].lower() == "<!doctype html>" and (
        f"<title>{html.escape(REPORT_TITLE)}</title>" in text
    ):
        return "HTML"
    if _is_table(text):
        return "table"
    return None


def _is_table(text: str) -> bool:
    """Tell whether ``text`` starts the table format's output.

    The table may follow the lines about partial input and coverage gaps, which
    can wrap. They start the file, where no export has them, so the lines after
    them can be searched without a log value being able to pose as the table.
    """
    lines = text.split("\n", _TABLE_SEARCH_LINES)[:_TABLE_SEARCH_LINES]
    first_word = lines[0].split(" ", 1)[0].rstrip("\r")
    if first_word not in _TABLE_BANNER_WORDS:
        return _starts_table(lines)
    return any(_starts_table(lines[index:]) for index in range(1, len(lines)))


def _starts_table(lines: list[str]) -> bool:
    """Tell whether ``lines`` start with the table's header and rule, or with the
    line written in place of a table without findings.

    The header is the lines above the rule. Its first column must read
    "Severity", also when the name is folded over several lines, so every
    layout and width of the table is recognised.
    """
    if _NO_FINDINGS.match(lines[0]):
        return True
    header = lines[0].lstrip(" ")
    column = len(lines[0]) - len(header)
    if not header or not _TABLE_FIRST_COLUMN.startswith(header.split(" ", 1)[0]):
        return False
    pieces: list[str] = []
    for line in lines[: _TABLE_HEADER_LINES + 1]:
        if line.strip().startswith(_TABLE_RULE):
            return bool(pieces) and "".join(pieces) == _TABLE_FIRST_COLUMN
        # A line where the first column is blank continues another column.
        cell = line[column:]
        if cell[:1] not in ("", " ") and line[:column].strip() == "":
            pieces.append(cell.split(" ", 1)[0].rstrip("\r"))
    return False


def _is_findings_document(text: str, complete: bool) -> bool:
    """Tell whether ``text`` starts the JSON findings document.

    The document's keys are sorted, so ``findings`` comes first, and its first
    finding record starts as every JSON Lines record does.
    """
    start = _DOCUMENT_START.match(text)
    if start is None:
        return False
    rest = text[start.end() :]
    if rest.startswith("]"):
        # No finding: the run summary follows.
        return re.match(r'\]\s*,\s*"run"\s*:', rest) is not None
    if complete:
        document = _decoded(text)
        return isinstance(document, dict) and {
            "findings",
            "run",
            "schema_version",
        } <= set(document)
    return _starts_finding_record(rest)


def _json_lines_kind(text: str, complete: bool) -> str | None:
    """Return "JSON Lines" or "Timesketch JSON Lines" when the first line of
    ``text`` is a record of that output, else None."""
    end = text.find("\n")
    if end == -1 and not complete:
        # The first line is longer than the head, as a mass revocation's
        # finding can be. Its first keys still mark it.
        return "JSON Lines" if _starts_finding_record(text) else None
    record = _decoded(text if end == -1 else text[:end])
    if not isinstance(record, dict) or "schema_version" not in record:
        return None
    data_type = record.get("data_type")
    if isinstance(data_type, str) and data_type.startswith(TIMESKETCH_DATA_TYPE_PREFIX):
        return "Timesketch JSON Lines"
    if {"finding_id", "finding_type"} <= set(record):
        return "JSON Lines"
    if record.get("record_type") == NOTICE_RECORD_TYPE:
        return "JSON Lines"
    return None


def _starts_finding_record(text: str) -> bool:
    """Tell whether ``text`` starts a finding record: the ``actor`` key with an
    object or null, then the ``approval_time`` key."""
    start = _RECORD_START.match(text)
    if start is None:
        return False
    try:
        actor, end = json.JSONDecoder().raw_decode(text, start.end())
    except (ValueError, RecursionError):
        return False
    if actor is not None and not isinstance(actor, dict):
        return False
    return _AFTER_ACTOR.match(text, end) is not None


def _decoded(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _is_config(text: str) -> bool:
    """Tell whether ``text`` is TOML with one of the config file's top-level keys.

    A key that the config file does not have still counts, so that a config with
    a misspelt key is named as what it is. No export is valid TOML, since its
    first line is a JSON value or a header row of quoted or comma-separated names.
    """
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return False
    return bool(CONFIG_KEYS & set(document))


def _starts_config(head: str) -> bool:
    """Tell whether ``head``, the start of a longer file, starts a config file.

    A long allowlist can make a config file longer than the head, whose last
    table or array is then cut off. So the head is parsed up to its last line
    that starts a table, and else up to its last whole line. Both keep the
    first line, so an export fails as in :func:`_is_config`.
    """
    # Each cut keeps the line end, so a CRLF file still ends in a whole "\r\n".
    last_table = head.rfind("\n[") + 1
    last_line = head.rfind("\n") + 1
    return any(_is_config(head[:end]) for end in (last_table, last_line) if end > 1)


def skip_file(
    sink: FileSink,
    tool_file: ToolFile,
    input_file: InputFile,
    *,
    config_file: Path | None = None,
) -> None:
    """Count the file as one record of its shape, seen and skipped, and warn with
    what it is.

    The file of a convert folder gets no warning of its own, because
    :func:`warn_convert_folders` names its folder once. Neither does
    ``config_file``, the config file of this run, such as the ``./h056.toml`` of
    a hunt of the current folder. Moving it out, as the warning advises, would
    drop its settings, so an INFO line names it.
    """
    sink.skip_as_shape(tool_file.shape, tool_file.reason, line=None, record=None)
    if tool_file.reason == CONVERT_FOLDER_REASON:
        sink.report.in_convert_folder = input_file.convert_folder
        return
    if tool_file.reason == CONFIG_FILE_REASON and _is_same_file(
        input_file.path, config_file
    ):
        logger.info(
            "%s: the config file of this run, not an export; file skipped",
            input_file.display,
        )
        return
    if not input_file.source or PurePath(input_file.source) == PurePath(
        input_file.display
    ):
        # Worded to fit a run that has exports besides this file and one that
        # has none.
        advice = "leave it out of the inputs, which take only audit and sign-in exports"
    else:
        # Quoted as a shell word, as the advice about misplaced files quotes it.
        advice = (
            "move it out of the input folder, or give the export files in place "
            f"of {shlex.quote(input_file.source)}"
        )
    logger.warning(
        "%s: %s, not an export; file skipped (%s)",
        input_file.display,
        tool_file.kind,
        advice,
    )


def _is_same_file(path: Path, other: Path | None) -> bool:
    if other is None:
        return False
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def warn_convert_folders(
    files: Iterable[InputFile],
    read_whole: Collection[str] = (),
    *,
    describing: bool = False,
) -> None:
    """Warn once for each convert folder whose files an input folder, a glob
    pattern, a symlink or an input named inside the folder reached.

    Args:
        read_whole: the convert folders that other inputs give themselves, so
            that the run reads them whole, as written in those inputs.
        describing: the run describes files (``h056 inspect``), which takes
            paths rather than the --audit and --signin options.
    """
    read_whole_keys = {_folder_key(folder) for folder in read_whole}
    counts: dict[str, int] = {}
    patterns: dict[str, str] = {}
    for input_file in files:
        if input_file.convert_folder:
            counts[input_file.convert_folder] = (
                counts.get(input_file.convert_folder, 0) + 1
            )
            patterns.setdefault(input_file.convert_folder, input_file.source)
    for folder, count in counts.items():
        found, remedy = _how_reached(folder, patterns[folder])
        if _folder_key(folder) in read_whole_keys:
            advice = (
                "another input gives the folder itself, which is read whole; to "
                f"stop this warning, {remedy}"
            )
        elif describing:
            advice = f"to describe it, give the folder itself as a path, or {remedy}"
        else:
            advice = (
                "to read its records, give the folder itself as an input (such as "
                f"--audit or --signin), or {remedy}"
            )
        logger.warning(
            "%s: a folder written by h056 convert %s, so its %s skipped; %s",
            folder,
            found,
            Counted(count, "file was", "files were"),
            advice,
        )


def _how_reached(folder: str, pattern: str) -> tuple[str, str]:
    """Return how the input value ``pattern`` reached the convert folder's
    files, as the warning words it, and how to leave them out."""
    quoted = shlex.quote(pattern)
    if glob.has_magic(pattern):
        return (
            f"found through the glob pattern {quoted}",
            "change the pattern so that it leaves the folder out",
        )
    if pattern and _is_within(pattern, folder):
        return f"that contains the input {quoted}", "leave that input out"
    if pattern and not _is_within(folder, pattern):
        return (
            f"reached through a symlink in the input {quoted}",
            "remove the symlink",
        )
    return "inside an input folder", "move it out of the input folder"


def _is_within(path: str, folder: str) -> bool:
    """Tell whether ``path`` is ``folder`` or lies inside it: local paths once
    both are resolved, URIs as written."""
    if is_uri(path) or is_uri(folder):
        # PurePosixPath reads "file:///x" and Spark's "file:/x" alike.
        return PurePosixPath(path).is_relative_to(PurePosixPath(folder))
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError):
        return False


def _folder_key(folder: str) -> str:
    """Return a folder as written in an input or a message, in one form for
    comparing: a local path resolved, a URI with repeated slashes joined."""
    if is_uri(folder):
        return str(PurePosixPath(folder))
    try:
        return str(Path(folder).resolve())
    except (OSError, RuntimeError):
        return folder
