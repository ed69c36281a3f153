"""Duplicate groups: connected components over the pairs of every tier, each with a suggested keeper.

A group holds every record linked to another by any tier (exact, near or semantic), directly or
through other members. Its keeper is only a suggestion for the reviewer: the member with the best
review (good > needs_fix with a correction > no review > needs_fix without one > bad/discarded),
then the higher mean rating, then the more complete output (non-empty, not truncated, valid JSON
when it looks like JSON, longer), then the earliest in import order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation import metadata_keys
from curation.analysis.dedup.links import DuplicatePair, UnionFind
from curation.model import (
    CORRECTION_QUESTION,
    LABEL_BAD,
    LABEL_GOOD,
    LABEL_NEEDS_FIX,
    LABEL_QUESTION,
    RATING_QUESTION,
    Record,
    Response,
    ResponseStatus,
)
from curation.store.base import RecordStore

TIER_STRENGTH = {"exact": 3, "near": 2, "semantic": 1}
"""Higher is stronger: a pair found by several tiers keeps its strongest."""


@dataclass(frozen=True)
class DuplicateGroup:
    """One connected component of duplicate pairs."""

    id: str
    tier: str  # the strongest tier among its pairs
    min_score: float
    max_score: float
    members: list[str]  # in import order
    keeper: str
    pairs: list[DuplicatePair] = field(default_factory=list)

    _best: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Per member: its strongest tier and its highest score, so lookups stay O(1) in large groups.
        for pair in self.pairs:
            for member in (pair.a, pair.b):
                tier, score = self._best.get(member, (pair.tier, pair.score))
                if TIER_STRENGTH.get(pair.tier, 0) > TIER_STRENGTH.get(tier, 0):
                    tier = pair.tier
                self._best[member] = (tier, max(score, pair.score))

    @property
    def score(self) -> float:
        """The weakest link holding the group together (every linked pair scores at least this)."""
        return self.min_score

    def tier_of(self, member: str) -> str:
        """The strongest tier linking ``member`` to another member."""
        return self._best.get(member, (self.tier, self.max_score))[0]

    def score_of(self, member: str) -> float:
        """The similarity of ``member`` to its closest linked member."""
        return self._best.get(member, (self.tier, self.max_score))[1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.id,
            "tier": self.tier,
            "score": self.score,
            "min_score": self.min_score,
            "max_score": self.max_score,
            "members": list(self.members),
            "keeper": self.keeper,
            "pairs": [{"a": p.a, "b": p.b, "tier": p.tier, "score": p.score} for p in self.pairs],
        }


def group_id(members: Iterable[str], prefix: str = "dup") -> str:
    """A stable id from the sorted member ids: the same members always get the same id."""
    digest = hashlib.blake2b("\x1f".join(sorted(members)).encode("utf-8"), digest_size=6).hexdigest()
    return f"{prefix}-{digest}"


def strongest_pairs(pairs: Iterable[DuplicatePair]) -> list[DuplicatePair]:
    """One pair per (a, b): the strongest tier, then the highest score."""
    best: dict[tuple[str, str], DuplicatePair] = {}
    for pair in pairs:
        a, b = (pair.a, pair.b) if pair.a <= pair.b else (pair.b, pair.a)
        if a == b:
            continue
        if (a, b) != (pair.a, pair.b):
            pair = DuplicatePair(a=a, b=b, tier=pair.tier, score=pair.score)
        current = best.get((a, b))
        if current is None or (TIER_STRENGTH.get(pair.tier, 0), pair.score) > (
            TIER_STRENGTH.get(current.tier, 0),
            current.score,
        ):
            best[(a, b)] = pair
    return list(best.values())


def _review_rank(responses: Sequence[Response]) -> tuple[int, float]:
    """(rank, -mean rating): lower is better. See the module docstring for the order."""
    submitted = [r for r in responses if r.status == ResponseStatus.submitted]
    ratings = [
        float(r.values[RATING_QUESTION]) for r in submitted if _is_number(r.values.get(RATING_QUESTION))
    ]
    mean_rating = sum(ratings) / len(ratings) if ratings else 0.0
    labels = Counter(r.values.get(LABEL_QUESTION) for r in submitted if r.values.get(LABEL_QUESTION))
    if not submitted:
        discarded = any(r.status == ResponseStatus.discarded for r in responses)
        return (4 if discarded else 2), -mean_rating
    order = {LABEL_GOOD: 0, LABEL_NEEDS_FIX: 1, LABEL_BAD: 4}
    top = max(labels.values()) if labels else 0
    # The majority label; a tie goes to the better one.
    verdict = min(
        (lab for lab, n in labels.items() if n == top), key=lambda lab: order.get(str(lab), 3), default=None
    )
    if verdict == LABEL_GOOD:
        return 0, -mean_rating
    if verdict == LABEL_NEEDS_FIX:
        corrected = any(str(r.values.get(CORRECTION_QUESTION) or "").strip() for r in submitted)
        return (1 if corrected else 3), -mean_rating
    if verdict == LABEL_BAD:
        return 4, -mean_rating
    return 2, -mean_rating


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _completeness(record: Record) -> tuple[int, int, int, int]:
    """(empty, truncated, invalid JSON, -length): lower is better."""
    from curation.analysis.quality.text_checks import looks_truncated

    output = record.output.strip()
    invalid_json = 0
    if output[:1] in ("{", "["):
        try:
            json.loads(output)
        except ValueError:
            invalid_json = 1
    return (0 if output else 1), int(looks_truncated(output)), invalid_json, -len(output)


def choose_keeper(
    members: Sequence[str],
    records: dict[str, Record],
    responses: dict[str, list[Response]],
    position: dict[str, int],
) -> str:
    """The member to suggest keeping (see the module docstring for the order)."""

    def key(rid: str) -> tuple[Any, ...]:
        record = records.get(rid)
        completeness = _completeness(record) if record is not None else (1, 1, 1, 0)
        return (*_review_rank(responses.get(rid, [])), *completeness, position.get(rid, len(position)), rid)

    return min(members, key=key)


def build_groups(
    pairs: Iterable[DuplicatePair], records: Sequence[Record], responses: Sequence[Response]
) -> list[DuplicateGroup]:
    """Connected components over all pairs, each with its tier, scores, pairs and suggested keeper.

    Groups come in the import order of their first member; members in import order.
    """
    kept = strongest_pairs(pairs)
    if not kept:
        return []
    position = {r.id: i for i, r in enumerate(records)}
    by_id = {r.id: r for r in records}
    by_record: dict[str, list[Response]] = {}
    for response in responses:
        by_record.setdefault(response.record_id, []).append(response)
    uf: UnionFind[str] = UnionFind()
    for pair in kept:
        uf.union(pair.a, pair.b)
    pairs_of: dict[str, list[DuplicatePair]] = {}
    for pair in kept:
        pairs_of.setdefault(uf.find(pair.a), []).append(pair)
    groups = []
    for component in uf.components():
        members = sorted(component, key=lambda rid: (position.get(rid, len(position)), rid))
        linked = sorted(pairs_of[uf.find(members[0])], key=lambda p: (p.a, p.b))
        scores = [p.score for p in linked]
        groups.append(
            DuplicateGroup(
                id=group_id(members),
                tier=max((p.tier for p in linked), key=lambda t: TIER_STRENGTH.get(t, 0)),
                min_score=min(scores),
                max_score=max(scores),
                members=members,
                keeper=choose_keeper(members, by_id, by_record, position),
                pairs=linked,
            )
        )
    groups.sort(key=lambda g: position.get(g.members[0], len(position)))
    return groups


def group_metadata(groups: Iterable[DuplicateGroup]) -> dict[str, dict[str, Any]]:
    """Per member: DUP_GROUP, DUP_TIER, DUP_SCORE and DUP_KEEPER ("yes" on the keeper, else absent)."""
    out: dict[str, dict[str, Any]] = {}
    for group in groups:
        for member in group.members:
            out[member] = {
                metadata_keys.DUP_GROUP: group.id,
                metadata_keys.DUP_TIER: group.tier_of(member),
                metadata_keys.DUP_SCORE: group.score_of(member),
                metadata_keys.DUP_KEEPER: "yes" if member == group.keeper else None,
            }
    return out


def write_group_metadata(
    store: RecordStore, groups: Sequence[DuplicateGroup], all_ids: Iterable[str] = ()
) -> None:
    """Store the groups in record metadata; records in ``all_ids`` but in no group lose old group keys."""
    updates = group_metadata(groups)
    cleared = dict.fromkeys(
        (metadata_keys.DUP_GROUP, metadata_keys.DUP_TIER, metadata_keys.DUP_SCORE, metadata_keys.DUP_KEEPER)
    )
    for rid in all_ids:
        updates.setdefault(rid, dict(cleared))
    if updates:
        store.update_metadata(updates)
