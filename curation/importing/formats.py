"""File formats import reads: a registry of readers that turn a file into rows of named values.

A reader knows one container (CSV, TSV, JSON, JSONL, Parquet, a Hugging Face dataset on disk) and
yields :class:`RawRow` objects. What the values mean (a prompt/response table, OpenAI chat,
Alpaca, ShareGPT) is decided afterwards by :mod:`curation.importing.shapes`. A row that cannot be
read (a ragged CSV row, a broken JSONL line) is yielded with ``error`` set, so it is quarantined
instead of stopping the import.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from curation.errors import BadInputError
from curation.importing.decode import detect_encoding, looks_like, open_text, sniff_text

# Big enough for any field a person means to import; the 1 MB limit is enforced per field later,
# with a clear reason, instead of the csv module's opaque "field larger than field limit".
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_WHAT = {
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
            hint = _format_for(seen)
            raise BadInputError(
                f"{path.name} looks like {_WHAT.get(seen, seen)}, not {self.name.upper()}"
                + (f"; pass --format {hint} or rename the file" if hint else "; check the file")
            )

    @abstractmethod
    def read(self, path: Path) -> Iterator[RawRow]:
        """Yield the file's rows in order."""


def _format_for(seen: str) -> str | None:
    return {"json": "json", "jsonl": "jsonl", "parquet": "parquet", "text": "csv", "directory": "hf"}.get(
        seen
    )


class CsvFormat(FileFormat):
    name = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    accepts = ("text",)
    untyped = True
    description = "comma-separated values with a header row (';' or '|' detected from the header)"
    delimiter: str | None = None

    def read(self, path: Path) -> Iterator[RawRow]:
        encoding, warning = detect_encoding(path)
        if warning:
            self.state.warnings.append(warning)
        delimiter = self.delimiter or self._guess_delimiter(sniff_text(path, encoding))
        quoting: Literal[0, 3] = csv.QUOTE_MINIMAL
        if delimiter == "\t":
            odd_lines = _literal_quote_lines(path, encoding)
            if odd_lines is not None:
                quoting = csv.QUOTE_NONE
                self.state.warnings.append(_literal_quotes_warning(odd_lines))
        self.state.bytes_total = path.stat().st_size
        glued_rows = 0
        with open_text(path, encoding) as (text, raw):
            tap = _LineTap(text)
            reader = csv.reader(tap, delimiter=delimiter, quoting=quoting)
            header = self._header(reader, path)
            tap.take()
            self.state.columns = header
            row_number = 0
            for fields in reader:
                lines = tap.take()
                line = tap.count - len(lines) + 1
                if not fields or (len(fields) == 1 and not fields[0].strip() and len(header) > 1):
                    continue  # a blank line is not a row
                self.state.bytes_done = raw.tell()
                if quoting != csv.QUOTE_NONE and len(lines) > 1 and _glued(lines, delimiter):
                    # A stray quote swallowed several lines into one field: quarantine each line,
                    # so nothing is glued and every line is accounted for.
                    glued_rows += 1
                    for offset, source in enumerate(lines):
                        if source.strip():
                            row_number += 1
                            yield RawRow(
                                row_number,
                                line + offset,
                                None,
                                source.rstrip("\r\n"),
                                f"line {line + offset}: part of a quoted field that opens at line {line} and "
                                f"runs over {len(lines)} lines (a stray '\"'?); fix the quoting and import again",
                            )
                    continue
                row_number += 1
                if len(fields) != len(header):
                    many = "many" if len(fields) > len(header) else "few"
                    yield RawRow(
                        row_number,
                        line,
                        None,
                        fields,
                        f"line {line}: too {many} fields: {len(fields)}, the header has {len(header)}"
                        + (" (a stray '\"' in this line?)" if any('"' in f for f in fields) else ""),
                    )
                    continue
                yield RawRow(row_number, line, dict(zip(header, fields, strict=True)), None)
        if glued_rows:
            self.state.warnings.append(
                f"{glued_rows} quoted field(s) ran over several lines because of a stray '\"'; "
                "their lines are quarantined one by one"
            )
        if row_number == 0:
            raise BadInputError("the file has a header but no data rows", where=path.name)

    def _guess_delimiter(self, sample: str) -> str:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] == 0 or counts[","] == counts[best]:
            return ","
        self.state.warnings.append(f"the header is separated by {best!r}, not ','; read it that way")
        return best

    @staticmethod
    def _header(reader: Any, path: Path) -> list[str]:
        for fields in reader:
            if fields and any(f.strip() for f in fields):
                break
        else:
            raise BadInputError("file is empty", where=path.name)
        header = [f.strip() or f"column_{i + 1}" for i, f in enumerate(fields)]
        seen: dict[str, int] = {}
        for i, name in enumerate(header):
            if name in seen:
                raise BadInputError(
                    f"column '{name}' appears twice in the header (columns {seen[name] + 1} and {i + 1}); "
                    "rename one of them",
                    where=f"{path.name}:{reader.line_num}",
                )
            seen[name] = i
        return header


class _LineTap:
    """Hands lines to the csv reader and remembers them, so each row's source lines are known."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = iter(lines)
        self._taken: list[str] = []
        self.count = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        self.count += 1
        return line

    def take(self) -> list[str]:
        taken, self._taken = self._taken, []
        return taken


def _glued(lines: list[str], delimiter: str) -> bool:
    """Whether a row read over several lines is several rows glued by a stray quote.

    A real multi-line field is well-formed CSV: its closing quote is followed by a delimiter or the
    line's end. Glue shows as quoting that strict parsing refuses (a quote closing mid-text, a
    quote never closed) or, in TSV, a field holding both a tab and a line break.
    """
    chunk = "".join(lines)
    try:
        parsed = list(csv.reader(io.StringIO(chunk), delimiter=delimiter, strict=True))
    except csv.Error:
        return True
    return delimiter == "\t" and any("\t" in f and "\n" in f for row in parsed for f in row)


def _literal_quote_lines(path: Path, encoding: str) -> list[int] | None:
    """For a tab-separated file: the lines with an odd number of '"' when its quotes are literal
    text rather than CSV quoting (quoting would then glue lines), else None.

    TSV files from NLP corpora (MRPC, SNLI, ...) use no quoting at all; a line that opens a quote
    and never closes it makes a quoting reader swallow the lines after it.
    """
    with open_text(path, encoding) as (text, _raw):
        try:
            for fields in csv.reader(text, delimiter="\t", strict=True):
                if any("\n" in f and "\t" in f for f in fields):
                    break
            else:
                return None
        except csv.Error:
            pass
    with open_text(path, encoding) as (text, _raw):
        return [n for n, line in enumerate(text, start=1) if line.count('"') % 2]


def _literal_quotes_warning(odd_lines: list[int]) -> str:
    where = ", ".join(str(n) for n in odd_lines[:5]) + (
        f" and {len(odd_lines) - 5} more" if len(odd_lines) > 5 else ""
    )
    return (
        f"quotes in this tab-separated file are text, not quoting ({len(odd_lines)} line(s) have an odd "
        f"number of '\"': {where or 'none'}); read each line as one row, quotes kept"
    )


class TsvFormat(CsvFormat):
    name = "tsv"
    extensions = (".tsv", ".tab")
    description = "tab-separated values with a header row"
    delimiter = "\t"


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
    hint = _format_for(seen)
    if seen == "text" and _delimiter_of(path) == "\t":
        hint = "tsv"
    raise BadInputError(
        f"unknown file extension '{suffix or '(none)'}'; it looks like {_WHAT.get(seen, seen)}. "
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
