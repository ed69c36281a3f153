"""GPU check: training and analysis pick CUDA automatically (bf16 training, fp16 embeddings).

Training (``--export`` and ``--tokenizer``): trains a LoRA adapter on a small randomly initialised
Llama that uses SmolLM2's tokenizer and config shape (so the check needs no weights on the GPU
machine, only this repository, the export and the tokenizer files), then runs the base-vs-tuned
evaluation. It prints versions, the chosen device, losses and timings, and fails unless training
ran on CUDA in bf16.

Analysis (``--analysis``): the embedder's device choice (no flag: ``auto``), then
``analyze_project`` on the Bitext set (``--bitext``, fast and full quality, cold caches) and on
``--synthetic`` records (default 100,000; templated customer questions with varied details and
answers, so the semantic tier has candidates to check), timing each step. It fails unless the
embeddings ran on CUDA in half precision.

    python benchmarks/gpu_check.py --export EXPORT_DIR --tokenizer TOKENIZER_DIR [--steps 60]
    python benchmarks/gpu_check.py --analysis [--bitext CSV] [--synthetic 100000]

EXPORT_DIR is a `pairsmith export` folder; TOKENIZER_DIR holds SmolLM2's tokenizer and config.json
(e.g. the converted base model in ~/.cache/pairsmith/base-models/smollm2-135m-instruct without its
weights). Results are in docs/benchmarks.md (the analysis figures are not measured yet).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--export", type=Path)
    parser.add_argument("--tokenizer", type=Path)
    parser.add_argument("--analysis", action="store_true", help="Check and time analysis on the GPU")
    parser.add_argument("--bitext", type=Path, default=Path("/work/shared/data/bitext_customer_support.csv"))
    parser.add_argument("--synthetic", type=int, default=100_000, help="Synthetic records to analyse")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--eval-records", type=int, default=32)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pairsmith-gpu-check"))
    args = parser.parse_args()
    if args.analysis:
        analysis_check(args)
        if args.export is None:
            return
    if args.export is None or args.tokenizer is None:
        parser.error("the training check needs --export and --tokenizer (or pass --analysis)")

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


def synthetic_records(n: int, seed: int = 0) -> list[Any]:
    """n customer-support records from templates with varied products, order ids and wording: about
    one in five repeats a question in other words, so fast analysis has candidate outputs to embed."""
    import numpy as np

    from curation.model import Record

    rng = np.random.default_rng(seed)
    products = ["blender", "kettle", "lamp", "sofa", "desk", "rug", "toaster", "fan", "mirror", "shelf"]
    asks = [
        "Where is my {p}? Order {o} has not arrived yet.",
        "My {p} from order {o} arrived broken, I want a refund.",
        "Can I change the delivery address of order {o} for the {p}?",
        "How do I return the {p} I bought (order {o})?",
        "I was charged twice for the {p}, order {o}.",
    ]
    rephrase = [
        "Order {o}: the {p} still isn't here. Where is it?",
        "The {p} (order {o}) came damaged; please refund me.",
        "Please ship order {o} with the {p} to my new address.",
        "What is the return process for my {p}, order {o}?",
        "Two charges for one {p} on order {o}, please fix it.",
    ]
    answers = [
        "Your {p} (order {o}) is with the courier and should arrive within {d} days.",
        "Sorry about the {p}. We refunded order {o}; expect the money within {d} days.",
        "Done: order {o} with the {p} now goes to your new address, arriving in {d} days.",
        "Print the label we e-mailed for order {o} and drop the {p} off within {d} days.",
        "We removed the duplicate charge for order {o}; it disappears within {d} days.",
    ]
    records = []
    for i in range(n):
        kind = int(rng.integers(len(asks)))
        fill = {"p": products[int(rng.integers(len(products)))], "o": f"FW-{int(rng.integers(10**5)):05d}"}
        template = rephrase[kind] if rng.random() < 0.2 else asks[kind]
        answer = answers[kind].format(d=int(rng.integers(2, 9)), **fill)
        records.append(Record(id=f"syn-{i:06d}", input=template.format(**fill), output=answer))
    return records


def analysis_check(args: argparse.Namespace) -> None:
    """The embedder's device choice, then timed analyses of Bitext and of synthetic records."""
    import tempfile

    from curation.analysis.embeddings import device
    from curation.analysis.embeddings.models import get_embedder
    from curation.analysis.pipeline import AnalysisSettings, analyze_project
    from curation.project import init_project

    embedder = get_embedder("minilm")
    print(
        f"cuda_available={device.cuda_available()} embedder device={embedder.device} "
        f"precision={embedder.precision} batch={embedder.batch_size()} key={embedder.key}",  # type: ignore[attr-defined]
        flush=True,
    )
    start = time.perf_counter()
    costs = embedder.prepare() + get_embedder("static").prepare()
    print(
        f"one-time work + loads: {time.perf_counter() - start:.1f} s; {[c.model_dump() for c in costs]}",
        flush=True,
    )
    sets: list[tuple[str, list[Any]]] = []
    if args.bitext.exists():
        from benchmarks.bench_analyze_bitext import load

        sets.append(("bitext", load(args.bitext)))
    if args.synthetic:
        sets.append((f"synthetic-{args.synthetic}", synthetic_records(args.synthetic)))
    with tempfile.TemporaryDirectory() as tmp:
        for name, records in sets:
            for quality in ("fast", "full"):
                root = Path(tmp) / f"{name}-{quality}"
                store = init_project(root, name)
                store.upsert_records(records)
                store.close()
                start = time.perf_counter()
                report = analyze_project(root, settings=AnalysisSettings(quality=quality))  # type: ignore[arg-type]
                seconds = time.perf_counter() - start
                print(
                    f"{name} {quality}: {seconds:.1f} s, device {report.method.device}, records {report.records}, "
                    f"outputs through MiniLM {report.method.outputs_embedded}, groups {report.duplicate_groups}, "
                    f"steps {report.timings}",
                    flush=True,
                )
                if device.cuda_available() and report.method.device != "cuda":
                    raise SystemExit(f"expected the analysis on CUDA, got {report.method.device}")
    if device.cuda_available() and not embedder.key.endswith((":fp16", ":bf16")):
        raise SystemExit(f"expected half-precision embeddings on CUDA, got {embedder.key}")
    print("GPU ANALYSIS CHECK OK" if device.cuda_available() else "no CUDA device: analysis ran on the CPU")


if __name__ == "__main__":
    main()
