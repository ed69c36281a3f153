"""Vectors on Argilla: one vector setting per vector name, values on the records, kNN search.

The dimension of a vector setting is fixed by the first vectors written under its name. These are
the bodies of :class:`~curation.store.argilla.store.ArgillaStore`'s vector methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from curation.errors import BadInputError, NotFoundError
from curation.model import Record
from curation.store.argilla import mapping as M

if TYPE_CHECKING:
    from curation.store.argilla.store import ArgillaStore


def vector_settings(store: ArgillaStore) -> dict[str, int]:
    items = store.http.request(
        "GET", f"/api/v1/datasets/{store._dataset()}/vectors-settings", what="read vectors"
    )["items"]
    return {v["name"]: int(v["dimensions"]) for v in items}


def set_vectors(store: ArgillaStore, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(record_ids):
        raise BadInputError(f"vectors '{name}': expected {len(record_ids)} rows, got shape {matrix.shape}")
    settings = vector_settings(store)
    if name not in settings:
        store.http.request(
            "POST",
            f"/api/v1/datasets/{store._dataset()}/vectors-settings",
            what="create vector settings",
            json={"name": name, "title": name, "dimensions": int(matrix.shape[1])},
        )
    elif settings[name] != matrix.shape[1]:
        raise BadInputError(
            f"vectors '{name}' have dimension {settings[name]} on the server, got {matrix.shape[1]}"
        )
    existing = store._by_ids(record_ids)
    missing = [i for i in record_ids if i not in existing]
    if missing:
        raise NotFoundError(f"no record with id '{missing[0]}' in dataset '{store.dataset_name}'")
    store._bulk_upsert(
        [
            {"external_id": rid, "vectors": {name: [float(x) for x in row]}}
            for rid, row in zip(record_ids, matrix, strict=True)
        ]
    )


def get_vectors(
    store: ArgillaStore, name: str, record_ids: Sequence[str] | None = None
) -> tuple[list[str], np.ndarray]:
    if name not in vector_settings(store):
        return [], np.zeros((0, 0), dtype=np.float32)
    raws = (
        list(store._by_ids(record_ids, (f"vectors:{name}",)).values())
        if record_ids is not None
        else store._search([], (f"vectors:{name}",))
    )
    raws = sorted((r for r in raws if (r.get("vectors") or {}).get(name)), key=M.position_of)
    if not raws:
        return [], np.zeros((0, 0), dtype=np.float32)
    return [r["external_id"] for r in raws], np.array([r["vectors"][name] for r in raws], dtype=np.float32)


def vector_names(store: ArgillaStore) -> list[str]:
    return sorted(vector_settings(store))


def similar_records(
    store: ArgillaStore, name: str, record_id: str, k: int = 10
) -> list[tuple[Record, float]]:
    """Argilla's similarity search (ES kNN on cosine); its score (1 + cos) / 2 is turned back into cos."""
    found = store._by_ids([record_id], (f"vectors:{name}",)).get(record_id)
    if found is None or not (found.get("vectors") or {}).get(name):
        return []
    did = store._dataset()
    path = (
        f"/api/v1/datasets/{did}/records/search"
        if store.is_manager
        else f"/api/v1/me/datasets/{did}/records/search"
    )
    reply = store.http.request(
        "POST",
        path,
        params=[("limit", k), ("include", "suggestions")],
        json={"query": {"vector": {"name": name, "record_id": str(found["id"])}}},
        what="similarity search",
    )
    return [(store._to_record(i["record"]), 2.0 * float(i["query_score"]) - 1.0) for i in reply["items"]][:k]
