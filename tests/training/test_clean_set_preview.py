"""The Export page's preview: the clean-set summary, the diversity of what goes in, and warnings."""

from __future__ import annotations

import numpy as np

from curation import metadata_keys as F
from curation.model import Response
from tests.factories import make_record
from training.clean_set_preview import FEW_RECORDS, clean_set_warnings, preview_clean_set
from training.export_config import ExportConfig


def summary(included: int, unreviewed: int = 0, hints: list[str] | None = None) -> dict:
    return {
        "included": included,
        "excluded_by": {"unreviewed": unreviewed} if unreviewed else {},
        "diversity": {"hints": hints} if hints else None,
    }


def test_warnings_empty_few_unreviewed_and_diversity_hints():
    assert clean_set_warnings(summary(0)) == [
        "The clean set is empty: review some records (label them good) before exporting."
    ]
    assert "Only 1 record would be exported" in clean_set_warnings(summary(1))[0]
    assert "Only 12 records" in clean_set_warnings(summary(12))[0]
    assert clean_set_warnings(summary(FEW_RECORDS)) == []
    assert clean_set_warnings(summary(60, unreviewed=100)) == [
        "100 records are not reviewed yet and are left out."
    ]
    hints = ["a", "b", "c", "d"]
    assert clean_set_warnings(summary(60, hints=hints)) == ["Diversity: a", "Diversity: b", "Diversity: c"]


def test_preview_counts_and_measures_the_diversity_of_the_included_records(make_local_project):
    _, store = make_local_project()
    records = [
        make_record(id=f"r{i}", metadata={F.CLUSTER: i % 2, F.CLUSTER_NAME: f"topic {i % 2}"})
        for i in range(6)
    ]
    store.upsert_records(records)
    store.set_vectors(F.VECTOR_INPUT, [r.id for r in records], np.eye(6, 8, dtype=np.float32))
    for r in records[:4]:
        store.save_response(
            Response(record_id=r.id, user="ann", values={"label": "good"}, status="submitted")
        )
    preview = preview_clean_set(store)
    assert (preview["records"], preview["included"], preview["excluded_by"]) == (6, 4, {"unreviewed": 2})
    assert preview["diversity"]["clusters_covered"] == 2
    assert any("Only 4 records" in w for w in preview["warnings"])
    everything = preview_clean_set(store, ExportConfig(include_unreviewed=True))
    assert everything["included"] == 6


def test_preview_before_analysis_has_no_diversity(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id="r1")])
    assert preview_clean_set(store)["diversity"] is None
