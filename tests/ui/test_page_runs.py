"""The runs page: the list of runs, metrics, and base vs. tuned outputs per test record."""

from __future__ import annotations

from curation.files import ProjectPaths, atomic_write_json
from tests.ui.conftest import ANNOTATOR, app_as, no_exception

PAGE = "app_pages/runs.py"


def test_runs_list_metrics_and_side_by_side_outputs(seeded_project):
    root, _ = seeded_project()
    run = ProjectPaths(root).runs / "run-1"
    report = {
        "primary_metric": "exact_match",
        "base": {"exact_match": 0.1, "validation_loss": 2.0},
        "tuned": {"exact_match": 0.6, "validation_loss": 1.1},
        "improved": True,
        "test_examples": 1,
        "base_model": "smollm2",
        "records": [
            {
                "id": "r1",
                "input": "Where is it?",
                "reference": "ref out",
                "base": "base out",
                "tuned": "tuned out",
            }
        ],
    }
    atomic_write_json(run / "eval" / "report.json", report)
    atomic_write_json(
        run / "state.json",
        {"stages": {"export": {"done": True}, "train": {"done": True}, "eval": {"done": True}}},
    )
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    runs = at.dataframe[0].value
    assert runs["run"].tolist() == ["run-1"] and runs["tuned"].tolist() == [0.6]
    metrics = at.dataframe[1].value
    assert set(metrics["metric"]) == {"exact_match", "validation_loss"}
    shown = [t.value for t in at.text]
    assert {"base out", "tuned out", "ref out"} <= set(shown)


def test_no_runs_yet(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert "No runs yet" in at.info[0].value


def test_a_failed_run_shows_status_error_and_log(seeded_project, tmp_path):
    from training import jobs

    root, _ = seeded_project()
    run = ProjectPaths(root).runs / "run-2"
    job_id = jobs.start_job(
        root,
        "sleep",
        {"run_dir": str(run.resolve()), "steps": "gone.yaml"},  # fails inside the job
    )
    jobs.wait_job(root, job_id, timeout=120)
    run.mkdir(parents=True, exist_ok=True)
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    [row] = at.dataframe[0].value.to_dict("records")
    assert row["status"] == "failed" and "gone.yaml" in row["error"]
    assert "Run run-2 failed" in at.error[0].value.replace("\\", "")
    assert "gone.yaml" in at.code[0].value  # the log
    assert not [b for b in at.button if b.key == "runs_resume"]


def test_two_runs_side_by_side_with_intervals_and_outputs(seeded_project):
    from tests.training.runs_factory import write_run

    root, _ = seeded_project()
    runs = ProjectPaths(root).runs
    write_run(runs / "run-1-raw", [i % 2 == 0 for i in range(20)], loss=1.5)
    write_run(runs / "run-2-clean", [True] * 20, excluded_by={"duplicate": 7}, loss=0.8)
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    # Newest first: B is the newest run, A the one before it.
    assert at.selectbox(key="runs_compare_a").value == "run-1-raw"
    assert at.selectbox(key="runs_compare_b").value == "run-2-clean"
    frames = [f.value for f in at.dataframe]
    removed = next(f for f in frames if "reason" in f.columns)
    assert removed.to_dict("records") == [{"reason": "duplicate", "a": 0, "b": 7}]
    metrics = next(f for f in frames if "B − A" in f.columns)
    primary = metrics.iloc[0]
    assert primary["metric"] == "json_match" and primary["A"] == 0.5 and primary["B"] == 1.0
    assert bool(primary["significant"]) is True and primary["B − A interval"] != "–"
    assert any("validation loss A 1.5, B 0.8" in c.value for c in at.caption)
    shown = [t.value for t in at.text]
    assert "input t1" in shown  # a test input where the two runs differ
    # Choosing the same run twice asks for two different runs.
    at.selectbox(key="runs_compare_a").select("run-2-clean").run()
    no_exception(at)
    assert any("two different runs" in i.value for i in at.info)
