"""A search engine for argilla-server 2.8.0 that answers in SQL, with Elasticsearch's semantics.

argilla-server needs Elasticsearch or OpenSearch, neither of which can be installed on our test
machines. This module registers an engine named ``pairsmith_sql`` (start the server with
``ARGILLA_SEARCH_ENGINE=pairsmith_sql``) that answers every search from the server's own SQLite
database, translating Argilla's filters and sorts into SQL the way ``search_engine/commons.py``
translates them into Elasticsearch queries. It is a test double, so it is as strict as the real
engine wherever a client could come to rely on a difference.

**An index, kept by the write hooks.** ES indexes a record when argilla-server calls
``index_records`` and never looks at the database. So does this engine: two tables in the server's
database are its index (``pairsmith_index_docs``: which records are indexed, with a sequence
number that changes on every rewrite; ``pairsmith_index_metadata``: one row per indexed metadata
value). As in ES:

- only metadata keys that have a metadata property *when the record is indexed* are searchable
  (Argilla maps ``metadata`` with ``dynamic: false``); adding a property later does not index the
  records already there (ES only updates the mapping): they are found once they are written again;
- a record whose metadata does not fit the mapping (an object in a terms property, a boolean in a
  number property, a keyword over 32,766 bytes) is rejected by the index: it is in the database,
  but no search finds it (argilla-server logs the bulk error and carries on);
- float properties hold 32-bit floats, and filters compare them as such.

**Filters**: terms and range filters on metadata properties (a range on a terms property compares
strings, a terms filter on a number property with a non-number fails with an error), record
properties, suggestions and responses. Response filters follow ES's nested queries: with a user
(the ``/me`` endpoints) every part is about that user's response; without one, each filter matches
*some* response on its own (two filters may match two different responses). ``pending`` means "no
response by that user" (no response at all without a user). Values of text, ranking and span
questions are not indexed (``enabled: false``): filters on them match nothing.

**Sort**: missing values last in both directions; multi-valued fields sort by their minimum
ascending and their maximum descending; a response sort averages the nested values and fails on
non-numeric ones. **Ties and unsorted results come in an arbitrary order**, which changes every
time the record or one of its responses or suggestions is written (ES orders them by segment and
document). A client that pages through offsets without a unique sort key skips or repeats records
here, as it would on ES.

**Offsets and totals**: ``offset + limit`` may not pass the index's ``max_result_window``
(500,000, Argilla's setting); totals are exact (Argilla asks for ``track_total_hits``). The request
limits (terms filter ≤ 250 values, ≤ 50 filters, ≤ 10 sorts, page ≤ 1,000, bulk ≤ 500) are checked
by the server's request schemas before the engine is called, so they hold here too.

**Progress** counts reproduce ES's aggregations, including the quirk of a user's progress
(records the user answered, counting every distinct response status on them, anyone's).

What it does **not** reproduce (also in docs/argilla.md): text relevance and analyzers (a text
query is an AND of its words, each a case-insensitive substring of a field; hits score 1.0);
approximate kNN (similarity search is exact cosine); the per-user random order of the ``/me``
queue beyond the arbitrary order above; an ES outage. It runs in the server's virtual environment
(``.argilla-venv``), never in pairsmith's, through its own SQLite connection in WAL mode; a write
hook returns only once the index is updated, like ES with ``refresh=True``.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sqlite3
import struct
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

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
from argilla_server.settings import settings

ENGINE_NAME = "pairsmith_sql"
MAX_RESULT_WINDOW = 500_000
"""Argilla creates every index with ``max_result_window`` 500,000: ``from + size`` may not pass it."""
MAX_KEYWORD_BYTES = 32_766
"""Lucene's longest term: ES rejects a document holding a longer keyword."""
MAX_TERMS_BUCKETS = 2**14
KEYWORD_QUESTIONS = ("label_selection", "multi_label_selection")
NUMERIC_QUESTIONS = ("rating",)

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS pairsmith_index_docs (
    record_id CHAR(32) PRIMARY KEY, dataset_id CHAR(32) NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pairsmith_index_docs_dataset ON pairsmith_index_docs (dataset_id);
CREATE TABLE IF NOT EXISTS pairsmith_index_metadata (
    record_id CHAR(32) NOT NULL, dataset_id CHAR(32) NOT NULL, name TEXT NOT NULL,
    term TEXT, number REAL);
CREATE INDEX IF NOT EXISTS pairsmith_index_metadata_record ON pairsmith_index_metadata (record_id, name);
CREATE INDEX IF NOT EXISTS pairsmith_index_metadata_term ON pairsmith_index_metadata (dataset_id, name, term);
CREATE INDEX IF NOT EXISTS pairsmith_index_metadata_number ON pairsmith_index_metadata (dataset_id, name, number);
"""


class SearchEngineError(ValueError):
    """What ES answers with a 400; argilla-server turns it into an error response."""


class Rejected(Exception):
    """A document ES would not index (a mapping error or an immense term)."""


# --- values as ES indexes them ------------------------------------------------------------------


def _f32(value: Any) -> float:
    """A number as ES stores it in a ``float`` field (32-bit)."""
    return float(struct.unpack("f", struct.pack("f", float(value)))[0])


def _keyword(value: Any) -> str:
    """A JSON scalar as the keyword ES indexes (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _flatten(value: Any) -> list[Any]:
    """ES indexes arrays (of arrays) as their values; null adds nothing."""
    if isinstance(value, list):
        return [item for part in value for item in _flatten(part)]
    return [] if value is None else [value]


def _index_rows(
    metadata: dict[str, Any], kinds: dict[str, str]
) -> list[tuple[str, str | None, float | None]]:
    """(name, term, number) rows for the metadata keys that have a property; Rejected on a mapping error."""
    rows: list[tuple[str, str | None, float | None]] = []
    for name, kind in kinds.items():
        for value in _flatten(metadata.get(name)):
            if isinstance(value, dict):
                raise Rejected(f"object in [metadata.{name}]")
            if kind == "terms":
                term = _keyword(value)
                if len(term.encode()) > MAX_KEYWORD_BYTES:
                    raise Rejected(f"immense term in [metadata.{name}]")
                rows.append((name, term, None))
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise Rejected(f"[metadata.{name}] is not a number")
            try:
                number = float(value)
            except ValueError:
                raise Rejected(f"[metadata.{name}] is not a number") from None
            if kind == "integer":
                number = float(math.trunc(number))  # ES coerces a long by truncating
            rows.append((name, None, _f32(number) if kind == "float" else number))
    return rows


def _number(value: Any, *, integer: bool) -> float:
    """A filter value as a number; ES answers 400 when it is not one (e.g. "1.5" for a long)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SearchEngineError(f'failed to create query: For input string: "{value}"') from None
    if integer and not number.is_integer():
        raise SearchEngineError(f"failed to create query: Value [{value}] has a decimal part")
    return number


def _hex(value: Any) -> str:
    return UUID(str(value)).hex


def _database_path() -> str:
    url = settings.database_url
    if not url.startswith("sqlite"):
        raise RuntimeError(f"{ENGINE_NAME} needs argilla-server on SQLite, not {url.split(':', 1)[0]}")
    return urlparse(url.replace("sqlite+aiosqlite", "sqlite", 1)).path


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=60000")
    return conn


# --- filters and sorts → SQL --------------------------------------------------------------------


class Translator:
    """Argilla's filters and sorts as SQL over ``records r`` of one dataset (parameters in order)."""

    def __init__(self, conn: sqlite3.Connection, dataset_id: str) -> None:
        self.dataset_id = dataset_id
        self.metadata = {
            row["name"]: json.loads(row["settings"])["type"]
            for row in conn.execute(
                "SELECT name, settings FROM metadata_properties WHERE dataset_id=?", (dataset_id,)
            )
        }
        self.questions = {
            row["name"]: json.loads(row["settings"])["type"]
            for row in conn.execute("SELECT name, settings FROM questions WHERE dataset_id=?", (dataset_id,))
        }
        self.params: list[Any] = []

    def _p(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def _question_kind(self, question: str) -> str:
        kind = self.questions.get(question)
        if kind in KEYWORD_QUESTIONS:
            return "keyword"
        if kind in NUMERIC_QUESTIONS:
            return "long"
        return "disabled"

    # --- filters --------------------------------------------------------------------------------
    def filter(self, flt: Any) -> str:
        if flt is None:
            return "1"
        if isinstance(flt, AndFilter):
            parts = [self.filter(part) for part in flt.filters]
            return "(" + " AND ".join(parts) + ")" if parts else "1"
        scope = flt.scope
        if isinstance(scope, MetadataFilterScope):
            return self._metadata_filter(scope.metadata_property, flt)
        if isinstance(scope, RecordFilterScope):
            return self._record_filter(scope.property, flt)
        if isinstance(scope, SuggestionFilterScope):
            return self._suggestion_filter(scope, flt)
        if isinstance(scope, ResponseFilterScope):
            return self._response_filter(scope, flt)
        raise SearchEngineError(f"cannot process filter scope {scope!r}")

    def _metadata_filter(self, name: str, flt: TermsFilter | RangeFilter) -> str:
        kind = self.metadata.get(name)
        if kind is None:
            return "0"  # no mapping: nothing is indexed under this key
        head = (
            f"r.id IN (SELECT m.record_id FROM pairsmith_index_metadata m WHERE m.dataset_id = "
            f"{self._p(self.dataset_id)} AND m.name = {self._p(name)} AND "
        )
        if kind == "terms":
            if isinstance(flt, TermsFilter):
                return head + f"m.term IN ({','.join(self._p(str(v)) for v in flt.values)}))"
            return head + self._bounds("m.term", flt, text=True) + ")"
        if isinstance(flt, TermsFilter):
            numbers = [_number(v, integer=kind == "integer") for v in flt.values]
            if kind == "float":
                numbers = [_f32(n) for n in numbers]
            return head + f"m.number IN ({','.join(self._p(n) for n in numbers)}))"
        return head + self._bounds("m.number", flt, f32=kind == "float") + ")"

    def _bounds(self, column: str, flt: RangeFilter, *, text: bool = False, f32: bool = False) -> str:
        parts = []
        for op, bound in ((">=", flt.ge), ("<=", flt.le)):
            if bound is None:
                continue
            if text:
                value: Any = _keyword(bound)
            else:
                value = _number(bound, integer=False)
                value = _f32(value) if f32 else value
            parts.append(f"{column} {op} {self._p(value)}")
        return " AND ".join(parts)

    def _record_filter(self, prop: str, flt: TermsFilter | RangeFilter) -> str:
        columns = {"id": "r.id", "external_id": "r.external_id", "status": "r.status"}
        column = columns.get(prop) or (f"r.{prop}" if prop in ("inserted_at", "updated_at") else None)
        if column is None:
            raise SearchEngineError(f"cannot filter on record property {prop!r}")
        if isinstance(flt, TermsFilter):
            values = [_hex(v) if prop == "id" else str(v) for v in flt.values]
            return f"{column} IN ({','.join(self._p(v) for v in values)})"
        return self._bounds(column, flt, text=True)

    def _values_of(self, kind: str, each: str, flt: TermsFilter | RangeFilter) -> str:
        """A condition on the JSON values listed by ``each`` (a json_each table) for an ES mapping kind."""
        if kind == "keyword":
            value = (
                "CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.value AS TEXT) END"
            )
            if isinstance(flt, TermsFilter):
                marks = ",".join(self._p(str(v)) for v in flt.values)
                return f"EXISTS (SELECT 1 FROM {each} j WHERE {value} IN ({marks}))"
            return f"EXISTS (SELECT 1 FROM {each} j WHERE {self._bounds(value, flt, text=True)})"
        if kind in ("long", "float"):
            numeric = "j.type IN ('integer', 'real')"
            if isinstance(flt, TermsFilter):
                numbers = [_number(v, integer=kind == "long") for v in flt.values]
                marks = ",".join(self._p(n) for n in numbers)
                return f"EXISTS (SELECT 1 FROM {each} j WHERE {numeric} AND j.value IN ({marks}))"
            return f"EXISTS (SELECT 1 FROM {each} j WHERE {numeric} AND {self._bounds('j.value', flt)})"
        return "0"  # mapped enabled: false: never matches

    def _suggestion_filter(self, scope: SuggestionFilterScope, flt: TermsFilter | RangeFilter) -> str:
        prop = scope.property or "value"
        kind = {"score": "float", "agent": "keyword", "type": "keyword"}.get(prop) or self._question_kind(
            scope.question
        )
        each = {"value": "json_each(s.value)", "score": "json_each(s.score)"}.get(
            prop, f"json_each(json_quote(s.{prop}))"
        )
        question = self._p(scope.question)
        condition = self._values_of(kind, each, flt)
        return (
            "EXISTS (SELECT 1 FROM suggestions s JOIN questions q ON q.id = s.question_id "
            f"WHERE s.record_id = r.id AND +q.name = {question} AND {condition})"
        )

    # In the correlated subqueries below, ``+column`` keeps SQLite from choosing an index on a column
    # other than ``record_id`` (e.g. all the server's responses of one status, once per record).

    def _response_filter(self, scope: ResponseFilterScope, flt: TermsFilter | RangeFilter) -> str:
        def by_user() -> str:  # a fresh parameter each time the clause is written, in text order
            return f" AND +x.user_id = {self._p(_hex(scope.user.id))}" if scope.user is not None else ""

        if scope.question:
            kind = self._question_kind(scope.question)
            if kind == "disabled":
                return "0"  # text, ranking and span answers are mapped enabled: false
            user = by_user()
            path = f'$."{scope.question}".value'
            each = f'json_each(x."values", {self._p(path)})'
            condition = self._values_of(kind, each, flt)
            return f"EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id{user} AND {condition})"
        if scope.property == "status" and isinstance(flt, TermsFilter):
            values = [str(v) for v in flt.values]
            parts = []
            if ResponseStatusFilter.pending.value in values:
                # ES: must_not responses.user_id (with a user), must_not exists responses (without one).
                parts.append(f"NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id{by_user()})")
                values = [v for v in values if v != ResponseStatusFilter.pending.value]
            if values:
                user = by_user()
                marks = ",".join(self._p(v) for v in values)
                parts.append(
                    f"EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id{user} AND +x.status IN ({marks}))"
                )
            return "(" + " OR ".join(parts) + ")"
        raise SearchEngineError(f"cannot process response filter scope {scope!r}")

    # --- sort -----------------------------------------------------------------------------------
    def sort_value(self, order: Order) -> str:
        """A SQL expression for one sort key; NULL when the record has no value (sorted last)."""
        scope = order.scope
        pick = "MIN" if order.order == SortOrder.asc else "MAX"
        if isinstance(scope, MetadataFilterScope):
            kind = self.metadata.get(scope.metadata_property)
            if kind is None:
                raise SearchEngineError(
                    f"No mapping found for [metadata.{scope.metadata_property}] in order to sort on"
                )
            column = "m.term" if kind == "terms" else "m.number"
            return (
                f"(SELECT {pick}({column}) FROM pairsmith_index_metadata m WHERE m.record_id = r.id "
                f"AND m.name = {self._p(scope.metadata_property)})"
            )
        if isinstance(scope, RecordFilterScope):
            return {"id": "r.id", "external_id": "r.external_id", "status": "r.status"}.get(
                scope.property, f"r.{scope.property}"
            )
        if isinstance(scope, SuggestionFilterScope):
            prop = scope.property or "value"
            kind = {"score": "float", "agent": "keyword", "type": "keyword"}.get(prop) or self._question_kind(
                scope.question
            )
            if kind == "disabled":
                raise SearchEngineError(
                    f"No mapping found for [suggestions.{scope.question}.{prop}] to sort on"
                )
            column = {"value": "json_extract(s.value, '$')", "score": "json_extract(s.score, '$')"}.get(
                prop, f"s.{prop}"
            )
            return (
                f"(SELECT {pick}({column}) FROM suggestions s JOIN questions q ON q.id = s.question_id "
                f"WHERE s.record_id = r.id AND +q.name = {self._p(scope.question)})"
            )
        if isinstance(scope, ResponseFilterScope):
            target = scope.question or scope.property or ""
            if not scope.question or self._question_kind(scope.question) != "long":
                raise SearchEngineError(
                    f"Field [responses.{target}] of type [keyword] does not support avg sort mode"
                )
            path = self._p(f'$."{scope.question}".value')
            user = f" AND +x.user_id = {self._p(_hex(scope.user.id))}" if scope.user is not None else ""
            return f'(SELECT AVG(json_extract(x."values", {path})) FROM responses x WHERE x.record_id = r.id{user})'
        raise SearchEngineError(f"cannot sort by {scope!r}")


# --- the engine ---------------------------------------------------------------------------------


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLSearchEngine(SearchEngine):
    """Answers every SearchEngine call from its index tables and the server's SQL database."""

    def __init__(self) -> None:
        self._path = _database_path()
        self._local = threading.local()
        self._random = random.Random()

    @classmethod
    async def new_instance(cls) -> SQLSearchEngine:
        engine = cls()
        await asyncio.to_thread(engine._setup)
        return engine

    def _setup(self) -> None:
        conn = self._conn()
        # WAL: the engine's reads never block the server's writers (an ES index never blocks the database).
        conn.execute("PRAGMA journal_mode=WAL")
        fresh = (
            conn.execute("SELECT 1 FROM sqlite_master WHERE name='pairsmith_index_docs'").fetchone() is None
        )
        conn.executescript(INDEX_SCHEMA)
        if fresh:  # a new index over an existing database: index every record once, as a reindex would
            by_dataset: dict[str, list[tuple[str, dict[str, Any]]]] = {}
            for row in conn.execute("SELECT id, dataset_id, metadata FROM records").fetchall():
                by_dataset.setdefault(row["dataset_id"], []).append(
                    (row["id"], json.loads(row["metadata"] or "{}"))
                )
            for dataset_id, items in by_dataset.items():
                self._index(conn, dataset_id, items)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self._path)
        return conn

    async def _read(self, fn: Any, *args: Any) -> Any:
        def run() -> Any:
            conn = self._conn()
            conn.execute("BEGIN")  # one snapshot per search
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")

        return await asyncio.to_thread(run)

    async def _write(self, fn: Any, *args: Any) -> None:
        def run() -> None:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                fn(conn, *args)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        await asyncio.to_thread(run)

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict:
        return {"name": ENGINE_NAME, "version": {"number": "2.8.0-sql", "distribution": ENGINE_NAME}}

    # --- the index ------------------------------------------------------------------------------
    def _index(
        self, conn: sqlite3.Connection, dataset_id: str, items: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """(Re)index records as ES does on a write: with the mapping of that moment, or not at all."""
        kinds = {
            row["name"]: json.loads(row["settings"])["type"]
            for row in conn.execute(
                "SELECT name, settings FROM metadata_properties WHERE dataset_id=?", (dataset_id,)
            )
        }
        conn.executemany(
            "DELETE FROM pairsmith_index_metadata WHERE record_id=?", [(rid,) for rid, _ in items]
        )
        rows, docs, rejected = [], [], []
        for record_id, metadata in items:
            try:
                rows += [(record_id, dataset_id, *row) for row in _index_rows(metadata, kinds)]
                docs.append((record_id, dataset_id, self._random.getrandbits(62)))
            except Rejected:
                rejected.append((record_id,))
        conn.executemany(
            "INSERT INTO pairsmith_index_metadata(record_id, dataset_id, name, term, number) VALUES (?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO pairsmith_index_docs(record_id, dataset_id, seq) VALUES (?,?,?) "
            "ON CONFLICT(record_id) DO UPDATE SET seq=excluded.seq",
            docs,
        )
        conn.executemany("DELETE FROM pairsmith_index_docs WHERE record_id=?", rejected)

    def _touch(self, conn: sqlite3.Connection, dataset_id: str, record_id: str) -> None:
        """A rewritten document: it gets a new place among equal-scored hits."""
        conn.execute(
            "INSERT INTO pairsmith_index_docs(record_id, dataset_id, seq) VALUES (?,?,?) "
            "ON CONFLICT(record_id) DO UPDATE SET seq=excluded.seq",
            (record_id, dataset_id, self._random.getrandbits(62)),
        )

    def _retouch(self, conn: sqlite3.Connection, record_ids: list[str]) -> None:
        for record_id in record_ids:
            row = conn.execute(
                "SELECT dataset_id FROM pairsmith_index_docs WHERE record_id=?", (record_id,)
            ).fetchone()
            if row is not None:  # a rejected document stays out
                self._touch(conn, row["dataset_id"], record_id)

    async def create_index(self, dataset: Dataset) -> None:
        return None

    async def delete_index(self, dataset: Dataset) -> None:
        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM pairsmith_index_docs WHERE dataset_id=?", (dataset.id.hex,))
            conn.execute("DELETE FROM pairsmith_index_metadata WHERE dataset_id=?", (dataset.id.hex,))

        await self._write(drop)

    async def configure_metadata_property(
        self, dataset: Dataset, metadata_property: MetadataProperty
    ) -> None:
        return None  # ES only adds the mapping: records already indexed are not indexed again

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        return None

    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        items = [(record.id.hex, dict(record.metadata_ or {})) for record in records]

        await self._write(self._index, dataset.id.hex, items)

    async def partial_record_update(self, record: Record, **update: Any) -> None:
        await self._write(self._retouch, [record.id.hex])

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        ids = [record.id.hex for record in records]

        def delete(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM pairsmith_index_docs WHERE record_id=?", [(i,) for i in ids])
            conn.executemany("DELETE FROM pairsmith_index_metadata WHERE record_id=?", [(i,) for i in ids])

        await self._write(delete)

    async def update_record_response(self, response: Response) -> None:
        await self._write(self._retouch, [response.record_id.hex])

    async def delete_record_response(self, response: Response) -> None:
        await self._write(self._retouch, [response.record_id.hex])

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        await self._write(self._retouch, [suggestion.record_id.hex])

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        await self._write(self._retouch, [suggestion.record_id.hex])

    # --- search ---------------------------------------------------------------------------------
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
        if offset + limit > MAX_RESULT_WINDOW:
            raise SearchEngineError(
                f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] "
                f"but was [{offset + limit}]"
            )
        return await self._read(self._search, dataset.id.hex, query, filter, sort, offset, limit, user_id)

    @staticmethod
    def _search(
        conn: sqlite3.Connection,
        dataset_id: str,
        query: TextQuery | str | None,
        flt: Any,
        sort: list[Order] | None,
        offset: int,
        limit: int,
        user_id: Any,
    ) -> SearchResponses:
        translator = Translator(conn, dataset_id)
        base = f"FROM records r JOIN pairsmith_index_docs d ON d.record_id = r.id WHERE d.dataset_id = ? AND {translator.filter(flt)}"
        where_params = [dataset_id, *translator.params]
        keys: list[str] = []
        sort_params: list[Any] = []
        for order in sort or []:
            translator.params = []
            value = translator.sort_value(order)
            direction = "DESC" if order.order == SortOrder.desc else "ASC"
            keys += [f"({value}) IS NULL", f"({value}) {direction}"]
            sort_params += translator.params * 2
        # Ties (and unsorted hits) in the index's arbitrary order; the /me queue mixes in the user.
        seed = int(UUID(str(user_id)).int % 2_147_483_629) + 1 if user_id else 1
        keys.append(f"(d.seq % 2147483629) * {seed} % 2147483629")
        select = f"SELECT r.id, r.fields {base} ORDER BY {', '.join(keys)}"
        text = _text_query(query)
        if text is None:
            total = conn.execute(f"SELECT COUNT(*) {base}", where_params).fetchone()[0]
            rows = conn.execute(
                f"{select} LIMIT ? OFFSET ?", [*where_params, *sort_params, limit, offset]
            ).fetchall()
        else:
            hits = [
                row
                for row in conn.execute(select, [*where_params, *sort_params])
                if _text_matches(row["fields"], text)
            ]
            total = len(hits)
            rows = hits[offset : offset + limit]
        score = None if sort else 1.0  # ES leaves _score out of sorted hits
        return SearchResponses(
            items=[SearchResponseItem(record_id=UUID(r["id"]), score=score) for r in rows], total=total
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
        if order == SimilarityOrder.least_similar:
            target = [-x for x in target]
        exclude = record.id.hex if record is not None else None
        return await self._read(
            self._similar,
            dataset.id.hex,
            vector_settings.id.hex,
            target,
            exclude,
            query,
            filter,
            max_results,
            threshold,
        )

    @staticmethod
    def _similar(
        conn: sqlite3.Connection,
        dataset_id: str,
        settings_id: str,
        target: list[float],
        exclude: str | None,
        query: TextQuery | str | None,
        flt: Any,
        k: int,
        threshold: float | None,
    ) -> SearchResponses:
        translator = Translator(conn, dataset_id)
        rows = conn.execute(
            "SELECT r.id, r.fields, v.value AS vector FROM records r JOIN pairsmith_index_docs d ON d.record_id = r.id "
            f"JOIN vectors v ON v.record_id = r.id WHERE d.dataset_id = ? AND v.vector_settings_id = ? AND {translator.filter(flt)}",
            [dataset_id, settings_id, *translator.params],
        ).fetchall()
        text = _text_query(query)
        scored = []
        for row in rows:
            if row["id"] == exclude or (text is not None and not _text_matches(row["fields"], text)):
                continue
            scored.append((_cosine_score(target, json.loads(row["vector"])), row["id"]))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        if threshold is not None:
            scored = [pair for pair in scored if pair[0] >= threshold]
        top = scored[:k]
        return SearchResponses(
            items=[SearchResponseItem(record_id=UUID(rid), score=s) for s, rid in top], total=len(top)
        )

    # --- progress and metrics -------------------------------------------------------------------
    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        return await self._read(self._progress, dataset.id.hex)

    @staticmethod
    def _progress(conn: sqlite3.Connection, dataset_id: str) -> dict:
        counts: dict[str, Any] = {"total": 0}
        for row in conn.execute(
            "SELECT r.status, COUNT(*) AS n FROM records r JOIN pairsmith_index_docs d ON d.record_id = r.id "
            "WHERE d.dataset_id = ? GROUP BY r.status",
            (dataset_id,),
        ):
            counts[row["status"]] = row["n"]
            counts["total"] += row["n"]
        return counts

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        return await self._read(self._user_progress, dataset.id.hex, user.id.hex)

    @staticmethod
    def _user_progress(conn: sqlite3.Connection, dataset_id: str, user_id: str) -> dict:
        # ES: a terms aggregation on responses.status (copied to the root, so multi-valued) over the
        # records this user answered: each record counts once per distinct status of *any* response.
        counts: dict[str, Any] = {"total": 0}
        for row in conn.execute(
            "SELECT x.status, COUNT(DISTINCT r.id) AS n FROM records r JOIN pairsmith_index_docs d ON d.record_id = r.id "
            "JOIN responses x ON x.record_id = r.id WHERE d.dataset_id = ? AND EXISTS "
            "(SELECT 1 FROM responses mine WHERE mine.record_id = r.id AND +mine.user_id = ?) GROUP BY x.status",
            (dataset_id, user_id),
        ):
            counts[row["status"]] = row["n"]
            counts["total"] += row["n"]
        return counts

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        return await self._read(
            self._metrics,
            metadata_property.dataset_id.hex,
            metadata_property.name,
            metadata_property.type.value,
        )

    @staticmethod
    def _metrics(conn: sqlite3.Connection, dataset_id: str, name: str, kind: str) -> MetadataMetrics:
        if kind == "terms":
            rows = conn.execute(
                "SELECT term, COUNT(DISTINCT record_id) AS n FROM pairsmith_index_metadata "
                "WHERE dataset_id = ? AND name = ? GROUP BY term ORDER BY n DESC, term",
                (dataset_id, name),
            ).fetchall()
            total = conn.execute(
                "SELECT COUNT(*) FROM pairsmith_index_metadata WHERE dataset_id = ? AND name = ?",
                (dataset_id, name),
            ).fetchone()[0]
            if total == 0:
                return TermsMetrics(total=0)
            return TermsMetrics(
                total=total,
                values=[
                    TermsMetrics.TermCount(term=row["term"], count=row["n"])
                    for row in rows[:MAX_TERMS_BUCKETS]
                ],
            )
        low, high = conn.execute(
            "SELECT MIN(number), MAX(number) FROM pairsmith_index_metadata WHERE dataset_id = ? AND name = ?",
            (dataset_id, name),
        ).fetchone()
        if kind == "integer":
            return IntegerMetadataMetrics(
                min=int(low) if low is not None else None, max=int(high) if high is not None else None
            )
        return FloatMetadataMetrics(min=low, max=high)


# --- text and vectors ---------------------------------------------------------------------------


def _text_query(query: TextQuery | str | None) -> TextQuery | None:
    if query is None:
        return None
    return TextQuery(q=query) if isinstance(query, str) else query


def _text_of(value: Any) -> str:
    """A field value as searchable text (chat fields: every message's content)."""
    if isinstance(value, list):
        return "\n".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return "" if value is None else str(value)


def _text_matches(fields_json: str, query: TextQuery) -> bool:
    fields = json.loads(fields_json or "{}")
    values = [fields.get(query.field)] if query.field else list(fields.values())
    haystack = "\n".join(_text_of(v) for v in values).casefold()
    words = [w.strip('"') for w in query.q.casefold().split()]
    return all(w in haystack for w in words if w)


def _cosine_score(a: list[float], b: list[float]) -> float:
    """Elasticsearch's score for a ``cosine`` dense_vector: (1 + cos) / 2."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    cosine = dot / norm if norm else 0.0
    return (1.0 + cosine) / 2.0
