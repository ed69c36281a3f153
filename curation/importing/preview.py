"""What an import would make of a file's first rows, without writing anything (for the UI); an
uploaded file kept in the project; the rejected rows of an import."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from curation.errors import BadInputError
from curation.files import ProjectPaths
from curation.importing.importer import choose_reader
from curation.importing.shapes import ColumnMapping, MetadataCleaner, RowError, TableShape, detect_shape
from curation.model import ChatMessage


@dataclass
class PreviewRow:
    """One row as read, and the record it would become (or why it would be quarantined)."""

    row: int
    values: dict[str, Any] | None
    input: str | None = None
    output: str | None = None
    rejected_output: str | None = None
    reason: str | None = None


@dataclass
class ImportPreview:
    format: str
    """The reader (csv, tsv, json, ...)."""
    shape: str
    """The record shape detected or forced: table, openai, sharegpt, alpaca, a preference shape..."""
    columns: list[str]
    rows: list[PreviewRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def preview_file(
    file: Path | str,
    *,
    format: str | None = None,
    mapping: ColumnMapping | None = None,
    limit: int = 20,
) -> ImportPreview:
    """The first ``limit`` rows of ``file`` and the records ``import_file`` would make of them.

    Raises BadInputError as ``import_file`` does for a file that cannot be imported at all.
    """
    path = Path(file)
    mapping = mapping or ColumnMapping()
    reader, forced_shape = choose_reader(path, format, None)
    reader.check(path)
    raws = list(islice(reader.read(path), limit))
    first = next((r.values for r in raws if r.values is not None), None)
    columns = reader.state.columns or (list(first) if first else [])
    shape_cls = forced_shape or (detect_shape(first, mapping) if first else TableShape)
    shape = shape_cls(mapping, columns, MetadataCleaner(infer_types=reader.untyped))
    preview = ImportPreview(
        format=reader.name, shape=shape_cls.name, columns=columns, warnings=list(reader.state.warnings)
    )
    for raw in raws:
        item = PreviewRow(row=raw.row, values=raw.values)
        if raw.values is None:
            item.reason = raw.error or "the row could not be read"
        else:
            try:
                parts = shape.convert(raw.values)
            except RowError as exc:
                item.reason = str(exc)
            else:
                item.input = parts.input if isinstance(parts.input, str) else _chat_text(parts.input)
                item.output, item.rejected_output = parts.output, parts.rejected
        preview.rows.append(item)
    return preview


def _chat_text(messages: list[ChatMessage]) -> str:
    return "\n".join(f"[{m.role}{f' {m.kind}' if m.kind else ''}] {m.content}" for m in messages)


# --- uploads and rejected rows (what the import page keeps and shows) ----------------------------

UPLOADS = "uploads"


def save_upload(project_dir: Path | str, file_name: str, data: bytes) -> Path:
    """Keep an uploaded file as ``DIR/uploads/<name>`` (only its base name: no path from the browser)."""
    name = Path(file_name).name
    if not name or name in (".", ".."):
        raise BadInputError(f"an uploaded file needs a name, got {file_name!r}")
    target = ProjectPaths(Path(project_dir)).root / UPLOADS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def read_quarantine(path: Path | str, limit: int = 1000) -> list[dict[str, Any]]:
    """The first ``limit`` rejected rows of a quarantine file (``{"row", "reason", "raw", …}``)."""
    rows: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) >= limit:
                break
    return rows
