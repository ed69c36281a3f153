"""The job runner: background processes, status rows, logs, cancel, resume, concurrent jobs.

Uses the model-free ``sleep`` job kind (it appends a line per step to ``run_dir/steps.txt``), so
these tests check the runner itself in seconds; ship's own resumability is tested in test_ship.py.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from curation.errors import BadInputError, ConflictError, JobError, NotFoundError
from training.jobs import cancel_job, get_job, list_jobs, resume_job, start_job, wait_job


def wait_for(predicate, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_job_runs_in_the_background_and_reports(tmp_path: Path) -> None:
    job_id = start_job(tmp_path, "sleep", {"run_dir": str(tmp_path / "run"), "steps": 3, "seconds": 0.05})
    assert get_job(tmp_path, job_id)["status"] in ("queued", "running", "succeeded")
    job = wait_job(tmp_path, job_id, timeout=60)
    assert job["status"] == "succeeded" and job["progress"] == 1.0 and job["result"] == {"steps": 3}
    assert job["started"] and job["finished"] and Path(job["log_path"]).exists()
    assert (tmp_path / "run" / "steps.txt").read_text().split() == ["1", "2", "3"]
    assert [j["id"] for j in list_jobs(tmp_path)] == [job_id]


def test_cancel_then_resume(tmp_path: Path) -> None:
    run = tmp_path / "run"
    job_id = start_job(tmp_path, "sleep", {"run_dir": str(run), "steps": 200, "seconds": 0.05})
    wait_for(lambda: (run / "steps.txt").exists())
    job = cancel_job(tmp_path, job_id)
    assert job["status"] == "cancelled"
    pid = job["pid"]
    wait_for(lambda: get_job(tmp_path, job_id)["status"] == "cancelled" and not _alive(pid))
    lines = len((run / "steps.txt").read_text().split())
    time.sleep(0.5)
    assert len((run / "steps.txt").read_text().split()) == lines  # it really stopped
    with pytest.raises(JobError, match="nothing to cancel"):
        cancel_job(tmp_path, job_id)
    resumed = resume_job(tmp_path, job_id)
    assert resumed["status"] in ("queued", "running")
    cancel_job(tmp_path, job_id)


def test_a_killed_job_is_reported_failed_and_can_be_resumed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    job_id = start_job(tmp_path, "sleep", {"run_dir": str(run), "steps": 3, "seconds": 1.0})
    wait_for(lambda: get_job(tmp_path, job_id)["status"] == "running")
    os.killpg(get_job(tmp_path, job_id)["pid"], signal.SIGKILL)
    wait_for(lambda: get_job(tmp_path, job_id)["status"] == "failed")
    assert "resume" in get_job(tmp_path, job_id)["message"]
    resume_job(tmp_path, job_id)
    assert wait_job(tmp_path, job_id, timeout=60)["status"] == "succeeded"
    assert get_job(tmp_path, job_id)["attempts"] == 2


def test_two_concurrent_jobs_keep_their_outputs_apart(tmp_path: Path) -> None:
    ids = [
        start_job(tmp_path, "sleep", {"run_dir": str(tmp_path / name), "steps": 20, "seconds": 0.02})
        for name in ("a", "b")
    ]
    with pytest.raises(ConflictError, match="already writing"):
        start_job(tmp_path, "sleep", {"run_dir": str(tmp_path / "a"), "steps": 1})
    for job_id in ids:
        assert wait_job(tmp_path, job_id, timeout=60)["status"] == "succeeded"
    for name in ("a", "b"):
        assert (tmp_path / name / "steps.txt").read_text().split() == [str(i) for i in range(1, 21)]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="unknown job kind"):
        start_job(tmp_path, "nope", {})
    with pytest.raises(NotFoundError, match="no job"):
        get_job(tmp_path, "missing")
    failing = start_job(tmp_path, "ship", {"run_dir": str(tmp_path / "r")})  # not a project
    job = wait_job(tmp_path, failing, timeout=120)
    assert job["status"] == "failed" and "not a pairsmith project" in job["message"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != pid
    except ChildProcessError:
        return True


@pytest.mark.slow  # loads SmolLM2's tokenizer for the quality signals (converted once, then cached)
def test_analysis_runs_as_a_job_and_writes_its_report(tmp_path: Path) -> None:
    from curation.analysis.results import load_artifact
    from curation.project import init_project
    from tests.factories import make_record

    root = tmp_path / "proj"
    store = init_project(root, "proj")
    store.upsert_records([make_record(id=f"r{i}", input=f"question {i} about refunds") for i in range(12)])
    store.close()
    params = {"run_dir": str(root / "analysis"), "settings": {"embedder": "hashing"}}
    job_id = start_job(root, "analyze", params)
    with pytest.raises(ConflictError, match="already writing"):
        start_job(root, "analyze", params)  # one analysis at a time
    job = wait_job(root, job_id, timeout=300)
    assert job["status"] == "succeeded", job["message"]
    assert job["result"]["records"] == 12 and job["progress"] == 1.0
    assert load_artifact(root, "report")["records"] == 12


def test_latest_job_and_log_tail(tmp_path):
    from training.jobs import latest_job, log_tail, start_job, wait_job

    first = start_job(tmp_path, "sleep", {"run_dir": str(tmp_path / "a"), "steps": 1, "seconds": 0})
    second = start_job(tmp_path, "sleep", {"run_dir": str(tmp_path / "b"), "steps": 1, "seconds": 0})
    for job_id in (first, second):
        wait_job(tmp_path, job_id, timeout=60)
    assert latest_job(tmp_path)["id"] == second
    assert latest_job(tmp_path, job_id=first)["id"] == first
    assert latest_job(tmp_path, job_id="gone")["id"] == second  # an unknown id falls back
    assert latest_job(tmp_path, exclude=frozenset({"sleep"})) is None
    assert latest_job(tmp_path, kinds=frozenset({"analyze"})) is None
    log = tmp_path / "log.txt"
    log.write_text("\n".join(f"line {i}" for i in range(100)))
    assert log_tail(log, lines=2) == "line 98\nline 99"
    assert log_tail(tmp_path / "missing.log") == ""
