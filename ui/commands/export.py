"""CLI commands: export the clean set (or explain it with --dry-run)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from curation.project import open_store
from training.export import explain_clean_set, export_clean_set
from training.export_config import load_export_config
from ui.commands.common import API_KEY, USER, console, print_json, user_errors


def export(
    directory: Path = typer.Argument(..., help="The project directory.", file_okay=False),
    out: Path = typer.Option(None, "--out", help="Folder to write the export to (replaced atomically)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only explain what would be included and why; write nothing."
    ),
    include_unreviewed: bool = typer.Option(
        None,
        "--include-unreviewed/--reviewed-only",
        help="Also take records nobody labeled (still deduplicated and quality-filtered).",
        show_default=False,
    ),
    version: str = typer.Option(
        None, "--version", help="Dataset version to export: an existing one, or a new name to create."
    ),
    select: int = typer.Option(
        None,
        "--select",
        min=1,
        help="Keep only the N training records that best cover the data and are of the highest quality "
        "(needs `pairsmith analyze`); validation and test stay the same.",
    ),
    config_file: Path = typer.Option(
        None, "--config", help="Export config (YAML or JSON); flags override it.", dir_okay=False
    ),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON object (documented in docs/export.md) instead of text."
    ),
) -> None:
    """Export the clean set as train/validation/test splits in HF, parquet, OpenAI, Alpaca and ShareGPT formats."""
    if out is None and not dry_run:
        typer.echo("Error: --out is required (or pass --dry-run to only explain the clean set)", err=True)
        raise typer.Exit(code=2)
    with user_errors():
        config = load_export_config(
            config_file, include_unreviewed=include_unreviewed, version=version, select=select
        )
        store = open_store(directory, api_key=api_key)
        try:
            if dry_run:
                summary = {"dry_run": True} | explain_clean_set(store, config, per_record=as_json)
            else:
                result = export_clean_set(store, out, config, project_dir=directory, user=user).to_json()
        finally:
            store.close()
    if dry_run:
        if as_json:
            print_json(summary)
            return
        out = Console()
        if summary["collapse"]:
            # Said first: a collapsing clean set is the thing to look at before any table.
            out.print(f"[bold yellow]Warning:[/] {escape(summary['collapse']['message'])}\n")
        table = Table(title=f"Clean set: {summary['included']} of {summary['records']} records included")
        table.add_column("outcome")
        table.add_column("reason")
        table.add_column("records", justify="right")
        for reason, n in summary["included_by"].items():
            table.add_row("included", reason, str(n))
        for reason, n in summary["excluded_by"].items():
            table.add_row("excluded", reason, str(n))
        out.print(table)
        if summary.get("selection"):
            _print_selection(summary["selection"])
        return
    if as_json:
        print_json(result)
        return
    counts = ", ".join(f"{split} {n}" for split, n in result["counts"].items())
    console.print(f"Exported version {result['version']} to {result['out_dir']}: {counts}.")
    if result["excluded_by"]:
        console.print("Left out: " + ", ".join(f"{r} {n}" for r, n in result["excluded_by"].items()))
    if result.get("selection"):
        _print_selection(result["selection"])
    c = result["contamination"]
    console.print(
        f"Contamination: max similarity {c['max']}, {c['above_threshold']} test records above threshold."
    )


def _print_selection(selection: dict[str, object]) -> None:
    console.print(
        f"Selected {selection['selected']} of {selection['pool']} training records "
        f"(mean quality {selection['mean_quality']}); each pick's reason is in manifest.json."
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("export")(export)
