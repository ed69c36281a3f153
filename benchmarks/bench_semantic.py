"""Semantic dedup: time and recall at 10k, 30k and 100k records vs. brute-force all-pairs cosine.

Vectors are synthetic 384-d unit vectors drawn around 200 topic centres (like sentence embeddings of
a support dataset), with 5% of records given a planted paraphrase (cosine ≈ 0.95). The baseline is
the exact answer: every pair with cosine ≥ threshold from a blocked n × n matrix product (numpy).

    .venv/bin/python benchmarks/bench_semantic.py [--sizes 10000 30000 100000] [--baseline-max 100000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from curation.analysis.dedup.semantic import SemanticSettings, semantic_pairs
from curation.analysis.embeddings.models import normalise

DIM, THRESHOLD = 384, 0.92


def synthetic(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    planted = n // 20
    base = n - planted
    centres = rng.normal(size=(200, DIM))
    vectors = centres[rng.integers(0, 200, base)] + rng.normal(scale=1.2, size=(base, DIM))
    originals = rng.choice(base, size=planted, replace=False)
    copies = vectors[originals] + rng.normal(scale=0.35, size=(planted, DIM))
    matrix = normalise(np.vstack([vectors, copies]))
    return [f"r{i:07d}" for i in range(n)], matrix


def brute_force(ids: list[str], matrix: np.ndarray, block: int = 2048) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for start in range(0, len(ids), block):
        scores = matrix[start : start + block] @ matrix.T
        rows, cols = np.nonzero(scores >= THRESHOLD)
        for i, j in zip((rows + start).tolist(), cols.tolist(), strict=True):
            if i < j:
                found.add((ids[i], ids[j]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--baseline-max", type=int, default=100_000)
    args = parser.parse_args()
    print(
        f"{'n':>8} {'ours s':>8} {'pairs':>7} {'recall':>7} {'brute s':>8} {'speed-up':>9} {'ours s/1k':>10}"
    )
    for n in args.sizes:
        ids, matrix = synthetic(n)
        start = time.perf_counter()
        pairs = semantic_pairs(ids, matrix, SemanticSettings(threshold=THRESHOLD))
        ours = time.perf_counter() - start
        found = {(p.a, p.b) for p in pairs}
        if n <= args.baseline_max:
            start = time.perf_counter()
            truth = brute_force(ids, matrix)
            base = time.perf_counter() - start
            recall = len(found & truth) / len(truth) if truth else 1.0
            print(
                f"{n:>8} {ours:>8.2f} {len(found):>7} {recall:>7.3f} {base:>8.2f} {base / ours:>8.1f}x {ours / n * 1000:>10.3f}"
            )
        else:
            print(f"{n:>8} {ours:>8.2f} {len(found):>7} {'-':>7} {'-':>8} {'-':>9} {ours / n * 1000:>10.3f}")


if __name__ == "__main__":
    main()
