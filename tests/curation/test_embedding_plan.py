"""Quality modes: fast embeds only the outputs its decisions need and decides exactly as full does."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from curation import metadata_keys
from curation.analysis.embeddings.models import Embedder, HashingEmbedder, OneTimeCost, get_embedder
from curation.analysis.embeddings.plan import pair_vectors
from curation.analysis.pipeline import AnalysisSettings, analyze_project
from curation.analysis.results import analysis_method, describe_method
from curation.model import Record
from curation.store.base import RecordStore
from tests.factories import make_record

ProjectFactory = Callable[..., tuple[Path, RecordStore]]

PARAPHRASED = [
    ("Where is my parcel? The tracking shows nothing since Monday", "Your parcel left our depot today."),
    ("Where is my parcel, the tracking shows nothing since Monday?", "Your parcel left our depot today!"),
    ("Please refund the broken blender I sent back last week", "We refunded the blender to your card."),
    ("Please refund the broken blender I sent back last week.", "The refund for the blender is on its way."),
]


def _records() -> list[Record]:
    """Four records in two close-input pairs (one with the same answer, one not), and 40 whose
    inputs share nothing with any other."""
    rng = np.random.default_rng(3)
    vocabulary = [f"w{i}q{i * 17 % 89}" for i in range(4000)]
    records = [make_record(id=f"p{i}", input=q, output=a) for i, (q, a) in enumerate(PARAPHRASED)]
    records += [
        make_record(
            id=f"d{i:02d}",
            input=" ".join(rng.choice(vocabulary, 14).tolist()),
            output=" ".join(rng.choice(vocabulary, 30).tolist()) + ".",
        )
        for i in range(40)
    ]
    return records


class Counting(HashingEmbedder):
    """The hashing fake, remembering which texts it embedded and reporting a one-time cost."""

    name = "counting-test"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.texts: list[str] = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super()._embed(texts)

    def prepare(self) -> list[OneTimeCost]:
        return [OneTimeCost(what="a fake table", path="/nowhere", seconds=1.5, made_now=False)]


def _sentence_and_static() -> tuple[Counting, Embedder]:
    # A different dimension gives the static fake its own cache key, as the real static model has.
    return Counting(), get_embedder("hashing", dim=128)


def _linked_pairs(root: Path) -> set[tuple[str, str, str, float, float | None]]:
    doc = json.loads((root / "analysis" / "duplicates.json").read_text(encoding="utf-8"))
    return {
        (p["a"], p["b"], p["tier"], p["score"], p["output_score"]) for g in doc["groups"] for p in g["pairs"]
    }


def test_fast_embeds_outputs_of_candidate_pairs_only_and_decides_as_full(
    make_local_project: ProjectFactory,
) -> None:
    records = _records()
    fast_root, fast_store = make_local_project("fast")
    full_root, full_store = make_local_project("full")
    fast_store.upsert_records(records)
    full_store.upsert_records(records)
    sentence, static = _sentence_and_static()
    fast = analyze_project(
        fast_root, embedder=sentence, static_embedder=static, settings=AnalysisSettings(quality="fast")
    )
    full = analyze_project(
        full_root, embedder=get_embedder("hashing"), settings=AnalysisSettings(quality="full")
    )

    # The sentence model saw every input, and only the outputs of the four close-input records.
    outputs = {r.output for r in records}
    embedded_outputs = [t for t in sentence.texts if t in outputs]
    assert sorted(embedded_outputs) == sorted(a for _, a in PARAPHRASED)
    assert {r.input_text for r in records} <= set(sentence.texts)
    assert fast.method.outputs_embedded == 4 and full.method.outputs_embedded == len(records)
    # ... and the duplicate decisions are exactly those of the full run.
    linked = _linked_pairs(fast_root)
    assert linked == _linked_pairs(full_root)
    # p2 and p3 ask the same but answer differently: their outputs were compared, and they differ.
    assert {(a, b) for a, b, *_ in linked} == {("p0", "p1")}
    assert fast.duplicate_groups == full.duplicate_groups


def test_the_report_records_mode_models_vectors_thresholds_and_one_time_costs(
    make_local_project: ProjectFactory,
) -> None:
    root, store = make_local_project()
    store.upsert_records(_records())
    sentence, static = _sentence_and_static()
    settings = AnalysisSettings(quality="fast")
    settings.semantic.threshold = 0.9
    report = analyze_project(root, embedder=sentence, static_embedder=static, settings=settings)
    method = report.method
    assert method.quality == "fast" and method.device == "cpu"
    assert method.models == {"inputs": sentence.key, "outputs": sentence.key, "coarse_outputs": static.key}
    assert "candidate pairs only" in method.vectors["semantic_dedup"]
    assert "static" in method.vectors["clusters"] and method.vectors["conflicts"].startswith("none")
    assert method.thresholds["semantic_input_cosine"] == 0.9
    assert method.thresholds["near_input_jaccard"] == settings.near.threshold
    assert report.one_time_costs == [
        OneTimeCost(what="a fake table", path="/nowhere", seconds=1.5, made_now=False)
    ]
    assert "prepare_models" in report.timings and report.seconds >= sum(
        v for k, v in report.timings.items() if k != "embed_outputs"
    )
    # Written to report.json, where export and the UI read it.
    assert analysis_method(root) == method.model_dump(mode="json")
    assert describe_method(analysis_method(root)) == "fast quality on cpu (MiniLM embedded 4 outputs)"


def test_fast_stores_static_outputs_and_pair_vectors_for_clusters(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    records = _records()
    store.upsert_records(records)
    sentence, static = _sentence_and_static()
    analyze_project(
        root, embedder=sentence, static_embedder=static, settings=AnalysisSettings(quality="fast")
    )
    ids, outputs = store.get_vectors(metadata_keys.VECTOR_OUTPUT)
    _, inputs = store.get_vectors(metadata_keys.VECTOR_INPUT)
    _, pairs = store.get_vectors(metadata_keys.VECTOR_PAIR)
    by_id = {r.id: r for r in records}
    np.testing.assert_allclose(outputs, static.embed([by_id[i].output for i in ids]), atol=1e-6)
    assert inputs.shape[1] == 256 and outputs.shape[1] == 128 and pairs.shape[1] == 384
    # Sides of different sizes are concatenated: the pair cosine is the mean of the two sides'.
    a, b = 0, 1
    expected = (inputs[a] @ inputs[b] + outputs[a] @ outputs[b]) / 2
    assert pairs[a] @ pairs[b] == pytest.approx(expected, abs=1e-5)


def test_pair_vectors_of_one_model_are_the_normalised_sum() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 8)).astype(np.float32)
    outputs = rng.normal(size=(3, 8)).astype(np.float32)
    inputs /= np.linalg.norm(inputs, axis=1, keepdims=True)
    outputs /= np.linalg.norm(outputs, axis=1, keepdims=True)
    summed = inputs + outputs
    np.testing.assert_allclose(
        pair_vectors(inputs, outputs), summed / np.linalg.norm(summed, axis=1, keepdims=True), rtol=1e-5
    )


def test_fast_reanalysis_embeds_only_what_changed(make_local_project: ProjectFactory) -> None:
    root, store = make_local_project()
    records = _records()
    store.upsert_records(records[:-5])
    analyze_project(
        root,
        embedder=Counting(),
        static_embedder=get_embedder("hashing", dim=128),
        settings=AnalysisSettings(quality="fast"),
    )
    store.upsert_records(records[-5:])
    sentence, static = _sentence_and_static()
    report = analyze_project(
        root, embedder=sentence, static_embedder=static, settings=AnalysisSettings(quality="fast")
    )
    new_inputs = {r.input_text for r in records[-5:]}
    assert (
        set(sentence.texts) == new_inputs
    )  # the new records' distinct inputs; their outputs: no close input
    assert static.calls == 5 and report.embedded_texts == 10


def test_full_mode_without_a_static_model_and_one_embedder_plays_both_roles(
    make_local_project: ProjectFactory,
) -> None:
    root, store = make_local_project()
    store.upsert_records(_records())
    one = Counting()
    report = analyze_project(root, embedder=one)
    # With one embedder for both roles, every output is embedded once in the batch pass.
    assert report.method.outputs_embedded == report.records
    assert report.method.models["coarse_outputs"] == one.key
    assert report.embedded_texts == 2 * report.records
