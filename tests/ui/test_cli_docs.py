"""The CLI's help is the reference: every command explains itself and docs/cli.md stays in step."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from ui.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_command_has_help_text() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "list_commands")
    commands = _generator().iter_commands(root, "pairsmith")
    assert len(commands) >= 5
    missing = [path for path, command in commands if not (command.help or "").strip()]
    assert missing == [], f"commands without help text: {missing}"


def test_docs_cli_md_matches_the_help() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    generator = _generator()
    assert generator.updated_doc(doc) == doc, (
        "docs/cli.md is stale: run `.venv/bin/python scripts/gen_cli_docs.py`"
    )


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    assert hasattr(root, "list_commands")
    names = set(root.list_commands(typer.Context(root)))
    in_code, used = False, set()
    for line in readme.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif in_code and line.startswith("pairsmith "):
            used.add(line.split()[1])
    assert used and used <= names, f"README mentions commands that do not exist: {used - names}"
