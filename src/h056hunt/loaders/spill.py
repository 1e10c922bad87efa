"""Keep the fast path's per-line user index in files instead of in memory.

The first pass of the fast path hashes the user id of every pre-filtered sign-in
into a ``block << 32 | hash`` pair (see :func:`h056hunt.loaders.prefilter.user_hashes`).
That is 8 bytes per line: 24 MB for 3M sign-ins, 240 MB for a month of a tenant
that writes a million a day, held until the second pass. Each scan writes its pairs
to a file in a folder of the system's temporary directory instead, and the second
pass reads them back in slices, so the index costs no memory that grows with the
input.

The folder is made by the process that runs the hunt, before it forks scan workers,
and removed when that process exits, or when Ctrl-C ends it. Each
:class:`PairFile` is removed once the index that contains it is dropped. When a
file cannot be written (a full or read-only temporary directory), the pairs stay in
memory, as before.

This module imports no pandas or pyarrow: scan workers use it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from h056hunt import interrupts

# Pairs read back per slice: 1 MiB.
READ_PAIRS = 1 << 17
PREFIX = "h056hunt-"

_folder: str | None = None
_folder_owner: int | None = None


def folder() -> str | None:
    """Return this run's folder for index files, making it on the first call.

    Call it in the hunting process before forking workers, so they write into a
    folder that this process removes at exit. Returns None when no folder can be
    made; the pairs then stay in memory.
    """
    global _folder, _folder_owner
    if _folder is None:
        try:
            _folder = tempfile.mkdtemp(prefix=PREFIX)
        except OSError:
            return None
        _folder_owner = os.getpid()
        atexit.register(_remove_folder, _folder, _folder_owner)
        interrupts.add_cleanup(
            functools.partial(_remove_folder, _folder, _folder_owner)
        )
    return _folder


def _remove_folder(path: str, owner: int) -> None:
    # A forked worker inherits the registration, but only the maker removes the folder.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class PairFile:
    """The index pairs of one scan: a file of native uint64 values, then any pairs
    held in memory because the file could not be written.

    Attributes:
        path: the file, or None when every pair is in ``in_memory``.
        count: pairs in the file.
        in_memory: pairs held in memory.
    """

    path: str | None = None
    count: int = 0
    in_memory: list[np.ndarray] = field(default_factory=list)

    def slices(self) -> Iterator[np.ndarray]:
        """Yield the pairs in slices of at most :data:`READ_PAIRS`."""
        if self.path is not None and self.count:
            with open(self.path, "rb") as stream:
                remaining = self.count
                while remaining:
                    data = stream.read(min(remaining, READ_PAIRS) * 8)
                    if not data:
                        raise OSError(
                            f"{self.path}: the index file is shorter than "
                            "written; something removed or cut it during the run"
                        )
                    pairs = np.frombuffer(data, dtype=np.uint64)
                    remaining -= len(pairs)
                    yield pairs
        yield from self.in_memory

    def __len__(self) -> int:
        return self.count + sum(len(pairs) for pairs in self.in_memory)

    def remove(self) -> None:
        """Delete the file; the pairs held in memory stay."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None
            self.count = 0


class PairWriter:
    """Append index pairs to a new file in :func:`folder`, made on first use.

    Each call writes its pairs straight to the file, unbuffered, and counts them
    only once every byte is written, so a failed write loses nothing: those pairs
    and all later ones are held in memory instead.
    """

    def __init__(self) -> None:
        self._result = PairFile()
        self._handle: int | None = None
        self._failed = False

    def write(self, pairs: np.ndarray) -> None:
        """Append ``pairs``, uint64 values."""
        if not len(pairs):
            return
        pairs = np.ascontiguousarray(pairs, dtype=np.uint64)
        if not self._failed:
            try:
                self._write_all(pairs.data.cast("B"))
                self._result.count += len(pairs)
                return
            except OSError:
                self._failed = True
        self._result.in_memory.append(pairs)

    def close(self) -> PairFile:
        """Close the file and return what was written."""
        if self._handle is not None:
            # Nothing is buffered, so every counted pair is in the file already.
            with contextlib.suppress(OSError):
                os.close(self._handle)
            self._handle = None
        return self._result

    def _write_all(self, data: memoryview) -> None:
        if self._handle is None:
            where = folder()
            if where is None:
                raise OSError("no folder for index files")
            self._handle, self._result.path = tempfile.mkstemp(
                prefix="index-", suffix=".u64", dir=where
            )
        # Bytes past the counted pairs, left by a failed write, are never read.
        os.lseek(self._handle, self._result.count * 8, os.SEEK_SET)
        while data:
            written = os.write(self._handle, data)
            data = data[written:]


# Bytes of pickled pieces that one scan range keeps in memory before it writes them
# to a file. The benchmark's 1M sign-ins decode to about 1 MB per range. A decoded
# sign-in takes about 0.5 KB, so a range of 100,000 repeated denials takes 50 MB.
PIECE_MEMORY_BYTES = 16 << 20


@dataclass
class PieceList:
    """The pickled pieces of one scan range's decoded rows, in order: the pieces in
    the file first, then those held in memory.

    A worker appends pieces as it decodes. Past :data:`PIECE_MEMORY_BYTES` held, it
    moves them to a file in :func:`folder`, so neither the worker nor the process
    that replays the range keeps every decoded row of a large range at once. When
    the file cannot be written, the pieces stay in memory.

    Attributes:
        path: the file, or None while every piece is in memory.
        sizes: the size of each piece in the file.
        in_memory: the pieces held in memory.
        memory_bytes: the bytes of ``in_memory``.
    """

    path: str | None = None
    sizes: list[int] = field(default_factory=list)
    in_memory: list[bytes] = field(default_factory=list)
    memory_bytes: int = 0
    _failed: bool = False

    def __len__(self) -> int:
        return len(self.sizes) + len(self.in_memory)

    def append(self, piece: bytes) -> None:
        """Add a piece after the others."""
        self.in_memory.append(piece)
        self.memory_bytes += len(piece)
        if self.memory_bytes > PIECE_MEMORY_BYTES:
            self.spill()

    def spill(self) -> None:
        """Move the pieces held in memory to the file, unless a write failed."""
        if self._failed or not self.in_memory:
            return
        try:
            self._write_held()
        except OSError:
            self._failed = True

    def discard(self) -> None:
        """Drop every piece and delete the file."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.path, self.sizes, self.in_memory, self.memory_bytes = None, [], [], 0

    def take(self) -> Iterator[bytes]:
        """Yield each piece once, in order, and delete the file once it is read.

        Raises:
            OSError: the file is missing or shorter than written, because something
                removed or cut it during the run.
        """
        path, sizes, pieces = self.path, self.sizes, self.in_memory
        self.path, self.sizes, self.in_memory, self.memory_bytes = None, [], [], 0
        if path is not None:
            try:
                with open(path, "rb") as stream:
                    for size in sizes:
                        piece = stream.read(size)
                        if len(piece) != size:
                            raise OSError(
                                f"{path}: the file of decoded records is shorter "
                                "than written; something removed or cut it during "
                                "the run"
                            )
                        yield piece
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        pieces.reverse()
        while pieces:
            yield pieces.pop()

    def _write_held(self) -> None:
        where = folder()
        if where is None:
            raise OSError("no folder for temporary files")
        if self.path is None:
            handle, self.path = tempfile.mkstemp(
                prefix="rows-", suffix=".pickle", dir=where
            )
        else:
            handle = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        written = 0
        try:
            for piece in self.in_memory:
                data = memoryview(piece)
                while data:
                    data = data[os.write(handle, data) :]
                self.sizes.append(len(piece))
                written += 1
        finally:
            os.close(handle)
            # After a failed write no piece is appended to the file again, so the
            # bytes of a piece cut short there are never read.
            del self.in_memory[:written]
            self.memory_bytes = sum(map(len, self.in_memory))
