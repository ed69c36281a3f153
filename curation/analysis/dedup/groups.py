"""Duplicate groups: copies of one record, each group a star around its suggested keeper.

A group means "these records are copies of one record", so every member is linked **directly to the
keeper** by a pair of some tier, at or above that tier's thresholds, never held in the group only by
a chain of neighbours (a ~ b ~ c with a and c unlike). This is what makes dropping the other members
safe: each dropped record has a kept copy. Connected components, the rule of text-dedup's and NeMo
Curator's fuzzy dedup, chain on real data: 4,000 distinct banking queries with one shared reply
became one group of 3,910 (docs/curation-dedup-quality.md).

How groups form (:func:`build_groups`), a greedy star clustering in keeper order:

1. Records identical after normalisation (the exact tier) form one unit: an equivalence class, so
   no chain is possible inside it.
2. Star clustering (Aslam et al., 2004): units are visited best-reviewed first, then most
   connected (most links), then by the rest of the keeper order below. A unit not yet grouped
   becomes a keeper and takes every ungrouped unit linked to it directly; units linked only to
   members (not keepers) wait for a keeper of their own. So a large candidate component is split
   into several groups, never merged into one, and a group holds the records around its most
   central one. (SemDeDup and NeMo Curator's semantic dedup drop a record when it is close to *any*
   earlier one, even one that is itself dropped, so a dropped record's copy can be gone too;
   text-dedup's and NeMo Curator's fuzzy dedup take connected components.)
3. Each member is re-checked against the keeper itself (``judge``), since a link found between two
   members of exact-identical units is one of their copies.

A group's tier is its weakest link (``exact`` only when every member is identical to the keeper after
normalisation) and its score that link's similarity. The keeper is only a suggestion for the
reviewer: the member with the best review (good > needs_fix with a correction > no review >
needs_fix without one > bad/discarded), then the higher mean rating, then the more complete output
(non-empty, not truncated, valid JSON when it looks like JSON, longer), then the earliest in import
order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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

Judge = Callable[[str, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray | None]]
"""``judge(tier, rows, keeper_rows) -> (keep, input score, output score)``: the tier's own rule
applied to (member, keeper) row pairs (rows index the ``records`` given to :func:`build_groups`)."""


@dataclass(frozen=True)
class DuplicateGroup:
    """Copies of one record: every member linked directly to the keeper."""

    id: str
    tier: str  # the weakest tier among the members' links to the keeper
    min_score: float  # the weakest link's score (within that tier)
    max_score: float
    members: list[str]  # in import order
    keeper: str
    pairs: list[DuplicatePair] = field(default_factory=list)  # one per member: its link to the keeper

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
        """The weakest link to the keeper (every member of the group's tier scores at least this)."""
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
            "pairs": [pair_dict(p) for p in self.pairs],
        }


def pair_dict(pair: DuplicatePair) -> dict[str, Any]:
    """A pair as JSON: ``{"a", "b", "tier", "score", "output_score"}``."""
    return {
        "a": pair.a,
        "b": pair.b,
        "tier": pair.tier,
        "score": pair.score,
        "output_score": pair.output_score,
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
            pair = DuplicatePair(a=a, b=b, tier=pair.tier, score=pair.score, output_score=pair.output_score)
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


def keeper_key(
    rid: str, records: dict[str, Record], responses: dict[str, list[Response]], position: dict[str, int]
) -> tuple[Any, ...]:
    """Sort key of a would-be keeper: lower is better (see the module docstring for the order)."""
    record = records.get(rid)
    completeness = _completeness(record) if record is not None else (1, 1, 1, 0)
    return (*_review_rank(responses.get(rid, [])), *completeness, position.get(rid, len(position)), rid)


def choose_keeper(
    members: Sequence[str],
    records: dict[str, Record],
    responses: dict[str, list[Response]],
    position: dict[str, int],
) -> str:
    """The member to suggest keeping (see the module docstring for the order)."""
    return min(members, key=lambda rid: keeper_key(rid, records, responses, position))


def _link_key(pair: DuplicatePair) -> tuple[int, float]:
    return TIER_STRENGTH.get(pair.tier, 0), pair.score


def build_groups(
    pairs: Iterable[DuplicatePair],
    records: Sequence[Record],
    responses: Sequence[Response],
    *,
    judge: Judge | None = None,
) -> list[DuplicateGroup]:
    """Groups of copies: stars around a keeper (see the module docstring for the rule).

    ``judge`` re-checks each member against the keeper with the tier's own rule (the pipeline passes
    one); without it the pair that brought the member in stands. Groups come in the import order of
    their first member; members in import order.
    """
    kept = strongest_pairs(pairs)
    if not kept:
        return []
    position = {r.id: i for i, r in enumerate(records)}
    by_id = {r.id: r for r in records}
    by_record: dict[str, list[Response]] = {}
    for response in responses:
        by_record.setdefault(response.record_id, []).append(response)
    key_cache: dict[str, tuple[Any, ...]] = {}

    def key(rid: str) -> tuple[Any, ...]:
        if rid not in key_cache:
            key_cache[rid] = keeper_key(rid, by_id, by_record, position)
        return key_cache[rid]

    # 1. Units: classes of records identical after normalisation (exact pairs are an equivalence).
    exact: UnionFind[str] = UnionFind()
    for pair in kept:
        if pair.tier == "exact":
            exact.union(pair.a, pair.b)
    unit_members: dict[str, list[str]] = {}
    for component in exact.components():
        ordered = sorted(component, key=key)
        unit_members[ordered[0]] = ordered
    unit_of = {m: head for head, ms in unit_members.items() for m in ms}
    # 2. The strongest link between each two units.
    links: dict[tuple[str, str], DuplicatePair] = {}
    for pair in kept:
        if pair.tier == "exact":
            continue
        ua, ub = unit_of.get(pair.a, pair.a), unit_of.get(pair.b, pair.b)
        if ua == ub:
            continue
        for unit in (ua, ub):
            unit_members.setdefault(unit, [unit])
        k = (ua, ub) if ua < ub else (ub, ua)
        if k not in links or _link_key(pair) > _link_key(links[k]):
            links[k] = pair
    neighbours: dict[str, list[tuple[str, DuplicatePair]]] = {}
    for (ua, ub), pair in links.items():
        neighbours.setdefault(ua, []).append((ub, pair))
        neighbours.setdefault(ub, []).append((ua, pair))

    # 3. Star clustering: the best-reviewed, then most connected unit becomes a keeper and takes
    # every ungrouped unit linked to it; repeat.
    def centrality(unit: str) -> tuple[Any, ...]:
        k = key(unit)
        return (k[0], k[1], -len(neighbours.get(unit, [])), *k[2:])

    joined: dict[str, list[tuple[str, DuplicatePair | None]]] = {}
    grouped: set[str] = set()
    for unit in sorted(unit_members, key=centrality):
        if unit in grouped:
            continue
        takes = [(v, link) for v, link in neighbours.get(unit, []) if v not in grouped]
        if takes or len(unit_members[unit]) > 1:
            joined[unit] = [(unit, None), *takes]
            grouped.update([unit, *(v for v, _ in takes)])
    # 4. Member → keeper links, re-checked against the keeper itself.
    groups = []
    for centre, units in joined.items():
        keeper = centre
        member_links: list[DuplicatePair] = []
        for unit, via in units:
            for member in unit_members[unit]:
                if member == keeper:
                    continue
                a, b = (member, keeper) if member < keeper else (keeper, member)
                if via is None:
                    member_links.append(DuplicatePair(a=a, b=b, tier="exact", score=1.0))
                else:
                    member_links.append(
                        DuplicatePair(a=a, b=b, tier=via.tier, score=via.score, output_score=via.output_score)
                    )
        if judge is not None:
            member_links = _rejudge(member_links, keeper, position, judge)
        if not member_links:
            continue
        groups.append(_group(keeper, member_links, position))
    groups.sort(key=lambda g: position.get(g.members[0], len(position)))
    return groups


def _rejudge(
    member_links: list[DuplicatePair], keeper: str, position: dict[str, int], judge: Judge
) -> list[DuplicatePair]:
    """The links that pass their tier's rule between the member itself and the keeper, rescored."""
    out = [p for p in member_links if p.tier == "exact"]
    for tier in ("near", "semantic"):
        links = [p for p in member_links if p.tier == tier]
        if not links:
            continue
        rows = np.array([position[p.a if p.b == keeper else p.b] for p in links], dtype=np.int64)
        keep, in_sim, out_sim = judge(tier, rows, np.full(len(rows), position[keeper], dtype=np.int64))
        for n, pair in enumerate(links):
            if keep[n]:
                score = round(float(in_sim[n]), 6)
                known = out_sim is not None and bool(np.isfinite(out_sim[n]))
                output = round(float(out_sim[n]), 6) if known and out_sim is not None else None
                out.append(DuplicatePair(a=pair.a, b=pair.b, tier=tier, score=score, output_score=output))
    return out


def _group(keeper: str, member_links: list[DuplicatePair], position: dict[str, int]) -> DuplicateGroup:
    members = sorted(
        {keeper} | {m for p in member_links for m in (p.a, p.b)},
        key=lambda rid: (position.get(rid, len(position)), rid),
    )
    weakest = min((p.tier for p in member_links), key=lambda t: TIER_STRENGTH.get(t, 0))
    linked = sorted(member_links, key=lambda p: (p.a, p.b))
    return DuplicateGroup(
        id=group_id(members),
        tier=weakest,
        min_score=min(p.score for p in linked if p.tier == weakest),
        max_score=max(p.score for p in linked),
        members=members,
        keeper=keeper,
        pairs=linked,
    )


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
