"""Issue 14's last lever, measured: judge candidate outputs on a shorter window of tokens.

On Bitext, 85 % of the records have an input within cosine 0.85 of another's, so the semantic rule
must compare most outputs, and the outputs hold 91 % of the tokens (docs/benchmarks.md, issue 14).
What is left to cut is the length at which an output is read. This script embeds, with the
analysis's own MiniLM embedder (ONNX, cold, no cache):

- every input at 128 tokens (inputs are short: the window does not matter for them);
- every output at 128 tokens: today's full quality, the reference;
- the outputs of the candidate pairs only (both records of every pair of inputs at cosine ≥ 0.85)
  at 64 and at 32 tokens;

and compares the semantic-tier decisions (input ≥ 0.85 and output ≥ 0.85) at each window with the
128-token ones: precision and recall of the pairs, and the share of pairs that join two different
intents (Bitext labels each record with one of 27). Seconds are embedding seconds; the analysis's
other steps (~15 s on Bitext on a quiet machine, issue 3) come on top, the same for every window.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_output_window.py [--csv PATH]``
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.curation_value_tasks import bitext_path
from curation.analysis.embeddings.models import get_embedder

THRESHOLD = 0.85


def timed_embed(texts: list[str], window: int) -> tuple[np.ndarray, float]:
    embedder = get_embedder("minilm", max_seq_length=window)
    embedder.embed(["warm up the session"])  # model load and ONNX session start are not embedding
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - started


def pair_set(left: np.ndarray, right: np.ndarray, outputs: np.ndarray) -> set[tuple[int, int]]:
    similarity = np.einsum("ij,ij->i", outputs[left], outputs[right])
    keep = similarity >= THRESHOLD
    return set(zip(left[keep].tolist(), right[keep].tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=None, help="Bitext CSV (default: ../shared/data)")
    parser.add_argument("--windows", type=int, nargs="+", default=[64, 32])
    args = parser.parse_args()
    with (args.csv or bitext_path()).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    inputs = [r["instruction"] for r in rows]
    outputs = [r["response"] for r in rows]
    intents = np.array([r["intent"] for r in rows])

    vin, t_in = timed_embed(inputs, 128)
    similarity = vin @ vin.T
    left, right = np.nonzero(np.triu(similarity >= THRESHOLD, k=1))
    candidates = np.unique(np.concatenate([left, right]))
    print(f"{len(rows):,} records, {len(left):,} candidate pairs, {len(candidates):,} outputs to compare")

    vout, t_all = timed_embed(outputs, 128)
    reference = pair_set(left, right, vout)
    full_s = t_in + t_all
    results = [("128 (full: every output)", len(rows), t_all, reference)]
    for window in args.windows:
        part, seconds = timed_embed([outputs[i] for i in candidates], window)
        scattered = np.zeros_like(vout)
        scattered[candidates] = part
        results.append(
            (f"{window} (candidate outputs only)", len(candidates), seconds, pair_set(left, right, scattered))
        )

    print(f"\ninputs at 128 tokens: {t_in:.1f} s\n")
    print(
        f"{'output window':<28} {'outputs':>8} {'output s':>9} {'embed s':>8} {'vs full':>8} "
        f"{'pairs':>7} {'P vs 128':>9} {'R vs 128':>9} {'cross-intent':>13}"
    )
    for name, count, seconds, pairs in results:
        hits = len(pairs & reference)
        cross = sum(intents[a] != intents[b] for a, b in pairs) / max(len(pairs), 1)
        print(
            f"{name:<28} {count:>8,} {seconds:>9.1f} {t_in + seconds:>8.1f} {full_s / (t_in + seconds):>7.2f}x "
            f"{len(pairs):>7,} {hits / max(len(pairs), 1):>9.3f} {hits / max(len(reference), 1):>9.3f} {cross:>13.3f}"
        )


if __name__ == "__main__":
    main()
