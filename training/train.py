"""LoRA fine-tuning of a causal LM on an export's prompt/completion split, with TRL's SFTTrainer.

:func:`train_adapter` reads top to bottom: data → model → LoRA → trainer → train (resuming from
the newest checkpoint) → save the adapter, log, metrics, config and model card. The loss covers
completion tokens only; CUDA and bf16 are used automatically when a GPU is present.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from curation.errors import BadInputError, NotFoundError
from curation.files import atomic_write_json
from training.base_model import resolve_base_model
from training.config import TrainConfig, save_train_config
from training.preflight import require_trainable

ProgressCallback = Callable[[dict[str, Any]], None]
"""Receives ``{"stage", "step", "total", "fraction", "eta_s", "loss"?, "message"?}`` as training
advances (training.progress.describe turns one into a line)."""

TRAIN_COLUMNS = ("prompt", "completion")


@dataclass
class TrainResult:
    """What a training run produced; :meth:`to_json` is the shape of `pairsmith train --json`."""

    out_dir: Path
    adapter_dir: Path
    base_model: str
    steps: int
    resumed_from: str | None
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return data | {"out_dir": str(self.out_dir), "adapter_dir": str(self.adapter_dir)}


def pick_device(preference: str = "auto") -> tuple[str, bool]:
    """(device, bf16): CUDA with bf16 when available (or asked for), else CPU in float32."""
    import torch

    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return "cpu", False
    if not torch.cuda.is_available():
        raise BadInputError("device 'cuda' was asked for, but no CUDA device is available; use --device auto")
    return "cuda", bool(torch.cuda.is_bf16_supported())


def load_splits(export_dir: Path | str) -> Any:
    """The export's Hugging Face DatasetDict (``export_dir/hf``), with a clear error when missing."""
    import datasets

    hf = Path(export_dir) / "hf"
    if not hf.exists():
        raise NotFoundError(f"{hf} does not exist; export the project first with `pairsmith export`")
    require_trainable(export_dir)
    try:
        splits = datasets.load_from_disk(str(hf))
    except IndexError:  # a saved split of 0 rows (exports before pairsmith left empty splits out)
        raise BadInputError(
            f"the export at {export_dir} has an empty split datasets cannot read; export it again with "
            "more records (`pairsmith export DIR --out …`)"
        ) from None
    for split in ("train", "validation"):
        if split not in splits or len(splits[split]) == 0:
            raise BadInputError(f"the export at {export_dir} has no '{split}' examples; export more records")
    return splits


def _complete(checkpoint: Path) -> bool:
    """The Trainer writes ``trainer_state.json`` last, and not atomically: a checkpoint is complete
    when that file is there and reads as a JSON object (a kill mid-write leaves it cut short)."""
    state = checkpoint / "trainer_state.json"
    try:
        return isinstance(json.loads(state.read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        return False


def latest_checkpoint(checkpoints: Path) -> str | None:
    """The newest complete ``checkpoint-N`` folder, or None (a crash mid-save leaves an incomplete one)."""
    if not checkpoints.exists():
        return None
    done = [p for p in checkpoints.glob("checkpoint-*") if p.name.split("-")[-1].isdigit() and _complete(p)]
    return str(max(done, key=lambda p: int(p.name.split("-")[-1]))) if done else None


def _progress_callback(log_path: Path, progress: ProgressCallback | None) -> Any:
    """A TrainerCallback that appends every log to train_log.jsonl and reports progress with an ETA."""
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):
        def __init__(self) -> None:
            self.start_time = 0.0
            self.start_step = 0
            self.loss: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.start_time, self.start_step = time.monotonic(), state.global_step
            total = max(state.max_steps, 1)
            if progress is not None:
                progress(
                    {
                        "stage": "train",
                        "step": state.global_step,
                        "total": total,
                        "fraction": state.global_step / total,
                        "eta_s": None,
                        "message": "resuming" if state.global_step else "starting",
                    }
                )

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            done = state.global_step - self.start_step
            rate = (time.monotonic() - self.start_time) / max(done, 1)
            total = max(state.max_steps, 1)
            if progress is not None:
                progress(
                    {
                        "stage": "train",
                        "step": state.global_step,
                        "total": total,
                        "fraction": state.global_step / total,
                        "eta_s": round(rate * (total - state.global_step), 1),
                        "loss": self.loss,
                    }
                )

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            entry = {"step": state.global_step, "epoch": state.epoch, "time": time.time(), **(logs or {})}
            if isinstance(entry.get("loss"), int | float):
                self.loss = float(entry["loss"])
            with log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

    return _Progress()


def build_lora_config(config: TrainConfig) -> Any:
    """The peft ``LoraConfig`` of a run: rank, alpha, dropout and target modules from ``config``."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )


def build_sft_config(config: TrainConfig, checkpoints: Path, device: str, bf16: bool) -> Any:
    """The TRL ``SFTConfig`` :func:`train_adapter` trains with, from ``config``.

    Public so that benchmarks/bench_training.py gives a plain TRL trainer exactly these arguments.
    Next to the hyperparameters it sets the two speed flags TRL defaults otherwise:
    ``gradient_checkpointing`` (TRL: on) and ``group_by_length`` (TRL: random batches).
    """
    from trl import SFTConfig

    # Early stopping restores the best checkpoint, so saves must land on evaluation steps.
    save_steps = config.eval_steps * max(1, round(config.save_steps / config.eval_steps))
    return SFTConfig(
        output_dir=str(checkpoints),
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        lr_scheduler_type="cosine",
        seed=config.seed,
        data_seed=config.seed,
        max_length=config.max_length,
        completion_only_loss=True,
        packing=config.packing,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        activation_checkpointing=config.gradient_checkpointing,  # transformers 5 name; TRL defaults it on
        bf16=bf16,
        use_cpu=device == "cpu",
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=config.early_stopping_patience > 0,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        logging_steps=config.logging_steps,
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def train_adapter(
    export_dir: Path | str,
    out_dir: Path | str,
    config: TrainConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train a LoRA adapter on ``export_dir/hf`` and write it to ``out_dir/adapter``.

    Also writes ``out_dir/train_log.jsonl``, ``metrics.json``, ``train_config.yaml`` and the model
    card ``adapter/README.md``. Checkpoints go to ``out_dir/checkpoints``; calling this again
    after a crash or a kill resumes from the newest one.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, EarlyStoppingCallback, PrinterCallback
    from trl import SFTTrainer

    config = config or TrainConfig()
    say: ProgressCallback = progress or (lambda _: None)
    # 1. Data: prompt/completion chat messages; the trainer applies the model's chat template.
    say({"stage": "train", "message": "reading the export", "fraction": 0.0})
    splits = load_splits(export_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    checkpoints = out / "checkpoints"
    save_train_config(config, out)
    train_set = splits["train"].select_columns(list(TRAIN_COLUMNS))
    eval_set = splits["validation"].select_columns(list(TRAIN_COLUMNS))
    if config.val_max_records:
        eval_set = eval_set.select(range(min(config.val_max_records, len(eval_set))))

    # 2. Model and tokenizer (the bundled GGUF model is converted once to a cached safetensors copy).
    device, bf16 = pick_device(config.device)
    say({"stage": "train", "message": f"loading the base model {config.base_model}", "fraction": 0.0})
    base_path = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)

    # 3. LoRA on the attention and MLP projections.
    lora = build_lora_config(config)

    # 4. Trainer: loss on completions only, periodic checkpoints, early stopping on validation loss.
    log_path = out / "train_log.jsonl"
    callbacks: list[Any] = [_progress_callback(log_path, progress)]
    if config.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    say({"stage": "train", "message": f"tokenizing {len(train_set)} training examples", "fraction": 0.0})
    trainer = SFTTrainer(
        model=model,
        args=build_sft_config(config, checkpoints, device, bf16),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=callbacks,
    )
    # With tqdm disabled the Trainer prints every log dict to stdout; our callback logs instead, and
    # stdout stays clean for `--json`.
    trainer.remove_callback(PrinterCallback)

    # 5. Train, resuming from the newest checkpoint when an earlier run was interrupted.
    resume = latest_checkpoint(checkpoints)
    started = time.monotonic()
    output = trainer.train(resume_from_checkpoint=resume)
    wall = time.monotonic() - started
    # The validation loss of the final weights: reuse the evaluation of the last step when there was one.
    final_eval = next(
        (
            e
            for e in reversed(trainer.state.log_history)
            if "eval_loss" in e and e.get("step") == trainer.state.global_step
        ),
        None,
    )
    if final_eval is None or config.early_stopping_patience > 0:  # early stopping restored the best weights
        say({"stage": "train", "message": "measuring the validation loss", "fraction": 1.0})
        final_eval = trainer.evaluate()

    # 6. Save the adapter atomically: a kill during the save never leaves a half-written adapter.
    adapter_dir = out / "adapter"
    staging = out / ".adapter.partial"
    shutil.rmtree(staging, ignore_errors=True)
    trained: Any = trainer.model  # the PeftModel: save_pretrained writes only the adapter
    trained.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    eval_loss = float(final_eval.get("eval_loss", float("nan")))
    tokens = int(trainer.state.num_input_tokens_seen or 0)
    metrics: dict[str, Any] = {
        "base_model": config.base_model,
        "base_model_path": base_path,
        "device": device,
        "bf16": bf16,
        "global_step": trainer.state.global_step,
        "epochs": trainer.state.epoch,
        "train_loss": output.training_loss,
        "eval_loss": eval_loss,
        "perplexity": math.exp(eval_loss) if eval_loss < 50 else float("inf"),
        "best_eval_loss": trainer.state.best_metric,
        "train_examples": len(train_set),
        "validation_examples": len(eval_set),
        "tokens_seen": tokens,
        "train_runtime_s": round(wall, 2),
        "tokens_per_s": round(tokens / wall, 1) if wall > 0 else None,
        "resumed_from": resume,
        "stopped_early": trainer.state.global_step < trainer.state.max_steps,
    }
    (staging / "README.md").write_text(render_model_card(config, metrics, export_dir), encoding="utf-8")
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    os.replace(staging, adapter_dir)
    atomic_write_json(out / "metrics.json", metrics)
    return TrainResult(
        out_dir=out,
        adapter_dir=adapter_dir,
        base_model=config.base_model,
        steps=trainer.state.global_step,
        resumed_from=resume,
        metrics=metrics,
    )


def render_model_card(config: TrainConfig, metrics: dict[str, Any], export_dir: Path | str) -> str:
    """A short model card: base model, data (with the export's hash), settings and results."""
    manifest_path = Path(export_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    version = manifest.get("dataset_version", {})
    lines = [
        "---",
        f"base_model: {config.base_model}",
        "library_name: peft",
        "tags: [lora, sft, pairsmith]",
        "---",
        "",
        "# LoRA adapter trained with pairsmith",
        "",
        f"- Base model: `{config.base_model}` (`{metrics.get('base_model_path')}`)",
        f"- Data: export `{export_dir}`, dataset version `{version.get('name', '?')}`, "
        f"export hash `{manifest.get('export_hash', '?')}`",
        f"- Examples: {metrics['train_examples']} train, {metrics['validation_examples']} validation",
        f"- LoRA: r={config.r}, alpha={config.alpha}, dropout={config.dropout}, "
        f"modules={', '.join(config.target_modules)}",
        f"- Optimisation: lr={config.learning_rate}, batch={config.batch_size}x{config.grad_accum}, "
        f"max_length={config.max_length}, steps={metrics['global_step']}, seed={config.seed}",
        f"- Device: {metrics['device']}{' (bf16)' if metrics['bf16'] else ''}",
        "",
        "## Results",
        "",
        f"- Validation loss: {metrics['eval_loss']:.4f} (perplexity {metrics['perplexity']:.2f})",
        f"- Training loss: {metrics['train_loss']:.4f}",
        "",
        "The full configuration is in `train_config.yaml` beside this folder; evaluation against the",
        "base model is in `eval/report.json` and `eval/report.html`.",
        "",
    ]
    return "\n".join(lines)
