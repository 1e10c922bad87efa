"""Severity colours in the findings table: on a terminal, and never elsewhere."""

from __future__ import annotations

import io
import re

import pytest

from cli_runs import SAMPLES
from h056hunt.detect.chains import DetectionParams
from h056hunt.hunt import run_hunt
from h056hunt.load import LoadOptions, load_logs
from h056hunt.render import RENDERERS
from h056hunt.render.context import RenderContext

# A colour is an SGR parameter from 30 to 49: foreground or background.
COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9])[;m]")


@pytest.fixture(scope="module")
def sample_context() -> RenderContext:
    data = load_logs(
        [str(SAMPLES / "audit.json")], [str(SAMPLES / "signin.json")], LoadOptions()
    )
    params = DetectionParams()
    return RenderContext(data=data, result=run_hunt(data, params), params=params)


def table_text(context: RenderContext, *, is_terminal: bool, no_color: bool) -> str:
    stream = io.StringIO()
    context = RenderContext(
        data=context.data,
        result=context.result,
        params=context.params,
        is_terminal=is_terminal,
        no_color=no_color,
    )
    RENDERERS["table"](context.result.findings, stream, context)
    return stream.getvalue()


def test_terminal_gets_severity_colours(sample_context: RenderContext) -> None:
    text = table_text(sample_context, is_terminal=True, no_color=False)

    assert "critical" in text
    assert COLOUR.search(text)


def test_no_color_keeps_terminal_plain(sample_context: RenderContext) -> None:
    text = table_text(sample_context, is_terminal=True, no_color=True)

    assert "critical" in text
    assert COLOUR.search(text) is None


def test_pipe_gets_no_escape_at_all(sample_context: RenderContext) -> None:
    text = table_text(sample_context, is_terminal=False, no_color=False)

    assert "critical" in text
    assert "\x1b" not in text
