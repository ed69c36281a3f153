"""Consistency signals: outputs that disagree with what similar inputs get, and outputs in a shape
the rest of the project never uses.

Unlike the per-record signals in :mod:`.signals`, these judge a record against the others, so they
run on the whole set once the embeddings are in (a global step, like dedup's index search):

- **Output agreement** (k-nearest-neighbour label cleaning, as in Bahri et al. 2020, "Deep k-NN
  for Noisy Labels", generalised from labels to outputs through their embeddings): for each record,
  the mean similarity between its output and the outputs of the ``neighbours`` records whose
  *inputs* are closest, weighted by input similarity. It is stored (``output_agreement``) so
  keepers of conflicts and the selection can prefer the output that agrees best.
- **``inconsistent_output``**, two rules by the kind of output:
  - *labels* (a JSON answer's label fields, or a bare class name): the neighbours vote, field by
    field. A record is flagged when at most ``max_label_share`` of its neighbours give its value of
    a field and at least ``min_majority_share`` agree on one other value: a class (used by at least
    ``min_class_size`` records) at least ``min_majority_lift`` times more common among the
    neighbours than in the project. A query between two confusable intents has neighbours on both
    sides and is left alone; a wrong intent has almost none on its side;
  - *free text*: its agreement falls more than ``max_z`` robust standard deviations (median
    absolute deviation) below the agreement of its own neighbours (the description of another
    restaurant agrees much less with its neighbours than they agree with theirs).
- **Output shape**: prose, a list, key: value lines, JSON, fenced code or markup. An output whose
  shape is used by fewer than ``rare_shape_share`` of the project's outputs (a bullet list among
  prose replies, prose among JSON answers) gets ``off_format``.

All need ``min_records`` records: below that a neighbourhood or a share says little. Thresholds
are checked on public sets (BANKING77 in ``tests/curation/test_consistency.py``; Bitext and E2E
in ``benchmarks/bench_curation_value.py``, which reports how much of each injected kind of noise
each flag catches, and how many clean records it costs).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation.analysis.quality.text_checks import looks_like_json

INCONSISTENT = "inconsistent_output"
OFF_FORMAT = "off_format"


class ConsistencySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    neighbours: int = Field(default=10, ge=2, description="Input neighbours an output is compared with")
    max_z: float = Field(
        default=3.0,
        gt=0,
        description="Robust z-score (MAD) below the neighbours' agreement at which an output is inconsistent",
    )
    min_gap: float = Field(
        default=0.05,
        ge=0,
        description="Smallest agreement gap to the neighbours that is flagged, whatever the spread",
    )
    rare_shape_share: float = Field(
        default=0.05, ge=0, lt=0.5, description="Output shapes below this share of outputs are off-format"
    )
    max_label_share: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="Label outputs: flagged when at most this share of the input neighbours (weighted by "
        "input similarity) give the record's value of a label field; 0.15 is one neighbour in ten",
    )
    min_majority_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="...and at least this share of them agree on one other value. On BANKING77 (77 "
        "confusable intents, 10 % swapped) 0.5 finds 73 % of the swapped labels for 3.3 % of the clean "
        "records; 0.4 finds 90 % for 4.6 %",
    )
    min_majority_lift: float = Field(
        default=3.0,
        ge=1,
        description="...and that other value is at least this many times more common among the neighbours "
        "than in the whole project: a majority a field's base rate explains is no evidence against the "
        "record. So a value used by more than a third of the project never wins a vote (binary labels, "
        "urgency 'normal'): such fields are mostly tone or priority, which inputs' topic neighbours do "
        "not see (on the bundled example a vote there flags a dozen angry tickets rightly marked 'high')",
    )
    min_class_size: int = Field(
        default=3,
        ge=1,
        description="A label value used by fewer records than this is not a class (an order number, a "
        "name) and is not voted on",
    )
    min_records: int = Field(default=50, ge=3, description="Fewer records than this: no consistency flags")


_LIST_LINE = re.compile(r"^\s*(?:[-*+•–]\s|\d{1,3}[.)]\s)")
_KEY_VALUE_LINE = re.compile(r"^\s*[\w ./-]{1,40}:\s*\S")
_MARKUP = re.compile(r"^\s*<([a-zA-Z][\w-]*)[^>]*>.*</\1>\s*$", re.DOTALL)


def output_shape(text: str) -> str:
    """``json``, ``code``, ``markup``, ``list``, ``key_value``, ``prose`` or ``empty``."""
    stripped = text.strip()
    if not stripped:
        return "empty"
    if looks_like_json(stripped):
        return "json"
    if stripped.startswith("```"):
        return "code"
    if _MARKUP.match(stripped):
        return "markup"
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) >= 2:
        if sum(bool(_LIST_LINE.match(line)) for line in lines) * 2 >= len(lines):
            return "list"
        if sum(bool(_KEY_VALUE_LINE.match(line)) for line in lines) * 2 >= len(lines):
            return "key_value"
    return "prose"


def rare_shapes(outputs: Sequence[str], settings: ConsistencySettings | None = None) -> list[bool]:
    """Per output: whether its shape is rare in ``outputs`` (the ``off_format`` flag)."""
    settings = settings or ConsistencySettings()
    shapes = [output_shape(o) for o in outputs]
    if len(shapes) < settings.min_records:
        return [False] * len(shapes)
    counts = Counter(s for s in shapes if s != "empty")
    total = sum(counts.values())
    rare = {s for s, n in counts.items() if n < settings.rare_shape_share * total}
    return [s in rare for s in shapes]


def label_fields(text: str) -> dict[str, str] | None:
    """The label-like fields of a JSON object output (numbers, booleans, null, strings of at most
    4 words), as JSON text; a bare label (one line of at most 4 words, not ending a sentence, e.g. a class name such as
    ``card_arrival``) as its one field; None for anything else. Free-text fields vary naturally and
    are left out."""
    stripped = text.strip()
    if (
        stripped
        and "\n" not in stripped
        and len(stripped.split()) <= 4
        and not stripped.endswith((".", "!", "?"))
        and not looks_like_json(stripped)
    ):
        # A classification set's outputs are labels: embeddings barely tell two intents apart, so
        # they are compared for equality like a JSON answer's label fields.
        return {"": json.dumps(stripped)}
    if not looks_like_json(text):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    fields = {
        str(k): json.dumps(v, sort_keys=True)
        for k, v in value.items()
        if v is None or isinstance(v, bool | int | float) or (isinstance(v, str) and len(v.split()) <= 4)
    }
    return fields or None


def _field_agreement(a: dict[str, str], b: dict[str, str]) -> float:
    keys = a.keys() | b.keys()
    return sum(a.get(k) == b.get(k) for k in keys) / len(keys)


def input_neighbours(input_vectors: np.ndarray, neighbours: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(ids, weights): each record's ``neighbours`` nearest inputs by cosine (itself excluded; fewer
    when the project is smaller) and their similarities, floored at 0.001 so they can weigh votes."""
    import faiss

    n = len(input_vectors)
    k = min(neighbours + 1, n)
    if k < 2:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    x = np.ascontiguousarray(input_vectors, dtype=np.float32)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    scores, ids = index.search(x, k)
    # Drop each row's own hit (usually first; an identical input may come first instead).
    nbr = np.empty((n, k - 1), dtype=np.int64)
    weight = np.empty((n, k - 1), dtype=np.float32)
    for row in range(n):
        cols = np.flatnonzero(ids[row] != row)[: k - 1]
        nbr[row], weight[row] = ids[row, cols], scores[row, cols]
    return nbr, np.clip(weight, 1e-3, None)


def output_agreement(
    input_vectors: np.ndarray,
    output_vectors: np.ndarray,
    neighbours: int = 10,
    labels: Sequence[dict[str, str] | None] | None = None,
    *,
    found: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(agreement, neighbour agreement) per record, from L2-normalised input and output vectors.

    agreement[i]: input-similarity-weighted mean similarity between output i and the outputs of its
    ``neighbours`` nearest inputs (itself excluded). Two outputs that both read as labels (JSON
    label fields or a bare class name, ``labels`` given) are compared by those fields (the share of
    equal values: embeddings barely tell ``cancel_order`` from ``change_order``); any other pair by
    the cosine of their output vectors. neighbour agreement[i]: the same weighted mean of its
    neighbours' own agreements, the level record i is expected to reach. ``labels`` are the
    outputs' :func:`label_fields` and ``found`` the :func:`input_neighbours`, when the caller
    already has them.
    """
    n = len(input_vectors)
    if n < 2:
        return np.ones(n, dtype=np.float32), np.ones(n, dtype=np.float32)
    nbr, weight = found if found is not None else input_neighbours(input_vectors, neighbours)
    y = np.asarray(output_vectors, dtype=np.float32)
    similarity = np.einsum("id,ikd->ik", y, y[nbr])
    fields = list(labels) if labels is not None else [None] * n
    for row in range(n):
        mine = fields[row]
        if mine is None:
            continue
        for col, other in enumerate(nbr[row]):
            theirs = fields[other]
            if theirs is not None:
                similarity[row, col] = _field_agreement(mine, theirs)
    agreement = (weight * similarity).sum(axis=1) / weight.sum(axis=1)
    expected = (weight * agreement[nbr]).sum(axis=1) / weight.sum(axis=1)
    return agreement.astype(np.float32), expected.astype(np.float32)


def outvoted_labels(
    labels: Sequence[dict[str, str] | None],
    neighbour_ids: np.ndarray,
    neighbour_weights: np.ndarray,
    settings: ConsistencySettings | None = None,
) -> np.ndarray:
    """Whether each label output is outvoted by its input neighbours (k-NN label cleaning).

    Field by field: the weighted share of the neighbours that give the record's value, against
    the largest share that agrees on one other value. A wrong intent has almost no neighbour on its
    side and a clear majority elsewhere; a query between two confusable intents has neighbours on
    both sides, and a record alone in a scattered neighbourhood has no majority against it: neither
    is flagged. Neighbours without the field (free text, a JSON answer that leaves an optional key
    out) do not vote, and unless half the neighbours (by weight) do, the field is not voted on: a
    few label neighbours among many others cannot outvote a record. Values used by fewer than
    ``min_class_size`` records are not classes (an order number) and are not voted on. Free-text
    outputs (None) are never flagged here.
    """
    settings = settings or ConsistencySettings()
    n = len(labels)
    flagged = np.zeros(n, dtype=bool)
    if n < settings.min_records:
        return flagged
    uses = Counter((field, value) for fields in labels if fields for field, value in fields.items())
    having = Counter(field for fields in labels if fields for field in fields)
    for row, mine in enumerate(labels):
        if not mine:
            continue
        neighbours = [
            (labels[int(j)], float(w))
            for j, w in zip(neighbour_ids[row], neighbour_weights[row], strict=True)
        ]
        everyone = sum(w for _, w in neighbours)
        for field, value in mine.items():
            if uses[(field, value)] < settings.min_class_size:
                continue
            votes: dict[str, float] = {}
            for theirs, w in neighbours:
                if theirs is not None and field in theirs:
                    votes[theirs[field]] = votes.get(theirs[field], 0.0) + w
            total = sum(votes.values())
            # A quorum: a few label neighbours among free-text ones, or among answers that leave an
            # optional key out, are too few to outvote anyone.
            if not total or total < _QUORUM * everyone:
                continue
            own = votes.pop(value, 0.0) / total
            if not votes:
                continue
            leader = max(votes, key=lambda key: votes[key])
            majority = votes[leader] / total
            if (
                own <= settings.max_label_share
                and majority >= settings.min_majority_share
                and majority >= settings.min_majority_lift * uses[(field, leader)] / having[field]
            ):
                flagged[row] = True
                break
    return flagged


_QUORUM = 0.5
"""Share of a record's neighbours (by weight) that must give a label field a value for it to be voted on."""


def inconsistent_outputs(
    agreement: np.ndarray,
    expected: np.ndarray,
    settings: ConsistencySettings | None = None,
    compared_as_labels: np.ndarray | None = None,
) -> np.ndarray:
    """Whether each free-text output agrees too little with its neighbours (robust z on the gap).

    Records whose outputs are labels (``compared_as_labels``) are left out, of the flags and of the
    spread: :func:`outvoted_labels` judges them. Without label noise their gaps barely spread, and a
    z-score would flag every query that sits between two confusable classes."""
    settings = settings or ConsistencySettings()
    n = len(agreement)
    judged = (
        np.ones(n, dtype=bool) if compared_as_labels is None else ~np.asarray(compared_as_labels, dtype=bool)
    )
    if int(judged.sum()) < settings.min_records:
        # A spread measured on a handful of free-text outputs among many labels says nothing.
        return np.zeros(n, dtype=bool)
    gap = agreement - expected
    centre = float(np.median(gap[judged]))
    spread = 1.4826 * float(np.median(np.abs(gap[judged] - centre))) or 1e-6
    low = ((gap - centre) < -settings.max_z * spread) & ((gap - centre) < -settings.min_gap)
    return low & judged


@dataclass(frozen=True)
class Consistency:
    """One record's consistency: its output agreement (None when not measured) and flags."""

    agreement: float | None
    flags: tuple[str, ...] = ()


def consistency_of(
    ids: Sequence[str],
    input_vectors: np.ndarray,
    output_vectors: np.ndarray,
    outputs: Sequence[str],
    settings: ConsistencySettings | None = None,
) -> dict[str, Consistency]:
    """Per record id: its output agreement (rounded) and the consistency flags it gets (maybe none).

    Agreement needs input and output vectors for every record; without them only shapes are judged.
    """
    settings = settings or ConsistencySettings()
    n = len(ids)
    if n == 0:
        return {}
    measured = len(input_vectors) == n and len(output_vectors) == n
    agreement = np.full(n, np.nan, dtype=np.float32)
    inconsistent = np.zeros(n, dtype=bool)
    if measured:
        labels = [label_fields(o) for o in outputs]
        found = input_neighbours(input_vectors, settings.neighbours)
        agreement, expected = output_agreement(
            input_vectors, output_vectors, settings.neighbours, labels, found=found
        )
        as_labels = np.array([fields is not None for fields in labels], dtype=bool)
        inconsistent = inconsistent_outputs(agreement, expected, settings, compared_as_labels=as_labels)
        inconsistent |= outvoted_labels(labels, *found, settings)
    rare = rare_shapes(outputs, settings)
    result = {}
    for i, rid in enumerate(ids):
        flags = tuple(f for f, on in ((INCONSISTENT, inconsistent[i]), (OFF_FORMAT, rare[i])) if on)
        value = None if np.isnan(agreement[i]) else round(float(agreement[i]), 4)
        result[rid] = Consistency(value, flags)
    return result
