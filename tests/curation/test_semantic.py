"""The semantic dedup tier: pairs above a cosine threshold from a faiss index."""

from __future__ import annotations

import numpy as np
import pytest

from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.semantic import SemanticSettings, agreement_check, semantic_pairs, specifics_key
from curation.analysis.embeddings.models import normalise
from curation.errors import BadInputError


def _planted(n: int, dim: int = 64, seed: int = 0) -> tuple[list[str], np.ndarray, set[tuple[str, str]]]:
    """n random unit vectors; every 10th one gets a near copy (cosine ≈ 0.99) appended."""
    rng = np.random.default_rng(seed)
    base = normalise(rng.normal(size=(n, dim)))
    copies = normalise(base[::10] + rng.normal(scale=0.02, size=(len(base[::10]), dim)))
    ids = [f"r{i:06d}" for i in range(n)] + [f"c{i:06d}" for i in range(0, n, 10)]
    planted = {(f"c{i:06d}", f"r{i:06d}") for i in range(0, n, 10)}
    return ids, np.vstack([base, copies]), planted


@pytest.mark.parametrize("index", ["flat", "ivf", "hnsw"])
def test_finds_planted_pairs_and_nothing_else(index: str) -> None:
    ids, vectors, planted = _planted(2000)
    pairs = semantic_pairs(ids, vectors, SemanticSettings(threshold=0.9, index=index, cell_size=64))
    assert {(p.a, p.b) for p in pairs} == planted
    assert all(p.tier == "semantic" and 0.9 <= p.score <= 1.0 and p.a < p.b for p in pairs)


def test_each_pair_is_reported_once_with_ordered_ids() -> None:
    vectors = normalise(np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0]]))
    pairs = semantic_pairs(["z", "a", "m"], vectors, SemanticSettings(threshold=0.99))
    assert pairs == [DuplicatePair(a="a", b="z", tier="semantic", score=pairs[0].score)]


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_records_give_no_pairs(n: int) -> None:
    assert semantic_pairs([f"r{i}" for i in range(n)], np.ones((n, 4), np.float32)) == []


def test_all_identical_records_stay_connected() -> None:
    ids = [f"r{i:03d}" for i in range(50)]
    pairs = semantic_pairs(ids, normalise(np.ones((50, 8))), SemanticSettings(k=5))
    linked = {p.a for p in pairs} | {p.b for p in pairs}
    assert linked == set(ids) and all(p.score >= 0.999 for p in pairs)


def test_shape_mismatch_is_a_clear_error() -> None:
    with pytest.raises(BadInputError, match="expected 3 vectors"):
        semantic_pairs(["a", "b", "c"], np.ones((2, 4), np.float32))


def test_agreement_check_needs_close_outputs_and_the_same_numbers() -> None:
    pair = normalise(np.array([[1.0, 0.0], [1.0, 0.05], [1.0, 0.04], [1.0, 0.03]]))
    outputs = normalise(np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [1.0, 0.0]]))
    inputs = [
        "Order FW-123 is late",
        "FW-123 still has not arrived",
        "Order FW-123 is late!",
        "Order FW-999 is late",
    ]
    settings = SemanticSettings(threshold=0.9)
    check = agreement_check(outputs, inputs, settings)
    pairs = semantic_pairs(["a", "b", "c", "d"], pair, settings, check=check)
    # a-b: same order, same output. a-c: different output. a-d: another order.
    assert {(p.a, p.b) for p in pairs} == {("a", "b")}
    assert specifics_key("no numbers") == specifics_key("none here either")
    assert agreement_check(None, None, SemanticSettings(output_threshold=None, same_specifics=False)) is None
