"""Simulated exports and line edits shared by the tests that break lines in them."""

from __future__ import annotations

import gzip
from pathlib import Path

from h056hunt.simulate.config import SimulationConfig
from h056hunt.simulate.output import simulate

# Bytes of the lines that the pre-filter decodes: an MFA denial among sign-ins, a
# revocation among audit records. The fast path does not check the lines that it
# does not decode, so the tests break lines that it decodes.
DECODED_MARK = {"signin": b"500121", "audit": b"StsRefreshToken"}


def simulate_exports(
    folder: Path, *, compress: bool = False, shape: str = "graph-ndjson"
) -> tuple[Path, Path]:
    """Write a small simulated tenant in ``shape``; return the audit and sign-in
    files."""
    config = SimulationConfig(
        users=40,
        days=3,
        seed=31,
        signin_shape=shape,
        audit_shape=shape,
        audit_rows_per_user_per_day=25,
        gzip=compress,
    )
    written = simulate(config, folder)
    return written.audit_path, written.signin_path


def read_lines(path: Path) -> list[bytes]:
    """Return the lines of a plain or gzip file, with their line ends."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    """Write lines back, compressed when the file name ends in .gz."""
    data = b"".join(lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
