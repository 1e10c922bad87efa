"""Tests for returning free C heap memory to the operating system."""

from __future__ import annotations

import platform

import pytest

from h056hunt import heap


def test_release_free_memory_runs() -> None:
    heap.release_free_memory()


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is a glibc function"
)
def test_malloc_trim_found_on_glibc() -> None:
    assert heap._MALLOC_TRIM is not None
