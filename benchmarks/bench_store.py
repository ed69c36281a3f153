"""Bulk upsert and query speed of the local store vs. plain sqlite3 on the same rows.

Run: .venv/bin/python benchmarks/bench_store.py [--records 100000]
The baseline inserts the same JSON rows with one plain `executemany` into a bare table: the floor
for any SQLite-backed store. Ours adds validation, content/row hashes, change detection and indexes.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from curation.model import Record, RecordSource
from curation.store.base import RecordQuery
from curation.store.sqlite.store import SQLiteStore


def make_records(n: int) -> list[Record]:
    return [
        Record(
            id=f"r{i:07d}",
            input=f"Customer {i} asks where order FW-{i % 99999:05d} is; it was due on day {i % 28}.",
            output=json.dumps({"category": "shipping_delay", "order_id": f"FW-{i % 99999:05d}", "n": i}),
            metadata={"cluster": i % 27, "input_chars": 60 + i % 40, "flags": ["pii"] if i % 50 == 0 else []},
            source=RecordSource(file="bench.csv", row=i + 1),
        )
        for i in range(n)
    ]


def baseline_insert(path: Path, records: list[Record]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE records (id TEXT PRIMARY KEY, input TEXT, output TEXT, metadata TEXT)")
    start = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO records VALUES (?,?,?,?)",
            [(r.id, json.dumps(r.input), r.output, json.dumps(r.metadata)) for r in records],
        )
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    records = make_records(args.records)
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline_insert(Path(tmp) / "plain.db", records)
        store = SQLiteStore(Path(tmp) / "ours.db")
        start = time.perf_counter()
        store.upsert_records(records, batch_size=5000)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        result = store.upsert_records(records, batch_size=5000)
        again = time.perf_counter() - start
        assert result.unchanged == len(records)
        start = time.perf_counter()
        page = store.query_records(RecordQuery(metadata_terms={"cluster": [3]}, limit=50))
        query_s = time.perf_counter() - start
        start = time.perf_counter()
        flagged = store.count_records(RecordQuery(metadata_terms={"flags": ["pii"]}))
        flag_s = time.perf_counter() - start
    n = len(records)
    print(f"{'operation':<44}{'ours (s)':>10}{'plain sqlite3 (s)':>19}{'ratio':>8}")
    print(f"{f'bulk insert {n:,} records':<44}{ours:>10.2f}{base:>19.2f}{ours / base:>8.1f}x")
    print(f"{f're-upsert {n:,} unchanged (idempotent)':<44}{again:>10.2f}{'-':>19}{'':>8}")
    print(f"{f'filter cluster=3, first page of {page.total:,}':<44}{query_s:>10.3f}{'-':>19}{'':>8}")
    print(f"{f'count flags contains pii ({flagged:,})':<44}{flag_s:>10.3f}{'-':>19}{'':>8}")


if __name__ == "__main__":
    main()
