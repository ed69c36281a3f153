"""CLI command: `pairsmith ui DIR` serves the Streamlit app for one project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from curation.review.auth import check_servable
from ui.commands.common import user_errors

APP = Path(__file__).resolve().parents[1] / "app.py"
LOCALHOST = "127.0.0.1"


PRIMARY_COLOUR = "#0969da"


def streamlit_command(directory: Path, host: str, port: int) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, bound to ``host``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        # No Deploy button or developer menu: reviewers get the app, not Streamlit's tools.
        "--client.toolbarMode",
        "minimal",
        # Blue for the main action: red would say "danger", and the verdict buttons carry their own colours.
        "--theme.primaryColor",
        PRIMARY_COLOUR,
        "--",
        str(directory),
    ]


def ui(
    directory: Path = typer.Argument(..., help="The project directory.", file_okay=False),
    host: str = typer.Option(
        LOCALHOST,
        "--host",
        help="Address to listen on. The default serves this machine only; another address (0.0.0.0) "
        "serves your network and needs a password for every user of a local project (docs/ui.md).",
    ),
    port: int = typer.Option(8501, "--port", help="Port to listen on."),
    import_roots: list[Path] = typer.Option(
        [],
        "--import-root",
        help="A folder owners may import files from by path when serving beyond this machine (repeatable).",
        file_okay=False,
    ),
) -> None:
    """Start the web app for a project (review, duplicates, clusters, export & train)."""
    with user_errors():
        check_servable(directory, host)  # a clear refusal now rather than an open door later
    env = dict(
        os.environ,
        PAIRSMITH_PROJECT=str(directory.resolve()),
        PAIRSMITH_HOST=host,
        PAIRSMITH_IMPORT_ROOTS=os.pathsep.join(str(r.resolve()) for r in import_roots),
        HF_HUB_OFFLINE="1",
    )
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    typer.echo(f"Serving {directory} on http://{host}:{port} (Ctrl+C stops it)", err=True)
    command = streamlit_command(directory.resolve(), host, port)
    # Become the server (no child process): a signal to this process (Ctrl+C, kill, a test's
    # terminate()) reaches Streamlit itself, and nothing is left running behind.
    os.execve(command[0], command, env)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("ui")(ui)
