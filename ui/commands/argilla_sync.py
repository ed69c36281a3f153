"""CLI commands: move a project to an Argilla server and back (`push --to-argilla`, `pull`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ui.commands.common import API_KEY, print_json, user_errors

API_URL = typer.Option(
    None, "--api-url", help="Argilla server URL (default: last sync, then ARGILLA_API_URL)."
)
WORKSPACE = typer.Option(None, "--workspace", help="Argilla workspace (default: pairsmith).")
DATASET = typer.Option(None, "--dataset", help="Argilla dataset name (default: the project's name).")
JSON = typer.Option(False, "--json", help="Print the sync report as JSON.")


def push(
    project_dir: Path = typer.Argument(..., help="The local project directory."),
    to_argilla: bool = typer.Option(
        False, "--to-argilla", help="Push to an Argilla server (the only target)."
    ),
    api_url: str | None = API_URL,
    api_key: str | None = API_KEY,
    workspace: str | None = WORKSPACE,
    dataset: str | None = DATASET,
    batch_size: int = typer.Option(500, "--batch-size", min=1, max=500, help="Records per request."),
    as_json: bool = JSON,
) -> None:
    """Copy a local project to Argilla (settings, users, records, vectors, responses); resumable."""
    from curation.project_sync import push_project

    with user_errors():
        if not to_argilla:
            raise typer.BadParameter("say where to push: --to-argilla")
        report = push_project(
            project_dir,
            api_url=api_url,
            api_key=api_key,
            workspace=workspace,
            dataset=dataset,
            batch_size=batch_size,
        )
    if as_json:
        print_json(report.model_dump())
    else:
        typer.echo(
            f"pushed {report.records} records ({report.inserted} new, {report.updated} updated, "
            f"{report.unchanged} unchanged) and {report.responses} responses to "
            f"{report.api_url} {report.workspace}/{report.dataset}"
        )


def pull(
    project_dir: Path = typer.Argument(..., help="The local project directory (created when missing)."),
    api_url: str | None = API_URL,
    api_key: str | None = API_KEY,
    workspace: str | None = WORKSPACE,
    dataset: str | None = DATASET,
    as_json: bool = JSON,
) -> None:
    """Copy an Argilla dataset with every user's responses into a local project."""
    from curation.project_sync import pull_project

    with user_errors():
        report = pull_project(
            project_dir, api_url=api_url, api_key=api_key, workspace=workspace, dataset=dataset
        )
    if as_json:
        print_json(report.model_dump())
    else:
        typer.echo(
            f"pulled {report.records} records ({report.inserted} new, {report.updated} updated), "
            f"{report.responses} responses and {report.versions} versions from {report.api_url} "
            f"{report.workspace}/{report.dataset}"
        )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command()(push)
    app.command()(pull)
