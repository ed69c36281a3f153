"""Diversity and coverage figures for any set of records, and a sampler that covers the clusters.

The figures a designer acts on: how evenly records spread over the clusters (normalised entropy),
the Vendi score (the effective number of distinct records), the mean distance to the nearest other
record, the share of the largest cluster, and which clusters are over-represented or thin, each with
a plain-language hint. When the project has an output JSON schema, the values of its enum fields
(e.g. a ticket's category) are counted too: clusters see what the inputs look like, these see what
the model will learn to answer, and a topic too small to form a cluster still shows there. They work for any subset (e.g. only accepted records), so the effect of
curation shows before export. The balance is measured against every cluster of the project, so a
subset that drops a topic scores lower.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation.errors import NotFoundError
from curation.metadata_keys import CLUSTER, VECTOR_PAIR
from curation.store.base import RecordQuery, RecordStore, ResponseFilter


class DiversitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nn_sample: int = Field(default=5000, ge=1, description="Records whose nearest neighbour is measured")
    over_represented_factor: float = Field(default=2.0, gt=1.0)
    thin_factor: float = Field(default=0.25, gt=0.0, lt=1.0)
    seed: int = 0
    min_records_for_hints: int = Field(
        default=20, ge=1, description="Below this many records a set gets no over-represented/thin hints"
    )
    min_records_per_cluster: float = Field(
        default=3.0,
        ge=0.0,
        description="Hints also need this many records per cluster (or per enum value) on average",
    )

    def hint_minimum(self, groups: int) -> int:
        """Records a set needs before its coverage of ``groups`` clusters (or values) is judged."""
        return max(self.min_records_for_hints, math.ceil(self.min_records_per_cluster * groups))


def vendi_score(vectors: np.ndarray) -> float:
    """exp(entropy of the eigenvalues of the cosine kernel / n), the effective number of distinct items.

    For unit rows X the kernel XXᵀ/n has the same non-zero eigenvalues as XᵀX/n (d × d), so the score
    is exact at any n for O(n·d²) instead of an n × n matrix.
    """
    n = len(vectors)
    if n == 0:
        return 0.0
    x = np.asarray(vectors, dtype=np.float64)
    if x.shape[1] < n:
        return vendi_from_gram(x.T @ x, n)
    return _vendi_of(np.linalg.eigvalsh(x @ x.T / n))


def vendi_from_gram(gram: np.ndarray, n: int) -> float:
    """The Vendi score from XᵀX (d × d, float64), which sums over partitions of the rows."""
    return _vendi_of(np.linalg.eigvalsh(gram / n)) if n else 0.0


def _vendi_of(eigenvalues: np.ndarray) -> float:
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    eigenvalues = eigenvalues / eigenvalues.sum()
    return float(np.exp(-(eigenvalues * np.log(eigenvalues)).sum()))


def mean_nn_distance(vectors: np.ndarray, sample: int = 5000, seed: int = 0) -> float | None:
    """Mean cosine distance from (a sample of) records to their nearest other record; None below 2."""
    import faiss

    n = len(vectors)
    if n < 2:
        return None
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexFlatIP(matrix.shape[1])
    index.add(matrix)
    rows = np.arange(n) if n <= sample else np.random.default_rng(seed).choice(n, size=sample, replace=False)
    scores, neighbours = index.search(matrix[rows], 2)
    # The nearest hit is usually the record itself; identical records may come first instead.
    nearest = np.where(neighbours[:, 0] == rows, scores[:, 1], scores[:, 0])
    return float(np.clip(1.0 - nearest, 0.0, 2.0).mean())


def balance(counts: Sequence[int], total_clusters: int) -> float | None:
    """Entropy of the cluster sizes divided by log(total clusters): 1 = perfectly even."""
    n = sum(counts)
    if n == 0:
        return None
    if total_clusters <= 1:
        return 1.0
    p = np.asarray([c for c in counts if c > 0], dtype=np.float64) / n
    entropy = float(-(p * np.log(p)).sum())
    # One cluster gives -(1 · log 1) = -0.0, which would print as "-0.0".
    return entropy / math.log(total_clusters) if entropy > 0 else 0.0


def diversity_figures(
    ids: Sequence[str],
    vectors: np.ndarray,
    cluster_of: Mapping[str, int],
    cluster_names: Mapping[int, str],
    settings: DiversitySettings | None = None,
    topic_of: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """The documented diversity shape for one set of records (see docs/curation.md).

    ``cluster_names`` lists every cluster of the project (so missing ones count); ``cluster_of`` maps
    record ids to their cluster; ``topic_of`` maps clusters to topics (groups of close clusters, see
    :func:`curation.clusters.group_into_topics`). A cluster is over-represented or thin when it is so
    against an even share of clusters, or when its whole topic is so against an even share of topics;
    a cluster that shares its topic with others is thin only when the whole topic is.
    """
    settings = settings or DiversitySettings()
    counts = Counter(cluster_of[i] for i in ids if i in cluster_of)
    return diversity_from_parts(
        len(ids),
        counts,
        cluster_names,
        settings,
        topic_of,
        vendi=round(vendi_score(vectors), 2) if len(vectors) else None,
        nn_distance=mean_nn_distance(vectors, settings.nn_sample, settings.seed),
    )


def diversity_from_parts(
    n: int,
    counts: Mapping[int, int],
    cluster_names: Mapping[int, str],
    settings: DiversitySettings,
    topic_of: Mapping[int, int] | None,
    *,
    vendi: float | None,
    nn_distance: float | None,
) -> dict[str, Any]:
    """:func:`diversity_figures` from its mergeable parts: the number of records, records per
    cluster, the Vendi score and the mean nearest-neighbour distance (a distributed run computes
    these over partitions and merges them)."""
    total_clusters = max(len(cluster_names), len(counts))
    fair = n / total_clusters if total_clusters else 0.0
    sizes = {c: counts.get(c, 0) for c in sorted(set(cluster_names) | set(counts))}
    name = {c: cluster_names.get(c, f"cluster {c}") for c in sizes}
    topic = {c: (topic_of or {}).get(c, -1 - c) for c in sizes}  # unknown: a topic of its own
    members: dict[int, list[int]] = {}
    for c in sizes:
        members.setdefault(topic[c], []).append(c)
    topic_size = {t: sum(sizes[c] for c in cs) for t, cs in members.items()}
    topic_fair = n / len(members) if members else 0.0
    many = total_clusters > 1

    def entry(c: int) -> dict[str, Any]:
        item: dict[str, Any] = {"id": c, "name": name[c], "size": sizes[c], "share": _share(sizes[c], n)}
        if len(members[topic[c]]) > 1:
            t = topic[c]
            item["topic"] = {"clusters": members[t], "size": topic_size[t], "share": _share(topic_size[t], n)}
        return item

    over, thin, hints = [], [], []
    hinted: set[int] = set()
    # Against an even share, 2 accepted records make every other cluster look empty: judge coverage
    # only once a set has enough records for that share to mean something.
    needed = settings.hint_minimum(total_clusters)
    enough = n >= needed
    many = many and enough
    for c, size in sorted(sizes.items(), key=lambda item: -item[1]):
        t = topic[c]
        topic_over = len(members) > 1 and topic_size[t] >= settings.over_represented_factor * topic_fair
        if many and size > 1 and (size >= settings.over_represented_factor * fair or topic_over):
            over.append(entry(c))
            if len(members[t]) > 1 and topic_over:
                if t not in hinted:
                    hinted.add(t)
                    together = ", ".join(f"'{name[m]}'" for m in members[t])
                    hints.append(
                        f"clusters {together} are one topic holding {topic_size[t] / n:.0%} of records "
                        f"(an even share of the {len(members)} topics, groups of similar clusters, is "
                        f"{1 / len(members):.0%}): "
                        "consider down-sampling it or dropping its duplicates"
                    )
            else:
                hints.append(
                    f"cluster '{name[c]}' holds {size / n:.0%} of records (an even share is "
                    f"{1 / total_clusters:.0%}): consider down-sampling it or dropping its duplicates"
                )
    for c, size in sorted(sizes.items(), key=lambda item: item[1]):
        topic_thin = len(members) > 1 and topic_size[topic[c]] <= settings.thin_factor * topic_fair
        # A small sub-cluster of a well-covered topic is a phrasing, not a missing topic.
        cluster_thin = size <= settings.thin_factor * fair and len(members[topic[c]]) == 1
        if many and (cluster_thin or topic_thin):
            thin.append(entry(c))
            records = f"{size} record{'s' if size != 1 else ''}"
            if size == 0:
                hints.append(f"cluster '{name[c]}' has no records here: add examples of this topic")
            elif size <= settings.thin_factor * fair:
                hints.append(
                    f"cluster '{name[c]}' has only {records} (an even share is {fair:.0f}): "
                    "add more examples of this topic"
                )
            else:
                hints.append(
                    f"cluster '{name[c]}' has only {records} and its topic {topic_size[topic[c]]} (an even "
                    f"share of the {len(members)} topics, groups of similar clusters, is {topic_fair:.0f}): "
                    "add more examples of this topic"
                )
    largest = max(sizes.items(), key=lambda item: item[1]) if sizes and n else None
    even = balance(list(counts.values()), total_clusters)
    return {
        "records": n,
        "clusters_total": total_clusters,
        "topics_total": len(members),
        "clusters_covered": sum(1 for s in sizes.values() if s > 0),
        "balance": _round(even),
        "vendi_score": vendi,
        "mean_nn_distance": _round(nn_distance),
        "largest_cluster": None
        if largest is None
        else {"id": largest[0], "name": name[largest[0]], "share": round(largest[1] / n, 4)},
        "largest_cluster_share": round(largest[1] / n, 4) if largest else None,
        "over_represented": over,
        "thin": thin,
        "hints": hints,
        "hints_withheld": None
        if enough or total_clusters <= 1
        else f"Coverage hints need at least {needed} records here ({settings.min_records_per_cluster:g} per "
        f"cluster on average); this set has {n}.",
    }


def output_value_coverage(
    outputs: Iterable[str], schema: Mapping[str, Any] | None, settings: DiversitySettings | None = None
) -> dict[str, Any]:
    """How often each allowed value of the output schema's top-level enum fields appears.

    Returns ``{field: {"parsed", "counts", "over_represented", "thin", "hints"}}`` (empty without a
    schema or enum fields). Outputs that are not JSON objects count for no value. Values at or above
    ``over_represented_factor`` × an even share are over-represented; at or below ``thin_factor`` ×
    it (or never seen) thin. Non-string values are keyed by their JSON text.
    """
    settings = settings or DiversitySettings()
    properties = (schema or {}).get("properties")
    enums = {
        name: [v if isinstance(v, str) else json.dumps(v) for v in spec["enum"]]
        for name, spec in (properties if isinstance(properties, Mapping) else {}).items()
        if isinstance(spec, Mapping) and isinstance(spec.get("enum"), list) and len(spec["enum"]) > 1
    }
    if not enums:
        return {}
    counts: dict[str, Counter[str]] = {name: Counter() for name in enums}
    parsed = 0
    for text in outputs:
        try:
            obj = json.loads(text)
        except (TypeError, ValueError):
            continue
        if not isinstance(obj, dict):
            continue
        parsed += 1
        for name, allowed in enums.items():
            if name in obj:
                value = obj[name] if isinstance(obj[name], str) else json.dumps(obj[name])
                if value in allowed:
                    counts[name][value] += 1
    result: dict[str, Any] = {}
    for name, allowed in enums.items():
        seen = sum(counts[name].values())
        fair = seen / len(allowed)
        ordered = sorted(allowed, key=lambda v: -counts[name][v])
        needed = settings.hint_minimum(len(allowed))
        judged = seen >= needed  # too few answers say nothing about balance
        over = [v for v in ordered if judged and counts[name][v] >= settings.over_represented_factor * fair]
        thin = [v for v in reversed(ordered) if judged and counts[name][v] <= settings.thin_factor * fair]
        hints = [
            f"output {name} '{v}' is in {counts[name][v] / seen:.0%} of records (an even share of the "
            f"{len(allowed)} values is {1 / len(allowed):.0%}): consider down-sampling it"
            for v in over
        ] + [
            f"output {name} '{v}' has "
            + (
                f"only {counts[name][v]} record{'s' if counts[name][v] != 1 else ''}"
                if counts[name][v]
                else "no records"
            )
            + f" (an even share is {fair:.0f}): add examples that should be answered with it"
            for v in thin
        ]
        result[name] = {
            "parsed": parsed,
            "counts": {v: counts[name][v] for v in ordered},
            "over_represented": over,
            "thin": thin,
            "hints": hints,
            "hints_withheld": None
            if judged
            else f"Values are flagged once {needed} records answer this field; {seen} do here.",
        }
    return result


def with_output_coverage(
    figures: dict[str, Any],
    outputs: Iterable[str],
    schema: Mapping[str, Any] | None,
    settings: DiversitySettings | None = None,
) -> dict[str, Any]:
    """``figures`` with ``output_values`` (see :func:`output_value_coverage`) and its hints added."""
    coverage = output_value_coverage(outputs, schema, settings)
    extra = [hint for field in coverage.values() for hint in field["hints"]]
    return {**figures, "output_values": coverage, "hints": [*figures["hints"], *extra]}


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def subset_figures(
    store: RecordStore,
    query: RecordQuery | None,
    cluster_names: Mapping[int, str],
    *,
    vector: str = VECTOR_PAIR,
    settings: DiversitySettings | None = None,
    topic_of: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """:func:`diversity_figures` for the records a query selects (all records when None)."""
    cluster_of: dict[str, int] = {}
    ids: list[str] = []
    outputs: list[str] = []
    for batch in store.iter_records(batch_size=2000, query=query):
        for record in batch:
            ids.append(record.id)
            outputs.append(record.output)
            if CLUSTER in record.metadata:
                cluster_of[record.id] = int(record.metadata[CLUSTER])
    if ids and not cluster_of:
        raise NotFoundError("these records have no clusters yet; run `pairsmith analyze DIR` first")
    vector_ids, matrix = store.get_vectors(vector, ids) if ids else ([], np.zeros((0, 0), np.float32))
    figures = diversity_figures(vector_ids, matrix, cluster_of, cluster_names, settings, topic_of)
    figures = with_output_coverage(figures, outputs, store.get_project().output_schema, settings)
    figures["records"] = len(ids)
    return figures


# --- the sampler --------------------------------------------------------------------------------


def k_center_greedy(candidates: np.ndarray, centers: np.ndarray, k: int) -> list[int]:
    """Indices of k candidates, each the farthest (cosine) from every centre and pick before it.

    With no centres the first pick is the candidate nearest the mean, the most typical record.
    """
    n = len(candidates)
    if n == 0 or k <= 0:
        return []
    x = np.asarray(candidates, dtype=np.float32)
    if len(centers):
        import faiss

        index = faiss.IndexFlatIP(x.shape[1])
        index.add(np.ascontiguousarray(centers, dtype=np.float32))
        nearest, _ = index.search(np.ascontiguousarray(x), 1)
        min_dist = 1.0 - nearest[:, 0]
        first = int(np.argmax(min_dist))
    else:
        first = int(np.argmax(x @ x.mean(axis=0)))
        min_dist = np.full(n, np.inf, dtype=np.float32)
    picks: list[int] = []
    pick = first
    for _ in range(min(k, n)):
        picks.append(pick)
        min_dist = np.minimum(min_dist, 1.0 - x @ x[pick])
        min_dist[picks] = -np.inf
        pick = int(np.argmax(min_dist))
    return picks


def next_to_review(
    store: RecordStore,
    k: int,
    *,
    user: str | None = None,
    query: RecordQuery | None = None,
    vector: str = VECTOR_PAIR,
) -> list[str]:
    """The ids of the next k records to review so the reviewed set covers the topics (k-center greedy).

    Candidates are records (matching ``query``) with no submitted or discarded response, by ``user``
    when given; records already reviewed act as centres, so picks go to what review has not covered.
    """
    base = query or RecordQuery()
    pending = base.model_copy(update={"response": ResponseFilter(status=["pending"], user=user)})
    candidate_ids = [r.id for batch in store.iter_records(batch_size=5000, query=pending) for r in batch]
    if not candidate_ids:
        return []
    ids, matrix = store.get_vectors(vector)
    if not ids:
        raise NotFoundError(f"no '{vector}' vectors in this project; run `pairsmith analyze DIR` first")
    position = {rid: i for i, rid in enumerate(ids)}
    done = RecordQuery(response=ResponseFilter(status=["submitted", "discarded"], user=user))
    reviewed = [
        position[r.id]
        for batch in store.iter_records(batch_size=5000, query=done)
        for r in batch
        if r.id in position
    ]
    cand = [rid for rid in candidate_ids if rid in position]
    picks = k_center_greedy(matrix[[position[rid] for rid in cand]], matrix[reviewed], k)
    return [cand[i] for i in picks]
