"""Evaluate a run: generate on the test split with the base and the tuned model, score both.

Generation is greedy and batched (left padding, examples sorted by length so batches pad little).
The tuned model is the base with the LoRA adapter merged in, so both run at the same speed.
Writes ``run_dir/eval/report.json`` and ``report.html`` (see training/report.py).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.errors import BadInputError, NotFoundError
from training.base_model import resolve_base_model
from training.config import CONFIG_FILE, TrainConfig, load_train_config
from training.metrics import aggregate, default_primary_metric, record_scores
from training.train import ProgressCallback, load_splits, pick_device

SCHEMA_FILE = "output_schema.json"


def prompt_texts(tokenizer: Any, prompts: list[list[dict[str, str]]]) -> list[str]:
    """Each prompt's chat messages rendered with the model's chat template, ready for the answer."""
    return [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]


def generate(
    model: Any,
    tokenizer: Any,
    prompts: list[list[dict[str, str]]],
    *,
    max_new_tokens: int = 96,
    batch_size: int = 16,
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """Greedy answers to chat prompts, in input order; batched with left padding, sorted by length."""
    import torch

    texts = prompt_texts(tokenizer, prompts)
    tokenizer.padding_side = "left"
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    outputs: list[str] = [""] * len(texts)
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        enc = tokenizer(
            [texts[i] for i in batch], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(device)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        for i, ids in zip(batch, new, strict=True):
            outputs[i] = tokenizer.decode(ids, skip_special_tokens=True).strip()
        if on_batch is not None:
            on_batch(min(start + batch_size, len(order)))
    return outputs


def completion_loss(model: Any, tokenizer: Any, rows: list[dict[str, Any]], batch_size: int = 8) -> float:
    """Mean negative log-likelihood per completion token (the loss training minimises)."""
    import torch

    device = next(model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(rows), batch_size):
        ids_list, masks = [], []
        for row in rows[start : start + batch_size]:
            prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
            full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
            p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            f_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
            ids_list.append(f_ids)
            masks.append([0] * len(p_ids) + [1] * (len(f_ids) - len(p_ids)))
        width = max(len(i) for i in ids_list)
        pad = tokenizer.pad_token_id
        input_ids = torch.tensor([i + [pad] * (width - len(i)) for i in ids_list], device=device)
        attention = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids_list], device=device)
        loss_mask = torch.tensor([m + [0] * (width - len(m)) for m in masks], device=device)
        with torch.inference_mode():
            logits = model(input_ids=input_ids, attention_mask=attention).logits.float()
        logprobs = torch.log_softmax(logits[:, :-1], dim=-1)
        token_lp = logprobs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        mask = loss_mask[:, 1:].float()
        total += float(-(token_lp * mask).sum())
        count += int(mask.sum())
    return total / max(count, 1)


def read_schema(run_dir: Path) -> dict[str, Any] | None:
    """The project's output schema saved beside the run (``output_schema.json``), if any."""
    path = run_dir / SCHEMA_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def evaluate_run(
    run_dir: Path | str,
    *,
    export_dir: Path | str | None = None,
    config: TrainConfig | None = None,
    output_schema: dict[str, Any] | None = None,
    ab: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    include_base: bool = True,
) -> dict[str, Any]:
    """Score base vs. tuned on the test split; write and return ``run_dir/eval/report.json``.

    ``export_dir`` defaults to ``run_dir/export``, ``config`` to the run's ``train_config.yaml``,
    ``output_schema`` to ``run_dir/output_schema.json``. ``ab`` (a blind A/B win rate) is
    included in the report when given. ``include_base=False`` scores only the tuned model (the
    report's ``base`` is then empty): for many runs of one base model, such as a benchmark's.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.report import write_report

    run = Path(run_dir)
    adapter = run / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise NotFoundError(f"{adapter} holds no adapter; train first with `pairsmith train`")
    if config is None:
        config = load_train_config(run / CONFIG_FILE) if (run / CONFIG_FILE).exists() else TrainConfig()
    schema = output_schema if output_schema is not None else read_schema(run)
    primary = config.primary_metric or default_primary_metric(schema)
    splits = load_splits(export_dir or run / "export")
    if "test" not in splits or len(splits["test"]) == 0:
        raise BadInputError("the export has no test examples to evaluate on; export more records")
    test = splits["test"]
    if config.eval_max_records:
        test = test.select(range(min(config.eval_max_records, len(test))))
    prompts = list(test["prompt"])
    references = [c[-1]["content"] for c in test["completion"]]
    val_split = splits["validation"]
    if config.val_max_records:  # the same records training's validation loss used
        val_split = val_split.select(range(min(config.val_max_records, len(val_split))))
    validation = [{"prompt": p, "completion": c} for p, c in zip(*_columns(val_split), strict=True)]

    device, bf16 = pick_device(config.device)
    if progress is not None:
        progress({"stage": "eval", "message": "loading the base model", "fraction": 0.0})
    base_path = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.bfloat16 if bf16 else torch.float32)
    model.to(device).eval()  # type: ignore[arg-type]

    def step(which: str, stage_index: int) -> Callable[[int], None]:
        def report(done: int) -> None:
            if progress is not None:
                total = len(prompts)
                progress(
                    {
                        "stage": f"eval:{which}",
                        "step": done,
                        "total": total,
                        "fraction": (stage_index + done / max(total, 1)) / 2,
                        "eta_s": None,
                    }
                )

        return report

    kwargs = {"max_new_tokens": config.eval_max_new_tokens, "batch_size": config.eval_batch_size}
    outputs: dict[str, list[str]] = {}
    losses: dict[str, float] = {}
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()

    lap("load_s")
    if include_base:
        outputs["base"] = generate(model, tokenizer, prompts, on_batch=step("base", 0), **kwargs)
        lap("generate_base_s")
        losses["base"] = completion_loss(model, tokenizer, validation)
        lap("loss_base_s")
    tuned = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tuned.eval()
    outputs["tuned"] = generate(tuned, tokenizer, prompts, on_batch=step("tuned", 1), **kwargs)
    lap("generate_tuned_s")
    losses["tuned"] = completion_loss(tuned, tokenizer, validation)
    lap("loss_tuned_s")

    summary: dict[str, dict[str, Any]] = {"base": {}}
    for which in outputs:
        summary[which] = aggregate(outputs[which], references, schema)
        summary[which]["validation_loss"] = losses[which]
        summary[which]["perplexity"] = math.exp(losses[which]) if losses[which] < 50 else float("inf")
    records = [
        {
            "id": test[i]["id"] if "id" in test.column_names else str(i),
            "input": test[i]["input_text"]
            if "input_text" in test.column_names
            else prompts[i][-1]["content"],
            "reference": references[i],
            "base": outputs["base"][i] if include_base else None,
            "tuned": outputs["tuned"][i],
            "base_scores": record_scores(outputs["base"][i], references[i], schema) if include_base else {},
            "tuned_scores": record_scores(outputs["tuned"][i], references[i], schema),
        }
        for i in range(len(prompts))
    ]
    report = {
        "primary_metric": primary,
        "base": summary["base"],
        "tuned": summary["tuned"],
        "improved": summary["tuned"].get(primary, 0) > summary["base"].get(primary, 0)
        if include_base
        else None,
        "test_examples": len(prompts),
        "validation_examples": len(validation),
        "base_model": config.base_model,
        "has_schema": schema is not None,
        "device": device,
        "ab": ab,
        "timings": timings,
        "records": records,
    }
    write_report(report, run / "eval")
    return report


def _columns(split: Any) -> tuple[list[Any], list[Any]]:
    return list(split["prompt"]), list(split["completion"])
