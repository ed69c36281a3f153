"""Shards for `pairsmith prefilter`: rows of Parquet or JSONL files read into records, the verdict on
each prefiltered record, the clean and dropped files written, and a subset spread over the clusters.

Rows become records exactly as `pairsmith import` makes them (the same readers, shapes and ids), so
a prefiltered record imported into a project is the record an import of the shard would give.
Nothing here imports ray.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from curation import metadata_keys
from curation.errors import BadInputError, NotFoundError
from curation.importing.decode import fix_mojibake
from curation.importing.importer import choose_reader
from curation.importing.shapes import ColumnMapping, MetadataCleaner, RowError, detect_shape
from curation.model import Record, RecordSource, content_hash_of

SHARD_FORMATS = ("parquet", "jsonl")


@dataclass
class Unreadable:
    """A shard row that could not become a record, and why."""

    file: str
    row: int
    reason: str


@dataclass
class ShardBatch:
    records: list[Record] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def read_shard(
    path: Path, mapping: ColumnMapping | None = None, batch_size: int = 2000
) -> Iterator[ShardBatch]:
    """The records of one shard, a batch at a time, with the rows that could not be read."""
    if not path.exists():
        raise NotFoundError(f"{path} does not exist; check the path")
    reader, _ = choose_reader(path, None, None)
    if reader.name not in SHARD_FORMATS:
        raise BadInputError(
            f"prefilter reads Parquet or JSONL shards, not {reader.name}; convert it or import it instead",
            where=path.name,
        )
    reader.check(path)
    mapping = mapping or ColumnMapping()
    cleaner = MetadataCleaner(infer_types=reader.untyped)
    shape: Any = None
    occurrences: dict[str, int] = {}
    # Ids are unique across the run: the dedup steps key records by id, and a record repeated in
    # another shard is a copy to drop, not the same row (the importer's ids count repeats per file).
    shard_key = str(path.resolve())
    batch = ShardBatch()
    for raw in reader.read(path):
        if raw.error or raw.values is None:
            batch.unreadable.append(Unreadable(path.name, raw.row, raw.error or "the row could not be read"))
            continue
        values, _ = fix_mojibake(raw.values)
        if shape is None:
            cls = detect_shape(values, mapping)
            shape = cls(mapping, reader.state.columns or list(values), cleaner)
        try:
            parts = shape.convert(values)
            if isinstance(parts.input, str) and not parts.input.strip():
                raise RowError("input is empty")
            content = content_hash_of(parts.input, parts.output, parts.system)
            k = occurrences.get(content, 0)
            occurrences[content] = k + 1
            metadata = parts.metadata
            if parts.rejected is not None:
                metadata = {**metadata, metadata_keys.REJECTED_OUTPUT: parts.rejected}
            batch.records.append(
                Record(
                    id=parts.id or hashlib.sha256(f"{content}:{shard_key}:{k}".encode()).hexdigest()[:24],
                    input=parts.input,
                    output=parts.output,
                    system=parts.system,
                    metadata=metadata,
                    source=RecordSource(file=path.name, row=raw.row),
                    content_hash=content,
                )
            )
        except (RowError, ValidationError) as exc:
            batch.unreadable.append(Unreadable(path.name, raw.row, str(exc).splitlines()[0]))
        if len(batch.records) >= batch_size:
            yield batch
            batch = ShardBatch()
    yield batch


# --- the verdict on each record ------------------------------------------------------------------------


QUALITY = "quality_flag"
EMPTY = "empty_input_or_output"
DUPLICATE = "duplicate"


def verdict(
    record: Record,
    quality: dict[str, Any],
    duplicate: dict[str, Any],
    exclude_flags: Sequence[str],
    drop_tiers: Sequence[str],
) -> tuple[str | None, str]:
    """(reason, detail) for a dropped record, (None, "") for a kept one. Like the export's rules: an
    excluded quality flag, an empty side, or a copy of its group's keeper by a tier in ``drop_tiers``
    (the keeper prefers complete outputs, so a group keeps its best member)."""
    flags = [f for f in quality.get(metadata_keys.FLAGS) or [] if f in exclude_flags]
    if flags:
        return QUALITY, ", ".join(flags)
    if not record.output.strip() or not record.input_text.strip():
        return EMPTY, "the input or the output is empty"
    group = duplicate.get(metadata_keys.DUP_GROUP)
    tier = duplicate.get(metadata_keys.DUP_TIER)
    if group and duplicate.get(metadata_keys.DUP_KEEPER) != "yes" and tier in drop_tiers:
        return DUPLICATE, f"{tier} copy in group {group}"
    return None, ""


# --- files ------------------------------------------------------------------------------------------

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
CLEAN_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("messages", pa.list_(MESSAGE)),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("cluster", pa.int64()),
    ]
)
DROPPED_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)


def clean_rows(records: Sequence[Record], clusters: Sequence[int]) -> pa.Table:
    """Kept records as OpenAI-style chat rows (what every fine-tuning tool and `pairsmith import` read)."""
    return pa.table(
        {
            "id": [r.id for r in records],
            "messages": [
                [
                    {"role": "assistant" if m.kind == "call" else m.role, "content": m.content}
                    for m in r.chat_messages()
                ]
                for r in records
            ],
            "source_file": [r.source.file for r in records],
            "source_row": [r.source.row for r in records],
            "cluster": [int(c) for c in clusters],
        },
        schema=CLEAN_SCHEMA,
    )


class ParquetSink:
    """Appends tables to one Parquet file, renamed into place when closed (never half-written)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.temp = path.with_name(f".{path.name}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(self.temp, schema)
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self.writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> Path:
        self.writer.close()
        self.temp.replace(self.path)
        return self.path


# --- a subset spread over the clusters --------------------------------------------------------------------


def balanced_quotas(sizes: Sequence[int], total: int) -> list[int]:
    """How many records to take from each cluster for a subset of ``total``: as even as the sizes
    allow (water-filling: small clusters give all they have, the rest share what remains)."""
    sizes = [int(s) for s in sizes]
    quotas = [0] * len(sizes)
    left = min(total, sum(sizes))
    open_ = [i for i, s in enumerate(sizes) if s > 0]
    while left > 0 and open_:
        share = max(1, left // len(open_))
        for i in sorted(open_, key=lambda i: sizes[i] - quotas[i]):
            take = min(share, sizes[i] - quotas[i], left)
            quotas[i] += take
            left -= take
            if left == 0:
                break
        open_ = [i for i in open_ if quotas[i] < sizes[i]]
    return quotas


def sample_key(record_id: str, seed: int) -> int:
    """A record's place in the subset order within its cluster (seeded, stable)."""
    return (
        int.from_bytes(hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).digest(), "little") >> 1
    )


def within_quota(table: pa.Table, quotas: dict[int, int], seed: int) -> np.ndarray:
    """Per row of one cluster's rows: whether it is among the cluster's first ``quota`` in sample order."""
    ids = table.column("id").to_pylist()
    cluster = int(table.column("cluster")[0].as_py()) if table.num_rows else 0
    order = np.argsort([sample_key(i, seed) for i in ids], kind="stable")
    keep = np.zeros(len(ids), dtype=bool)
    keep[order[: quotas.get(cluster, 0)]] = True
    return keep


def report_json(counts: dict[str, Any]) -> str:
    return json.dumps(counts, indent=2, ensure_ascii=False)
