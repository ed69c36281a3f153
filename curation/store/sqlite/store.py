"""The local store: one SQLite file per project directory (the embedded default backend).

WAL journaling lets readers work while one writer writes; a busy timeout makes concurrent writers
from several processes wait instead of failing; foreign keys keep responses and vectors tied to
their records. Writes that must not race (responses) run in ``BEGIN IMMEDIATE`` transactions.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from curation.errors import BackendError, BadInputError, ConflictError, NotFoundError
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
from curation.store.base import DecisionQuery, RecordPage, RecordQuery, RecordStore, ResponseCounts
from curation.store.sqlite.decisions import insert_decisions, select_decisions, set_undone
from curation.store.sqlite.rows import RECORD_COLUMNS, dumps, record_from_row, response_from_row, row_hash
from curation.store.sqlite.schema import migrate
from curation.store.sqlite.sql import build_where, order_clause


class SQLiteStore(RecordStore):
    """A project's store in ``DIR/pairsmith.db``."""

    backend = "local"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            # Streamlit serves a session from several threads; the lock serialises use of the one connection.
            self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open the project database {self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=60000")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    # --- plumbing ---------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue up."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise BackendError(f"the project database {self.path} is busy or locked: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        with self._write() as conn:
            migrate(conn, self.path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- project settings -------------------------------------------------------------------------
    def get_project(self) -> Project:
        row = self._read("SELECT value FROM meta WHERE key='project'")
        if not row:
            raise NotFoundError(
                f"{self.path} holds no project settings; create the project with `pairsmith init`"
            )
        return Project.model_validate_json(row[0]["value"])

    def update_project(self, project: Project, *, author: str | None = None) -> Project:
        if author is not None:  # a signed-in author must be an owner; None = the CLI, no identity
            self.require_owner("change the project's settings or guidelines", author)
        with self._write() as conn:
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
        rows = self._read("SELECT version, text, author, created_at FROM guidelines ORDER BY version")
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
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name=?", (user.name,)).fetchone():
                raise ConflictError(f"a user named '{user.name}' already exists; choose another name")
            conn.execute(
                "INSERT INTO users(name, id, role) VALUES (?, ?, ?)", (user.name, user.id, str(user.role))
            )
        return user

    def list_users(self) -> list[User]:
        return [
            User(name=r["name"], id=r["id"], role=r["role"])
            for r in self._read("SELECT * FROM users ORDER BY name")
        ]

    def get_user(self, name: str) -> User:
        rows = self._read("SELECT * FROM users WHERE name=?", (name,))
        if not rows:
            raise NotFoundError(
                f"no user named '{name}'; add one with `pairsmith users add DIR {name} --role annotator`"
            )
        return User(name=rows[0]["name"], id=rows[0]["id"], role=rows[0]["role"])

    def set_password_hash(self, name: str, password_hash: str | None) -> None:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE users SET password_hash=? WHERE name=?", (password_hash, name)
            ).rowcount
        if not changed:
            self.get_user(name)  # raises NotFoundError with the usual message

    def password_hash(self, name: str) -> str | None:
        rows = self._read("SELECT password_hash FROM users WHERE name=?", (name,))
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
            )
        with self._write() as conn:
            existing: dict[str, str] = {}
            ids = list(rows)
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(f"SELECT id, row_hash FROM records WHERE id IN ({marks})", chunk):
                    existing[r["id"]] = r["row_hash"]
            new_rows = [row for rid, row in rows.items() if rid not in existing]
            changed = [row for rid, row in rows.items() if rid in existing and existing[rid] != row[2]]
            conn.executemany(
                "INSERT INTO records(id, content_hash, row_hash, input, input_text, system, output, metadata, "
                "source_file, source_row, golden, suggestions) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                new_rows,
            )
            conn.executemany(
                "UPDATE records SET content_hash=?, row_hash=?, input=?, input_text=?, system=?, output=?, metadata=?, "
                "source_file=?, source_row=?, golden=?, suggestions=? WHERE id=?",
                [(*row[1:], row[0]) for row in changed],
            )
        result.inserted += len(new_rows)
        result.updated += len(changed)
        result.unchanged += len(rows) - len(new_rows) - len(changed)

    def get_record(self, record_id: str) -> Record:
        rows = self._read(f"SELECT {RECORD_COLUMNS} FROM records WHERE id=?", (record_id,))
        if not rows:
            raise NotFoundError(f"no record with id '{record_id}' in {self.path}")
        return record_from_row(rows[0])

    def query_records(self, query: RecordQuery | None = None) -> RecordPage:
        query = query or RecordQuery()
        where, params = build_where(query)
        total = self._read(f"SELECT COUNT(*) AS n FROM records WHERE {where}", params)[0]["n"]
        sql = f"SELECT {RECORD_COLUMNS} FROM records WHERE {where} ORDER BY {order_clause(query)}"
        page_params = list(params)
        if query.limit is not None or query.offset:
            sql += " LIMIT ? OFFSET ?"
            page_params += [query.limit if query.limit is not None else -1, query.offset]
        return RecordPage(records=[record_from_row(r) for r in self._read(sql, page_params)], total=total)

    def iter_records(
        self, *, batch_size: int = 1000, query: RecordQuery | None = None
    ) -> Iterator[list[Record]]:
        base = (query or RecordQuery()).model_copy(
            update={"sort_by": "position", "descending": False, "offset": 0, "limit": None}
        )
        where, params = build_where(base)
        last_position = 0
        while True:
            rows = self._read(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE ({where}) AND position > ? ORDER BY position LIMIT ?",
                [*params, last_position, batch_size],
            )
            if not rows:
                return
            last_position = rows[-1]["position"]
            yield [record_from_row(r) for r in rows]

    def count_records(self, query: RecordQuery | None = None) -> int:
        where, params = build_where(query or RecordQuery())
        return int(self._read(f"SELECT COUNT(*) AS n FROM records WHERE {where}", params)[0]["n"])

    def existing_content_hashes(self) -> dict[str, int]:
        rows = self._read("SELECT content_hash, COUNT(*) AS n FROM records GROUP BY content_hash")
        return {r["content_hash"]: r["n"] for r in rows}

    def _rewrite_records(self, conn: sqlite3.Connection, ids: Sequence[str], change: Any) -> None:
        """Apply ``change(record) -> record`` to existing records and store them, in one transaction."""
        for start in range(0, len(ids), 900):
            chunk = list(ids[start : start + 900])
            marks = ",".join("?" * len(chunk))
            found = {
                r["id"]: r
                for r in conn.execute(f"SELECT {RECORD_COLUMNS} FROM records WHERE id IN ({marks})", chunk)
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

        with self._write() as conn:
            self._rewrite_records(conn, list(updates), merge)

    def set_suggestions(self, suggestions: dict[str, list[Suggestion]]) -> None:
        with self._write() as conn:
            self._rewrite_records(
                conn, list(suggestions), lambda r: r.model_copy(update={"suggestions": suggestions[r.id]})
            )

    def set_golden(self, record_ids: Sequence[str], golden: bool = True) -> None:
        with self._write() as conn:
            self._rewrite_records(conn, list(record_ids), lambda r: r.model_copy(update={"golden": golden}))

    def delete_records(self, record_ids: Sequence[str]) -> int:
        deleted = 0
        with self._write() as conn:
            for start in range(0, len(record_ids), 900):
                chunk = list(record_ids[start : start + 900])
                marks = ",".join("?" * len(chunk))
                deleted += conn.execute(f"DELETE FROM records WHERE id IN ({marks})", chunk).rowcount
        return deleted

    # --- vectors ----------------------------------------------------------------------------------
    def set_vectors(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(record_ids):
            raise BadInputError(
                f"vectors '{name}': expected a matrix with {len(record_ids)} rows, got shape {matrix.shape}"
            )
        rows = [(name, rid, matrix.shape[1], matrix[i].tobytes()) for i, rid in enumerate(record_ids)]
        try:
            with self._write() as conn:
                conn.executemany(
                    "INSERT INTO vectors(name, record_id, dim, data) VALUES (?,?,?,?) "
                    "ON CONFLICT(name, record_id) DO UPDATE SET dim=excluded.dim, data=excluded.data",
                    rows,
                )
        except sqlite3.IntegrityError:
            raise NotFoundError(f"vectors '{name}': some record ids do not exist in {self.path}") from None

    def get_vectors(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        if record_ids is None:
            rows = self._read(
                "SELECT v.record_id, v.dim, v.data FROM vectors v JOIN records r ON r.id = v.record_id "
                "WHERE v.name=? ORDER BY r.position",
                (name,),
            )
        else:
            rows = []
            for start in range(0, len(record_ids), 900):
                chunk = list(record_ids[start : start + 900])
                marks = ",".join("?" * len(chunk))
                rows += self._read(
                    "SELECT v.record_id, v.dim, v.data, r.position FROM vectors v JOIN records r ON r.id = v.record_id "
                    f"WHERE v.name=? AND v.record_id IN ({marks})",
                    [name, *chunk],
                )
            rows.sort(key=lambda r: r["position"])
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(r["data"] for r in rows), dtype=np.float32).reshape(
            len(rows), rows[0]["dim"]
        )
        return [r["record_id"] for r in rows], matrix.copy()

    def vector_names(self) -> list[str]:
        return [r["name"] for r in self._read("SELECT DISTINCT name FROM vectors ORDER BY name")]

    # --- responses --------------------------------------------------------------------------------
    def save_response(self, response: Response, *, expected_version: int | None = None) -> Response:
        values = self.get_project().validate_answers(response.values)
        now = utc_now()
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM records WHERE id=?", (response.record_id,)).fetchone():
                raise NotFoundError(f"no record with id '{response.record_id}' in {self.path}")
            current = conn.execute(
                "SELECT version, created_at, updated_at FROM responses WHERE record_id=? AND user=?",
                (response.record_id, response.user),
            ).fetchone()
            current_version = current["version"] if current else 0
            if expected_version is not None and expected_version != current_version:
                raise ConflictError(
                    f"record '{response.record_id}': {response.user}'s response changed since you opened it "
                    f"(version {current_version}, you had {expected_version}), probably in another tab; "
                    "reload the record and save again"
                )
            created = datetime.fromisoformat(current["created_at"]) if current else now
            saved = response.model_copy(
                update={
                    "values": values,
                    "version": current_version + 1,
                    "created_at": created,
                    "updated_at": now,
                }
            )
            conn.execute(
                'INSERT INTO responses(record_id, user, "values", status, version, created_at, updated_at) '
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(record_id, user) DO UPDATE SET "
                '"values"=excluded."values", status=excluded.status, version=excluded.version, '
                "updated_at=excluded.updated_at",
                (
                    saved.record_id,
                    saved.user,
                    dumps(saved.values),
                    str(saved.status),
                    saved.version,
                    saved.created_at.isoformat(),
                    saved.updated_at.isoformat(),
                ),
            )
        return saved

    def get_responses(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        clauses, params = [], []
        if user is not None:
            clauses.append("r.user=?")
            params.append(user)
        if status is not None:
            clauses.append("r.status=?")
            params.append(str(status))
        base = "SELECT r.* FROM responses r JOIN records rec ON rec.id = r.record_id WHERE " + (
            " AND ".join(clauses) if clauses else "1=1"
        )
        if record_ids is None:
            rows = self._read(base + " ORDER BY rec.position, r.user", params)
        else:
            rows = []
            for start in range(0, len(record_ids), 900):
                chunk = list(record_ids[start : start + 900])
                marks = ",".join("?" * len(chunk))
                rows += self._read(
                    base + f" AND r.record_id IN ({marks}) ORDER BY rec.position, r.user", [*params, *chunk]
                )
        return [response_from_row(r) for r in rows]

    def response_counts(self, user: str | None = None) -> ResponseCounts:
        sql = "SELECT status, COUNT(*) AS n FROM responses"
        params: list[Any] = []
        if user is not None:
            sql += " WHERE user=?"
            params.append(user)
        counts = {r["status"]: r["n"] for r in self._read(sql + " GROUP BY status", params)}
        return ResponseCounts(**{k: counts.get(k, 0) for k in ("submitted", "draft", "discarded")})

    def delete_response(self, record_id: str, user: str) -> bool:
        with self._write() as conn:
            gone = conn.execute(
                "DELETE FROM responses WHERE record_id=? AND user=?", (record_id, user)
            ).rowcount
        return bool(gone)

    # --- the decision log (curation/store/sqlite/decisions.py) -----------------------------------
    def log_decisions(self, decisions: Sequence[Decision]) -> None:
        with self._write() as conn:
            insert_decisions(conn, decisions)

    def list_decisions(self, query: DecisionQuery | None = None) -> list[Decision]:
        with self._lock:
            return select_decisions(self._conn, query or DecisionQuery())

    def mark_undone(self, decision_ids: Sequence[str], *, by: str | None, at: datetime) -> None:
        with self._write() as conn:
            set_undone(conn, decision_ids, by, at)

    # --- versions ---------------------------------------------------------------------------------
    def create_version(self, name: str) -> DatasetVersion:
        project = self.get_project()
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM versions WHERE name=?", (name,)).fetchone():
                raise ConflictError(
                    f"a dataset version named '{name}' already exists; versions are immutable"
                )
            digest = hashlib.sha256()
            record_count = 0
            for r in conn.execute("SELECT id, content_hash FROM records ORDER BY id"):
                digest.update(f"r:{r['id']}:{r['content_hash']}\n".encode())
                record_count += 1
            response_count = 0
            for r in conn.execute(
                'SELECT record_id, user, "values", status FROM responses ORDER BY record_id, user'
            ):
                digest.update(f"s:{r['record_id']}:{r['user']}:{r['status']}:{r['values']}\n".encode())
                response_count += 1
            version = DatasetVersion(
                name=name,
                content_hash=digest.hexdigest(),
                record_count=record_count,
                response_count=response_count,
                guidelines_version=project.guidelines_version,
            )
            conn.execute(
                "INSERT INTO versions(name, content_hash, record_count, response_count, guidelines_version, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (
                    name,
                    version.content_hash,
                    record_count,
                    response_count,
                    version.guidelines_version,
                    version.created_at.isoformat(),
                ),
            )
            conn.execute(
                "INSERT INTO version_records(version, position, id, content_hash, input, system, output, metadata, "
                "source_file, source_row, golden, suggestions) SELECT ?, position, id, content_hash, input, system, "
                "output, metadata, source_file, source_row, golden, suggestions FROM records",
                (name,),
            )
            conn.execute(
                'INSERT INTO version_responses(version, record_id, user, "values", status, version_no, created_at, '
                'updated_at) SELECT ?, record_id, user, "values", status, version, created_at, updated_at FROM responses',
                (name,),
            )
        return version

    def _version_from_row(self, row: sqlite3.Row) -> DatasetVersion:
        return DatasetVersion(
            name=row["name"],
            content_hash=row["content_hash"],
            record_count=row["record_count"],
            response_count=row["response_count"],
            guidelines_version=row["guidelines_version"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    def list_versions(self) -> list[DatasetVersion]:
        return [
            self._version_from_row(r) for r in self._read("SELECT * FROM versions ORDER BY created_at, name")
        ]

    def load_version(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        rows = self._read("SELECT * FROM versions WHERE name=?", (name,))
        if not rows:
            raise NotFoundError(f"no dataset version named '{name}'; list them with `pairsmith versions DIR`")
        records = [
            record_from_row(r)
            for r in self._read(
                f"SELECT {RECORD_COLUMNS} FROM version_records WHERE version=? ORDER BY position", (name,)
            )
        ]
        responses = [
            response_from_row(r, "version_no")
            for r in self._read(
                "SELECT * FROM version_responses WHERE version=? ORDER BY record_id, user", (name,)
            )
        ]
        return self._version_from_row(rows[0]), records, responses


def open_sqlite_store(paths: ProjectPaths, config: dict[str, Any]) -> SQLiteStore:
    """The backend factory (see :mod:`curation.store.registry`): the project's ``pairsmith.db``."""
    return SQLiteStore(paths.database)


__all__ = ["SQLiteStore"]
