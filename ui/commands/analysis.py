"""CLI commands: analyse a project, and list its duplicates, clusters and diversity."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from curation.analysis.results import duplicate_groups, subset_diversity
from curation.review.labels import clusters_now
from ui.commands.common import console, print_json, user_errors

DirArg = typer.Argument(..., help="The project directory.", file_okay=False)


class EngineName(StrEnum):
    local = "local"
    ray = "ray"


class Precision(StrEnum):
    auto = "auto"
    fp32 = "fp32"
    int8 = "int8"
    fp16 = "fp16"
    bf16 = "bf16"


class Quality(StrEnum):
    fast = "fast"
    full = "full"


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


JsonOpt = typer.Option(False, "--json", help="Print JSON (shapes in docs/curation.md) instead of a table.")


def analyze(
    directory: Path = DirArg,
    as_json: bool = JsonOpt,
    model: Path = typer.Option(
        None,
        "--model",
        help="A local sentence-transformers model directory (default: bundled all-MiniLM-L6-v2).",
    ),
    quality: Quality = typer.Option(
        Quality.full,
        "--quality",
        help="full: MiniLM embeds every input and output; fast: MiniLM embeds every input but only "
        "the outputs of records with a close input (the same duplicate decisions), a static model "
        "gives clusters the output side (faster on organic data, see docs/curation.md).",
    ),
    device: Device = typer.Option(
        Device.auto, "--device", help="Where embeddings run: auto picks a CUDA GPU when one is present."
    ),
    precision: Precision = typer.Option(
        Precision.auto,
        "--precision",
        help="Embedding precision: auto (fp32 on a CPU, fp16 on a GPU), fp32, int8 (~1.5x faster on "
        "CPU, approximate: finds fewer semantic duplicates at the same threshold), fp16 or bf16 (GPU).",
    ),
    k: int = typer.Option(None, "--k", min=1, help="Number of clusters (default: chosen automatically)."),
    threshold: float = typer.Option(
        None,
        "--semantic-threshold",
        min=-1.0,
        max=1.0,
        help="Cosine of the input vectors that links semantic duplicates (default 0.85; outputs are checked on their own).",
    ),
    engine: EngineName = typer.Option(
        EngineName.local,
        "--engine",
        help="Where to run: local (this process) or ray (a Ray cluster: same steps, for pools "
        "past one machine; needs `pip install 'pairsmith[ray]'`, see docs/scale.md).",
    ),
    address: str = typer.Option(
        None,
        "--address",
        help="With --engine ray: the cluster, 'auto' (the one `ray start` runs here or RAY_ADDRESS) or "
        "ray://HOST:10001; default: a temporary local cluster.",
    ),
) -> None:
    """Embed, check quality, find duplicates (exact, near, semantic), cluster and measure diversity."""
    from curation.analysis.engines import run_analysis
    from curation.analysis.pipeline import AnalysisSettings

    settings = AnalysisSettings(quality=quality.value)
    if model is not None:
        settings.embedder_settings["model_path"] = str(model)
    if precision is not Precision.auto:
        settings.embedder_settings["precision"] = precision.value
    if device is not Device.auto:
        settings.embedder_settings["device"] = device.value
    if k is not None:
        settings.clusters.k = k
    if threshold is not None:
        settings.semantic.threshold = threshold
    with user_errors():
        _require_records(directory)
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with user_errors(), Progress(*columns, console=console, transient=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        report = run_analysis(
            directory, engine=engine.value, address=address, settings=settings, progress=progress
        )
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    table = Table(title=f"Analysis of {directory}", show_header=False)
    method = report.method
    table.add_row("records", str(report.records))
    table.add_row("quality", f"{method.quality} on {method.device}")
    table.add_row("texts embedded", f"{report.embedded_texts} (from cache: {report.cached_texts})")
    table.add_row("outputs embedded by MiniLM", f"{method.outputs_embedded} of {report.records}")
    for cost in report.one_time_costs:
        took = f"{cost.seconds:.0f} s" if cost.seconds is not None else "time not recorded"
        state = f"made now ({took})" if cost.made_now else f"cached (made once, {took})"
        table.add_row("one-time", f"{cost.what}: {state}")
    table.add_row(
        "duplicate groups", ", ".join(f"{t} {n}" for t, n in report.duplicate_groups.items()) or "-"
    )
    table.add_row("conflicts", str(report.conflicts))
    table.add_row("quality flags", ", ".join(f"{f} {n}" for f, n in report.flags.items()) or "-")
    table.add_row("clusters", f"{report.clusters} (k by {report.k_chosen_by})")
    table.add_row("diversity", ", ".join(f"{k} {v}" for k, v in report.diversity.items()))
    prepare = report.timings.get("prepare_models", 0.0)
    table.add_row("time", f"{report.seconds:.1f} s (loading models and one-time work: {prepare:.1f} s)")
    Console().print(table)


def duplicates(
    directory: Path = DirArg,
    as_json: bool = JsonOpt,
    tier: str = typer.Option(None, "--tier", help="Only groups of this tier: exact, near or semantic."),
) -> None:
    """List duplicate groups with their tier, score, members and suggested keeper."""
    with user_errors():
        groups = duplicate_groups(directory, tier=tier)
    if as_json:
        print_json(groups)
        return
    table = Table("group", "tier", "score", "records (source row)", "keeper")
    for g in groups:
        members = ", ".join(f"{r['id']} ({r['source_row']})" for r in g["records"])
        table.add_row(str(g["group"]), g["tier"], f"{g['score']:.3f}", members, str(g["keeper"]))
    Console().print(table)


def clusters(directory: Path = DirArg, as_json: bool = JsonOpt) -> None:
    """List topic clusters with their names, sizes, label mix (as review stands now) and quality mix."""
    with user_errors():
        listing = clusters_now(directory)
    if as_json:
        print_json(listing)
        return
    table = Table("id", "name", "size", "share", "labels", "quality", title=f"{listing['k']} clusters")
    for c in listing["clusters"]:
        mix = ", ".join(f"{k} {v}" for k, v in c["label_mix"].items()) or "-"
        quality = ", ".join(f"{k} {v}" for k, v in c["quality_mix"].items())
        table.add_row(str(c["id"]), c["name"], str(c["size"]), f"{c['share']:.0%}", mix, quality)
    Console().print(table)


def diversity(
    directory: Path = DirArg,
    as_json: bool = JsonOpt,
    status: str = typer.Option(
        None,
        "--status",
        help="Only records with a response of this status: submitted, draft, discarded, pending.",
    ),
    label: str = typer.Option(
        None, "--label", help="Only records with a submitted response giving this label."
    ),
    cluster: int = typer.Option(None, "--cluster", help="Only records of this cluster id."),
    user: str = typer.Option(None, "--user", help="With --status or --label: only this user's responses."),
) -> None:
    """Diversity and coverage figures for all records or a filtered subset, with hints."""
    with user_errors():
        figures = subset_diversity(directory, status=status, label=label, cluster=cluster, user=user)
    if as_json:
        print_json(figures)
        return
    table = Table(title=f"Diversity of {figures['records']} records", show_header=False)
    for key in ("balance", "vendi_score", "mean_nn_distance", "largest_cluster_share", "clusters_covered"):
        table.add_row(key, str(figures[key]))
    Console().print(table)
    for hint in figures["hints"]:
        Console().print(f"• {hint}")
    if figures.get("hints_withheld"):
        Console().print(figures["hints_withheld"])


def prefilter(
    shards: list[Path] = typer.Argument(
        ..., help="Parquet or JSONL shards of input → output pairs.", exists=True, dir_okay=False
    ),
    out: Path = typer.Option(
        ..., "--out", help="Folder for clean.parquet, dropped.parquet and report.json.", file_okay=False
    ),
    address: str = typer.Option(
        None,
        "--address",
        help="The Ray cluster: 'auto' or ray://HOST:10001; default: a temporary local cluster.",
    ),
    drop_semantic: bool = typer.Option(
        False,
        "--drop-semantic",
        help="Also drop semantic copies (paraphrases); by default only exact and near copies go.",
    ),
    sample: int = typer.Option(
        None,
        "--sample",
        min=1,
        help="Also import this many kept records, spread over the clusters, into --into.",
    ),
    into: Path = typer.Option(
        None,
        "--into",
        help="With --sample: the project to import into (created if missing).",
        file_okay=False,
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Dedup and quality-filter shards too large to review, on Ray: a clean Parquet out, what was dropped and why, and optionally a diversity-spread subset imported for review."""
    from curation.analysis.engines import run_prefilter
    from training.export_config import DEFAULT_EXCLUDED_FLAGS

    tiers = ["exact", "near", "semantic"] if drop_semantic else ["exact", "near"]
    with user_errors():
        result = run_prefilter(
            list(shards),
            out,
            address=address,
            exclude_flags=list(DEFAULT_EXCLUDED_FLAGS),
            drop_tiers=tiers,
            sample=sample,
            into=into,
        )
    report = result.model_dump(mode="json")  # type: ignore[attr-defined]
    if as_json:
        print_json(report)
        return
    table = Table(title=f"Prefilter of {len(shards)} shard(s)", show_header=False)
    table.add_row("rows read", str(report["rows_read"]))
    table.add_row("kept", str(report["kept"]))
    table.add_row("dropped", ", ".join(f"{k} {v}" for k, v in report["dropped_by"].items()) or "-")
    table.add_row(
        "duplicate groups", ", ".join(f"{t} {n}" for t, n in report["duplicate_groups"].items()) or "-"
    )
    if report["sample_project"]:
        table.add_row("imported for review", f"{report['sampled']} into {report['sample_project']}")
    table.add_row("files", ", ".join(report["files"].values()))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command()(analyze)
    app.command()(prefilter)
    app.command()(duplicates)
    app.command()(clusters)
    app.command()(diversity)


def _require_records(directory: Path) -> None:
    """Refuse an empty project before any model loads (the UI's Analyze button is disabled then too)."""
    from curation.errors import BadInputError
    from curation.project import open_store

    store = open_store(directory)
    try:
        empty = store.count_records() == 0
    finally:
        store.close()
    if empty:
        raise BadInputError(
            f"{directory} has no records to analyse; import a file first: pairsmith import {directory} FILE"
        )
