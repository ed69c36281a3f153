"""Selection (`export --select N`): coverage of every cluster, quality first, near-duplicates last,
and a reason for every pick in the export manifest."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pytest

from curation import metadata_keys as F
from curation.errors import NotFoundError
from curation.model import Record
from curation.store.base import RecordStore
from tests.factories import make_record, make_response
from training.clean_set import CleanItem
from training.export import explain_clean_set, export_clean_set
from training.export_config import ExportConfig
from training.selection import cluster_quotas, quality_parts, select_from_store, select_records

ProjectFactory = Callable[..., tuple[Path, RecordStore]]


def unit(rows: list[list[float]]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def item(cluster: int, output: str = "a complete answer of ordinary length", **meta: Any) -> CleanItem:
    record = make_record(output=output, metadata={F.CLUSTER: cluster, **meta})
    return CleanItem(record, output, "unreviewed", None)


def test_quotas_follow_the_square_root_of_cluster_sizes_and_never_exceed_a_cluster() -> None:
    quotas = cluster_quotas({0: 400, 1: 100, 2: 4}, 60)
    assert sum(quotas.values()) == 60
    assert quotas[2] == 4  # the thin cluster keeps all it has
    assert quotas[0] == pytest.approx(2 * quotas[1], abs=1)  # sqrt(400) = 2 * sqrt(100)
    assert cluster_quotas({0: 3, 1: 2}, 10) == {0: 3, 1: 2}


def test_near_duplicates_come_last_and_every_cluster_is_covered() -> None:
    # Cluster 0: ten copies of one record and two distinct ones; cluster 1: three distinct records.
    rows = [[1, 0, 0, 0.001 * i] for i in range(10)] + [[1, 1, 0, 0], [1, -1, 0, 0]]
    rows += [[0, 0, 1, 0], [0, 0.5, 1, 0], [0, 0, 1, 1]]
    items = [item(0) for _ in range(12)] + [item(1) for _ in range(3)]
    selection = select_records(items, 5, unit(rows))
    picked = [items.index(i) for i in selection.selected]
    # Quotas by sqrt(size): sqrt(12) : sqrt(3) = 2 : 1, so 3.3 and 1.7 picks, rounded to 3 and 2.
    assert Counter(items[i].record.metadata[F.CLUSTER] for i in picked) == {0: 3, 1: 2}
    assert len([i for i in picked if i < 10]) == 1  # one of the ten copies, not several
    assert {10, 11} <= set(picked)
    assert [p.rank for p in selection.picks] == [1, 2, 3, 4, 5]
    assert all("cluster" in p.why and "quality" in p.why for p in selection.picks)
    # Deterministic: the same input gives the same picks in the same order.
    again = select_records(items, 5, unit(rows))
    assert [p.id for p in again.picks] == [p.id for p in selection.picks]


def test_quality_decides_between_equally_new_records() -> None:
    reviewed = item(0)
    reviewed.label = "good"
    refusal = item(0, **{F.FLAGS: ["refusal"]})
    terse = item(0, output="ok")
    plain = item(0)
    items = [refusal, terse, plain, reviewed]
    # Four orthogonal records: every one is equally far from the others.
    selection = select_records(items, 2, np.eye(4, dtype=np.float32))
    assert [i.record.id for i in selection.selected] == [reviewed.record.id, plain.record.id]
    parts = quality_parts(refusal, median_length=35)
    assert parts["flags"] == 0.3 and parts["review"] == 0.7
    assert quality_parts(terse, median_length=35)["length"] < 0.2


def test_ratings_and_agreement_weigh_in() -> None:
    rated = item(0)
    rated.label = "good"
    rated.responses = [make_response(rated.record.id, values={"label": "good", "rating": 1})]
    assert quality_parts(rated, None)["rating"] == pytest.approx(0.6)
    agreeing = item(0, **{F.OUTPUT_AGREEMENT: 1.0})
    assert quality_parts(agreeing, None)["agreement"] == pytest.approx(1.0)


def test_an_output_that_disagrees_with_its_neighbours_loses_to_a_shorter_agreeing_one() -> None:
    # Unreviewed records: agreement with similar inputs is the only evidence of correctness, so a
    # wrong answer that is merely longer (a different intent's JSON, say) must not win on length.
    # Agreement as measured on Bitext (clean 0.88, wrong outputs 0.77 on average).
    agreeing = [item(0, output="x" * 40, **{F.OUTPUT_AGREEMENT: 0.88}) for _ in range(3)]
    wrong_but_long = item(0, output="x" * 80, **{F.OUTPUT_AGREEMENT: 0.77})
    items = [wrong_but_long, *agreeing]
    selection = select_records(items, 3, np.eye(4, dtype=np.float32))
    assert wrong_but_long in selection.not_selected
    assert quality_parts(wrong_but_long, 40)["agreement"] == pytest.approx(0.77**2)


def test_length_lowers_terse_and_rambling_outputs_but_gives_no_bonus_above_the_median() -> None:
    length = {
        n: quality_parts(item(0, output="x" * n), median_length=40)["length"] for n in (2, 20, 40, 80, 200)
    }
    assert length[2] < length[20] < length[40] == length[80] == 1.0 > length[200]
    assert quality_parts(item(0, **{F.OUTPUT_AGREEMENT: 0.0}), None)["agreement"] == pytest.approx(0.05)


def test_selecting_more_than_there_is_keeps_everything() -> None:
    items = [item(0), item(1)]
    selection = select_records(items, 10, np.eye(2, dtype=np.float32))
    assert len(selection.selected) == 2 and not selection.not_selected


def analysed_project(
    make_local_project: ProjectFactory, n: int = 60
) -> tuple[Path, RecordStore, list[Record]]:
    """Reviewed records in three clusters with pair vectors, as `pairsmith analyze` leaves them."""
    root, store = make_local_project()
    rng = np.random.default_rng(0)
    records = [
        make_record(
            input=f"question {i} about topic {i % 3}",
            output=f"answer {i} for topic {i % 3}",
            metadata={F.CLUSTER: i % 3, F.CLUSTER_NAME: f"topic {i % 3}"},
        )
        for i in range(n)
    ]
    store.upsert_records(records)
    centres = np.eye(3, 8)
    vectors = np.stack([centres[i % 3] + 0.3 * rng.standard_normal(8) for i in range(n)]).astype(np.float32)
    store.set_vectors(F.VECTOR_PAIR, [r.id for r in records], vectors)
    for record in records:
        store.save_response(make_response(record.id))
    return root, store, records


def test_export_select_keeps_n_training_records_and_the_same_test_set(
    make_local_project: ProjectFactory, tmp_path: Path
) -> None:
    _, store, _ = analysed_project(make_local_project)
    full = export_clean_set(store, tmp_path / "full", ExportConfig(version="v1"))
    chosen = export_clean_set(store, tmp_path / "sel", ExportConfig(version="v1", select=20))
    assert chosen.counts["train"] == 20 and full.counts["train"] > 20
    for split in ("validation", "test"):
        assert chosen.counts[split] == full.counts[split]
        ids = {
            s: set(datasets.load_from_disk(str(tmp_path / s / "hf"))[split]["id"]) for s in ("full", "sel")
        }
        assert ids["full"] == ids["sel"]
    manifest = json.loads((tmp_path / "sel" / "manifest.json").read_text())
    picks = manifest["selection"]["records"]
    train_ids = {e["id"] for e in manifest["splits"]["train"]}
    assert {p["id"] for p in picks} == train_ids
    assert all(p["why"].startswith(f"rank {p['rank']};") for p in picks)
    assert manifest["selection"]["pool"] == full.counts["train"]
    assert {c["cluster"] for c in manifest["selection"]["clusters"]} == {0, 1, 2}
    assert chosen.to_json()["selection"]["selected"] == 20
    # Diversity before curation (all records) and after (the exported train split).
    assert manifest["diversity"]["all_records"]["records"] == 60
    assert manifest["diversity"]["train"]["records"] == 20


def test_dry_run_explains_the_selection(make_local_project: ProjectFactory) -> None:
    _, store, _ = analysed_project(make_local_project)
    summary = explain_clean_set(store, ExportConfig(select=10), per_record=True)
    assert summary["selection"]["selected"] == 10
    assert len(summary["selection"]["records"]) == 10
    assert "selection" not in explain_clean_set(store, ExportConfig())


def test_select_without_analysis_names_the_command(make_local_project: ProjectFactory) -> None:
    _, store = make_local_project()
    records = [make_record() for _ in range(3)]
    store.upsert_records(records)
    items = [CleanItem(r, r.output, "", None) for r in records]
    with pytest.raises(NotFoundError, match="pairsmith analyze"):
        select_from_store(store, items, 2)
