"""CLI commands: who reviews what (`pairsmith assign`) and how far each person is (`pairsmith progress`).

The same library functions as the *People and progress* section of the Project & import page
(curation.review.assignment, curation.review.progress, curation.review.reasons).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from curation.project import open_store
from curation.review.assignment import assign_reviewers, clear_assignment
from curation.review.progress import people_progress, unreviewed_count
from curation.review.reasons import reason_counts
from ui.commands.common import API_KEY, USER, console, print_json, user_errors

DirArg = typer.Argument(..., help="The project directory.", file_okay=False)


def assign(
    directory: Path = DirArg,
    reviewers: list[str] = typer.Argument(None, help="The people to split the unreviewed records between."),
    overlap: float = typer.Option(
        10.0,
        "--overlap",
        min=0,
        max=100,
        help="Percent of the records that several people review (for agreement).",
    ),
    per_record: int = typer.Option(2, "--per-record", min=2, help="People per shared record."),
    clear: bool = typer.Option(False, "--clear", help="Remove every assignment instead."),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (docs/cli.md)."),
) -> None:
    """Assign the records nobody has reviewed yet to reviewers, evenly, with a share reviewed twice."""
    with user_errors():
        store = open_store(directory, api_key=api_key)
        try:
            if clear:
                result: dict[str, object] = {"cleared": clear_assignment(store, user=user)}
            else:
                done = assign_reviewers(
                    store, reviewers or [], overlap_share=overlap / 100, per_record=per_record, user=user
                )
                result = done.model_dump()
        finally:
            store.close()
    if as_json:
        print_json(result)
    elif clear:
        console.print(f"Assignment cleared from {result['cleared']} records.")
    else:
        shares = ", ".join(f"{name} {count}" for name, count in result["per_person"].items())  # type: ignore[attr-defined]
        console.print(f"Assigned {result['records']} records ({shares}); {result['overlapping']} are shared.")


def progress(
    directory: Path = DirArg,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON (docs/cli.md)."),
) -> None:
    """Each person's answers and assigned records done, the records nobody reviewed, and why records were bad."""
    with user_errors():
        store = open_store(directory, api_key=api_key)
        try:
            people = people_progress(store)
            figures = {
                "records": store.count_records(),
                "unreviewed": unreviewed_count(store),
                "people": [{**p.model_dump(), "assigned_left": p.assigned_left} for p in people],
                "bad_reasons": reason_counts(store.get_responses()),
            }
        finally:
            store.close()
    if as_json:
        print_json(figures)
        return
    table = Table("name", "role", "submitted", "drafts", "discarded", "assigned", "assigned done",
                  title=f"{figures['unreviewed']} of {figures['records']} records not reviewed yet")  # fmt: skip
    for p in people:
        table.add_row(p.name, p.role, str(p.submitted), str(p.drafts), str(p.discarded), str(p.assigned),
                      str(p.assigned_done))  # fmt: skip
    Console().print(table)
    if figures["bad_reasons"]:
        Console().print(
            "Why records were labelled bad: "
            + ", ".join(f"{t} {n}" for t, n in figures["bad_reasons"].items())
        )  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("assign")(assign)
    app.command("progress")(progress)
