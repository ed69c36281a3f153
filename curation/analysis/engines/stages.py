"""The distributed analysis's stages as pure functions over Arrow tables (no engine imported here).

Each function takes one batch or one group of rows (a Ray Data ``map_batches`` or ``map_groups``
unit) and returns a table; each calls the function the local run calls for the same step, so both
engines decide alike:

- exact: :func:`exact_group` → ``pairs_from_hash_groups``;
- near: :func:`collapse_group` and :func:`band_group` reproduce ``candidate_pairs`` (identical
  signatures collapsed to one representative, then LSH buckets per band) as a shuffle on band keys,
  :func:`verify_near` applies ``near_verdicts``;
- semantic: :func:`cell_links` searches neighbours within k-means cells (SemDeDup's order: cluster
  first, then compare within clusters), :func:`answer_group` adds ``same_answer_candidates``,
  :func:`verify_semantic` applies ``semantic_verdicts``;
- groups and conflicts, per connected component of the links: :mod:`.group_stages`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation.analysis.dedup.exact import pairs_from_hash_groups
from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.near import NearSettings, _bucket_pairs, _row_hash, near_verdicts
from curation.analysis.dedup.semantic import SemanticSettings, links_in_cell, semantic_verdicts
from curation.analysis.dedup.shingles import pair_jaccard
from curation.analysis.dedup.sides import RecordSides, numbers_agree
from curation.analysis.engines.columns import matrix_of, sides_of

PAIR_SCHEMA = pa.schema(
    [
        ("a", pa.string()),
        ("b", pa.string()),
        ("a_row", pa.int64()),
        ("b_row", pa.int64()),
        ("tier", pa.string()),
        ("score", pa.float64()),
        ("output_score", pa.float64()),
    ]
)
LINK_SCHEMA = pa.schema([("a_row", pa.int64()), ("b_row", pa.int64()), ("answer", pa.bool_())])


def links_table(left: np.ndarray, right: np.ndarray, answer: bool = False) -> pa.Table:
    """Candidate links (a_row < b_row) as a table."""
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    keep = lo != hi
    return pa.table(
        {"a_row": lo[keep], "b_row": hi[keep], "answer": np.full(int(keep.sum()), answer)}, schema=LINK_SCHEMA
    )


def pairs_table(pairs: list[DuplicatePair], row_of: dict[str, int]) -> pa.Table:
    return pa.table(
        {
            "a": [p.a for p in pairs],
            "b": [p.b for p in pairs],
            "a_row": [row_of[p.a] for p in pairs],
            "b_row": [row_of[p.b] for p in pairs],
            "tier": [p.tier for p in pairs],
            "score": [p.score for p in pairs],
            "output_score": [np.nan if p.output_score is None else p.output_score for p in pairs],
        },
        schema=PAIR_SCHEMA,
    )


def pairs_of(table: pa.Table) -> list[DuplicatePair]:
    out = []
    for a, b, tier, score, output in zip(
        *(table.column(c).to_pylist() for c in ("a", "b", "tier", "score", "output_score")), strict=True
    ):
        out.append(
            DuplicatePair(a=a, b=b, tier=tier, score=score, output_score=None if output != output else output)
        )
    return out


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by("row")


def with_bucket(batch: pa.Table, key: str, buckets: int) -> pa.Table:
    """The batch with a ``bucket`` column: a deterministic hash of ``key`` modulo ``buckets``.

    Group-bys run on buckets, not keys: one call of a stage handles every key of its bucket
    (vectorised), instead of one call per key (mostly singletons), which costs more than the work.
    """
    column = batch.column(key)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = np.array([int(v[:15], 16) if v else 0 for v in column.to_pylist()], dtype=np.int64)
    else:
        values = np.asarray(column, dtype=np.int64)
    return batch.append_column("bucket", pa.array(np.mod(values, buckets).astype(np.int64)))


def runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, size) of each run of equal values in a sorted array."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    edges = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True])))
    return edges[:-1], np.diff(edges)


def _by_key(table: pa.Table, key: str) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The table sorted by (key, row), with the start and size of each key's run."""
    table = table.sort_by([(key, "ascending"), ("row", "ascending")])
    column = table.column(key)
    keys = (
        np.asarray(column.to_pylist(), dtype=object)
        if pa.types.is_string(column.type)
        else np.asarray(column)
    )
    starts, sizes = runs(keys)
    return table, starts, sizes


def _first_to_others(
    rows: np.ndarray, starts: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Links from each run's first row to the run's other rows."""
    multi = sizes > 1
    heads = np.repeat(rows[starts[multi]], sizes[multi] - 1)
    others = (
        np.concatenate(
            [rows[a + 1 : a + z] for a, z in zip(starts[multi].tolist(), sizes[multi].tolist(), strict=True)]
        )
        if multi.any()
        else np.zeros(0, np.int64)
    )
    return heads, others


# --- exact -----------------------------------------------------------------------------------------


def exact_group(table: pa.Table) -> pa.Table:
    """Rows of one or more exact keys → each key's star of exact pairs (first in import order at the
    centre), as ``pairs_from_hash_groups``."""
    table, starts, sizes = _by_key(table, "exact_key")
    ids = table.column("id").to_pylist()
    rows = table.column("row").to_pylist()
    groups = {str(a): ids[a : a + z] for a, z in zip(starts.tolist(), sizes.tolist(), strict=True) if z > 1}
    return pairs_table(pairs_from_hash_groups(groups), dict(zip(ids, rows, strict=True)))


# --- near (and the conflicts' near inputs) -------------------------------------------------------


def whole_keys(batch: pa.Table, sig_column: str, collapse: bool) -> pa.Table:
    """Per row with a non-empty input: the hash of its whole signature (mixed with its output key
    when ``collapse`` says identical signatures collapse only with equal outputs), as candidate_pairs."""
    sizes = np.diff(np.asarray(batch.column("in_sh").combine_chunks().offsets))
    valid = sizes > 0
    sigs = matrix_of(batch.column(sig_column), np.uint32)[valid]
    whole = _row_hash(sigs)
    if collapse:
        key = np.asarray(batch.column("output_key"), dtype=np.int64)[valid]
        with np.errstate(over="ignore"):
            whole = whole * np.uint64(0x9E3779B97F4A7C15) ^ key.astype(np.uint64)
    return pa.table(
        {
            "row": np.asarray(batch.column("row"))[valid],
            "whole": whole.view(np.int64),
            "sig": batch.column(sig_column).filter(pa.array(valid)),
        }
    )


def collapse_group(table: pa.Table, bands: int, rows_per_band: int) -> pa.Table:
    """Rows of one or more whole-signature keys: links from each key's first row to its others, and
    each first row's band keys (kind 1) for the LSH shuffle. Columns kind, a_row, b_row, band, key."""
    table, starts, sizes = _by_key(table, "whole")
    rows = np.asarray(table.column("row"), dtype=np.int64)
    heads, others = _first_to_others(rows, starts, sizes)
    sig = matrix_of(table.column("sig"), np.uint32)[starts]
    reps = rows[starts]
    keys = (
        np.concatenate(
            [
                _row_hash(np.ascontiguousarray(sig[:, b * rows_per_band : (b + 1) * rows_per_band]))
                for b in range(bands)
            ]
        )
        if len(reps)
        else np.zeros(0, np.uint64)
    )
    links, banded = len(heads), len(reps) * bands
    return pa.table(
        {
            "kind": np.concatenate([np.zeros(links, np.int8), np.ones(banded, np.int8)]),
            "a_row": np.concatenate([heads, np.tile(reps, bands)]).astype(np.int64),
            "b_row": np.concatenate([others, np.full(banded, -1)]).astype(np.int64),
            "band": np.concatenate([np.full(links, -1), np.repeat(np.arange(bands), len(reps))]).astype(
                np.int64
            ),
            "key": np.concatenate([np.zeros(links, np.uint64), keys]).view(np.int64),
        }
    )


def band_group(table: pa.Table, max_bucket: int) -> pa.Table:
    """Representatives of one or more LSH buckets (band, key) → candidate links, each bucket linked
    as ``_bucket_pairs`` links it (all pairs, or a star and a chain above ``max_bucket``)."""
    table = table.sort_by([("band", "ascending"), ("key", "ascending"), ("a_row", "ascending")])
    band = np.asarray(table.column("band"), dtype=np.int64)
    key = np.asarray(table.column("key"), dtype=np.int64)
    rows = np.asarray(table.column("a_row"), dtype=np.int64)
    if not len(rows):
        return links_table(rows, rows)
    new = np.concatenate(([True], (band[1:] != band[:-1]) | (key[1:] != key[:-1])))
    bucket = np.cumsum(new).astype(np.uint64)
    left, right = _bucket_pairs(bucket, rows, max_bucket)
    return links_table(left, right)


SIDE_COLUMNS = ["row", "id", "in_sh", "out_sh", "numbers", "system_key", "output_key", "output_words"]


def _pair_sides(batch: pa.Table, extra: tuple[str, ...] = ()) -> tuple[RecordSides, dict[str, np.ndarray]]:
    """The sides of a joined batch's a-rows followed by its b-rows (rows 0..m-1, then m..2m-1)."""
    left = pa.table({c: batch.column(f"{c}_a") for c in SIDE_COLUMNS[2:]})
    right = pa.table({c: batch.column(f"{c}_b") for c in SIDE_COLUMNS[2:]})
    sides = RecordSides.concat([sides_of(left), sides_of(right)])
    vectors = {
        c: np.vstack([matrix_of(batch.column(f"{c}_a")), matrix_of(batch.column(f"{c}_b"))]) for c in extra
    }
    return sides, vectors


def _verified(
    batch: pa.Table, keep: np.ndarray, tier: str, score: np.ndarray, output: np.ndarray | None
) -> pa.Table:
    ids_a = np.asarray(batch.column("id_a").to_pylist(), dtype=object)
    ids_b = np.asarray(batch.column("id_b").to_pylist(), dtype=object)
    rows_a = np.asarray(batch.column("a_row"), dtype=np.int64)
    rows_b = np.asarray(batch.column("b_row"), dtype=np.int64)
    pairs, row_of = [], {}
    for k in np.flatnonzero(keep).tolist():
        a, b = (ids_a[k], ids_b[k]) if ids_a[k] < ids_b[k] else (ids_b[k], ids_a[k])
        row_of[ids_a[k]], row_of[ids_b[k]] = int(rows_a[k]), int(rows_b[k])
        out = None if output is None else round(min(float(output[k]), 1.0), 6)
        pairs.append(
            DuplicatePair(a=a, b=b, tier=tier, score=round(min(float(score[k]), 1.0), 6), output_score=out)
        )
    return pairs_table(pairs, row_of)


def verify_near(batch: pa.Table, settings: NearSettings) -> pa.Table:
    """Candidate links joined with both rows' sides → the verified near pairs (``near_verdicts``)."""
    m = batch.num_rows
    sides, _ = _pair_sides(batch)
    keep, in_sim, out_sim = near_verdicts(sides, np.arange(m), np.arange(m) + m, settings)
    return _verified(batch, keep, "near", in_sim, out_sim)


def verify_input_links(batch: pa.Table, threshold: float) -> pa.Table:
    """The conflicts' rule for near-identical inputs: input Jaccard ≥ threshold, numbers agreeing."""
    m = batch.num_rows
    sides, _ = _pair_sides(batch)
    left, right = np.arange(m), np.arange(m) + m
    keep = pair_jaccard(sides.input_shingles, left, right) >= threshold - 1e-9
    if keep.any():
        at = np.flatnonzero(keep)
        keep[at] = numbers_agree(sides.numbers, left[at], right[at])
    return links_table(np.asarray(batch.column("a_row"))[keep], np.asarray(batch.column("b_row"))[keep])


def equal_key_links(table: pa.Table, key: str = "input_key") -> pa.Table:
    """Rows sharing a key (e.g. the normalised input): links from each key's first row to the others."""
    table, starts, sizes = _by_key(table, key)
    heads, others = _first_to_others(np.asarray(table.column("row"), dtype=np.int64), starts, sizes)
    return links_table(heads, others)


# --- semantic ------------------------------------------------------------------------------------


def cell_links(group: pa.Table, settings: SemanticSettings) -> pa.Table:
    """One k-means cell (its home rows and its visitors) → its links (``links_in_cell``)."""
    left, right = links_in_cell(
        np.asarray(group.column("row"), dtype=np.int64),
        matrix_of(group.column("vin")),
        np.asarray(group.column("home"), dtype=bool),
        settings,
    )
    return links_table(left, right)


def answer_group(table: pa.Table, settings: SemanticSettings) -> pa.Table:
    """Rows sharing a normalised output: all pairs when it is a specific answer (given by 2 to
    ``same_answer_max_share`` records of at least ``same_answer_min_words`` words), as
    ``same_answer_candidates``; these links carry answer = True."""
    table, starts, sizes = _by_key(table, "output_key")
    rows = np.asarray(table.column("row"), dtype=np.int64)
    words = np.asarray(table.column("output_words"), dtype=np.int64)
    lefts, rights = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for a, z in zip(starts.tolist(), sizes.tolist(), strict=True):
        if 2 <= z <= settings.same_answer_max_share and words[a] >= settings.same_answer_min_words:
            iu, ju = np.triu_indices(z, k=1)
            lefts.append(rows[a + iu])
            rights.append(rows[a + ju])
    return links_table(np.concatenate(lefts), np.concatenate(rights), answer=True)


def verify_semantic(batch: pa.Table, settings: SemanticSettings) -> pa.Table:
    """Candidate links joined with both rows' sides and vectors → verified semantic pairs."""
    m = batch.num_rows
    sides, vectors = _pair_sides(batch, ("vin", "vout"))
    left, right = np.arange(m), np.arange(m) + m
    vin, vout = vectors["vin"], vectors["vout"]
    score = np.einsum("ij,ij->i", vin[left], vin[right])
    out_sim = np.einsum("ij,ij->i", vout[left], vout[right]) if vout.shape[1] else None
    answer = np.asarray(batch.column("answer"), dtype=bool)
    keep = semantic_verdicts(
        score,
        out_sim,
        numbers_agree(sides.numbers, left, right),
        sides.systems[left] == sides.systems[right],
        settings,
        answer,
    )
    return _verified(batch, keep, "semantic", score, out_sim)
