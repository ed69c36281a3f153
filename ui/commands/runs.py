"""CLI commands: `pairsmith runs compare A B`, two runs side by side (docs/training.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ui.commands.common import print_json, user_errors

runs_app = typer.Typer(
    help="Look at training runs (folders from `pairsmith ship` or `train` + `eval`).", no_args_is_help=True
)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _interval(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("value") is None:
        return "–"
    return f"{cell['value']:.3f} ({cell['low']:.3f} to {cell['high']:.3f})"


def _clip(text: Any, width: int = 70) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= width else value[: width - 1] + "…"


@runs_app.command("compare")
def compare(
    run_a: Path = typer.Argument(
        ..., help="Run A: a folder with eval/report.json (and export/manifest.json)."
    ),
    run_b: Path = typer.Argument(..., help="Run B, compared with A (differences are B − A)."),
    sample: int = typer.Option(6, "--sample", min=0, help="Test inputs to show with both models' outputs."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object (docs/training.md)."),
) -> None:
    """Compare two runs: data and what curation removed, diversity, metrics with 95% intervals, outputs."""
    from training.compare import compare_runs_detail

    with user_errors():
        result = compare_runs_detail(run_a, run_b, sample=sample)
    if as_json:
        print_json(result)
        return
    out = Console()
    out.print(f"A = {result['runs']['a']}\nB = {result['runs']['b']}", markup=False, highlight=False)
    data = Table(title="Data")
    for column in ("", "A", "B"):
        data.add_column(column)
    a, b = result["data"]["a"] or {}, result["data"]["b"] or {}
    for key in ("records", "included", "excluded"):
        data.add_row(key, _num(a.get(key)), _num(b.get(key)))
    for split in ("train", "validation", "test"):
        data.add_row(split, _num(a.get("counts", {}).get(split)), _num(b.get("counts", {}).get(split)))
    out.print(data)
    if result["removed"]:
        removed = Table(title="Removed by curation, by reason")
        for column in ("reason", "A", "B"):
            removed.add_column(column)
        for row in result["removed"]:
            removed.add_row(row["reason"], str(row["a"]), str(row["b"]))
        out.print(removed)
    if result["diversity"]:
        diversity = Table(title="Diversity: all records (before) and the train split (after)")
        for column in ("figure", "A before", "A after", "B before", "B after"):
            diversity.add_column(column)
        for row in result["diversity"]:
            diversity.add_row(
                row["figure"], *(_num(row[k]) for k in ("a_before", "a_after", "b_before", "b_after"))
            )
        out.print(diversity)
    metrics = Table(title=f"Metrics ({result['interval']}; primary: {result['primary_metric']})")
    for column in ("metric", "A", "B", "B − A", "significant"):
        metrics.add_column(column)
    for row in result["metrics"]:
        significant = "–" if row["significant"] is None else ("yes" if row["significant"] else "no")
        metrics.add_row(
            row["metric"], _interval(row["a"]), _interval(row["b"]), _interval(row["difference"]), significant
        )
    out.print(metrics)
    loss = result["validation_loss"]
    out.print(f"Validation loss: A {_num(loss['a'])}, B {_num(loss['b'])}", highlight=False)
    if result["sample"]:
        shown = Table(title="Test inputs, largest differences first", show_lines=True)
        for column in ("input", "reference", "A", "B"):
            shown.add_column(column, overflow="fold")
        for row in result["sample"]:
            shown.add_row(
                _clip(row["input"]),
                _clip(row["reference"]),
                f"{_clip(row['a'])} ({_num(row['a_score'])})",
                f"{_clip(row['b'])} ({_num(row['b_score'])})",
            )
        out.print(shown)
    for note in result["notes"]:
        out.print(f"Note: {note}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.add_typer(runs_app, name="runs")
