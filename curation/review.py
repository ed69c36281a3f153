"""The review queue: which record comes next, saving a review, suggestions, progress and diffs.

The UI's review page is a thin layer over these functions; they work on any backend through the
:class:`~curation.store.RecordStore` interface. A queue is a window of record ids (at most
``size``), built either from the diversity-aware sampler (k-center greedy over input vectors, so
the reviewed set covers the topics early) or from filters in import order. Windows keep the
per-click cost independent of the project size: moving to the next record reads one record,
never the whole table.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from curation import fields
from curation.errors import BadInputError, NotFoundError
from curation.model import (
    CORRECTION_QUESTION,
    LABEL_NEEDS_FIX,
    LABEL_QUESTION,
    Project,
    QuestionKind,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
)
from curation.store import RecordQuery, RecordStore, ResponseFilter

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
        query.metadata_terms[fields.CLUSTER] = [filters.cluster]
    if filters.dup_group:
        query.metadata_terms[fields.DUP_GROUP] = [filters.dup_group]
    if filters.conflict_group:
        query.metadata_terms[fields.CONFLICT_GROUP] = [filters.conflict_group]
    if filters.flag:
        if filters.flag not in fields.QUALITY_FLAGS:
            raise BadInputError(
                f"unknown quality flag '{filters.flag}'; choose one of: {', '.join(fields.QUALITY_FLAGS)}"
            )
        query.metadata_terms[fields.FLAGS] = [filters.flag]
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
        from curation.diversity import next_to_review  # numpy/faiss work, only when asked for

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


def current_response(store: RecordStore, record_id: str, user: str) -> Response | None:
    """The reviewer's saved response to a record (any status), or None."""
    found = store.get_responses(record_ids=[record_id], user=user)
    return found[0] if found else None


def clean_values(values: Mapping[str, Any], record: Record) -> dict[str, Any]:
    """The answers worth storing: empty ones dropped, a correction identical to the output dropped."""
    out = {k: v for k, v in values.items() if v not in (None, "")}
    correction = out.get(CORRECTION_QUESTION)
    if isinstance(correction, str) and correction.strip() == record.output.strip():
        out.pop(CORRECTION_QUESTION)
    return out


def check_submittable(values: Mapping[str, Any], project: Project) -> None:
    """BadInputError naming what is missing before a submit: required questions, a needs_fix correction."""
    missing = [q.title for q in project.questions if q.required and values.get(q.name) in (None, "")]
    if missing:
        raise BadInputError(
            f"answer {', '.join(repr(m) for m in missing)} before submitting, or save a draft"
        )
    if (
        values.get(LABEL_QUESTION) == LABEL_NEEDS_FIX
        and not str(values.get(CORRECTION_QUESTION) or "").strip()
    ):
        raise BadInputError(
            "a needs_fix label needs a corrected output that differs from the original; write it, "
            "or choose another label"
        )


def save_review(
    store: RecordStore,
    record: Record,
    user: str,
    values: Mapping[str, Any],
    status: ResponseStatus,
    *,
    expected_version: int | None,
) -> Response:
    """Save ``user``'s answers to ``record`` as a draft, a submission or a discard.

    ``expected_version`` is the version of the response the reviewer opened (0 when there was
    none); if someone (another tab) saved since, the store raises ConflictError and nothing is
    written. A submit checks required answers first (BadInputError); a discard keeps the answers.
    """
    project = store.get_project()
    clean = clean_values(values, record)
    if status == ResponseStatus.submitted:
        check_submittable(clean, project)
    response = Response(record_id=record.id, user=user, values=clean, status=status)
    return store.save_response(response, expected_version=expected_version)


# --- suggestions --------------------------------------------------------------------------------


def apply_suggestion(values: Mapping[str, Any], suggestion: Suggestion, project: Project) -> dict[str, Any]:
    """The answers with a suggestion's value filled in (validated against its question)."""
    try:
        question = project.question(suggestion.question)
    except KeyError:
        raise NotFoundError(
            f"the suggestion answers question '{suggestion.question}', which this project does not have"
        ) from None
    try:
        value = question.validate_value(suggestion.value)
    except ValueError as exc:
        raise BadInputError(f"the suggestion cannot be applied: {exc}") from None
    out = dict(values)
    out[question.name] = value
    if (
        question.kind == QuestionKind.text
        and question.name == CORRECTION_QUESTION
        and LABEL_QUESTION not in out
    ):
        out[LABEL_QUESTION] = LABEL_NEEDS_FIX  # a suggested correction implies the output needs a fix
    return out


# --- progress -----------------------------------------------------------------------------------


class Progress(BaseModel):
    """How far review has come: the reviewer's own counts and the team's."""

    records: int
    mine_submitted: int
    mine_draft: int
    mine_discarded: int
    team_done: int = Field(description="Records with at least one submitted or discarded response")
    team_submitted: int
    team_responses: int

    @property
    def mine_done(self) -> int:
        return self.mine_submitted + self.mine_discarded

    def fraction(self, done: int) -> float:
        return done / self.records if self.records else 0.0


def review_progress(store: RecordStore, user: str | None) -> Progress:
    """Counts for the progress bars: a few count queries, no record is loaded."""
    mine = store.response_counts(user) if user else None
    team = store.response_counts()
    done = store.count_records(RecordQuery(response=ResponseFilter(status=["submitted", "discarded"])))
    return Progress(
        records=store.count_records(),
        mine_submitted=mine.submitted if mine else 0,
        mine_draft=mine.draft if mine else 0,
        mine_discarded=mine.discarded if mine else 0,
        team_done=done,
        team_submitted=team.submitted,
        team_responses=team.submitted + team.draft + team.discarded,
    )


# --- diff ---------------------------------------------------------------------------------------

DiffMode = Literal["word", "line"]
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class DiffPart:
    """One piece of a diff: text kept (``equal``), added (``insert``) or removed (``delete``)."""

    kind: Literal["equal", "insert", "delete"]
    text: str


def output_diff(original: str, corrected: str, mode: DiffMode = "word") -> list[DiffPart]:
    """The parts that turn ``original`` into ``corrected``, by words (whitespace kept) or by lines."""
    if mode == "word":
        a, b = _WORDS.findall(original), _WORDS.findall(corrected)
    elif mode == "line":
        a, b = original.splitlines(keepends=True), corrected.splitlines(keepends=True)
    else:
        raise BadInputError(f"unknown diff mode '{mode}'; choose word or line")
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("delete", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("insert", "".join(b[j1:j2])))
    return parts


def diff_text(parts: list[DiffPart], mode: DiffMode = "word") -> str:
    """A plain-text rendering, safe to show as code: ``[-removed-]{+added+}`` (word) or ``-``/``+`` lines."""
    if mode == "word":
        marks = {"equal": ("", ""), "delete": ("[-", "-]"), "insert": ("{+", "+}")}
        return "".join(f"{marks[p.kind][0]}{p.text}{marks[p.kind][1]}" for p in parts)
    prefix = {"equal": "  ", "delete": "- ", "insert": "+ "}
    lines: list[str] = []
    for part in parts:
        for line in part.text.splitlines() or [""]:
            lines.append(prefix[part.kind] + line)
    return "\n".join(lines)


def diff_counts(parts: list[DiffPart]) -> dict[str, int]:
    """Words (or lines) added and removed, for a one-line summary."""
    added = sum(len(p.text.split()) for p in parts if p.kind == "insert")
    removed = sum(len(p.text.split()) for p in parts if p.kind == "delete")
    return {"added": added, "removed": removed}
