"""The run list: each run folder with its stages and, once evaluated, its primary metric."""

from __future__ import annotations

import json

from curation.files import ProjectPaths, atomic_write_json
from training.runs import new_run_dir, run_summaries


def test_runs_are_listed_newest_first_with_stages_and_metric(tmp_path):
    runs = ProjectPaths(tmp_path).runs
    atomic_write_json(runs / "run-1" / "state.json", {"stages": {"export": {"done": True}}})
    atomic_write_json(
        runs / "run-2" / "state.json", {"stages": {"export": {"done": True}, "eval": {"done": True}}}
    )
    report = {"primary_metric": "chrf", "base": {"chrf": 10.0}, "tuned": {"chrf": 30.0}, "improved": True}
    (runs / "run-2" / "eval").mkdir(parents=True)
    (runs / "run-2" / "eval" / "report.json").write_text(json.dumps(report))
    rows = run_summaries(tmp_path)
    assert [r["run"] for r in rows] == ["run-2", "run-1"]
    assert rows[0] | {"stages done": ""} == {
        "run": "run-2",
        "status": "succeeded",
        "error": "",
        "stages done": "",
        "metric": "chrf",
        "base": 10.0,
        "tuned": 30.0,
        "improved": True,
    }
    assert rows[1] == {
        "run": "run-1",
        "status": "unknown",
        "error": "",
        "stages done": "export",
        "metric": None,
        "base": None,
        "tuned": None,
    }
    assert run_summaries(tmp_path / "empty") == []


def test_a_new_run_dir_is_absolute_under_runs(tmp_path):
    run = new_run_dir(tmp_path)
    assert run.is_absolute() and run.parent == ProjectPaths(tmp_path).runs.resolve()
    assert run.name.startswith("run-") and not run.exists()
