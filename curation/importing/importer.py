"""Import one file into a project's store: read, map, validate, quarantine, upsert in batches.

Every row read ends up counted in exactly one place of the :class:`ImportReport`: imported, already
in the store (re-import adds nothing), or rejected with a reason in the quarantine file. Nothing is
dropped silently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from curation.errors import BadInputError, NotFoundError
from curation.files import atomic_write_text
from curation.importing import preference as _preference  # noqa: F401  (registers the preference shapes)
from curation.importing.decode import fix_mojibake, is_missing, over_limit
from curation.importing.formats import FORMATS, FileFormat, RawRow, ReadOptions, format_for_path
from curation.importing.shapes import (
    CHAT_FORMATS,
    ColumnMapping,
    MetadataCleaner,
    Parts,
    RowError,
    Shape,
    TableShape,
    detect_shape,
)
from curation.metadata_keys import REJECTED_OUTPUT
from curation.model import Record, RecordSource, content_hash_of
from curation.store.base import RecordQuery, RecordStore

MAX_FIELD_BYTES = 1_000_000
"""A field larger than this (1 MB as UTF-8) is rejected: no fine-tuning pair needs one, and such
fields are nearly always a file or a log pasted into a cell by mistake."""

_QUARANTINE_TEXT_LIMIT = 10_000

ProgressCallback = Callable[[int, float | None], None]
"""Called with (rows read so far, fraction of the file done or None when unknown)."""


class ImportReport(BaseModel):
    """What an import did. ``rows_read == imported + skipped_existing + rejected``."""

    file: str
    format: str
    rows_read: int = 0
    imported: int = 0
    skipped_existing: int = 0
    rejected: int = 0
    quarantine_file: str | None = None
    warnings: list[str] = Field(default_factory=list)


def all_format_names() -> list[str]:
    """Every name --format accepts: file formats, then chat formats."""
    return [*FORMATS, *CHAT_FORMATS]


def import_file(
    store: RecordStore,
    file: Path | str,
    *,
    quarantine_dir: Path | str,
    mapping: ColumnMapping | None = None,
    format: str | None = None,
    split: str | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = 1000,
    user: str | None = None,
) -> ImportReport:
    """Import the records of ``file`` into ``store``; rejected rows go to a quarantine JSONL file.

    Only owners import: ``user`` is the signed-in person (None: the command line on a local
    project); an annotator gets PermissionDeniedError before the file is read.

    ``format`` overrides the extension (any name of :func:`all_format_names`); ``mapping`` names
    columns (otherwise detected). Raises BadInputError for a file that cannot be imported at all
    (empty, not the format it claims, no input/output column); a bad row only rejects that row.
    """
    store.require_owner("import files", user)
    path = Path(file)
    if not path.exists():
        raise NotFoundError(f"{path} does not exist; check the path")
    reader, forced_shape = choose_reader(path, format, split)
    reader.check(path)
    run = _ImportRun(store, path, reader, mapping or ColumnMapping(), forced_shape, progress, batch_size)
    return run.execute(Path(quarantine_dir))


def choose_reader(path: Path, format: str | None, split: str | None) -> tuple[FileFormat, type[Shape] | None]:
    """The reader for ``path`` (by ``format``, its extension or its content) and the forced shape."""
    options = ReadOptions(split=split)
    if format is None:
        reader = format_for_path(path)(options)
        if not path.is_dir() and path.suffix.lower() not in reader.extensions:
            reader.state.warnings.append(
                f"{path.name}: read as {reader.name.upper()} from its content (the extension does not say)"
            )
        return reader, None
    name = format.lower()
    if name in FORMATS:
        return FORMATS[name](options), None
    if name in CHAT_FORMATS:
        return format_for_path(path)(options), CHAT_FORMATS[name]
    raise BadInputError(f"unknown format '{format}'; choose one of: {', '.join(all_format_names())}")


class _ImportRun:
    """The state of one import (kept in an object so the loop stays readable)."""

    def __init__(
        self,
        store: RecordStore,
        path: Path,
        reader: FileFormat,
        mapping: ColumnMapping,
        forced_shape: type[Shape] | None,
        progress: ProgressCallback | None,
        batch_size: int,
    ) -> None:
        self.store, self.path, self.reader, self.mapping = store, path, reader, mapping
        self.forced_shape, self.progress, self.batch_size = forced_shape, progress, batch_size
        self.shape: Shape | None = None
        self.cleaner = MetadataCleaner(infer_types=reader.untyped)
        self.report = ImportReport(file=path.name, format=reader.name)
        self.pending: list[tuple[Record, RawRow]] = []
        self.rejects: list[dict[str, Any]] = []
        self.first_row_of_id: dict[str, int] = {}
        self.hash_occurrences: dict[str, int] = {}
        self.mojibake_fields = 0
        self.mojibake_first: int | None = None
        self.changed_existing = 0

    def execute(self, quarantine_dir: Path) -> ImportReport:
        for raw in self.reader.read(self.path):
            self.report.rows_read += 1
            self._take(raw)
            if len(self.pending) >= self.batch_size:
                self._flush()
        self._flush()
        if self.report.rows_read == 0:
            raise BadInputError("file is empty (no records in it)", where=self.path.name)
        self._finish_warnings()
        if self.rejects:
            self.report.quarantine_file = str(self._write_quarantine(quarantine_dir))
        if self.progress:
            self.progress(self.report.rows_read, 1.0)
        return self.report

    # --- one row ------------------------------------------------------------------------------
    def _take(self, raw: RawRow) -> None:
        if raw.error or raw.values is None:
            self._reject(raw, raw.error or "the row could not be read")
            return
        oversized = [(k, n) for k, v in raw.values.items() if (n := over_limit(v, MAX_FIELD_BYTES))]
        if oversized:
            name, size = oversized[0]
            self._reject(raw, f"field '{name}' is {size / 1e6:.1f} MB, over the 1 MB limit")
            return
        values, fixed = fix_mojibake(raw.values)
        if fixed:
            self.mojibake_fields += fixed
            self.mojibake_first = self.mojibake_first or raw.row
        if self.shape is None:
            self.shape = self._make_shape(values)
        try:
            parts = self.shape.convert(values)
            record = self._record(parts, raw)
        except RowError as exc:
            self._reject(raw, str(exc))
            return
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            self._reject(raw, f"invalid record: {problems}")
            return
        self.pending.append((record, raw))

    def _make_shape(self, first_values: dict[str, Any]) -> Shape:
        columns = self.reader.state.columns or list(first_values)
        cls = self.forced_shape or detect_shape(first_values, self.mapping)
        shape = cls(self.mapping, columns, self.cleaner)
        if cls is not TableShape:
            self.report.format = cls.name
        return shape

    def _record(self, parts: Parts, raw: RawRow) -> Record:
        input_text = parts.input if isinstance(parts.input, str) else ""
        if isinstance(parts.input, str) and not input_text.strip():
            raise RowError("input is empty")
        content_hash = content_hash_of(parts.input, parts.output, parts.system)
        if parts.id is not None:
            first = self.first_row_of_id.get(parts.id)
            if first is not None:
                raise RowError(f"duplicate id '{parts.id}' (first at row {first})")
            self.first_row_of_id[parts.id] = raw.row
            record_id = parts.id
        else:
            # The k-th copy of the same content gets the same id on every import of the file, so
            # re-import is a no-op while planted duplicates inside one file stay separate records.
            k = self.hash_occurrences.get(content_hash, 0)
            self.hash_occurrences[content_hash] = k + 1
            record_id = hashlib.sha256(f"{content_hash}:{k}".encode()).hexdigest()[:24]
        metadata = parts.metadata
        if parts.rejected is not None:
            metadata = {**metadata, REJECTED_OUTPUT: parts.rejected}
        return Record(
            id=record_id,
            input=parts.input,
            output=parts.output,
            system=parts.system,
            metadata=metadata,
            source=RecordSource(file=self.path.name, row=raw.row),
            content_hash=content_hash,
        )

    def _reject(self, raw: RawRow, reason: str) -> None:
        self.report.rejected += 1
        self.rejects.append(
            {
                "file": self.path.name,
                "row": raw.row,
                "line": raw.line,
                "reason": reason,
                "raw": _quarantine_value(raw.raw if raw.values is None else raw.values),
            }
        )

    # --- batches ------------------------------------------------------------------------------
    def _flush(self) -> None:
        if not self.pending:
            return
        batch = [record for record, _ in self.pending]
        self.pending = []
        found = self.store.query_records(RecordQuery(ids=[r.id for r in batch])).records
        existing = {r.id: r.content_hash for r in found}
        new = [r for r in batch if r.id not in existing]
        self.changed_existing += sum(
            1 for r in batch if r.id in existing and existing[r.id] != r.content_hash
        )
        if new:
            self.store.upsert_records(new, batch_size=self.batch_size)
        self.report.imported += len(new)
        self.report.skipped_existing += len(batch) - len(new)
        if self.progress:
            self.progress(self.report.rows_read, self.reader.state.fraction(self.report.rows_read))

    # --- the end ------------------------------------------------------------------------------
    def _finish_warnings(self) -> None:
        warnings = self.report.warnings
        warnings.extend(self.reader.state.warnings)
        if self.mojibake_fields:
            warnings.append(
                f"fixed mojibake (text decoded with the wrong encoding) in {self.mojibake_fields} "
                f"field(s), first in row {self.mojibake_first}"
            )
        for old, new in self.cleaner.renamed.items():
            warnings.append(f"column '{old}' is a name analysis writes; kept it as metadata '{new}'")
        if self.changed_existing:
            warnings.append(
                f"{self.changed_existing} record id(s) already in the project with different content; "
                "kept the stored version"
            )

    def _write_quarantine(self, quarantine_dir: Path) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = quarantine_dir / f"{self.path.stem}-{stamp}.jsonl"
        n = 2
        while target.exists():
            target = quarantine_dir / f"{self.path.stem}-{stamp}-{n}.jsonl"
            n += 1
        lines = (json.dumps(r, ensure_ascii=False, default=str) for r in self.rejects)
        return atomic_write_text(target, "\n".join(lines) + "\n")


def _quarantine_value(value: Any) -> Any:
    """The raw row made writable as JSON: NaN as null, very long text cut with a note saying so."""
    if isinstance(value, str):
        if len(value) > _QUARANTINE_TEXT_LIMIT:
            return f"{value[:1000]}… [{len(value)} characters; cut here, the full text is in the source file]"
        return value
    if is_missing(value):
        return None
    if isinstance(value, dict):
        return {str(k): _quarantine_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_quarantine_value(v) for v in value]
    return value
