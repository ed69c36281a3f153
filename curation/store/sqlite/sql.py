"""Translate a RecordQuery into SQL for the local store (kept apart so the store reads top to bottom)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from curation.errors import BadInputError
from curation.store.base import RecordQuery
from curation.store.sqlite.database import in_list, list_param

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _json_path(key: str) -> str:
    if not _KEY.match(key):
        raise BadInputError(f"metadata key {key!r} may only contain letters, digits, '_', '.', ':' and '-'")
    return f'$."{key}"'


def _sql_value(value: Any) -> Any:
    """JSON booleans come back from json_each as 1/0; dicts and lists compare as JSON text.

    NaN and infinities are not JSON (they could not travel in :func:`list_param`) and equal nothing
    stored: None (SQL NULL) matches nothing either.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def build_where(query: RecordQuery) -> tuple[str, list[Any]]:
    """A WHERE clause over ``records`` and its parameters; every part combines with AND.

    Id lists and term values are one parameter each (:func:`in_list`), so they may be of any length.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if query.ids is not None:
        if not query.ids:
            return "0", []
        clauses.append(in_list("records.id"))
        params.append(list_param(query.ids))
    for key, values in query.metadata_terms.items():
        if not values:
            clauses.append("0")
            continue
        # json_each yields the value itself for scalars and each element for lists, so a term filter
        # matches a scalar equal to one of the values or a list (such as flags) containing one.
        clauses.append(f"EXISTS (SELECT 1 FROM json_each(records.metadata, ?) m WHERE {in_list('m.value')})")
        params += [_json_path(key), list_param(_sql_value(v) for v in values)]
    for rng in query.metadata_ranges:
        expr = "CAST(json_extract(records.metadata, ?) AS REAL)"
        path = _json_path(rng.key)
        clauses.append("json_type(records.metadata, ?) IN ('integer', 'real')")
        params.append(path)
        if rng.min is not None:
            clauses.append(f"{expr} >= ?")
            params += [path, rng.min]
        if rng.max is not None:
            clauses.append(f"{expr} <= ?")
            params += [path, rng.max]
    if query.response is not None:
        clause, extra = _response_clause(query)
        clauses.append(clause)
        params += extra
    if query.suggestion is not None:
        sub = "SELECT 1 FROM json_each(records.suggestions) s WHERE json_extract(s.value, '$.question') = ?"
        params.append(query.suggestion.question)
        if query.suggestion.value is not None:
            sub += " AND json_extract(s.value, '$.value') = ?"
            params.append(_sql_value(query.suggestion.value))
        clauses.append(f"EXISTS ({sub})")
    if query.text_contains:
        clauses.append(
            "(instr(lower(records.input_text), lower(?)) > 0 OR instr(lower(records.output), lower(?)) > 0)"
        )
        params += [query.text_contains, query.text_contains]
    if query.golden is not None:
        clauses.append("records.golden = ?")
        params.append(1 if query.golden else 0)
    return (" AND ".join(clauses) if clauses else "1=1"), params


_DONE = "('submitted', 'discarded')"


def count_sql(query: RecordQuery) -> tuple[str, list[Any]]:
    """SQL counting the records that match ``query``.

    The review queue's default, records still pending for a reviewer (and no other filter), is
    counted as all records minus those the reviewer finished: two index reads instead of a
    per-record check, which is what keeps the Review page's first load fast at a million records.
    """
    spec = query.response
    only_pending = (
        spec is not None
        and spec.status == ["pending"]
        and spec.question is None
        and query.model_copy(update={"response": None}) == RecordQuery(**_paging(query))
    )
    if only_pending:
        assert spec is not None
        # One response per (record, user): a reviewer's finished responses are their finished records.
        done = f"SELECT COUNT(DISTINCT record_id) FROM responses WHERE status IN {_DONE}"
        params: list[Any] = []
        if spec.user is not None:
            done = f"SELECT COUNT(*) FROM responses WHERE user = ? AND status IN {_DONE}"
            params.append(spec.user)
        return f"SELECT (SELECT COUNT(*) FROM records) - ({done}) AS n", params
    where, params = build_where(query)
    return f"SELECT COUNT(*) AS n FROM records WHERE {where}", params


def _paging(query: RecordQuery) -> dict[str, Any]:
    return {
        "sort_by": query.sort_by,
        "descending": query.descending,
        "offset": query.offset,
        "limit": query.limit,
    }


def _response_clause(query: RecordQuery) -> tuple[str, list[Any]]:
    spec = query.response
    assert spec is not None
    clauses: list[str] = []
    params: list[Any] = []
    statuses = list(spec.status or [])
    pending = "pending" in statuses
    real_statuses = [s for s in statuses if s != "pending"]
    sub = "SELECT 1 FROM responses r WHERE r.record_id = records.id"
    sub_params: list[Any] = []
    if spec.user is not None:
        sub += " AND r.user = ?"
        sub_params.append(spec.user)
    if real_statuses:
        sub += f" AND r.status IN ({','.join('?' * len(real_statuses))})"
        sub_params += real_statuses
    if spec.question is not None:
        if spec.value is None:
            sub += ' AND json_extract(r."values", ?) IS NOT NULL'
            sub_params.append(_json_path(spec.question))
        else:
            sub += ' AND json_extract(r."values", ?) = ?'
            sub_params += [_json_path(spec.question), _sql_value(spec.value)]
    if real_statuses or spec.question is not None or not pending:
        clauses.append(f"EXISTS ({sub})")
        params += sub_params
    if pending:
        done = "SELECT 1 FROM responses r WHERE r.record_id = records.id AND r.status IN ('submitted', 'discarded')"
        done_params: list[Any] = []
        if spec.user is not None:
            done += " AND r.user = ?"
            done_params.append(spec.user)
        pending_clause = f"NOT EXISTS ({done})"
        if real_statuses:
            # "pending or draft": either part may hold.
            return f"({clauses[0]} OR {pending_clause})", [*params, *done_params]
        clauses.append(pending_clause)
        params += done_params
    return " AND ".join(clauses), params


def order_clause(query: RecordQuery) -> str:
    direction = "DESC" if query.descending else "ASC"
    if query.sort_by == "position":
        return f"position {direction}"
    if query.sort_by == "id":
        return f"id {direction}"
    if query.sort_by.startswith("metadata."):
        key = query.sort_by.removeprefix("metadata.")
        path = _json_path(key).replace("'", "''")
        return f"json_extract(metadata, '{path}') {direction}, position ASC"
    raise BadInputError(f"cannot sort by '{query.sort_by}'; use position, id or metadata.<key>")
