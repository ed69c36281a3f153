"""Exact duplicates: records whose input, output and system prompt are equal after normalisation.

Normalisation (:func:`curation.analysis.dedup.text.normalize_text`) is Unicode NFKC, case fold, collapsed
whitespace and punctuation trimmed at both ends, applied to each part separately. The step
is a map over batches (:func:`exact_hashes`) whose results merge by key (:func:`merge_hash_groups`),
so partitions can be hashed on separate workers; pairs come from the merged map.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.text import normalize_text
from curation.model import Record

TIER = "exact"


def normalized_hash(input_text: str, output: str, system: str | None = None) -> str:
    """A stable digest of the normalised input, output and system prompt (blake2b, 16 bytes, hex)."""
    payload = f"{normalize_text(input_text)}\x1f{normalize_text(output)}"
    if system:
        payload += f"\x1f{normalize_text(system)}"
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()


def exact_hashes(records: Iterable[Record]) -> dict[str, list[str]]:
    """One batch: normalised hash → ids of the batch's records with that hash, in batch order."""
    groups: dict[str, list[str]] = {}
    for record in records:
        key = normalized_hash(record.input_text, record.output, record.system_prompt)
        groups.setdefault(key, []).append(record.id)
    return groups


def merge_hash_groups(parts: Iterable[Mapping[str, Sequence[str]]]) -> dict[str, list[str]]:
    """Merge per-batch hash maps, keeping ids in the order the batches are given."""
    merged: dict[str, list[str]] = {}
    for part in parts:
        for key, ids in part.items():
            merged.setdefault(key, []).extend(ids)
    return merged


def pairs_from_hash_groups(groups: Mapping[str, Sequence[str]]) -> list[DuplicatePair]:
    """Pairs (score 1.0) linking every member of each hash group to its first member.

    A star rather than every pair: the connected components are the same, and a group of m
    identical records yields m - 1 pairs instead of m(m - 1)/2.
    """
    pairs: list[DuplicatePair] = []
    for ids in groups.values():
        unique = list(dict.fromkeys(ids))
        if len(unique) < 2:
            continue
        head = unique[0]
        for other in unique[1:]:
            a, b = (head, other) if head < other else (other, head)
            pairs.append(DuplicatePair(a=a, b=b, tier=TIER, score=1.0))
    return pairs


def exact_pairs(records: Iterable[Record], *, batch_size: int = 10_000) -> list[DuplicatePair]:
    """Exact-duplicate pairs of all records (hashed a batch at a time, then merged)."""
    parts: list[dict[str, list[str]]] = []
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            parts.append(exact_hashes(batch))
            batch = []
    parts.append(exact_hashes(batch))
    return pairs_from_hash_groups(merge_hash_groups(parts))
