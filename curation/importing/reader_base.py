"""What every import reader shares: the row it yields, its options and state, and the base class.

Readers live in :mod:`curation.importing.formats` (JSON, JSONL, Parquet, Hugging Face datasets and
the registry) and :mod:`curation.importing.delimited_formats` (CSV, TSV).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from curation.errors import BadInputError
from curation.importing.decode import looks_like

WHAT_FILE_LOOKS_LIKE = {
    "json": "JSON",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
    "zip": "a zip archive",
    "gzip": "gzip-compressed",
    "binary": "binary data",
    "text": "CSV or other text",
    "directory": "a directory",
}


@dataclass
class RawRow:
    """One row as read from the file, before it becomes a record."""

    row: int
    """1-based data row (header excluded); for JSON and JSONL the 1-based record number."""
    line: int | None
    """1-based line of the file where the row starts, for formats that have lines."""
    values: dict[str, Any] | None
    """Column → value; None when the row could not be read (see ``error``)."""
    raw: Any
    """What the quarantine file keeps: the values, the list of fields, or the line's text."""
    error: str | None = None


@dataclass
class ReadOptions:
    split: str | None = None
    """Which split of a Hugging Face DatasetDict to read (default: train)."""


@dataclass
class ReadState:
    """What a reader learns while reading: columns, warnings, progress."""

    columns: list[str] | None = None
    warnings: list[str] = field(default_factory=list)
    total_rows: int | None = None
    bytes_done: int = 0
    bytes_total: int | None = None

    def fraction(self, rows_read: int) -> float | None:
        if self.total_rows:
            return min(1.0, rows_read / self.total_rows)
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        return None


class FileFormat(ABC):
    """A reader for one kind of file. Subclasses set ``name``, ``extensions`` and ``accepts``."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    accepts: ClassVar[tuple[str, ...]] = ()
    """What :func:`looks_like` may say about a file this format can read."""
    description: ClassVar[str] = ""
    untyped: ClassVar[bool] = False
    """True for formats where every value is text (CSV, TSV)."""

    def __init__(self, options: ReadOptions | None = None) -> None:
        self.options = options or ReadOptions()
        self.state = ReadState()

    def check(self, path: Path) -> None:
        """Refuse, with a clear message, a file whose content is not this format."""
        seen = looks_like(path)
        if seen == "empty":
            raise BadInputError("file is empty", where=path.name)
        if seen not in self.accepts:
            hint = format_hint_for(seen)
            raise BadInputError(
                f"{path.name} looks like {WHAT_FILE_LOOKS_LIKE.get(seen, seen)}, not {self.name.upper()}"
                + (f"; pass --format {hint} or rename the file" if hint else "; check the file")
            )

    @abstractmethod
    def read(self, path: Path) -> Iterator[RawRow]:
        """Yield the file's rows in order."""


def format_hint_for(seen: str) -> str | None:
    return {"json": "json", "jsonl": "jsonl", "parquet": "parquet", "text": "csv", "directory": "hf"}.get(
        seen
    )
