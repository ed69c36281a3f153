"""Curation pays off, measured: train the same model on noisy data, on pairsmith's clean set, on a
selection of half the rows, and on the clean oracle; score each on the same clean test set.

For each task (benchmarks/curation_value_tasks.py: Bitext → JSON, E2E → text) it cuts a clean,
leakage-safe test and validation split, injects labelled noise into the training pool, and trains
SmolLM2-135M-Instruct with LoRA on four arms, with the same base model, settings and step budget:

- ``raw``: the whole noisy pool (an export with every curation rule off);
- ``clean``: pairsmith's automatic clean set, what `ship --include-unreviewed` exports after
  `analyze` (keepers of duplicate groups, quality and consistency flags, conflicts);
- ``select``: `--select N` on top of it, N = ``--select-share`` (default 50 %) of the raw rows;
- ``oracle``: the clean pool before any noise.

Every arm goes through the library calls `ship` makes (export_clean_set, train_adapter,
evaluate_run); only the validation and test splits are replaced by the benchmark's clean held-out
ones, so every arm is scored on exactly the same records. Each arm trains with ``--seeds`` seeds;
the tables give mean ± sd of the task metric and of the validation loss, the goals, and, per kind
of noise, how much of it each curated arm let through. Each run folder is a normal pairsmith run:
`pairsmith runs compare OUT/<task>/runs/raw-s0 OUT/<task>/runs/clean-s0` shows two side by side.

    .venv/bin/python benchmarks/bench_curation_value.py                 # the tasks' defaults (~1 h on 2 quiet cores)
    .venv/bin/python benchmarks/bench_curation_value.py --steps 10 --test 50 --val 16   # too short to learn the task
    .venv/bin/python benchmarks/bench_curation_value.py --quick         # a smoke run (minutes)
    .venv/bin/python benchmarks/bench_curation_value.py --curation-only # what each arm lets through, no training
    .venv/bin/python benchmarks/bench_curation_value.py --out DIR --resume   # go on after a kill
    .venv/bin/python benchmarks/bench_curation_value.py --tasks bitext-json --seeds 2 --steps 20

Needs the public set e2e-cleaned (`python -m benchmarks.public_sets fetch e2e-cleaned`) and the
Bitext file in ../shared/data (or ``PAIRSMITH_BITEXT``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.curation_value_tasks import (  # noqa: E402
    NOISE_KINDS,
    Example,
    NoiseRates,
    Task,
    bitext_json_task,
    e2e_text_task,
    noise_counts,
    noisy_pool,
)

ARMS = ("raw", "clean", "select", "oracle")
TASK_DEFAULTS = {
    # Sized for the CPU budget: short JSON examples (~45 tokens) train at about half the cost of an
    # MR and its description (~100 tokens), whose answers are also longer to generate.
    "bitext-json": {"steps": 30, "test": 200, "max_new_tokens": 32},
    "e2e-text": {"steps": 20, "test": 150, "max_new_tokens": 56},
}
_FAMILY = ("clean", "duplicate", "paraphrase")
"""An original and its copies: one example, in the order that says which of them is 'the' one."""
TASKS = ("bitext-json", "e2e-text")


def setting(name: str, key: str, args: argparse.Namespace) -> int:
    """A task's own default (TASK_DEFAULTS) unless the command line set one for every task."""
    given = getattr(args, key)
    return int(given) if given is not None else TASK_DEFAULTS[name][key]


def build_task(name: str, args: argparse.Namespace) -> Task:
    n_test = setting(name, "test", args)
    if name == "bitext-json":
        return bitext_json_task(pool_size=args.pool, n_test=n_test, n_val=args.val, seed=args.data_seed)
    from benchmarks.public_sets import cached_dir

    folder = cached_dir("e2e-cleaned")
    if folder is None:
        raise SystemExit(
            "public set e2e-cleaned not fetched (python -m benchmarks.public_sets fetch e2e-cleaned)"
        )
    return e2e_text_task(folder, pool_size=args.pool, n_test=n_test, n_val=args.val, seed=args.data_seed)


# --- the projects and the arms' exports ------------------------------------------------------------


def make_project(root: Path, task: Task, examples: list[Example]) -> Any:
    from curation.model import Project, Record
    from curation.project import init_project

    store = init_project(root, project=Project(name=task.name, output_schema=task.schema))
    store.upsert_records(
        Record(id=e.id, input=e.input, output=e.output, system=task.system, metadata={"topic": e.topic})
        for e in examples
    )
    return store


def export_arm(store: Any, out: Path, project_dir: Path, **rules: Any) -> tuple[list[dict[str, Any]], Any]:
    """Export the whole clean set (under ``rules``) as train; return its rows and the clean set."""
    from training.clean_set import select_clean_set
    from training.export import export_clean_set
    from training.export_config import ExportConfig, SplitFractions

    config = ExportConfig(
        include_unreviewed=True,
        fractions=SplitFractions(train=1.0, validation=0.0, test=0.0),
        formats=["hf"],
        **rules,
    )
    export_clean_set(store, out, config, project_dir=project_dir)
    import datasets

    rows = datasets.load_from_disk(str(out / "hf" / "train")).to_list()  # the empty splits do not load
    return rows, select_clean_set(store, config)


def held_out_rows(task: Task, examples: list[Example]) -> list[dict[str, Any]]:
    """Export-shaped rows (training.export_formats.COLUMNS) for validation and test."""
    rows = []
    for e in examples:
        messages = [
            {"role": "system", "content": task.system},
            {"role": "user", "content": e.input},
            {"role": "assistant", "content": e.output},
        ]
        rows.append(
            {
                "id": e.id,
                "messages": messages,
                "prompt": messages[:-1],
                "completion": messages[-1:],
                "input_text": e.input,
                "output": e.output,
                "cluster": -1,
                "dup_group": "",
                "golden": False,
            }
        )
    return rows


def run_export(arm_export: Path, run_export_dir: Path, train: list[dict[str, Any]], task: Task) -> None:
    """A run's export: the arm's train rows, the task's clean validation and test, the arm's manifest."""
    from training.export_formats import write_hf

    run_export_dir.mkdir(parents=True, exist_ok=True)
    splits = {
        "train": train,
        "validation": held_out_rows(task, task.validation),
        "test": held_out_rows(task, task.test),
    }
    write_hf(run_export_dir, splits)
    manifest = json.loads((arm_export / "manifest.json").read_text(encoding="utf-8"))
    manifest["counts"] = {k: len(v) for k, v in splits.items()}
    manifest["benchmark"] = "validation and test replaced by bench_curation_value's clean held-out splits"
    (run_export_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


# --- training and scoring ----------------------------------------------------------------------


def chrf_multi(outputs: list[str], refs: list[list[str]]) -> float:
    """Mean sentence chrF of each output against all references of its input."""
    import sacrebleu

    scores = [sacrebleu.sentence_chrf(o, r).score for o, r in zip(outputs, refs, strict=True)]
    return sum(scores) / max(len(scores), 1)


def train_and_score(run_dir: Path, task: Task, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from training.config import TrainConfig
    from training.evaluate import evaluate_run
    from training.train import train_adapter

    config = TrainConfig(
        max_steps=setting(task.name, "steps", args),
        batch_size=args.batch,
        learning_rate=args.lr,
        max_length=args.max_length,
        seed=seed,
        eval_steps=10_000,
        save_steps=10_000,
        early_stopping_patience=0,
        logging_steps=5,
        eval_max_new_tokens=TASK_DEFAULTS[task.name]["max_new_tokens"],
        eval_batch_size=32,
        primary_metric="json_field_accuracy" if task.kind == "json" else "chrf",
    )
    started = time.monotonic()
    trained = train_adapter(run_dir / "export", run_dir, config)
    report = evaluate_run(run_dir, config=config, output_schema=task.schema, include_base=False)
    refs = {e.id: e.refs for e in task.test}
    outputs = [r["tuned"] for r in report["records"]]
    tuned = report["tuned"]
    scores = {
        "validation_loss": tuned["validation_loss"],
        "train_examples": trained.metrics["train_examples"],
        "seconds": round(time.monotonic() - started, 1),
    }
    if task.kind == "json":
        scores |= {
            "json_field_accuracy": tuned["json_field_accuracy"],
            "json_match": tuned["json_match"],
            "json_valid_schema": tuned["json_valid_schema"],
        }
    else:
        scores |= {
            "chrf_multi": chrf_multi(outputs, [refs[r["id"]] for r in report["records"]]),
            "rouge_l": tuned["rouge_l"],
        }
    shutil.rmtree(
        run_dir / "checkpoints", ignore_errors=True
    )  # keep adapters and reports, not optimiser states
    return scores


# --- what got through ----------------------------------------------------------------------------


def fates(pool: list[Example], clean: Any, train_ids: set[str]) -> dict[str, str]:
    """Per pool example: ``kept``, ``not_selected`` or the clean-set reason that excluded it."""
    reason = {e.record_id: e.reason for e in clean.excluded}
    out = {}
    for e in pool:
        if e.id in train_ids:
            out[e.id] = "kept"
        else:
            out[e.id] = reason.get(e.id, "not_selected")
    return out


def noise_table(pool: list[Example], arm_fates: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Per kind of noise: injected, and per curated arm how much got through and why the rest went.

    A copy (``duplicate``, ``paraphrase``) gets through only beyond one record per original: the
    original and its copies are one example, and which of them stays does not matter. A clean
    record is lost only when neither it nor a copy of it stays.
    """
    copies: dict[str, list[Example]] = defaultdict(list)
    for e in pool:
        copies[e.source_id].append(e)
    rows = []
    for kind in ("clean", *NOISE_KINDS):
        members = [e for e in pool if e.noise == kind]
        if not members:
            continue
        row: dict[str, Any] = {"noise": kind, "in_pool": len(members)}
        for arm, fate in arm_fates.items():
            reasons = Counter(fate[e.id] for e in members)
            row[f"{arm}_kept"] = reasons.pop("kept", 0)
            row[f"{arm}_removed_by"] = dict(reasons.most_common())
            if kind == "clean":
                row[f"{arm}_lost"] = sum(
                    all(
                        fate[c.id] != "kept"
                        for c in copies[e.source_id]
                        if c.noise in ("clean", "duplicate", "paraphrase")
                    )
                    for e in members
                )
            elif kind in ("duplicate", "paraphrase"):
                # Per original, the first kept of (original, exact copies, paraphrases) is the
                # example; every other kept member is an excess copy, charged to its own kind.
                excess = 0
                for group in copies.values():
                    kept = sorted(
                        (c for c in group if c.noise in _FAMILY and fate[c.id] == "kept"),
                        key=lambda c: _FAMILY.index(c.noise),
                    )
                    excess += sum(c.noise == kind for c in kept[1:])
                row[f"{arm}_through"] = excess
            else:
                row[f"{arm}_through"] = row[f"{arm}_kept"]
        rows.append(row)
    return rows


# --- the run ---------------------------------------------------------------------------------------


def run_task(name: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from curation.analysis.pipeline import analyze_project

    clock = time.monotonic()
    task = build_task(name, args)
    pool = noisy_pool(task, NoiseRates(), seed=args.data_seed + 1)
    print(f"\n== {task.name}: {task.source}, licence {task.licence}")
    print(
        f"   pool {len(task.pool)} clean → {len(pool)} noisy {noise_counts(pool)}; "
        f"validation {len(task.validation)}, test {len(task.test)}"
    )
    task_dir = out / task.name
    noisy_dir, oracle_dir = task_dir / "project-noisy", task_dir / "project-oracle"
    report = noisy_dir / "analysis" / "report.json"
    if args.resume and report.exists():
        # The same data and seeds give the same projects: reuse them and the runs already scored.
        from curation.project import open_store

        store = open_store(noisy_dir)
        analyze_s = sum(json.loads(report.read_text(encoding="utf-8"))["timings"].values())
    else:
        shutil.rmtree(task_dir, ignore_errors=True)
        store = make_project(noisy_dir, task, pool)
        started = time.monotonic()
        analyze_project(noisy_dir, store=store)
        analyze_s = time.monotonic() - started
    exports = task_dir / "exports"
    rows: dict[str, list[dict[str, Any]]] = {}
    cleans: dict[str, Any] = {}
    off = {"dedup": False, "resolve_conflicts": False, "exclude_flags": []}
    rows["raw"], cleans["raw"] = export_arm(store, exports / "raw", noisy_dir, **off)
    rows["clean"], cleans["clean"] = export_arm(store, exports / "clean", noisy_dir)
    n_select = max(1, round(args.select_share * len(rows["raw"])))
    rows["select"], cleans["select"] = export_arm(store, exports / "select", noisy_dir, select=n_select)
    store.close()
    if args.resume and oracle_dir.exists():
        from curation.project import open_store

        oracle_store = open_store(oracle_dir)
    else:
        oracle_store = make_project(oracle_dir, task, task.pool)
    rows["oracle"], cleans["oracle"] = export_arm(oracle_store, exports / "oracle", oracle_dir, **off)
    oracle_store.close()
    print(f"   analysis {analyze_s:.0f}s; train rows: " + ", ".join(f"{a} {len(rows[a])}" for a in ARMS))

    arm_fates = {arm: fates(pool, cleans[arm], {r["id"] for r in rows[arm]}) for arm in ("clean", "select")}
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for seed in range(0 if args.curation_only else args.seeds):
        for arm in ARMS:
            run_dir = task_dir / "runs" / f"{arm}-s{seed}"
            done = run_dir / "scores.json"
            if args.resume and done.exists():
                scores = json.loads(done.read_text(encoding="utf-8"))
            else:
                shutil.rmtree(run_dir, ignore_errors=True)
                run_export(exports / arm, run_dir / "export", rows[arm], task)
                scores = train_and_score(run_dir, task, seed, args)
                done.write_text(json.dumps(scores) + "\n", encoding="utf-8")
            results[arm].append(scores)
            print(
                f"   {arm:7s} seed {seed}: {task.primary} {scores[task.primary]:.4f}, "
                f"validation loss {scores['validation_loss']:.4f} ({scores['seconds']:.0f}s)",
                flush=True,
            )
    return {
        "task": task.name,
        "kind": task.kind,
        "source": task.source,
        "licence": task.licence,
        "primary": task.primary,
        "secondary": "json_match" if task.kind == "json" else "rouge_l",
        "pool": noise_counts(pool),
        "validation": len(task.validation),
        "test": len(task.test),
        "train_rows": {a: len(rows[a]) for a in ARMS},
        "select_n": n_select,
        "runs": dict(results),
        "noise": noise_table(pool, arm_fates),
        "analysis_s": round(analyze_s, 1),
        "steps": setting(name, "steps", args),
        "wall_s": round(time.monotonic() - clock, 1),
    }


# --- tables and goals ------------------------------------------------------------------------------


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The three goals of the issue, each with its numbers and whether it is met."""
    metric = result["primary"]
    stat = {a: mean_sd([r[metric] for r in result["runs"][a]]) for a in ARMS}
    (raw, raw_sd), (clean, clean_sd), (sel, _), (oracle, _) = (stat[a] for a in ARMS)
    sd = max(raw_sd, clean_sd, 1e-9)
    rows = result["train_rows"]
    seeds = min(len(result["runs"][a]) for a in ("raw", "clean"))
    return [
        {
            "goal": "clean beats raw by > 2 sd",
            # One seed has no spread: the gap is shown, the goal cannot be judged.
            "value": f"gap {clean - raw:+.4f} = {(clean - raw) / sd:.1f} sd (sd = larger arm sd {sd:.4f})"
            if seeds > 1
            else f"gap {clean - raw:+.4f}; no sd with 1 seed",
            "met": clean - raw > 2 * sd if seeds > 1 else None,
        },
        {
            "goal": "select >= raw with <= 50 % of the rows",
            "value": f"{sel:.4f} vs {raw:.4f} with {rows['select']} of {rows['raw']} rows "
            f"({rows['select'] / max(rows['raw'], 1):.0%})",
            "met": sel >= raw and rows["select"] <= 0.5 * rows["raw"] + 0.5,
        },
        {
            "goal": "clean reaches >= 90 % of oracle",
            "value": f"{clean / oracle:.1%} of oracle" if oracle else "oracle scored 0",
            "met": bool(oracle) and clean >= 0.9 * oracle,
        },
    ]


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else "yes" if met else "**no**"


def markdown(results: list[dict[str, Any]], args: argparse.Namespace, wall_s: float) -> str:
    lines = (
        []
        if args.curation_only
        else [
            f"SmolLM2-135M-Instruct + LoRA (r 16), batch {args.batch}, lr {args.lr}, "
            f"max length {args.max_length}; {args.seeds} seeds per arm; mean ± sd. Wall time {wall_s / 60:.0f} min.",
            "",
            "| task (steps × batch) | arm | train rows | task metric | validation loss | secondary |",
            "|---|---|---:|---:|---:|---:|",
        ]
    )
    for result in [] if args.curation_only else results:
        for arm in ARMS:
            runs = result["runs"][arm]
            m, s = mean_sd([r[result["primary"]] for r in runs])
            lm, ls = mean_sd([r["validation_loss"] for r in runs])
            sm, ss = mean_sd([r[result["secondary"]] for r in runs])
            lines.append(
                f"| {result['task']} ({result['steps']} × {args.batch}) | {arm} | {result['train_rows'][arm]} "
                f"| {result['primary']} {m:.3f} ± {s:.3f} "
                f"| {lm:.3f} ± {ls:.3f} | {result['secondary']} {sm:.3f} ± {ss:.3f} |"
            )
    if not args.curation_only:
        lines += ["", "| task | goal | measured | met |", "|---|---|---|---|"]
    for result in [] if args.curation_only else results:
        for goal in goals(result):
            lines.append(f"| {result['task']} | {goal['goal']} | {goal['value']} | {_verdict(goal['met'])} |")
    lines += [
        "",
        "What the curated arms let through (copies count only beyond one record per original; "
        "a clean record is lost when neither it nor a copy of it stays):",
        "",
        "| task | noise | in pool | clean: through | clean: removed by | select: through |",
        "|---|---|---:|---:|---|---:|",
    ]
    for result in results:
        for row in result["noise"]:
            removed = ", ".join(f"{r} {n}" for r, n in row["clean_removed_by"].items()) or "–"
            if row["noise"] == "clean":
                through, selected = f"lost {row['clean_lost']}", f"lost {row['select_lost']}"
            else:
                through, selected = str(row["clean_through"]), str(row["select_through"])
            lines.append(
                f"| {result['task']} | {row['noise']} | {row['in_pool']} | {through} | {removed} | {selected} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="Optimizer steps per run (default: per task)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--pool", type=int, default=1200, help="Clean training pool per task, before noise")
    parser.add_argument("--test", type=int, default=None, help="Test records (default: per task)")
    parser.add_argument("--val", type=int, default=48)
    parser.add_argument(
        "--select-share", type=float, default=0.5, help="--select N as a share of the raw rows"
    )
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="Keep projects and runs here (default: a temp dir)"
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the results as JSON here")
    parser.add_argument("--quick", action="store_true", help="A smoke run: small pool, 2 seeds, 3 steps")
    parser.add_argument(
        "--curation-only",
        action="store_true",
        help="Build, analyse and export the arms and table what got through; train nothing (minutes)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="Reuse the projects and the scored runs already in --out (after a crash or a kill)",
    )
    args = parser.parse_args()
    if args.quick:
        args.pool, args.test, args.val, args.seeds, args.steps = 150, 16, 8, 2, 3
    out = args.out or Path(tempfile.mkdtemp(prefix="pairsmith-curation-value-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = [run_task(name, out, args) for name in args.tasks]
    wall = time.monotonic() - started
    print()
    print(markdown(results, args, wall))
    print(
        f"\nRuns are in {out}; e.g. `pairsmith runs compare {out}/{results[0]['task']}/runs/raw-s0 "
        f"{out}/{results[0]['task']}/runs/clean-s0`"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"out": str(out), "json": str(args.json)},
                    "wall_s": wall,
                    "results": results,
                },
                indent=1,
                default=str,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
