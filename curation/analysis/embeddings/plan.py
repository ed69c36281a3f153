"""What the analysis embeds, with which model, and why: the embedding plan of a quality mode.

Each decision needs different vectors (docs/curation.md, "Which vectors each step uses"):

- **semantic duplicates** need the sentence model (MiniLM) on every **input** (the neighbour search)
  and on the **outputs of candidate pairs** only: a pair is a duplicate only when its inputs pass
  the threshold first (or both give the same specific answer), so the output of a record with no
  close input is never compared. The decisions are the same as with every output embedded;
- **clusters, the map, diversity and the sampler** need one vector per record of what it teaches,
  the pair vector, whose output side may be coarse: the **static** model
  (curation/analysis/embeddings/static.py), ~200× cheaper than the transformer and reading the
  whole output (measured: clustering Bitext by intent, AMI equal to full quality);
- **exact, near and conflicts** are lexical and need no vectors.

``fast`` (``--quality fast``) follows that; ``full`` (the default) runs the sentence model on every
input and output and builds the pair vectors from those. Full is the default because fast saved no
time on template-made data and made coarser clusters (docs/benchmarks.md, issue 14). How much fast saves depends on the
data: an output is embedded only when its record has a close input, so on organic data most
outputs are skipped, and on template-made data (Bitext: 85 % of records have a near-twin question)
few are (docs/benchmarks.md). Static vectors were measured as the output check too and rejected:
they agree with the transformer on 60-70 % of Bitext's candidate pairs.

Every step below is a pure function over a batch of records (or over merged arrays) whose results
merge by concatenation, so the local pipeline and a distributed engine call the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from curation.analysis.dedup.semantic import CandidatePairs
from curation.analysis.embeddings.cache import EmbedCounts, EmbeddingCache, embed_cached_counts, record_texts
from curation.analysis.embeddings.models import Embedder, OneTimeCost, normalise
from curation.model import Record

Quality = Literal["fast", "full"]


@dataclass
class Models:
    """The embedders a plan uses: ``sentence`` for inputs and decisions, ``static`` for coarse outputs
    (None in full mode)."""

    sentence: Embedder
    static: Embedder | None

    def prepare(self) -> list[OneTimeCost]:
        """Load both models, making once what they need (ONNX export, static distillation)."""
        costs = self.sentence.prepare()
        if self.coarse is not None:
            costs += self.coarse.prepare()
        return costs

    @property
    def coarse(self) -> Embedder | None:
        """The static embedder when it differs from the sentence model (else None: one model does all)."""
        if self.static is None or self.static.key == self.sentence.key:
            return None
        return self.static


@dataclass
class BatchVectors:
    """One batch's vectors, rows in the batch's record order; batches merge by concatenation.

    ``outputs`` are the sentence model's output vectors (full mode) or None (fast: made later, for
    candidates only); ``coarse_outputs`` are what the pair vector's output half is made of.
    """

    inputs: np.ndarray
    coarse_outputs: np.ndarray
    outputs: np.ndarray | None
    counts: EmbedCounts = field(default_factory=EmbedCounts)

    @property
    def pairs(self) -> np.ndarray:
        return pair_vectors(self.inputs, self.coarse_outputs)


def pair_vectors(inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The normalised sum of a record's unit input and output vectors: what a record teaches, close
    to another's only when both sides are. With sides of different dimensions (a custom static
    model), their concatenation, whose cosine is the mean of the two sides' cosines."""
    if inputs.shape[1] == outputs.shape[1]:
        return normalise(inputs + outputs)
    return normalise(np.hstack([inputs, outputs]))


def embed_batch(
    records: Sequence[Record], models: Models, cache: EmbeddingCache | None, quality: Quality
) -> BatchVectors:
    """The per-partition embedding step: inputs with the sentence model, outputs with the sentence
    model (full) or the static one (fast)."""
    inputs = [record_texts(r)[0] for r in records]
    outputs = [record_texts(r)[1] for r in records]
    if quality == "full" or models.coarse is None:
        both, counts = embed_cached_counts([*inputs, *outputs], models.sentence, cache)
        n = len(records)
        return BatchVectors(both[:n], both[n:], both[n:], counts)
    vin, counts = embed_cached_counts(inputs, models.sentence, cache)
    coarse, coarse_counts = embed_cached_counts(outputs, models.coarse, cache)
    return BatchVectors(vin, coarse, None, counts + coarse_counts)


def rows_needing_outputs(candidates: CandidatePairs) -> np.ndarray:
    """Rows whose output the sentence model must embed: both records of every pair whose outputs the
    semantic rule will compare (:meth:`CandidatePairs.rows_to_compare`). Sorted, unique."""
    return np.unique(np.concatenate([candidates.left, candidates.right])).astype(np.int64)


def embed_outputs(
    records: Sequence[Record], embedder: Embedder, cache: EmbeddingCache | None
) -> tuple[np.ndarray, EmbedCounts]:
    """The sentence model's output vectors for ``records`` (one batch of the rows that need them)."""
    return embed_cached_counts([record_texts(r)[1] for r in records], embedder, cache)


@dataclass
class OutputVectors:
    """Decision-grade output vectors for some rows: ``vectors[i]`` is meaningful where ``known[i]``."""

    vectors: np.ndarray
    known: np.ndarray

    @staticmethod
    def complete(vectors: np.ndarray) -> OutputVectors:
        return OutputVectors(vectors, np.ones(len(vectors), dtype=bool))

    @staticmethod
    def scatter(n: int, dim: int, rows: np.ndarray, vectors: np.ndarray) -> OutputVectors:
        """An n-row matrix holding ``vectors`` at ``rows`` (zeros, unknown, elsewhere)."""
        matrix = np.zeros((n, dim), dtype=np.float32)
        known = np.zeros(n, dtype=bool)
        if len(rows):
            matrix[rows] = vectors
            known[rows] = True
        return OutputVectors(matrix, known)


def method_summary(
    models: Models, quality: Quality, cluster_vector: str, records: int, outputs_embedded: int
) -> dict[str, object]:
    """The report's account of which model made which vectors and which vectors each step used."""
    fast = quality == "fast" and models.coarse is not None
    coarse = models.coarse.key if fast and models.coarse is not None else models.sentence.key
    pair = (
        f"{cluster_vector} vectors (input: sentence model; output: {'static' if fast else 'sentence'} model)"
    )
    return {
        "quality": quality,
        "device": models.sentence.device,
        "models": {"inputs": models.sentence.key, "outputs": models.sentence.key, "coarse_outputs": coarse},
        "vectors": {
            "semantic_dedup": "sentence-model inputs; sentence-model outputs"
            + (" of candidate pairs only" if fast else ""),
            "near_dedup": "none (character 4-gram Jaccard of each side)",
            "exact_dedup": "none (normalised text)",
            "conflicts": "none (input Jaccard, output Jaccard and JSON label fields)",
            "clusters": pair,
            "diversity": pair,
        },
        "outputs_embedded": outputs_embedded if fast else records,
    }
