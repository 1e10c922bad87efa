"""Tests for returning free C heap memory to the operating system."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from h056hunt import heap


def test_release_free_memory_runs() -> None:
    heap.release_free_memory()


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is a glibc function"
)
def test_malloc_trim_found_on_glibc() -> None:
    assert heap._MALLOC_TRIM is not None


# Frees a 4 MiB block, which raises glibc's dynamic mmap threshold to 4 MiB, then
# allocates 1 MiB and prints how many blocks malloc holds in pages of their own.
MMAPPED_AFTER_FREE = """
import ctypes, sys
from h056hunt import heap

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
        "keepcost").split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "fixed":
    assert heap.fix_mmap_threshold()
libc.free(libc.malloc(4 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(1 << 20)
print(libc.mallinfo2().hblks - before)
libc.free(block)
"""


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="mallopt and mallinfo2 are glibc's"
)
@pytest.mark.parametrize(("mode", "mmapped"), [("dynamic", "0"), ("fixed", "1")])
def test_fixed_threshold_keeps_blocks_mmapped(mode: str, mmapped: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", MMAPPED_AFTER_FREE, mode],
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == mmapped
