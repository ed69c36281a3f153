"""RecordQuery semantics in Python, over records fetched from Argilla.

Argilla's search (and our SQL test engine) differ from the local store in text matching (analyzers)
and in typed metadata, so the Argilla store re-checks every query part here on what the server sent.
The semantics follow ``curation/sqlite_query.py`` exactly, so both backends return the same ids.
"""

from __future__ import annotations

from typing import Any

from curation.errors import BadInputError
from curation.model import Record, Response
from curation.store.base import RecordQuery


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, bool | int) and isinstance(b, bool | int)
    return bool(a == b)


def _term_match(value: Any, wanted: list[Any]) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(_equal(item, w) for item in items if item is not None for w in wanted)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def matches(record: Record, query: RecordQuery, responses: list[Response]) -> bool:
    """Whether one record (with its responses) satisfies every part of the query."""
    if query.ids is not None and record.id not in query.ids:
        return False
    for key, values in query.metadata_terms.items():
        if not values or not _term_match(record.metadata.get(key), values):
            return False
    for rng in query.metadata_ranges:
        number = _number(record.metadata.get(rng.key))
        if (
            number is None
            or (rng.min is not None and number < rng.min)
            or (rng.max is not None and number > rng.max)
        ):
            return False
    if query.response is not None and not _response_matches(query, responses):
        return False
    if query.suggestion is not None:
        found = [s for s in record.suggestions if s.question == query.suggestion.question]
        if not found or (
            query.suggestion.value is not None
            and not any(_equal(s.value, query.suggestion.value) for s in found)
        ):
            return False
    if query.text_contains:
        needle = query.text_contains.lower()
        if needle not in record.input_text.lower() and needle not in record.output.lower():
            return False
    return query.golden is None or record.golden == query.golden


def _response_matches(query: RecordQuery, responses: list[Response]) -> bool:
    spec = query.response
    assert spec is not None
    mine = [r for r in responses if spec.user is None or r.user == spec.user]
    statuses = list(spec.status or [])
    pending = "pending" in statuses
    real = [s for s in statuses if s != "pending"]

    def hit(r: Response) -> bool:
        if real and str(r.status) not in real:
            return False
        if spec.question is not None:
            value = r.values.get(spec.question)
            if value is None or (spec.value is not None and not _equal(value, spec.value)):
                return False
        return True

    exists = any(hit(r) for r in mine)
    if not pending:
        return exists
    is_pending = not any(str(r.status) in ("submitted", "discarded") for r in mine)
    if real:
        return exists or is_pending
    if spec.question is not None:
        return exists and is_pending
    return is_pending


def sort_key(query: RecordQuery, position: dict[str, int]) -> Any:
    """A key function ordering records like SQLite does (NULL first, numbers before text)."""
    if query.sort_by == "position":
        return lambda r: (position.get(r.id, 0),)
    if query.sort_by == "id":
        return lambda r: (r.id,)
    if query.sort_by.startswith("metadata."):
        key = query.sort_by.removeprefix("metadata.")

        def by_metadata(r: Record) -> Any:
            value = r.metadata.get(key)
            number = _number(value) if not isinstance(value, bool) else float(value)
            if value is None:
                rank: tuple[int, Any] = (0, 0)
            elif number is not None:
                rank = (1, number)
            else:
                rank = (2, str(value))
            return rank

        return by_metadata
    raise BadInputError(f"cannot sort by '{query.sort_by}'; use position, id or metadata.<key>")


def apply(
    records: list[Record], query: RecordQuery, responses: dict[str, list[Response]], position: dict[str, int]
) -> tuple[list[Record], int]:
    """Filter, sort and page; returns the page and the total before paging."""
    hits = [r for r in records if matches(r, query, responses.get(r.id, []))]
    hits.sort(key=lambda r: position.get(r.id, 0))
    key = sort_key(query, position)
    if query.sort_by.startswith("metadata."):
        # Secondary order is always import position ascending, as in the local store.
        hits.sort(key=key, reverse=query.descending)
        if query.descending:
            # reverse=True also reverses ties; restore import order inside equal keys.
            groups: dict[Any, list[Record]] = {}
            for r in hits:
                groups.setdefault(key(r), []).append(r)
            hits = [r for k in groups for r in sorted(groups[k], key=lambda x: position.get(x.id, 0))]
    else:
        hits.sort(key=key, reverse=query.descending)
    total = len(hits)
    end = None if query.limit is None else query.offset + query.limit
    return hits[query.offset : end], total
