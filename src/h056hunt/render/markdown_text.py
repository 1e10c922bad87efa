"""Make log field text inert inside Markdown: no markup, links, HTML or broken tables.

Log fields such as display names and user agents are written by whoever signed in,
attacker included. :func:`md_text` backslash-escapes every character that CommonMark
or GitHub Flavored Markdown (GFM) could read as markup, so the rendered text equals
the field. :func:`md_code` puts a field inside a code span, where Markdown reads
nothing except the closing backtick and, inside a table, the cell bar.

Both turn line breaks into spaces, because a line break ends a table row and can
start a heading, list or HTML block, and both show control and bidirectional
characters as visible escapes (see :func:`h056hunt.render.text.plain`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from h056hunt.render.text import plain

# Line breaks of any kind, and tabs, which a table cell cannot hold either.
_BREAKS = re.compile("\r\n|[\r\n\t\v\f\u0085\u2028\u2029]")
# ASCII punctuation that CommonMark or GFM reads as markup: emphasis, code, links,
# images, raw HTML, entities, headings, table cells, strikethrough, math and email
# autolinks. A backslash before any ASCII punctuation is a valid escape.
_SPECIAL = re.compile(r"([\\`*_\[\]<>()#!|~&@$])")
# GFM turns "http://", "https://" and "www." into links even without brackets.
_URL_START = re.compile(r"(?i)(:)(?=/)|\b(www)(\.)")
# "-", "+" or "1." and a space at the start of a line begin a list item.
_LIST_MARKER = re.compile(r"^( {0,3})([-+]|\d{1,9}\.)(?=[ \t]|$)")
# Three or more "-" and nothing else but spaces make a line a thematic break (a
# horizontal rule). "*" and "_" are escaped everywhere by _SPECIAL already.
_RULE_START = re.compile(r"^( {0,3})-(?=[ -]*-[ -]*-[ -]*$)")


def one_line(value: object) -> str:
    """Return field text on one line, unsafe characters shown as escapes."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return plain(_BREAKS.sub(" ", text))


def md_text(value: object) -> str:
    """Return field text that renders literally in Markdown prose or a table cell.

    >>> md_text("[x](javascript:alert(1))")
    '\\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\)'
    """
    text = _SPECIAL.sub(r"\\\1", one_line(value))
    text = _LIST_MARKER.sub(_escape_list_marker, text)
    text = _RULE_START.sub(r"\1\\-", text)
    return _URL_START.sub(_break_url, text)


def _escape_list_marker(found: re.Match[str]) -> str:
    marker = found.group(2)
    escaped = "\\" + marker if marker in "-+" else marker[:-1] + "\\."
    return found.group(1) + escaped


def _break_url(found: re.Match[str]) -> str:
    if found.group(1):
        return "\\:"
    return found.group(2) + "\\."


def md_code(value: object, *, in_table: bool = True) -> str:
    """Return field text as an inline code span, or ``-`` when it is empty.

    Backticks become apostrophes, because a backtick would end the span early. This
    is the only change to the text. Inside a table a ``|`` is written as ``\\|``, which
    GFM reads as a bar in the cell, even inside a code span.
    """
    text = one_line(value).replace("`", "'")
    if not text:
        return "-"
    if in_table:
        text = text.replace("|", "\\|")
    # A space at both ends keeps a span that starts or ends with a space intact.
    if text.startswith(" ") or text.endswith(" "):
        return f"` {text} `"
    return f"`{text}`"


def md_code_list(values: Iterable[object]) -> str:
    """Return each value as its own code span for a table cell, separated by
    ``, ``, or ``-`` when there is none.

    A value may contain the separator, but it then sits inside the span, so the
    rendered spans show where each value starts and ends.
    """
    spans = [md_code(value) for value in values]
    return ", ".join(spans) if spans else "-"


def md_bullets(label: str, values: Iterable[object], *, indent: str = "") -> list[str]:
    """Return a list item ``label`` with one nested item per value, or
    ``* label: -`` when there is none. The label must already be escaped, and
    ``indent`` is the indent of the item ``label``."""
    items = [f"{indent}  * {md_text(value) or '-'}" for value in values]
    if not items:
        return [f"{indent}* {label}: -"]
    return [f"{indent}* {label}:", *items]


def md_cell(value: object) -> str:
    """Return field text for a table cell, or ``-`` when it is empty."""
    text = md_text(value)
    return text if text else "-"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Return the lines of a GFM table. The cells must already be escaped."""
    return list(table_lines(header, rows))


def table_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """Yield the lines of a GFM table as :func:`table` returns them, reading one
    row at a time."""
    yield "| " + " | ".join(header) + " |"
    yield "|" + "|".join(" --- " for _ in header) + "|"
    for row in rows:
        yield "| " + " | ".join(row) + " |"
