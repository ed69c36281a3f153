"""Reading what analysis wrote: the duplicate groups, the clusters, and diversity of any subset.

These are the library functions behind `pairsmith duplicates`, `clusters` and `diversity`; the UI
uses them too. Shapes are documented in docs/curation.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curation.analysis.diversity import subset_figures
from curation.errors import BadInputError, NotFoundError
from curation.files import ProjectPaths
from curation.metadata_keys import CLUSTER, VECTOR_PAIR
from curation.model import LABEL_QUESTION
from curation.project import open_store
from curation.store.base import RecordQuery, ResponseFilter

STATUSES = ("submitted", "draft", "discarded", "pending")


def load_artifact(project_dir: Path | str, name: str) -> Any:
    """One JSON artifact of the last analysis (``duplicates``, ``clusters``, ``diversity``, ``report``)."""
    path = ProjectPaths(Path(project_dir)).analysis / f"{name}.json"
    if not path.exists():
        raise NotFoundError(f"{path} does not exist; run `pairsmith analyze {project_dir}` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"not valid JSON ({exc.msg}); re-run `pairsmith analyze`", where=str(path)
        ) from None


def duplicate_groups(project_dir: Path | str, *, tier: str | None = None) -> list[dict[str, Any]]:
    """``[{"group", "tier", "score", "records": [{"id", "source_row"}], "keeper"}]``, optionally one tier."""
    groups: list[dict[str, Any]] = load_artifact(project_dir, "duplicates")["groups"]
    keys = ("group", "tier", "score", "records", "keeper")
    return [{k: g[k] for k in keys} for g in groups if tier is None or g["tier"] == tier]


def conflict_groups(project_dir: Path | str) -> list[dict[str, Any]]:
    """``[{"group", "records": [{"id", "source_row"}], "pairs": [{"a", "b", "input_similarity",
    "output_similarity", "reason"}]}]``: same input, clearly different outputs."""
    conflicts: list[dict[str, Any]] = load_artifact(project_dir, "duplicates")["conflicts"]
    return conflicts


def cluster_listing(project_dir: Path | str) -> dict[str, Any]:
    """The clusters with names, sizes, mixes and every member's id and source_row."""
    listing: dict[str, Any] = load_artifact(project_dir, "clusters")
    return listing


def subset_query(
    *,
    status: str | None = None,
    label: str | None = None,
    cluster: int | None = None,
    user: str | None = None,
) -> RecordQuery | None:
    """A RecordQuery from the CLI's filters (None = every record).

    ``status`` is a response status or ``pending`` (no submitted or discarded response); ``label``
    keeps records with a submitted response giving that label.
    """
    if status is not None and status not in STATUSES:
        raise BadInputError(f"unknown status '{status}'; choose one of: {', '.join(STATUSES)}")
    query = RecordQuery()
    if cluster is not None:
        query.metadata_terms[CLUSTER] = [cluster]
    if label is not None:
        if status not in (None, "submitted"):
            raise BadInputError(
                "--label looks at submitted responses; combine it with --status submitted or none"
            )
        query.response = ResponseFilter(status=["submitted"], question=LABEL_QUESTION, value=label, user=user)
    elif status is not None:
        query.response = ResponseFilter(status=[status], user=user)
    return None if query == RecordQuery() else query


def subset_diversity(
    project_dir: Path | str,
    *,
    status: str | None = None,
    label: str | None = None,
    cluster: int | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Diversity figures for the records the filters select, against every cluster of the project."""
    query = subset_query(status=status, label=label, cluster=cluster, user=user)
    clusters = load_artifact(project_dir, "clusters")["clusters"]
    names = {int(c["id"]): str(c["name"]) for c in clusters}
    topics = {int(c["id"]): int(c.get("topic", c["id"])) for c in clusters}
    vector = load_artifact(project_dir, "report")["settings"].get("cluster_vector", VECTOR_PAIR)
    store = open_store(project_dir)
    try:
        figures = subset_figures(store, query, names, vector=vector, topic_of=topics)
    finally:
        store.close()
    filters = {"status": status, "label": label, "cluster": cluster, "user": user}
    return {"filter": {k: v for k, v in filters.items() if v is not None}, **figures}
