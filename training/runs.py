"""The runs of a project (``DIR/runs/<name>/``) as the Runs page lists them: stages done and the
primary metric, base vs. tuned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.errors import PairsmithError
from curation.files import ProjectPaths
from training.report import load_report
from training.ship import read_state


def run_dirs(project_dir: Path | str) -> list[Path]:
    """Every run folder of the project, newest name first."""
    runs = ProjectPaths(Path(project_dir)).runs
    return sorted((p for p in runs.iterdir() if p.is_dir()), reverse=True) if runs.exists() else []


def run_summary(run: Path) -> dict[str, Any]:
    """``{"run", "stages done", "metric", "base", "tuned", "improved"?}``; the metric parts are None
    until the run is evaluated."""
    stages = read_state(run).get("stages", {})
    row: dict[str, Any] = {
        "run": run.name,
        "stages done": ", ".join(s for s, v in stages.items() if v.get("done")) or "–",
    }
    try:
        report = load_report(run)
    except PairsmithError:
        return row | {"metric": None, "base": None, "tuned": None}
    primary = report["primary_metric"]
    base, tuned = report["base"].get(primary), report["tuned"].get(primary)
    return row | {"metric": primary, "base": base, "tuned": tuned, "improved": report.get("improved")}


def run_summaries(project_dir: Path | str) -> list[dict[str, Any]]:
    """A summary row per run, newest first."""
    return [run_summary(run) for run in run_dirs(project_dir)]


def new_run_dir(project_dir: Path | str) -> Path:
    """A fresh run folder name under ``DIR/runs``: ``run-<UTC time>`` (absolute; not created)."""
    from datetime import UTC, datetime

    runs = ProjectPaths(Path(project_dir)).runs.resolve()
    return runs / datetime.now(UTC).strftime("run-%Y%m%d-%H%M%S")
