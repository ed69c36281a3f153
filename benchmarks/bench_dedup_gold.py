"""Dedup tiers on public gold pairs: pair precision / recall / F1, next to the plain baselines.

Every gold set (benchmarks/public_sets/duplicate_pairs.py: questions, sentences, near-verbatim) is
scored by, in the same run:

- **semantic tier** (ours): :func:`curation.analysis.dedup.semantic.semantic_verdicts` on the pair,
  with a constant reply ("Thanks, routing your request.") as every record's output, exactly as the
  pipeline calls it; and again with **no** output, which must give the same figures;
- **old rule**: the previous semantic tier (cosine of the normalised input + output vector ≥ 0.82,
  outputs ≥ 0.95, equal numbers), with the same constant output: what the issue measured;
- **plain cosine**: ``SentenceTransformer(all-MiniLM-L6-v2).encode(normalize_embeddings=True)`` on
  the two inputs, at the tier's threshold and at the tier's recall (best precision of any
  threshold reaching that recall);
- **near tier** (ours): :func:`curation.analysis.dedup.near.near_verdicts` (character 4-grams,
  inputs and outputs judged separately);
- **datasketch**: ``MinHashLSH(threshold=<near threshold>, num_perm=128)`` over word sets (as in its
  README), a pair counts as found when querying one text returns the other.

A second table composes **two-sided** gold records from two gold pairs (record A = (p.a, q.a),
record B = (p.b, q.b): a duplicate only when both p and q are paraphrases) and compares rules for
combining the input and output similarity at matched recall: the data behind "input AND output".

Embedding strategies are a registry (``EMBEDDINGS``): a later benchmark of faster embedders adds
one entry and gets the same tables. Vectors are cached in ``$PAIRSMITH_CACHE/benchmarks/embeddings.sqlite``.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_dedup_gold.py [--sets mrpc mqp ...] [--sample N]
[--embedding minilm ...]`` (fetch the sets first: ``python -m benchmarks.public_sets fetch NAME``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from benchmarks.public_sets import cached_dir, rows
from curation.analysis.dedup.near import NearSettings, near_verdicts
from curation.analysis.dedup.semantic import SemanticSettings, same_answer, semantic_verdicts
from curation.analysis.dedup.sides import RecordSides, numbers_agree, record_sides
from curation.analysis.embeddings.cache import EmbeddingCache, embed_cached
from curation.analysis.embeddings.models import get_embedder, normalise
from curation.files import user_cache_dir
from curation.model import Record

GOLD_SETS = ("mqp", "mrpc", "pan-paraphrase", "jfleg-typos")
CONSTANT_REPLY = "Thanks, routing your request."


@dataclass
class Gold:
    """One gold set as unique texts and labelled pairs of text rows."""

    name: str
    texts: list[str]
    left: np.ndarray
    right: np.ndarray
    labels: np.ndarray  # 1 = duplicate

    @staticmethod
    def load(name: str, sample: int | None = None, seed: int = 0) -> Gold:
        pairs = rows(name)
        if sample and sample < len(pairs):
            pick = np.random.default_rng(seed).choice(len(pairs), size=sample, replace=False)
            pairs = [pairs[i] for i in sorted(pick.tolist())]
        index: dict[str, int] = {}
        for p in pairs:
            for text in (p["a"], p["b"]):
                index.setdefault(text, len(index))
        return Gold(
            name,
            list(index),
            np.array([index[p["a"]] for p in pairs]),
            np.array([index[p["b"]] for p in pairs]),
            np.array([int(p["label"]) for p in pairs]),
        )


# --- embedding strategies (a registry: add one to compare it on the same gold sets) ----------------


def _ours(name: str, **settings: object) -> Callable[[list[str]], np.ndarray]:
    cache = EmbeddingCache(user_cache_dir("benchmarks") / "embeddings.sqlite")
    embedder = get_embedder(name, **settings)

    def embed(texts: list[str]) -> np.ndarray:
        return embed_cached(texts, embedder, cache)[0]

    return embed


def _plain_sentence_transformers() -> Callable[[list[str]], np.ndarray]:
    from sentence_transformers import SentenceTransformer

    from curation.packaged_models import minilm_model_path

    model = SentenceTransformer(str(minilm_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True), dtype=np.float32)

    return embed


EMBEDDINGS: dict[str, Callable[[], Callable[[list[str]], np.ndarray]]] = {
    "minilm": lambda: _ours("minilm"),
    "minilm-int8": lambda: _ours("minilm", precision="int8"),
    "minilm-256": lambda: _ours("minilm", max_seq_length=256),
    # The static model fast analysis uses for the clusters' output side: too coarse for inputs.
    "static": lambda: _ours("static"),
}
"""Our embedder settings to compare; the plain sentence-transformers baseline is always run."""


# --- scoring ---------------------------------------------------------------------------------------


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    predicted: int

    @staticmethod
    def of(decision: np.ndarray, labels: np.ndarray) -> Scores:
        tp = int((decision & (labels == 1)).sum())
        predicted = int(decision.sum())
        p = tp / predicted if predicted else 1.0
        r = tp / max(int(labels.sum()), 1)
        return Scores(p, r, 2 * p * r / (p + r) if p + r else 0.0, predicted)

    def cell(self) -> str:
        return f"{self.precision:.3f} / {self.recall:.3f} / {self.f1:.3f}"


def precision_at_recall(similarity: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """Interpolated precision: the best precision any threshold on ``similarity`` reaches with
    recall ≥ ``recall`` (pairs scored -inf are never predicted)."""
    order = np.argsort(-similarity, kind="stable")
    hits = np.cumsum(labels[order] == 1)
    precision = hits / np.arange(1, len(order) + 1)
    reached = (hits / max(int(labels.sum()), 1) >= recall - 1e-9) & np.isfinite(similarity[order])
    return float(precision[reached].max()) if reached.any() else 0.0


@dataclass
class Sides:
    """The gold texts as records with a given reply, and their vectors."""

    sides: RecordSides
    inputs: np.ndarray
    outputs: np.ndarray | None
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def constant_reply_sides(
    gold: Gold, vectors: np.ndarray, reply_vector: np.ndarray | None, near: NearSettings
) -> Sides:
    records = [Record(input=t, output=CONSTANT_REPLY) for t in gold.texts]
    sides = record_sides(records, word_ngram=near.word_ngram, char_ngram=near.char_ngram)
    outputs = None if reply_vector is None else np.repeat(reply_vector[None, :], len(gold.texts), axis=0)
    return Sides(sides, vectors, outputs)


def semantic_decision(gold: Gold, s: Sides, settings: SemanticSettings) -> tuple[np.ndarray, np.ndarray]:
    """(decision, curve score) of the semantic tier on each gold pair; the curve score is the input
    cosine where every other condition holds, -inf where one vetoes the pair (so sweeping the input
    threshold traces the tier's precision-recall curve)."""
    left, right = gold.left, gold.right
    in_sim = np.einsum("ij,ij->i", s.inputs[left], s.inputs[right])
    out_sim = None if s.outputs is None else np.einsum("ij,ij->i", s.outputs[left], s.outputs[right])
    decision = semantic_verdicts(
        in_sim,
        out_sim,
        numbers_agree(s.sides.numbers, left, right),
        s.sides.systems[left] == s.sides.systems[right],
        settings,
        same_answer(s.sides, left, right, settings),
    )
    rest = semantic_verdicts(
        np.ones(len(left)),
        out_sim,
        numbers_agree(s.sides.numbers, left, right),
        s.sides.systems[left] == s.sides.systems[right],
        settings,
    )
    return decision, np.where(rest, in_sim, -np.inf)


def old_rule(gold: Gold, s: Sides) -> np.ndarray:
    """The previous semantic tier: pair vector (input + output) ≥ 0.82, outputs ≥ 0.95, equal numbers."""
    assert s.outputs is not None
    pair = normalise(s.inputs + s.outputs)
    left, right = gold.left, gold.right
    equal_numbers = np.array(
        [s.sides.numbers[i] == s.sides.numbers[j] for i, j in zip(left.tolist(), right.tolist(), strict=True)]
    )
    return (np.einsum("ij,ij->i", pair[left], pair[right]) >= 0.82) & equal_numbers


def _compare(ours: float, baseline: float) -> str:
    """≥, or ≈ within 0.0005 (our vectors are cut at 128 tokens, the plain baseline's at 256)."""
    if ours >= baseline:
        return "≥"
    return "≈" if baseline - ours < 5e-4 else "<"


def datasketch_found(gold: Gold, threshold: float) -> np.ndarray:
    """Per pair: querying MinHashLSH with one text returns the other (word sets, num_perm=128)."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = []
    for n, text in enumerate(gold.texts):
        m = MinHash(num_perm=128)
        m.update_batch([w.encode("utf-8") for w in set(text.lower().split())])
        hashes.append(m)
        lsh.insert(n, m)
    return np.array(
        [int(b) in lsh.query(hashes[a]) for a, b in zip(gold.left.tolist(), gold.right.tolist(), strict=True)]
    )


def two_sided(gold: Gold, vectors: np.ndarray, seed: int = 1) -> dict[str, tuple[float, float]]:
    """Rules combining input and output similarity on composed two-sided gold records.

    Pairs p and q of the set become records A = (p.a, q.a) and B = (p.b, q.b); A and B are
    duplicates only when both p and q are. Returns rule → (recall, precision at best F1).
    """
    rng = np.random.default_rng(seed)
    p = np.arange(len(gold.labels))
    q = rng.permutation(len(gold.labels))
    truth = (gold.labels[p] == 1) & (gold.labels[q] == 1)
    cin = np.einsum("ij,ij->i", vectors[gold.left[p]], vectors[gold.right[p]])
    cout = np.einsum("ij,ij->i", vectors[gold.left[q]], vectors[gold.right[q]])
    pair_a = normalise(vectors[gold.left[p]] + vectors[gold.left[q]])
    pair_b = normalise(vectors[gold.right[p]] + vectors[gold.right[q]])
    rules = {
        "pair vector (input + output)": np.einsum("ij,ij->i", pair_a, pair_b),
        "input only": cin,
        "input AND output (min)": np.minimum(cin, cout),
        "mean of input and output": (cin + cout) / 2,
    }
    out = {}
    for name, score in rules.items():
        order = np.argsort(-score)
        hits = np.cumsum(truth[order])
        precision = hits / np.arange(1, len(order) + 1)
        recall = hits / max(int(truth.sum()), 1)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
        best = int(f1.argmax())
        out[name] = (float(recall[best]), float(precision[best]), float(f1[best]))
    return out


def run(
    sets: Sequence[str],
    embeddings: Sequence[str],
    sample: int | None,
    semantic: SemanticSettings,
    near: NearSettings,
) -> None:
    plain = _plain_sentence_transformers()
    strategies = {name: EMBEDDINGS[name]() for name in embeddings}
    print(
        f"semantic tier: input ≥ {semantic.threshold}, output ≥ {semantic.output_threshold}, numbers must not "
        f"contradict; near tier: char {near.char_ngram}-grams, Jaccard ≥ {near.threshold} on each side"
    )
    header = "| set | pairs (dup) | method | P / R / F1 | interpolated P at that R: tier vs plain cosine |"
    print(header)
    print("|" + "---|" * 5)
    sided: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name in sets:
        if cached_dir(name) is None:
            print(f"| {name} | not fetched: python -m benchmarks.public_sets fetch {name} | | | |")
            continue
        gold = Gold.load(name, sample)
        label = f"{name} | {len(gold.labels)} ({int(gold.labels.sum())})"
        start = time.perf_counter()
        baseline = plain(gold.texts)
        plain_sim = np.einsum("ij,ij->i", baseline[gold.left], baseline[gold.right])
        plain_s = time.perf_counter() - start
        at_threshold = Scores.of(plain_sim >= semantic.threshold, gold.labels)
        print(
            f"| {label} | plain cosine ≥ {semantic.threshold} ({plain_s:.0f} s) | {at_threshold.cell()} | |"
        )
        for strategy, embed in strategies.items():
            start = time.perf_counter()
            vectors = embed(gold.texts)
            seconds = time.perf_counter() - start
            reply = embed([CONSTANT_REPLY])[0]
            with_reply = constant_reply_sides(gold, vectors, reply, near)
            decision, curve = semantic_decision(gold, with_reply, semantic)
            tier = Scores.of(decision, gold.labels)
            tier_p = precision_at_recall(curve, gold.labels, tier.recall)
            alone = Scores.of(
                semantic_decision(gold, constant_reply_sides(gold, vectors, None, near), semantic)[0],
                gold.labels,
            )
            same = "same" if alone == tier else f"DIFFERENT without output: {alone.cell()}"
            baseline_p = precision_at_recall(plain_sim, gold.labels, tier.recall)
            print(
                f"| {label} | semantic tier, {strategy} ({seconds:.0f} s; {same}) | {tier.cell()} | "
                f"{tier_p:.4f} {_compare(tier_p, baseline_p)} {baseline_p:.4f} |"
            )
            levels = " · ".join(
                f"R {r}: {precision_at_recall(curve, gold.labels, r):.3f} vs {precision_at_recall(plain_sim, gold.labels, r):.3f}"
                for r in (0.4, 0.5, 0.6, 0.7)
            )
            print(f"| {label} | curve, {strategy}: tier vs plain cosine | {levels} | |")
            print(
                f"| {label} | old rule (pair vector ≥ 0.82), {strategy} | {Scores.of(old_rule(gold, with_reply), gold.labels).cell()} | |"
            )
            if strategy == embeddings[0]:
                sided[name] = two_sided(gold, vectors)
        near_keep, _, _ = near_verdicts(with_reply.sides, gold.left, gold.right, near)
        print(f"| {label} | near tier | {Scores.of(near_keep, gold.labels).cell()} | |")
        start = time.perf_counter()
        found = datasketch_found(gold, near.threshold)
        print(
            f"| {label} | datasketch MinHashLSH({near.threshold}), word sets ({time.perf_counter() - start:.0f} s) "
            f"| {Scores.of(found, gold.labels).cell()} | |"
        )
    if sided:
        print(
            "\nTwo-sided gold records (both sides from gold pairs; duplicate only when both are): "
            "best F1 of each rule"
        )
        print("| set | rule | recall | precision | F1 |")
        print("|---|---|---|---|---|")
        for name, rules in sided.items():
            for rule, (r, p, f) in rules.items():
                print(f"| {name} | {rule} | {r:.3f} | {p:.3f} | {f:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(GOLD_SETS))
    parser.add_argument("--embedding", nargs="+", default=["minilm"], choices=sorted(EMBEDDINGS))
    parser.add_argument("--sample", type=int, default=None, help="Pairs per set (default: all)")
    parser.add_argument("--threshold", type=float, default=None, help="Semantic input threshold")
    args = parser.parse_args()
    semantic = SemanticSettings()
    if args.threshold is not None:
        semantic = semantic.model_copy(update={"threshold": args.threshold})
    run(args.sets, args.embedding, args.sample, semantic, NearSettings())


if __name__ == "__main__":
    main()
