"""The analysis's per-batch step as columns: what a distributed engine moves between workers.

:func:`records_table` turns a batch of the store's records (with their responses) into an Arrow
table; :func:`prepare_batch` is the per-partition step of the analysis on such a table. It calls the
same functions as the local run (:mod:`curation.analysis.pipeline`): ``embed_records`` for the
vectors, ``compute_quality`` for the signals, ``record_sides`` and ``signatures`` for the near tier,
``normalized_hash`` for the exact tier, and returns their results as columns (variable-length
shingle sets as Arrow lists, zero-copy from the CSR arrays), so that a later step can rebuild the
very objects the local run has (:func:`sides_of`, :func:`records_of`) for any subset of rows.

Nothing here imports ray: the columns are plain Arrow, and the functions are tested on their own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from curation import metadata_keys
from curation.analysis.dedup.exact import normalized_hash
from curation.analysis.dedup.near import NearSettings, signatures
from curation.analysis.dedup.shingles import Shingles
from curation.analysis.dedup.sides import RecordSides, record_sides
from curation.analysis.dedup.text import normalize_text
from curation.analysis.embeddings.cache import EmbeddingCache, embed_records
from curation.analysis.embeddings.models import Embedder, normalise
from curation.analysis.quality.signals import compute_quality
from curation.errors import BadInputError
from curation.model import Project, Record, Response

CONFLICT_PERMUTATIONS = 256
"""MinHash permutations of the conflicts' input signature (as curation.analysis.dedup.conflicts uses)."""


def records_table(records: Sequence[Record], first_row: int, responses: Sequence[Response] = ()) -> pa.Table:
    """One batch of the store as columns: row (import order across the whole run), id, the record
    and its responses as JSON (rebuilt exactly by :func:`records_of` and :func:`responses_of`)."""
    by_record: dict[str, list[str]] = {}
    for response in responses:
        by_record.setdefault(response.record_id, []).append(response.model_dump_json())
    return pa.table(
        {
            "row": pa.array(np.arange(first_row, first_row + len(records), dtype=np.int64)),
            "id": pa.array([r.id for r in records], pa.string()),
            "record": pa.array([r.model_dump_json() for r in records], pa.large_string()),
            "responses": pa.array(
                [f"[{','.join(by_record.get(r.id, []))}]" for r in records], pa.large_string()
            ),
        }
    )


def records_of(table: pa.Table) -> list[Record]:
    return [Record.model_validate_json(text) for text in table.column("record").to_pylist()]


def responses_of(table: pa.Table) -> list[Response]:
    return [
        Response.model_validate(item)
        for text in table.column("responses").to_pylist()
        for item in json.loads(text)
    ]


def _list_column(shingles: Shingles) -> pa.Array:
    return pa.LargeListArray.from_arrays(pa.array(shingles.offsets), pa.array(shingles.values))


def _shingles(column: pa.ChunkedArray | pa.Array) -> Shingles:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    array = array.cast(pa.large_list(pa.uint32()))
    offsets = np.asarray(array.offsets, dtype=np.int64)
    values = np.asarray(array.values, dtype=np.uint32)
    return Shingles(offsets - offsets[0], values[offsets[0] : offsets[-1]])


def matrix_column(matrix: np.ndarray) -> pa.Array:
    """An (n, d) float32 or uint32 matrix as a fixed-size list column (zero-copy)."""
    matrix = np.ascontiguousarray(matrix)
    width = matrix.shape[1] if matrix.ndim == 2 else 0
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), width)


def matrix_of(column: pa.ChunkedArray | pa.Array, dtype: Any = np.float32) -> np.ndarray:
    """The (n, d) matrix of a fixed-size list column."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    width = array.type.list_size
    flat = np.asarray(array.flatten(), dtype=dtype)
    return flat.reshape(len(array), width) if width else np.zeros((len(array), 0), dtype=dtype)


def sides_of(table: pa.Table) -> RecordSides:
    """The :class:`RecordSides` of a table's rows, in the table's order (what record_sides returned)."""
    return RecordSides(
        _shingles(table.column("in_sh")),
        _shingles(table.column("out_sh")),
        [frozenset(n) for n in table.column("numbers").to_pylist()],
        np.asarray(table.column("system_key"), dtype=np.int64),
        np.asarray(table.column("output_key"), dtype=np.int64),
        np.asarray(table.column("output_words"), dtype=np.int64),
    )


def _key64(texts: Sequence[str]) -> np.ndarray:
    import hashlib

    return np.array(
        [
            int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") >> 1
            for t in texts
        ],
        dtype=np.int64,
    )


def require_full_quality(settings: Any) -> None:
    """The Ray engine embeds every input and output with the sentence model (``--quality full``);
    fast mode's second pass over candidate pairs' outputs is not distributed yet."""
    if settings.quality != "full":
        raise BadInputError(
            f"--quality {settings.quality} runs on the local engine only; the Ray engine runs --quality full"
        )


def prepare_batch(
    table: pa.Table,
    embedder: Embedder,
    project: Project | None,
    tokenizer: Any,
    near: NearSettings,
    cache: EmbeddingCache | None = None,
) -> pa.Table:
    """The per-partition step: vectors, quality signals, each side's shingles and numbers, the near
    tier's input signature, the conflicts' input signature, and the exact and input keys.

    The same functions the local run calls, on one batch; the result adds columns to ``table``.
    """
    records = records_of(table)
    vectors, counts = embed_records(records, embedder, cache)
    quality = compute_quality(records, project, tokenizer=tokenizer)
    sides = record_sides(records, word_ngram=near.word_ngram, char_ngram=near.char_ngram)
    conflict_near = NearSettings(num_perm=CONFLICT_PERMUTATIONS)
    embedded = np.zeros(len(records), dtype=np.int64)
    cached = np.zeros(len(records), dtype=np.int64)
    if len(records):
        embedded[0], cached[0] = counts.embedded, counts.cached
    columns = {
        "vin": matrix_column(vectors[metadata_keys.VECTOR_INPUT]),
        "vout": matrix_column(vectors[metadata_keys.VECTOR_OUTPUT]),
        "in_sh": _list_column(sides.input_shingles),
        "out_sh": _list_column(sides.output_shingles),
        "numbers": pa.array([sorted(n) for n in sides.numbers], pa.list_(pa.string())),
        "system_key": pa.array(sides.systems),
        "output_key": pa.array(sides.output_keys),
        "output_words": pa.array(sides.output_words),
        "sig": matrix_column(signatures(sides.input_shingles, near)),
        "csig": matrix_column(signatures(sides.input_shingles, conflict_near)),
        "exact_key": pa.array([normalized_hash(r.input_text, r.output, r.system_prompt) for r in records]),
        "input_key": pa.array(_key64([normalize_text(r.input_text) for r in records])),
        "quality": pa.array([json.dumps(quality.metadata[r.id]) for r in records], pa.large_string()),
        "suggested": pa.array(
            [
                json.dumps([s.model_dump(mode="json") for s in quality.suggestions.get(r.id, [])])
                for r in records
            ],
            pa.large_string(),
        ),
        "embedded": pa.array(embedded),
        "cached": pa.array(cached),
    }
    for name, column in columns.items():
        table = table.append_column(name, column)
    return table


def pair_vectors(table: pa.Table) -> np.ndarray:
    """The pair vectors (normalised input + output) of a prepared table's rows, as the local run has."""
    return normalise(matrix_of(table.column("vin")) + matrix_of(table.column("vout")))
