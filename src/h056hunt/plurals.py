"""Counts written with the singular or the plural form of their noun."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Counted:
    """A count and its noun, which ``str()`` writes as ``1 record`` or ``3 records``.

    The forms may go on past the noun, as in ``Counted(n, "record has", "records
    have")``, so that a verb agrees with the count. An empty ``plural`` means the
    singular with an ``s`` added. The form is picked only when the text is
    formatted, so a logging call can take a ``Counted`` as a %-style argument and
    format nothing for a record that no handler emits.
    """

    count: int
    singular: str
    plural: str = ""

    def __str__(self) -> str:
        if self.count == 1:
            return f"{self.count} {self.singular}"
        return f"{self.count} {self.plural or self.singular + 's'}"
