"""Find the raw lines that may pair a UPN with an object id, without decoding them.

The plain path maps a UPN to an object id from every record that carries both
(:func:`~h056hunt.detect.identity.build_upn_index`), and uses the map for records
without an id. The fast path decodes only some records, so it reads its files again
for the pre-filtered records whose text may hold a UPN that such a record needs.

:func:`~h056hunt.detect.identity.normalise_upn` strips a UPN, case-folds it, drops a
leading 32-digit hex GUID and writes a guest's ``local_domain#EXT#@tenant`` as
``local@domain``. Each step keeps a piece of the case-folded text, and case folding
maps each character on its own. So take a line with a UPN that folds to ``upn``, and
split ``upn`` into ``local@domain`` at any of its ``@``. Once case-folded, the line
contains ``upn`` itself or ``local_domain#ext#`` for one of those splits. These are
the search terms.

A term is found in raw text when the UPN is written literally. JSON writes ``"``,
``\\`` and control characters only as escapes and may write ``/`` as ``\\/``. CSV
doubles ``"``. The pre-filter decodes every line with a ``\\u`` escape. A number is
read back in another form (``1e2`` as ``100.0``). So a term with one of those
characters, an empty term, or a UPN that could be a number makes every line a
candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import stringzilla as sz

from h056hunt.loaders.prefilter import (
    ASCII_LOWER,
    NEWLINE_BYTE,
    ascii_folding_positions,
    fold_case,
)

GUEST_MARKER = "#ext#"
# Characters that a JSON or CSV writer may write as an escape or doubled.
_UNSEARCHABLE = re.compile(r'["\\/\x00-\x1f\x7f]')
# A UPN that a JSON number, or true and false, could have been decoded to.
_NUMBER_LIKE = re.compile(r"[-+0-9.e]+|nan|-?inf|true|false")


def search_terms(upn: str) -> list[str]:
    """Return the texts of which a case-folded line holding ``upn`` contains one.

    ``upn`` is a UPN as :func:`~h056hunt.detect.identity.normalise_upn` returns it.

    >>> search_terms("ivan.ext@fabrikam.example")
    ['ivan.ext@fabrikam.example', 'ivan.ext_fabrikam.example#ext#']
    """
    terms = [upn]
    for position, character in enumerate(upn):
        if character == "@":
            local, domain = upn[:position], upn[position + 1 :]
            terms.append(f"{local}_{domain}{GUEST_MARKER}")
    return terms


@dataclass(frozen=True)
class UpnSearch:
    """The case-folded, UTF-8 texts that mark a line as a candidate.

    Attributes:
        terms: a line that may hold one of the UPNs contains one of these once
            case-folded.
        every_line: True when some UPN cannot be searched for in raw text, so every
            line is a candidate.
    """

    terms: tuple[bytes, ...]
    every_line: bool

    @classmethod
    def for_upns(cls, upns: Iterable[str]) -> UpnSearch:
        """Build the search for normalised UPNs."""
        terms = set()
        every_line = False
        for upn in upns:
            if _NUMBER_LIKE.fullmatch(upn):
                every_line = True
            for term in search_terms(upn):
                if not term or _UNSEARCHABLE.search(term):
                    every_line = True
                terms.add(term.encode("utf-8", "surrogatepass"))
        return cls(terms=tuple(sorted(terms)), every_line=every_line)

    def hits(self, chunk: bytes | bytearray | memoryview, length: int) -> list[int]:
        """Return sorted offsets in the first ``length`` bytes of ``chunk`` such
        that the line around each one is a candidate, and every candidate line
        contains one.

        ASCII lines are searched once lower-cased through a byte table, which
        case-folds ASCII. A line with a non-ASCII character that folds to ASCII
        letters, or with any non-ASCII byte when a term is not ASCII, is also
        case-folded whole and searched, and gives a hit at its start.
        """
        text = sz.Str(chunk)[:length]
        lowered = sz.Str(text.translate(ASCII_LOWER))
        found: list[int] = []
        for term in self.terms:
            position = lowered.find(term)
            while position >= 0:
                found.append(position)
                position = lowered.find(term, position + 1)
        data = np.frombuffer(chunk, dtype=np.uint8, count=length)
        if all(term.isascii() for term in self.terms):
            folding = ascii_folding_positions(data)
        else:
            folding = np.flatnonzero(data >= 0x80)
        if len(folding):
            found.extend(self._folded_hits(chunk, data, folding))
        return sorted(found)

    def _folded_hits(
        self,
        chunk: bytes | bytearray | memoryview,
        data: np.ndarray,
        positions: np.ndarray,
    ) -> list[int]:
        """Return the start of each line around ``positions`` whose case-folded
        text contains a term."""
        newlines = np.flatnonzero(data == NEWLINE_BYTE)
        line_starts = np.concatenate(([0], newlines + 1))
        line_ends = np.append(newlines, len(data))
        lines = np.unique(np.searchsorted(newlines, positions))
        hits = []
        for start, end in zip(
            line_starts[lines].tolist(), line_ends[lines].tolist(), strict=True
        ):
            folded = fold_case(bytes(chunk[start:end]))
            if any(term in folded for term in self.terms):
                hits.append(start)
        return hits
