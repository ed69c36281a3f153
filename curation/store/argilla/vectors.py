"""Vectors on Argilla: one vector setting per vector name, values on the records, kNN search.

The dimension of a vector setting is fixed by the first vectors written under its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from curation.errors import BadInputError, NotFoundError
from curation.model import Record
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.limits import BULK_RECORDS_MAX, SIMILARITY_MAX, chunks
from curation.store.argilla.mapping import position_of
from curation.store.argilla.query import position_key
from curation.store.argilla.records import RecordSearch
from curation.store.argilla.schema import DatasetSchema

EMPTY = np.zeros((0, 0), dtype=np.float32)


class Vectors:
    """The vectors of one dataset."""

    def __init__(
        self,
        http: ArgillaHTTP,
        schema: DatasetSchema,
        search: RecordSearch,
        to_record: Callable[[dict[str, Any]], Record],
    ) -> None:
        self.http = http
        self.schema = schema
        self.search = search
        self.to_record = to_record

    def names(self) -> list[str]:
        return sorted(self.schema.vector_settings())

    def set(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(record_ids):
            raise BadInputError(
                f"vectors '{name}': expected {len(record_ids)} rows, got shape {matrix.shape}"
            )
        self.schema.ensure_vector(name, int(matrix.shape[1]))
        existing = self.search.by_external_ids(record_ids)
        missing = [i for i in record_ids if i not in existing]
        if missing:
            raise NotFoundError(f"no record with id '{missing[0]}' in this dataset ({len(missing)} missing)")
        items = [
            {"external_id": rid, "vectors": {name: [float(x) for x in row]}}
            for rid, row in zip(record_ids, matrix, strict=True)
        ]
        for batch in chunks(items, BULK_RECORDS_MAX):
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self.search.dataset_id}/records/bulk",
                json={"items": batch},
                what="write vectors",
            )

    def get(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """(ids, matrix) of the records that have vector ``name``, in import order."""
        if name not in self.schema.vector_settings():
            return [], EMPTY
        include = [f"vectors:{name}"]
        if record_ids is not None:
            raws = list(self.search.by_external_ids(record_ids, include=include).values())
            raws.sort(key=lambda r: position_key(r["external_id"], position_of(r)))
        else:
            raws = [r for batch in self.search.scan(include=include) for r in batch]
        raws = [r for r in raws if (r.get("vectors") or {}).get(name)]
        if not raws:
            return [], EMPTY
        return [r["external_id"] for r in raws], np.array(
            [r["vectors"][name] for r in raws], dtype=np.float32
        )

    def similar(self, name: str, record_id: str, k: int) -> list[tuple[Record, float]]:
        """Argilla's similarity search (kNN on cosine); its score (1 + cos) / 2 is turned back into cos."""
        found = self.search.by_external_ids([record_id], include=[f"vectors:{name}"]).get(record_id)
        if found is None or not (found.get("vectors") or {}).get(name):
            return []
        reply = self.http.request(
            "POST",
            self.search.endpoint(mine=False),
            params=[("limit", min(k, SIMILARITY_MAX)), ("include", "suggestions")],
            json={"query": {"vector": {"name": name, "record_id": str(found["id"])}}},
            what="similarity search",
        )
        return [(self.to_record(i["record"]), 2.0 * float(i["query_score"]) - 1.0) for i in reply["items"]][
            :k
        ]
