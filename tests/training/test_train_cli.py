"""`pairsmith train --json` end to end on a tiny export: stdout holds only the JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.training.synthetic_task import write_export
from ui.cli import app


@pytest.mark.slow
def test_train_json_prints_only_json(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", n_train=8, n_val=2, n_test=2)
    args = ["train", str(export), "--out", str(tmp_path / "run"), "--max-steps", "2", "--batch-size", "2"]
    result = CliRunner().invoke(app, [*args, "--max-length", "96", "--r", "4", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # no trainer log lines mixed in
    assert data["steps"] == 2 and Path(data["adapter_dir"], "adapter_model.safetensors").exists()
    assert [
        json.loads(line)["step"] for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    ]


@pytest.mark.slow
def test_train_progress_shows_steps_loss_and_eta(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", n_train=8, n_val=2, n_test=2)
    config = tmp_path / "train.yaml"
    config.write_text("logging_steps: 1\neval_steps: 10\nsave_steps: 10\nearly_stopping_patience: 0\n")
    args = ["train", str(export), "--out", str(tmp_path / "run"), "--config", str(config), "--max-steps", "3"]
    result = CliRunner().invoke(app, [*args, "--batch-size", "2", "--max-length", "96", "--r", "4"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any("train: loading the base model" in line for line in lines)
    assert any("train: step 3/3" in line for line in lines)
    assert any("loss " in line and "ETA " in line for line in lines), lines
