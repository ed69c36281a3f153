"""Two runs side by side: their data, what curation removed, diversity, metrics with confidence
intervals, and test inputs with both models' outputs.

A run is a folder from `pairsmith ship` (or `train` + `eval`): ``export/manifest.json`` says what
data it learned from, ``eval/report.json`` how it scored. :func:`compare_runs_detail` reads both
and returns the documented shape of `pairsmith runs compare A B --json` (docs/training.md).

Metrics are means of the per-record scores in the reports, each with a 95 % percentile bootstrap
interval over test records. When both runs were scored on the same test records the difference
B − A gets a *paired* bootstrap interval (Koehn, 2004: resample records, score both runs on the
same resample), which is far tighter than comparing two separate intervals; a difference whose
interval excludes 0 is marked significant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from curation.errors import NotFoundError
from training.report import load_report

RESAMPLES = 1000
LEVEL = 0.95
DIVERSITY_FIGURES = (
    "records",
    "clusters_covered",
    "balance",
    "vendi_score",
    "mean_nn_distance",
    "largest_cluster_share",
)


def bootstrap_mean(
    scores: np.ndarray, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float, float]:
    """(mean, low, high): the mean of ``scores`` and its 95 % percentile bootstrap interval."""
    if len(scores) == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(scores), size=(resamples, len(scores)))
    means = scores[idx].mean(axis=1)
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(scores.mean()), float(low), float(high)


def _interval(value: float, low: float, high: float) -> dict[str, float | None]:
    def r(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    return {"value": r(value), "low": r(low), "high": r(high)}


def _manifest(run: Path) -> dict[str, Any] | None:
    path = run / "export" / "manifest.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _data(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    if manifest is None:
        return None
    included = sum(manifest.get("included_by", {}).values())
    excluded = sum(manifest.get("excluded_by", {}).values())
    selection = manifest.get("selection") or None
    return {
        "version": manifest.get("dataset_version", {}).get("name"),
        "export_hash": manifest.get("export_hash"),
        "records": included + excluded,
        "included": included,
        "excluded": excluded,
        "counts": manifest.get("counts", {}),
        "included_by": manifest.get("included_by", {}),
        "excluded_by": manifest.get("excluded_by", {}),
        "selection": {k: selection[k] for k in ("selected", "pool", "mean_quality")} if selection else None,
    }


def _removed(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[dict[str, Any]]:
    reasons: list[str] = []
    for side in (a, b):
        for reason in (side or {}).get("excluded_by", {}):
            if reason not in reasons:
                reasons.append(reason)
    rows = [
        {
            "reason": r,
            "a": (a or {}).get("excluded_by", {}).get(r, 0),
            "b": (b or {}).get("excluded_by", {}).get(r, 0),
        }
        for r in reasons
    ]
    for side, key in ((a, "a"), (b, "b")):
        selection = (side or {}).get("selection")
        if selection:
            rows.append(
                {"reason": "not_selected", "a": 0, "b": 0} | {key: selection["pool"] - selection["selected"]}
            )
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = merged.setdefault(row["reason"], {"reason": row["reason"], "a": 0, "b": 0})
        entry["a"] += row["a"]
        entry["b"] += row["b"]
    return list(merged.values())


def _diversity(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per figure: each run's value before curation (all records) and after (train split)."""
    rows = []
    for figure in DIVERSITY_FIGURES:
        row: dict[str, Any] = {"figure": figure}
        for key, manifest in (("a", a), ("b", b)):
            figures = (manifest or {}).get("diversity") or {}
            row[f"{key}_before"] = (figures.get("all_records") or {}).get(figure)
            row[f"{key}_after"] = (figures.get("train") or {}).get(figure)
        rows.append(row)
    if all(v is None for row in rows for k, v in row.items() if k != "figure"):
        return []
    return rows


def _scores(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per test record id: its tuned scores (numbers only)."""
    out = {}
    for record in report.get("records", []):
        scores = record.get("tuned_scores") or {}
        out[str(record["id"])] = {k: float(v) for k, v in scores.items() if isinstance(v, int | float)}
    return out


def _metrics(
    report_a: dict[str, Any], report_b: dict[str, Any], resamples: int, seed: int
) -> tuple[list[dict[str, Any]], bool]:
    scores_a, scores_b = _scores(report_a), _scores(report_b)
    paired = bool(scores_a) and set(scores_a) == set(scores_b)
    names = [
        m
        for m in next(iter(scores_a.values()), {})
        if all(m in s for s in [*scores_a.values(), *scores_b.values()])
    ]
    primary = report_a.get("primary_metric")
    names.sort(key=lambda m: (m != primary, m))
    ids = sorted(scores_a)
    rows = []
    for k, name in enumerate(names):
        a = np.array([scores_a[i][name] for i in ids], dtype=np.float64)
        b = np.array([scores_b[i][name] for i in (ids if paired else sorted(scores_b))], dtype=np.float64)
        row: dict[str, Any] = {
            "metric": name,
            "a": _interval(*bootstrap_mean(a, resamples, seed + 2 * k)),
            "b": _interval(*bootstrap_mean(b, resamples, seed + 2 * k + 1)),
            "difference": None,
            "significant": None,
        }
        if paired:
            diff = _interval(*bootstrap_mean(b - a, resamples, seed + 1000 + k))
            row["difference"] = diff
            row["significant"] = bool(
                diff["low"] is not None and diff["high"] is not None and (diff["low"] > 0 or diff["high"] < 0)
            )
        rows.append(row)
    return rows, paired


def _sample(report_a: dict[str, Any], report_b: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """Test records both runs answered, the largest differences on the primary metric first."""
    primary = report_a.get("primary_metric")
    by_id_b = {str(r["id"]): r for r in report_b.get("records", [])}
    rows = []
    for record in report_a.get("records", []):
        other = by_id_b.get(str(record["id"]))
        if other is None:
            continue
        score_a = (record.get("tuned_scores") or {}).get(primary)
        score_b = (other.get("tuned_scores") or {}).get(primary)
        rows.append(
            {
                "id": str(record["id"]),
                "input": record.get("input"),
                "reference": record.get("reference"),
                "a": record.get("tuned"),
                "b": other.get("tuned"),
                "a_score": score_a,
                "b_score": score_b,
            }
        )

    def gap(row: dict[str, Any]) -> float:
        a, b = row["a_score"], row["b_score"]
        return abs(float(b) - float(a)) if isinstance(a, int | float) and isinstance(b, int | float) else 0.0

    rows.sort(key=lambda r: (-gap(r), r["id"]))
    return rows[:size]


def compare_runs_detail(
    run_a: Path | str,
    run_b: Path | str,
    *,
    sample: int = 6,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything `pairsmith runs compare A B` shows (docs/training.md has the JSON shape).

    NotFoundError when a run has not been evaluated (no ``eval/report.json``).
    """
    a, b = Path(run_a), Path(run_b)
    for run in (a, b):
        if not run.is_dir():
            raise NotFoundError(f"run folder {run} does not exist")
    report_a, report_b = load_report(a), load_report(b)
    manifest_a, manifest_b = _manifest(a), _manifest(b)
    data_a, data_b = _data(manifest_a), _data(manifest_b)
    metrics, paired = _metrics(report_a, report_b, resamples, seed)
    notes = []
    if not paired:
        notes.append(
            "the runs were scored on different test records: differences mix the data with the test "
            "set, and no paired interval is given"
        )
    if report_a.get("primary_metric") != report_b.get("primary_metric"):
        notes.append(
            f"primary metrics differ ({report_a.get('primary_metric')} vs {report_b.get('primary_metric')}); "
            f"rows follow A's"
        )
    if report_a.get("base_model") != report_b.get("base_model"):
        notes.append(f"base models differ ({report_a.get('base_model')} vs {report_b.get('base_model')})")
    return {
        "runs": {"a": str(a), "b": str(b)},
        "primary_metric": report_a.get("primary_metric"),
        "test_records": {"a": report_a.get("test_examples"), "b": report_b.get("test_examples")},
        "paired": paired,
        "data": {"a": data_a, "b": data_b},
        "removed": _removed(data_a, data_b),
        "diversity": _diversity(manifest_a, manifest_b),
        "metrics": metrics,
        "interval": f"{LEVEL:.0%} bootstrap over test records, {resamples} resamples",
        "validation_loss": {
            "a": report_a.get("tuned", {}).get("validation_loss"),
            "b": report_b.get("tuned", {}).get("validation_loss"),
        },
        "sample": _sample(report_a, report_b, sample),
        "notes": notes,
    }
