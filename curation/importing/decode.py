"""Reading text files whatever their encoding: BOMs, non-UTF-8 encodings, mojibake, content sniffing.

Import has to accept what people actually export (Excel's UTF-16 and Windows-1252 CSVs, files that
went through a wrong decode once) without silently changing text, so every fix is reported as a
warning in the import report.
"""

from __future__ import annotations

import codecs
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import ftfy

from curation.errors import BadInputError

_CHUNK = 1 << 20
SNIFF_BYTES = 64 * 1024


def detect_encoding(path: Path) -> tuple[str, str | None]:
    """The encoding to read ``path`` with, and a warning when it is not UTF-8.

    UTF-8 (with or without a BOM) is checked first with a streaming decoder, so the usual case
    costs one pass and no guessing; anything else is detected with charset-normalizer.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
            codecs.BOM_UTF32_LE
        ):
            return "utf-16", "decoded as utf-16 (the file is not UTF-8)"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig", None
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None:
        raise BadInputError(
            "cannot tell the text encoding (not UTF-8 and no other encoding fits); "
            "convert it to UTF-8 and import it again",
            where=path.name,
        )
    return best.encoding, f"decoded as {best.encoding} (the file is not UTF-8)"


@contextmanager
def open_text(path: Path, encoding: str) -> Iterator[tuple[TextIO, BinaryIO]]:
    """The file as text (newlines untranslated, for the csv module) and its byte stream (for progress)."""
    raw = path.open("rb")
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            yield text, raw
        finally:
            text.detach()
    finally:
        raw.close()


def sniff_text(path: Path, encoding: str) -> str:
    """The start of the decoded file, BOM removed (for format checks)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    text = head.decode(encoding, errors="ignore")
    return text.lstrip("\ufeff")


def looks_like(path: Path) -> str:
    """A guess at what a file really holds: parquet, zip, gzip, binary, json, jsonl, empty or text."""
    if path.is_dir():
        return "directory"
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            text = head.decode(enc, errors="ignore")
            break
    else:
        if b"\x00" in head:
            return "binary"
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff").strip()
    if not text:
        return "empty"
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        first, _, rest = text.partition("\n")
        return "jsonl" if rest.strip().startswith("{") and first.rstrip().endswith("}") else "json"
    return "text"


def fix_mojibake(value: Any) -> tuple[Any, int]:
    """``value`` with mojibake repaired in every string inside it, and how many strings changed.

    Only ftfy's encoding fix runs (not quote uncurling or width changes), so correct text is left
    exactly as it was. ASCII strings cannot hold mojibake and are skipped, which keeps this cheap.
    """
    if isinstance(value, str):
        if value.isascii():
            return value, 0
        fixed = ftfy.fix_encoding(value)
        return fixed, int(fixed != value)
    if isinstance(value, dict):
        if all(type(v) is str and v.isascii() for v in value.values()):
            return value, 0  # the usual CSV row: nothing to fix, no copy
        changed = 0
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key], n = fix_mojibake(item)
            changed += n
        return out, changed
    if isinstance(value, list):
        changed = 0
        items = []
        for item in value:
            fixed_item, n = fix_mojibake(item)
            items.append(fixed_item)
            changed += n
        return items, changed
    return value, 0


def over_limit(value: Any, limit: int) -> int | None:
    """The UTF-8 size of ``value`` when it is over ``limit`` bytes, else None (cheaply, for most text)."""
    if isinstance(value, str) and len(value) * 4 <= limit:
        return None  # no UTF-8 character takes more than 4 bytes
    size = utf8_size(value)
    return size if size > limit else None


def utf8_size(value: Any) -> int:
    """Size in bytes of a value as stored (strings as UTF-8; containers summed)."""
    if isinstance(value, str):
        # len() is a cheap lower bound; only long strings need the exact encoded size.
        return len(value) if value.isascii() else len(value.encode("utf-8", errors="replace"))
    if isinstance(value, dict):
        return sum(utf8_size(v) for v in value.values())
    if isinstance(value, list):
        return sum(utf8_size(v) for v in value)
    if isinstance(value, bytes):
        return len(value)
    return 0


def is_missing(value: Any) -> bool:
    """True for None and NaN (what pandas, Parquet and JSON use for a missing value)."""
    if value is None:
        return True
    try:
        return isinstance(value, float) and math.isnan(value)
    except TypeError:
        return False
