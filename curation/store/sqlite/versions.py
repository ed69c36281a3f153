"""The local store's dataset versions: immutable copies of every record and response under a name."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime

from curation.errors import ConflictError, NotFoundError
from curation.model import DatasetVersion, Record, Response
from curation.store.sqlite.database import Database
from curation.store.sqlite.rows import RECORD_COLUMNS, dumps, record_from_row, response_from_row


class SQLiteVersions:
    """Create, list and load dataset versions (copies inside the same database file)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, guidelines_version: int) -> DatasetVersion:
        """Freeze the current records and responses as ``name``; ConflictError if the name is taken."""
        with self._db.write() as conn:
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
                guidelines_version=guidelines_version,
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

    def put(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> bool:
        """Store a version made elsewhere as it is (sync); False when it is here, ConflictError on a clash."""
        with self._db.write() as conn:
            row = conn.execute("SELECT content_hash FROM versions WHERE name=?", (version.name,)).fetchone()
            if row is not None:
                if row["content_hash"] != version.content_hash:
                    raise ConflictError(
                        f"this project already has a different version named '{version.name}'; versions are "
                        "immutable: rename one of them"
                    )
                return False
            conn.execute(
                "INSERT INTO versions(name, content_hash, record_count, response_count, guidelines_version, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (version.name, version.content_hash, version.record_count, version.response_count,
                 version.guidelines_version, version.created_at.isoformat()),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO version_records(version, position, id, content_hash, input, system, output, metadata, "
                "source_file, source_row, golden, suggestions) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(version.name, position, r.id, r.content_hash,
                  dumps(r.input if isinstance(r.input, str) else [m.stored() for m in r.input]), r.system,
                  r.output, dumps(r.metadata), r.source.file, r.source.row, 1 if r.golden else 0,
                  dumps([s.model_dump() for s in r.suggestions]))
                 for position, r in enumerate(records, start=1)],
            )  # fmt: skip
            conn.executemany(
                'INSERT INTO version_responses(version, record_id, user, "values", status, version_no, created_at, '
                "updated_at) VALUES (?,?,?,?,?,?,?,?)",
                [(version.name, x.record_id, x.user, dumps(x.values), str(x.status), x.version,
                  x.created_at.isoformat(), x.updated_at.isoformat()) for x in responses],
            )  # fmt: skip
        return True

    def all(self) -> list[DatasetVersion]:
        """Every version, oldest first."""
        return [
            _version_from_row(r) for r in self._db.read("SELECT * FROM versions ORDER BY created_at, name")
        ]

    def load(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        """The frozen records (import order) and responses of ``name``; NotFoundError if there is none."""
        rows = self._db.read("SELECT * FROM versions WHERE name=?", (name,))
        if not rows:
            raise NotFoundError(f"no dataset version named '{name}'; list them with `pairsmith versions DIR`")
        records = [
            record_from_row(r)
            for r in self._db.read(
                f"SELECT {RECORD_COLUMNS} FROM version_records WHERE version=? ORDER BY position", (name,)
            )
        ]
        responses = [
            response_from_row(r, "version_no")
            for r in self._db.read(
                "SELECT * FROM version_responses WHERE version=? ORDER BY record_id, user", (name,)
            )
        ]
        return _version_from_row(rows[0]), records, responses


def _version_from_row(row: sqlite3.Row) -> DatasetVersion:
    return DatasetVersion(
        name=row["name"],
        content_hash=row["content_hash"],
        record_count=row["record_count"],
        response_count=row["response_count"],
        guidelines_version=row["guidelines_version"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )
