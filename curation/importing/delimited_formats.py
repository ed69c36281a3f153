"""CSV and TSV readers: rows keep their source lines, so a stray quote never glues rows together."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from curation.errors import BadInputError
from curation.importing.decode import detect_encoding, open_text, sniff_text
from curation.importing.reader_base import FileFormat, RawRow

# Big enough for any field a person means to import; the 1 MB limit is enforced per field later,
# with a clear reason, instead of the csv module's opaque "field larger than field limit".
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


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
