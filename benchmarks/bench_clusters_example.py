"""Clustering quality on the bundled example: AMI of our clusters against the planted categories.

The example (460 customer-support records of a plant shop) plants a `category` in its outputs
(refund_request, shipping_delay, ...); AMI is measured on the 448 records whose output names one
(the 12 planted empty, truncated or malformed outputs have none; they are still clustered). After a
full `analyze_project`, this compares, on the pair vectors (what a record teaches, the default) and
on the input vectors (what is asked):

- ours: `cluster_records` with k chosen automatically (the analysis' clusters for pair vectors);
- baseline: plain scikit-learn KMeans told the true number of categories, same vectors.

Run per embedding backend (ONNX float32, the default, and PyTorch float32): these are the figures
docs/curation.md quotes.

    .venv/bin/python benchmarks/bench_clusters_example.py [--backends onnx torch]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score

from curation import metadata_keys
from curation.analysis.clusters import cluster_records
from curation.analysis.embeddings.cache import record_texts
from curation.analysis.embeddings.models import normalise
from curation.analysis.pipeline import AnalysisSettings, analyze_project
from curation.importing.example_project import create_example_project
from curation.project import open_store


def category(output: str) -> str | None:
    """The planted category an output names, or None (the planted broken outputs)."""
    try:
        found = json.loads(output).get("category")
    except (ValueError, AttributeError):
        return None
    return str(found) if found else None


def measure(backend: str) -> list[tuple[str, int, float, float]]:
    """(vectors, k chosen, AMI ours, AMI plain KMeans at the true k) for pair and input vectors."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fernway"
        create_example_project(root).close()
        analyze_project(root, settings=AnalysisSettings(embedder_settings={"backend": backend}))
        store = open_store(root)
        records = {r.id: r for batch in store.iter_records() for r in batch}
        rows = []
        for name in (metadata_keys.VECTOR_PAIR, metadata_keys.VECTOR_INPUT):
            ids, vectors = store.get_vectors(name)
            truth = [category(records[i].output) for i in ids]
            scored = [k for k, c in enumerate(truth) if c is not None]
            planted = [truth[k] for k in scored]
            if name == metadata_keys.VECTOR_PAIR:  # the analysis clustered these: read its result
                ours = [int(records[i].metadata[metadata_keys.CLUSTER]) for i in ids]
            else:
                texts = [record_texts(records[i])[0] for i in ids]
                ours = cluster_records(ids, vectors, texts).labels.tolist()
            true_k = len(set(planted))
            plain = KMeans(n_clusters=true_k, random_state=0, n_init=10).fit_predict(normalise(vectors))
            rows.append(
                (
                    name,
                    len(set(ours)),
                    float(adjusted_mutual_info_score(planted, [ours[k] for k in scored])),
                    float(adjusted_mutual_info_score(planted, [plain[k] for k in scored])),
                )
            )
        store.close()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["onnx", "torch"], choices=["onnx", "torch"])
    args = parser.parse_args()
    results = {backend: measure(backend) for backend in args.backends}
    print(f"{'backend':<8} {'vectors':<8} {'k':>4} {'AMI ours':>9} {'AMI KMeans true k':>18} {'ratio':>6}")
    for backend, rows in results.items():
        for name, k, ours, plain in rows:
            print(f"{backend:<8} {name:<8} {k:>4} {ours:>9.3f} {plain:>18.3f} {ours / plain:>6.2f}")
    spread = np.array([[r[2] for r in rows] for rows in results.values()])
    print(
        f"AMI range over backends: pair {spread[:, 0].min():.3f}-{spread[:, 0].max():.3f}, "
        f"input {spread[:, 1].min():.3f}-{spread[:, 1].max():.3f}"
    )


if __name__ == "__main__":
    main()
