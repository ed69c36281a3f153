"""The first-run path through a project: import → analyse → write guidelines → review → export.

A new user lands on an empty project; the app shows these steps, which are done, and what to do
next, until the first records are reviewed. Each step is read from what the project holds, never
from a flag the app keeps, so the list is right after a CLI import or an analysis run elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from curation.files import ProjectPaths
from curation.store.base import RecordStore


class SetupStep(BaseModel):
    """One step of getting a project going."""

    id: str
    """``import``, ``analyse``, ``guidelines``, ``review`` or ``export`` (the app maps it to a page)."""
    title: str
    done: bool
    how: str
    """What to do, in the app and on the command line (``DIR`` is the project folder)."""
    owners_only: bool = True


def setup_steps(project_dir: Path | str, store: RecordStore) -> list[SetupStep]:
    """The steps in order, each marked done or not (a few cheap reads: counts and file checks)."""
    paths = ProjectPaths(Path(project_dir))
    records = store.count_records()
    counts = store.response_counts()
    runs = paths.runs
    return [
        SetupStep(
            id="import",
            title="Import your pairs",
            done=records > 0,
            how="Upload a CSV, JSONL, Parquet or chat file on Project & import (or `pairsmith import DIR FILE`).",
        ),
        SetupStep(
            id="analyse",
            title="Analyse them",
            done=(paths.analysis / "report.json").exists(),
            how="*Analyse now* on Project & import finds duplicates, topics and quality flags "
            "(or `pairsmith analyze DIR`).",
        ),
        SetupStep(
            id="guidelines",
            title="Say what a good output is",
            done=bool(store.get_project().guidelines.strip()),
            how="Write the guidelines, the reason tags for *bad* and golden examples on Guidelines.",
        ),
        SetupStep(
            id="review",
            title="Review",
            done=counts.submitted + counts.discarded > 0,
            how="Label records good, bad or needs fix on Review (keys G, B, F).",
            owners_only=False,
        ),
        SetupStep(
            id="export",
            title="Export and train",
            done=runs.exists() and any(p.is_dir() for p in runs.iterdir()),
            how="Check the clean set and start a run on Export & train (or `pairsmith ship DIR --out DIR/runs/NAME`).",
        ),
    ]


def next_step(steps: list[SetupStep]) -> SetupStep | None:
    """The first step not done yet (None once everything has been done once)."""
    return next((s for s in steps if not s.done), None)
