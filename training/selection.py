"""Selection: the N training records that best cover the data and are of the highest quality.

In the spirit of Deita (score first, then add a record only if it is not too close to what is
already chosen), SemDeDup (near neighbours in embedding space teach the same thing twice) and
LIMA (a small set of varied, high-quality examples goes a long way):

1. **Quality** of each record, a score in (0, 1], the product of
   - its review: a reviewer's ``good`` 1.0, a corrected ``needs_fix`` 0.9, unreviewed 0.7;
   - its mean rating (1–5), when reviewers rated it: 0.6 at 1 up to 1.0 at 5;
   - its flags that the clean set kept (``refusal`` 0.3, any other 0.7 each);
   - for unreviewed records, how well the output agrees with those of similar inputs, squared
     (``output_agreement`` a, as a²: the best evidence of correctness nobody has checked, so it
     must outweigh the length factor; with 0.5 + 0.5·a a wrong output scored only ~13 % below a
     clean one and selection kept it about as readily, docs/benchmarks.md, issue 17);
   - its length against the median output of its cluster (Deita's "complexity", LIMA's preference
     for detailed answers): below the median the score falls with it (a terse answer, or one that
     leaves out what the input asks for, teaches less); from the median to three times it is 1.0
     (longer is not better: in a JSON or label task the length says which answer it is, not how
     good it is), beyond three times it shrinks again (rambling).
2. **Coverage**: every cluster gets a quota proportional to the square root of its size (capped
   at its size; what a small cluster cannot use goes to the others), so over-represented topics
   shrink and thin ones keep what they have.
3. **Diversity**: a greedy pass picks, among the records of clusters with quota left, the one with
   the highest quality × spread, where spread is the cosine distance to the nearest record already
   picked, capped at the pool's 25th percentile of nearest-neighbour distances (farther than that
   is "new enough", and quality decides). Near-duplicates of a pick score close to zero, so they
   come last; typical records are not penalised for being typical.

Every pick records why (rank, cluster and quota, quality parts, distance to the nearest earlier
pick); the export manifest keeps it. Selection needs the ``pair`` vectors and clusters from
`pairsmith analyze`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from curation import metadata_keys as F
from curation.errors import BadInputError, NotFoundError
from curation.model import LABEL_GOOD, RATING_QUESTION
from curation.store.base import RecordStore
from training.clean_set import CleanItem
from training.splits import NO_CLUSTER, cluster_of

REVIEW_WEIGHT = {"reviewed": 1.0, "corrected": 0.9, "unreviewed": 0.7}
FLAG_WEIGHT = {"refusal": 0.3}
OTHER_FLAG_WEIGHT = 0.7
FACTOR_FLOOR = 0.05
"""The lowest agreement and length factors: a record is never worth nothing, so a cluster's quota
still fills in quality order when all it has left are poor records."""
SPREAD_PERCENTILE = 25
"""Spread is capped at this percentile of the pool's nearest-neighbour distances."""


@dataclass
class Pick:
    """Why one record was selected."""

    id: str
    rank: int
    cluster: int
    quality: float
    parts: dict[str, float]
    distance: float | None
    """Cosine distance to the nearest record picked before it (None for the first pick)."""
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rank": self.rank,
            "cluster": self.cluster,
            "quality": round(self.quality, 4),
            "quality_parts": {k: round(v, 4) for k, v in self.parts.items()},
            "distance": None if self.distance is None else round(self.distance, 4),
            "why": self.why,
        }


@dataclass
class Selection:
    """The records chosen, in pick order, with the reason for each; and the ones left out."""

    selected: list[CleanItem]
    not_selected: list[CleanItem]
    picks: list[Pick]
    quotas: dict[int, dict[str, int]] = field(default_factory=dict)
    """Per cluster: ``{"available", "quota"}``."""
    cluster_names: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The ``selection`` object of the export's JSON and manifest, without per-record rows."""
        qualities = [p.quality for p in self.picks]
        return {
            "selected": len(self.selected),
            "pool": len(self.selected) + len(self.not_selected),
            "mean_quality": round(float(np.mean(qualities)), 4) if qualities else None,
            "clusters": [
                {"cluster": c, "name": self.cluster_names.get(c, ""), **q}
                for c, q in sorted(self.quotas.items())
            ],
        }

    def to_json(self) -> dict[str, Any]:
        return self.summary() | {
            "method": "quality x k-center under sqrt cluster quotas (training/selection.py)",
            "records": [p.to_json() for p in self.picks],
            "not_selected": [i.record.id for i in self.not_selected],
        }


def quality_parts(item: CleanItem, median_length: float | None) -> dict[str, float]:
    """The factors of a record's quality score (see the module docstring)."""
    parts: dict[str, float] = {}
    if item.label is None:
        parts["review"] = REVIEW_WEIGHT["unreviewed"]
    elif item.corrected:
        parts["review"] = REVIEW_WEIGHT["corrected"]
    else:
        parts["review"] = (
            REVIEW_WEIGHT["reviewed"] if item.label == LABEL_GOOD else REVIEW_WEIGHT["corrected"]
        )
    ratings = [
        float(r.values[RATING_QUESTION])
        for r in item.responses
        if isinstance(r.values.get(RATING_QUESTION), int | float | str)
        and str(r.values[RATING_QUESTION]).replace(".", "", 1).isdigit()
    ]
    if ratings:
        mean = min(max(sum(ratings) / len(ratings), 1.0), 5.0)
        parts["rating"] = 0.6 + 0.4 * (mean - 1.0) / 4.0
    flags = [f for f in item.record.metadata.get(F.FLAGS) or [] if isinstance(f, str)]
    if flags and not item.corrected:
        weight = 1.0
        for flag in flags:
            weight *= FLAG_WEIGHT.get(flag, OTHER_FLAG_WEIGHT)
        parts["flags"] = weight
    agreement = item.record.metadata.get(F.OUTPUT_AGREEMENT)
    if item.label is None and isinstance(agreement, int | float):
        parts["agreement"] = max(min(float(agreement), 1.0) ** 2, FACTOR_FLOOR)
    if median_length:
        ratio = len(item.output) / median_length
        if ratio <= 3.0:
            parts["length"] = max(min(ratio, 1.0), FACTOR_FLOOR)
        else:
            parts["length"] = max(0.5, 1.0 - 0.1 * (ratio - 3.0))
    return parts


def cluster_quotas(sizes: Mapping[int, int], n: int) -> dict[int, int]:
    """Split ``n`` picks over clusters in proportion to sqrt(size), never above a cluster's size.

    Water-filling: clusters that cannot use their share are filled, and the rest is shared again.
    Remainders go to the clusters with the largest fractional parts (ties: the larger cluster).
    """
    quotas = dict.fromkeys(sizes, 0)
    open_clusters = {c for c, s in sizes.items() if s > 0}
    left = min(n, sum(sizes.values()))
    while left > 0 and open_clusters:
        weights = {c: float(np.sqrt(sizes[c])) for c in open_clusters}
        total = sum(weights.values())
        shares = {c: left * w / total for c, w in weights.items()}
        room = {c: sizes[c] - quotas[c] for c in open_clusters}
        full = {c for c in open_clusters if shares[c] >= room[c]}
        if full:
            for c in full:
                left -= room[c]
                quotas[c] = sizes[c]
            open_clusters -= full
            continue
        floors = {c: int(shares[c]) for c in open_clusters}
        for c, f in floors.items():
            quotas[c] += f
        left -= sum(floors.values())
        by_fraction = sorted(open_clusters, key=lambda c: (-(shares[c] - floors[c]), -sizes[c], c))
        for c in by_fraction[:left]:
            quotas[c] += 1
        left = 0
    return quotas


def _spread_cap(x: np.ndarray) -> float:
    """The SPREAD_PERCENTILE-th percentile of each record's cosine distance to its nearest other
    record: closer than that to a pick is redundant, farther is new ground."""
    import faiss

    if len(x) < 2:
        return 1.0
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    scores, ids = index.search(x, 2)
    nearest = np.where(ids[:, 0] == np.arange(len(x)), scores[:, 1], scores[:, 0])
    return max(float(np.percentile(1.0 - nearest, SPREAD_PERCENTILE)), 1e-3)


def select_records(
    items: Sequence[CleanItem],
    n: int,
    vectors: np.ndarray,
    cluster_names: Mapping[int, str] | None = None,
) -> Selection:
    """Choose ``n`` of ``items`` (all of them when n ≥ len(items)); ``vectors`` are their unit rows.

    Deterministic: the same items, vectors and n always give the same picks in the same order.
    """
    if n < 1:
        raise BadInputError(f"select must be at least 1 record, not {n}")
    names = dict(cluster_names or {})
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(x) != len(items):
        raise BadInputError(f"{len(items)} records but {len(x)} vectors; run `pairsmith analyze DIR` again")
    clusters = [cluster_of(item) for item in items]
    members: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clusters):
        members[c].append(i)
    lengths = {c: median(len(items[i].output) for i in idx) for c, idx in members.items()}
    parts = [quality_parts(item, lengths[c]) for item, c in zip(items, clusters, strict=True)]
    quality = np.array([float(np.prod(list(p.values()))) for p in parts], dtype=np.float64)
    sizes = {c: len(idx) for c, idx in members.items()}
    quotas = cluster_quotas(sizes, n)
    cap = _spread_cap(x)

    left = dict(quotas)
    spread = np.full(len(items), cap, dtype=np.float64)
    nearest_pick = np.full(len(items), -1, dtype=np.int64)
    chosen = np.zeros(len(items), dtype=bool)
    cluster_arr = np.array(clusters)
    picks: list[Pick] = []
    for rank in range(1, min(n, len(items)) + 1):
        open_mask = np.isin(cluster_arr, [c for c, q in left.items() if q > 0]) & ~chosen
        score = np.where(open_mask, quality * (spread / cap), -1.0)
        i = int(np.argmax(score))  # argmax takes the first of equals: store order
        chosen[i] = True
        c = clusters[i]
        left[c] -= 1
        distance = None if nearest_pick[i] < 0 else float(spread[i])
        picks.append(
            _pick(items, i, rank, c, quotas[c], sizes[c], quality[i], parts[i], distance, cap, names)
        )
        d = np.clip(1.0 - x @ x[i], 0.0, None)
        closer = d < spread
        nearest_pick[closer] = i
        spread = np.minimum(spread, d)
    selected = [items[int(k)] for k in np.flatnonzero(chosen)]
    order = {p.id: p.rank for p in picks}
    selected.sort(key=lambda item: order[item.record.id])
    return Selection(
        selected=selected,
        not_selected=[items[int(k)] for k in np.flatnonzero(~chosen)],
        picks=picks,
        quotas={c: {"available": sizes[c], "quota": quotas[c]} for c in sorted(sizes)},
        cluster_names={c: names.get(c, "" if c == NO_CLUSTER else f"cluster {c}") for c in sizes},
    )


def _pick(
    items: Sequence[CleanItem],
    i: int,
    rank: int,
    cluster: int,
    quota: int,
    size: int,
    quality: float,
    parts: dict[str, float],
    distance: float | None,
    cap: float,
    names: Mapping[int, str],
) -> Pick:
    label = names.get(cluster)
    where = "no cluster" if cluster == NO_CLUSTER else f"cluster {cluster}" + (f" '{label}'" if label else "")
    factors = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
    spread = (
        "the first pick"
        if distance is None
        else f"{distance:.2f} from the nearest earlier pick" + (" (new ground)" if distance >= cap else "")
    )
    why = f"rank {rank}; {where}, {quota} of {size} kept; quality {quality:.2f} ({factors}); {spread}"
    return Pick(items[i].record.id, rank, cluster, quality, parts, distance, why)


def select_from_store(store: RecordStore, items: Sequence[CleanItem], n: int) -> Selection:
    """:func:`select_records` with the items' stored ``pair`` vectors and cluster names.

    NotFoundError when the project has not been analysed (no vectors for some of the items).
    """
    ids = [item.record.id for item in items]
    if not ids:
        return Selection(selected=[], not_selected=[], picks=[])
    missing = F.VECTOR_PAIR not in store.vector_names()
    if not missing:
        got, matrix = store.get_vectors(F.VECTOR_PAIR, ids)
        missing = len(got) != len(set(ids))
    if missing:
        raise NotFoundError(
            "--select needs each record's vectors and cluster; run `pairsmith analyze DIR` first "
            "(records added since the last analysis have none)"
        )
    row = {rid: k for k, rid in enumerate(got)}
    x = np.asarray(matrix, dtype=np.float32)[[row[rid] for rid in ids]]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = (x / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    names: dict[int, str] = {}
    for item in items:
        name = item.record.metadata.get(F.CLUSTER_NAME)
        if name:
            names.setdefault(cluster_of(item), str(name))
    return select_records(items, n, x, names)
