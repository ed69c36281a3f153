"""The tiers' rules as one function over row pairs, for re-checking a group's members against its keeper."""

from __future__ import annotations

import numpy as np

from curation.analysis.dedup.groups import Judge
from curation.analysis.dedup.near import NearSettings, near_verdicts
from curation.analysis.dedup.semantic import (
    SemanticSettings,
    output_similarity,
    same_answer,
    semantic_verdicts,
)
from curation.analysis.dedup.sides import RecordSides, numbers_agree


def tier_judge(
    sides: RecordSides,
    input_vectors: np.ndarray | None,
    output_vectors: np.ndarray | None,
    near: NearSettings,
    semantic: SemanticSettings,
    output_known: np.ndarray | None = None,
) -> Judge:
    """``judge(tier, rows, keeper_rows)`` applying the near or semantic rule (rows index ``sides``);
    ``output_known`` marks the rows whose output vector was embedded (all when None)."""

    def judge(
        tier: str, left: np.ndarray, right: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if tier == "near":
            return near_verdicts(sides, left, right, near)
        if tier == "semantic" and input_vectors is not None and len(input_vectors):
            in_sim = np.einsum("ij,ij->i", input_vectors[left], input_vectors[right])
            out_sim = output_similarity(
                output_vectors if output_vectors is not None and len(output_vectors) else None,
                left,
                right,
                output_known,
            )
            keep = semantic_verdicts(
                in_sim,
                out_sim,
                numbers_agree(sides.numbers, left, right),
                sides.systems[left] == sides.systems[right],
                semantic,
                same_answer(sides, left, right, semantic),
            )
            return keep, in_sim, out_sim
        return np.zeros(len(left), dtype=bool), np.zeros(len(left)), None

    return judge
