"""Coverage-guided fuzzing of the loaders with atheris (libFuzzer for Python).

Run it through ``fuzz/run.py --engine atheris``, or directly with libFuzzer flags::

    python fuzz/atheris_fuzz.py -max_total_time=60 fuzz/corpus fuzz/seeds

The first byte of each input picks the file name it is loaded as, and the rest is the
file. The name only shows in messages, because shapes are detected from content.
Only h056hunt's own modules are instrumented, so coverage guides the search through
the loaders and not through pandas.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["h056hunt"]):
    import oracles

NAMES = ("input.json", "input.csv", "input.json.gz", "input.ndjson")


def test_one_input(data: bytes) -> None:
    """Load one input; an exception other than a handled input error is a crash."""
    if not data:
        return
    oracles.check_load(data[1:], NAMES[data[0] % len(NAMES)])


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
