"""Full analysis of the Bitext customer-support set: full (the default) vs fast quality, and semhash.

All in one process, runs interleaved (fast, full, fast by default) so that a machine whose load
changes during the run affects both modes alike; the table gives each mode's seconds and the
ratio of their means.

1. One-time costs first, outside the timed runs: the ONNX export and the static model's
   distillation (cached per model; their seconds are read from the cache and shown apart).
2. `analyze_project` on a fresh project (cold embedding cache) per run: `--quality full` (every
   input and output through MiniLM on ONNX Runtime: the default) and `--quality fast` (MiniLM on every input and on the outputs of candidate pairs; static
   vectors for the clusters' output side). Then fast again after adding 100 records.
3. What each finds: semantic pairs (fast must find exactly full's), groups, conflicts, and
   clustering AMI against Bitext's 27 intents: the analysis's own clusters, and k-means with k
   chosen as the analysis chooses it under three seeds (the choice of k moves AMI by ±0.03), next
   to plain KMeans told the true k=27.
4. The float32 arithmetic floor of what each mode embeds (tokens × MiniLM's multiply-adds ÷ the
   best matrix-multiply speed numpy reaches here): the fastest any float32 runtime could go.
5. The peer, semhash 0.5 (`SemHash.from_records(..., columns=[instruction, response])`,
   `self_deduplicate()` at its default threshold 0.9), with the model2vec model distilled from
   MiniLM (its default, potion-base-8M, needs the model hub): seconds, records it would drop, and
   the share of its duplicate pairs whose two records have different intents (never copies).
6. An organic set for contrast: LLaMA-Factory's Alpaca demo (999 records, no template), fast vs full.

    nice -n 5 .venv/bin/python benchmarks/bench_analyze_bitext.py [--csv PATH] [--rounds fast full fast]
        [--no-semhash] [--no-alpaca | --alpaca-only]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score

from curation import metadata_keys
from curation.analysis.clusters import ClusterSettings, _kmeans, choose_k
from curation.analysis.embeddings.cache import record_texts
from curation.analysis.embeddings.models import default_model_path, get_embedder
from curation.analysis.pipeline import AnalysisReport, AnalysisSettings, analyze_project
from curation.model import Record, RecordSource
from curation.project import init_project, open_store

BITEXT = Path("/work/shared/data/bitext_customer_support.csv")


def load(path: Path) -> list[Record]:
    """A simple loader (not the importer): instruction → input, response → output."""
    with path.open(encoding="utf-8") as handle:
        return [
            Record(
                id=f"bt-{row_number:05d}",
                input=row["instruction"],
                output=row["response"],
                metadata={"intent": row["intent"], "category": row["category"]},
                source=RecordSource(file=path.name, row=row_number),
            )
            for row_number, row in enumerate(csv.DictReader(handle), start=1)
        ]


def alpaca_records() -> list[Record] | None:
    """The Alpaca demo set as records (None when it is not fetched)."""
    try:
        from benchmarks.public_sets import rows

        found = rows("alpaca-en-demo")
    except (FileNotFoundError, KeyError):
        return None
    return [
        Record(
            id=f"al-{n:04d}",
            input="\n".join(x for x in (row.get("instruction"), row.get("input")) if x),
            output=str(row.get("output") or ""),
            source=RecordSource(file="alpaca_en_demo.json", row=n),
        )
        for n, row in enumerate(found, start=1)
    ]


def float32_floor_seconds(texts: list[str]) -> tuple[float, int, float]:
    """(seconds at peak matmul speed, tokens, GFLOP/s): a lower bound for any float32 embedding."""
    from tokenizers import Tokenizer

    model = default_model_path()
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(128)
    lengths = np.array([len(e.ids) for e in tokenizer.encode_batch(texts)]) if texts else np.zeros(1)
    hidden, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    # Per token and layer: Q, K, V and output projections, the two feed-forward matrices, and
    # attention scores + weighted sum over the text's own length.
    flops = (
        2
        * layers
        * ((4 * hidden * hidden + 2 * hidden * inner) * lengths.sum() + 2 * hidden * (lengths**2).sum())
    )
    a = np.random.default_rng(0).random((4096, hidden), dtype=np.float32)
    b = np.random.default_rng(1).random((hidden, inner), dtype=np.float32)
    a @ b
    start = time.perf_counter()
    for _ in range(20):
        a @ b
    gflops = 20 * 2 * a.shape[0] * hidden * inner / (time.perf_counter() - start) / 1e9
    return float(flops / (gflops * 1e9)), int(lengths.sum()), gflops


def semantic_pairs(root: Path) -> set[tuple[str, str]]:
    doc = json.loads((root / "analysis" / "duplicates.json").read_text(encoding="utf-8"))
    return {
        (min(p["a"], p["b"]), max(p["a"], p["b"]))
        for group in doc["groups"]
        for p in group["pairs"]
        if p["tier"] == "semantic"
    }


def fresh_project(root: Path, records: Sequence[Record]) -> Path:
    store = init_project(root, root.name)
    store.upsert_records(list(records))
    store.close()
    return root


def timed_run(root: Path, quality: str) -> tuple[float, AnalysisReport]:
    start = time.perf_counter()
    report = analyze_project(root, settings=AnalysisSettings(quality=quality))  # type: ignore[arg-type]
    return time.perf_counter() - start, report


def ami_by_seed(root: Path, intents: dict[str, str]) -> list[float]:
    """AMI of k-means over the stored pair vectors, k chosen as the analysis does, seeds 0-2."""
    store = open_store(root)
    ids, vectors = store.get_vectors(metadata_keys.VECTOR_PAIR)
    store.close()
    truth = [intents[i] for i in ids]
    out = []
    for seed in (0, 1, 2):
        settings = ClusterSettings(seed=seed)
        k, _ = choose_k(vectors, settings)
        out.append(float(adjusted_mutual_info_score(truth, _kmeans(vectors, k, seed))))
    return out


def pipeline_ami(root: Path, intents: dict[str, str]) -> float:
    """AMI of the analysis's own clusters (seed 0) against the intents."""
    store = open_store(root)
    labels = {r.id: r.metadata[metadata_keys.CLUSTER] for b in store.iter_records(batch_size=5000) for r in b}
    store.close()
    return float(adjusted_mutual_info_score([intents[i] for i in labels], list(labels.values())))


def run_semhash(records: Sequence[Record]) -> dict[str, Any]:
    from semhash import SemHash

    static = get_embedder("static")
    static.prepare()
    model = static._load()  # type: ignore[attr-defined]  # the model2vec StaticModel itself
    rows = [{"id": r.id, "instruction": r.input_text, "response": r.output} for r in records]
    start = time.perf_counter()
    semhash = SemHash.from_records(rows, columns=["instruction", "response"], model=model)
    result = semhash.self_deduplicate()
    seconds = time.perf_counter() - start
    intent = {r.id: r.metadata["intent"] for r in records}
    pairs = [(d.record["id"], d.duplicate_of["id"]) for d in result.filtered]
    cross = sum(intent[a] != intent[b] for a, b in pairs)
    return {
        "seconds": seconds,
        "dropped": len(result.filtered),
        "pairs": len(pairs),
        "cross_intent": cross / max(1, len(pairs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=BITEXT)
    parser.add_argument("--rounds", nargs="+", default=["fast", "full", "fast"], choices=["fast", "full"])
    parser.add_argument("--no-semhash", action="store_true")
    parser.add_argument("--no-alpaca", action="store_true")
    parser.add_argument("--alpaca-only", action="store_true", help="Only the Alpaca contrast (step 6)")
    args = parser.parse_args()
    if args.alpaca_only:
        alpaca_contrast()
        return
    records = load(args.csv)
    held_back, records = records[-100:], records[:-100]
    intents = {r.id: r.metadata["intent"] for r in records + held_back}
    print(f"load average at start: {os.getloadavg()}", flush=True)

    # 1. One-time costs, outside the timed runs.
    start = time.perf_counter()
    costs = get_embedder("minilm").prepare() + get_embedder("static").prepare()
    print(f"one-time work + model loads: {time.perf_counter() - start:.1f} s", flush=True)
    for cost in costs:
        print(f"  {cost.what}: {cost.seconds} s when made ({'made now' if cost.made_now else 'cached'})")

    runs: dict[str, list[tuple[float, AnalysisReport, Path]]] = {"fast": [], "full": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n, quality in enumerate(args.rounds):
            root = fresh_project(Path(tmp) / f"{quality}-{n}", records)
            seconds, report = timed_run(root, quality)
            runs[quality].append((seconds, report, root))
            print(
                f"analyze, cold cache, {quality} (round {n + 1}): {seconds:.1f} s, load {os.getloadavg()[0]:.1f}, "
                f"outputs through MiniLM {report.method.outputs_embedded}/{report.records}, steps {report.timings}",
                flush=True,
            )
        fast_root = runs["fast"][0][2]
        found = {q: semantic_pairs(r[0][2]) for q, r in runs.items() if r}
        ami = {q: ami_by_seed(r[0][2], intents) for q, r in runs.items() if r}
        ami_pipeline = {q: pipeline_ami(r[0][2], intents) for q, r in runs.items() if r}

        store = open_store(fast_root)
        store.upsert_records(held_back)
        start = time.perf_counter()
        again = analyze_project(fast_root, store=store, settings=AnalysisSettings(quality="fast"))
        warm = time.perf_counter() - start
        ids, inputs = store.get_vectors(metadata_keys.VECTOR_INPUT)
        store.close()
        baseline = KMeans(n_clusters=27, random_state=0, n_init=3).fit_predict(inputs)
        baseline_ami = adjusted_mutual_info_score([intents[i] for i in ids], baseline)

    texts = [t for r in records for t in record_texts(r)]
    fast_report = runs["fast"][0][1]
    full_floor, tokens, gflops = float32_floor_seconds(texts)
    fast_texts = [r.input_text for r in records]
    # The outputs fast embedded: those of candidate pairs (exactly outputs_embedded records).
    fast_floor_inputs, _, _ = float32_floor_seconds(fast_texts)
    share = fast_report.method.outputs_embedded / max(1, fast_report.records)
    fast_floor = fast_floor_inputs + share * (full_floor - fast_floor_inputs)

    mean = {q: float(np.mean([s for s, _, _ in r])) for q, r in runs.items() if r}
    print(f"\nrecords: {len(records)} then +{len(held_back)}; load average now {os.getloadavg()}")
    print("| run | seconds (each round) | mean | outputs through MiniLM | vs full |")
    print("|---|---|---:|---:|---:|")
    for quality in ("full", "fast"):
        if not runs[quality]:
            continue
        each = ", ".join(f"{s:.1f}" for s, _, _ in runs[quality])
        report = runs[quality][0][1]
        ratio = mean["full"] / mean[quality] if "full" in mean else float("nan")
        print(
            f"| analyze, cold cache, {quality} | {each} | {mean[quality]:.1f} | "
            f"{report.method.outputs_embedded}/{report.records} | {ratio:.2f}× faster |"
        )
    print(f"| fast after adding 100 records | {warm:.1f} | | {again.embedded_texts} texts embedded | |")
    print(
        f"| float32 floor, everything (full) | {full_floor:.1f} | | {tokens:,} tokens at {gflops:.0f} GFLOP/s | |"
    )
    print(f"| float32 floor, what fast embeds | {fast_floor:.1f} | | inputs + {share:.0%} of outputs | |")

    print("\n| what each finds | semantic pairs | same as full | groups | conflicts | clusters |")
    print("|---|---:|---|---|---:|---:|")
    for quality, run in runs.items():
        if not run:
            continue
        report = run[0][1]
        same = found[quality] == found.get("full", found[quality])
        groups = ", ".join(f"{t} {n}" for t, n in sorted(report.duplicate_groups.items()))
        print(
            f"| {quality} | {len(found[quality])} | {'yes' if same else 'NO'} | {groups} | "
            f"{report.conflicts} | {report.clusters} |"
        )
    print("\n| clustering vs 27 intents | AMI |")
    print("|---|---:|")
    print(f"| plain KMeans k=27 on input vectors (told the true k) | {baseline_ami:.3f} |")
    for quality, value in ami_pipeline.items():
        print(f"| {quality}: the analysis's clusters | {value:.3f} |")
    for quality, values in ami.items():
        print(
            f"| {quality}: k chosen as the analysis does, seeds 0-2 | "
            f"{', '.join(f'{v:.3f}' for v in values)} (mean {np.mean(values):.3f}) |"
        )

    if not args.no_semhash:
        peer = run_semhash(records)
        ours = fast_report
        print("\n| Bitext dedup | seconds | records dropped or grouped | cross-intent share of its pairs |")
        print("|---|---:|---:|---:|")
        print(
            f"| semhash 0.5, threshold 0.9 (default), static model | {peer['seconds']:.1f} | "
            f"{peer['dropped']} dropped | {peer['cross_intent']:.3f} |"
        )
        print(
            f"| ours, fast: whole analysis | {mean['fast']:.1f} | {ours.records_in_duplicate_groups} in groups; "
            f"export drops {sum(n for t, n in ours.duplicate_groups.items() if t in ('exact', 'near'))} "
            "exact/near groups' copies | see docs |"
        )

    if not args.no_alpaca:
        alpaca_contrast()


def alpaca_contrast() -> None:
    """Step 6: fast vs full on the Alpaca demo (organic: few records have a close input)."""
    alpaca = alpaca_records()
    if alpaca is None:
        print("\nAlpaca demo not fetched: python -m benchmarks.public_sets fetch alpaca-en-demo")
        return
    print(f"\nload average: {os.getloadavg()}")
    print("| Alpaca demo (999 organic records) | seconds | outputs through MiniLM |")
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n, quality in enumerate(("fast", "full", "fast")):
            seconds, report = timed_run(fresh_project(Path(tmp) / f"al-{n}", alpaca), quality)
            print(
                f"| {quality} (round {n + 1}) | {seconds:.1f} | "
                f"{report.method.outputs_embedded}/{report.records} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
