"""Training throughput: pairsmith's train_adapter vs. a plain TRL SFTTrainer, and what each flag buys.

Every variant trains the same LoRA on the same prompt/completion rows of the Bitext
customer-support data with the same hyperparameters, because every plain TRL variant gets its
arguments from the builders train.py uses (`training.train.build_sft_config`,
`build_lora_config`). They differ only in the two speed flags our config sets and TRL's defaults
leave the other way:

- activation (gradient) checkpointing: TRL's default on, ours off (the small model fits);
- batching order: TRL's default random, ours grouped by length (less padding).

Variants: plain TRL with TRL's defaults for both flags; with each of our flags alone; with both (our
flags); and `train_adapter` itself, which adds only its callbacks (progress, JSONL log) to the last
one. Each runs in its own process so peak memory (max RSS, model loading included) is its own.
Prints tokens/s (non-padding tokens), wall time, peak memory, and the ratio to TRL's defaults.
With ``--repeats N`` the variants run N rounds in turn and each keeps its fastest run: on a shared
machine other work only ever slows a run down.

    .venv/bin/python benchmarks/bench_training.py [--rows 256] [--steps 8] [--batch 8] [--max-length 128]
        [--repeats 1] [--variants trl-defaults ... ours]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# $PAIRSMITH_BITEXT, else ../shared/data beside the checkout, else the team's /work/shared/data.
DATA = next(
    (
        Path(p)
        for p in (
            os.environ.get("PAIRSMITH_BITEXT", ""),
            ROOT.parent / "shared" / "data" / "bitext_customer_support.csv",
            "/work/shared/data/bitext_customer_support.csv",
        )
        if p and Path(p).is_file()
    ),
    ROOT.parent / "shared" / "data" / "bitext_customer_support.csv",
)
SYSTEM = "You are a helpful customer-support agent."

# name → (label, gradient_checkpointing, group_by_length); None takes TRL's default for that flag.
VARIANTS: dict[str, tuple[str, bool | None, bool | None]] = {
    "trl-defaults": ("plain TRL, TRL's defaults", None, None),
    "trl+length": ("plain TRL + length-grouped batches", None, True),
    "trl+no-ckpt": ("plain TRL + no checkpointing", False, None),
    "trl+ours": ("plain TRL, our flags (both)", False, True),
    "ours": ("pairsmith train_adapter", False, True),
}


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


def trl_defaults() -> Any:
    """A plain SFTConfig: TRL's defaults, with the precision and device this machine has."""
    from trl import SFTConfig

    from training.train import pick_device

    device, bf16 = pick_device("auto")
    return SFTConfig(output_dir=tempfile.gettempdir(), use_cpu=device == "cpu", bf16=bf16)


def trl_default_flags() -> dict[str, bool]:
    """TRL's own defaults for the two flags, read from a plain SFTConfig (not assumed)."""
    plain = trl_defaults()
    return {
        "gradient_checkpointing": bool(plain.activation_checkpointing),
        "group_by_length": plain.train_sampling_strategy == "group_by_length",
    }


def variant_config(variant: str, args: argparse.Namespace) -> Any:
    """The TrainConfig of a variant: the benchmark's hyperparameters and the variant's two flags."""
    from training.config import TrainConfig

    _, checkpointing, by_length = VARIANTS[variant]
    defaults = trl_default_flags()
    return TrainConfig(
        base_model=args.base_model or TrainConfig().base_model,
        max_steps=args.steps,
        batch_size=args.batch,
        max_length=args.max_length,
        learning_rate=1e-3,
        eval_steps=10_000,  # no evaluation or checkpoint inside the timed steps
        save_steps=10_000,
        early_stopping_patience=0,
        val_max_records=8,
        gradient_checkpointing=defaults["gradient_checkpointing"] if checkpointing is None else checkpointing,
        group_by_length=defaults["group_by_length"] if by_length is None else by_length,
    )


def peak_memory_mb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(variant: str, export: Path, out: Path, args: argparse.Namespace) -> dict[str, float]:
    from training.train import TRAIN_COLUMNS, build_lora_config, build_sft_config, pick_device

    config = variant_config(variant, args)
    if variant == "ours":
        from training.train import train_adapter

        metrics = train_adapter(export, out, config).metrics
        return {
            "tokens": metrics["tokens_seen"],
            "seconds": metrics["train_runtime_s"],
            "peak_mb": peak_memory_mb(),
        }

    import datasets
    from trl import SFTTrainer

    from training.base_model import resolve_base_model

    device, bf16 = pick_device(config.device)
    splits = datasets.load_from_disk(str(export / "hf"))
    trainer = SFTTrainer(
        model=resolve_base_model(config.base_model),
        args=build_sft_config(config, out / "checkpoints", device, bf16),
        train_dataset=splits["train"].select_columns(list(TRAIN_COLUMNS)),
        eval_dataset=splits["validation"].select_columns(list(TRAIN_COLUMNS)),
        peft_config=build_lora_config(config),
    )
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    return {"tokens": trainer.state.num_input_tokens_seen, "seconds": seconds, "peak_mb": peak_memory_mb()}


def differing_fields(args: argparse.Namespace) -> list[str]:
    """SFTConfig fields where our builder's config differs from TRL's defaults (for the record)."""
    from trl import SFTConfig

    from training.train import build_sft_config, pick_device

    device, bf16 = pick_device("auto")
    ours = build_sft_config(variant_config("ours", args), Path(tempfile.gettempdir()), device, bf16)
    plain = trl_defaults()
    return [f.name for f in dataclasses.fields(SFTConfig) if getattr(ours, f.name) != getattr(plain, f.name)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--base-model", default=None, help="A local HF folder (default: the bundled model).")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1, help="Rounds; each variant keeps its fastest run.")
    parser.add_argument("--variant", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.variant:  # child process: one variant, result as JSON on the last line
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_variant(args.variant, args.export, Path(tmp), args)))
        return
    print(f"TRL defaults: {trl_default_flags()}")
    print(f"our SFTConfig differs from TRL's defaults in: {', '.join(differing_fields(args))}", flush=True)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        export = build_export(Path(tmp) / "export", args.rows)
        for variant in [v for _ in range(args.repeats) for v in args.variants]:
            command = [sys.executable, __file__, "--variant", variant, "--export", str(export)]
            command += ["--rows", str(args.rows), "--steps", str(args.steps), "--batch", str(args.batch)]
            command += ["--max-length", str(args.max_length)]
            command += ["--base-model", args.base_model] if args.base_model else []
            load = os.getloadavg()[0]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"variant {variant} failed:\n{done.stderr[-4000:]}")
            output = done.stdout
            run = json.loads(output.strip().splitlines()[-1]) | {"load": load}
            print(f"{variant}: {run}", flush=True)
            best = results.get(variant)
            if best is None or run["tokens"] / run["seconds"] > best["tokens"] / best["seconds"]:
                results[variant] = run
    print(
        f"\nrows={args.rows} steps={args.steps} batch={args.batch} max_length={args.max_length} "
        f"repeats={args.repeats} (fastest kept; load = 1-min load average when it started)"
    )
    header = f"{'variant':<38} {'ckpt':>5} {'length':>6} {'tokens':>7} {'seconds':>8} {'tokens/s':>9}"
    print(header + f" {'vs TRL defaults':>15} {'peak MB':>8} {'load':>5}")
    base = results.get("trl-defaults")
    for variant, r in results.items():
        config = variant_config(variant, args)
        speed = r["tokens"] / r["seconds"]
        ratio = f"{speed / (base['tokens'] / base['seconds']):.2f}x" if base else "-"
        print(
            f"{VARIANTS[variant][0]:<38} {'on' if config.gradient_checkpointing else 'off':>5} "
            f"{'yes' if config.group_by_length else 'no':>6} {r['tokens']:>7.0f} {r['seconds']:>8.1f} "
            f"{speed:>9.1f} {ratio:>15} {r['peak_mb']:>8.0f} {r['load']:>5.1f}"
        )
    if "ours" in results and "trl+ours" in results:
        ours, same = results["ours"], results["trl+ours"]
        overhead = (ours["tokens"] / ours["seconds"]) / (same["tokens"] / same["seconds"])
        print(f"train_adapter / plain TRL with the same flags, tokens/s: {overhead:.2f}x")


if __name__ == "__main__":
    main()
