"""The embedding cache: a vector is computed once per (model, text) and reused across analyses."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curation.analysis.embeddings.models import Embedder, normalise
from curation.errors import BackendError
from curation.model import Record


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by (embedder key, sha256 of the text) in one SQLite file; ``None`` path = in memory."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path) if self.path else ":memory:", timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, hash TEXT NOT NULL, "
                "dim INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID"
            )
            self._conn.commit()
        except sqlite3.Error as exc:
            raise BackendError(
                f"cannot open the embedding cache {self.path}: {exc}; delete it to rebuild"
            ) from exc

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 900):
            chunk = unique[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for h, _dim, data in self._conn.execute(
                f"SELECT hash, dim, data FROM embeddings WHERE model=? AND hash IN ({marks})", [model, *chunk]
            ):
                found[h] = np.frombuffer(data, dtype=np.float32)
        return found

    def put_many(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (model, h, int(vectors.shape[1]), vectors[i].astype(np.float32).tobytes())
            for i, h in enumerate(hashes)
        ]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?,?)", rows)

    def count(self, model: str | None = None) -> int:
        if model is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
        return int(
            self._conn.execute("SELECT COUNT(*) FROM embeddings WHERE model=?", (model,)).fetchone()[0]
        )

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class EmbedCounts:
    """Distinct texts of one call: embedded now, and found in the cache (cache hits).

    A text repeated within the call (a constant reply shared by many records) counts once, in
    whichever of the two it falls: reusing it is neither an embedding nor a cache hit.
    """

    embedded: int = 0
    cached: int = 0

    def __add__(self, other: EmbedCounts) -> EmbedCounts:
        return EmbedCounts(self.embedded + other.embedded, self.cached + other.cached)


def embed_cached_counts(
    texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None
) -> tuple[np.ndarray, EmbedCounts]:
    """Vectors for ``texts``, embedding only distinct texts not in the cache; with the counts."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32), EmbedCounts()
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(embedder.key, hashes) if cache is not None else {}
    hits = len(known)
    missing: dict[str, str] = {}
    for h, text in zip(hashes, texts, strict=True):
        if h not in known and h not in missing:
            missing[h] = text
    if missing:
        fresh = embedder.embed(list(missing.values()))
        if cache is not None:
            cache.put_many(embedder.key, list(missing), fresh)
        known.update(zip(missing, fresh, strict=True))
    matrix = np.stack([known[h] for h in hashes]).astype(np.float32, copy=False)
    return matrix, EmbedCounts(embedded=len(missing), cached=hits)


def embed_cached(
    texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``, embedding only texts not in the cache (each distinct text once).

    Returns (matrix, how many texts were embedded now).
    """
    matrix, counts = embed_cached_counts(texts, embedder, cache)
    return matrix, counts.embedded


def record_texts(record: Record) -> tuple[str, str]:
    """The texts embedded for a record: its input (the chat turns, without the system prompt) and its
    output. A system prompt is shared by many records and often long: embedded with the input it
    would fill the model's 128-token window and make every input look alike, so dedup compares it
    for equality instead (curation.analysis.dedup.sides)."""
    return record.input_text, record.output


def embed_records(
    records: Sequence[Record], embedder: Embedder, cache: EmbeddingCache | None
) -> tuple[dict[str, np.ndarray], EmbedCounts]:
    """Input, output and pair vectors for one batch of records (a mergeable, per-partition step).

    The pair vector is the normalised sum of the input and output vectors: it is high only when both
    sides are alike, and costs no third pass of the model over long concatenated texts.
    Returns ({VECTOR_INPUT: m, VECTOR_OUTPUT: m, VECTOR_PAIR: m}, distinct texts embedded / cached).
    """
    from curation.metadata_keys import VECTOR_INPUT, VECTOR_OUTPUT, VECTOR_PAIR

    inputs, outputs = zip(*(record_texts(r) for r in records), strict=True) if records else ((), ())
    both, counts = embed_cached_counts([*inputs, *outputs], embedder, cache)
    n = len(records)
    vin, vout = both[:n], both[n:]
    return {VECTOR_INPUT: vin, VECTOR_OUTPUT: vout, VECTOR_PAIR: normalise(vin + vout)}, counts
