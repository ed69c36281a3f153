"""Only owners export, train and ship: an annotator is refused before anything is written (no models)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from curation.errors import PermissionDeniedError
from curation.model import Role, User
from tests.training.synthetic_task import make_task_project
from training import ship as ship_module
from training.jobs import list_jobs, start_job
from training.ship import ship
from ui.cli import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A labeled task project with an owner (dana) and an annotator (ann)."""
    root = tmp_path / "p"
    store = make_task_project(root, n=30)
    store.add_user(User(name="dana", role=Role.owner))
    store.add_user(User(name="ann", role=Role.annotator))
    store.close()
    return root


def test_an_annotator_cannot_ship(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_training(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an annotator's ship must not reach training")

    monkeypatch.setattr(ship_module, "train_adapter", no_training)
    with pytest.raises(PermissionDeniedError, match="ann is an annotator and cannot export, train and ship"):
        ship(project, tmp_path / "run", user="ann")
    assert not (tmp_path / "run").exists()


def test_an_owner_ships(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_train(export_dir: Path, out_dir: Path, config: Any, progress: Any = None) -> Any:
        return type("R", (), {"steps": 1, "metrics": {"eval_loss": 0.5}})()

    def fake_eval(run_dir: Path, **kwargs: Any) -> dict[str, Any]:
        return {"primary_metric": "chrf", "base": {"chrf": 1.0}, "tuned": {"chrf": 2.0}}

    monkeypatch.setattr(ship_module, "train_adapter", fake_train)
    monkeypatch.setattr(ship_module, "evaluate_run", fake_eval)
    assert ship(project, tmp_path / "run", user="dana").to_json()["tuned"] == 2.0
    assert (tmp_path / "run" / "export" / "openai.jsonl").exists()


def test_a_resumed_ship_checks_again(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finished stages are skipped, but the owner check never is."""
    run = tmp_path / "run"

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("killed")

    monkeypatch.setattr(ship_module, "train_adapter", killed)
    with pytest.raises(RuntimeError, match="killed"):
        ship(project, run, user="dana")
    with pytest.raises(PermissionDeniedError, match="ann"):
        ship(project, run, user="ann")


def test_the_cli_refuses_an_annotator(project: Path, tmp_path: Path) -> None:
    shipped = runner.invoke(app, ["ship", str(project), "--out", str(tmp_path / "run"), "--user", "ann"])
    assert shipped.exit_code == 1 and "ann is an annotator" in shipped.stderr
    assert not (tmp_path / "run").exists()
    exported = runner.invoke(app, ["export", str(project), "--out", str(tmp_path / "out"), "--user", "ann"])
    assert exported.exit_code == 1 and "ann is an annotator" in exported.stderr
    assert not (tmp_path / "out").exists()
    unknown = runner.invoke(app, ["export", str(project), "--out", str(tmp_path / "out"), "--user", "zed"])
    assert unknown.exit_code == 1 and "zed" in unknown.stderr
    owner = runner.invoke(
        app, ["export", str(project), "--out", str(tmp_path / "out"), "--user", "dana", "--json"]
    )
    assert owner.exit_code == 0 and sum(json.loads(owner.stdout)["counts"].values()) == 30


def test_the_job_runner_refuses_an_annotator(project: Path, tmp_path: Path) -> None:
    with pytest.raises(PermissionDeniedError, match="ann"):
        start_job(project, "ship", {"run_dir": str(tmp_path / "run")}, user="ann")
    with pytest.raises(PermissionDeniedError, match="ann"):
        start_job(project, "train", {"run_dir": str(tmp_path / "run"), "export_dir": "x"}, user="ann")
    assert list_jobs(project) == []


def test_resuming_a_ship_job_from_the_cli_checks_the_user(project: Path, tmp_path: Path) -> None:
    from training.jobs import cancel_job, get_job

    job_id = start_job(project, "ship", {"run_dir": str(tmp_path / "run")}, user="dana")
    cancel_job(project, job_id)
    refused = runner.invoke(app, ["jobs", str(project), "resume", job_id, "--user", "ann"])
    assert refused.exit_code == 1 and "ann is an annotator" in refused.stderr
    assert get_job(project, job_id)["status"] == "cancelled"


def test_eval_ab_refuses_an_annotator_before_generating(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.evaluate

    def no_generation(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an annotator's eval --ab must not reach generation")

    monkeypatch.setattr(training.evaluate, "evaluate_run", no_generation)
    run = tmp_path / "run"
    run.mkdir()
    refused = runner.invoke(app, ["eval", str(run), "--project", str(project), "--ab", "--user", "ann"])
    assert refused.exit_code == 1 and "ann is an annotator" in refused.stderr
    assert not (project / "ab").exists()
