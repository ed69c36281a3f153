"""Regenerate the command reference in docs/cli.md from the CLI's own --help.

Run: .venv/bin/python scripts/gen_cli_docs.py   (tests/ui/test_cli_docs.py fails when it is stale)
Only the part between the BEGIN/END markers is generated; the rest of docs/cli.md is hand-written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ui.cli import app  # noqa: E402

DOC = ROOT / "docs" / "cli.md"
BEGIN = "<!-- BEGIN GENERATED COMMAND REFERENCE -->"
END = "<!-- END GENERATED COMMAND REFERENCE -->"


def iter_commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    """Every leaf command below ``group`` with its full path (typer vendors click, so duck-typed)."""
    found: list[tuple[str, Any]] = []
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        path = f"{prefix} {name}"
        if hasattr(command, "list_commands"):
            found += iter_commands(command, path)
        else:
            found.append((path, command))
    return found


def render() -> str:
    root = typer.main.get_command(app)
    assert hasattr(root, "list_commands")
    parts = [BEGIN, ""]
    for path, command in iter_commands(root, "pairsmith"):
        ctx = typer.Context(command, info_name=path)
        usage = command.get_usage(ctx).replace("Usage: ", "")
        parts.append(f"### `{path}`\n")
        parts.append((command.help or "").strip().split("\n\n")[0] + "\n")
        parts.append(f"```\n{usage}\n```\n")
        rows = []
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and not getattr(param, "hidden", False):
                flags = ", ".join(f"`{o}`" for o in param.opts)
                rows.append(f"| {flags} | {(param.help or '').replace('|', '/')} |")
        if rows:
            parts.append("| option | meaning |\n|---|---|\n" + "\n".join(rows) + "\n")
    parts.append(END)
    return "\n".join(parts)


def updated_doc(current: str) -> str:
    generated = render()
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + generated + tail
    return current.rstrip() + "\n\n" + generated + "\n"


def main() -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Command reference\n"
    DOC.write_text(updated_doc(current), encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
