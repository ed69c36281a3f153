"""Splits: fixed seed, stratification, no leakage between splits, golden pinning, contamination."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from curation import metadata_keys as F
from curation.store.base import RecordStore
from tests.factories import make_record
from training.clean_set import CleanItem
from training.export_config import ExportConfig, SplitFractions
from training.splits import (
    SPLITS,
    assign_splits,
    contamination_report,
    leakage_groups,
    normalise_input,
)


def item(**overrides: Any) -> CleanItem:
    record = make_record(**overrides)
    return CleanItem(record=record, output=record.output, why="test", label="good")


def ids(items: list[CleanItem]) -> list[str]:
    return [i.record.id for i in items]


def test_fractions_are_met_within_one_record_and_every_item_lands_once() -> None:
    items = [item(input=f"question number {n}") for n in range(100)]
    splits = assign_splits(items, ExportConfig())
    assert splits.counts() == {"train": 80, "validation": 10, "test": 10}
    assert sorted(ids(splits.train + splits.validation + splits.test)) == sorted(ids(items))


def test_same_seed_same_split_and_another_seed_another() -> None:
    items = [item(input=f"q {n}", metadata={F.CLUSTER: n % 4}) for n in range(60)]
    first = assign_splits(items, ExportConfig(seed=3))
    again = assign_splits(list(reversed(items)), ExportConfig(seed=3))
    other = assign_splits(items, ExportConfig(seed=4))
    for split in SPLITS:
        assert sorted(ids(first.items(split))) == sorted(ids(again.items(split)))
    assert sorted(ids(first.test)) != sorted(ids(other.test))


def test_every_cluster_is_represented_in_proportion() -> None:
    items = [item(input=f"q {n}", metadata={F.CLUSTER: n % 5}) for n in range(200)]
    items += [item(input=f"loose {n}") for n in range(40)]  # no cluster: a stratum of their own
    splits = assign_splits(items, ExportConfig())
    for split, share in (("train", 0.8), ("validation", 0.1), ("test", 0.1)):
        per_cluster = Counter(i.record.metadata.get(F.CLUSTER, -1) for i in splits.items(split))
        for cluster in [0, 1, 2, 3, 4]:
            assert abs(per_cluster[cluster] - 40 * share) <= 1.5, (split, cluster, per_cluster)
        assert abs(per_cluster[-1] - 40 * share) <= 1.5


def test_duplicate_conflict_and_same_input_groups_never_straddle_splits() -> None:
    items = []
    for g in range(15):
        items += [item(input=f"dup {g} variant {v}", metadata={F.DUP_GROUP: f"d{g}"}) for v in range(3)]
        items += [item(input=f"conf {g} {v}", metadata={F.CONFLICT_GROUP: f"c{g}"}) for v in range(2)]
        items += [item(input=f"Same  Input {g}!"), item(input=f"same input {g}")]
    groups = leakage_groups(items)
    assert len(groups) == 45
    for seed in range(5):
        splits = assign_splits(items, ExportConfig(seed=seed))
        assert splits.straddling_groups() == []
        where = {i.record.id: s for s in SPLITS for i in splits.items(s)}
        for members in groups:
            assert len({where[items[i].record.id] for i in members}) == 1
        assert splits.test and splits.validation


def test_normalised_input_ignores_case_spacing_and_punctuation() -> None:
    assert normalise_input("  Where is MY order?? ") == normalise_input("where is my order")
    assert normalise_input("order 1") != normalise_input("order 2")


def test_normalised_input_folds_accents_as_the_docs_promise() -> None:
    assert normalise_input("Café") == "cafe"
    assert normalise_input("…schöne Grüße") == normalise_input("…schone Grusse") == "schone grusse"
    assert normalise_input("NAÏVE  Façade!") == normalise_input("naive facade")
    assert normalise_input("Ｃａｆé") == "cafe"  # full-width letters too


def test_inputs_differing_only_in_accents_share_a_split() -> None:
    accented = [item(input=f"Anfrage {n}: viele schöne Grüße aus Köln") for n in range(30)]
    plain = [item(input=f"Anfrage {n}: viele schone Grusse aus Koln") for n in range(30)]
    items = accented + plain
    assert len(leakage_groups(items)) == 30
    for seed in range(3):
        splits = assign_splits(items, ExportConfig(seed=seed))
        where = {i.record.id: s for s in SPLITS for i in splits.items(s)}
        assert all(where[a.record.id] == where[p.record.id] for a, p in zip(accented, plain, strict=True))


def test_golden_records_are_pinned_to_test_with_their_group() -> None:
    items = [item(input=f"q {n}") for n in range(50)]
    golden = item(input="golden one", golden=True, metadata={F.DUP_GROUP: "gg"})
    sibling = item(input="golden sibling", metadata={F.DUP_GROUP: "gg"})
    items += [golden, sibling]
    splits = assign_splits(items, ExportConfig())
    assert {golden.record.id, sibling.record.id} <= set(ids(splits.test))
    unpinned = assign_splits(items, ExportConfig(pin_golden_to_test=False, seed=1))
    assert len(unpinned.test) == round(0.1 * len(items))


def test_a_zero_fraction_leaves_that_split_empty() -> None:
    items = [item(input=f"q {n}") for n in range(20)]
    splits = assign_splits(items, ExportConfig(fractions=SplitFractions(train=0.9, validation=0.0, test=0.1)))
    assert splits.counts() == {"train": 18, "validation": 0, "test": 2}


def test_contamination_with_tfidf_finds_the_near_copy() -> None:
    train = [item(input="How do I reset my password?"), item(input="Track my parcel please")]
    test_item = item(input="How do I reset my password?!", output=train[0].output)
    splits = assign_splits([*train, test_item], ExportConfig(group_same_input=False))
    splits.train, splits.validation, splits.test = train, [], [test_item]
    report = contamination_report(splits, threshold=0.9)
    assert report["method"].startswith("tfidf")
    (row,) = report["records"]
    assert row["test_id"] == test_item.record.id
    assert row["nearest_train_id"] == train[0].record.id
    assert row["similarity"] > 0.9
    assert report["summary"]["above_threshold"] == 1 and report["summary"]["test_records"] == 1


def test_contamination_with_tfidf_ignores_accents() -> None:
    """Without same-input groups, an accent-only variant in test is still reported as contaminated."""
    train = [
        item(input="Vielen Dank und schöne Grüße", output="Gern geschehen."),
        item(input="Paket verfolgen"),
    ]
    test_item = item(input="Vielen Dank und schone Grusse", output="Gern geschehen.")
    splits = assign_splits([*train, test_item], ExportConfig(group_same_input=False))
    splits.train, splits.validation, splits.test = train, [], [test_item]
    report = contamination_report(splits, threshold=0.9)
    assert report["records"][0]["nearest_train_id"] == train[0].record.id
    assert report["records"][0]["similarity"] > 0.9 and report["summary"]["above_threshold"] == 1


def test_contamination_uses_stored_pair_vectors(
    make_local_project: Callable[..., tuple[Path, RecordStore]],
) -> None:
    _, store = make_local_project()
    items = [item(input=f"q {n}") for n in range(3)]
    store.upsert_records([i.record for i in items])
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    store.set_vectors(F.VECTOR_PAIR, [i.record.id for i in items], vectors)
    splits = assign_splits(items, ExportConfig())
    splits.train, splits.validation, splits.test = items[:2], [], items[2:]
    report = contamination_report(splits, store)
    assert report["method"] == "vectors:pair"
    assert report["records"][0]["nearest_train_id"] == items[1].record.id
    assert abs(report["records"][0]["similarity"] - 0.8) < 1e-5
    assert report["summary"]["max"] == report["records"][0]["similarity"]


def test_contamination_of_an_empty_test_split() -> None:
    splits = assign_splits([item()], ExportConfig())
    report = contamination_report(splits)
    assert report["records"] == [] and report["summary"]["max"] == 0.0
