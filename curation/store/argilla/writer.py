"""Writing records to an Argilla dataset: upserts with positions and properties, rewrites, deletes.

An upsert reads the highest position once (one sorted search), then for each batch of at most 500
records reads those that already exist by id (250 ids a request), leaves unchanged ones alone and
writes the rest in one bulk request: the cost is linear in the records written, whatever the size
of the dataset. A metadata key the dataset has no property for gets one (typed by its first
value, up to ``DYNAMIC_PROPERTIES_MAX``) before any record holding it is written, so the server can
filter on it; records written before the property existed are written again, because Argilla's
index does not go back over them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from curation.errors import NotFoundError
from curation.model import Project, Record, UpsertResult
from curation.store.argilla import mapping
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.limits import BULK_RECORDS_MAX, DELETE_RECORDS_MAX, chunks
from curation.store.argilla.query import metadata_scope, order
from curation.store.argilla.records import RecordSearch
from curation.store.argilla.schema import DatasetSchema

Raw = dict[str, Any]


class RecordWriter:
    """Writes the records of one dataset (owners and admins)."""

    def __init__(
        self,
        http: ArgillaHTTP,
        schema: DatasetSchema,
        search: RecordSearch,
        project: Callable[[], Project],
        to_record: Callable[[Raw], Record],
    ) -> None:
        self.http = http
        self.schema = schema
        self.search = search
        self.project = project
        self.to_record = to_record

    # --- upsert ---------------------------------------------------------------------------------
    def upsert(self, records: Iterable[Record], batch_size: int) -> UpsertResult:
        result = UpsertResult()
        self.schema.properties(fresh=True)  # another process may have added some
        next_position = self.max_position() + 1
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) >= min(batch_size, BULK_RECORDS_MAX):
                next_position = self._upsert_batch(batch, next_position, result)
                batch = []
        if batch:
            self._upsert_batch(batch, next_position, result)
        return result

    def max_position(self) -> int:
        """The highest import position in the dataset (0 when empty): one sorted search."""
        top, _ = self.search.page([], [order(metadata_scope(mapping.POSITION), descending=True)], limit=1)
        return max((mapping.position_of(r) or 0 for r in top), default=0)

    def _upsert_batch(self, batch: list[Record], next_position: int, result: UpsertResult) -> int:
        existing = self.search.by_external_ids([r.id for r in batch], include=["suggestions"])
        self._ensure_properties(batch, dataset_has_records=next_position > 1 or bool(existing))
        items, replaced = [], []
        for record in dict((r.id, r) for r in batch).values():
            raw = existing.get(record.id)
            if raw is not None and self.to_record(raw).model_dump() == record.model_dump():
                result.unchanged += 1
                continue
            if raw is None:
                position = next_position
                next_position += 1
                result.inserted += 1
            else:
                position = mapping.position_of(raw) or next_position
                result.updated += 1
                replaced.append((raw, record))
            items.append(self.item(record, position))
        self._bulk(items)
        self._drop_stale_suggestions(replaced)
        return next_position

    def item(self, record: Record, position: int) -> Raw:
        item = mapping.record_to_argilla(record, position, self.schema.properties(), self.schema.fields())
        if record.suggestions:
            project, ids = self.project(), self.schema.question_ids()
            item["suggestions"] = [mapping.suggestion_to_argilla(s, project, ids) for s in record.suggestions]
        return item

    def _bulk(self, items: list[Raw]) -> None:
        for batch in chunks(items, BULK_RECORDS_MAX):
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self.search.dataset_id}/records/bulk",
                json={"items": batch},
                what="write records",
            )

    def _drop_stale_suggestions(self, replaced: list[tuple[Raw, Record]]) -> None:
        by_name = self.schema.question_names()
        for raw, record in replaced:
            keep = {s.question for s in record.suggestions}
            stale = [
                str(s["id"])
                for s in raw.get("suggestions") or []
                if by_name.get(str(s["question_id"])) not in keep
            ]
            if stale:
                self.http.request(
                    "DELETE",
                    f"/api/v1/records/{raw['id']}/suggestions",
                    params={"ids": ",".join(stale)},
                    what="remove suggestions",
                )

    # --- metadata properties --------------------------------------------------------------------
    def _ensure_properties(self, records: list[Record], *, dataset_has_records: bool) -> None:
        properties = self.schema.properties()
        room = mapping.DYNAMIC_PROPERTIES_MAX - sum(
            1 for name in properties if name not in mapping.METADATA_PROPERTIES
        )
        wanted: dict[str, str] = {
            name: kind for name, kind in mapping.METADATA_PROPERTIES.items() if name not in properties
        }
        for record in records:
            for key, value in record.metadata.items():
                if key in properties or key in wanted or not mapping.dynamic_key(key) or len(wanted) >= room:
                    continue
                kind = mapping.property_type(value)
                if kind is not None:
                    wanted[key] = kind
        if not wanted:
            return
        created = self.schema.add_properties(wanted)
        if created and dataset_has_records:
            self._reindex(created)

    def _reindex(self, keys: list[str]) -> None:
        """Write again the records holding these keys: Argilla indexes a new property only on new writes."""
        wanted = set(keys)
        for batch in self.search.scan(include=["suggestions"]):
            stale = [raw for raw in batch if wanted & set(self.to_record(raw).metadata)]
            self._bulk([self.item(self.to_record(raw), mapping.position_of(raw) or 0) for raw in stale])

    # --- changes and deletes --------------------------------------------------------------------
    def rewrite(self, record_ids: Sequence[str], change: Callable[[Record], Record]) -> None:
        """Apply ``change`` to each named record; NotFoundError when one is missing (nothing written)."""
        self.schema.properties(fresh=True)
        ids = list(dict.fromkeys(record_ids))
        existing = self.search.by_external_ids(ids, include=["suggestions"])
        missing = [i for i in ids if i not in existing]
        if missing:
            raise NotFoundError(f"no record with id '{missing[0]}' in this dataset ({len(missing)} missing)")
        changed = [(existing[rid], change(self.to_record(existing[rid]))) for rid in ids]
        self._ensure_properties([record for _, record in changed], dataset_has_records=True)
        self._bulk([self.item(record, mapping.position_of(raw) or 0) for raw, record in changed])
        self._drop_stale_suggestions(changed)

    def delete(self, record_ids: Sequence[str]) -> list[str]:
        """Delete records (with their responses, suggestions and vectors); the ids that existed."""
        existing = self.search.by_external_ids(record_ids)
        uuids = [str(r["id"]) for r in existing.values()]
        for batch in chunks(uuids, DELETE_RECORDS_MAX):
            self.http.request(
                "DELETE",
                f"/api/v1/datasets/{self.search.dataset_id}/records",
                params={"ids": ",".join(batch)},
                what="delete records",
            )
        return list(existing)
