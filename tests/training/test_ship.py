"""ship: export → train → eval into one run folder, resumable by stage; the example's tuned adapter wins."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from curation.errors import ConflictError
from curation.importing.example_project import create_example_project
from tests.training.synthetic_task import make_task_project
from training import ship as ship_module
from training.ship import (
    ShipConfig,
    load_ship_config,
    project_ship_config,
    read_state,
    run_lock,
    ship,
)


def test_stages_are_recorded_and_a_rerun_resumes_at_the_first_unfinished_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Model-free: training fails once; the re-run skips the export and trains again."""
    project, run = tmp_path / "p", tmp_path / "run"
    make_task_project(project, n=30).close()
    calls: list[str] = []

    def fake_train(export_dir: Path, out_dir: Path, config: Any, progress: Any = None) -> Any:
        calls.append("train")
        if calls.count("train") == 1:
            raise RuntimeError("killed")
        (Path(out_dir) / "adapter").mkdir(parents=True)
        return type("R", (), {"steps": 3, "metrics": {"eval_loss": 0.5}})()

    def fake_eval(run_dir: Path, **kwargs: Any) -> dict[str, Any]:
        calls.append("eval")
        return {"primary_metric": "chrf", "base": {"chrf": 1.0}, "tuned": {"chrf": 2.0}}

    monkeypatch.setattr(ship_module, "train_adapter", fake_train)
    monkeypatch.setattr(ship_module, "evaluate_run", fake_eval)
    with pytest.raises(RuntimeError, match="killed"):
        ship(project, run)
    state = read_state(run)
    assert list(state["stages"]) == ["export"] and (run / "export" / "hf").exists()
    assert json.loads((run / "output_schema.json").read_text())["required"]
    export_mtime = (run / "export" / "manifest.json").stat().st_mtime
    result = ship(project, run)
    assert calls == ["train", "train", "eval"]
    assert (run / "export" / "manifest.json").stat().st_mtime == export_mtime  # not exported again
    assert list(read_state(run)["stages"]) == ["export", "train", "eval"]
    assert result.to_json()["tuned"] == 2.0
    assert (run / "ship_config.yaml").exists()


def test_one_run_folder_one_writer(tmp_path: Path) -> None:
    with run_lock(tmp_path), pytest.raises(ConflictError, match="another process"), run_lock(tmp_path):
        pass


def test_ship_config_file(tmp_path: Path) -> None:
    file = tmp_path / "ship.yaml"
    file.write_text("export:\n  seed: 7\ntrain:\n  max_steps: 3\n")
    config = load_ship_config(file)
    assert (config.export.seed, config.train.max_steps) == (7, 3)


def test_a_project_ship_yaml_is_the_default_config(tmp_path: Path) -> None:
    project = tmp_path / "fernway"
    create_example_project(project).close()
    config = project_ship_config(project)
    assert config.train.max_steps == 12 and config.train.eval_max_records == 16  # sized for a CPU
    assert project_ship_config(tmp_path / "elsewhere") == ShipConfig()


@pytest.mark.slow
def test_ship_on_the_example_tuned_beats_base_within_ten_minutes(tmp_path: Path) -> None:
    """What `pairsmith ship DIR --out RUN --include-unreviewed` does: the example's own ship.yaml."""
    project, run = tmp_path / "fernway", tmp_path / "run"
    create_example_project(project).close()
    started = time.monotonic()
    result = ship(project, run, include_unreviewed=True)
    elapsed = time.monotonic() - started
    assert load_ship_config(run / "ship_config.yaml").train == project_ship_config(project).train
    report = json.loads((run / "eval" / "report.json").read_text())
    primary = report["primary_metric"]
    assert primary == "json_valid_schema"  # the example ships an output schema
    assert report["tuned"][primary] > report["base"][primary], (report["base"], report["tuned"])
    assert report["tuned"]["validation_loss"] < report["base"]["validation_loss"]
    assert (run / "export" / "openai.jsonl").exists() and (run / "eval" / "report.html").exists()
    assert (run / "adapter" / "adapter_model.safetensors").exists()
    assert (run / "adapter" / "adapter_config.json").exists() and (run / "adapter" / "README.md").exists()
    assert {"train_log.jsonl", "metrics.json", "train_config.yaml"} <= {p.name for p in run.iterdir()}
    assert result.to_json()["tuned"] == report["tuned"][primary]
    print(
        f"ship on the example: {elapsed:.0f}s, {primary} base {report['base'][primary]:.3f} → tuned {report['tuned'][primary]:.3f}"
    )
    assert elapsed < 600
