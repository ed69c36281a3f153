"""Run comparison (`pairsmith runs compare A B`): data, what curation removed, diversity, metrics
with bootstrap intervals, and test inputs with both models' outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.errors import NotFoundError
from tests.training.runs_factory import write_run
from training.compare import bootstrap_mean, compare_runs_detail


def test_bootstrap_interval_holds_the_mean_and_shrinks_to_it_for_constant_scores() -> None:
    mean, low, high = bootstrap_mean(np.array([0.0, 1.0] * 50))
    assert low < mean == 0.5 < high and high - low < 0.3
    assert bootstrap_mean(np.ones(20)) == (1.0, 1.0, 1.0)


def test_paired_difference_is_significant_when_b_is_clearly_better(tmp_path: Path) -> None:
    a = write_run(tmp_path / "raw", [i % 2 == 0 for i in range(60)], loss=1.4)
    b = write_run(
        tmp_path / "clean",
        [True] * 60,
        excluded_by={"duplicate": 30, "quality_flag": 12},
        selection={"selected": 100, "pool": 140, "mean_quality": 0.8},
        vendi=(10.0, 9.5),
        loss=0.9,
    )
    result = compare_runs_detail(a, b)
    assert result["paired"] and not result["notes"]
    primary = result["metrics"][0]
    assert primary["metric"] == "json_match"
    assert primary["a"]["value"] == 0.5 and primary["b"]["value"] == 1.0
    assert primary["a"]["low"] < 0.5 < primary["a"]["high"]
    assert primary["difference"]["value"] == 0.5 and primary["difference"]["low"] > 0
    assert primary["significant"] is True
    removed = {r["reason"]: (r["a"], r["b"]) for r in result["removed"]}
    assert removed == {"duplicate": (0, 30), "quality_flag": (0, 12), "not_selected": (0, 40)}
    vendi = next(r for r in result["diversity"] if r["figure"] == "vendi_score")
    assert (vendi["a_before"], vendi["a_after"], vendi["b_after"]) == (10.0, 8.0, 9.5)
    assert result["validation_loss"] == {"a": 1.4, "b": 0.9}
    assert result["data"]["b"]["selection"] == {"selected": 100, "pool": 140, "mean_quality": 0.8}


def test_the_sample_shows_the_largest_differences_first(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [True, False, True, False])
    b = write_run(tmp_path / "b", [True, True, True, False])
    sample = compare_runs_detail(a, b, sample=2)["sample"]
    assert sample[0]["id"] == "t1" and (sample[0]["a_score"], sample[0]["b_score"]) == (0.0, 1.0)
    assert sample[0]["a"] == '{"intent": "b"}' and sample[0]["b"] == '{"intent": "a"}'
    assert len(sample) == 2


def test_runs_on_different_test_records_are_not_paired(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [True, False], ids=["x1", "x2"])
    b = write_run(tmp_path / "b", [True, True], ids=["y1", "y2"])
    result = compare_runs_detail(a, b)
    assert result["paired"] is False and result["metrics"][0]["difference"] is None
    assert "different test records" in result["notes"][0]


def test_an_unevaluated_run_is_named(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [True])
    (tmp_path / "b").mkdir()
    with pytest.raises(NotFoundError, match="pairsmith eval"):
        compare_runs_detail(a, tmp_path / "b")
    with pytest.raises(NotFoundError, match="does not exist"):
        compare_runs_detail(a, tmp_path / "missing")
