"""Embedding throughput: pairsmith's cached embedder vs. plain SentenceTransformer.encode.

Both run the bundled all-MiniLM-L6-v2 on the same Bitext texts (instructions and responses) with the
same truncation (128 tokens, pairsmith's default). "ours, cold" starts from an empty cache (it also
embeds each distinct text once) on the default backend (ONNX Runtime, float32; same vectors);
"ours, int8" is the opt-in approximate precision, with its mean and worst cosine to the plain
vectors; "ours, warm" re-runs against the filled cache, as a re-analysis after an import does.

    .venv/bin/python benchmarks/bench_embeddings.py [--rows 1000]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from curation.analysis.embeddings.cache import EmbeddingCache, embed_cached
from curation.analysis.embeddings.models import default_model_path, get_embedder

BITEXT = Path("/work/shared/data/bitext_customer_support.csv")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--max-seq-length", type=int, default=128)
    args = parser.parse_args()
    with BITEXT.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[: args.rows]
    texts = [r["instruction"] for r in rows] + [r["response"] for r in rows]

    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(str(default_model_path()), device="cpu")
    plain.max_seq_length = args.max_seq_length
    plain.encode(texts[:32])  # warm-up, for both sides alike
    start = time.perf_counter()
    reference = plain.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    baseline = time.perf_counter() - start

    embedder = get_embedder("minilm", max_seq_length=args.max_seq_length)
    embedder.embed(texts[:32])
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "cache.sqlite")
        start = time.perf_counter()
        _, fresh = embed_cached(texts, embedder, cache)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        _, again = embed_cached(texts, embedder, cache)
        warm = time.perf_counter() - start
        cache.close()
        int8 = get_embedder("minilm", max_seq_length=args.max_seq_length, precision="int8")
        int8.embed(texts[:32])
        start = time.perf_counter()
        int8_vectors, _ = embed_cached(texts, int8, EmbeddingCache(None))
        int8_time = time.perf_counter() - start
    cosine = (int8_vectors * reference).sum(axis=1)

    n = len(texts)
    print(f"{len(texts)} texts ({fresh} distinct), max_seq_length {args.max_seq_length}, batch 32, 2 threads")
    print(f"{'run':<28} {'seconds':>8} {'texts/s':>9} {'vs plain':>9}")
    print(f"{'plain encode (baseline)':<28} {baseline:>8.2f} {n / baseline:>9.1f} {'1.00x':>9}")
    print(f"{'ours, cold cache':<28} {cold:>8.2f} {n / cold:>9.1f} {baseline / cold:>8.2f}x")
    print(
        f"{'ours, int8, cold cache':<28} {int8_time:>8.2f} {n / int8_time:>9.1f} {baseline / int8_time:>8.2f}x"
        f"  (cosine to plain: mean {cosine.mean():.4f}, min {cosine.min():.4f})"
    )
    print(
        f"{'ours, warm cache':<28} {warm:>8.2f} {n / warm:>9.1f} {baseline / warm:>8.0f}x  ({again} embedded)"
    )


if __name__ == "__main__":
    main()
