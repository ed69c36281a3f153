"""The semantic dedup tier: pairs above a cosine threshold from a faiss index."""

from __future__ import annotations

import numpy as np
import pytest

from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.semantic import SemanticSettings, semantic_pairs
from curation.analysis.dedup.sides import input_numbers, numbers_agree, record_sides
from curation.analysis.embeddings.models import normalise
from curation.errors import BadInputError
from tests.factories import make_record


def _planted(n: int, dim: int = 64, seed: int = 0) -> tuple[list[str], np.ndarray, set[tuple[str, str]]]:
    """n random unit vectors; every 10th one gets a near copy (cosine ≈ 0.99) appended."""
    rng = np.random.default_rng(seed)
    base = normalise(rng.normal(size=(n, dim)))
    copies = normalise(base[::10] + rng.normal(scale=0.02, size=(len(base[::10]), dim)))
    ids = [f"r{i:06d}" for i in range(n)] + [f"c{i:06d}" for i in range(0, n, 10)]
    planted = {(f"c{i:06d}", f"r{i:06d}") for i in range(0, n, 10)}
    return ids, np.vstack([base, copies]), planted


@pytest.mark.parametrize("index", ["flat", "cells", "ivf", "hnsw"])
def test_finds_planted_pairs_and_nothing_else(index: str) -> None:
    ids, vectors, planted = _planted(2000)
    settings = SemanticSettings(threshold=0.9, index=index, cell_size=64, cell_records=100)
    pairs = semantic_pairs(ids, vectors, settings)
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


def test_outputs_and_numbers_are_judged_on_their_own() -> None:
    inputs = normalise(np.array([[1.0, 0.0], [1.0, 0.05], [1.0, 0.04], [1.0, 0.03], [1.0, 0.02]]))
    outputs = normalise(np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]))
    texts = [
        "Order FW-12345 is late",
        "FW-12345 still has not arrived",
        "Order FW-12345 is late!",
        "Order FW-99999 is late",
        "My order is late",
    ]
    sides = record_sides([make_record(input=t, output="x") for t in texts])
    settings = SemanticSettings(threshold=0.9, output_threshold=0.9)
    pairs = semantic_pairs(["a", "b", "c", "d", "e"], inputs, settings, output_vectors=outputs, sides=sides)
    # a-b: same order, same output. a-c: different output. a-d: another order. a-e: no number (nests).
    linked = {(p.a, p.b) for p in pairs}
    assert ("a", "b") in linked and ("a", "e") in linked
    assert not {("a", "c"), ("a", "d"), ("b", "d")} & linked
    assert all(p.output_score is not None and p.output_score >= 0.9 for p in pairs)


def test_numbers_contradict_only_when_neither_set_holds_the_other() -> None:
    texts = ("sales rose in 2003", "sales rose", "refund 10482", "refund 20931", "1,500 units", "aged 22")
    numbers = [input_numbers(t) for t in texts]
    left, right = np.array([0, 2, 4, 5]), np.array([1, 3, 4, 1])
    assert numbers_agree(numbers, left, right).tolist() == [True, False, True, True]
    # Separators inside a number are dropped; short numbers (ages, days) are details, not specifics.
    assert input_numbers("1,500 units") == {"1500"} and input_numbers("aged 22, 11/13-18") == frozenset()
    assert input_numbers("charged $89.90 on FW-10482") == {"89.90", "10482"}


def test_a_constant_output_leaves_the_decision_to_the_inputs() -> None:
    rng = np.random.default_rng(3)
    inputs = normalise(rng.normal(size=(200, 16)))
    constant = normalise(np.ones((200, 16)))
    ids = [f"r{i:03d}" for i in range(200)]
    settings = SemanticSettings(threshold=0.5, k=20)
    alone = {(p.a, p.b) for p in semantic_pairs(ids, inputs, settings)}
    with_constant = {(p.a, p.b) for p in semantic_pairs(ids, inputs, settings, output_vectors=constant)}
    assert alone == with_constant
