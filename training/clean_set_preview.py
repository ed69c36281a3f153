"""The clean-set preview the Export page shows: what an export would contain now, its diversity
over the clusters, and plain warnings (empty, too few records, mostly unreviewed)."""

from __future__ import annotations

from typing import Any

from curation import metadata_keys as F
from curation.store.base import RecordStore
from training.clean_set import UNREVIEWED, CleanSet, select_clean_set
from training.export_config import ExportConfig

FEW_RECORDS = 50
"""Below this many included records the preview warns: a LoRA adapter needs a few hundred to learn
a task reliably (docs/training.md)."""


def preview_clean_set(
    store: RecordStore, config: ExportConfig | None = None, *, clean: CleanSet | None = None
) -> dict[str, Any]:
    """What an export would contain now: :meth:`CleanSet.summary`, plus ``diversity`` (the figures
    of the included records over their clusters, None before analysis) and ``warnings``.
    ``clean`` reuses a clean set already selected with the same config."""
    from curation.analysis.diversity import diversity_figures

    clean = clean or select_clean_set(store, config or ExportConfig())
    summary = clean.summary()
    cluster_of = {
        i.record.id: int(i.record.metadata[F.CLUSTER])
        for i in clean.included
        if i.record.metadata.get(F.CLUSTER) is not None
    }
    summary["diversity"] = None
    if cluster_of:
        ids, vectors = store.get_vectors(F.VECTOR_INPUT, list(cluster_of))
        names = {int(v): str(v) for v in set(cluster_of.values())}
        for item in clean.included:
            name = item.record.metadata.get(F.CLUSTER_NAME)
            if name and item.record.id in cluster_of:
                names[cluster_of[item.record.id]] = str(name)
        summary["diversity"] = diversity_figures(ids, vectors, cluster_of, names)
    summary["warnings"] = clean_set_warnings(summary)
    return summary


def clean_set_warnings(summary: dict[str, Any]) -> list[str]:
    """Plain warnings about a clean-set summary: empty, fewer than :data:`FEW_RECORDS`, mostly
    unreviewed, and the first diversity hints."""
    warnings = []
    included = summary["included"]
    if included == 0:
        warnings.append("The clean set is empty: review some records (label them good) before exporting.")
    elif included < FEW_RECORDS:
        warnings.append(
            f"Only {included} record{'s' if included != 1 else ''} would be exported; a LoRA adapter needs "
            "a few hundred to learn a task reliably."
        )
    unreviewed = summary["excluded_by"].get(UNREVIEWED, 0)
    if unreviewed and unreviewed > included:
        warnings.append(f"{unreviewed} records are not reviewed yet and are left out.")
    figures = summary.get("diversity") or {}
    warnings += [f"Diversity: {hint}" for hint in figures.get("hints", [])[:3]]
    return warnings
