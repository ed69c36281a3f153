"""Fast vs full analysis on public gold pairs, and the peer semhash, in one run.

The gold sets (mqp, mrpc, pan-paraphrase, jfleg-typos; benchmarks/public_sets/duplicate_pairs.py)
are scored two ways:

1. **As the sets come** (one text per record, a constant reply as output, as bench_dedup_gold.py
   does): the semantic tier with every output embedded (full) and with outputs embedded only for
   pairs whose inputs pass the threshold (fast, through the analysis's own
   ``CandidatePairs.rows_to_compare`` and ``rows_needing_outputs``).
2. **Two-sided records**, where the output matters: gold pairs p and q become records A = (p.a,
   q.a) and B = (p.b, q.b), duplicates only when both p and q are (as in bench_dedup_gold.py's
   second table). Output strategies: full (MiniLM on every output), fast (MiniLM on the outputs of
   candidate pairs only), and, measured and rejected, static vectors deciding the output side at
   0.85 and at the threshold where they pass as many pairs as MiniLM does at 0.85.

The peer, **semhash 0.5**: ``SemHash.from_records(texts, model=...).self_deduplicate(threshold)``
on each set's texts; a pair counts as found when both texts end up with the same kept record. Its
default model (potion-base-8M) needs the model hub, so it gets the model2vec model distilled from
MiniLM (the same recipe); at its default threshold 0.9, and at the one threshold (0.70-0.95) with
the best mean F1 over the four sets (chosen on the gold labels, so a generous pick). Times: semhash
end to end; ours, MiniLM embedding the set's texts with no cache (timed on the first 1,000 and
scaled: the tier itself takes milliseconds).

    nice -n 5 .venv/bin/python benchmarks/bench_fast_gold.py [--sets ...] [--sample 4000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.bench_dedup_gold import (
    CONSTANT_REPLY,
    GOLD_SETS,
    Gold,
    Scores,
    constant_reply_sides,
    semantic_decision,
)
from benchmarks.public_sets import cached_dir
from curation.analysis.dedup.near import NearSettings
from curation.analysis.dedup.semantic import CandidatePairs, SemanticSettings
from curation.analysis.embeddings.cache import EmbeddingCache, embed_cached
from curation.analysis.embeddings.models import get_embedder
from curation.analysis.embeddings.plan import rows_needing_outputs
from curation.files import user_cache_dir

SEMHASH_THRESHOLDS = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def fast_outputs(
    left: np.ndarray, right: np.ndarray, in_sim: np.ndarray, outputs: np.ndarray, settings: SemanticSettings
) -> tuple[np.ndarray, np.ndarray, int]:
    """(output cosine per pair, as fast mode sees it, -inf where it embedded no output; outputs
    embedded): the rows come from the analysis's own candidate selection."""
    candidates = CandidatePairs(left, right, in_sim.astype(np.float32))
    rows = rows_needing_outputs(candidates.rows_to_compare(settings))
    known = np.zeros(len(outputs), dtype=bool)
    known[rows] = True
    cosine = np.einsum("ij,ij->i", outputs[left], outputs[right])
    return np.where(known[left] & known[right], cosine, -np.inf), known, len(rows)


def two_sided_rows(
    gold: Gold, vectors: np.ndarray, static: np.ndarray, settings: SemanticSettings
) -> list[str]:
    """The two-sided table's rows for one set."""
    rng = np.random.default_rng(1)
    p = np.arange(len(gold.labels))
    q = rng.permutation(len(gold.labels))
    truth = (gold.labels[p] == 1) & (gold.labels[q] == 1)
    # Records: A_k = (left[p_k], left[q_k]), B_k = (right[p_k], right[q_k]); rows 0..n-1 are A, n.. are B.
    n = len(p)
    inputs = np.vstack([vectors[gold.left[p]], vectors[gold.right[p]]])
    outputs = np.vstack([vectors[gold.left[q]], vectors[gold.right[q]]])
    coarse = np.vstack([static[gold.left[q]], static[gold.right[q]]])
    left, right = np.arange(n), np.arange(n, 2 * n)
    in_sim = np.einsum("ij,ij->i", inputs[left], inputs[right])
    full_out = np.einsum("ij,ij->i", outputs[left], outputs[right])
    fast_out, _, embedded = fast_outputs(left, right, in_sim, outputs, settings)
    static_out = np.einsum("ij,ij->i", coarse[left], coarse[right])
    t_in, t_out = settings.threshold, settings.output_threshold or 0.0
    passing = (full_out >= t_out).mean()
    matched = float(np.quantile(static_out, 1 - passing))
    rows = [
        ("full: MiniLM on every output", Scores.of((in_sim >= t_in) & (full_out >= t_out), truth), 2 * n),
        (
            "fast: MiniLM on candidate pairs' outputs",
            Scores.of((in_sim >= t_in) & (fast_out >= t_out), truth),
            embedded,
        ),
        (
            f"rejected: static outputs ≥ {t_out}",
            Scores.of((in_sim >= t_in) & (static_out >= t_out), truth),
            0,
        ),
        (
            f"rejected: static outputs ≥ {matched:.3f} (passes as many as MiniLM)",
            Scores.of((in_sim >= t_in) & (static_out >= matched), truth),
            0,
        ),
    ]
    return [
        f"| {gold.name} two-sided ({int(truth.sum())} dup of {n}) | {name} | {s.cell()} | {m} of {2 * n} |"
        for name, s, m in rows
    ]


def semhash_found(gold: Gold, model: object, threshold: float) -> tuple[np.ndarray, float]:
    """Per gold pair: both texts kept as, or dropped for, the same record; and the seconds taken."""
    from semhash import SemHash

    start = time.perf_counter()
    result = SemHash.from_records(list(gold.texts), model=model).self_deduplicate(threshold=threshold)
    seconds = time.perf_counter() - start
    canonical = {t: t for t in result.selected}
    canonical.update({d.record: d.duplicate_of for d in result.filtered})
    found = np.array(
        [
            canonical.get(gold.texts[a]) == canonical.get(gold.texts[b])
            for a, b in zip(gold.left.tolist(), gold.right.tolist(), strict=True)
        ]
    )
    return found, seconds


def run(sets: Sequence[str], sample: int | None, cold_texts: int) -> None:
    settings = SemanticSettings()
    near = NearSettings()
    cache = EmbeddingCache(user_cache_dir("benchmarks") / "embeddings.sqlite")
    minilm = get_embedder("minilm")
    static_embedder = get_embedder("static")
    static_embedder.prepare()
    static_model = static_embedder._load()  # type: ignore[attr-defined]  # the model2vec StaticModel
    print(f"semantic tier: input ≥ {settings.threshold}, output ≥ {settings.output_threshold}")
    print("| set | method | P / R / F1 | outputs through MiniLM |")
    print("|---|---|---|---|")
    sided: list[str] = []
    peer: dict[str, dict[float, tuple[Scores, float]]] = {}
    ours_seconds: dict[str, float] = {}
    golds: dict[str, Gold] = {}
    for name in sets:
        if cached_dir(name) is None:
            print(f"| {name} | not fetched: python -m benchmarks.public_sets fetch {name} | | |")
            continue
        gold = Gold.load(name, sample)
        golds[name] = gold
        # What an analysis pays the first time: MiniLM on every text, timed on the first
        # ``cold_texts`` (cold, no cache) and scaled to the set (texts in the set's own order).
        timed = gold.texts[:cold_texts]
        fresh = get_embedder("minilm")
        fresh.prepare()  # loading the model is not embedding
        start = time.perf_counter()
        cold = fresh.embed(timed)
        ours_seconds[name] = (time.perf_counter() - start) * len(gold.texts) / max(1, len(timed))
        vectors, _ = embed_cached(gold.texts, minilm, cache)
        assert np.allclose(cold, vectors[: len(timed)], atol=1e-4)
        reply = embed_cached([CONSTANT_REPLY], minilm, cache)[0][0]
        full_sides = constant_reply_sides(gold, vectors, reply, near)
        full_decision, _ = semantic_decision(gold, full_sides, settings)
        # fast: outputs only for the rows of pairs whose inputs pass; the others' output cosine is
        # unknown, which the rule treats as "outputs differ".
        in_sim = np.einsum("ij,ij->i", vectors[gold.left], vectors[gold.right])
        assert full_sides.outputs is not None
        fast_out, known, embedded = fast_outputs(gold.left, gold.right, in_sim, full_sides.outputs, settings)
        fast_sides = constant_reply_sides(gold, vectors, reply, near)
        fast_sides.outputs = np.where(known[:, None], full_sides.outputs, 0.0).astype(np.float32)
        fast_decision = semantic_decision(gold, fast_sides, settings)[0] & np.isfinite(fast_out)
        n_texts = len(gold.texts)
        label = f"{name} ({len(gold.labels)} pairs, {int(gold.labels.sum())} dup)"
        print(f"| {label} | full | {Scores.of(full_decision, gold.labels).cell()} | {n_texts} of {n_texts} |")
        print(
            f"| {label} | fast | {Scores.of(fast_decision, gold.labels).cell()} | {embedded} of {n_texts} |"
        )
        static = static_embedder.embed(gold.texts)
        sided += two_sided_rows(gold, vectors, static, settings)
        peer[name] = {}
        for threshold in SEMHASH_THRESHOLDS:
            found, seconds = semhash_found(gold, static_model, threshold)
            peer[name][threshold] = (Scores.of(found, gold.labels), seconds)
        tier_seconds = ours_seconds[name]
        print(
            f"| {label} | ours: MiniLM on the texts, cold (scaled from {len(timed)}) | {tier_seconds:.1f} s | |"
        )
    print("\n| two-sided records | output strategy | P / R / F1 | outputs through MiniLM |")
    print("|---|---|---|---|")
    for row in sided:
        print(row)
    if not peer:
        return
    best = max(SEMHASH_THRESHOLDS, key=lambda t: float(np.mean([peer[n][t][0].f1 for n in peer])))
    print(f"\nsemhash 0.5 (static model distilled from MiniLM); best mean-F1 threshold over the sets: {best}")
    print(
        "| set | semhash default 0.9: P / R / F1 (s) | semhash at best mean F1 | ours, semantic tier (fast) |"
    )
    print("|---|---|---|---|")
    for name, scores in peer.items():
        gold = golds[name]
        vectors, _ = embed_cached(gold.texts, minilm, cache)
        reply = embed_cached([CONSTANT_REPLY], minilm, cache)[0][0]
        ours = Scores.of(
            semantic_decision(gold, constant_reply_sides(gold, vectors, reply, near), settings)[0],
            gold.labels,
        )
        default, seconds = scores[0.9]
        chosen, chosen_s = scores[best]
        print(
            f"| {name} | {default.cell()} ({seconds:.1f} s) | {chosen.cell()} ({chosen_s:.1f} s) | "
            f"{ours.cell()} ({ours_seconds[name]:.1f} s embedding) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(GOLD_SETS))
    parser.add_argument("--sample", type=int, default=4000, help="Pairs per set (default 4000, as the docs)")
    parser.add_argument(
        "--cold-texts", type=int, default=1000, help="Texts MiniLM embeds cold per set, timed"
    )
    args = parser.parse_args()
    run(args.sets, args.sample, args.cold_texts)


if __name__ == "__main__":
    main()
