"""The local store's schema and its migrations: each entry upgrades the database by one version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from curation.errors import BackendError
from curation.model import (
    SCHEMA_VERSION,
)

# Each entry upgrades the schema from version (key - 1) to version key.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS guidelines (
        version INTEGER PRIMARY KEY, text TEXT NOT NULL, author TEXT, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, role TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS records (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        row_hash TEXT NOT NULL,
        input TEXT NOT NULL,
        input_text TEXT NOT NULL,
        system TEXT,
        output TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        source_file TEXT,
        source_row INTEGER,
        golden INTEGER NOT NULL DEFAULT 0,
        suggestions TEXT NOT NULL DEFAULT '[]');
    CREATE INDEX IF NOT EXISTS records_content_hash ON records(content_hash);
    CREATE TABLE IF NOT EXISTS responses (
        record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
        user TEXT NOT NULL,
        "values" TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (record_id, user));
    CREATE INDEX IF NOT EXISTS responses_user ON responses(user, status);
    CREATE TABLE IF NOT EXISTS vectors (
        name TEXT NOT NULL,
        record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
        dim INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (name, record_id));
    CREATE INDEX IF NOT EXISTS vectors_record ON vectors(record_id);
    CREATE TABLE IF NOT EXISTS versions (
        name TEXT PRIMARY KEY, content_hash TEXT NOT NULL, record_count INTEGER NOT NULL,
        response_count INTEGER NOT NULL, guidelines_version INTEGER NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS version_records (
        version TEXT NOT NULL REFERENCES versions(name) ON DELETE CASCADE,
        position INTEGER NOT NULL, id TEXT NOT NULL, content_hash TEXT NOT NULL, input TEXT NOT NULL,
        system TEXT, output TEXT NOT NULL, metadata TEXT NOT NULL, source_file TEXT, source_row INTEGER,
        golden INTEGER NOT NULL, suggestions TEXT NOT NULL,
        PRIMARY KEY (version, id));
    CREATE TABLE IF NOT EXISTS version_responses (
        version TEXT NOT NULL REFERENCES versions(name) ON DELETE CASCADE,
        record_id TEXT NOT NULL, user TEXT NOT NULL, "values" TEXT NOT NULL, status TEXT NOT NULL,
        version_no INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (version, record_id, user));
    """,
    2: """
    ALTER TABLE users ADD COLUMN password_hash TEXT;
    CREATE TABLE IF NOT EXISTS decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        user TEXT,
        at TEXT NOT NULL,
        batch TEXT,
        body TEXT NOT NULL,
        undone_at TEXT,
        undone_by TEXT);
    CREATE INDEX IF NOT EXISTS decisions_batch ON decisions(batch);
    CREATE TABLE IF NOT EXISTS decision_records (
        decision_id TEXT NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
        record_id TEXT NOT NULL,
        PRIMARY KEY (decision_id, record_id));
    CREATE INDEX IF NOT EXISTS decision_records_record ON decision_records(record_id);
    """,
    # Per-record figures `stats` reads from indexes instead of decoding a million rows: characters of
    # the input text and of the output, chat or not, a blank output. Filled by py_* functions that
    # compute them exactly as Python does (SQLite's length() stops at a NUL character).
    3: """
    ALTER TABLE records ADD COLUMN input_chars INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN output_chars INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN chat INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN output_blank INTEGER NOT NULL DEFAULT 0;
    UPDATE records SET input_chars = py_len(input_text), output_chars = py_len(output),
        chat = (substr(input, 1, 1) = '['), output_blank = py_blank(output);
    CREATE INDEX IF NOT EXISTS records_summary ON records(input_chars, golden, chat, output_blank);
    CREATE INDEX IF NOT EXISTS records_output_chars ON records(output_chars);
    CREATE INDEX IF NOT EXISTS records_source ON records(source_file, position);
    """,
}


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the database up to :data:`SCHEMA_VERSION`, inside the caller's write transaction.

    A database written by a newer pairsmith is refused rather than read with the wrong shapes.
    """
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    current = 0
    if has_meta:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        current = int(row["value"]) if row else 0
    if current > SCHEMA_VERSION:
        raise BackendError(
            f"{path} was written by a newer pairsmith (schema {current} > {SCHEMA_VERSION}); upgrade pairsmith"
        )
    conn.create_function("py_len", 1, lambda text: len(text or ""), deterministic=True)
    conn.create_function("py_blank", 1, lambda text: int(not (text or "").strip()), deterministic=True)
    for version in range(current + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[version].split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (str(version),),
        )
