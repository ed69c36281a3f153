"""Near duplicates: MinHash LSH over character shingles, verified with the true Jaccard of each side.

A near duplicate is a near-verbatim copy of a record: its **input** and its **output** each have a
shingle Jaccard at or above the tier's thresholds (judged separately, so a shared template reply
cannot make two different questions look alike), and the numbers in the inputs do not contradict
each other (:func:`curation.analysis.dedup.sides.numbers_agree`).

Steps, each vectorised with numpy:

1. **Shingles** (:func:`curation.analysis.dedup.sides.record_sides`): character 4-grams of the
   normalised input and, separately, of the output, as uint32 hashes (word n-grams are available
   but off by default: on the gold sets in docs/benchmarks.md, 4-grams alone keep precision ≥ 0.95
   and find 98 % of typo-level copies, while word 3-grams lose a third of them). Per batch.
2. **Signatures** (:func:`signatures`): ``num_perm`` minimums of multiply-add-shift hashes
   ``(a·x + b) >> 32`` over each record's shingles, computed for a block of shingles at once and
   reduced per record with ``np.minimum.reduceat``. Per batch; rows concatenate.
3. **Candidates** (:func:`candidate_pairs`) over the inputs' signatures: the signature is cut into ``bands`` of ``rows``; two
   records sharing any band's values are candidates. Records with identical signatures are
   collapsed first, and a bucket larger than ``max_bucket`` links its members to its first member
   and to their neighbour instead of all pairs, so a large clump costs linear, not quadratic, work.
4. **Verification** (:func:`near_verdicts`): the exact Jaccard of the inputs' and of the outputs'
   shingle sets, and the numbers check; only pairs passing all three are kept, so precision does not
   depend on the LSH's false positives.

Steps 1–2 run on partitions; 3–4 run on the merged arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.shingles import Shingles, pair_jaccard
from curation.analysis.dedup.sides import RecordSides, numbers_agree, record_sides
from curation.model import Record

TIER = "near"
_MAX32 = np.uint32(0xFFFFFFFF)


class NearSettings(BaseModel):
    """How the near tier shingles, hashes and links records."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(
        default=0.7, gt=0.0, le=1.0, description="Minimum Jaccard of the inputs' shingle sets to link"
    )
    output_threshold: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Minimum Jaccard of the outputs' shingle sets to link"
    )
    same_numbers: bool = Field(
        default=True, description="Inputs whose numbers contradict (both hold one the other lacks) never link"
    )
    num_perm: int = Field(default=128, ge=8, le=1024, description="MinHash permutations")
    word_ngram: int = Field(default=0, ge=0, le=10, description="Word n-gram size (0: no word shingles)")
    char_ngram: int = Field(default=4, ge=0, le=20, description="Character n-gram size (0: no char shingles)")
    bands: int | None = Field(
        default=None, ge=1, description="LSH bands (default: chosen from the threshold)"
    )
    rows: int | None = Field(default=None, ge=1, description="Rows per band (default: chosen with bands)")
    false_negative_weight: float = Field(
        default=0.97,
        gt=0.0,
        lt=1.0,
        description="Weight of missed pairs vs. extra candidates when choosing bands",
    )
    max_bucket: int = Field(
        default=64, ge=2, description="Buckets above this size link linearly, not all pairs"
    )
    seed: int = 1
    chunk: int = Field(
        default=8192, ge=256, description="Shingles hashed per block (memory: chunk × num_perm × 8 B)"
    )


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, false_negative_weight: float = 0.97) -> tuple[int, int]:
    """(bands, rows) with bands·rows ≤ num_perm minimising weighted false positives and negatives.

    The same criterion as datasketch's MinHashLSH: the areas under the S-curve ``1 - (1 - s^r)^b``
    below the threshold (false positives) and above 1 minus it above (false negatives). Missed pairs
    weigh more by default, since verification removes false positives anyway.
    """
    grid = np.linspace(0.0, 1.0, 1001)
    below, above = grid[grid <= threshold], grid[grid >= threshold]
    best, best_cost = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = float(np.trapezoid(1 - (1 - below**r) ** b, below))
            fn = float(np.trapezoid((1 - above**r) ** b, above))
            cost = (1 - false_negative_weight) * fp + false_negative_weight * fn
            if cost < best_cost:
                best, best_cost = (b, r), cost
    return best


def _bands_rows(settings: NearSettings) -> tuple[int, int]:
    if settings.bands and settings.rows:
        return settings.bands, settings.rows
    if settings.bands:
        return settings.bands, max(1, settings.num_perm // settings.bands)
    if settings.rows:
        return max(1, settings.num_perm // settings.rows), settings.rows
    return optimal_bands(settings.threshold, settings.num_perm, settings.false_negative_weight)


def _permutations(settings: NearSettings) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(settings.seed)
    a = rng.integers(1, 2**63, size=settings.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=settings.num_perm, dtype=np.uint64)
    return a, b


def signatures(shingles: Shingles, settings: NearSettings | None = None) -> np.ndarray:
    """MinHash signatures, one uint32 row of ``num_perm`` per text; all-max rows for empty texts."""
    settings = settings or NearSettings()
    a, b = _permutations(settings)
    n = len(shingles)
    out = np.full((n, settings.num_perm), _MAX32, dtype=np.uint32)
    sizes = shingles.sizes()
    offsets = shingles.offsets
    doc = 0
    # Permutations along rows, shingles along columns: reduceat along contiguous rows is ~30× faster.
    buf = np.empty((settings.num_perm, settings.chunk), dtype=np.uint64)
    while doc < n:
        # The largest run of texts whose shingles fit in one block (a longer text gets its own block).
        stop = int(np.searchsorted(offsets, offsets[doc] + settings.chunk, side="right")) - 1
        stop = min(max(stop, doc + 1), n)
        values = shingles.values[offsets[doc] : offsets[stop]].astype(np.uint64)
        if len(values) > buf.shape[1]:
            buf = np.empty((settings.num_perm, len(values)), dtype=np.uint64)
        block = buf[:, : len(values)]
        with np.errstate(over="ignore"):
            np.multiply(a[:, None], values[None, :], out=block)
            block += b[:, None]
        nonempty = np.flatnonzero(sizes[doc:stop] > 0)
        if len(nonempty):
            # The minimum's top 32 bits are the minimum of the top 32 bits: shift once, after reducing.
            starts = offsets[doc:stop][nonempty] - offsets[doc]
            mins = np.minimum.reduceat(block, starts, axis=1)
            out[doc + nonempty] = (mins.T >> np.uint64(32)).astype(np.uint32)
        doc = stop
    return out


def _row_hash(matrix: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of a uint32 matrix (equal rows, equal hashes)."""
    h = np.full(len(matrix), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(matrix.shape[1]):
            h ^= matrix[:, column].astype(np.uint64)
            h *= np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
    return h


def _bucket_pairs(
    keys: np.ndarray, rows: np.ndarray, max_bucket: int, *, chain: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of ``rows`` that share a key: all pairs in small buckets, star (+ chain) in large ones."""
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    edges = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True])))
    starts, sizes = edges[:-1], np.diff(edges)
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for size in np.unique(sizes[(sizes > 1) & (sizes <= max_bucket)]).tolist():
        at = starts[sizes == size]
        iu, ju = np.triu_indices(size, k=1)
        lefts.append(rows[(at[:, None] + iu[None, :]).ravel()])
        rights.append(rows[(at[:, None] + ju[None, :]).ravel()])
    for start, size in zip(
        starts[sizes > max_bucket].tolist(), sizes[sizes > max_bucket].tolist(), strict=True
    ):
        members = rows[start : start + size]
        lefts.append(np.full(size - 1, members[0]))
        rights.append(members[1:])
        if chain:
            lefts.append(members[1:-1])
            rights.append(members[2:])
    if not lefts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


def candidate_pairs(
    sigs: np.ndarray,
    valid: np.ndarray,
    settings: NearSettings | None = None,
    *,
    collapse_key: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unique (i, j), i < j, row pairs that share a band (only rows where ``valid`` is true).

    Rows with identical signatures (and equal ``collapse_key``, when given) are collapsed to one
    representative linked to the others, so a clump of identical texts costs linear work.
    """
    settings = settings or NearSettings()
    bands, rows_per_band = _bands_rows(settings)
    rows = np.flatnonzero(valid)
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    # Collapse identical signatures to one representative, linked to the others.
    whole = _row_hash(sigs[rows])
    if collapse_key is not None:
        with np.errstate(over="ignore"):
            whole = whole * np.uint64(0x9E3779B97F4A7C15) ^ collapse_key[rows].astype(np.uint64)
    left, right = _bucket_pairs(whole, rows, max_bucket=1, chain=False)
    lefts.append(left)
    rights.append(right)
    _, first = np.unique(whole, return_index=True)
    reps = rows[np.sort(first)]
    for band in range(bands):
        part = sigs[reps, band * rows_per_band : (band + 1) * rows_per_band]
        left, right = _bucket_pairs(_row_hash(part), reps, settings.max_bucket)
        lefts.append(left)
        rights.append(right)
    left, right = np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    keep = lo != hi
    key = np.unique(lo[keep] * len(sigs) + hi[keep])
    return key // len(sigs), key % len(sigs)


def near_pairs_from(
    ids: Sequence[str], shingles: Shingles, sigs: np.ndarray, settings: NearSettings | None = None
) -> list[DuplicatePair]:
    """Verified near-duplicate pairs from merged shingles and signatures (rows aligned with ``ids``)."""
    settings = settings or NearSettings()
    if len(ids) < 2:
        return []
    left, right = candidate_pairs(sigs, shingles.sizes() > 0, settings)
    if not len(left):
        return []
    scores = pair_jaccard(shingles, left, right)
    keep = scores >= settings.threshold - 1e-9
    pairs = []
    for i, j, s in zip(left[keep].tolist(), right[keep].tolist(), scores[keep].tolist(), strict=True):
        a, b = (ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i])
        pairs.append(DuplicatePair(a=a, b=b, tier=TIER, score=round(float(s), 6)))
    return pairs


def near_verdicts(
    sides: RecordSides, left: np.ndarray, right: np.ndarray, settings: NearSettings | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The near tier's rule on row pairs: (keep, input Jaccard, output Jaccard).

    Kept when the inputs' Jaccard ≥ ``threshold``, the outputs' ≥ ``output_threshold``, the system
    prompts are equal and (with ``same_numbers``) the inputs' numbers do not contradict. The
    benchmark scores gold pairs with this same function.
    """
    settings = settings or NearSettings()
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    in_sim = pair_jaccard(sides.input_shingles, left, right)
    out_sim = pair_jaccard(sides.output_shingles, left, right)
    keep = (in_sim >= settings.threshold - 1e-9) & (out_sim >= settings.output_threshold - 1e-9)
    keep &= sides.systems[left] == sides.systems[right]
    if settings.same_numbers and keep.any():
        at = np.flatnonzero(keep)
        keep[at] = numbers_agree(sides.numbers, left[at], right[at])
    return keep, in_sim, out_sim


def near_pairs_sides(
    ids: Sequence[str],
    sides: RecordSides,
    sigs: np.ndarray,
    settings: NearSettings | None = None,
) -> list[DuplicatePair]:
    """Verified two-sided near pairs from merged sides and input signatures (rows aligned with ids).

    Records with identical inputs are collapsed only when their outputs are equal too, so records
    sharing an input but not an output are still compared with each other.
    """
    settings = settings or NearSettings()
    if len(ids) < 2:
        return []
    left, right = candidate_pairs(
        sigs, sides.input_shingles.sizes() > 0, settings, collapse_key=sides.output_keys
    )
    if not len(left):
        return []
    keep, in_sim, out_sim = near_verdicts(sides, left, right, settings)
    pairs = []
    for i, j, s, o in zip(
        left[keep].tolist(), right[keep].tolist(), in_sim[keep].tolist(), out_sim[keep].tolist(), strict=True
    ):
        a, b = (ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i])
        pairs.append(
            DuplicatePair(a=a, b=b, tier=TIER, score=round(float(s), 6), output_score=round(float(o), 6))
        )
    return pairs


def near_sides(
    records: Sequence[Record], settings: NearSettings | None = None, *, batch_size: int = 10_000
) -> tuple[RecordSides, np.ndarray]:
    """The records' sides and input signatures, computed a batch at a time and merged."""
    settings = settings or NearSettings()
    parts: list[RecordSides] = []
    sig_parts: list[np.ndarray] = []
    for start in range(0, len(records), batch_size):
        part = record_sides(
            records[start : start + batch_size],
            word_ngram=settings.word_ngram,
            char_ngram=settings.char_ngram,
        )
        parts.append(part)
        sig_parts.append(signatures(part.input_shingles, settings))
    if not parts:
        return record_sides([]), np.zeros((0, settings.num_perm), dtype=np.uint32)
    return RecordSides.concat(parts), np.vstack(sig_parts)


def near_pairs(
    records: Sequence[Record], settings: NearSettings | None = None, *, batch_size: int = 10_000
) -> list[DuplicatePair]:
    """Near-duplicate pairs among ``records``: inputs and outputs each at or above their Jaccard
    threshold, numbers not contradicting."""
    settings = settings or NearSettings()
    sides, sigs = near_sides(records, settings, batch_size=batch_size)
    return near_pairs_sides([r.id for r in records], sides, sigs, settings)
