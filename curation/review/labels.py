"""The label each record shows: one rule for the map, the cluster table and anything else that
colours records by their review.

"Latest label wins": with several annotators, the most recently submitted label of a record is the
one shown (drafts and discards do not count). It is a view of where review stands, not the export
verdict (training.clean_set decides that, with its disagreement policy).
"""

from __future__ import annotations

from datetime import datetime

from curation.model import LABEL_QUESTION, ResponseStatus
from curation.store.base import RecordStore

UNREVIEWED = "unreviewed"
"""What a record without a submitted label shows."""


def latest_labels(store: RecordStore, question: str = LABEL_QUESTION) -> dict[str, str]:
    """Record id → its most recently submitted answer to ``question`` (records without one are absent)."""
    latest: dict[str, tuple[datetime, str]] = {}
    for response in store.get_responses(status=ResponseStatus.submitted):
        value = response.values.get(question)
        if value is None:
            continue
        seen = latest.get(response.record_id)
        if seen is None or response.updated_at >= seen[0]:
            latest[response.record_id] = (response.updated_at, str(value))
    return {record_id: label for record_id, (_, label) in latest.items()}
