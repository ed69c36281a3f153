"""Full analysis of the Bitext customer-support set (4,514 records), and clustering quality.

1. `analyze_project` on a fresh project (cold embedding cache) with each embedding backend: ONNX
   Runtime float32 (the default), PyTorch float32 (sentence-transformers, the previous default) and
   ONNX int8 (opt-in). Then the default again after adding 100 records (only those are embedded).
   Baseline: plain SentenceTransformer.encode of the same texts alone, the floor any PyTorch pipeline
   embedding them pays.
2. What each backend finds, against PyTorch float32: duplicate pairs, clusters, conflicts, and the
   share of PyTorch's semantic pairs each one finds too.
3. The arithmetic floor: the model's multiply-adds for these texts (tokens at 128 per text, counted
   with the model's tokenizer) divided by the best float32 matrix-multiply speed numpy reaches on
   this machine in the same run. No float32 runtime embeds faster than that.
4. Clustering quality: adjusted mutual information (AMI) of our clusters against Bitext's 27 intents,
   vs. plain KMeans with the true k=27 on the same input embeddings.

    .venv/bin/python benchmarks/bench_analyze_bitext.py [--csv PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score

from curation import metadata_keys
from curation.analysis.embeddings.cache import record_texts
from curation.analysis.embeddings.models import default_model_path, get_embedder
from curation.analysis.pipeline import AnalysisReport, AnalysisSettings, analyze_project
from curation.model import Record, RecordSource
from curation.project import init_project, open_store

BITEXT = Path("/work/shared/data/bitext_customer_support.csv")
BACKENDS: dict[str, dict[str, Any]] = {
    "onnx fp32 (default)": {},
    "torch fp32 (previous default)": {"backend": "torch"},
    "onnx int8 (opt-in)": {"precision": "int8"},
}


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


def float32_floor_seconds(texts: list[str]) -> tuple[float, int, float]:
    """(seconds at peak matmul speed, tokens, GFLOP/s): a lower bound for any float32 embedding."""
    from tokenizers import Tokenizer

    model = default_model_path()
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(128)
    lengths = np.array([len(e.ids) for e in tokenizer.encode_batch(texts)])
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=BITEXT)
    args = parser.parse_args()
    records = load(args.csv)
    held_back, records = records[-100:], records[:-100]
    texts = [t for r in records for t in record_texts(r)]
    with tempfile.TemporaryDirectory() as tmp:
        # One-time costs, outside the timed runs: the ONNX export (cached per model) and model loads.
        start = time.perf_counter()
        for settings in BACKENDS.values():
            get_embedder("minilm", **settings).embed(["warm up"])
        print(f"one-time ONNX export + model loads: {time.perf_counter() - start:.1f} s", flush=True)

        start = time.perf_counter()
        get_embedder("minilm", backend="torch")._load().encode(
            texts, batch_size=32, normalize_embeddings=True
        )
        plain = time.perf_counter() - start
        print(f"plain encode: {plain:.1f} s", flush=True)

        floor, tokens, gflops = float32_floor_seconds(texts)
        runs: dict[str, tuple[float, AnalysisReport, Path]] = {}
        for name, embedder_settings in BACKENDS.items():
            root = Path(tmp) / name.split()[0] / name.split()[1]
            created = init_project(root, "bitext")
            created.upsert_records(records)
            created.close()
            settings = AnalysisSettings(embedder_settings=embedder_settings)
            start = time.perf_counter()
            report = analyze_project(root, settings=settings)  # a new process's path: loads the model
            runs[name] = (time.perf_counter() - start, report, root)
            print(f"analyze, cold, {name}: {runs[name][0]:.1f} s, steps {report.timings}", flush=True)

        default_root = runs["onnx fp32 (default)"][2]

        store = open_store(default_root)
        store.upsert_records(held_back)
        start = time.perf_counter()
        second = analyze_project(default_root, store=store)
        warm = time.perf_counter() - start

        ids, vectors = store.get_vectors(metadata_keys.VECTOR_INPUT)
        by_id = {r.id: r for batch in store.iter_records(batch_size=5000) for r in batch}
        intents = [by_id[i].metadata["intent"] for i in ids]
        ours = [by_id[i].metadata[metadata_keys.CLUSTER] for i in ids]
        baseline = KMeans(n_clusters=27, random_state=0, n_init=3).fit_predict(vectors)
        store.close()
        reference = semantic_pairs(runs["torch fp32 (previous default)"][2])
        found = {name: semantic_pairs(root) for name, (_, _, root) in runs.items()}

    print(f"\nrecords: {len(records)} then +{len(held_back)}; {len(texts)} texts (inputs + outputs)")
    print(f"{'run':<52} {'seconds':>8} {'embedded':>9} {'vs plain':>9}")
    print(f"{'plain SentenceTransformer.encode (baseline)':<52} {plain:>8.1f} {len(texts):>9} {'1.00x':>9}")
    for name, (seconds, report, _) in runs.items():
        label = f"analyze, cold cache, {name}"
        print(f"{label:<52} {seconds:>8.1f} {report.embedded_texts:>9} {seconds / plain:>8.2f}x")
    print(
        f"{'analyze after +100 records (default)':<52} {warm:>8.1f} {second.embedded_texts:>9} {warm / plain:>8.2f}x"
    )
    print(
        f"{'float32 arithmetic floor (embedding only)':<52} {floor:>8.1f} {len(texts):>9} {floor / plain:>8.2f}x"
        f"  ({tokens:,} tokens at {gflops:.0f} GFLOP/s, numpy's best matmul here)"
    )
    for name, (_, report, _) in runs.items():
        print(f"step timings, {name} (s): {report.timings}")
    print(
        f"\n{'what each backend finds':<32} {'sem. pairs':>10} {'of torch':>9} {'groups':>22} {'confl.':>7} {'clusters':>9}"
    )
    for name, (_, report, _) in runs.items():
        share = len(found[name] & reference) / max(1, len(reference))
        groups = ", ".join(f"{t} {n}" for t, n in sorted(report.duplicate_groups.items()))
        print(
            f"{name:<32} {len(found[name]):>10} {share:>9.3f} {groups:>22} {report.conflicts:>7} {report.clusters:>9}"
        )
    ami_ours = adjusted_mutual_info_score(intents, ours)
    ami_base = adjusted_mutual_info_score(intents, baseline)
    print(f"\n{'clustering vs 27 intents (default backend)':<52} {'AMI':>8}")
    print(f"{'plain KMeans k=27 (baseline, told the true k)':<52} {ami_base:>8.3f}")
    print(f"{'ours, k chosen automatically':<52} {ami_ours:>8.3f}   ratio {ami_ours / ami_base:.2f}")


if __name__ == "__main__":
    main()
