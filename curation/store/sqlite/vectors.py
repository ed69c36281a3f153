"""The local store's vectors: one float32 vector per (name, record), stored as raw bytes."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from curation.errors import BadInputError, NotFoundError
from curation.store.sqlite.database import Database, in_list, list_param


class SQLiteVectors:
    """Set and read named vectors of records; a record's vectors go when the record is deleted."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Store row i of ``vectors`` as record_ids[i]'s vector ``name`` (replacing an older one)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(record_ids):
            raise BadInputError(
                f"vectors '{name}': expected a matrix with {len(record_ids)} rows, got shape {matrix.shape}"
            )
        rows = [(name, rid, matrix.shape[1], matrix[i].tobytes()) for i, rid in enumerate(record_ids)]
        try:
            with self._db.write() as conn:
                conn.executemany(
                    "INSERT INTO vectors(name, record_id, dim, data) VALUES (?,?,?,?) "
                    "ON CONFLICT(name, record_id) DO UPDATE SET dim=excluded.dim, data=excluded.data",
                    rows,
                )
        except sqlite3.IntegrityError:
            raise NotFoundError(
                f"vectors '{name}': some record ids do not exist in {self._db.path}"
            ) from None

    def get(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """(ids, matrix) in import order, for every record (or those of ``record_ids``) that has one."""
        sql = (
            "SELECT v.record_id, v.dim, v.data FROM vectors v JOIN records r ON r.id = v.record_id "
            "WHERE v.name=?"
        )
        params: list[object] = [name]
        if record_ids is not None:
            sql += " AND " + in_list("v.record_id")
            params.append(list_param(record_ids))
        rows = self._db.read(sql + " ORDER BY r.position", params)
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(r["data"] for r in rows), dtype=np.float32).reshape(
            len(rows), rows[0]["dim"]
        )
        return [r["record_id"] for r in rows], matrix.copy()

    def names(self) -> list[str]:
        """The vector names stored for any record."""
        return [r["name"] for r in self._db.read("SELECT DISTINCT name FROM vectors ORDER BY name")]
