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
