"""The training CLI is a thin layer: jobs, compare and clean errors (no models involved)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.training.test_eval_report import make_report
from training.jobs import start_job, wait_job
from training.report import write_report
from ui.cli import app

runner = CliRunner()


def test_jobs_list_show_and_errors(tmp_path: Path) -> None:
    job_id = start_job(tmp_path, "sleep", {"run_dir": str(tmp_path / "r"), "steps": 1, "seconds": 0})
    wait_job(tmp_path, job_id, timeout=60)
    listed = runner.invoke(app, ["jobs", str(tmp_path), "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["id"] == job_id
    shown = runner.invoke(app, ["jobs", str(tmp_path), "show", job_id, "--json"])
    assert json.loads(shown.stdout)["status"] == "succeeded"
    cancelled = runner.invoke(app, ["jobs", str(tmp_path), "cancel", job_id])
    assert cancelled.exit_code == 1 and "nothing to cancel" in cancelled.stderr
    assert runner.invoke(app, ["jobs", str(tmp_path), "show"]).exit_code == 2


def test_compare_and_missing_runs(tmp_path: Path) -> None:
    write_report(make_report(), tmp_path / "a" / "eval")
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["gain"] == 1.0
    missing = runner.invoke(app, ["train", str(tmp_path / "nope"), "--out", str(tmp_path / "run")])
    assert missing.exit_code == 1 and "pairsmith export" in missing.stderr
