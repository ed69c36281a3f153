"""CLI commands: import a file of input → output pairs into a project."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from curation.files import ProjectPaths
from curation.importing import ColumnMapping, ImportReport, all_format_names, import_file
from curation.project import open_store
from ui.commands.common import console, print_json, user_errors


def import_command(
    directory: Path = typer.Argument(..., help="The project directory.", file_okay=False),
    file: Path = typer.Argument(
        ..., help="The file to import (or a Hugging Face dataset directory saved with save_to_disk)."
    ),
    format: str = typer.Option(
        None,
        "--format",
        help=f"Read the file as this format instead of going by its extension: {', '.join(all_format_names())}.",
    ),
    input_col: str = typer.Option(
        None, "--input-col", help="Column holding the input (default: prompt/instruction/question/input/...)."
    ),
    output_col: str = typer.Option(
        None,
        "--output-col",
        help="Column holding the output (default: response/output/answer/completion/...).",
    ),
    id_col: str = typer.Option(
        None,
        "--id-col",
        help="Column holding a stable record id (default: 'id' if present, else content hashes).",
    ),
    metadata_col: list[str] = typer.Option(
        None,
        "--metadata-col",
        help="Keep only this column as metadata (repeatable; default: every other column).",
    ),
    split: str = typer.Option(None, "--split", help="Split of a Hugging Face DatasetDict (default: train)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the import report as JSON (documented in docs/import.md)."
    ),
) -> None:
    """Import a CSV, TSV, JSON, JSONL, Parquet, Hugging Face or chat-format file into a project.

    Rows that cannot be used are written with their reasons to a quarantine file in the project;
    re-importing the same file adds nothing. Exits 1 when no row could be imported.
    """
    mapping = ColumnMapping(
        input_col=input_col, output_col=output_col, id_col=id_col, metadata_cols=metadata_col or None
    )
    with user_errors():
        store = open_store(directory)
        try:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            ) as bar:
                task = bar.add_task(f"Importing {file.name}", total=1.0, rows=0)

                def progress(rows: int, fraction: float | None) -> None:
                    bar.update(task, completed=fraction or 0.0, rows=rows)

                report = import_file(
                    store,
                    file,
                    quarantine_dir=ProjectPaths(directory).quarantine,
                    mapping=mapping,
                    format=format,
                    split=split,
                    progress=progress,
                )
        finally:
            store.close()
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        _print_summary(report)
    if report.imported == 0 and report.rejected == report.rows_read:
        typer.echo(
            f"Error: every row of {report.file} was rejected ({report.rejected}); "
            f"the reasons are in {report.quarantine_file}",
            err=True,
        )
        raise typer.Exit(code=1)


def _print_summary(report: ImportReport) -> None:
    console.print(
        f"{report.file} ({report.format}): {report.rows_read} rows read, [green]{report.imported} imported[/], "
        f"{report.skipped_existing} already in the project, "
        + (f"[red]{report.rejected} rejected[/]" if report.rejected else "0 rejected")
    )
    if report.quarantine_file:
        console.print(f"Rejected rows and their reasons: {report.quarantine_file}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("import")(import_command)
