"""Full analysis of the Bitext customer-support set (4,514 records), and clustering quality.

1. `analyze_project` on a fresh project (cold embedding cache), then again after adding 100
   records (only those are embedded). Baseline: plain SentenceTransformer.encode of the same texts
   alone, the floor any pipeline embedding them pays.
2. Clustering quality: adjusted mutual information (AMI) of our clusters against Bitext's 27 intents,
   vs. plain KMeans with the true k=27 on the same input embeddings.

    .venv/bin/python benchmarks/bench_analyze_bitext.py [--csv PATH]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score

from curation import fields
from curation.analyze import analyze_project
from curation.embeddings import get_embedder, record_texts
from curation.model import Record, RecordSource
from curation.project import init_project

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=BITEXT)
    args = parser.parse_args()
    records = load(args.csv)
    held_back, records = records[-100:], records[:-100]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bitext"
        store = init_project(root, "bitext")
        store.upsert_records(records)
        embedder = get_embedder("minilm")

        start = time.perf_counter()
        first = analyze_project(root, embedder=embedder, store=store)
        cold = time.perf_counter() - start
        print(f"analyze, cold: {cold:.1f} s, steps {first.timings}", flush=True)

        store.upsert_records(held_back)
        start = time.perf_counter()
        second = analyze_project(root, embedder=embedder, store=store)
        warm = time.perf_counter() - start
        print(f"analyze after +100: {warm:.1f} s, embedded {second.embedded_texts}", flush=True)

        texts = [t for r in records for t in record_texts(r)]
        start = time.perf_counter()
        embedder._load().encode(texts, batch_size=32, normalize_embeddings=True)
        plain = time.perf_counter() - start

        ids, vectors = store.get_vectors(fields.VECTOR_INPUT)
        by_id = {r.id: r for batch in store.iter_records(batch_size=5000) for r in batch}
        intents = [by_id[i].metadata["intent"] for i in ids]
        ours = [by_id[i].metadata[fields.CLUSTER] for i in ids]
        baseline = KMeans(n_clusters=27, random_state=0, n_init=3).fit_predict(vectors)
        store.close()

    print(f"records: {len(records)} then +{len(held_back)}; embedder {first.embedder}")
    print(f"{'run':<44} {'seconds':>8} {'embedded':>9} {'vs plain':>9}")
    print(f"{'plain encode of inputs+outputs (baseline)':<44} {plain:>8.1f} {len(texts):>9} {'1.00x':>9}")
    print(
        f"{'analyze, cold cache (everything)':<44} {cold:>8.1f} {first.embedded_texts:>9} {cold / plain:>8.2f}x"
    )
    print(f"{'analyze after +100 records':<44} {warm:>8.1f} {second.embedded_texts:>9} {warm / plain:>8.2f}x")
    print("cold-run step timings (s):", first.timings)
    print("warm-run step timings (s):", second.timings)
    print(f"groups: {first.duplicate_groups}, conflicts {first.conflicts}, flags {first.flags}")
    print(f"clusters: {second.clusters} (k by {second.k_chosen_by}), map {second.map_method}")
    ami_ours = adjusted_mutual_info_score(intents, ours)
    ami_base = adjusted_mutual_info_score(intents, baseline)
    print(f"{'clustering vs 27 intents':<44} {'AMI':>8}")
    print(f"{'plain KMeans k=27 (baseline, told the true k)':<44} {ami_base:>8.3f}")
    print(f"{'ours, k chosen automatically':<44} {ami_ours:>8.3f}   ratio {ami_ours / ami_base:.2f}")


if __name__ == "__main__":
    main()
