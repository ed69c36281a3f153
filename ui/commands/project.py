"""CLI commands: create a project, look at it, manage its users and dataset versions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from curation.importing.example_project import create_example_project
from curation.model import Role, User
from curation.project import init_project, open_store
from curation.review.stats import project_stats
from ui.commands.common import console, print_json, user_errors

users_app = typer.Typer(help="Manage the people who work on a project (owners design, annotators label).")
versions_app = typer.Typer(help="Named, immutable snapshots of records and responses.")

DirArg = typer.Argument(..., help="The project directory.", file_okay=False)
JsonOpt = typer.Option(
    False, "--json", help="Print a JSON object (documented in docs/cli.md) instead of text."
)


def init(
    directory: Path = DirArg,
    name: str = typer.Option(None, "--name", help="Project name (default: the directory name)."),
    example: bool = typer.Option(
        False,
        "--example",
        help="Create the project from the bundled example dataset (Fernway ticket triage).",
    ),
    backend: str | None = typer.Option(
        None,
        "--backend",
        help="Where records live: local (SQLite file) or argilla "
        "(default: argilla when ARGILLA_API_URL and ARGILLA_API_KEY are set, else local).",
        show_default=False,
    ),
) -> None:
    """Create a new project directory (a local SQLite store by default)."""
    with user_errors():
        if example:
            store = create_example_project(directory, backend=backend)
        else:
            store = init_project(directory, name, backend=backend)
        count = store.count_records()
        console.print(f"Created project '{store.get_project().name}' in {directory} ({count} records).")


def stats(directory: Path = DirArg, as_json: bool = JsonOpt) -> None:
    """Show counts, review status, labels and length distributions."""
    with user_errors():
        result = project_stats(open_store(directory))
    if as_json:
        print_json(result)
        return
    table = Table(title=f"Project {result['project']} ({result['backend']})", show_header=False)
    table.add_row("records", str(result["records"]))
    table.add_row("golden examples", str(result["golden"]))
    table.add_row("responses", ", ".join(f"{k} {v}" for k, v in result["responses"].items()))
    table.add_row("labels", ", ".join(f"{k} {v}" for k, v in result["labels"].items()) or "-")
    for key, dist in result["lengths"].items():
        table.add_row(key, f"min {dist['min']}  median {dist['p50']}  p90 {dist['p90']}  max {dist['max']}")
    table.add_row("sources", ", ".join(f"{k} ({v})" for k, v in result["sources"].items()) or "-")
    table.add_row("guidelines version", str(result["guidelines_version"]))
    Console().print(table)


@users_app.command("add")
def users_add(
    directory: Path = DirArg,
    name: str = typer.Argument(..., help="User name (letters, digits, _ . @ -)."),
    role: Role = typer.Option(Role.annotator, "--role", help="owner (designer) or annotator."),
) -> None:
    """Add a user to the project."""
    with user_errors():
        user = open_store(directory).add_user(User(name=name, role=role))
    console.print(f"Added {user.name} ({user.role}).")


@users_app.command("list")
def users_list(directory: Path = DirArg, as_json: bool = JsonOpt) -> None:
    """List the project's users and their roles."""
    with user_errors():
        users = open_store(directory).list_users()
    if as_json:
        print_json([{"name": u.name, "role": str(u.role)} for u in users])
        return
    for user in users:
        typer.echo(f"{user.name}\t{user.role}")


@versions_app.command("create")
def versions_create(
    directory: Path = DirArg, name: str = typer.Argument(..., help="Version name."), as_json: bool = JsonOpt
) -> None:
    """Freeze the current records and responses under a name."""
    with user_errors():
        version = open_store(directory).create_version(name)
    if as_json:
        print_json(version.model_dump(mode="json"))
    else:
        console.print(
            f"Version {version.name}: {version.record_count} records, {version.response_count} responses, "
            f"hash {version.content_hash[:12]}"
        )


@versions_app.command("list")
def versions_list(directory: Path = DirArg, as_json: bool = JsonOpt) -> None:
    """List dataset versions."""
    with user_errors():
        versions = open_store(directory).list_versions()
    if as_json:
        print_json([v.model_dump(mode="json") for v in versions])
        return
    for v in versions:
        typer.echo(
            f"{v.name}\t{v.created_at:%Y-%m-%d %H:%M}\t{v.record_count} records\t{v.content_hash[:12]}"
        )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command()(init)
    app.command()(stats)
    app.add_typer(users_app, name="users")
    app.add_typer(versions_app, name="versions")
