"""Reading what analysis wrote: the duplicate groups, the clusters, and diversity of any subset.

These are the library functions behind `pairsmith duplicates`, `clusters` and `diversity`; the UI
uses them too. Shapes are documented in docs/curation.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from curation import metadata_keys
from curation.analysis.diversity import subset_figures
from curation.errors import BadInputError, NotFoundError
from curation.files import ProjectPaths
from curation.metadata_keys import CLUSTER, VECTOR_PAIR
from curation.model import LABEL_GOOD, LABEL_QUESTION
from curation.project import open_store
from curation.store.base import RecordQuery, RecordStore, ResponseFilter

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


def analysis_method(project_dir: Path | str) -> dict[str, Any] | None:
    """How the last analysis was made (report.json's ``method``: quality, device, models, vectors,
    thresholds), or None when there is none or it predates the record (report_version 1)."""
    try:
        report = load_artifact(project_dir, "report")
    except (NotFoundError, BadInputError):
        return None
    method = report.get("method")
    return method if isinstance(method, dict) else None


def describe_method(method: dict[str, Any] | None) -> str:
    """One line a report or a page can show: "fast quality on cpu (MiniLM embedded 812 of 4514 outputs)"."""
    if not method:
        return "quality not recorded (analysed before quality modes)"
    quality, device = method.get("quality", "?"), method.get("device", "?")
    if quality == "fast":
        return f"fast quality on {device} (MiniLM embedded {method.get('outputs_embedded', '?')} outputs)"
    return f"{quality} quality on {device}"


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


MAP_SNIPPET_CHARS = 160


def map_rows(
    store: RecordStore, labels: Mapping[str, str], *, unlabelled: str = "unreviewed"
) -> list[dict[str, Any]]:
    """One row per record analysis placed on the map: ``{"id", "x", "y", "cluster", "cluster_id",
    "label", "duplicates", "input"}``.

    ``labels`` is record id → the label to colour it by (curation.review.labels); records without
    one show ``unlabelled``. ``duplicates`` is the reviewer's decision on the record's duplicate
    group when there is one (keep, drop, conflict), else ``duplicate`` or ``unique``. Reads every
    record once, a batch at a time (about 1 s per 10k records).
    """
    rows: list[dict[str, Any]] = []
    for batch in store.iter_records(batch_size=5000):
        for record in batch:
            meta = record.metadata
            if meta.get(metadata_keys.MAP_X) is None:
                continue
            resolution = meta.get(metadata_keys.DUP_RESOLUTION)
            if resolution:
                duplicate = str(resolution)
            else:
                duplicate = "duplicate" if meta.get(metadata_keys.DUP_GROUP) else "unique"
            rows.append(
                {
                    "id": record.id,
                    "x": float(meta[metadata_keys.MAP_X]),
                    "y": float(meta[metadata_keys.MAP_Y]),
                    "cluster": str(
                        meta.get(metadata_keys.CLUSTER_NAME) or meta.get(metadata_keys.CLUSTER, "")
                    ),
                    "cluster_id": meta.get(metadata_keys.CLUSTER),
                    "label": labels.get(record.id, unlabelled),
                    "duplicates": duplicate,
                    "input": record.input_text[:MAP_SNIPPET_CHARS],
                }
            )
    return rows


def map_label_positions(rows: Sequence[Mapping[str, Any]], field: str = "cluster") -> list[dict[str, Any]]:
    """Where to write each group's name on the map: ``[{"name", "x", "y", "size"}]``, largest first.

    The spot is the member nearest the group's median point, so the label sits on the group's own
    points even when the group is curved or split in two (a mean can fall between the parts).
    """
    members: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        members.setdefault(str(row[field]), []).append(row)
    spots = []
    for name, points in members.items():
        xs, ys = sorted(p["x"] for p in points), sorted(p["y"] for p in points)
        mx, my = xs[len(xs) // 2], ys[len(ys) // 2]
        nearest = min(points, key=lambda p: (p["x"] - mx) ** 2 + (p["y"] - my) ** 2)
        spots.append({"name": name, "x": float(nearest["x"]), "y": float(nearest["y"]), "size": len(points)})
    return sorted(spots, key=lambda s: (-s["size"], s["name"]))


def accepted_query() -> RecordQuery:
    """The accepted set: records with a submitted response labelling them good."""
    query = subset_query(label=LABEL_GOOD)
    assert query is not None
    return query


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
