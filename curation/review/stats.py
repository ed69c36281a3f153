"""Project statistics: counts, review status, label mix and length distributions.

The dict returned by :func:`project_stats` is the documented shape of `pairsmith stats --json`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from curation.model import LABEL_QUESTION, ResponseStatus
from curation.store.base import RecordStore


def _distribution(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "p50": 0, "p90": 0, "max": 0, "mean": 0.0}
    arr = np.asarray(values)
    return {
        "min": int(arr.min()),
        "p50": int(np.percentile(arr, 50)),
        "p90": int(np.percentile(arr, 90)),
        "max": int(arr.max()),
        "mean": round(float(arr.mean()), 1),
    }


def project_stats(store: RecordStore) -> dict[str, Any]:
    """Counts and distributions for a whole project, computed batch by batch."""
    input_chars: list[int] = []
    output_chars: list[int] = []
    sources: Counter[str] = Counter()
    golden = chat = empty_outputs = 0
    for batch in store.iter_records(batch_size=5000):
        for record in batch:
            input_chars.append(len(record.input_text))
            output_chars.append(len(record.output))
            sources[record.source.file or "(unknown)"] += 1
            golden += record.golden
            chat += record.is_chat
            empty_outputs += not record.output.strip()
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
        "records": len(input_chars),
        "chat_records": chat,
        "golden": golden,
        "empty_outputs": empty_outputs,
        "responses": counts.model_dump(),
        "labels": dict(sorted(labels.items())),
        "annotators": len(annotators),
        "users": len(store.list_users()),
        "sources": dict(sources.most_common()),
        "lengths": {"input_chars": _distribution(input_chars), "output_chars": _distribution(output_chars)},
        "guidelines_version": project.guidelines_version,
        "versions": [v.name for v in store.list_versions()],
    }
