"""Team mode at scale: pairsmith on a real argilla-server 2.8.0 vs. the local store, same data, same run.

Run: nice -n 5 .venv/bin/python -m benchmarks.bench_argilla_scale [--sizes 5000 20000 50000] [--clicks 30]

For each size it builds a local project (records like the Bitext set's: a prompt, a JSON output,
cluster, duplicate group, quality flags, lengths; a tenth of them already answered), then measures:

- **push**: ``pairsmith push`` of the whole project to the server (records, suggestions, users,
  responses), as seconds and seconds per 1,000 records (linear means the second column is flat);
- **click**: one Review click, the calls the Review page makes (``ui/app_pages/review.py``): save
  the answer (``save_review``), then show the next record (the record, the reviewer's answer, the
  project, the progress bars, the golden examples), on a queue of pending records built once;
  p50 and p90 over ``--clicks`` clicks, on Argilla (an annotator's key and the owner's) and on the
  local store;
- **stats** (``pairsmith stats``) and **export --dry-run** (the clean-set selection), which read
  every record, on both backends;
- **pull**: ``pairsmith pull`` of the pushed dataset into a new local project (records, vectors,
  every user's responses and versions);
- **import**: ``pairsmith init --backend argilla`` then ``pairsmith import`` of the same records as
  a CSV file, straight into an Argilla-backed project (the path ``init --example --backend argilla``
  takes, at any size).

The server is the test harness's (``tests/argilla_server``: SQLite database, Redis, the
``pairsmith_sql`` search engine); its start is not timed. Goals (issue 12): click p50 ≤ 500 ms at
50k records and growing less than 2x from 5k to 50k; push time linear in records.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.importing.importer import import_file
from curation.model import Record, RecordSource, Response, ResponseStatus, Role, User
from curation.project import init_project, open_store
from curation.project_sync import pull_project, push_project
from curation.review.answers import current_response, save_review
from curation.review.progress import review_progress
from curation.review.queue import QueueFilters, build_queue
from curation.review.stats import project_stats
from curation.store.base import RecordQuery, RecordStore
from tests.argilla_server.harness import OWNER_NAME, ArgillaServer
from training.clean_set import select_clean_set
from training.export_config import load_export_config

ANNOTATOR = "bench_ann"
CATEGORIES = ["shipping_delay", "refund", "damaged_plant", "account", "billing", "other"]


def make_records(n: int) -> list[Record]:
    return [
        Record(
            id=f"r{i:07d}",
            input=f"Customer {i} asks where order FW-{i % 99999:05d} is; it was due on day {i % 28}. "
            "They would like an update and, if it is lost, a refund.",
            output=json.dumps(
                {"category": CATEGORIES[i % 6], "order_id": f"FW-{i % 99999:05d}", "urgent": i % 9 == 0}
            ),
            metadata={
                "cluster": i % 27,
                "cluster_name": f"topic {i % 27}",
                "input_chars": 120 + i % 40,
                "output_chars": 70 + i % 13,
                "flags": ["pii"] if i % 50 == 0 else [],
                **({"dup_group": f"d{i // 3}", "dup_tier": "near"} if i % 40 < 3 else {}),
                "channel": "chat" if i % 3 else "email",
            },
            golden=i % 500 == 0,
            source=RecordSource(file="bench.csv", row=i + 1),
        )
        for i in range(n)
    ]


def make_responses(n: int) -> list[Response]:
    return [
        Response(
            record_id=f"r{i:07d}",
            user=OWNER_NAME if i % 2 else ANNOTATOR,
            values={"label": "good" if i % 3 else "bad", "rating": 1 + i % 5},
            status=ResponseStatus.submitted,
        )
        for i in range(0, n, 10)
    ]


def local_project(root: Path, n: int) -> RecordStore:
    store = init_project(root, f"bench{n}")
    store.add_user(User(name=OWNER_NAME, role=Role.owner))
    store.add_user(User(name=ANNOTATOR, role=Role.annotator))
    store.upsert_records(make_records(n), batch_size=5000)
    store.put_responses(make_responses(n))
    return store


def write_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["input", "output"])
        writer.writerows((record.input, record.output) for record in make_records(n))
    return path


def import_into_argilla(root: Path, csv_file: Path, server: ArgillaServer, workspace: str) -> int:
    """``pairsmith init --backend argilla`` + ``pairsmith import``: the records go straight to the server."""
    options = {"api_url": server.url, "workspace": workspace, "api_key": server.api_key}
    store = init_project(root, root.name, backend="argilla", backend_options=options)
    try:
        import_file(store, csv_file, quarantine_dir=root / "quarantine")
        return store.count_records(RecordQuery())
    finally:
        store.close()


def clicks(store: RecordStore, user: str, count: int) -> list[float]:
    """Seconds per Review click: save the shown record, then show the next one (the page's calls)."""
    queue = build_queue(store, user, QueueFilters(status="pending"), order="import", size=200)
    times = []
    for index in range(count):
        started = time.perf_counter()
        record = store.get_record(queue.ids[index])
        response = current_response(store, record.id, user)
        store.get_project()
        review_progress(store, user)
        store.query_records(RecordQuery(golden=True, limit=3))
        save_review(
            store,
            record,
            user,
            {"label": "good", "rating": 4},
            ResponseStatus.submitted,
            expected_version=response.version if response else 0,
        )
        times.append(time.perf_counter() - started)
    return times


def timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    work(*args, **kwargs)
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ArgillaServer(root=Path(tmp) / "server") as server:
        for n in args.sizes:
            root = Path(tmp) / f"p{n}"
            local = local_project(root, n)
            local.close()
            workspace = f"bench-{uuid.uuid4().hex[:6]}"
            push_s = timed(
                push_project, root, api_url=server.url, api_key=server.api_key, workspace=workspace
            )
            owner = open_store(root, backend="argilla", api_key=server.api_key)
            annotator = open_store(root, backend="argilla", api_key=owner.api_key_of(ANNOTATOR))  # type: ignore[attr-defined]
            local = open_store(root, backend="local")
            config = load_export_config()
            row = {
                "records": n,
                "push_s": push_s,
                "click_annotator": clicks(annotator, ANNOTATOR, args.clicks),
                "click_owner": clicks(owner, OWNER_NAME, args.clicks),
                "click_local": clicks(local, ANNOTATOR, args.clicks),
                "stats_argilla": timed(project_stats, owner),
                "stats_local": timed(project_stats, local),
                "export_argilla": timed(select_clean_set, owner, config),
                "export_local": timed(select_clean_set, local, config),
            }
            for store in (owner, annotator, local):
                store.close()
            pulled = Path(tmp) / f"pulled{n}"
            row["pull_s"] = timed(
                pull_project,
                pulled,
                api_url=server.url,
                api_key=server.api_key,
                workspace=workspace,
                dataset=f"bench{n}",
            )
            copy = open_store(pulled, backend="local")
            row["pulled"] = copy.count_records(RecordQuery())
            copy.close()
            csv_file = write_csv(Path(tmp) / f"bench{n}.csv", n)
            started = time.perf_counter()
            row["imported"] = import_into_argilla(Path(tmp) / f"imp{n}", csv_file, server, workspace)
            row["import_s"] = time.perf_counter() - started
            rows.append(row)
            print(
                f"done {n:,} records: push {push_s:.1f} s, pull {row['pull_s']:.1f} s "
                f"({row['pulled']:,} back), import {row['import_s']:.1f} s ({row['imported']:,} on the server)",
                flush=True,
            )
    print()
    head = (
        f"{'records':>8} {'push s':>8} {'s/1k':>6} {'click p50/p90 ms: annotator':>28} {'owner':>11} "
        f"{'local':>11} {'stats s A/L':>13} {'export dry-run s A/L':>21} {'pull s':>7} {'import s':>9}"
    )
    print(head)
    for r in rows:
        ann, own, loc = r["click_annotator"], r["click_owner"], r["click_local"]
        print(
            f"{r['records']:>8,} {r['push_s']:>8.1f} {1000 * r['push_s'] / r['records']:>6.2f} "
            f"{statistics.median(ann) * 1000:>20.0f}/{percentile(ann, 0.9) * 1000:<7.0f} "
            f"{statistics.median(own) * 1000:>5.0f}/{percentile(own, 0.9) * 1000:<5.0f} "
            f"{statistics.median(loc) * 1000:>5.0f}/{percentile(loc, 0.9) * 1000:<5.0f} "
            f"{r['stats_argilla']:>6.1f}/{r['stats_local']:<6.1f} {r['export_argilla']:>10.1f}/{r['export_local']:<10.1f}"
            f" {r['pull_s']:>7.1f} {r['import_s']:>9.1f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = statistics.median(last["click_annotator"]) / statistics.median(first["click_annotator"])
        print(
            f"\nclick p50 (annotator) {first['records']:,} → {last['records']:,}: x{growth:.2f}; "
            f"push s per 1k records: {1000 * first['push_s'] / first['records']:.2f} → "
            f"{1000 * last['push_s'] / last['records']:.2f}; Argilla/local click p50 at {last['records']:,}: "
            f"x{statistics.median(last['click_annotator']) / statistics.median(last['click_local']):.0f}"
        )


if __name__ == "__main__":
    main()
