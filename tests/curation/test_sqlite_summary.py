"""The local store's length columns: filled on insert and on update, and by the migration for
projects written before they existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from curation.store.base import RecordStore
from curation.store.sqlite.store import SQLiteStore
from tests.factories import make_chat_record, make_record


def test_an_updated_record_updates_its_lengths(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "p.db")
    record = make_record(input="short", output="tiny")
    store.upsert_records([record, make_chat_record()])
    store.upsert_records([record.model_copy(update={"input": "a much longer input", "output": "  "})])
    summary = store.record_summary()
    assert summary == RecordStore.record_summary(store)
    assert summary.empty_outputs == 1 and summary.input_chars.min == len("a much longer input")
    store.close()


def test_migration_fills_the_length_columns_of_an_older_project(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SQLiteStore(path)
    store.upsert_records([make_record(input="x" * n, output="y" * (2 * n)) for n in range(1, 30)])
    store.upsert_records([make_chat_record(output=" \u00a0")])
    expected = store.record_summary()
    store.close()
    # Turn the file back into a schema-2 project: no length columns, no indexes on them.
    conn = sqlite3.connect(path)
    for index in ("records_summary", "records_output_chars", "records_source"):
        conn.execute(f"DROP INDEX {index}")
    for column in ("input_chars", "output_chars", "chat", "output_blank"):
        conn.execute(f"ALTER TABLE records DROP COLUMN {column}")
    conn.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    reopened = SQLiteStore(path)
    assert reopened.record_summary() == expected
    assert expected.empty_outputs == 1 and expected.chat_records == 1 and expected.records == 30
    reopened.close()
