"""`pairsmith runs compare A B`: two runs side by side, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.training.runs_factory import write_run
from ui.cli import app

runner = CliRunner()


def test_compare_json_has_intervals_removed_reasons_and_a_sample(tmp_path: Path) -> None:
    a = write_run(tmp_path / "raw", [i % 3 == 0 for i in range(30)])
    b = write_run(tmp_path / "clean", [True] * 30, excluded_by={"duplicate": 9})
    result = runner.invoke(app, ["runs", "compare", str(a), str(b), "--json", "--sample", "3"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    primary = data["metrics"][0]
    assert primary["metric"] == "json_match" and primary["significant"] is True
    assert primary["b"]["value"] == 1.0 and primary["difference"]["low"] > 0
    assert data["removed"] == [{"reason": "duplicate", "a": 0, "b": 9}]
    assert len(data["sample"]) == 3 and data["sample"][0]["b_score"] == 1.0


def test_compare_text_shows_every_section(tmp_path: Path) -> None:
    a = write_run(tmp_path / "raw", [True, False, False, True])
    b = write_run(tmp_path / "clean", [True, True, False, True], excluded_by={"quality_flag": 2})
    result = runner.invoke(app, ["runs", "compare", str(a), str(b)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    for heading in ("Data", "Removed by curation", "Diversity", "Metrics", "Validation loss", "Test inputs"):
        assert heading in result.stdout
    assert "quality_flag" in result.stdout and "json_match" in result.stdout


def test_compare_an_unevaluated_run_is_a_clean_error(tmp_path: Path) -> None:
    a = write_run(tmp_path / "raw", [True])
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["runs", "compare", str(a), str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "pairsmith eval" in result.stderr and "Traceback" not in result.stderr
