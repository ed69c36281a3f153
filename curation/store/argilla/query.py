"""RecordQuery on Argilla: what the server answers, and the same semantics in Python for the rest.

:func:`plan` splits a query into Argilla search filters and a sort that give **exactly** the local
store's answer (``curation/store/sqlite/sql.py``), and marks what Argilla cannot answer exactly as
*residual*. A query with no residual part is answered by the server alone: filter, sort, page and
``total`` (one request per page, whatever the dataset's size). A residual query is answered by a
scan of what the native part matches, checked here with :func:`matches` and ordered with
:func:`apply`, so both backends always return the same records in the same order.

Native (server-side, exact):

- ids (``external_id``, 250 per terms filter: longer lists are asked in chunks);
- metadata terms and integer ranges on a key that has a metadata property, when no record holds a
  value that does not fit it (``ps_unfit`` lists such keys per record: one count request checks);
- golden (``ps_golden``); a suggestion's value for a label or rating question;
- response status and answers of the signed-in user (through ``/me``, where Argilla scopes response
  filters to that user; pairsmith's ``pending`` = Argilla's ``pending`` or ``draft``), and for
  owners a status or an answer of anyone (not both together, not ``pending``: Argilla checks each
  filter against any response, and its ``pending`` means "no response at all");
- sort by position, id, or an integer metadata key (descending, or ascending when every matching
  record has the key: the local store puts missing values first, Argilla last); ties by position,
  then id, so pages never overlap.

Residual (checked here): text search (a substring, not Argilla's word match), float metadata
(Argilla indexes 32-bit floats), keys without a property or with unfit values, another user's
responses (owners), status together with an answer of any user, ``pending`` of any user, other
sorts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from curation.errors import BadInputError
from curation.model import Record, Response
from curation.store.argilla.limits import FILTERS_MAX, KEYWORD_BYTES_MAX, RESULT_WINDOW_MAX
from curation.store.argilla.mapping import GOLDEN, POSITION, UNFIT
from curation.store.base import RecordQuery

INT64 = (-(2**63), 2**63 - 1)
NATIVE_FILTERS_MAX = FILTERS_MAX - 3
"""Filters a plan may use; the rest of the budget is for the scan's range and an id chunk."""


# --- search request parts -------------------------------------------------------------------------


def terms(scope: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    return {"type": "terms", "scope": scope, "values": [str(v) for v in values]}


def value_range(scope: dict[str, Any], ge: float | None = None, le: float | None = None) -> dict[str, Any]:
    bounds = {k: v for k, v in (("ge", ge), ("le", le)) if v is not None}
    return {"type": "range", "scope": scope, **bounds}


def metadata_scope(name: str) -> dict[str, Any]:
    return {"entity": "metadata", "metadata_property": name}


EXTERNAL_ID = {"entity": "record", "property": "external_id"}
ANSWERED = ("discarded", "draft", "submitted")
"""Every stored response status: a terms filter on all of them means "has a response"."""


def order(scope: dict[str, Any], descending: bool = False) -> dict[str, Any]:
    return {"scope": scope, "order": "desc" if descending else "asc"}


STABLE_ORDER = [order(metadata_scope(POSITION)), order(EXTERNAL_ID)]
"""Import order with a unique tie-break: the order of scans and of every page."""


@dataclass
class Plan:
    """How to ask Argilla for a query's records."""

    filters: list[dict[str, Any]] = field(default_factory=list)
    sort: list[dict[str, Any]] = field(default_factory=lambda: list(STABLE_ORDER))
    mine: bool = False
    """Search through ``/me``: response filters are about the signed-in user (and only their responses come back)."""
    residual: list[str] = field(default_factory=list)
    """Why Python must check (empty: the server's answer is exact)."""
    empty: bool = False
    """No record can match (e.g. a terms filter whose values cannot occur): ask nothing."""
    unfit_keys: list[str] = field(default_factory=list)
    """Metadata keys used natively: exact only while no record holds an unfit value for them."""
    ascending_key: str | None = None
    """An integer key sorted ascending: exact only while every matching record has it."""

    @property
    def native(self) -> bool:
        return not self.residual


@dataclass
class Schema:
    """What the planner needs to know about the dataset and the caller."""

    properties: dict[str, str]
    """Metadata property name → Argilla type (terms, integer, float)."""
    questions: dict[str, str]
    """Question name → Argilla settings type (label_selection, rating, text, …)."""
    me: str
    """The signed-in user's name."""
    manager: bool
    """Owner or admin: may search every user's responses."""


def _integer(value: Any) -> int | None:
    """The int a local-store comparison treats ``value`` as, or None when no integer equals it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if INT64[0] <= value <= INT64[1] else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _native_values(kind: str | None, values: list[Any]) -> list[Any] | None:
    """The values a native terms filter needs (local-store equality), or None when not native."""
    if kind == "terms":
        return [v for v in values if isinstance(v, str) and len(v.encode()) <= KEYWORD_BYTES_MAX]
    if kind == "integer":
        return [i for i in (_integer(v) for v in values) if i is not None]
    return None


def plan(query: RecordQuery, schema: Schema, *, metadata_native: bool = True) -> Plan:
    """The Argilla search for ``query`` (ids are handled by the caller, in chunks).

    ``metadata_native=False`` leaves every metadata part to Python: for when a record holds a value
    that does not fit its key's property (the plan's ``unfit_keys`` say which keys to check).
    """
    result = Plan(mine=not schema.manager)
    for key, values in query.metadata_terms.items():
        if not values:
            result.empty = True
            continue
        native = _native_values(schema.properties.get(key), values) if metadata_native else None
        if native is None:
            result.residual.append(f"metadata '{key}' has no exact property")
            continue
        result.unfit_keys.append(key)
        if native:
            result.filters.append(terms(metadata_scope(key), native))
        else:
            result.empty = True  # none of these values can equal a value the property holds
    for rng in query.metadata_ranges:
        if not metadata_native or schema.properties.get(rng.key) != "integer":
            result.residual.append(f"range on '{rng.key}'")
        elif rng.min is not None and rng.max is not None and rng.min > rng.max:
            result.empty = True
        else:
            low = rng.min if rng.min is not None else float(INT64[0])
            result.filters.append(value_range(metadata_scope(rng.key), low, rng.max))
            result.unfit_keys.append(rng.key)
    if query.golden is not None:
        result.filters.append(terms(metadata_scope(GOLDEN), ["true" if query.golden else "false"]))
    if query.suggestion is not None:
        _plan_suggestion(query, schema, result)
    if query.response is not None:
        _plan_response(query, schema, result)
    if query.text_contains:
        result.residual.append("text search")
    _plan_sort(query, schema, result, metadata_native)
    if len(result.filters) > NATIVE_FILTERS_MAX:
        result.residual.append("too many filters for one search")
        result.filters = result.filters[:NATIVE_FILTERS_MAX]
    end = query.offset + (query.limit or 0)
    if end > RESULT_WINDOW_MAX:
        result.residual.append("offset past the server's result window")
    return result


def _plan_suggestion(query: RecordQuery, schema: Schema, result: Plan) -> None:
    spec = query.suggestion
    assert spec is not None
    kind = schema.questions.get(spec.question)
    value: Any = None
    if (
        spec.value is not None
        and kind in ("label_selection", "multi_label_selection")
        and isinstance(spec.value, str)
    ):
        value = spec.value
    elif spec.value is not None and kind == "rating":
        value = _integer(spec.value)
    if value is None:
        result.residual.append("suggestion filter")
        return
    scope = {"entity": "suggestion", "question": spec.question, "property": "value"}
    result.filters.append(terms(scope, [value]))


def _answer_filter(schema: Schema, question: str, value: Any) -> dict[str, Any] | None:
    """A native filter on one answer's value, or None when Argilla cannot match it exactly."""
    kind = schema.questions.get(question)
    native: Any = None
    if kind == "label_selection" and isinstance(value, str):
        native = value
    elif kind == "rating":
        native = _integer(value)
    if native is None:
        return None
    return terms({"entity": "response", "question": question}, [native])


def _plan_response(query: RecordQuery, schema: Schema, result: Plan) -> None:
    spec = query.response
    assert spec is not None
    statuses = list(spec.status or [])
    pending = "pending" in statuses
    real = [s for s in statuses if s != "pending"]
    status_scope = {"entity": "response", "property": "status"}
    answer = (
        _answer_filter(schema, spec.question, spec.value)
        if spec.question is not None and spec.value is not None
        else None
    )
    if spec.question is not None and answer is None:
        result.residual.append("answer filter Argilla cannot match")
        return
    if (spec.user is not None and spec.user == schema.me) or not schema.manager:
        # One user's responses (/me): a user has at most one response per record, so each part is
        # about that one response. pairsmith's pending = no response or a draft.
        if not schema.manager and spec.user is not None and spec.user != schema.me:
            result.residual.append("another user's responses")
            return
        result.mine = True
        if pending and answer is not None:
            if real:
                result.residual.append("pending together with an answer")
                return
            result.filters += [terms(status_scope, ["draft"]), answer]
            return
        wanted = sorted(set(real) | ({"pending", "draft"} if pending else set()))
        if not wanted and answer is None:
            wanted = list(ANSWERED)  # "has a response"
        if wanted:
            result.filters.append(terms(status_scope, wanted))
        if answer is not None:
            result.filters.append(answer)
        return
    if spec.user is not None:
        result.residual.append("another user's responses")
        return
    # Anyone's responses (owners): each Argilla filter matches some response on its own.
    if pending or (real and answer is not None):
        result.residual.append("status of anyone's response")
        return
    result.mine = False
    if real or answer is None:
        result.filters.append(terms(status_scope, real or list(ANSWERED)))
    if answer is not None:
        result.filters.append(answer)


def _plan_sort(query: RecordQuery, schema: Schema, result: Plan, metadata_native: bool) -> None:
    if query.sort_by == "position":
        result.sort = [
            order(metadata_scope(POSITION), query.descending),
            order(EXTERNAL_ID, query.descending),
        ]
    elif query.sort_by == "id":
        result.sort = [order(EXTERNAL_ID, query.descending)]
    elif query.sort_by.startswith("metadata."):
        key = query.sort_by.removeprefix("metadata.")
        if metadata_native and schema.properties.get(key) == "integer":
            result.sort = [order(metadata_scope(key), query.descending), *STABLE_ORDER]
            result.unfit_keys.append(key)
            if not query.descending:
                result.ascending_key = key
        else:
            result.residual.append(f"sort by '{key}'")
    else:
        raise BadInputError(f"cannot sort by '{query.sort_by}'; use position, id or metadata.<key>")


def unfit_filter(keys: list[str]) -> dict[str, Any]:
    """Records holding a value that does not fit one of these keys' properties."""
    return terms(metadata_scope(UNFIT), sorted(set(keys)))


# --- the same semantics in Python -----------------------------------------------------------------


def _sql_value(value: Any) -> Any:
    """A value as SQLite compares it: booleans are 1/0, objects and lists JSON text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _equal(a: Any, b: Any) -> bool:
    """SQLite's ``=`` between a stored JSON value and a bound one: numbers by value, text by text."""
    a, b = _sql_value(a), _sql_value(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _term_match(value: Any, wanted: list[Any]) -> bool:
    """The local store's terms match: json_each lists a list's items or an object's member values."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        items = list(value.values())
    else:
        items = [value]
    return any(_equal(item, _asked(w)) for item in items if item is not None for w in wanted)


def _asked(value: Any) -> Any:
    """A query value as the local store binds it: objects and lists as json.dumps text (with spaces)."""
    return json.dumps(value) if isinstance(value, dict | list) else value


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
            and not any(_equal(s.value, _asked(query.suggestion.value)) for s in found)
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
            if value is None or (spec.value is not None and not _equal(value, _asked(spec.value))):
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


PositionKey = tuple[int, int, str]


def position_key(record_id: str, position: int | None) -> PositionKey:
    """Import order as Argilla sorts it: by position, records without one last, ties by id."""
    return (0, position, record_id) if position is not None else (1, 0, record_id)


def sort_key(query: RecordQuery, positions: dict[str, PositionKey]) -> Any:
    """A key function ordering records like SQLite does (NULL first, numbers before text)."""
    if query.sort_by == "position":
        return lambda r: positions[r.id]
    if query.sort_by == "id":
        return lambda r: (r.id,)
    if query.sort_by.startswith("metadata."):
        key = query.sort_by.removeprefix("metadata.")

        def by_metadata(r: Record) -> Any:
            value = _sql_value(r.metadata.get(key))  # json_extract: true → 1, objects → JSON text
            if value is None:
                return (0, 0)
            if isinstance(value, int | float):
                return (1, value)
            return (2, str(value))

        return by_metadata
    raise BadInputError(f"cannot sort by '{query.sort_by}'; use position, id or metadata.<key>")


def apply(
    records: list[Record],
    query: RecordQuery,
    responses: dict[str, list[Response]],
    positions: dict[str, PositionKey],
) -> tuple[list[Record], int]:
    """Filter, sort and page in Python; returns the page and the total before paging."""
    hits = [r for r in records if matches(r, query, responses.get(r.id, []))]
    hits.sort(key=lambda r: positions[r.id])
    key = sort_key(query, positions)
    if query.sort_by.startswith("metadata."):
        # Secondary order is always import position ascending, as in the local store.
        hits.sort(key=key, reverse=query.descending)
        if query.descending:
            # reverse=True also reverses ties; restore import order inside equal keys.
            groups: dict[Any, list[Record]] = {}
            for r in hits:
                groups.setdefault(key(r), []).append(r)
            hits = [r for k in groups for r in sorted(groups[k], key=lambda x: positions[x.id])]
    else:
        hits.sort(key=key, reverse=query.descending)
        if query.descending and query.sort_by == "position":
            # Argilla puts records without a position last in both directions.
            hits = [r for r in hits if positions[r.id][0] == 0] + [r for r in hits if positions[r.id][0] == 1]
    total = len(hits)
    end = None if query.limit is None else query.offset + query.limit
    return hits[query.offset : end], total
