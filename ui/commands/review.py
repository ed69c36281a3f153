"""CLI commands: the decision log and undo (docs/ui.md, "The decision log")."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from curation.model import DecisionKind
from curation.project import open_store
from curation.review.decisions import decision_log, undo_batch, undo_decision
from curation.store.base import DecisionQuery
from ui.commands.common import API_KEY, USER, console, print_json, user_errors

DirArg = typer.Argument(..., help="The project directory.", file_okay=False)


def decisions(
    directory: Path = DirArg,
    kind: DecisionKind = typer.Option(None, "--kind", help="Only decisions of this kind."),
    record: str = typer.Option(None, "--record", help="Only decisions that changed this record."),
    by: str = typer.Option(None, "--by", help="Only decisions this person made."),
    limit: int = typer.Option(50, "--limit", min=1, help="How many, newest first."),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list (docs/cli.md) instead of a table."),
) -> None:
    """List the decision log: labels, duplicate decisions, bulk resolves, adjudications and golden marks."""
    with user_errors():
        store = open_store(directory, api_key=api_key)
        try:
            query = DecisionQuery(kind=kind, record_id=record, user=by, limit=limit)
            found = decision_log(store, user, query)
        finally:
            store.close()
    if as_json:
        print_json([d.model_dump(mode="json") for d in found])
        return
    table = Table("id", "when", "who", "kind", "what", "why", "undone", title=f"Decisions in {directory}")
    for d in found:
        undone = f"{d.undone_at:%Y-%m-%d %H:%M} by {d.undone_by or 'command line'}" if d.undone_at else ""
        table.add_row(
            d.id, f"{d.at:%Y-%m-%d %H:%M:%S}", d.user or "command line", str(d.kind), d.what, d.why, undone
        )
    Console().print(table)


def undo(
    directory: Path = DirArg,
    decision_id: str = typer.Argument(..., help="A decision id from `pairsmith decisions DIR`."),
    batch: bool = typer.Option(
        False, "--batch", help="Undo the whole bulk action the decision belongs to, not only this decision."
    ),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(False, "--json", help="Print the undone decisions as JSON."),
) -> None:
    """Undo a decision (or its whole bulk action); refused when a record changed since it was made."""
    with user_errors():
        store = open_store(directory, api_key=api_key)
        try:
            if batch:
                [decision] = decision_log(store, None, DecisionQuery(ids=[decision_id], limit=1)) or [None]
                if decision is None or not decision.batch:
                    undone = undo_decision(store, decision_id, user=user)
                else:
                    undone = undo_batch(store, decision.batch, user=user)
            else:
                undone = undo_decision(store, decision_id, user=user)
        finally:
            store.close()
    if as_json:
        print_json([d.model_dump(mode="json") for d in undone])
        return
    records = len({rid for d in undone for rid in d.record_ids})
    console.print(f"Undone {len(undone)} decision(s); {records} records are back as they were.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("decisions")(decisions)
    app.command("undo")(undo)
