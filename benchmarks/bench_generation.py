"""Evaluation generation throughput: batched (pairsmith's generate) vs. one prompt at a time.

Same base model, same prompts (Bitext customer-support instructions), greedy decoding, the same
max_new_tokens. Prints generated tokens/s for both, the ratio, and how many outputs agree.

    .venv/bin/python benchmarks/bench_generation.py [--prompts 32] [--batch 16] [--max-new-tokens 48]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(
    os.environ.get("PAIRSMITH_BITEXT", ROOT.parent / "shared" / "data" / "bitext_customer_support.csv")
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--base-model", default=None, help="A local HF folder (default: the bundled model).")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.base_model import resolve_base_model
    from training.evaluate import generate
    from training.train import pick_device

    with DATA.open(encoding="utf-8") as handle:
        rows = [r for _, r in zip(range(args.prompts), csv.DictReader(handle), strict=False)]
    prompts = [[{"role": "user", "content": r["instruction"]}] for r in rows]
    device, bf16 = pick_device("auto")
    path = resolve_base_model(args.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if bf16 else torch.float32).to(
        device
    )
    model.eval()

    def timed(batch_size: int) -> tuple[list[str], float, int]:
        started = time.monotonic()
        outputs = generate(
            model, tokenizer, prompts, max_new_tokens=args.max_new_tokens, batch_size=batch_size
        )
        seconds = time.monotonic() - started
        tokens = sum(len(tokenizer(o, add_special_tokens=False)["input_ids"]) + 1 for o in outputs)
        return outputs, seconds, tokens

    generate(model, tokenizer, prompts[:2], max_new_tokens=4, batch_size=2)  # warm-up
    one, one_s, one_tokens = timed(1)
    batched, batched_s, batched_tokens = timed(args.batch)
    agree = sum(a == b for a, b in zip(one, batched, strict=True))
    print(f"device={device} prompts={len(prompts)} max_new_tokens={args.max_new_tokens}")
    print(f"{'variant':<12} {'seconds':>8} {'gen tokens':>10} {'tokens/s':>9}")
    print(f"{'one-by-one':<12} {one_s:>8.1f} {one_tokens:>10} {one_tokens / one_s:>9.1f}")
    print(f"{'batched':<12} {batched_s:>8.1f} {batched_tokens:>10} {batched_tokens / batched_s:>9.1f}")
    print(
        f"ratio batched/one-by-one: {(batched_tokens / batched_s) / (one_tokens / one_s):.2f}x; identical outputs {agree}/{len(prompts)}"
    )


if __name__ == "__main__":
    main()
