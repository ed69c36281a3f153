"""What the real-data tests run and check: import → analyze → clean set, and the invariants.

The checks recompute every similarity on their own (plain Python sets for the near tier, the stored
vectors for the semantic tier), so a grouping bug cannot hide behind the code it would be in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation import metadata_keys
from curation.analysis.dedup.text import canonical_words, content_text, normalize_text
from curation.analysis.pipeline import AnalysisReport, analyze_project
from curation.importing import ImportReport, import_file
from curation.importing.shapes import ColumnMapping
from curation.model import Record
from curation.project import init_project
from training.clean_set import CleanSet, select_clean_set
from training.export_config import ExportConfig

CONSTANT_REPLY = "Thanks, routing your request."


@dataclass
class Run:
    root: Path
    imported: ImportReport
    analysis: AnalysisReport
    clean: CleanSet
    records: dict[str, Record]
    vectors: dict[str, dict[str, Any]]
    groups: list[dict[str, Any]]
    settings: dict[str, Any]

    def kept_share(self) -> float:
        return len(self.clean.included) / len(self.records)


def run_pipeline(
    file: Path, root: Path, *, mapping: ColumnMapping | None = None, format: str | None = None
) -> Run:
    """What a new user runs: import, analyze, `export --dry-run --include-unreviewed`."""
    store = init_project(root, root.name)
    try:
        imported = import_file(
            store, file, quarantine_dir=root / "quarantine", mapping=mapping, format=format
        )
        analysis = analyze_project(root, store=store)
        clean = select_clean_set(store, ExportConfig(include_unreviewed=True))
        records = {r.id: r for batch in store.iter_records() for r in batch}
        vectors = {}
        for name in (metadata_keys.VECTOR_INPUT, metadata_keys.VECTOR_OUTPUT):
            ids, matrix = store.get_vectors(name)
            vectors[name] = dict(zip(ids, matrix, strict=True))
    finally:
        store.close()
    doc = json.loads((root / "analysis" / "duplicates.json").read_text(encoding="utf-8"))
    settings = json.loads((root / "analysis" / "report.json").read_text(encoding="utf-8"))["settings"]
    return Run(root, imported, analysis, clean, records, vectors, doc["groups"], settings)


def _grams(text: str, n: int) -> set[str]:
    canon = canonical_words(text)
    if len(canon) < n:
        return {canon} if canon else set()
    return {canon[i : i + n] for i in range(len(canon) - n + 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def members_below_threshold(run: Run) -> list[str]:
    """Every group member whose own similarity to its group's keeper is below its tier's threshold."""
    near, semantic = run.settings["near"], run.settings["semantic"]
    vin, vout = run.vectors[metadata_keys.VECTOR_INPUT], run.vectors[metadata_keys.VECTOR_OUTPUT]
    bad = []
    for group in run.groups:
        keeper = run.records[group["keeper"]]
        members = [m["id"] for m in group["records"] if m["id"] != keeper.id]
        tiers = {p["a"] if p["b"] == keeper.id else p["b"]: p["tier"] for p in group["pairs"]}
        assert set(tiers) == set(members), f"group {group['group']}: not every member is linked to the keeper"
        for rid in members:
            member, tier = run.records[rid], tiers[rid]
            same_output = normalize_text(member.output) == normalize_text(keeper.output)
            if tier == "exact":
                ok = same_output and normalize_text(member.input_text) == normalize_text(keeper.input_text)
            elif tier == "near":
                n = near["char_ngram"]
                ok = (
                    _jaccard(_grams(member.input_text, n), _grams(keeper.input_text, n))
                    >= near["threshold"] - 5e-3
                )
                ok = (
                    ok
                    and _jaccard(
                        _grams(content_text(member.output), n), _grams(content_text(keeper.output), n)
                    )
                    >= near["output_threshold"] - 5e-3
                )
            else:
                cin = float(vin[rid] @ vin[keeper.id])
                cout = float(vout[rid] @ vout[keeper.id])
                base = cin >= semantic["threshold"] - 1e-4 and cout >= semantic["output_threshold"] - 1e-4
                relaxed = semantic["same_answer_threshold"] is not None and same_output
                ok = base or (relaxed and cin >= semantic["same_answer_threshold"] - 1e-4)
            if not ok:
                bad.append(f"{rid} ({tier}) in {group['group']} vs keeper {keeper.id}")
    return bad


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
