"""The local store's responses: one per (record, user), versioned so concurrent edits are caught."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from curation.errors import ConflictError, NotFoundError
from curation.model import Response, ResponseStatus, utc_now
from curation.store.base import ResponseCounts
from curation.store.sqlite.database import Database, in_list, list_param
from curation.store.sqlite.rows import dumps, response_from_row


class SQLiteResponses:
    """Save, read and count responses. Answers arrive validated (the store checks them against the project)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, response: Response, values: dict[str, Any], *, expected_version: int | None) -> Response:
        """Save ``response`` with its validated ``values``; see :meth:`RecordStore.save_response`."""
        now = utc_now()
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM records WHERE id=?", (response.record_id,)).fetchone():
                raise NotFoundError(f"no record with id '{response.record_id}' in {self._db.path}")
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

    def get(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        """Matching responses in import order of their records, then by user."""
        clauses, params = [], []
        if record_ids is not None:
            clauses.append(in_list("r.record_id"))
            params.append(list_param(record_ids))
        if user is not None:
            clauses.append("r.user=?")
            params.append(user)
        if status is not None:
            clauses.append("r.status=?")
            params.append(str(status))
        where = " AND ".join(clauses) if clauses else "1=1"
        rows = self._db.read(
            f"SELECT r.* FROM responses r JOIN records rec ON rec.id = r.record_id WHERE {where} "
            "ORDER BY rec.position, r.user",
            params,
        )
        return [response_from_row(r) for r in rows]

    def counts(self, user: str | None = None) -> ResponseCounts:
        """Responses per status, of everyone or of ``user``."""
        sql = "SELECT status, COUNT(*) AS n FROM responses"
        params: list[Any] = []
        if user is not None:
            sql += " WHERE user=?"
            params.append(user)
        counts = {r["status"]: r["n"] for r in self._db.read(sql + " GROUP BY status", params)}
        return ResponseCounts(**{k: counts.get(k, 0) for k in ("submitted", "draft", "discarded")})
