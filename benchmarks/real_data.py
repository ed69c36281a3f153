"""Real-data regression suite: import → analyze → export --dry-run on public datasets of many shapes.

For each set (fetched with ``python -m benchmarks.public_sets fetch NAME``) it runs what a new user
runs, with default settings, in a fresh project, and prints one row:

- rows in the file, imported, quarantined (imported + quarantined must equal the data rows);
- the share of records the clean set keeps (``export --dry-run --include-unreviewed``);
- the largest duplicate group and its tier;
- group purity against gold labels where the set has them (the share of same-group record pairs
  that share a gold label: intents for BANKING77, paraphrase labels for MRPC);
- members below their tier's threshold to the keeper (must be 0);
- flag rates; whether the collapse warning fired.

A set whose import fails is reported with the error and the run goes on (chat and tool-call shapes
are being fixed in parallel; this suite shows where they stand).

Run: ``nice -n 5 .venv/bin/python benchmarks/real_data.py [--sets NAME ...] [--sample N]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from benchmarks.public_sets import cached_dir
from curation import metadata_keys
from curation.analysis.dedup.text import canonical_words, content_text, normalize_text
from curation.analysis.pipeline import analyze_project
from curation.errors import PairsmithError
from curation.importing.importer import import_file
from curation.importing.shapes import ColumnMapping
from curation.project import init_project
from curation.store.base import RecordStore
from training.clean_set import select_clean_set
from training.export_config import ExportConfig

CONSTANT_REPLY = "Thanks, routing your request."


@dataclass
class Prepared:
    """A file to import as a user would, how to read it, and gold labels by source row."""

    file: Path
    data_rows: int
    mapping: ColumnMapping | None = None
    format: str | None = None
    gold: dict[int, str] = field(default_factory=dict)  # source row (1-based) → label
    gold_pairs: dict[frozenset[int], int] = field(default_factory=dict)  # source rows → 1/0


Prepare = Callable[[Path, Path, int | None], Prepared]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _banking77(reply: str | None) -> Prepare:
    def prepare(folder: Path, work: Path, sample: int | None) -> Prepared:
        text = (folder / "banking_data" / "train.csv").read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        random.Random(0).shuffle(rows)
        rows = rows[: sample or 4000]
        out = [{"input": r["text"], "output": reply or r["category"]} for r in rows]
        name = "banking77_constant.jsonl" if reply else "banking77_label.jsonl"
        return Prepared(
            _write_jsonl(work / name, out), len(out), gold={i + 1: r["category"] for i, r in enumerate(rows)}
        )

    return prepare


def _mrpc_sentences(folder: Path, work: Path, sample: int | None) -> Prepared:
    """Each sentence of the MRPC train file as an input with one constant reply; gold = pair labels."""
    text = (folder / "dataset/msr-paraphrase-corpus/msr_paraphrase_train.txt").read_text(encoding="utf-8-sig")
    pairs = [line.split("\t") for line in text.splitlines()[1:]]
    pairs = [p for p in pairs if len(p) == 5][: (sample or 6000) // 2]
    rows: list[dict[str, Any]] = []
    gold_pairs: dict[frozenset[int], int] = {}
    for p in pairs:
        rows += [{"input": p[3], "output": CONSTANT_REPLY}, {"input": p[4], "output": CONSTANT_REPLY}]
        gold_pairs[frozenset((len(rows) - 1, len(rows)))] = int(p[0])
    return Prepared(_write_jsonl(work / "mrpc_sentences.jsonl", rows), len(rows), gold_pairs=gold_pairs)


def _mrpc_tsv(folder: Path, work: Path, sample: int | None) -> Prepared:
    """The MRPC train file as shipped (BOM, stray quotes), imported as TSV: an import-fidelity check."""
    path = folder / "dataset/msr-paraphrase-corpus/msr_paraphrase_train.txt"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return Prepared(
        path,
        len([line for line in lines[1:] if line.strip()]),
        mapping=ColumnMapping(input_col="#1 String", output_col="#2 String"),
        format="tsv",
    )


def _file(relative: str, format: str | None = None) -> Prepare:
    def prepare(folder: Path, work: Path, sample: int | None) -> Prepared:
        path = folder / relative
        if path.suffix == ".jsonl":
            rows = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        else:
            rows = len(json.loads(path.read_text(encoding="utf-8")))
        return Prepared(path, rows, format=format)

    return prepare


@dataclass(frozen=True)
class RealSet:
    name: str
    public_set: str
    shape: str
    prepare: Prepare


SETS = [
    RealSet(
        "banking77 + constant reply",
        "banking77",
        "classification, constant output",
        _banking77(CONSTANT_REPLY),
    ),
    RealSet("banking77 + label as output", "banking77", "classification, label output", _banking77(None)),
    RealSet("gsm8k", "gsm8k", "maths, numeric answers", _file("grade_school_math/data/test.jsonl")),
    RealSet("fastchat-dummy", "fastchat-dummy", "multi-turn chat", _file("data/dummy_conversation.json")),
    RealSet(
        "glaive-toolcall-demo",
        "glaive-toolcall-demo",
        "tool calls",
        _file("data/glaive_toolcall_en_demo.json"),
    ),
    RealSet("mrpc sentences + constant reply", "mrpc", "paraphrase set", _mrpc_sentences),
    RealSet("mrpc train file (tsv)", "mrpc", "paraphrase pairs as shipped", _mrpc_tsv),
    RealSet("alpaca-en-demo", "alpaca-en-demo", "long-form answers", _file("data/alpaca_en_demo.json")),
    RealSet(
        "llamafactory-v1-sft-demo",
        "llamafactory-v1-sft-demo",
        "chat, content parts",
        _file("data/v1_sft_demo.jsonl"),
    ),
    RealSet("dpo-en-demo", "dpo-en-demo", "preference pairs", _file("data/dpo_en_demo.json")),
]


# --- invariants ----------------------------------------------------------------------------------


def _grams(text: str, n: int) -> set[str]:
    canon = canonical_words(text)
    return (
        {canon[i : i + n] for i in range(len(canon) - n + 1)}
        if len(canon) >= n
        else ({canon} if canon else set())
    )


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def below_threshold(store: RecordStore, project_dir: Path) -> list[str]:
    """Group members whose own similarity to their keeper is below their tier's threshold."""
    settings = json.loads((project_dir / "analysis" / "report.json").read_text())["settings"]
    near, semantic = settings["near"], settings["semantic"]
    groups = json.loads((project_dir / "analysis" / "duplicates.json").read_text())["groups"]
    records = {r.id: r for batch in store.iter_records() for r in batch}
    vectors = {}
    for name in (metadata_keys.VECTOR_INPUT, metadata_keys.VECTOR_OUTPUT):
        ids, matrix = store.get_vectors(name)
        vectors[name] = dict(zip(ids, matrix, strict=True))
    bad = []
    for group in groups:
        keeper = records[group["keeper"]]
        for pair in group["pairs"]:
            member = records[pair["b"] if pair["a"] == keeper.id else pair["a"]]
            if pair["tier"] == "exact":
                ok = normalize_text(member.input_text) == normalize_text(
                    keeper.input_text
                ) and normalize_text(member.output) == normalize_text(keeper.output)
            elif pair["tier"] == "near":
                n = near["char_ngram"]
                ok = (
                    _jaccard(_grams(member.input_text, n), _grams(keeper.input_text, n))
                    >= near["threshold"] - 0.005
                )
                ok &= (
                    _jaccard(_grams(content_text(member.output), n), _grams(content_text(keeper.output), n))
                    >= near["output_threshold"] - 0.005
                )
            else:
                cin = float(
                    vectors[metadata_keys.VECTOR_INPUT][member.id]
                    @ vectors[metadata_keys.VECTOR_INPUT][keeper.id]
                )
                cout = float(
                    vectors[metadata_keys.VECTOR_OUTPUT][member.id]
                    @ vectors[metadata_keys.VECTOR_OUTPUT][keeper.id]
                )
                same_answer = normalize_text(member.output) == normalize_text(keeper.output)
                floor = (
                    min(semantic["threshold"], semantic["same_answer_threshold"] or 1.0)
                    if same_answer
                    else semantic["threshold"]
                )
                ok = cin >= floor - 1e-4 and (same_answer or cout >= semantic["output_threshold"] - 1e-4)
            if not ok:
                bad.append(f"{member.id} ({pair['tier']}) vs keeper {keeper.id}")
    return bad


def purity(groups: list[dict[str, Any]], row_of: dict[str, int], prepared: Prepared) -> str:
    """Share of same-group record pairs that agree with the gold labels (where any are known)."""
    agree = total = 0
    for group in groups:
        rows = [row_of[m["id"]] for m in group["records"]]
        for a, b in combinations(rows, 2):
            if prepared.gold:
                total += 1
                agree += prepared.gold.get(a) == prepared.gold.get(b)
            elif frozenset((a, b)) in prepared.gold_pairs:
                total += 1
                agree += prepared.gold_pairs[frozenset((a, b))]
    return f"{agree / total:.2f} of {total}" if total else "–"


def run_set(real: RealSet, sample: int | None) -> dict[str, Any]:
    folder = cached_dir(real.public_set)
    if folder is None:
        return {
            "set": real.name,
            "error": f"not fetched: python -m benchmarks.public_sets fetch {real.public_set}",
        }
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        prepared = real.prepare(folder, work, sample)
        root = work / "project"
        store = init_project(root, "real-data")
        start = time.perf_counter()
        try:
            report = import_file(
                store,
                prepared.file,
                quarantine_dir=root / "quarantine",
                mapping=prepared.mapping,
                format=prepared.format,
            )
        except PairsmithError as exc:
            store.close()
            return {
                "set": real.name,
                "shape": real.shape,
                "rows": prepared.data_rows,
                "error": f"import failed: {exc}",
            }
        row: dict[str, Any] = {
            "set": real.name,
            "shape": real.shape,
            "rows": prepared.data_rows,
            "imported": report.imported,
            "quarantined": report.rejected,
            "rows_match": report.imported + report.rejected == prepared.data_rows,
        }
        if not report.imported:
            store.close()
            return row | {"error": "nothing imported"}
        analysis = analyze_project(root, store=store)
        clean = select_clean_set(store, ExportConfig(include_unreviewed=True))
        groups = json.loads((root / "analysis" / "duplicates.json").read_text())["groups"]
        records = {r.id: r for batch in store.iter_records() for r in batch}
        row_of = {rid: r.source.row or 0 for rid, r in records.items()}
        largest = max(groups, key=lambda g: len(g["records"]), default=None)
        gold_classes = set(prepared.gold.values())
        kept_classes = {prepared.gold.get(row_of[i.record.id]) for i in clean.included} & gold_classes
        flags = Counter(f for r in records.values() for f in (r.metadata.get(metadata_keys.FLAGS) or []))
        row |= {
            "kept": f"{len(clean.included) / len(records):.1%}",
            "dedup_excluded": sum(n for r, n in clean.excluded_by().items() if r.startswith("duplicate")),
            "classes_kept": f"{len(kept_classes)}/{len(gold_classes)}" if gold_classes else "–",
            "largest_group": f"{len(largest['records'])} ({largest['tier']})" if largest else "0",
            "purity": purity(groups, row_of, prepared),
            "below_threshold": len(below_threshold(store, root)),
            "flags": {f: f"{n / len(records):.1%}" for f, n in flags.most_common(4)},
            "collapse_warning": clean.collapse is not None,
            "seconds": round(time.perf_counter() - start),
            "groups": analysis.duplicate_groups,
        }
        store.close()
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=[s.name for s in SETS])
    parser.add_argument(
        "--sample", type=int, default=None, help="Rows of the derived sets (default 4,000 / 6,000)"
    )
    args = parser.parse_args()
    chosen = [s for s in SETS if s.name in args.sets]
    columns = [
        "set",
        "shape",
        "rows",
        "imported",
        "quarantined",
        "rows_match",
        "kept",
        "dedup_excluded",
        "classes_kept",
        "largest_group",
        "purity",
        "below_threshold",
        "flags",
        "collapse_warning",
        "seconds",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for real in chosen:
        row = run_set(real, args.sample)
        if "error" in row:
            print(f"| {real.name} | {real.shape} | {row.get('rows', '')} | {row['error']} |")
            continue
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |", flush=True)


def iter_sets() -> Iterator[RealSet]:
    yield from SETS


if __name__ == "__main__":
    main()
