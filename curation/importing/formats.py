"""File formats import reads: a registry of readers that turn a file into rows of named values.

A reader knows one container (CSV, TSV, JSON, JSONL, Parquet, a Hugging Face dataset on disk) and
yields :class:`RawRow` objects. What the values mean (a prompt/response table, OpenAI chat,
Alpaca, ShareGPT) is decided afterwards by :mod:`curation.importing.shapes`. A row that cannot be
read (a ragged CSV row, a broken JSONL line) is yielded with ``error`` set, so it is quarantined
instead of stopping the import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from curation.errors import BadInputError
from curation.importing.decode import detect_encoding, looks_like, open_text, sniff_text
from curation.importing.delimited_formats import CsvFormat, TsvFormat
from curation.importing.reader_base import (
    WHAT_FILE_LOOKS_LIKE,
    FileFormat,
    RawRow,
    ReadOptions,
    ReadState,
    format_hint_for,
)

__all__ = [
    "FORMATS",
    "CsvFormat",
    "FileFormat",
    "RawRow",
    "ReadOptions",
    "ReadState",
    "TsvFormat",
    "format_for_path",
    "register_format",
    "sniff_format",
]


class JsonlFormat(FileFormat):
    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    accepts = ("jsonl", "json")
    description = "one JSON object per line"

    def check(self, path: Path) -> None:
        super().check(path)
        if looks_like(path) == "json" and sniff_text(path, "utf-8").lstrip().startswith("["):
            raise BadInputError(
                f"{path.name} looks like JSON (one array), not JSONL; pass --format json or rename the file"
            )

    def read(self, path: Path) -> Iterator[RawRow]:
        encoding, warning = detect_encoding(path)
        if warning:
            self.state.warnings.append(warning)
        self.state.bytes_total = path.stat().st_size
        row_number = 0
        with open_text(path, encoding) as (text, raw):
            for line_number, stripped, is_last in _nonblank_lines(text):
                row_number += 1
                self.state.bytes_done = raw.tell()
                try:
                    value = json.loads(stripped)
                except json.JSONDecodeError as exc:
                    hint = " (the last line looks cut off)" if is_last else ""
                    reason = f"line {line_number}: not valid JSON{hint}: {exc.msg} (column {exc.colno})"
                    yield RawRow(row_number, line_number, None, stripped, reason)
                    continue
                if not isinstance(value, dict):
                    yield RawRow(
                        row_number,
                        line_number,
                        None,
                        value,
                        f"line {line_number}: expected a JSON object, got {type(value).__name__}",
                    )
                    continue
                if self.state.columns is None:
                    self.state.columns = list(value)
                yield RawRow(row_number, line_number, value, None)


def _nonblank_lines(text: Any) -> Iterator[tuple[int, str, bool]]:
    """(line number, stripped text, whether it is the last non-blank line) for each non-blank line."""
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text, start=1):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        if pending:
            yield pending[0], pending[1], False
        pending = (number, stripped)
    if pending:
        yield pending[0], pending[1], True


class JsonFormat(FileFormat):
    name = "json"
    extensions = (".json",)
    accepts = ("json",)
    description = "an array of objects, or an object holding one list of objects"
    list_keys: ClassVar[tuple[str, ...]] = ("data", "records", "rows", "examples", "items", "train")

    def check(self, path: Path) -> None:
        if looks_like(path) == "jsonl":
            raise BadInputError(
                f"{path.name} looks like JSON Lines (one object per line), not JSON; "
                "pass --format jsonl or rename the file"
            )
        super().check(path)

    def read(self, path: Path) -> Iterator[RawRow]:
        encoding, warning = detect_encoding(path)
        if warning:
            self.state.warnings.append(warning)
        with open_text(path, encoding) as (text, _raw):
            content = text.read().lstrip("\ufeff")
        try:
            document = json.loads(content)
        except json.JSONDecodeError as exc:
            raise BadInputError(
                f"not valid JSON: {exc.msg} (column {exc.colno}); fix the file or export it as JSONL, "
                "where one broken record does not stop the import",
                where=f"{path.name}:{exc.lineno}",
            ) from None
        items = self._items(document, path)
        self.state.total_rows = len(items)
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                yield RawRow(
                    number, None, None, item, f"record {number} is {type(item).__name__}, not an object"
                )
                continue
            if self.state.columns is None:
                self.state.columns = list(item)
            yield RawRow(number, None, item, None)

    def _items(self, document: Any, path: Path) -> list[Any]:
        if isinstance(document, list):
            items = document
        elif isinstance(document, dict):
            lists = {k: v for k, v in document.items() if isinstance(v, list)}
            named = [k for k in self.list_keys if k in lists]
            if "messages" in lists or "conversations" in lists:
                items = [document]  # a single chat conversation, not a list of records
            elif len(lists) == 1:
                items = next(iter(lists.values()))
            elif named:
                items = lists[named[0]]
            else:
                found = ", ".join(lists) or "none"
                raise BadInputError(
                    f"expected an array of records or an object holding one list of records; lists found: {found}",
                    where=path.name,
                )
        else:
            raise BadInputError(
                f"expected an array of records, found a JSON {type(document).__name__}", where=path.name
            )
        if not items:
            raise BadInputError("the file holds no records", where=path.name)
        return items


class ParquetFormat(FileFormat):
    name = "parquet"
    extensions = (".parquet", ".pq")
    accepts = ("parquet",)
    description = "an Apache Parquet file"

    def read(self, path: Path) -> Iterator[RawRow]:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise BadInputError(f"cannot read the Parquet file: {exc}", where=path.name) from None
        self.state.columns = list(parquet.schema_arrow.names)
        self.state.total_rows = parquet.metadata.num_rows
        if not self.state.total_rows:
            raise BadInputError("the file has columns but no rows", where=path.name)
        number = 0
        for batch in parquet.iter_batches(batch_size=1000):
            for item in batch.to_pylist():
                number += 1
                yield RawRow(number, None, item, None)


class HfDatasetFormat(FileFormat):
    name = "hf"
    extensions = ()
    accepts = ("directory",)
    description = "a Hugging Face dataset saved with save_to_disk (a directory); --split picks a split"

    def read(self, path: Path) -> Iterator[RawRow]:
        from datasets import DatasetDict, load_from_disk

        try:
            loaded = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise BadInputError(
                f"not a Hugging Face dataset saved with save_to_disk: {exc}", where=path.name
            ) from None
        if isinstance(loaded, DatasetDict):
            split = self.options.split or "train"
            if split not in loaded:
                raise BadInputError(
                    f"the dataset has no split '{split}'; splits found: {', '.join(loaded)}; pass --split",
                    where=path.name,
                )
            dataset = loaded[split]
        else:
            dataset = loaded
        self.state.columns = list(dataset.column_names)
        self.state.total_rows = len(dataset)
        if not len(dataset):
            raise BadInputError("the dataset has no rows", where=path.name)
        number = 0
        for batch in dataset.iter(batch_size=1000):
            keys = list(batch)
            for values in zip(*(batch[k] for k in keys), strict=True):
                number += 1
                yield RawRow(number, None, dict(zip(keys, values, strict=True)), None)


FORMATS: dict[str, type[FileFormat]] = {}


def register_format(cls: type[FileFormat]) -> type[FileFormat]:
    """Make a reader available by ``cls.name`` (for --format) and by its extensions."""
    FORMATS[cls.name] = cls
    return cls


for _cls in (CsvFormat, TsvFormat, JsonFormat, JsonlFormat, ParquetFormat, HfDatasetFormat):
    register_format(_cls)


SNIFFED_EXTENSIONS = (".txt", ".dat", "")
"""Extensions that say nothing about the content: such files are read by what they hold."""


def format_for_path(path: Path) -> type[FileFormat]:
    """The reader a file's extension (or being a directory) calls for; for ``.txt``, ``.dat`` and
    no extension, the one its content calls for (tab-separated lines are TSV, JSON Lines JSONL...)."""
    if path.is_dir():
        return FORMATS["hf"]
    suffix = path.suffix.lower()
    for cls in FORMATS.values():
        if suffix in cls.extensions:
            return cls
    seen = looks_like(path)
    if seen == "gzip":
        raise BadInputError(
            f"{path.name} is gzip-compressed; decompress it first (gunzip -k '{path.name}') and import "
            f"'{path.with_suffix('').name}'",
            where=path.name,
        )
    if suffix in SNIFFED_EXTENSIONS:
        sniffed = sniff_format(path, seen)
        if sniffed is not None:
            return sniffed
    hint = format_hint_for(seen)
    if seen == "text" and _delimiter_of(path) == "\t":
        hint = "tsv"
    raise BadInputError(
        f"unknown file extension '{suffix or '(none)'}'; it looks like {WHAT_FILE_LOOKS_LIKE.get(seen, seen)}. "
        f"Pass --format ({', '.join(FORMATS)})" + (f", probably --format {hint}" if hint else ""),
        where=path.name,
    )


def sniff_format(path: Path, seen: str | None = None) -> type[FileFormat] | None:
    """The reader for a file from its content alone, or None when the content does not say."""
    seen = seen or looks_like(path)
    if seen in ("json", "jsonl", "parquet"):
        return FORMATS[seen]
    if seen == "text":
        delimiter = _delimiter_of(path)
        if delimiter == "\t":
            return FORMATS["tsv"]
        if delimiter is not None:
            return FORMATS["csv"]
    return None


def _delimiter_of(path: Path) -> str | None:
    """The delimiter that splits the first lines of a text file into the same number of fields."""
    encoding, _ = detect_encoding(path)
    lines = [line for line in sniff_text(path, encoding).split("\n")[:20] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the sniffed text may end mid-line
    for delimiter in ("\t", ",", ";", "|"):
        counts = {line.count(delimiter) for line in lines}
        if lines and min(counts) > 0 and (len(counts) == 1 or delimiter == "\t"):
            return delimiter
    return None
