"""Training throughput: pairsmith's train_adapter vs. a plain TRL SFTTrainer, same model, data, hparams.

Both train the same LoRA (r, alpha, modules) on the same prompt/completion rows of the Bitext
customer-support data, with the same learning rate, batch, steps, max length and precision. The
plain run keeps TRL's defaults otherwise (random batches, gradient checkpointing on); ours
batches by length and keeps activations (the small model fits). Each variant runs in its own
process so peak memory is its own. Prints tokens/s (non-padding tokens), wall time and peak memory.

    .venv/bin/python benchmarks/bench_training.py [--rows 256] [--steps 8] [--batch 8] [--max-length 128]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(
    os.environ.get("PAIRSMITH_BITEXT", ROOT.parent / "shared" / "data" / "bitext_customer_support.csv")
)
SYSTEM = "You are a helpful customer-support agent."


def build_export(out: Path, rows: int) -> Path:
    """An export-shaped DatasetDict (hf/) from the first ``rows`` Bitext rows."""
    import datasets

    with DATA.open(encoding="utf-8") as handle:
        data = [r for _, r in zip(range(rows + 16), csv.DictReader(handle), strict=False)]

    def row(r: dict[str, str]) -> dict[str, object]:
        prompt = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": r["instruction"]}]
        return {"prompt": prompt, "completion": [{"role": "assistant", "content": r["response"]}]}

    splits = {"train": data[:rows], "validation": data[rows : rows + 8], "test": data[rows + 8 :]}
    dd = datasets.DatasetDict({k: datasets.Dataset.from_list([row(r) for r in v]) for k, v in splits.items()})
    dd.save_to_disk(str(out / "hf"))
    return out


def peak_memory_mb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(variant: str, export: Path, out: Path, args: argparse.Namespace) -> dict[str, float]:
    from training.config import TrainConfig
    from training.train import pick_device

    config = TrainConfig(
        base_model=args.base_model or TrainConfig().base_model,
        max_steps=args.steps,
        batch_size=args.batch,
        max_length=args.max_length,
        learning_rate=1e-3,
        eval_steps=10_000,
        save_steps=10_000,
        early_stopping_patience=0,
        val_max_records=8,
    )
    if variant == "ours":
        from training.train import train_adapter

        metrics = train_adapter(export, out, config).metrics
        return {
            "tokens": metrics["tokens_seen"],
            "seconds": metrics["train_runtime_s"],
            "peak_mb": peak_memory_mb(),
        }

    import datasets
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from training.base_model import resolve_base_model

    device, bf16 = pick_device("auto")
    train = datasets.load_from_disk(str(export / "hf"))["train"]
    trainer = SFTTrainer(
        model=resolve_base_model(config.base_model),
        args=SFTConfig(
            output_dir=str(out),
            learning_rate=config.learning_rate,
            max_steps=config.max_steps,
            per_device_train_batch_size=config.batch_size,
            max_length=config.max_length,
            warmup_steps=config.warmup_ratio,
            lr_scheduler_type="cosine",
            seed=config.seed,
            bf16=bf16,
            use_cpu=device == "cpu",
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            include_num_input_tokens_seen="non_padding",
        ),
        train_dataset=train,
        peft_config=LoraConfig(
            r=config.r,
            lora_alpha=config.alpha,
            lora_dropout=config.dropout,
            target_modules=config.target_modules,
            task_type="CAUSAL_LM",
        ),
    )
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    return {"tokens": trainer.state.num_input_tokens_seen, "seconds": seconds, "peak_mb": peak_memory_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--base-model", default=None, help="A local HF folder (default: the bundled model).")
    parser.add_argument("--variant", choices=["ours", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.variant:  # child process: one variant, result as JSON on the last line
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_variant(args.variant, args.export, Path(tmp), args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        export = build_export(Path(tmp) / "export", args.rows)
        results = {}
        for variant in ("plain", "ours"):
            command = [sys.executable, __file__, "--variant", variant, "--export", str(export)]
            command += ["--rows", str(args.rows), "--steps", str(args.steps), "--batch", str(args.batch)]
            command += ["--max-length", str(args.max_length)]
            command += ["--base-model", args.base_model] if args.base_model else []
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[variant] = json.loads(output.strip().splitlines()[-1])
    print(f"rows={args.rows} steps={args.steps} batch={args.batch} max_length={args.max_length}")
    print(f"{'variant':<8} {'tokens':>8} {'seconds':>8} {'tokens/s':>9} {'peak MB':>8}")
    for variant, r in results.items():
        print(
            f"{variant:<8} {r['tokens']:>8.0f} {r['seconds']:>8.1f} {r['tokens'] / r['seconds']:>9.1f} {r['peak_mb']:>8.0f}"
        )
    ours, plain = results["ours"], results["plain"]
    ratio = (ours["tokens"] / ours["seconds"]) / (plain["tokens"] / plain["seconds"])
    print(
        f"ratio ours/plain tokens/s: {ratio:.2f}x; peak memory ratio {ours['peak_mb'] / plain['peak_mb']:.2f}x"
    )


if __name__ == "__main__":
    main()
