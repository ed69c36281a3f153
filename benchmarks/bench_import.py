"""Import: ours (``curation.importing.import_file``) vs. pandas.read_csv + plain store upsert.

Both sides end with the same records in a fresh local project. Ours also checks the file's format
and encoding, repairs mojibake, validates every row (sizes, NaN, ragged rows, duplicate ids),
quarantines bad rows and skips ids already stored; the baseline only reads the CSV with pandas and
upserts ``Record`` objects. Measured on the Bitext CSV (4,514 rows) and on a larger CSV made by
repeating it with a distinct suffix per copy (default 10×, 45,140 rows), plus a re-import.

Run: ``.venv/bin/python benchmarks/bench_import.py [--copies 10]``
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from curation.files import ProjectPaths
from curation.importing import import_file
from curation.model import Record, RecordSource
from curation.project import init_project

BITEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitext_customer_support.csv"


def baseline(root: Path, path: Path) -> int:
    """pandas.read_csv, then Record objects upserted in batches: no checks, no quarantine."""
    store = init_project(root, "baseline")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    meta_cols = [c for c in frame.columns if c not in ("instruction", "response")]
    records = (
        Record(
            id=f"r{i}",
            input=row["instruction"],
            output=row["response"],
            metadata={c: row[c] for c in meta_cols},
            source=RecordSource(file=path.name, row=i + 1),
        )
        for i, row in enumerate(frame.to_dict("records"))
    )
    store.upsert_records(records, batch_size=1000)
    count = store.count_records()
    store.close()
    return count


def ours(root: Path, path: Path, again: bool = False) -> int:
    store = init_project(root, "ours") if not again else None
    from curation.project import open_store

    store = store or open_store(root)
    report = import_file(store, path, quarantine_dir=ProjectPaths(root).quarantine)
    store.close()
    return report.imported if not again else report.skipped_existing


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn()
    return time.perf_counter() - start, n


def repeated_csv(folder: Path, copies: int) -> Path:
    out = folder / f"bitext_x{copies}.csv"
    with BITEXT.open(newline="", encoding="utf-8") as src, out.open("w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        rows = list(reader)
        for copy in range(copies):
            for row in rows:
                writer.writerow({**row, "instruction": f"{row['instruction']} (#{copy})"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = [BITEXT, repeated_csv(folder, args.copies)]
        print("| file | rows | ours (s) | pandas + upsert (s) | ratio | re-import, ours (s) |")
        print("|---|---:|---:|---:|---:|---:|")
        for i, path in enumerate(files):
            t_base, n_base = timed(lambda p=path, i=i: baseline(folder / f"base{i}", p))
            t_ours, n_ours = timed(lambda p=path, i=i: ours(folder / f"ours{i}", p))
            t_again, n_again = timed(lambda p=path, i=i: ours(folder / f"ours{i}", p, again=True))
            assert n_ours == n_base == n_again, (n_ours, n_base, n_again)
            print(
                f"| {path.name} | {n_ours:,} | {t_ours:.2f} | {t_base:.2f} | {t_ours / t_base:.2f}× | {t_again:.2f} |"
            )


if __name__ == "__main__":
    main()
