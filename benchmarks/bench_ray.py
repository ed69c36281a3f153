"""The analysis on Ray at 100k, 300k and 1M synthetic pairs, and the local engine at 100k, in one run.

For each size: synthetic pairs with planted exact, near and paraphrase copies
(benchmarks/synthetic_pairs.py) are imported into a fresh project, then analysed with
``--engine ray`` on a local Ray cluster this script starts (`ray start --head`, 127.0.0.1, two CPUs:
this machine) and stops. Recorded per run:

- time per stage (the report's timings) and in total;
- peak resident memory of the driver (this process, sampled during the run, minus what it held
  before) and of every process of the cluster (sampled every 0.5 s; the largest worker and the sum);
- recall of the planted copies: the share of planted copies that share a duplicate group with the
  record they copy, per kind (exact, near, paraphrase);
- the local engine on the 100k set in the same run (same embedder, same thresholds).

The embedder is the model-free ``hashing`` embedder unless ``--embedder`` names another: MiniLM on
two CPU cores embeds about 150 texts a second, so 1M pairs (2M texts) would take hours.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_ray.py [--sizes 100000 300000 1000000] [--local-at 100000]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.synthetic_pairs import make_pairs
from curation import metadata_keys as F
from curation.analysis.embeddings.models import get_embedder
from curation.analysis.engines import run_analysis
from curation.analysis.engines.local_cluster import group_memory, local_cluster
from curation.importing.importer import import_file
from curation.project import init_project, open_store


def rss_of_self() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    """Peak RSS of this process and of every process of the cluster's group, every 0.5 s."""

    def __init__(self, pgid: int | None) -> None:
        super().__init__(daemon=True)
        self.pgid = pgid
        self.driver = 0
        self.workers: dict[int, tuple[str, int]] = {}
        self.total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.driver = max(self.driver, rss_of_self())
            if self.pgid is not None:
                now = group_memory(self.pgid)
                self.total = max(self.total, sum(r for _, r in now.values()))
                for pid, (name, rss) in now.items():
                    if rss > self.workers.get(pid, ("", 0))[1]:
                        self.workers[pid] = (name, rss)
            self.stop.wait(0.5)


def build(root: Path, n: int, seed: int) -> tuple[Any, dict[str, float]]:
    pairs = make_pairs(n, seed=seed)
    store = init_project(root, root.name)
    with tempfile.TemporaryDirectory() as tmp:
        source = pairs.write_jsonl(Path(tmp) / "pairs.jsonl")
        start = time.perf_counter()
        import_file(store, source, quarantine_dir=root / "quarantine", batch_size=5000)
        seconds = time.perf_counter() - start
    store.close()
    return pairs, {"import": seconds}


def recall(root: Path, pairs: Any) -> dict[str, float]:
    """Share of planted copies in the same duplicate group as the record they copy, per kind."""
    store = open_store(root)
    group_of: list[str | None] = []
    for batch in store.iter_records(batch_size=20_000):
        group_of.extend(r.metadata.get(F.DUP_GROUP) for r in batch)
    store.close()
    found: dict[str, list[bool]] = {}
    for i, source in enumerate(pairs.planted.tolist()):
        if source < 0:
            continue
        same = group_of[i] is not None and group_of[i] == group_of[source]
        found.setdefault(pairs.kinds[i], []).append(same)
    return {kind: round(float(np.mean(hits)), 4) for kind, hits in sorted(found.items())}


def analyse(root: Path, engine: str, address: str | None, embedder: str, pgid: int | None) -> dict[str, Any]:
    base = rss_of_self()
    sampler = Sampler(pgid)
    sampler.start()
    start = time.perf_counter()
    report = run_analysis(root, engine=engine, address=address, embedder=get_embedder(embedder))
    total = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    largest = max(sampler.workers.values(), key=lambda item: item[1], default=("-", 0))
    return {
        "seconds": round(total, 1),
        "timings": report.timings,
        "driver_peak_mib": round((sampler.driver - base) / 2**20),
        "driver_rss_mib": round(sampler.driver / 2**20),
        "largest_worker_mib": round(largest[1] / 2**20),
        "largest_worker": largest[0],
        "cluster_peak_mib": round(sampler.total / 2**20),
        "groups": report.duplicate_groups,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument(
        "--local-at", type=int, default=100_000, help="Also run the local engine at this size"
    )
    parser.add_argument("--embedder", default="hashing")
    parser.add_argument("--workdir", type=Path, default=None, help="Where projects go (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="Also write the results as JSON here")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    checkout = str(Path(__file__).resolve().parents[1])
    with (
        tempfile.TemporaryDirectory(dir=args.workdir) as tmp,
        local_cluster(num_cpus=os.cpu_count() or 2, env={"PYTHONPATH": checkout}) as (address, pgid),
    ):
        for n in args.sizes:
            root = Path(tmp) / f"ray-{n}"
            pairs, built = build(root, n, seed=n)
            row = {"engine": "ray", "records": n, "import_s": round(built["import"], 1)}
            row |= analyse(root, "ray", address, args.embedder, pgid)
            row["recall"] = recall(root, pairs)
            results.append(row)
            print(json.dumps(row), flush=True)
            if n == args.local_at:
                local_root = Path(tmp) / f"local-{n}"
                build(local_root, n, seed=n)
                local = {"engine": "local", "records": n} | analyse(
                    local_root, "local", None, args.embedder, None
                )
                local["recall"] = recall(local_root, pairs)
                results.append(local)
                print(json.dumps(local), flush=True)
            for folder in root.parent.glob(f"*-{n}"):
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print(
        f"{'engine':<7}{'records':>10}{'total s':>9}{'s / 100k':>9}{'driver MiB':>11}{'worker MiB':>11}  recall"
    )
    for row in results:
        per = row["seconds"] / row["records"] * 100_000
        worker = row.get("largest_worker_mib", 0)
        print(
            f"{row['engine']:<7}{row['records']:>10,}{row['seconds']:>9.0f}{per:>9.0f}"
            f"{row['driver_peak_mib']:>11}{worker:>11}  {row['recall']}"
        )
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
