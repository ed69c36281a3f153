"""The local store at a million records: import, then the calls a reviewer and an exporter make first.

Builds a project from ``--records`` synthetic pairs (benchmarks/synthetic_pairs.py) through the real
importer (a JSONL file, `pairsmith import`'s code path), writes analysis-like metadata (clusters,
flags, duplicate groups of the planted copies) through ``update_metadata`` the way analysis does,
adds a few thousand reviews, then times:

- the first page of the review queue (pending, the reviewer's own, import order, 200 ids): the
  Review page's first load; goal < 200 ms;
- ``stats`` (:func:`curation.review.stats.project_stats`, what `pairsmith stats` prints); goal < 2 s;
- ``export --dry-run`` (:func:`training.clean_set.select_clean_set` with unreviewed records included,
  and its summary).

Each has a plain-sqlite3 baseline from the same file: the least SQL that answers the same
question (a LIMIT over an index, one aggregate scan, one full read of the columns export needs).

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_store_1m.py [--records 1000000] [--keep DIR]``
(``--keep`` reuses a project built by an earlier run and only measures).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.synthetic_pairs import make_pairs
from curation import metadata_keys as F
from curation.importing.importer import import_file
from curation.model import LABEL_QUESTION, Response, ResponseStatus, User
from curation.project import init_project, open_store
from curation.review.queue import QueueFilters, build_queue
from curation.review.stats import project_stats
from curation.store.base import RecordStore
from training.clean_set import select_clean_set
from training.export_config import ExportConfig

REVIEWER = "ann"


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def build_project(root: Path, n: int) -> dict[str, float]:
    """Import ``n`` synthetic pairs and write analysis-like metadata and some reviews; step timings."""
    timings: dict[str, float] = {}
    pairs = make_pairs(n, seed=7)
    store = init_project(root, "bench-1m")
    store.add_user(User(name=REVIEWER, role="annotator"))
    store.add_user(User(name="bo", role="annotator"))
    with tempfile.TemporaryDirectory() as tmp:
        source = pairs.write_jsonl(Path(tmp) / "pairs.jsonl")
        start = time.perf_counter()
        report = import_file(store, source, quarantine_dir=root / "quarantine", batch_size=5000)
        timings["import"] = time.perf_counter() - start
    assert report.imported == n, report
    ids = [r.id for batch in store.iter_records(batch_size=20_000) for r in batch]
    start = time.perf_counter()
    batch_size = 5000
    for begin in range(0, n, batch_size):
        updates: dict[str, dict[str, Any]] = {}
        for i in range(begin, min(n, begin + batch_size)):
            meta: dict[str, Any] = {
                F.CLUSTER: int(pairs.intents[i]),
                F.CLUSTER_NAME: f"intent {int(pairs.intents[i])}",
                F.FLAGS: ["pii"] if i % 97 == 0 else [],
                F.INPUT_CHARS: len(pairs.inputs[i]),
                F.OUTPUT_CHARS: len(pairs.outputs[i]),
            }
            source_row = int(pairs.planted[i])
            if source_row >= 0:
                meta |= {F.DUP_GROUP: f"dup-{source_row}", F.DUP_TIER: pairs.kinds[i], F.DUP_SCORE: 0.9}
            updates[ids[i]] = meta
        store.update_metadata(updates)
    keepers = sorted({int(s) for s in pairs.planted.tolist() if s >= 0})
    for begin in range(0, len(keepers), batch_size):
        chunk = keepers[begin : begin + batch_size]
        store.update_metadata(
            {ids[i]: {F.DUP_GROUP: f"dup-{i}", F.DUP_KEEPER: "yes", F.DUP_TIER: "exact"} for i in chunk}
        )
    timings["write analysis metadata"] = time.perf_counter() - start
    for k in range(min(5000, n // 7)):
        for user in (REVIEWER, "bo") if k % 5 == 0 else (REVIEWER,):
            store.save_response(
                Response(
                    record_id=ids[k * 7],
                    user=user,
                    values={LABEL_QUESTION: "good" if k % 4 else "bad"},
                    status=ResponseStatus.submitted,
                )
            )
    store.close()
    return timings


def plain_baselines(db: Path) -> dict[str, float]:
    """The least plain SQL answering each question, on the same file."""
    conn = sqlite3.connect(db)
    out = {}
    out["queue"], _ = timed(
        lambda: conn.execute(
            "SELECT id, input, output, metadata FROM records r WHERE NOT EXISTS (SELECT 1 FROM responses s "
            "WHERE s.record_id = r.id AND s.user = ? AND s.status IN ('submitted','discarded')) "
            "ORDER BY position LIMIT 200",
            (REVIEWER,),
        ).fetchall()
    )
    out["stats"], _ = timed(
        lambda: conn.execute(
            "SELECT COUNT(*), SUM(golden), AVG(length(input_text)), AVG(length(output)) FROM records"
        ).fetchall()
    )
    out["dry_run"], _ = timed(
        lambda: conn.execute("SELECT id, input, output, metadata FROM records").fetchall(), repeat=1
    )
    conn.close()
    return out


def measure(root: Path) -> list[tuple[str, float, float, str]]:
    store: RecordStore = open_store(root)
    base = plain_baselines(root / "pairsmith.db")
    rows = []
    queue_s, queue = timed(
        lambda: build_queue(store, REVIEWER, QueueFilters(status="pending"), order="import", size=200),
        repeat=5,
    )
    rows.append(
        ("review queue, first page (pending, 200)", queue_s, base["queue"], f"{queue.total:,} pending")
    )
    filtered_s, filtered = timed(
        lambda: build_queue(
            store, REVIEWER, QueueFilters(status="pending", cluster=3), order="import", size=200
        )
    )
    rows.append(
        ("review queue, cluster=3 and pending", filtered_s, base["queue"], f"{filtered.total:,} match")
    )
    stats_s, stats = timed(lambda: project_stats(store))
    rows.append(("stats", stats_s, base["stats"], f"{stats['records']:,} records"))
    config = ExportConfig(include_unreviewed=True)
    dry_s, summary = timed(lambda: select_clean_set(store, config).summary(), repeat=1)
    rows.append(
        ("export --dry-run --include-unreviewed", dry_s, base["dry_run"], f"{summary['included']:,} kept")
    )
    store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Project folder to build once and reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "project"
        if not (root / "pairsmith.json").exists():
            for step, seconds in build_project(root, args.records).items():
                print(f"{step:<28}{seconds:>9.1f} s")
        size_mb = (root / "pairsmith.db").stat().st_size / 1e6
        rows = measure(root)
    print(f"\nproject: {args.records:,} records, pairsmith.db {size_mb:,.0f} MB")
    print(f"{'operation':<42}{'ours (s)':>10}{'plain SQL (s)':>15}{'ratio':>8}  result")
    for name, ours, plain, note in rows:
        print(f"{name:<42}{ours:>10.3f}{plain:>15.3f}{ours / plain:>7.1f}x  {note}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
