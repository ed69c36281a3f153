"""Topic clusters over record embeddings (pair vectors by default): k, names from distinctive terms, descriptions and a 2-D map.

- k is chosen by the silhouette score of k-means on a sample over a range of candidates, or set by
  the user.
- Names come from class-based TF-IDF (c-TF-IDF): terms frequent in one cluster and rare in the
  others. Term counts are accumulated per batch (:class:`TermCounts`), so the counting step can run
  on partitions and be merged.
- Topics group clusters whose centroids lie close (average-linkage on cosine distance). k chosen by
  silhouette often splits one large theme into several sub-clusters (one per phrasing), and each of
  them alone looks like a fair share; the over-represented and thin figures are judged per topic too.
- The map is t-SNE for up to ``tsne_max`` records (seconds, no compile step), UMAP above (its
  just-in-time compile costs ~40 s once, which only pays off on large sets), PCA for tiny sets.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class ClusterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int | None = Field(default=None, ge=1, description="Number of clusters; None chooses it")
    k_min: int = Field(default=2, ge=2)
    k_max: int = Field(default=40, ge=2)
    sample_size: int = Field(default=3000, ge=100, description="Records used to choose k")
    seed: int = 0
    terms_per_name: int = Field(default=3, ge=1, le=10)
    examples: int = Field(default=5, ge=0, le=50)
    map_method: Literal["auto", "tsne", "umap", "pca"] = "auto"
    tsne_max: int = Field(default=30_000, ge=0)
    topic_distance: float = Field(
        default=0.25,
        ge=0.0,
        le=2.0,
        description="Clusters whose centroids' average cosine distance is below this form one topic; "
        "0 makes every cluster its own topic",
    )


@dataclass
class ClusterInfo:
    id: int
    name: str
    terms: list[str]
    size: int
    share: float
    examples: list[str]
    label_mix: dict[str, int] = field(default_factory=dict)
    quality_mix: dict[str, int] = field(default_factory=dict)
    topic: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "terms": self.terms,
            "size": self.size,
            "share": round(self.share, 4),
            "examples": self.examples,
            "label_mix": self.label_mix,
            "quality_mix": self.quality_mix,
            "topic": self.topic,
        }


@dataclass
class ClusterResult:
    labels: np.ndarray
    """Cluster id per record, in the order of the ids given."""
    coords: np.ndarray
    """(n, 2) map coordinates."""
    clusters: list[ClusterInfo]
    k_chosen_by: str
    k_scores: dict[int, float]
    map_method: str


# --- choosing k and fitting ---------------------------------------------------------------------


def _distinct_rows(vectors: np.ndarray) -> int:
    return len(np.unique(np.round(vectors, 4), axis=0)) if len(vectors) else 0


FULL_KMEANS_MAX = 20_000
"""Up to this many records k-means runs on all of them; above, mini-batch k-means."""


def kmeans_model(vectors: np.ndarray, k: int, seed: int, n_init: int = 3) -> Any:
    """A fitted scikit-learn k-means (mini-batch above :data:`FULL_KMEANS_MAX` records)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    model: Any
    if len(vectors) > FULL_KMEANS_MAX:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=n_init, batch_size=4096)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=n_init)
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # near-duplicate points make k-means warn about fewer distinct clusters
        return model.fit(vectors)


def _kmeans(vectors: np.ndarray, k: int, seed: int, n_init: int = 3) -> np.ndarray:
    return np.asarray(kmeans_model(vectors, k, seed, n_init).labels_, dtype=np.int64)


def k_candidates(n: int, settings: ClusterSettings) -> list[int]:
    """A geometric grid of k between k_min and min(k_max, n / 5): fine steps where k is small."""
    upper = min(settings.k_max, max(settings.k_min, n // 5))
    grid = {settings.k_min, upper}
    k = float(settings.k_min)
    while k < upper:
        grid.add(round(k))
        k *= 1.25
    return sorted(g for g in grid if settings.k_min <= g <= upper)


def choose_k(vectors: np.ndarray, settings: ClusterSettings) -> tuple[int, dict[int, float]]:
    """The k with the best cosine silhouette of k-means on a sample; returns (k, {k: score})."""
    n = len(vectors)
    distinct = _distinct_rows(vectors)
    if n < 2 * settings.k_min or distinct < settings.k_min:
        return 1, {}
    return choose_k_on_sample(vectors[k_sample_rows(n, settings)], settings)


def k_sample_rows(n: int, settings: ClusterSettings) -> np.ndarray:
    """The rows (in sample order) whose vectors choose k: a seeded sample of ``sample_size``."""
    rng = np.random.default_rng(settings.seed)
    return rng.choice(n, size=min(n, settings.sample_size), replace=False)


def choose_k_on_sample(sample: np.ndarray, settings: ClusterSettings) -> tuple[int, dict[int, float]]:
    """:func:`choose_k` on the sampled vectors (rows of :func:`k_sample_rows`, in that order)."""
    from sklearn.metrics import silhouette_score

    if len(sample) < 2 * settings.k_min or _distinct_rows(sample) < settings.k_min:
        return 1, {}
    scores: dict[int, float] = {}
    for k in k_candidates(len(sample), settings):
        if k >= min(len(sample), _distinct_rows(sample)):
            break
        labels = _kmeans(sample, k, settings.seed, n_init=1)
        if len(set(labels.tolist())) < 2:
            continue
        scores[k] = round(float(silhouette_score(sample, labels, metric="cosine")), 4)
    if not scores:
        return 1, {}
    best = max(scores.values())
    # Silhouette curves of text embeddings climb slowly and stay flat near their top; the smallest k
    # within 5% of the best gives fewer, broader clusters that read as topics (on Bitext: k=29 for
    # 27 intents, where the raw maximum sits at the k_max cap).
    return min(k for k, s in scores.items() if s >= best - 0.05 * abs(best)), scores


# --- names (class-based TF-IDF) ----------------------------------------------------------------


_WORD = re.compile(r"[^\W\d_][^\W\d_]+(?:'[^\W\d_]+)*")
"""A word of two letters or more, contractions kept whole ("doesn't", not "doesn" and "t"); numbers
(order ids, amounts) never name a cluster."""
_ID_PREFIX = re.compile(r"-?\d")
_NEGATED = ("do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "could", "would", "should")
_CONTRACTIONS = frozenset(
    [f"{verb}n't" for verb in (*_NEGATED, "must", "need", "ca", "wo", "ai")]
    + [
        f"{who}'{end}"
        for who in (
            "i",
            "you",
            "we",
            "they",
            "he",
            "she",
            "it",
            "that",
            "there",
            "here",
            "what",
            "who",
            "let",
        )
        for end in ("s", "re", "ve", "d", "ll", "m")
    ]
)
# What a tokenizer that splits on apostrophes leaves of those ("doesn", "hasn"): never a topic's name.
_FRAGMENTS = frozenset([c.split("'")[0] for c in _CONTRACTIONS if c.endswith("n't")] + ["ll", "ve", "re"])


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _CONTRACTIONS | _FRAGMENTS


def _analyzer() -> Any:
    """Words as written (unstemmed, lower case, a possessive 's dropped) and pairs of adjacent words.

    Stop words and contractions are left out, and a pair is only made of two words that stood next
    to each other, so a name never reads "doesn, doesn exist" or joins words a stop word separated.
    """
    stop = _stop_words()

    def analyze(text: str) -> list[str]:
        words: list[str | None] = []
        lowered = text.lower().replace("\u2019", "'")
        for match in _WORD.finditer(lowered):
            word = match.group(0)
            if _ID_PREFIX.match(lowered, match.end()):  # "FW-1234", "abc123": an id, not a topic
                words.append(None)
                continue
            if word.endswith("'s") and word not in stop:
                word = word[:-2]
            words.append(None if word in stop or "'" in word or len(word) < 2 else word)
        terms = [w for w in words if w]
        terms += [f"{a} {b}" for a, b in pairwise(words) if a and b]
        return terms

    return analyze


_ENDINGS = ("s", "es", "ed", "d", "ing")


def same_word(a: str, b: str) -> bool:
    """Whether two terms are one word in another form ("order" / "orders" / "ordered"), so a name does
    not spend two of its three terms on it. The words stay as written: nothing is stemmed."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= 3 and any(long == short + e or long == short[:-1] + e for e in _ENDINGS)


class TermCounts:
    """Term counts per cluster; ``add`` one batch at a time, ``merge`` partial counts from workers."""

    def __init__(self) -> None:
        self.counts: dict[int, Counter[str]] = {}
        self._analyze = _analyzer()

    def add(self, labels: Iterable[int], texts: Iterable[str]) -> None:
        for label, text in zip(labels, texts, strict=True):
            self.counts.setdefault(int(label), Counter()).update(self._analyze(text))

    def merge(self, other: TermCounts) -> TermCounts:
        for label, counter in other.counts.items():
            self.counts.setdefault(label, Counter()).update(counter)
        return self

    def top_terms(self, n: int) -> dict[int, list[str]]:
        """The n most distinctive terms of each cluster by c-TF-IDF, skipping words already covered."""
        totals: Counter[str] = Counter()
        for counter in self.counts.values():
            totals.update(counter)
        if not totals:
            return {label: [] for label in self.counts}
        avg_words = sum(totals.values()) / max(1, len(self.counts))
        names: dict[int, list[str]] = {}
        for label, counter in self.counts.items():
            size = sum(counter.values()) or 1
            scored = sorted(
                counter.items(),
                key=lambda item: (-(item[1] / size) * math.log(1 + avg_words / totals[item[0]]), item[0]),
            )
            chosen: list[str] = []
            covered: set[str] = set()
            for term, _count in scored:
                words = set(term.split())
                if all(any(same_word(w, c) for c in covered) for w in words):
                    continue
                chosen.append(term)
                covered |= words
                if len(chosen) == n:
                    break
            names[label] = chosen
        return names


# --- map ----------------------------------------------------------------------------------------


def map_coordinates(vectors: np.ndarray, settings: ClusterSettings) -> tuple[np.ndarray, str]:
    """(n, 2) coordinates for plotting, scaled to [-1, 1], and the method used."""
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32), "none"
    method = settings.map_method
    if method == "auto":
        method = "pca" if n < 50 else "tsne" if n <= settings.tsne_max else "umap"
    if n < 5:
        method = "pca"
    from sklearn.decomposition import PCA

    reduced = vectors
    if vectors.shape[1] > 50 and n > 50 and method != "pca":
        reduced = PCA(n_components=50, random_state=settings.seed).fit_transform(vectors)
    coords: np.ndarray
    if method == "pca":
        components = min(2, n, vectors.shape[1])
        coords = np.zeros((n, 2))
        if n > 1 and _distinct_rows(vectors) > 1:
            coords[:, :components] = PCA(n_components=components, random_state=settings.seed).fit_transform(
                vectors
            )
    elif method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (n - 1) // 3)))
        # 350 iterations at angle 0.8 take ~40 % less time than 500 at 0.5 on 4.5k points, with the
        # same trustworthiness (0.9967 vs 0.9971 at 10 neighbours on Bitext): it is only a map.
        coords = TSNE(
            n_components=2,
            random_state=settings.seed,
            init="pca",
            perplexity=perplexity,
            max_iter=350,
            angle=0.8,
        ).fit_transform(reduced)
    else:
        import umap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a fixed random_state disables parallelism, and umap says so
            coords = umap.UMAP(n_components=2, random_state=settings.seed).fit_transform(reduced)
    coords = np.asarray(coords, dtype=np.float32)
    span = np.abs(coords).max() or 1.0
    return coords / span, method


# --- the step -----------------------------------------------------------------------------------


def cluster_records(
    ids: Sequence[str],
    vectors: np.ndarray,
    texts: Sequence[str],
    *,
    labels_by_id: Mapping[str, str] | None = None,
    flags_by_id: Mapping[str, Sequence[str]] | None = None,
    settings: ClusterSettings | None = None,
) -> ClusterResult:
    """Cluster records by the given vectors (normalised here), name and describe each cluster, map them.

    ``vectors`` are one row per id. Analysis passes the *pair* vectors (input + output: what a record
    teaches) by default, or the input vectors with ``cluster_vector="input"`` (what is asked); see
    :class:`curation.analysis.pipeline.AnalysisSettings`. ``texts`` (analysis passes the inputs) name the
    clusters.

    ``labels_by_id`` (a reviewer's label per record) and ``flags_by_id`` (quality flags) fill each
    cluster's label and quality mix.
    """
    settings = settings or ClusterSettings()
    n = len(ids)
    if n == 0:
        return ClusterResult(
            np.zeros(0, dtype=np.int64), np.zeros((0, 2), np.float32), [], "none", {}, "none"
        )
    scores: dict[int, float] = {}
    if settings.k is not None:
        k, chosen_by = min(settings.k, n, max(1, _distinct_rows(vectors))), "user"
    else:
        k, scores = choose_k(vectors, settings)
        chosen_by = "silhouette" if scores else "too few records"
    labels = np.zeros(n, dtype=np.int64) if k <= 1 else _kmeans(vectors, k, settings.seed)
    # Number clusters by size, largest first, so ids read the same way in every report.
    sizes = np.bincount(labels)
    rank = np.empty_like(sizes)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    labels = rank[labels]
    coords, method = map_coordinates(vectors, settings)

    counts = TermCounts()
    counts.add(labels.tolist(), texts)
    terms = counts.top_terms(settings.terms_per_name)
    clusters = describe_clusters(ids, labels, vectors, terms, labels_by_id or {}, flags_by_id or {}, settings)
    centroids = (
        np.stack([vectors[labels == c.id].mean(axis=0) for c in clusters]) if clusters else vectors[:0]
    )
    for info, topic in zip(clusters, group_into_topics(centroids, settings.topic_distance), strict=True):
        info.topic = topic
    return ClusterResult(labels, coords, clusters, chosen_by, scores, method)


def group_into_topics(centroids: np.ndarray, max_distance: float) -> list[int]:
    """Topic id per centroid: average-linkage groups below ``max_distance`` cosine distance.

    Topics are numbered in the order their first centroid appears (clusters come largest first, so
    the largest cluster's topic is 0).
    """
    count = len(centroids)
    if count < 2 or max_distance <= 0:
        return list(range(count))
    from scipy.cluster.hierarchy import fcluster, linkage

    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    unit = centroids / np.where(norms == 0, 1.0, norms)
    tree = linkage(unit.astype(np.float64), method="average", metric="cosine")
    raw = fcluster(tree, t=max_distance, criterion="distance").tolist()
    renumber: dict[int, int] = {}
    return [renumber.setdefault(group, len(renumber)) for group in raw]


def describe_clusters(
    ids: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    terms: Mapping[int, list[str]],
    labels_by_id: Mapping[str, str],
    flags_by_id: Mapping[str, Sequence[str]],
    settings: ClusterSettings,
) -> list[ClusterInfo]:
    """Size, share, examples nearest the centroid, and label and quality mix of each cluster."""
    n = len(ids)
    result = []
    for cluster in range(int(labels.max()) + 1 if n else 0):
        members = np.flatnonzero(labels == cluster).tolist()
        if not len(members):
            continue
        centroid = vectors[members].mean(axis=0)
        order = np.argsort(-(vectors[members] @ centroid), kind="stable")[: settings.examples]
        nearest = [members[j] for j in order.tolist()]
        label_mix = Counter(labels_by_id[ids[i]] for i in members if ids[i] in labels_by_id)
        quality_mix: Counter[str] = Counter()
        for i in members:
            flags = flags_by_id.get(ids[i]) or ["clean"]
            quality_mix.update(flags)
        words = terms.get(cluster) or []
        result.append(
            ClusterInfo(
                id=cluster,
                name=", ".join(words) if words else f"cluster {cluster}",
                terms=words,
                size=len(members),
                share=len(members) / n,
                examples=[ids[i] for i in nearest],
                label_mix=dict(label_mix.most_common()),
                quality_mix=dict(quality_mix.most_common()),
            )
        )
    return result
