"""GPU check for training: `train_adapter` and `evaluate_run` on CUDA with bf16, picked automatically.

Trains a LoRA adapter on a small randomly initialised Llama that uses SmolLM2's tokenizer and config
shape (so the check needs no weights on the GPU machine, only this repository, the export and the
tokenizer files), then runs the base-vs-tuned evaluation. It prints versions, the chosen device,
losses and timings, and fails unless training ran on CUDA in bf16.

    python benchmarks/gpu_check.py --export EXPORT_DIR --tokenizer TOKENIZER_DIR [--steps 60]

EXPORT_DIR is a `pairsmith export` folder; TOKENIZER_DIR holds SmolLM2's tokenizer and config.json
(e.g. the converted base model in ~/.cache/pairsmith/base-models/smollm2-135m-instruct without its
weights). Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--export", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--eval-records", type=int, default=32)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pairsmith-gpu-check"))
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from training.config import TrainConfig
    from training.evaluate import evaluate_run
    from training.train import pick_device, train_adapter

    names = ["torch", "transformers", "trl", "peft", "datasets", "accelerate"]
    print({name: md.version(name) for name in names}, flush=True)
    cuda = torch.cuda.is_available()
    print("cuda", cuda, torch.cuda.get_device_name(0) if cuda else "-", "pick_device", pick_device("auto"))

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    config = LlamaConfig.from_pretrained(args.tokenizer)
    # Small enough to build in a second, large enough that a wrong dtype or device would show.
    config.hidden_size, config.intermediate_size, config.num_hidden_layers = 256, 768, 4
    config.num_attention_heads = config.num_key_value_heads = 4
    torch.manual_seed(0)
    model_dir = args.work / "tiny-base"
    LlamaForCausalLM(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)

    train_config = TrainConfig(
        base_model=str(model_dir),
        max_steps=args.steps,
        batch_size=16,
        learning_rate=2e-3,
        max_length=192,
        eval_steps=20,
        save_steps=20,
        logging_steps=10,
        eval_max_records=args.eval_records,
        eval_max_new_tokens=48,
        early_stopping_patience=0,
    )
    run = args.work / "run"
    started = time.perf_counter()
    train_adapter(args.export, run, train_config)
    train_s = time.perf_counter() - started
    metrics = json.loads((run / "metrics.json").read_text())
    started = time.perf_counter()
    report = evaluate_run(run, export_dir=args.export, config=train_config)
    eval_s = time.perf_counter() - started
    primary = report["primary_metric"]
    print(
        f"device={metrics['device']} bf16={metrics['bf16']} train_s={train_s:.1f} "
        f"train_loss={metrics['train_loss']:.3f} eval_loss={metrics['eval_loss']:.3f} eval_s={eval_s:.1f} "
        f"{primary}: base={report['base'][primary]:.2f} tuned={report['tuned'][primary]:.2f}"
    )
    if cuda and not (metrics["device"] == "cuda" and metrics["bf16"]):
        raise SystemExit(f"expected CUDA + bf16, got {metrics['device']} bf16={metrics['bf16']}")
    print("GPU CHECK OK" if cuda else "no CUDA device: ran on the CPU")


if __name__ == "__main__":
    main()
