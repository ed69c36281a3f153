"""How records and responses are laid out in SQLite rows, and read back."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from typing import Any

from curation.model import (
    Record,
    Response,
    ResponseStatus,
)

RECORD_COLUMNS = "position, id, content_hash, input, system, output, metadata, source_file, source_row, golden, suggestions"


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(record: Record, input_json: str, metadata_json: str, suggestions_json: str) -> str:
    payload = "\x1f".join(
        [
            record.content_hash,
            input_json,
            record.system or "",
            record.output,
            metadata_json,
            record.source.file or "",
            str(record.source.row),
            "1" if record.golden else "0",
            suggestions_json,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record_from_row(row: sqlite3.Row) -> Record:
    return Record.model_validate(
        {
            "id": row["id"],
            "input": json.loads(row["input"]),
            "system": row["system"],
            "output": row["output"],
            "metadata": json.loads(row["metadata"]),
            "source": {"file": row["source_file"], "row": row["source_row"]},
            "golden": bool(row["golden"]),
            "suggestions": json.loads(row["suggestions"]),
            "content_hash": row["content_hash"],
        }
    )


def response_from_row(row: sqlite3.Row, version_column: str = "version") -> Response:
    return Response(
        record_id=row["record_id"],
        user=row["user"],
        values=json.loads(row["values"]),
        status=ResponseStatus(row["status"]),
        version=row[version_column],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
