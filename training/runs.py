"""The runs of a project (``DIR/runs/<name>/``) as the Runs page lists them: status, stages done,
the error of a failed run with its log, whether *Resume* can work, and the primary metric."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from curation.errors import PairsmithError
from curation.files import ProjectPaths
from training import jobs
from training.report import load_report
from training.ship import read_state


def run_dirs(project_dir: Path | str) -> list[Path]:
    """Every run folder of the project, newest name first."""
    runs = ProjectPaths(Path(project_dir)).runs
    return sorted((p for p in runs.iterdir() if p.is_dir()), reverse=True) if runs.exists() else []


def _locked(run: Path) -> bool:
    """Whether a live process holds the run's lock (ship holds it while it works)."""
    lock = run / ".lock"
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _jobs_by_run(project_dir: Path | str) -> dict[str, dict[str, Any]]:
    """The newest job writing each run folder (jobs are listed newest first)."""
    out: dict[str, dict[str, Any]] = {}
    for job in jobs.list_jobs(project_dir):
        run_dir = job["params"].get("run_dir")
        if run_dir and job["kind"] != "analyze":
            out.setdefault(str(Path(run_dir).resolve()), job)
    return out


def run_status(run: Path, job: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"status", "error", "failed_stage", "job", "log", "resumable"}`` of one run.

    The status comes from the run's job when there is one (queued, running, succeeded, failed,
    cancelled), else from ``state.json`` (ship records running, succeeded, failed and cancelled); a
    run recorded as running whose lock nobody holds was killed: ``interrupted``, resumable.
    """
    state = read_state(run)
    status = state.get("status") or (
        "succeeded" if state.get("stages", {}).get("eval", {}).get("done") else "unknown"
    )
    if status == "running" and not _locked(run):
        status = "interrupted"
    info: dict[str, Any] = {
        "status": status,
        "error": state.get("error"),
        "failed_stage": state.get("failed_stage"),
        "job": None,
        "log": None,
        "resumable": status in ("interrupted", "cancelled"),
    }
    if job is not None:
        info.update(
            status=job["status"],
            error=job["error"] or info["error"],
            job=job["id"],
            log=job["log_path"],
            resumable=job["resumable"],
        )
    return info


def run_summary(run: Path, job: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"run", "status", "stages done", "error", "metric", "base", "tuned", "improved"?}``; the metric
    parts are None until the run is evaluated."""
    stages = read_state(run).get("stages", {})
    status = run_status(run, job)
    row: dict[str, Any] = {
        "run": run.name,
        "status": status["status"],
        "stages done": ", ".join(s for s, v in stages.items() if v.get("done")) or "–",
        "error": status["error"] or "",
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
    by_run = _jobs_by_run(project_dir)
    return [run_summary(run, by_run.get(str(run.resolve()))) for run in run_dirs(project_dir)]


def run_details(project_dir: Path | str, run: Path) -> dict[str, Any]:
    """:func:`run_status` of one run with its job found in the project's jobs."""
    return run_status(run, _jobs_by_run(project_dir).get(str(run.resolve())))


def new_run_dir(project_dir: Path | str) -> Path:
    """A fresh run folder name under ``DIR/runs``: ``run-<UTC time>`` (absolute; not created)."""
    from datetime import UTC, datetime

    runs = ProjectPaths(Path(project_dir)).runs.resolve()
    return runs / datetime.now(UTC).strftime("run-%Y%m%d-%H%M%S")
