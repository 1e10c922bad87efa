"""Hostile log values in the ``markdown`` report: no table break, link or HTML."""

from __future__ import annotations

import re

from hostile import RunFormat, assert_terminal_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

# A cell bar is a "|" that no backslash escapes.
CELL_BAR = re.compile(r"(?<!\\)\|")


def tokens(text: str) -> list[Token]:
    """Parse CommonMark with GFM tables, flattening inline children."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    flat = []
    for token in parser.parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def table_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def test_markdown_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("markdown")

    assert to_stdout.exit_code == 0
    assert_terminal_safe(to_stdout.stdout, "stdout")
    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert to_file.file == to_stdout.stdout


def test_markdown_holds_no_html(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")
    parsed = tokens(to_stdout.text())

    html = [token.content for token in parsed if token.type.startswith("html")]
    assert html == []


def test_markdown_holds_no_injected_link(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")
    parsed = tokens(to_stdout.text())

    links = [token.attrGet("href") for token in parsed if token.type == "link_open"]
    images = [token for token in parsed if token.type == "image"]
    assert links == []
    assert images == []
    assert "](javascript:" not in to_stdout.text()


def test_markdown_table_rows_keep_their_cells(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")
    blocks = table_blocks(to_stdout.text())

    assert blocks
    for block in blocks:
        bars = {len(CELL_BAR.findall(line)) for line in block}
        assert len(bars) == 1, block


def test_markdown_tables_parse_row_for_row(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")
    text = to_stdout.text()
    parsed = tokens(text)

    rows = sum(1 for token in parsed if token.type == "tr_open")
    # Each block has a header, a delimiter row and body rows.
    written = sum(len(block) - 1 for block in table_blocks(text))
    assert rows == written


def test_markdown_payload_starts_no_heading(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")
    parsed = tokens(to_stdout.text())

    headings = [
        parsed[index + 1].content
        for index, token in enumerate(parsed)
        if token.type == "heading_open"
    ]
    assert not [heading for heading in headings if heading.startswith("heading")]


def test_markdown_payload_starts_no_list(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")
    parsed = tokens(to_stdout.text())

    items = [
        parsed[index + 2].content
        for index, token in enumerate(parsed)
        if token.type == "list_item_open" and parsed[index + 1].type == "paragraph_open"
    ]
    assert items
    assert not [item for item in items if item.startswith("item")]


def test_markdown_says_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("markdown")

    assert "**Warning: partial input.**" in to_stdout.text()
