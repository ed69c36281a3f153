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
    mine: bool = Field(default=True, description="Status refers to the reviewer's own responses")


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
    total = store.count_records(query)
    if order == "diverse":
        from curation.analysis.diversity import next_to_review  # numpy/faiss work, only when asked for

        ids = next_to_review(store, size, user=user, query=query)
        return ReviewQueue(ids=ids, total=total, order=order, filters=filters)
    if order != "import":
        raise BadInputError(f"unknown queue order '{order}'; choose diverse or import")
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


# --- one record's review ------------------------------------------------------------------------


# --- suggestions --------------------------------------------------------------------------------


# --- progress -----------------------------------------------------------------------------------


# --- diff ---------------------------------------------------------------------------------------
