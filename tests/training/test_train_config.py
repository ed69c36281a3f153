"""Training config: YAML file, CLI overrides win, saved beside the run, clear errors; base-model resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.errors import BadInputError, NotFoundError
from training.base_model import DEFAULT_BASE_MODEL, resolve_base_model
from training.config import CONFIG_FILE, TrainConfig, load_train_config, save_train_config
from training.train import latest_checkpoint


def test_yaml_then_overrides_and_round_trip(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("r: 4\nlearning_rate: 0.01\nmax_steps: 7\n")
    config = load_train_config(file, r=8, seed=None)
    assert (config.r, config.learning_rate, config.max_steps, config.seed) == (8, 0.01, 7, 42)
    save_train_config(config, tmp_path / "run")
    assert load_train_config(tmp_path / "run" / CONFIG_FILE) == config


def test_ship_style_file_with_a_train_section(tmp_path: Path) -> None:
    file = tmp_path / "ship.yaml"
    file.write_text("export:\n  seed: 1\ntrain:\n  batch_size: 2\n")
    assert load_train_config(file).batch_size == 2


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_train_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rank: 4\n")
    with pytest.raises(BadInputError, match="rank"):
        load_train_config(bad)
    with pytest.raises(BadInputError, match="learning_rate"):
        load_train_config(learning_rate=-1)


def test_base_model_resolution(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    with pytest.raises(NotFoundError, match=r"no config\.json"):
        resolve_base_model(str(folder))
    (folder / "config.json").write_text("{}")
    assert resolve_base_model(str(folder)) == str(folder)
    with pytest.raises(NotFoundError):
        resolve_base_model(str(tmp_path / "nope"))
    assert resolve_base_model("org/some-model") == "org/some-model"  # a hub id passes through
    assert TrainConfig().base_model == DEFAULT_BASE_MODEL


def test_latest_checkpoint_skips_incomplete_ones(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    for step, complete in ((2, True), (10, True), (12, False)):
        ck = tmp_path / f"checkpoint-{step}"
        ck.mkdir()
        if complete:
            (ck / "trainer_state.json").write_text("{}")
    assert latest_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")
