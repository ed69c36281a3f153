"""The analysis pipeline end to end on a local store (hashing fake embedder; real MiniLM when slow)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from curation import metadata_keys
from curation.analysis.diversity import next_to_review
from curation.analysis.embeddings.models import HashingEmbedder, get_embedder
from curation.analysis.pipeline import AnalysisSettings, analyze_project
from curation.analysis.results import cluster_listing, duplicate_groups, subset_diversity
from curation.model import Record, Suggestion
from curation.store.base import RecordStore
from tests.factories import make_record, make_response

ProjectFactory = Callable[..., tuple[Path, RecordStore]]
TOPICS = [
    "Where is my parcel, the shipping is late and tracking shows nothing",
    "Please refund the broken blender I returned last week",
    "I forgot my password and cannot log into my account",
    "Send me an invoice with VAT for my company purchase",
]


def _records(n: int, start: int = 0) -> list[Record]:
    return [
        make_record(
            id=f"r{i:04d}",
            input=f"{TOPICS[i % 4]} (ticket {i}, customer {i * 7 % 13})",
            output=json.dumps({"category": ["shipping", "refund", "account", "invoice"][i % 4], "n": i}),
        )
        for i in range(start, start + n)
    ]


def _distinct_records(n: int) -> list[Record]:
    """Records whose texts share almost no words (no near or semantic duplicates among them)."""
    rng = np.random.default_rng(5)
    vocabulary = [f"w{i}x{i * 31 % 97}" for i in range(3000)]
    return [
        make_record(
            id=f"d{i:03d}",
            input=" ".join(rng.choice(vocabulary, 12).tolist()),
            output=" ".join(rng.choice(vocabulary, 12).tolist()) + ".",
        )
        for i in range(n)
    ]


def _analyze(root: Path, embedder: HashingEmbedder | None = None, **settings: object):  # type: ignore[no-untyped-def]
    return analyze_project(
        root, embedder=embedder or get_embedder("hashing"), settings=AnalysisSettings(**settings)
    )  # type: ignore[arg-type]


def test_zero_records_write_empty_artifacts(make_local_project: ProjectFactory) -> None:
    root, _ = make_local_project()
    report = _analyze(root)
    assert report.records == 0 and report.clusters == 0 and report.embedded_texts == 0
    assert duplicate_groups(root) == [] and cluster_listing(root)["clusters"] == []
    assert subset_diversity(root)["records"] == 0


def test_one_record_gets_a_cluster_and_map_position(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records(_records(1))
    report = _analyze(root)
    assert report.records == 1 and report.clusters == 1
    meta = store.get_record("r0000").metadata
    assert meta[metadata_keys.CLUSTER] == 0 and metadata_keys.MAP_X in meta and metadata_keys.FLAGS in meta
    assert metadata_keys.DUP_GROUP not in meta


def test_results_land_in_metadata_vectors_and_artifacts(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records([*_records(40), make_record(id="empty", input="Where is my order?", output="")])
    store.upsert_records(
        [
            make_record(
                id="r0000-copy",
                input=TOPICS[0] + " (ticket 0, customer 0)",
                output=json.dumps({"category": "shipping", "n": 0}),
            )
        ]
    )
    report = _analyze(root, clusters={"k": 4})
    assert report.clusters == 4 and sum(report.duplicate_groups.values()) >= 1
    assert set(store.vector_names()) == {
        metadata_keys.VECTOR_INPUT,
        metadata_keys.VECTOR_OUTPUT,
        metadata_keys.VECTOR_PAIR,
    }
    ids, matrix = store.get_vectors(metadata_keys.VECTOR_PAIR)
    assert len(ids) == 42 and np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    copy = store.get_record("r0000-copy").metadata
    assert (
        copy[metadata_keys.DUP_TIER] == "exact"
        and copy[metadata_keys.DUP_GROUP] == store.get_record("r0000").metadata[metadata_keys.DUP_GROUP]
    )
    empty = store.get_record("empty")
    assert "empty_output" in empty.metadata[metadata_keys.FLAGS]
    assert [s.value for s in empty.suggestions] == ["bad"]
    # The exact copy and near copies of the template form one star; its tier is its weakest link.
    [group] = [g for g in duplicate_groups(root) if "r0000" in {r["id"] for r in g["records"]}]
    assert {"r0000", "r0000-copy"} <= {r["id"] for r in group["records"]} and group["tier"] == "near"
    assert all(isinstance(r["source_row"], int) for r in group["records"]) and group["keeper"] in {
        r["id"] for r in group["records"]
    }
    listing = cluster_listing(root)
    assert sum(c["size"] for c in listing["clusters"]) == 42
    assert all({"id", "source_row"} <= set(m) for c in listing["clusters"] for m in c["records"])
    report_json = json.loads((root / "analysis" / "report.json").read_text())
    assert report_json["settings"]["clusters"]["k"] == 4


def test_reanalysis_replaces_stale_results_and_keeps_other_suggestions(
    make_local_project: ProjectFactory,
) -> None:
    root, store = make_local_project()
    records = _distinct_records(20)
    store.upsert_records([*records, records[1].model_copy(update={"id": "dupe"})])
    _analyze(root)
    assert metadata_keys.DUP_GROUP in store.get_record("dupe").metadata
    store.delete_records(["d001"])
    store.set_suggestions({"dupe": [Suggestion(question="label", value="good", agent="my-model")]})
    _analyze(root)
    dupe = store.get_record("dupe")
    assert metadata_keys.DUP_GROUP not in dupe.metadata and [s.agent for s in dupe.suggestions] == [
        "my-model"
    ]


def test_reanalysis_embeds_only_new_records(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records(_records(300))
    first = get_embedder("hashing")
    assert _analyze(root, first).embedded_texts == first.calls == 600
    store.upsert_records(_records(100, start=300))
    again = get_embedder("hashing")
    report = _analyze(root, again)
    assert again.calls == 200 and report.embedded_texts == 200 and report.cached_texts == 600


def test_all_identical_records_form_one_exact_group(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records(
        [
            make_record(id=f"same{i:02d}", input="Where is my order?", output='{"category": "shipping"}')
            for i in range(30)
        ]
    )
    report = _analyze(root)
    [group] = duplicate_groups(root)
    assert group["tier"] == "exact" and len(group["records"]) == 30
    assert report.clusters == 1 and subset_diversity(root)["vendi_score"] == pytest.approx(1.0, abs=0.01)


def test_non_english_and_very_long_texts(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records(
        [
            make_record(
                id="de",
                input="Wo ist meine Bestellung? Sie ist seit zwei Wochen unterwegs.",
                output="Sie kommt morgen.",
            ),
            make_record(id="ja", input="注文した商品がまだ届きません。", output="明日お届けします。"),
            make_record(id="ar", input="أين طلبي؟ لقد تأخر كثيرا", output="سيصل غدا"),
            make_record(id="long", input="word " * 20_000, output="ok " * 20_000),
            *_records(8),
        ]
    )
    report = _analyze(root)
    assert report.records == 12
    assert store.get_record("de").metadata[metadata_keys.LANGUAGE] == "de"
    assert (
        metadata_keys.CLUSTER in store.get_record("ja").metadata
        and metadata_keys.CLUSTER in store.get_record("long").metadata
    )


def test_subset_diversity_and_sampler(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records(_records(80))
    _analyze(root, clusters={"k": 4})
    for i in range(0, 80, 4):  # review only the first topic (20 records: enough to judge coverage)
        store.save_response(make_response(f"r{i:04d}", values={"label": "good"}))
    reviewed = subset_diversity(root, status="submitted")
    assert reviewed["records"] == 20 and reviewed["clusters_covered"] == 1
    assert len(reviewed["thin"]) == 3 and any("no records here" in h for h in reviewed["hints"])
    assert subset_diversity(root, label="good")["records"] == 20
    picks = next_to_review(store, 3)
    topics = {int(p[1:]) % 4 for p in picks}
    assert len(picks) == 3 and 0 not in topics and len(topics) == 3


def test_a_text_repeated_in_one_run_is_not_a_cache_hit(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    store.upsert_records(
        [
            make_record(id=f"c{i:02d}", input=f"question {i} about {TOPICS[i % 4]}", output="Noted.")
            for i in range(20)
        ]
    )
    first = _analyze(root)
    # 20 inputs and one reply, all new: the reply's 19 repeats are neither embedded nor cache hits.
    assert first.embedded_texts == 21 and first.cached_texts == 0
    again = _analyze(root)
    assert again.embedded_texts == 0 and again.cached_texts == 21
