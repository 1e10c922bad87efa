"""Hostile log values in the ``html`` report: no script, no link, escaped text."""

from __future__ import annotations

from html.parser import HTMLParser

from hostile import RunFormat, assert_terminal_safe


class PageParser(HTMLParser):
    """Collect the tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser


def test_html_holds_no_controls(hostile_outputs: RunFormat) -> None:
    to_stdout, to_file = hostile_outputs("html")

    assert to_stdout.exit_code == 0
    assert_terminal_safe(to_stdout.stdout, "stdout")
    assert_terminal_safe(to_stdout.stderr, "stderr")
    assert to_file.file == to_stdout.stdout


def test_html_holds_no_script(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("html")
    page = parse(to_stdout.text())

    assert "script" not in page.tags
    assert not [name for name, _ in page.attributes if name.startswith("on")]


def test_html_links_stay_inside_the_page(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("html")
    page = parse(to_stdout.text())

    targets = [value for name, value in page.attributes if name in ("href", "src")]
    assert targets
    assert all(target.startswith("#") for target in targets), targets


def test_html_shows_payloads_as_text(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("html")
    text = "".join(parse(to_stdout.text()).text)

    assert "<script>alert(1)</script>" in text
    assert "[x](javascript:alert(1))" in text
    assert "\\x1b[31mRED" in text


def test_html_forbids_scripts_by_policy(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("html")
    page = parse(to_stdout.text())

    policies = [
        value
        for name, value in page.attributes
        if name == "content" and "default-src" in value
    ]
    assert policies == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]


def test_html_says_partial(hostile_outputs: RunFormat) -> None:
    to_stdout, _ = hostile_outputs("html")

    assert 'role="alert"' in to_stdout.text()
