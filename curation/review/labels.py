"""The label each record shows: one rule for the map, the cluster table and anything else that
colours records by their review.

The final answer wins where an owner adjudicated the record; otherwise the most recently submitted
label ("latest label wins": drafts and discards do not count). It is a view of where review stands,
not the export verdict (training.clean_set decides that, with its disagreement policy).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from curation.analysis.results import cluster_listing
from curation.model import LABEL_QUESTION, ResponseStatus
from curation.project import open_store
from curation.review.agreement import final_answer
from curation.store.base import RecordQuery, RecordStore

UNREVIEWED = "unreviewed"
"""What a record without a submitted label shows."""
_CHUNK = 500


def latest_labels(store: RecordStore, question: str = LABEL_QUESTION) -> dict[str, str]:
    """Record id → its final answer to ``question``, else its most recently submitted one (records
    without either are absent). Reads the submitted responses and the records that have one."""
    latest: dict[str, tuple[datetime, str]] = {}
    for response in store.get_responses(status=ResponseStatus.submitted):
        value = response.values.get(question)
        if value is None:
            continue
        seen = latest.get(response.record_id)
        if seen is None or response.updated_at >= seen[0]:
            latest[response.record_id] = (response.updated_at, str(value))
    labels = {record_id: label for record_id, (_, label) in latest.items()}
    ids = list(labels)
    for start in range(0, len(ids), _CHUNK):
        for record in store.query_records(RecordQuery(ids=ids[start : start + _CHUNK])).records:
            final = final_answer(record.metadata)
            if final is not None and final.values.get(question) is not None:
                labels[record.id] = str(final.values[question])
    return labels


def label_mix(member_ids: list[str], labels: dict[str, str]) -> dict[str, int]:
    """How many members show each label, most common first (unreviewed members are not counted)."""
    return dict(Counter(labels[m] for m in member_ids if m in labels).most_common())


def clusters_now(project_dir: Path | str, store: RecordStore | None = None) -> dict[str, Any]:
    """The last analysis's clusters with each cluster's label mix computed now, from the current
    labels (analysis stored the mix of its own time; review has moved on since). The shape of
    `pairsmith clusters --json`."""
    listing = cluster_listing(project_dir)
    owned = store is None
    store = store or open_store(project_dir)
    try:
        labels = latest_labels(store)
    finally:
        if owned:
            store.close()
    clusters = [
        {**c, "label_mix": label_mix([m["id"] for m in c.get("records", [])], labels)}
        for c in listing["clusters"]
    ]
    return {**listing, "clusters": clusters}
