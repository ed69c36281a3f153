"""CLI commands: create a project, look at it, manage its users and dataset versions."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from curation.importing.example_project import create_example_project
from curation.model import Role
from curation.project import init_project, open_store
from curation.review.auth import add_person, set_password, users_without_password
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


PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input (for scripts)."
)


def _read_password(name: str, from_stdin: bool) -> str:
    """The new password: from stdin, or asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    directory: Path = DirArg,
    name: str = typer.Argument(..., help="User name (letters, digits, _ . @ -)."),
    role: Role = typer.Option(Role.annotator, "--role", help="owner (designer) or annotator."),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Add a user to the project (the first owner is created here, never in the web app)."""
    with user_errors():
        store = open_store(directory)
        try:
            password = _read_password(name, True) if password_stdin else None
            user = add_person(store, name, role, password=password)
        finally:
            store.close()
    console.print(f"Added {user.name} ({user.role}).")
    if not password_stdin and store.backend == "local":
        console.print(f"Set a password with `pairsmith users passwd {directory} {user.name}`.")


@users_app.command("passwd")
def users_passwd(
    directory: Path = DirArg,
    name: str = typer.Argument(..., help="The user whose password to set."),
    password_stdin: bool = PasswordStdin,
    remove: bool = typer.Option(False, "--remove", help="Remove the password instead of setting one."),
) -> None:
    """Set a local user's password (hashed with argon2); the web app then asks for it at sign-in."""
    with user_errors():
        store = open_store(directory)
        try:
            store.get_user(name)
            set_password(store, name, None if remove else _read_password(name, password_stdin))
        finally:
            store.close()
    console.print(f"{'Removed' if remove else 'Set'} the password of {name}.")


@users_app.command("list")
def users_list(directory: Path = DirArg, as_json: bool = JsonOpt) -> None:
    """List the project's users, their roles and whether they have a password."""
    with user_errors():
        store = open_store(directory)
        try:
            users = store.list_users()
            without = set(users_without_password(store))
        finally:
            store.close()
    if as_json:
        print_json([{"name": u.name, "role": str(u.role), "password": u.name not in without} for u in users])
        return
    for user in users:
        typer.echo(f"{user.name}\t{user.role}" + ("\tno password" if user.name in without else ""))


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
