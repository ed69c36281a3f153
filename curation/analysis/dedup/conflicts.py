"""Conflicts: the same (or a near-identical) input with clearly different outputs.

Inconsistent targets teach a model two answers to one question, so they are their own kind of
issue rather than duplicates. Two records conflict when

- their inputs are equal after normalisation, or near-duplicates on the input alone (MinHash LSH,
  Jaccard ≥ ``input_threshold``) whose numbers do not contradict (two maths problems that differ
  only in their numbers are different questions, not one question answered twice), and
- their normalised outputs differ and either both parse as JSON and give a different value to a
  label-like field (a number, boolean, null or a string of at most 4 words; free-text fields such
  as a summary vary naturally and are ignored), or the outputs' shingle Jaccard is below
  ``output_threshold``.

Conflicting pairs are joined into groups (union-find); each group gets a stable id stored under
``CONFLICT_GROUP``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation import metadata_keys
from curation.analysis.dedup.groups import group_id
from curation.analysis.dedup.links import UnionFind
from curation.analysis.dedup.near import NearSettings, near_pairs_from, signatures
from curation.analysis.dedup.shingles import Shingles, pair_jaccard, shingle_texts
from curation.analysis.dedup.sides import input_numbers, numbers_agree
from curation.analysis.dedup.text import normalize_text
from curation.model import Record
from curation.store.base import RecordStore


class ConflictSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_threshold: float = Field(
        default=0.75, gt=0.0, le=1.0, description="Input Jaccard for near-identical inputs"
    )
    output_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Outputs less similar than this (Jaccard) are clearly different",
    )
    output_cosine: float = Field(
        default=0.6,
        ge=-1.0,
        le=1.0,
        description="With output vectors: prose outputs below this cosine (and below output_threshold) conflict",
    )
    max_outputs: int = Field(default=200, ge=2, description="Distinct outputs compared per input group")


@dataclass(frozen=True)
class ConflictPair:
    a: str
    b: str
    input_similarity: float
    output_similarity: float
    reason: str  # "json_values_differ" | "outputs_differ"


@dataclass(frozen=True)
class ConflictGroup:
    id: str
    members: list[str]  # in import order
    pairs: list[ConflictPair] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.id,
            "members": list(self.members),
            "pairs": [p.__dict__ for p in self.pairs],
        }


def conflict_document(conflict: ConflictGroup, source_row: Mapping[str, int | None]) -> dict[str, Any]:
    """One conflict group as duplicates.json writes it (both engines write the same shape)."""
    return {
        "group": conflict.id,
        "records": [{"id": m, "source_row": source_row.get(m)} for m in conflict.members],
        "pairs": [
            {
                "a": p.a,
                "b": p.b,
                "input_similarity": p.input_similarity,
                "output_similarity": p.output_similarity,
                "reason": p.reason,
            }
            for p in conflict.pairs
        ],
    }


def _input_links(
    records: Sequence[Record], settings: ConflictSettings
) -> tuple[list[tuple[int, int]], Shingles]:
    """(i, j) links between records with equal or near-identical inputs (a spanning set), and the
    inputs' shingles."""
    links: list[tuple[int, int]] = []
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        key = normalize_text(record.input_text)
        if key in first:
            links.append((first[key], i))
        else:
            first[key] = i
    # Inputs are short, so MinHash estimates are noisy: more permutations keep near-threshold pairs.
    near = NearSettings(threshold=settings.input_threshold, num_perm=256)
    shingles = shingle_texts(
        [r.input_text for r in records], word_ngram=near.word_ngram, char_ngram=near.char_ngram
    )
    index = [str(i) for i in range(len(records))]
    near_links = [
        (int(p.a), int(p.b)) for p in near_pairs_from(index, shingles, signatures(shingles, near), near)
    ]
    if near_links:
        numbers = [input_numbers(r.input_text) for r in records]
        agree = numbers_agree(
            numbers, np.array([a for a, _ in near_links]), np.array([b for _, b in near_links])
        )
        links += [link for link, ok in zip(near_links, agree.tolist(), strict=True) if ok]
    return links, shingles


def _json_value(text: str) -> tuple[bool, Any]:
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return False, None
    try:
        return True, json.loads(stripped)
    except ValueError:
        return False, None


def _label_fields(value: Any, path: str = "") -> dict[str, str]:
    """Path → normalised value of a JSON document's label-like leaves: numbers, booleans, null and
    short strings (≤ 4 words, ≤ 40 chars). Free-text fields are left out: they vary naturally."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _label_fields(item, f"{path}/{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _label_fields(item, f"{path}/{i}").items()}
    if isinstance(value, str):
        text = normalize_text(value)
        return {path: text} if len(text) <= 40 and len(text.split()) <= 4 else {}
    return {path: json.dumps(value)}


def json_labels_differ(a: Any, b: Any) -> bool:
    """True when two parsed JSON outputs give a different value to a label-like field they share."""
    fa, fb = _label_fields(a), _label_fields(b)
    return any(fa[key] != fb[key] for key in fa.keys() & fb.keys())


def find_conflicts(
    records: Sequence[Record],
    settings: ConflictSettings | None = None,
    *,
    output_vectors: np.ndarray | None = None,
) -> list[ConflictGroup]:
    """Conflict groups among ``records`` (import order), each with its conflicting pairs.

    ``output_vectors`` (one L2-normalised row per record, e.g. the pipeline's output embeddings)
    make the prose rule semantic: two answers worded differently but meaning the same (cosine ≥
    ``output_cosine``) are not a conflict. Without them the lexical rule alone decides.
    """
    settings = settings or ConflictSettings()
    records = list(records)
    if output_vectors is not None and len(output_vectors) != len(records):
        output_vectors = None  # misaligned (e.g. empty): fall back to the lexical rule
    if len(records) < 2:
        return []
    links, input_shingles = _input_links(records, settings)
    inputs: UnionFind[int] = UnionFind()
    for i, j in links:
        inputs.union(i, j)
    # Within each input group, compare one representative per distinct normalised output.
    candidates: list[tuple[int, int]] = []
    same_output: dict[int, list[int]] = {}  # representative → records of its input group with its output
    for members in inputs.components():
        reps: dict[str, int] = {}
        for i in sorted(members):
            rep = reps.setdefault(normalize_text(records[i].output), i)
            same_output.setdefault(rep, []).append(i)
        chosen = list(reps.values())[: settings.max_outputs]
        candidates += [(x, y) for k, x in enumerate(chosen) for y in chosen[k + 1 :]]
    if not candidates:
        return []
    outputs = shingle_texts([records[i].output for i in range(len(records))])
    left = np.array([c[0] for c in candidates], dtype=np.int64)
    right = np.array([c[1] for c in candidates], dtype=np.int64)
    out_sim = pair_jaccard(outputs, left, right)
    in_sim = pair_jaccard(input_shingles, left, right)
    conflicts: list[ConflictPair] = []
    joined: UnionFind[int] = UnionFind()
    for (i, j), sim, isim in zip(candidates, out_sim.tolist(), in_sim.tolist(), strict=True):
        is_json_i, value_i = _json_value(records[i].output)
        is_json_j, value_j = _json_value(records[j].output)
        if is_json_i and is_json_j:
            if not json_labels_differ(value_i, value_j):
                continue
            reason = "json_values_differ"
        elif sim < settings.output_threshold and (
            output_vectors is None or float(output_vectors[i] @ output_vectors[j]) < settings.output_cosine
        ):
            reason = "outputs_differ"
        else:
            continue
        # Records repeating either side's output within the input group share in the conflict.
        for k in (*same_output[i], *same_output[j]):
            joined.union(i, k)
        a, b = sorted((records[i].id, records[j].id))
        conflicts.append(ConflictPair(a, b, round(float(isim), 6), round(float(sim), 6), reason))
    index_of = {r.id: i for i, r in enumerate(records)}
    pairs_of: dict[int, list[ConflictPair]] = {}
    for pair in conflicts:
        pairs_of.setdefault(joined.find(index_of[pair.a]), []).append(pair)
    groups: list[ConflictGroup] = []
    for component in joined.components():
        ids = [records[i].id for i in sorted(component)]
        groups.append(
            ConflictGroup(
                id=group_id(ids, prefix="conflict"), members=ids, pairs=pairs_of[joined.find(component[0])]
            )
        )
    groups.sort(key=lambda g: index_of[g.members[0]])
    return groups


def conflict_metadata(groups: Sequence[ConflictGroup]) -> dict[str, dict[str, Any]]:
    """Per member: ``CONFLICT_GROUP`` = the group's id."""
    return {member: {metadata_keys.CONFLICT_GROUP: group.id} for group in groups for member in group.members}


def write_conflict_metadata(
    store: RecordStore, groups: Sequence[ConflictGroup], all_ids: Sequence[str] = ()
) -> None:
    """Store conflict groups; records in ``all_ids`` but in no group lose an old ``CONFLICT_GROUP``."""
    updates: dict[str, dict[str, Any]] = {rid: {metadata_keys.CONFLICT_GROUP: None} for rid in all_ids}
    updates.update(conflict_metadata(groups))
    if updates:
        store.update_metadata(updates)
