"""Links between records and how they become groups: the pair every dedup tier returns, and union-find."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class UnionFind(Generic[K]):
    """Disjoint sets over hashable keys, with path halving and union by size."""

    def __init__(self, keys: Iterable[K] = ()) -> None:
        self._parent: dict[K, K] = {}
        self._size: dict[K, int] = {}
        for key in keys:
            self.add(key)

    def add(self, key: K) -> None:
        if key not in self._parent:
            self._parent[key] = key
            self._size[key] = 1

    def find(self, key: K) -> K:
        self.add(key)
        parent = self._parent
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(self, a: K, b: K) -> K:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]
        return ra

    def components(self) -> list[list[K]]:
        """Every set with more than one member, members in insertion order."""
        groups: dict[K, list[K]] = {}
        for key in self._parent:
            groups.setdefault(self.find(key), []).append(key)
        return [members for members in groups.values() if len(members) > 1]


@dataclass(frozen=True)
class DuplicatePair:
    """Two records linked by one dedup tier, with the similarity that linked them.

    ``tier`` is "exact", "near" or "semantic"; ids are ordered so that ``a < b``. ``score`` is the
    inputs' similarity (Jaccard for near, cosine for semantic, 1.0 for exact) and ``output_score``
    the outputs' (None where the tier does not measure it): the two sides are judged separately.
    """

    a: str
    b: str
    tier: str
    score: float
    output_score: float | None = None
