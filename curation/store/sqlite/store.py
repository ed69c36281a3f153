"""The local store: one SQLite file per project directory (the embedded default backend).

:class:`SQLiteStore` keeps the project settings, users and records itself and hands the rest to
collaborators over the same connection (:class:`~curation.store.sqlite.database.Database`):
responses (:mod:`.responses`), vectors (:mod:`.vectors`) and dataset versions (:mod:`.versions`).
Migrations live in :mod:`.schema`, the query-to-SQL translation in :mod:`.sql`. Every method that
takes ids accepts any number of them (see :func:`~curation.store.sqlite.database.in_list`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from curation.errors import ConflictError, NotFoundError
from curation.files import ProjectPaths
from curation.model import (
    DatasetVersion,
    Decision,
    GuidelinesVersion,
    Project,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
    UpsertResult,
    User,
    utc_now,
)
from curation.store.base import (
    DecisionQuery,
    LengthDistribution,
    RecordPage,
    RecordQuery,
    RecordStore,
    RecordSummary,
    ResponseCounts,
)
from curation.store.sqlite.database import Database, in_list, list_param
from curation.store.sqlite.decisions import insert_decisions, select_decisions, set_undone
from curation.store.sqlite.responses import SQLiteResponses
from curation.store.sqlite.rows import RECORD_COLUMNS, dumps, record_from_row, row_hash
from curation.store.sqlite.schema import migrate
from curation.store.sqlite.sql import build_where, count_sql, order_clause
from curation.store.sqlite.vectors import SQLiteVectors
from curation.store.sqlite.versions import SQLiteVersions

REWRITE_BATCH = 2000
"""Records read, changed and written back per statement by metadata, suggestion and golden updates."""


class SQLiteStore(RecordStore):
    """A project's store in ``DIR/pairsmith.db``."""

    backend = "local"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = Database(self.path)
        self._responses = SQLiteResponses(self._db)
        self._vectors = SQLiteVectors(self._db)
        self._versions = SQLiteVersions(self._db)
        with self._db.write() as conn:
            migrate(conn, self.path)

    def close(self) -> None:
        self._db.close()

    # --- project settings -------------------------------------------------------------------------
    def get_project(self) -> Project:
        row = self._db.read("SELECT value FROM meta WHERE key='project'")
        if not row:
            raise NotFoundError(
                f"{self.path} holds no project settings; create the project with `pairsmith init`"
            )
        return Project.model_validate_json(row[0]["value"])

    def update_project(self, project: Project, *, author: str | None = None) -> Project:
        if author is not None:  # a signed-in author must be an owner; None = the CLI, no identity
            self.require_owner("change the project's settings or guidelines", author)
        with self._db.write() as conn:
            last = conn.execute(
                "SELECT version, text FROM guidelines ORDER BY version DESC LIMIT 1"
            ).fetchone()
            if last is None:
                version = 1
                conn.execute(
                    "INSERT INTO guidelines(version, text, author, created_at) VALUES (1, ?, ?, ?)",
                    (project.guidelines, author, utc_now().isoformat()),
                )
            elif last["text"] != project.guidelines:
                version = last["version"] + 1
                conn.execute(
                    "INSERT INTO guidelines(version, text, author, created_at) VALUES (?, ?, ?, ?)",
                    (version, project.guidelines, author, utc_now().isoformat()),
                )
            else:
                version = last["version"]
            saved = project.model_copy(update={"guidelines_version": version})
            conn.execute(
                "INSERT INTO meta(key, value) VALUES('project', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (saved.model_dump_json(),),
            )
        return saved

    def guidelines_history(self) -> list[GuidelinesVersion]:
        rows = self._db.read("SELECT version, text, author, created_at FROM guidelines ORDER BY version")
        return [
            GuidelinesVersion(
                version=r["version"],
                text=r["text"],
                author=r["author"],
                created_at=datetime.fromisoformat(r["created_at"]),
            )
            for r in rows
        ]

    # --- users ------------------------------------------------------------------------------------
    def add_user(self, user: User) -> User:
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name=?", (user.name,)).fetchone():
                raise ConflictError(f"a user named '{user.name}' already exists; choose another name")
            conn.execute(
                "INSERT INTO users(name, id, role) VALUES (?, ?, ?)", (user.name, user.id, str(user.role))
            )
        return user

    def list_users(self) -> list[User]:
        return [
            User(name=r["name"], id=r["id"], role=r["role"])
            for r in self._db.read("SELECT * FROM users ORDER BY name")
        ]

    def get_user(self, name: str) -> User:
        rows = self._db.read("SELECT * FROM users WHERE name=?", (name,))
        if not rows:
            raise NotFoundError(
                f"no user named '{name}'; add one with `pairsmith users add DIR {name} --role annotator`"
            )
        return User(name=rows[0]["name"], id=rows[0]["id"], role=rows[0]["role"])

    def set_password_hash(self, name: str, password_hash: str | None) -> None:
        with self._db.write() as conn:
            changed = conn.execute(
                "UPDATE users SET password_hash=? WHERE name=?", (password_hash, name)
            ).rowcount
        if not changed:
            self.get_user(name)  # raises NotFoundError with the usual message

    def password_hash(self, name: str) -> str | None:
        rows = self._db.read("SELECT password_hash FROM users WHERE name=?", (name,))
        if not rows:
            self.get_user(name)
        return rows[0]["password_hash"] if rows else None

    # --- records ----------------------------------------------------------------------------------
    def upsert_records(self, records: Iterable[Record], *, batch_size: int = 1000) -> UpsertResult:
        result = UpsertResult()
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                self._upsert_batch(batch, result)
                batch = []
        if batch:
            self._upsert_batch(batch, result)
        return result

    def _upsert_batch(self, batch: list[Record], result: UpsertResult) -> None:
        rows: dict[str, tuple[Any, ...]] = {}
        for record in batch:
            input_json = dumps(
                record.input if isinstance(record.input, str) else [m.stored() for m in record.input]
            )
            metadata_json = dumps(record.metadata)
            suggestions_json = dumps([s.model_dump() for s in record.suggestions])
            rows[record.id] = (
                record.id,
                record.content_hash,
                row_hash(record, input_json, metadata_json, suggestions_json),
                input_json,
                record.input_text,
                record.system,
                record.output,
                metadata_json,
                record.source.file,
                record.source.row,
                1 if record.golden else 0,
                suggestions_json,
                len(record.input_text),
                len(record.output),
                1 if record.is_chat else 0,
                0 if record.output.strip() else 1,
            )
        with self._db.write() as conn:
            existing: dict[str, str] = {
                r["id"]: r["row_hash"]
                for r in conn.execute(
                    f"SELECT id, row_hash FROM records WHERE {in_list('id')}", [list_param(rows)]
                )
            }
            new_rows = [row for rid, row in rows.items() if rid not in existing]
            changed = [row for rid, row in rows.items() if rid in existing and existing[rid] != row[2]]
            conn.executemany(
                "INSERT INTO records(id, content_hash, row_hash, input, input_text, system, output, metadata, "
                "source_file, source_row, golden, suggestions, input_chars, output_chars, chat, output_blank) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                new_rows,
            )
            conn.executemany(
                "UPDATE records SET content_hash=?, row_hash=?, input=?, input_text=?, system=?, output=?, metadata=?, "
                "source_file=?, source_row=?, golden=?, suggestions=?, input_chars=?, output_chars=?, chat=?, "
                "output_blank=? WHERE id=?",
                [(*row[1:], row[0]) for row in changed],
            )
        result.inserted += len(new_rows)
        result.updated += len(changed)
        result.unchanged += len(rows) - len(new_rows) - len(changed)

    def get_record(self, record_id: str) -> Record:
        rows = self._db.read(f"SELECT {RECORD_COLUMNS} FROM records WHERE id=?", (record_id,))
        if not rows:
            raise NotFoundError(f"no record with id '{record_id}' in {self.path}")
        return record_from_row(rows[0])

    def query_records(self, query: RecordQuery | None = None) -> RecordPage:
        query = query or RecordQuery()
        where, params = build_where(query)
        total = self.count_records(query)
        sql = f"SELECT {RECORD_COLUMNS} FROM records WHERE {where} ORDER BY {order_clause(query)}"
        page_params = list(params)
        if query.limit is not None or query.offset:
            sql += " LIMIT ? OFFSET ?"
            page_params += [query.limit if query.limit is not None else -1, query.offset]
        return RecordPage(records=[record_from_row(r) for r in self._db.read(sql, page_params)], total=total)

    def iter_records(
        self, *, batch_size: int = 1000, query: RecordQuery | None = None
    ) -> Iterator[list[Record]]:
        base = (query or RecordQuery()).model_copy(
            update={"sort_by": "position", "descending": False, "offset": 0, "limit": None}
        )
        where, params = build_where(base)
        last_position = 0
        while True:
            rows = self._db.read(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE ({where}) AND position > ? ORDER BY position LIMIT ?",
                [*params, last_position, batch_size],
            )
            if not rows:
                return
            last_position = rows[-1]["position"]
            yield [record_from_row(r) for r in rows]

    def count_records(self, query: RecordQuery | None = None) -> int:
        sql, params = count_sql(query or RecordQuery())
        return int(self._db.read(sql, params)[0]["n"])

    def record_summary(self) -> RecordSummary:
        """The same figures as the interface's default, from the length and source indexes: a
        percentile is one step along an index (``LIMIT 1 OFFSET k``), never a read of the texts."""
        with self._db.connection() as conn:
            count, golden, chat, blank, input_total = conn.execute(
                "SELECT COUNT(*), TOTAL(golden), TOTAL(chat), TOTAL(output_blank), TOTAL(input_chars) "
                "FROM records INDEXED BY records_summary"
            ).fetchone()
            output_total = conn.execute(
                "SELECT TOTAL(output_chars) FROM records INDEXED BY records_output_chars"
            ).fetchone()[0]
            sources = conn.execute(
                "SELECT CASE WHEN source_file IS NULL OR source_file = '' THEN '(unknown)' ELSE source_file END AS file, "
                "COUNT(*) AS n, MIN(position) AS first "
                "FROM records INDEXED BY records_source GROUP BY source_file"
            ).fetchall()

            def nth(column: str, index: str) -> Any:
                sql = f"SELECT {column} FROM records INDEXED BY {index} ORDER BY {column} LIMIT 1 OFFSET ?"
                return lambda k: int(conn.execute(sql, (k,)).fetchone()[0])

            merged: dict[str, tuple[int, int]] = {}
            for row in sources:  # a NULL file and a file named "(unknown)" count together
                n, first = merged.get(row["file"], (0, row["first"]))
                merged[row["file"]] = (n + row["n"], min(first, row["first"]))
            return RecordSummary(
                records=count,
                chat_records=int(chat),
                golden=int(golden),
                empty_outputs=int(blank),
                sources={f: n for f, (n, _) in sorted(merged.items(), key=lambda kv: (-kv[1][0], kv[1][1]))},
                input_chars=LengthDistribution.from_sorted(
                    nth("input_chars", "records_summary"), count, int(input_total)
                ),
                output_chars=LengthDistribution.from_sorted(
                    nth("output_chars", "records_output_chars"), count, int(output_total)
                ),
            )

    def existing_content_hashes(self) -> dict[str, int]:
        rows = self._db.read("SELECT content_hash, COUNT(*) AS n FROM records GROUP BY content_hash")
        return {r["content_hash"]: r["n"] for r in rows}

    def _rewrite_records(self, conn: sqlite3.Connection, ids: Sequence[str], change: Any) -> None:
        """Apply ``change(record) -> record`` to existing records and store them, in one transaction."""
        for start in range(0, len(ids), REWRITE_BATCH):
            chunk = list(ids[start : start + REWRITE_BATCH])
            found = {
                r["id"]: r
                for r in conn.execute(
                    f"SELECT {RECORD_COLUMNS} FROM records WHERE {in_list('id')}", [list_param(chunk)]
                )
            }
            missing = [rid for rid in chunk if rid not in found]
            if missing:
                raise NotFoundError(f"no record with id '{missing[0]}' in {self.path}")
            updates = []
            for rid in chunk:
                record = change(record_from_row(found[rid]))
                input_json = found[rid]["input"]
                metadata_json = dumps(record.metadata)
                suggestions_json = dumps([s.model_dump() for s in record.suggestions])
                updates.append(
                    (
                        metadata_json,
                        suggestions_json,
                        1 if record.golden else 0,
                        row_hash(record, input_json, metadata_json, suggestions_json),
                        rid,
                    )
                )
            conn.executemany(
                "UPDATE records SET metadata=?, suggestions=?, golden=?, row_hash=? WHERE id=?", updates
            )

    def update_metadata(self, updates: dict[str, dict[str, Any]]) -> None:
        def merge(record: Record) -> Record:
            merged = dict(record.metadata)
            for key, value in updates[record.id].items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            return record.model_copy(update={"metadata": merged})

        with self._db.write() as conn:
            self._rewrite_records(conn, list(updates), merge)

    def set_suggestions(self, suggestions: dict[str, list[Suggestion]]) -> None:
        with self._db.write() as conn:
            self._rewrite_records(
                conn, list(suggestions), lambda r: r.model_copy(update={"suggestions": suggestions[r.id]})
            )

    def set_golden(self, record_ids: Sequence[str], golden: bool = True) -> None:
        with self._db.write() as conn:
            self._rewrite_records(conn, list(record_ids), lambda r: r.model_copy(update={"golden": golden}))

    def delete_records(self, record_ids: Sequence[str]) -> int:
        with self._db.write() as conn:
            return int(
                conn.execute(f"DELETE FROM records WHERE {in_list('id')}", [list_param(record_ids)]).rowcount
            )

    # --- vectors, responses, versions: collaborators on the same connection -----------------------
    def set_vectors(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        self._vectors.save(name, record_ids, vectors)

    def get_vectors(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        return self._vectors.get(name, record_ids)

    def vector_names(self) -> list[str]:
        return self._vectors.names()

    def save_response(self, response: Response, *, expected_version: int | None = None) -> Response:
        values = self.get_project().validate_answers(response.values)
        return self._responses.save(response, values, expected_version=expected_version)

    def get_responses(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        return self._responses.get(record_ids=record_ids, user=user, status=status)

    def response_counts(self, user: str | None = None) -> ResponseCounts:
        return self._responses.counts(user)

    def delete_response(self, record_id: str, user: str) -> bool:
        with self._db.write() as conn:
            gone = conn.execute(
                "DELETE FROM responses WHERE record_id=? AND user=?", (record_id, user)
            ).rowcount
        return bool(gone)

    # --- the decision log (curation/store/sqlite/decisions.py) -----------------------------------
    def log_decisions(self, decisions: Sequence[Decision]) -> None:
        with self._db.write() as conn:
            insert_decisions(conn, decisions)

    def list_decisions(self, query: DecisionQuery | None = None) -> list[Decision]:
        with self._db.connection() as conn:
            return select_decisions(conn, query or DecisionQuery())

    def mark_undone(self, decision_ids: Sequence[str], *, by: str | None, at: datetime) -> None:
        with self._db.write() as conn:
            set_undone(conn, decision_ids, by, at)

    # --- versions ---------------------------------------------------------------------------------
    def create_version(self, name: str) -> DatasetVersion:
        return self._versions.create(name, self.get_project().guidelines_version)

    def list_versions(self) -> list[DatasetVersion]:
        return self._versions.all()

    def load_version(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        return self._versions.load(name)

    def put_version(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> bool:
        return self._versions.put(version, records, responses)


def open_sqlite_store(paths: ProjectPaths, config: dict[str, Any]) -> SQLiteStore:
    """The backend factory (see :mod:`curation.store.registry`): the project's ``pairsmith.db``."""
    return SQLiteStore(paths.database)


__all__ = ["SQLiteStore"]
