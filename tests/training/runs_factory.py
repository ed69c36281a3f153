"""Run folders as `pairsmith ship` leaves them (eval/report.json, export/manifest.json), for the
tests of run comparison in the library, the CLI and the Runs page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.files import atomic_write_json
from training.report import write_report


def write_run(
    run: Path,
    correct: list[bool],
    *,
    ids: list[str] | None = None,
    excluded_by: dict[str, int] | None = None,
    selection: dict[str, Any] | None = None,
    vendi: tuple[float, float] = (10.0, 8.0),
    loss: float = 1.0,
) -> Path:
    """A run folder as ship leaves it: eval/report.json and export/manifest.json."""
    ids = ids or [f"t{i}" for i in range(len(correct))]
    records = [
        {
            "id": rid,
            "input": f"input {rid}",
            "reference": '{"intent": "a"}',
            "base": None,
            "tuned": '{"intent": "a"}' if ok else '{"intent": "b"}',
            "base_scores": {},
            "tuned_scores": {"json_match": float(ok), "chrf": 100.0 if ok else 40.0},
        }
        for rid, ok in zip(ids, correct, strict=True)
    ]
    mean = sum(correct) / len(correct)
    report = {
        "primary_metric": "json_match",
        "base": {},
        "tuned": {"json_match": mean, "validation_loss": loss},
        "improved": None,
        "test_examples": len(records),
        "base_model": "smollm2-135m-instruct",
        "records": records,
    }
    write_report(report, run / "eval")
    excluded = excluded_by or {}
    atomic_write_json(
        run / "export" / "manifest.json",
        {
            "dataset_version": {"name": "v1"},
            "export_hash": "h",
            "counts": {"train": 100, "validation": 10, "test": len(records)},
            "included_by": {"unreviewed": 100},
            "excluded_by": excluded,
            "selection": selection,
            "diversity": {
                "all_records": {"records": 100 + sum(excluded.values()), "vendi_score": vendi[0]},
                "train": {"records": 100, "vendi_score": vendi[1]},
            },
        },
    )
    return run
