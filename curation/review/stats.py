"""Project statistics: counts, review status, label mix and length distributions.

The dict returned by :func:`project_stats` is the documented shape of `pairsmith stats --json`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.model import LABEL_QUESTION, ResponseStatus
from curation.store.base import RecordStore


def project_stats(store: RecordStore) -> dict[str, Any]:
    """Counts and distributions for a whole project (the store's :meth:`record_summary`), review
    status and the label mix."""
    summary = store.record_summary()
    counts = store.response_counts()
    labels: Counter[str] = Counter()
    annotators: set[str] = set()
    for response in store.get_responses(status=ResponseStatus.submitted):
        annotators.add(response.user)
        if LABEL_QUESTION in response.values:
            labels[str(response.values[LABEL_QUESTION])] += 1
    project = store.get_project()
    return {
        "project": project.name,
        "backend": store.backend,
        "records": summary.records,
        "chat_records": summary.chat_records,
        "golden": summary.golden,
        "empty_outputs": summary.empty_outputs,
        "responses": counts.model_dump(),
        "labels": dict(sorted(labels.items())),
        "annotators": len(annotators),
        "users": len(store.list_users()),
        "sources": summary.sources,
        "lengths": {
            "input_chars": summary.input_chars.model_dump(),
            "output_chars": summary.output_chars.model_dump(),
        },
        "guidelines_version": project.guidelines_version,
        "versions": [v.name for v in store.list_versions()],
    }
