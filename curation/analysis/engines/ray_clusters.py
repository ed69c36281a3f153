"""Clusters and diversity on Ray Data: k chosen and k-means fitted on a sample, refined over every
partition (mini-batch k-means: one pass per iteration, sums merged), then per-partition figures
(sizes, term counts, label and quality mix, nearest-to-centroid examples, the Gram matrix for the
Vendi score, nearest-neighbour distances of a sample) merged in one task.

Every figure is one of the local run's functions on merged parts: ``choose_k_on_sample``,
``kmeans_model``, ``TermCounts``, ``group_into_topics``, ``vendi_from_gram``,
``diversity_from_parts``. Up to ``FIT_ALL_MAX`` records the sample is every record in import
order, so the clusters are the local run's exactly. The 2-D map is a PCA fitted on the sample and
applied per partition (t-SNE and UMAP need every point at once).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import ray
import ray.data
from ray.data import Dataset

from curation import metadata_keys
from curation.analysis.clusters import (
    ClusterInfo,
    ClusterSettings,
    TermCounts,
    _distinct_rows,
    choose_k_on_sample,
    group_into_topics,
    k_sample_rows,
    kmeans_model,
)
from curation.analysis.dedup.semantic import sample_rows
from curation.analysis.diversity import DiversitySettings, diversity_from_parts, vendi_from_gram
from curation.analysis.engines.columns import matrix_of, pair_vectors, records_of, responses_of
from curation.analysis.engines.ray_dedup import gather_rows
from curation.model import LABEL_QUESTION, ResponseStatus

ARROW = "pyarrow"
REFINE_PASSES = 2
FIT_ALL_MAX = 100_000
"""Up to this many records k-means is fitted on all of them (in one task, as the local run fits it:
the same clusters); above, on a seeded sample of this size, then refined over every partition."""


def cluster_vectors(batch: pa.Table, which: str) -> np.ndarray:
    """The vectors clusters use: pair (what a record teaches) or input (what is asked)."""
    return pair_vectors(batch) if which == metadata_keys.VECTOR_PAIR else matrix_of(batch.column("vin"))


@dataclass
class ClusterModel:
    """What every partition needs to label its rows: centres, size ranks and the map's projection."""

    centres: np.ndarray
    rank: np.ndarray
    pca: Any = None
    span: float = 1.0
    k_chosen_by: str = "none"
    k_scores: dict[int, float] = field(default_factory=dict)

    def labels(self, vectors: np.ndarray) -> np.ndarray:
        if not len(vectors):
            return np.zeros(0, dtype=np.int64)
        distance = (self.centres**2).sum(axis=1)[None, :] - 2.0 * vectors @ self.centres.T
        return self.rank[np.argmin(distance, axis=1)]

    def coords(self, vectors: np.ndarray) -> np.ndarray:
        if self.pca is None or not len(vectors):
            return np.zeros((len(vectors), 2), dtype=np.float32)
        return (np.asarray(self.pca.transform(vectors), dtype=np.float32)) / self.span


@ray.remote
def _fit(
    sample: pa.Table,
    fit_rows: np.ndarray,
    k_rows: np.ndarray,
    which: str,
    settings: ClusterSettings,
    n: int,
) -> ClusterModel:
    """k and the centres from the sample, on one worker (``kmeans_model``, as the local run)."""
    from sklearn.decomposition import PCA

    everything = cluster_vectors(sample, which)
    position = {int(r): i for i, r in enumerate(sample.column("row").to_pylist())}
    vectors = everything[[position[int(r)] for r in fit_rows]]
    scores: dict[int, float] = {}
    if settings.k is not None:
        k, chosen_by = min(settings.k, n, max(1, _distinct_rows(vectors))), "user"
    else:
        k_sample = everything[[position[int(r)] for r in k_rows]]
        k, scores = choose_k_on_sample(k_sample, settings) if n >= 2 * settings.k_min else (1, {})
        chosen_by = "silhouette" if scores else "too few records"
    if k <= 1:
        centres = vectors.mean(axis=0, keepdims=True) if len(vectors) else np.zeros((1, vectors.shape[1]))
    else:
        centres = np.asarray(kmeans_model(vectors, k, settings.seed).cluster_centers_, dtype=np.float32)
    pca = None
    if len(vectors) > 1 and _distinct_rows(vectors) > 1:
        pca = PCA(n_components=min(2, vectors.shape[1]), random_state=settings.seed).fit(vectors)
    return ClusterModel(
        centres=centres, rank=np.arange(len(centres)), pca=pca, k_chosen_by=chosen_by, k_scores=scores
    )


def _sums(batch: pa.Table, model: ClusterModel, which: str) -> pa.Table:
    vectors = cluster_vectors(batch, which)
    raw = ClusterModel(model.centres, np.arange(len(model.centres))).labels(vectors)
    sums = np.zeros_like(model.centres, dtype=np.float64)
    np.add.at(sums, raw, vectors)
    counts = np.bincount(raw, minlength=len(model.centres))
    return pa.table({"sums": [sums.tobytes()], "counts": [counts.tobytes()]})


def _merge_sums(parts: Dataset, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    sums = np.zeros(shape, dtype=np.float64)
    counts = np.zeros(shape[0], dtype=np.int64)
    for batch in parts.iter_batches(batch_format=ARROW, batch_size=None):
        for s, c in zip(batch.column("sums").to_pylist(), batch.column("counts").to_pylist(), strict=True):
            sums += np.frombuffer(s, dtype=np.float64).reshape(shape)
            counts += np.frombuffer(c, dtype=np.int64)
    return sums, counts


def fit_clusters(prepared: Dataset, n: int, which: str, settings: ClusterSettings) -> ClusterModel:
    """Choose k and fit the centres; above ``FIT_ALL_MAX`` records refine them with passes over
    every partition; rank clusters by size (largest is 0) as the local run numbers them."""
    fit_rows = sample_rows(n, FIT_ALL_MAX, settings.seed)
    k_rows = k_sample_rows(n, settings)
    wanted = np.union1d(fit_rows, k_rows) if n > FIT_ALL_MAX else fit_rows
    sample = gather_rows(prepared, wanted, ["vin", "vout"])
    model: ClusterModel = ray.get(_fit.remote(sample, fit_rows, k_rows, which, settings, n))
    model.centres = np.array(model.centres, dtype=np.float32)  # writable: objects from the store are not
    columns = prepared.select_columns(["vin", "vout"])
    passes = REFINE_PASSES if n > FIT_ALL_MAX and len(model.centres) > 1 else 0
    for _ in range(passes + 1):
        parts = columns.map_batches(_sums, batch_format=ARROW, fn_kwargs={"model": model, "which": which})
        sums, counts = _merge_sums(parts, model.centres.shape)
        if _ == passes:
            break
        alive = counts > 0
        model.centres[alive] = (sums[alive] / counts[alive, None]).astype(np.float32)
    # Number clusters by size, largest first (empty centres last), so ids read as the local run's.
    order = np.argsort(-counts, kind="stable")
    model.rank = np.empty_like(order)
    model.rank[order] = np.arange(len(order))
    return model


def label_rows(batch: pa.Table, model: ClusterModel, which: str) -> pa.Table:
    """Per row: its cluster and map coordinates (before the map's final scaling)."""
    vectors = cluster_vectors(batch, which)
    coords = model.coords(vectors)
    return pa.table(
        {
            "row": batch.column("row"),
            "cluster": model.labels(vectors),
            "x": coords[:, 0],
            "y": coords[:, 1],
        }
    )


def _final_label(responses: list[Any]) -> str | None:
    votes: Counter[str] = Counter()
    for response in responses:
        value = response.values.get(LABEL_QUESTION)
        if response.status == ResponseStatus.submitted and isinstance(value, str):
            votes[value] += 1
    return votes.most_common(1)[0][0] if votes else None


def _figures(
    batch: pa.Table,
    model: ClusterModel,
    which: str,
    settings: ClusterSettings,
    sample: np.ndarray,
    sample_rows_: np.ndarray,
) -> pa.Table:
    """One partition's mergeable figures, pickled: sizes, sums, term counts, label and quality mix,
    the Gram matrix, the nearest-neighbour score of each sampled query, the map's extent."""
    import pickle

    records = records_of(batch)
    vectors = cluster_vectors(batch, which)
    labels = model.labels(vectors)
    rows = np.asarray(batch.column("row"), dtype=np.int64)
    k = len(model.centres)
    terms = TermCounts()
    terms.add(labels.tolist(), [r.input_text for r in records])
    label_mix: dict[int, Counter[str]] = {}
    quality_mix: dict[int, Counter[str]] = {}
    by_record: dict[str, list[Any]] = {}
    for response in responses_of(batch):
        by_record.setdefault(response.record_id, []).append(response)
    for record, label, quality in zip(
        records, labels.tolist(), batch.column("quality").to_pylist(), strict=True
    ):
        final = _final_label(by_record.get(record.id, []))
        if final is not None:
            label_mix.setdefault(label, Counter())[final] += 1
        flags = json.loads(quality).get(metadata_keys.FLAGS) or ["clean"]
        quality_mix.setdefault(label, Counter()).update(flags)
    sums = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, vectors)
    nn = np.full(len(sample), -np.inf)
    if len(sample) and len(vectors):
        scores = sample @ vectors.T
        scores[sample_rows_[:, None] == rows[None, :]] = -np.inf
        nn = scores.max(axis=1)
    coords = model.coords(vectors)
    part = {
        "counts": np.bincount(labels, minlength=k),
        "sums": sums,
        "terms": terms.counts,
        "label_mix": label_mix,
        "quality_mix": quality_mix,
        "gram": vectors.astype(np.float64).T @ vectors.astype(np.float64),
        "nn": nn,
        "span": float(np.abs(coords).max()) if len(coords) else 0.0,
    }
    return pa.table({"part": pa.array([pickle.dumps(part)], pa.large_binary())})


@ray.remote(num_cpus=0)
def _merge_figures(parts: Dataset, k: int) -> dict[str, Any]:
    import pickle

    merged: dict[str, Any] = {"terms": TermCounts(), "label_mix": {}, "quality_mix": {}, "span": 0.0}
    for batch in parts.iter_batches(batch_format=ARROW, batch_size=None):
        for blob in batch.column("part").to_pylist():
            part = pickle.loads(blob)
            for key in ("counts", "sums", "gram"):
                merged[key] = merged[key] + part[key] if key in merged else part[key]
            merged["nn"] = np.maximum(merged["nn"], part["nn"]) if "nn" in merged else part["nn"]
            other = TermCounts()
            other.counts = part["terms"]
            merged["terms"].merge(other)
            for key in ("label_mix", "quality_mix"):
                for label, counter in part[key].items():
                    merged[key].setdefault(label, Counter()).update(counter)
            merged["span"] = max(merged["span"], part["span"])
    return merged


@ray.remote(num_cpus=0)
def _examples(
    batch_ds: Dataset, centroids: np.ndarray, model: ClusterModel, which: str, per: int
) -> dict[int, list[str]]:
    """The ``per`` records nearest each cluster's mean (ties: import order), over every partition."""
    best: dict[int, list[tuple[float, int, str]]] = {}
    for batch in batch_ds.iter_batches(batch_format=ARROW, batch_size=20_000):
        vectors = cluster_vectors(batch, which)
        labels = model.labels(vectors)
        scores = np.einsum("ij,ij->i", vectors, centroids[labels]) if len(vectors) else np.zeros(0)
        for label, score, row, rid in zip(
            labels.tolist(),
            scores.tolist(),
            batch.column("row").to_pylist(),
            batch.column("id").to_pylist(),
            strict=True,
        ):
            best.setdefault(label, []).append((-score, row, rid))
        for label in list(best):
            best[label] = sorted(best[label])[:per]
    return {label: [rid for _, _, rid in items] for label, items in best.items()}


@dataclass
class ClusterFigures:
    model: ClusterModel
    clusters: list[ClusterInfo]
    diversity: dict[str, Any]


def describe(
    prepared: Dataset,
    n: int,
    model: ClusterModel,
    which: str,
    settings: ClusterSettings,
    diversity: DiversitySettings,
) -> ClusterFigures:
    """Names, sizes, examples, label and quality mix, topics, and the diversity figures."""
    rows = sample_rows(n, diversity.nn_sample, diversity.seed) if n > diversity.nn_sample else np.arange(n)
    if n > diversity.nn_sample:  # the local run's sample, in its order
        rows = np.random.default_rng(diversity.seed).choice(n, size=diversity.nn_sample, replace=False)
    sample = gather_rows(prepared, np.asarray(rows, dtype=np.int64), ["vin", "vout"]) if n >= 2 else None
    queries = cluster_vectors(sample, which) if sample is not None else np.zeros((0, 1), np.float32)
    query_rows = (
        np.asarray(sample.column("row"), dtype=np.int64) if sample is not None else np.zeros(0, np.int64)
    )
    parts = prepared.select_columns(
        ["row", "id", "record", "responses", "quality", "vin", "vout"]
    ).map_batches(
        _figures,
        batch_format=ARROW,
        fn_kwargs={
            "model": model,
            "which": which,
            "settings": settings,
            "sample": queries,
            "sample_rows_": query_rows,
        },
    )
    k = len(model.centres)
    merged = ray.get(_merge_figures.remote(parts.materialize(), k))
    counts = merged["counts"]
    means = merged["sums"] / np.maximum(counts, 1)[:, None]
    examples = ray.get(
        _examples.remote(
            prepared.select_columns(["row", "id", "vin", "vout"]).materialize(),
            means.astype(np.float32),
            model,
            which,
            settings.examples,
        )
    )
    terms = merged["terms"].top_terms(settings.terms_per_name)
    clusters: list[ClusterInfo] = []
    for cluster in range(k):
        if not counts[cluster]:
            continue
        words = terms.get(cluster) or []
        clusters.append(
            ClusterInfo(
                id=cluster,
                name=", ".join(words) if words else f"cluster {cluster}",
                terms=words,
                size=int(counts[cluster]),
                share=int(counts[cluster]) / n,
                examples=examples.get(cluster, []),
                label_mix=dict(merged["label_mix"].get(cluster, Counter()).most_common()),
                quality_mix=dict(merged["quality_mix"].get(cluster, Counter()).most_common()),
            )
        )
    centroids = np.stack([means[c.id] for c in clusters]) if clusters else np.zeros((0, 1))
    for info, topic in zip(clusters, group_into_topics(centroids, settings.topic_distance), strict=True):
        info.topic = topic
    model.span = merged["span"] or 1.0
    nn = merged["nn"]
    nn_distance = float(np.clip(1.0 - nn, 0.0, 2.0).mean()) if n >= 2 and len(nn) else None
    figures = diversity_from_parts(
        n,
        {c.id: c.size for c in clusters},
        {c.id: c.name for c in clusters},
        diversity,
        {c.id: c.topic for c in clusters},
        vendi=round(vendi_from_gram(merged["gram"], n), 2) if n else None,
        nn_distance=nn_distance,
    )
    return ClusterFigures(model=model, clusters=clusters, diversity=figures)
