"""The pair type every dedup tier returns and the grouping step consumes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DuplicatePair:
    """Two records linked by one dedup tier, with the similarity that linked them.

    ``tier`` is "exact", "near" or "semantic"; ids are ordered so that ``a < b``.
    """

    a: str
    b: str
    tier: str
    score: float
