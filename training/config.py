"""The training configuration: one typed object, loadable from YAML, overridable by CLI flags.

It is saved beside every run as ``train_config.yaml`` so a run can be reproduced exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curation.errors import BadInputError, NotFoundError
from curation.files import atomic_write_text
from training.base_model import DEFAULT_BASE_MODEL

CONFIG_FILE = "train_config.yaml"


class TrainConfig(BaseModel):
    """LoRA, optimisation, data and evaluation settings. Defaults suit the bundled 135M model on a CPU."""

    model_config = ConfigDict(extra="forbid")

    # --- model and adapter -------------------------------------------------------------------
    base_model: str = DEFAULT_BASE_MODEL
    """``smollm2-135m-instruct`` (bundled), a local HF model folder, or a hub id."""
    r: int = Field(default=16, ge=1)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )

    # --- optimisation ------------------------------------------------------------------------
    learning_rate: float = Field(default=1e-3, gt=0)
    epochs: float = Field(default=3.0, gt=0)
    max_steps: int = -1
    """When > 0, overrides ``epochs``."""
    batch_size: int = Field(default=8, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    warmup_ratio: float = Field(default=0.05, ge=0, lt=1)
    weight_decay: float = 0.0
    seed: int = 42
    max_length: int = Field(default=256, ge=16)
    """Tokens per example (prompt + completion); longer examples are truncated."""
    group_by_length: bool = True
    """Batch examples of similar length together: less padding, more tokens/s."""
    packing: bool = False
    """Pack examples into max_length blocks (padding-free); best with flash attention on a GPU."""
    gradient_checkpointing: bool = False
    """Trade compute for memory; off by default because small models fit easily."""

    # --- checkpoints, evaluation, early stopping ---------------------------------------------
    eval_steps: int = Field(default=20, ge=1)
    save_steps: int = Field(default=20, ge=1)
    save_total_limit: int = Field(default=2, ge=1)
    logging_steps: int = Field(default=5, ge=1)
    val_max_records: int | None = None
    """Cap on validation records used for the validation loss (None = all); keeps CPU runs short."""
    early_stopping_patience: int = Field(default=3, ge=0)
    """Evaluations without a better validation loss before training stops (0 = never stop early)."""

    # --- evaluation (generation) -------------------------------------------------------------
    eval_max_new_tokens: int = Field(default=96, ge=1)
    eval_batch_size: int = Field(default=16, ge=1)
    eval_max_records: int | None = None
    """Cap on test records to generate for (None = all)."""
    primary_metric: str | None = None
    """None: ``json_valid_schema`` when the project has an output schema, else ``chrf``."""
    device: Literal["auto", "cpu", "cuda"] = "auto"


def load_train_config(path: Path | str | None = None, **overrides: Any) -> TrainConfig:
    """Read a YAML/JSON config (or the defaults) and apply non-None ``overrides`` (CLI flags win)."""
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.exists():
            raise NotFoundError(f"training config file {file} does not exist")
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise BadInputError(f"cannot parse the config: {exc}", where=str(file)) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise BadInputError("the config must be a mapping of option: value", where=str(file))
        # A ship config may hold a `train:` section beside `export:`.
        data.update(loaded.get("train", loaded) if isinstance(loaded.get("train"), dict) else loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    data.pop("export", None)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise BadInputError(
            f"invalid training config: {problems}", where=str(path) if path else None
        ) from None


def save_train_config(config: TrainConfig, out_dir: Path | str) -> Path:
    """Write ``train_config.yaml`` beside a run."""
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    return atomic_write_text(Path(out_dir) / CONFIG_FILE, text)
