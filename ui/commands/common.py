"""Helpers every command module shares: error handling, JSON output, the console, who is working."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from curation.errors import PairsmithError

console = Console(stderr=True)

USER = typer.Option(
    None,
    "--user",
    help="Who is working (a user of a local project): annotators are refused; omit on your own machine.",
)
API_KEY = typer.Option(
    None,
    "--api-key",
    envvar="ARGILLA_API_KEY",
    show_envvar=True,
    help="Argilla projects: your own API key, which decides your role (never stored).",
    show_default=False,
)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn pairsmith's errors into `Error: <message>` on stderr and exit code 1."""
    try:
        yield
    except PairsmithError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        typer.echo(f"Error: invalid {exc.title}: {problems}", err=True)
        raise typer.Exit(code=1) from None


def print_json(obj: Any) -> None:
    """Print a documented JSON shape to stdout (nothing else goes to stdout with --json)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
