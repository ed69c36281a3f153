"""Refuse before starting: split minimums with a plain "how many records" message, on export, ship,
background jobs and training; readable progress; failed runs with status, error and log; resume
only where it can work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import pytest

from curation.errors import BadInputError, JobError
from curation.model import Response
from curation.project import init_project
from tests.factories import make_record
from tests.training.synthetic_task import make_task_project
from training import jobs
from training import ship as ship_module
from training.export import export_clean_set
from training.export_config import ExportConfig
from training.preflight import check_counts, records_needed, require_trainable
from training.progress import describe, format_seconds
from training.runs import run_summaries
from training.ship import read_state, ship
from training.train import load_splits


def three_record_project(root: Path) -> Path:
    store = init_project(root, "tiny")
    store.upsert_records([make_record(id=f"r{i}") for i in range(3)])
    for i in range(3):
        store.save_response(
            Response(record_id=f"r{i}", user="ann", values={"label": "good"}, status="submitted")
        )
    store.close()
    return root


def test_records_needed_follows_the_fractions():
    assert records_needed(ExportConfig()) == 7
    config = ExportConfig.model_validate({"fractions": {"train": 0.5, "validation": 0.25, "test": 0.25}})
    assert records_needed(config) == 3
    train_only = ExportConfig.model_validate({"fractions": {"train": 1, "validation": 0, "test": 0}})
    assert records_needed(train_only) == 1
    bigger = ExportConfig.model_validate({"min_split_records": {"train": 20, "validation": 5, "test": 5}})
    assert records_needed(bigger) == 47  # the greedy assignment fills validation and test a little late
    check = check_counts({"train": 3, "validation": 0, "test": 0}, ExportConfig())
    assert check.problems == [
        "the validation split would get 0 (it needs at least 1)",
        "the test split would get 0 (it needs at least 1)",
    ]
    assert "an export needs at least 7 records" in check.message(3)


def test_a_three_record_export_is_refused_before_anything_is_written(tmp_path):
    root = three_record_project(tmp_path / "p")
    from curation.project import open_store

    store = open_store(root)
    with pytest.raises(BadInputError, match=r"The clean set has 3 records.*needs at least 7 records"):
        export_clean_set(store, tmp_path / "out", ExportConfig())
    assert store.list_versions() == [] and not (tmp_path / "out").exists()
    store.close()


def test_ship_refuses_before_the_run_folder_exists(tmp_path):
    root = three_record_project(tmp_path / "p")
    with pytest.raises(BadInputError, match="needs at least 7 records"):
        ship(root, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_background_ship_is_refused_before_its_process_starts(tmp_path):
    root = three_record_project(tmp_path / "p")
    with pytest.raises(BadInputError, match="needs at least 7 records"):
        jobs.start_job(root, "ship", {"run_dir": str(tmp_path / "run")})
    assert jobs.list_jobs(root) == []


def empty_split_export(out: Path) -> Path:
    """What an older export of 3 records looked like: a saved validation split of 0 rows."""
    rows = {
        "prompt": [[{"role": "user", "content": "q"}]],
        "completion": [[{"role": "assistant", "content": "a"}]],
    }
    empty = {"prompt": [], "completion": []}
    features = datasets.Dataset.from_dict(rows).features
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(rows),
            "validation": datasets.Dataset.from_dict(empty, features=features),
            "test": datasets.Dataset.from_dict(empty, features=features),
        }
    ).save_to_disk(str(out / "hf"))
    return out


def test_training_refuses_an_export_without_validation_before_reading_it(tmp_path):
    export = empty_split_export(tmp_path / "export")
    (export / "manifest.json").write_text(json.dumps({"counts": {"train": 3, "validation": 0, "test": 0}}))
    with pytest.raises(
        BadInputError, match=r"holds 3 train, 0 validation, 0 test examples.*at least 7 records"
    ):
        load_splits(export)
    with pytest.raises(BadInputError, match="0 validation"):
        jobs.start_job(tmp_path, "train", {"export_dir": str(export), "run_dir": str(tmp_path / "run")})
    (export / "manifest.json").unlink()  # no manifest: the unreadable split is still a plain message
    with pytest.raises(BadInputError, match="empty split"):
        load_splits(export)
    require_trainable(tmp_path / "nowhere")  # nothing to check: load_splits says the folder is missing


def test_progress_lines_say_step_loss_and_eta():
    assert describe({"stage": "train", "step": 12, "total": 90, "loss": 1.23456, "eta_s": 40}) == (
        "train: step 12/90 · loss 1.235 · ETA 40 s"
    )
    assert (
        describe({"stage": "train", "message": "loading the base model"}) == "train: loading the base model"
    )
    assert describe({"stage": "export"}) == "export"
    assert (format_seconds(185), format_seconds(3725)) == ("3 min 5 s", "1 h 2 min")


def test_a_failed_ship_records_its_status_error_and_stage(tmp_path, monkeypatch):
    project = tmp_path / "p"
    make_task_project(project, n=30).close()

    def broken_train(export_dir: Path, out_dir: Path, config: Any, progress: Any = None) -> Any:
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(ship_module, "train_adapter", broken_train)
    run = project / "runs" / "run-1"
    with pytest.raises(RuntimeError):
        ship(project, run)
    state = read_state(run)
    assert (state["status"], state["error"], state["failed_stage"]) == (
        "failed",
        "CUDA out of memory",
        "train",
    )
    [row] = run_summaries(project)
    assert (row["status"], row["error"], row["stages done"], row["metric"]) == (
        "failed",
        "CUDA out of memory",
        "export",
        None,
    )


def test_a_failure_a_resume_would_repeat_is_not_resumable(tmp_path):
    failing = jobs.start_job(tmp_path, "ship", {"run_dir": str(tmp_path / "r")})  # not a project
    job = jobs.wait_job(tmp_path, failing, timeout=120)
    assert job["status"] == "failed" and not job["resumable"] and "not a pairsmith project" in job["error"]
    with pytest.raises(JobError, match="a resume would repeat"):
        jobs.resume_job(tmp_path, failing)


def test_failures_from_outside_are_resumable():
    from curation.errors import BackendError, NotFoundError, PermissionDeniedError

    assert jobs.resumable_failure(BackendError("server down"))
    assert jobs.resumable_failure(OSError("disk full"))
    assert jobs.resumable_failure(SystemExit(143))
    assert not jobs.resumable_failure(BadInputError("3 records"))
    assert not jobs.resumable_failure(NotFoundError("no project"))
    assert not jobs.resumable_failure(PermissionDeniedError("annotator"))
    assert not jobs.resumable_failure(IndexError("list index out of range"))  # a bug: report it


def test_a_job_log_holds_readable_progress_lines(tmp_path):
    job_id = jobs.start_job(
        tmp_path, "sleep", {"run_dir": str(tmp_path / "run"), "steps": 3, "seconds": 0.05}
    )
    job = jobs.wait_job(tmp_path, job_id, timeout=60)
    log = Path(job["log_path"]).read_text()
    assert "sleep: step 1/3" in log and "sleep: step 3/3" in log and "\r" not in log
    assert job["message"] == "done" and "sleep: step 3/3" in log
