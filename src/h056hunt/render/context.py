"""What a renderer gets besides the findings: run facts for reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from h056hunt.detect.chains import DetectionParams
    from h056hunt.findings import Finding
    from h056hunt.hunt import HuntResult
    from h056hunt.load import LoadedData


@dataclass(frozen=True)
class RenderContext:
    """Run facts a renderer may show.

    Attributes:
        data: the loaded inputs and their accounting.
        result: the hunt result, including revocations and coverage warnings.
        params: the thresholds used.
        tz: time zone for displayed times; None means UTC. Machine-readable outputs
            always write UTC.
        details: show timelines in the table output.
        no_color: print without colours.
        is_terminal: the stream is a terminal.
        suppressed_listed: ``--show-suppressed`` lists the suppressed findings on
            stderr, so outputs leave out the hint to use it.
    """

    data: LoadedData
    result: HuntResult
    params: DetectionParams
    tz: tzinfo | None = None
    details: bool = False
    no_color: bool = False
    is_terminal: bool = False
    suppressed_listed: bool = False

    @property
    def partial(self) -> bool:
        """True when some input was not read completely."""
        return self.data.partial


class Renderer(Protocol):
    """Write findings to a text stream in one output format."""

    def __call__(
        self, findings: list[Finding], stream: TextIO, context: RenderContext
    ) -> None: ...
