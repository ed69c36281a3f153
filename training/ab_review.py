"""Blind A/B preference: base and tuned answers go back to reviewers, who pick the better one.

For each test record a review item shows the two answers as "A" and "B" in a seeded random order.
Items live in their own sub-project ``<project_dir>/ab/<run_id>/`` whose only question is
``preference`` (A, B or tie). Which side is the tuned model is kept out of the store, in
``<run_dir>/eval/ab_key.json``, so annotators cannot see it even where the UI shows metadata.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from curation.errors import NotFoundError
from curation.files import ProjectPaths, atomic_write_json
from curation.model import Project, Question, QuestionKind, Record, ResponseStatus
from curation.project import init_project, open_store

PREFERENCE_QUESTION = "preference"
AB_KEY_FILE = "ab_key.json"
GUIDELINES = (
    "Two answers to the same input are shown as A and B, in random order. Pick the better answer "
    "(correct, complete, in the expected format), or 'tie' when neither is better."
)


def ab_project_dir(project_dir: Path | str, run_id: str) -> Path:
    return Path(project_dir) / "ab" / run_id


def create_ab_review(project_dir: Path | str, run_dir: Path | str, *, seed: int = 0) -> Path:
    """Create the A/B sub-project for a run from its ``eval/report.json``; return its directory.

    The run id is the run directory's name. The A/B key (which side is which) goes to
    ``<run_dir>/eval/ab_key.json``.
    """
    from training.report import load_report

    run = Path(run_dir)
    report = load_report(run)
    run_id = run.resolve().name
    target = ab_project_dir(project_dir, run_id)
    project = Project(
        name=f"ab-{run_id}",
        guidelines=GUIDELINES,
        questions=[
            Question(
                name=PREFERENCE_QUESTION,
                title="Which answer is better?",
                kind=QuestionKind.label,
                options=["A", "B", "tie"],
                required=True,
            )
        ],
    )
    rng = random.Random(seed)
    key: dict[str, str] = {}
    records = []
    for row in report["records"]:
        a_is = rng.choice(["base", "tuned"])
        b_is = "tuned" if a_is == "base" else "base"
        key[row["id"]] = a_is
        records.append(
            Record(
                id=row["id"],
                input=row["input"],
                output=f"A:\n{row[a_is]}\n\nB:\n{row[b_is]}",
                metadata={"ab_run": run_id},
            )
        )
    store = init_project(target, project=project)
    try:
        store.upsert_records(records)
    finally:
        store.close()
    atomic_write_json(run / "eval" / AB_KEY_FILE, {"run_id": run_id, "seed": seed, "a_is": key})
    return target


def ab_win_rate(project_dir: Path | str, run_dir: Path | str) -> dict[str, Any]:
    """Tally submitted A/B answers: ``{"judged", "tuned_wins", "base_wins", "ties", "tuned_win_rate"}``.

    Ties count half a win each way in the win rate. ``judged`` is 0 when nobody has answered.
    """
    run = Path(run_dir)
    key_path = run / "eval" / AB_KEY_FILE
    if not key_path.exists():
        raise NotFoundError(f"{key_path} does not exist; create the A/B review first (`pairsmith eval --ab`)")
    key = json.loads(key_path.read_text(encoding="utf-8"))
    target = ab_project_dir(project_dir, key["run_id"])
    if not ProjectPaths(target).config.exists():
        raise NotFoundError(f"no A/B review at {target}; create it with `pairsmith eval --ab`")
    store = open_store(target)
    try:
        responses = store.get_responses(status=ResponseStatus.submitted)
    finally:
        store.close()
    votes: Counter[str] = Counter()
    for response in responses:
        choice = response.values.get(PREFERENCE_QUESTION)
        a_is = key["a_is"].get(response.record_id)
        if choice == "tie":
            votes["tie"] += 1
        elif choice in ("A", "B") and a_is:
            winner = a_is if choice == "A" else ("tuned" if a_is == "base" else "base")
            votes[winner] += 1
    judged = votes["tuned"] + votes["base"] + votes["tie"]
    return {
        "run_id": key["run_id"],
        "judged": judged,
        "tuned_wins": votes["tuned"],
        "base_wins": votes["base"],
        "ties": votes["tie"],
        "tuned_win_rate": (votes["tuned"] + 0.5 * votes["tie"]) / judged if judged else None,
    }
