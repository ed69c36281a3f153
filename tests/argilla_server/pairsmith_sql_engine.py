"""A search engine for argilla-server 2.8.0 that answers from the server's own SQL database.

argilla-server needs Elasticsearch or OpenSearch, neither of which can be installed on our test
machines. This module registers an engine named ``pairsmith_sql`` (start the server with
``ARGILLA_SEARCH_ENGINE=pairsmith_sql``) that reads records, responses, suggestions and vectors
straight from the server's SQLAlchemy models and filters, sorts and ranks them in Python.

It runs inside the server's own virtual environment (``.argilla-venv``), never in pairsmith's.
What it does not reproduce (see docs/argilla.md): Elasticsearch text relevance (BM25) and
analyzers (stemming, stop words, fuzzy matching); the per-annotator random order of the queue; the
index being eventually consistent. Text search here is a case-insensitive AND of the query's words,
each matched as a substring, and every hit scores 1.0. It reads the whole dataset per query, which
is fine for test data (thousands of records), not for production.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import ResponseStatusFilter, SimilarityOrder, SortOrder
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Record,
    Response,
    Suggestion,
    User,
    VectorSettings,
)
from argilla_server.search_engine.base import (
    AndFilter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

ENGINE_NAME = "pairsmith_sql"


def _as_terms(value: Any) -> list[str]:
    """A stored value as the keyword terms Elasticsearch would index for it."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, bool):
        return [str(value).lower()]
    return [str(value)]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _in_range(value: Any, flt: RangeFilter) -> bool:
    values = value if isinstance(value, list) else [value]
    for item in values:
        number = _as_number(item)
        if number is None:
            continue
        if flt.ge is not None and number < flt.ge:
            continue
        if flt.le is not None and number > flt.le:
            continue
        return True
    return False


def _matches(value: Any, flt: TermsFilter | RangeFilter) -> bool:
    if isinstance(flt, TermsFilter):
        wanted = {str(v) for v in flt.values}
        return any(term in wanted for term in _as_terms(value))
    return _in_range(value, flt)


def _suggestion_property(record: Record, question: str, prop: str) -> Any:
    for suggestion in record.suggestions:
        if suggestion.question.name == question:
            return getattr(suggestion, prop, None)
    return None


def _user_responses(record: Record, user: User | None) -> list[Response]:
    return [r for r in record.responses if user is None or r.user_id == user.id]


def _response_value(response: Response, question: str) -> Any:
    entry = (response.values or {}).get(question)
    return entry.get("value") if isinstance(entry, dict) else None


def _status_filter(record: Record, flt: TermsFilter, user: User | None) -> bool:
    wanted = {str(v) for v in flt.values}
    responses = _user_responses(record, user)
    if ResponseStatusFilter.pending.value in wanted and not responses:
        return True
    return any(str(r.status.value) in wanted for r in responses)


def _record_matches(record: Record, flt: Any) -> bool:
    if flt is None:
        return True
    if isinstance(flt, AndFilter):
        return all(_record_matches(record, part) for part in flt.filters)
    scope = flt.scope
    if isinstance(scope, MetadataFilterScope):
        return _matches((record.metadata_ or {}).get(scope.metadata_property), flt)
    if isinstance(scope, SuggestionFilterScope):
        return _matches(_suggestion_property(record, scope.question, scope.property), flt)
    if isinstance(scope, RecordFilterScope):
        value = getattr(record, scope.property, None)
        value = getattr(value, "value", value)  # enums index as their value
        return _matches(str(value) if isinstance(flt, TermsFilter) and value is not None else value, flt)
    if isinstance(scope, ResponseFilterScope):
        if scope.question:
            return any(
                _matches(_response_value(r, scope.question), flt) for r in _user_responses(record, scope.user)
            )
        if scope.property == "status" and isinstance(flt, TermsFilter):
            return _status_filter(record, flt, scope.user)
    raise ValueError(f"{ENGINE_NAME}: cannot process filter {flt!r}")


def _text_of(value: Any) -> str:
    """A field value as searchable text (chat fields: every message's content)."""
    if isinstance(value, list):
        return "\n".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in value)
    return "" if value is None else str(value)


def _text_matches(record: Record, query: TextQuery | str | None) -> bool:
    if query is None:
        return True
    text_query = TextQuery(q=query) if isinstance(query, str) else query
    fields = record.fields or {}
    values = [fields.get(text_query.field)] if text_query.field else list(fields.values())
    haystack = "\n".join(_text_of(v) for v in values).casefold()
    words = [w.strip('"') for w in text_query.q.casefold().split()]
    return all(w in haystack for w in words if w)


def _sort_value(record: Record, scope: Any) -> Any:
    if isinstance(scope, MetadataFilterScope):
        return (record.metadata_ or {}).get(scope.metadata_property)
    if isinstance(scope, SuggestionFilterScope):
        return _suggestion_property(record, scope.question, scope.property)
    if isinstance(scope, RecordFilterScope):
        value = getattr(record, scope.property, None)
        return getattr(value, "value", value)
    if isinstance(scope, ResponseFilterScope):
        prop = scope.question or scope.property or ""
        numbers = [
            _as_number(_response_value(r, prop) if scope.question else getattr(r, prop, None))
            for r in _user_responses(record, scope.user)
        ]
        present = [n for n in numbers if n is not None]
        return sum(present) / len(present) if present else None
    return None


def _sorted(records: list[Record], sort: list[Order] | None) -> list[Record]:
    # Stable sorts applied from the last key to the first; missing values go last either way, as in ES.
    ordered = sorted(records, key=lambda r: (r.inserted_at, str(r.id)))
    for order in reversed(sort or []):
        descending = order.order == SortOrder.desc
        present = [r for r in ordered if _sort_value(r, order.scope) is not None]
        missing = [r for r in ordered if _sort_value(r, order.scope) is None]
        present.sort(key=lambda r, s=order.scope: _comparable(_sort_value(r, s)), reverse=descending)
        ordered = present + missing
    return ordered


def _comparable(value: Any) -> tuple[int, Any]:
    number = _as_number(value)
    return (0, number) if number is not None else (1, str(value))


def _cosine_score(a: list[float], b: list[float]) -> float:
    """Elasticsearch's score for a ``cosine`` dense_vector: (1 + cos) / 2."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    cosine = dot / norm if norm else 0.0
    return (1.0 + cosine) / 2.0


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLSearchEngine(SearchEngine):
    """Answers every SearchEngine call from the SQL database; index writes are no-ops."""

    @classmethod
    async def new_instance(cls) -> SQLSearchEngine:
        return cls()

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict:
        return {"name": ENGINE_NAME, "version": {"number": "2.8.0-sql", "distribution": ENGINE_NAME}}

    # The database is the index: writes need nothing more.
    async def create_index(self, dataset: Dataset) -> None:
        return None

    async def delete_index(self, dataset: Dataset) -> None:
        return None

    async def configure_metadata_property(
        self, dataset: Dataset, metadata_property: MetadataProperty
    ) -> None:
        return None

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        return None

    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        return None

    async def partial_record_update(self, record: Record, **update: Any) -> None:
        return None

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        return None

    async def update_record_response(self, response: Response) -> None:
        return None

    async def delete_record_response(self, response: Response) -> None:
        return None

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    # --- reads --------------------------------------------------------------------------------
    async def _records(self, dataset_id: UUID) -> list[Record]:
        async with AsyncSessionLocal() as db:
            result = await db.scalars(
                select(Record)
                .where(Record.dataset_id == dataset_id)
                .options(
                    selectinload(Record.responses),
                    selectinload(Record.suggestions).selectinload(Suggestion.question),
                    selectinload(Record.vectors),
                )
                .order_by(Record.inserted_at.asc(), Record.id.asc())
            )
            return list(result.all())

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        records = await self._records(dataset.id)
        counts: dict[str, Any] = {"total": len(records)}
        for record in records:
            counts[record.status.value] = counts.get(record.status.value, 0) + 1
        return counts

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        counts: dict[str, Any] = {"total": 0}
        for record in await self._records(dataset.id):
            for response in _user_responses(record, user):
                counts["total"] += 1
                counts[response.status.value] = counts.get(response.status.value, 0) + 1
        return counts

    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Any = None,
        sort: list[Order] | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: str | None = None,
    ) -> SearchResponses:
        hits = [
            r
            for r in await self._records(dataset.id)
            if _text_matches(r, query) and _record_matches(r, filter)
        ]
        page = _sorted(hits, sort)[offset : offset + limit]
        return SearchResponses(
            items=[SearchResponseItem(record_id=r.id, score=1.0) for r in page], total=len(hits)
        )

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Any = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        target = value or (record.vector_value_by_vector_settings(vector_settings) if record else None)
        if not target:
            raise ValueError("Cannot find a vector value to apply with provided info")
        scored: list[tuple[float, Record]] = []
        for candidate in await self._records(dataset.id):
            if record is not None and candidate.id == record.id:
                continue
            if not (_text_matches(candidate, query) and _record_matches(candidate, filter)):
                continue
            vector = next(
                (v.value for v in candidate.vectors if v.vector_settings_id == vector_settings.id), None
            )
            if vector is None:
                continue
            score = _cosine_score(target, vector)
            if order == SimilarityOrder.least_similar:
                score = 1.0 - score  # ES searches with the negated vector: (1 - cos) / 2
            scored.append((score, candidate))
        scored.sort(key=lambda pair: -pair[0])
        if threshold is not None:
            scored = [pair for pair in scored if pair[0] >= threshold]
        top = scored[:max_results]
        return SearchResponses(
            items=[SearchResponseItem(record_id=r.id, score=s) for s, r in top],
            total=len(top),
        )

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        values = [
            (r.metadata_ or {}).get(metadata_property.name)
            for r in await self._records(metadata_property.dataset_id)
        ]
        present = [v for v in values if v is not None]
        if metadata_property.type.value == "terms":
            counts: dict[str, int] = {}
            for value in present:
                for term in _as_terms(value):
                    counts[term] = counts.get(term, 0) + 1
            return TermsMetrics(
                total=sum(counts.values()),
                values=[
                    TermsMetrics.TermCount(term=t, count=c)
                    for t, c in sorted(counts.items(), key=lambda x: -x[1])
                ],
            )
        numbers = [n for n in (_as_number(v) for v in present) if n is not None]
        if metadata_property.type.value == "integer":
            return IntegerMetadataMetrics(
                min=int(min(numbers)) if numbers else None, max=int(max(numbers)) if numbers else None
            )
        return FloatMetadataMetrics(
            min=min(numbers) if numbers else None, max=max(numbers) if numbers else None
        )
