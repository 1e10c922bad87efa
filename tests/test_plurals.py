"""Tests for :class:`h056hunt.plurals.Counted`."""

from __future__ import annotations

import logging

import pytest

from h056hunt.plurals import Counted


@pytest.mark.parametrize(
    ("counted", "expected"),
    [
        (Counted(0, "record"), "0 records"),
        (Counted(1, "record"), "1 record"),
        (Counted(2, "record"), "2 records"),
        (Counted(1, "burst is", "bursts are"), "1 burst is"),
        (Counted(3, "burst is", "bursts are"), "3 bursts are"),
    ],
)
def test_counted_picks_form(counted: Counted, expected: str) -> None:
    assert str(counted) == expected
    assert f"{counted}" == expected


def test_counted_as_log_argument(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("h056hunt.test_plurals")

    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("read %s", Counted(1, "file"))
        logger.info("read %s", Counted(4, "file"))

    assert [record.getMessage() for record in caplog.records] == [
        "read 1 file",
        "read 4 files",
    ]
