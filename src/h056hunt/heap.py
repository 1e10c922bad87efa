"""Return the free memory of the C heap to the operating system.

pyarrow's arrays (the hunt uses the system allocator, see ``h056hunt.cli``) and
NumPy's come from the C library's ``malloc``. glibc keeps the memory they free
for later requests and returns only what lies at the top of its heap. So the
copies made while one file's frames are built stay resident after they are
freed, and later stages reuse only part of that memory.
:func:`release_free_memory` calls glibc's ``malloc_trim(0)``, which since glibc
2.8 frees the whole free pages of all arenas (malloc_trim(3), Linux man-pages
6.03).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        # The symbols of the running process, the C library among them.
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_free_memory() -> None:
    """Return the free pages of the C heap to the system; do nothing without glibc.

    A hunt over the 1M-sign-in input of ``benchmarks/run.py`` calls it eight
    times. Seven of those calls took 4 to 5 ms of CPU in all on the 2-core
    benchmark machine, not counting the page faults when the memory is used again.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
