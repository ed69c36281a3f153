"""Answering RecordQuery on Argilla: the server when it can answer exactly, a narrowed scan otherwise.

``query.plan`` decides. A native query costs one search per page of results and one for its total,
whatever the dataset's size: this is what a click or a page view runs. A query with an id list is
read in chunks of 250 ids and finished here (its cost follows the list, not the dataset). A query
with a residual part (text search, float metadata, another user's responses…) scans the records the
native part matches, in import order, and finishes here: correct, and as cheap as the native part
allows. The scan never holds more than one page of raw records at a time when iterating.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from curation.model import Record, Response
from curation.store.argilla import query as q
from curation.store.argilla.mapping import position_of, response_from_argilla
from curation.store.argilla.records import RecordSearch
from curation.store.argilla.schema import DatasetSchema
from curation.store.argilla.users import Users
from curation.store.base import RecordQuery

Raw = dict[str, Any]
PROPERTIES_MAX_AGE = 60.0
"""Seconds a reader trusts its list of metadata properties (an unknown one only makes a query slower)."""


class RecordReader:
    """Reads one dataset's records for RecordQuery, as the signed-in user."""

    def __init__(
        self, search: RecordSearch, schema: DatasetSchema, users: Users, to_record: Callable[[Raw], Record]
    ) -> None:
        self.search = search
        self.schema = schema
        self.users = users
        self.to_record = to_record

    def plan(self, query: RecordQuery) -> q.Plan:
        """The plan for ``query``, made residual where records hold values the server cannot match."""
        schema = q.Schema(
            properties=self.schema.properties(max_age=PROPERTIES_MAX_AGE),
            questions=self.schema.question_types(),
            me=str(self.users.me["username"]),
            manager=self.users.manager,
        )
        plan = q.plan(query, schema)
        if plan.unfit_keys and self.search.count([q.unfit_filter(plan.unfit_keys)]) > 0:
            plan = q.plan(query, schema, metadata_native=False)
        if plan.ascending_key is not None and plan.native:
            present = q.value_range(q.metadata_scope(plan.ascending_key), float(q.INT64[0]))
            total = self.search.count(plan.filters, mine=plan.mine)
            if self.search.count([*plan.filters, present], mine=plan.mine) < total:
                plan.residual.append(f"records without '{plan.ascending_key}' come first")
        return plan

    # --- the three questions --------------------------------------------------------------------
    def page(self, query: RecordQuery) -> tuple[list[Record], int]:
        """The query's page of records and its total."""
        plan = self.plan(query)
        if plan.empty:
            return [], 0
        if query.ids is None and plan.native:
            raws, total = self.search.page(
                plan.filters,
                plan.sort,
                offset=query.offset,
                limit=query.limit,
                include=["suggestions"],
                mine=plan.mine,
            )
            return [self.to_record(r) for r in raws], total
        return self._finish(self._candidates(query, plan), query)

    def count(self, query: RecordQuery) -> int:
        plan = self.plan(query)
        if plan.empty:
            return 0
        if query.ids is None and plan.native:
            return self.search.count(plan.filters, mine=plan.mine)
        whole = query.model_copy(update={"offset": 0, "limit": None})
        return self._finish(self._candidates(query, plan), whole)[1]

    def iterate(self, query: RecordQuery, batch_size: int) -> Iterator[list[Record]]:
        """Every matching record in import order (the query's sort and page are ignored), in batches."""
        whole = query.model_copy(
            update={"sort_by": "position", "descending": False, "offset": 0, "limit": None}
        )
        plan = self.plan(whole)
        if plan.empty:
            return
        if query.ids is not None:
            records, _ = self._finish(self._candidates(whole, plan), whole)
            for start in range(0, len(records), batch_size):
                yield records[start : start + batch_size]
            return
        include = ["suggestions"] + (["responses"] if not plan.native and query.response is not None else [])
        batch: list[Record] = []
        for raws in self.search.scan(plan.filters, include=include, mine=plan.mine):
            responses = self._responses(raws) if "responses" in include else {}
            for raw in raws:
                record = self.to_record(raw)
                if plan.native or q.matches(record, whole, responses.get(record.id, [])):
                    batch.append(record)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    # --- residual queries -----------------------------------------------------------------------
    def _candidates(self, query: RecordQuery, plan: q.Plan) -> list[Raw]:
        """Every record the native part (or the id list alone) matches, with what Python needs."""
        include = ["suggestions"] + (["responses"] if query.response is not None else [])
        if query.ids is not None:
            # Only the ids go to the server: everything else is checked here on at most len(ids) records.
            return list(
                self.search.by_external_ids(query.ids, include=include, mine=not self.users.manager).values()
            )
        return [
            raw for batch in self.search.scan(plan.filters, include=include, mine=plan.mine) for raw in batch
        ]

    def _finish(self, raws: list[Raw], query: RecordQuery) -> tuple[list[Record], int]:
        records = [self.to_record(r) for r in raws]
        positions = {r["external_id"]: q.position_key(r["external_id"], position_of(r)) for r in raws}
        return q.apply(records, query, self._responses(raws), positions)

    def _responses(self, raws: list[Raw]) -> dict[str, list[Response]]:
        return {
            raw["external_id"]: [
                response_from_argilla(x, raw["external_id"], self.users.name_of(str(x["user_id"])), 0)
                for x in raw.get("responses") or []
            ]
            for raw in raws
        }
