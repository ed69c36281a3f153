"""Embedders and the content-hash cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.analysis.embeddings.cache import EmbeddingCache, embed_cached, embed_records
from curation.analysis.embeddings.models import (
    EMBEDDERS,
    Embedder,
    HashingEmbedder,
    HashingSettings,
    get_embedder,
    register_embedder,
)
from curation.errors import BadInputError, NotFoundError
from curation.metadata_keys import VECTOR_INPUT, VECTOR_OUTPUT, VECTOR_PAIR
from tests.factories import make_chat_record, make_record


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    texts = ["refund my order", "Refund my order please", "日本語のテキスト", ""]
    a = get_embedder("hashing").embed(texts)
    b = get_embedder("hashing").embed(texts)
    assert a.dtype == np.float32 and a.shape == (4, 256)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a[:3], axis=1), 1.0, rtol=1e-5)
    assert np.linalg.norm(a[3]) == 0.0  # empty text: a zero vector, not NaN
    assert a[0] @ a[1] > 0.6 > a[0] @ a[2]


def test_embed_keeps_input_order_while_batching_by_length() -> None:
    embedder = get_embedder("hashing", batch_size=2)
    texts = ["a much longer text than the others here", "short", "mid length text", "x"]
    together = embedder.embed(texts)
    one_by_one = np.vstack([embedder.embed([t]) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)


def test_cache_embeds_each_distinct_text_once(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    embedder = get_embedder("hashing")
    first, fresh = embed_cached(["a", "b", "a"], embedder, cache)
    assert fresh == 2 and embedder.calls == 2
    again, fresh = embed_cached(["b", "c", "a"], embedder, cache)
    assert fresh == 1 and embedder.calls == 3
    np.testing.assert_array_equal(again[0], first[1])
    cache.close()
    reopened = EmbeddingCache(tmp_path / "cache.sqlite")
    assert reopened.count(embedder.key) == 3


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    small, large = get_embedder("hashing", dim=16), get_embedder("hashing", dim=32)
    embed_cached(["same text"], small, cache)
    vectors, fresh = embed_cached(["same text"], large, cache)
    assert fresh == 1 and vectors.shape == (1, 32)


def test_embed_records_gives_three_vectors_and_pair_is_normalised() -> None:
    records = [make_record(), make_chat_record(), make_record(input="日本語の質問", output="")]
    vectors, counts = embed_records(records, get_embedder("hashing"), None)
    assert set(vectors) == {VECTOR_INPUT, VECTOR_OUTPUT, VECTOR_PAIR}
    assert all(v.shape == (3, 256) for v in vectors.values())
    np.testing.assert_allclose(np.linalg.norm(vectors[VECTOR_PAIR], axis=1), 1.0, rtol=1e-5)
    assert counts.embedded == 6 and counts.cached == 0


def test_registry_accepts_new_embedders_and_rejects_unknown_names() -> None:
    class Constant(HashingEmbedder):
        name = "constant-test"

    register_embedder(Constant)
    try:
        assert isinstance(get_embedder("constant-test"), Embedder)
    finally:
        EMBEDDERS.pop("constant-test")
    with pytest.raises(BadInputError, match="unknown embedder 'nope'"):
        get_embedder("nope")
    with pytest.raises(BadInputError, match=r"embedder 'hashing', dim: .*greater than or equal to 8"):
        get_embedder("hashing", dim=3)
    assert HashingSettings.model_json_schema()["properties"]["dim"]["minimum"] == 8


def test_minilm_with_a_missing_folder_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not a sentence-transformers model directory"):
        get_embedder("minilm", model_path=str(tmp_path))


@pytest.mark.slow
def test_minilm_embeds_offline_with_paraphrases_close() -> None:
    embedder = get_embedder("minilm")
    vectors = embedder.embed(
        ["How do I get a refund?", "What is the way to obtain a refund?", "Die Katze schläft auf dem Sofa."]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert vectors[0] @ vectors[1] > 0.8 > vectors[0] @ vectors[2]
    long = embedder.embed(["word " * 5000])  # truncated to max_seq_length, not an error
    assert np.isclose(np.linalg.norm(long), 1.0, rtol=1e-4)
