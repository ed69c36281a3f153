"""Near-duplicate detection: ours (vectorised MinHash LSH + verification) vs. datasketch MinHashLSH.

Builds N synthetic input → output records (default 100,000) from the Bitext vocabulary (or a
synthetic one when the CSV is absent), plants near-duplicates (copies with 1 to ~10% word edits and
case/punctuation noise), and measures, on the same shingle sets:

- ours: ``curation.dedup.near`` (signatures, banding, exact-Jaccard verification);
- datasketch: ``MinHash.bulk`` + ``MinHashLSH(threshold, num_perm=128)`` with default weights,
  querying every record (its raw candidates), and the same candidates after our verification.

Ground truth: every pair whose true Jaccard (on the same shingles) is ≥ the threshold. Planted
pairs are checked exhaustively; any found pair outside the planted clusters is checked directly, so
a genuine near-duplicate that appears by chance still counts as correct.

Run: ``.venv/bin/python benchmarks/bench_near_dup.py [--n 100000] [--threshold 0.7]``
"""

from __future__ import annotations

import argparse
import csv
import re
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from curation.analysis.dedup.near import NearSettings, _bands_rows, near_pairs_from, signatures
from curation.analysis.dedup.shingles import Shingles, pair_jaccard, shingle_texts

BITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitext_customer_support.csv"


def vocabulary() -> list[str]:
    if BITEXT.exists():
        with BITEXT.open(newline="", encoding="utf-8") as handle:
            words: dict[str, None] = {}
            for row in csv.DictReader(handle):
                for word in re.findall(r"[A-Za-z']+", row["instruction"] + " " + row["response"]):
                    words[word.lower()] = None
        return list(words)
    return [f"w{i}" for i in range(20_000)]


def make_dataset(n: int, dup_share: float, rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """Texts and the planted cluster of each (-1 for originals nobody copied)."""
    vocab = vocabulary()
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    weights /= weights.sum()
    n_dups = int(n * dup_share)
    n_base = n - n_dups

    def sentence(k: int) -> list[str]:
        return [vocab[i] for i in rng.choice(len(vocab), size=k, p=weights)]

    base = [(sentence(int(rng.integers(8, 20))), sentence(int(rng.integers(25, 70)))) for _ in range(n_base)]
    cluster = [-1] * n_base
    texts = [" ".join(i) + "\n" + " ".join(o) for i, o in base]
    sources = rng.integers(0, n_base, size=n_dups)
    for src in sources.tolist():
        words_in, words_out = list(base[src][0]), list(base[src][1])
        words = [*words_in, "\n", *words_out]
        edits = max(1, int(len(words) * rng.uniform(0.0, 0.1)))
        for _ in range(edits):
            pos = int(rng.integers(0, len(words)))
            if words[pos] == "\n":
                continue
            kind = rng.integers(0, 3)
            if kind == 0:
                words[pos] = vocab[int(rng.integers(0, len(vocab)))]
            elif kind == 1 and len(words) > 5:
                del words[pos]
            else:
                words.insert(pos, vocab[int(rng.integers(0, len(vocab)))])
        text = " ".join(words).replace(" \n ", "\n")
        if rng.random() < 0.5:
            text = text.capitalize() + "."
        cluster[src] = src
        texts.append(text)
        cluster.append(src)
    return texts, cluster


def truth_pairs(shingles: Shingles, cluster: list[int], threshold: float) -> set[tuple[int, int]]:
    members: dict[int, list[int]] = {}
    for i, c in enumerate(cluster):
        if c >= 0:
            members.setdefault(c, []).append(i)
    cand = [pair for group in members.values() for pair in combinations(sorted(group), 2)]
    left = np.array([p[0] for p in cand], dtype=np.int64)
    right = np.array([p[1] for p in cand], dtype=np.int64)
    scores = pair_jaccard(shingles, left, right)
    return {p for p, s in zip(cand, scores.tolist(), strict=True) if s >= threshold - 1e-9}


def score(
    found: set[tuple[int, int]], truth: set[tuple[int, int]], shingles: Shingles, threshold: float
) -> tuple[float, float]:
    extra = sorted(found - truth)
    genuine = 0
    if extra:
        left = np.array([p[0] for p in extra], dtype=np.int64)
        right = np.array([p[1] for p in extra], dtype=np.int64)
        genuine = int((pair_jaccard(shingles, left, right) >= threshold - 1e-9).sum())
    correct = len(found & truth) + genuine
    precision = correct / len(found) if found else 1.0
    recall = len(found & truth) / len(truth) if truth else 1.0
    return precision, recall


def run_ours(shingles: Shingles, settings: NearSettings) -> tuple[set[tuple[int, int]], float]:
    ids = [f"{i:08d}" for i in range(len(shingles))]
    start = time.perf_counter()
    sigs = signatures(shingles, settings)
    pairs = near_pairs_from(ids, shingles, sigs, settings)
    elapsed = time.perf_counter() - start
    return {(int(p.a), int(p.b)) for p in pairs}, elapsed


def run_datasketch(shingles: Shingles, threshold: float, num_perm: int) -> tuple[set[tuple[int, int]], float]:
    from datasketch import MinHash, MinHashLSH

    start = time.perf_counter()
    docs = [[v.tobytes() for v in shingles.of(i)] for i in range(len(shingles))]
    minhashes = MinHash.bulk(docs, num_perm=num_perm)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for i, m in enumerate(minhashes):
            if docs[i]:
                session.insert(i, m)
    found: set[tuple[int, int]] = set()
    for i, m in enumerate(minhashes):
        if docs[i]:
            for j in lsh.query(m):
                if j != i:
                    found.add((min(i, j), max(i, j)))
    return found, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--dup-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-datasketch", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    texts, cluster = make_dataset(args.n, args.dup_share, rng)
    settings = NearSettings(threshold=args.threshold)
    t0 = time.perf_counter()
    shingles = shingle_texts(texts, word_ngram=settings.word_ngram, char_ngram=settings.char_ngram)
    shingle_s = time.perf_counter() - t0
    truth = truth_pairs(shingles, cluster, args.threshold)
    bands, rows = _bands_rows(settings)
    print(
        f"{args.n:,} records, {int(shingles.offsets[-1]):,} shingles (shingling {shingle_s:.1f} s, shared), "
        f"{len(truth):,} true pairs at Jaccard ≥ {args.threshold}; ours: {bands} bands × {rows} rows"
    )
    rows_out = []
    found, secs = run_ours(shingles, settings)
    p, r = score(found, truth, shingles, args.threshold)
    rows_out.append(("ours (MinHash LSH + verify)", p, r, secs))
    if not args.skip_datasketch:
        found_ds, secs_ds = run_datasketch(shingles, args.threshold, settings.num_perm)
        p, r = score(found_ds, truth, shingles, args.threshold)
        rows_out.append(("datasketch MinHashLSH (defaults)", p, r, secs_ds))
        t1 = time.perf_counter()
        cand = sorted(found_ds)
        left = np.array([c[0] for c in cand], dtype=np.int64)
        right = np.array([c[1] for c in cand], dtype=np.int64)
        keep = pair_jaccard(shingles, left, right) >= args.threshold - 1e-9 if cand else np.zeros(0, bool)
        verified = {c for c, k in zip(cand, keep.tolist(), strict=True) if k}
        p, r = score(verified, truth, shingles, args.threshold)
        rows_out.append(("datasketch + our verification", p, r, secs_ds + time.perf_counter() - t1))
    ours_secs = rows_out[0][3]
    print("| method | precision | recall | seconds | records/s | time vs. ours |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, p, r, secs in rows_out:
        print(f"| {name} | {p:.4f} | {r:.4f} | {secs:.1f} | {args.n / secs:,.0f} | {secs / ours_secs:.1f}× |")


if __name__ == "__main__":
    main()
