"""The review queue: which record comes next, as a window of ids over a filtered or diverse order.

The UI's review page is a thin layer over these functions; they work on any backend through the
:class:`~curation.store.base.RecordStore` interface. A queue is a window of record ids (at most
``size``), built either from the diversity-aware sampler (k-center greedy over input vectors, so
the reviewed set covers the topics early) or from filters in import order. Windows keep the
per-click cost independent of the project size: moving to the next record reads one record,
never the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from curation import metadata_keys
from curation.errors import BadInputError
from curation.store.base import RecordQuery, RecordStore, ResponseFilter

QueueOrder = Literal["diverse", "import"]
STATUSES = ("pending", "draft", "submitted", "discarded")
"""Status filters: ``pending`` = no submitted or discarded response by the reviewer yet."""


class QueueFilters(BaseModel):
    """What narrows a review queue; every part combines with AND, None = no filter."""

    cluster: int | None = None
    dup_group: str | None = None
    conflict_group: str | None = None
    flag: str | None = None
    status: str | None = Field(default=None, description="pending, draft, submitted or discarded")
    text: str | None = None
    golden: bool | None = None
    assigned_to: str | None = Field(default=None, description="Only records assigned to this person")
    mine: bool = Field(default=True, description="Status refers to the reviewer's own responses")

    def describe(self, cluster_names: dict[int, str] | None = None) -> str:
        """One line saying what the queue holds, for the collapsed filter bar."""
        parts = [f"status {self.status}" if self.status else "any status"]
        if self.assigned_to:
            parts.append(f"assigned to {self.assigned_to}")
        if self.cluster is not None:
            name = (cluster_names or {}).get(self.cluster)
            parts.append(f"cluster {self.cluster}" + (f" ({name})" if name else ""))
        if self.flag:
            parts.append(f"flag {self.flag}")
        if self.dup_group:
            parts.append(f"duplicate group {self.dup_group}")
        if self.conflict_group:
            parts.append(f"conflict {self.conflict_group}")
        if self.text:
            parts.append(f"text contains “{self.text}”")
        if self.golden is not None:
            parts.append("golden only" if self.golden else "not golden")
        return " · ".join(parts)


def queue_query(filters: QueueFilters, user: str | None) -> RecordQuery:
    """The RecordQuery behind a set of filters (``user`` is the reviewer, for the status filter)."""
    query = RecordQuery()
    if filters.cluster is not None:
        query.metadata_terms[metadata_keys.CLUSTER] = [filters.cluster]
    if filters.dup_group:
        query.metadata_terms[metadata_keys.DUP_GROUP] = [filters.dup_group]
    if filters.conflict_group:
        query.metadata_terms[metadata_keys.CONFLICT_GROUP] = [filters.conflict_group]
    if filters.flag:
        if filters.flag not in metadata_keys.QUALITY_FLAGS:
            raise BadInputError(
                f"unknown quality flag '{filters.flag}'; choose one of: {', '.join(metadata_keys.QUALITY_FLAGS)}"
            )
        query.metadata_terms[metadata_keys.FLAGS] = [filters.flag]
    if filters.status:
        if filters.status not in STATUSES:
            raise BadInputError(f"unknown status '{filters.status}'; choose one of: {', '.join(STATUSES)}")
        query.response = ResponseFilter(status=[filters.status], user=user if filters.mine else None)
    if filters.text:
        query.text_contains = filters.text
    if filters.golden is not None:
        query.golden = filters.golden
    if filters.assigned_to:
        query.metadata_terms[metadata_keys.ASSIGNED_TO] = [filters.assigned_to]
    return query


@dataclass
class ReviewQueue:
    """A window of record ids to review, in order, and how many records match the filters."""

    ids: list[str]
    total: int
    order: QueueOrder
    filters: QueueFilters = field(default_factory=QueueFilters)
    offset: int = 0
    """Where this window starts among the matching records (import order only)."""
    fixed: bool = False
    """A hand-picked list (e.g. points selected on the cluster map): there is no next window."""

    @classmethod
    def of_ids(cls, ids: list[str]) -> ReviewQueue:
        """A queue of exactly these records, in this order."""
        return cls(ids=list(ids), total=len(ids), order="import", fixed=True)

    @property
    def has_more(self) -> bool:
        """Whether records beyond this window match the filters."""
        if self.fixed:
            return False
        return self.order == "diverse" or self.offset + len(self.ids) < self.total

    def __len__(self) -> int:
        return len(self.ids)

    def step(self, index: int, delta: int) -> int:
        """The index ``delta`` places from ``index``, kept inside the window."""
        if not self.ids:
            return 0
        return max(0, min(len(self.ids) - 1, index + delta))


def build_queue(
    store: RecordStore,
    user: str | None,
    filters: QueueFilters | None = None,
    *,
    order: QueueOrder = "import",
    size: int = 200,
    offset: int = 0,
) -> ReviewQueue:
    """The next window of records for ``user`` to review.

    ``order="diverse"`` asks the diversity sampler for the ``size`` pending records that best cover
    the topics review has not covered yet (it needs analysis: NotFoundError otherwise); it only
    ever offers records the reviewer has not finished. ``order="import"`` pages through the
    matching records in import order from ``offset``.
    """
    filters = filters or QueueFilters()
    if size < 1:
        raise BadInputError(f"queue size must be at least 1, got {size}")
    query = queue_query(filters, user)
    if order == "diverse":
        from curation.analysis.diversity import next_to_review  # numpy/faiss work, only when asked for

        ids = next_to_review(store, size, user=user, query=query)
        return ReviewQueue(ids=ids, total=store.count_records(query), order=order, filters=filters)
    if order != "import":
        raise BadInputError(f"unknown queue order '{order}'; choose diverse or import")
    # The page's total is the count: one count per window, not two (a count reads every match).
    page = store.query_records(query.model_copy(update={"offset": offset, "limit": size}))
    return ReviewQueue(
        ids=[r.id for r in page.records], total=page.total, order=order, filters=filters, offset=offset
    )


def next_window(store: RecordStore, user: str | None, queue: ReviewQueue, *, size: int = 200) -> ReviewQueue:
    """The window after ``queue``: fresh sampler picks, or the next page of matching records.

    A ``pending`` queue starts again from the top, since what was reviewed has left it; records the
    reviewer skipped come back then.
    """
    if queue.fixed:
        return ReviewQueue.of_ids([])
    if queue.order == "diverse":
        return build_queue(store, user, queue.filters, order="diverse", size=size)
    offset = 0 if queue.filters.status == "pending" else queue.offset + len(queue.ids)
    return build_queue(store, user, queue.filters, order="import", size=size, offset=offset)


# --- the queue list -------------------------------------------------------------------------------


class QueueItem(BaseModel):
    """One line of the queue list: where it is in the window, the record and the reviewer's status."""

    index: int
    id: str
    snippet: str
    status: str
    """The reviewer's own response: pending, draft, submitted or discarded."""
    label: str | None = None


def queue_listing(
    store: RecordStore, queue: ReviewQueue, user: str | None, *, start: int = 0, count: int = 20
) -> list[QueueItem]:
    """``count`` lines of the queue from ``start``: one query for the records, one for the reviewer's
    responses, whatever the project's size."""
    ids = queue.ids[max(0, start) : max(0, start) + count]
    if not ids:
        return []
    records = {r.id: r for r in store.query_records(RecordQuery(ids=ids)).records}
    responses = {r.record_id: r for r in store.get_responses(record_ids=ids, user=user)} if user else {}
    items = []
    for offset, record_id in enumerate(ids):
        record = records.get(record_id)
        response = responses.get(record_id)
        text = " ".join((record.input_text if record else "(deleted)").split())
        items.append(
            QueueItem(
                index=start + offset,
                id=record_id,
                snippet=text if len(text) <= 90 else text[:89] + "…",
                status=str(response.status) if response else "pending",
                label=response.values.get("label") if response else None,
            )
        )
    return items
