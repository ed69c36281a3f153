"""The static model: distilled once from the bundled MiniLM (no hub), cached, and reported as a
one-time cost; its vectors are normalised and put paraphrases closer than unrelated texts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.analysis.embeddings.models import get_embedder
from curation.analysis.embeddings.static import BUILD_FILE, StaticEmbedder
from curation.errors import NotFoundError

pytestmark = pytest.mark.slow


def test_distilled_once_then_reused_and_vectors_keep_meaning() -> None:
    first = get_embedder("static")
    costs = first.prepare()
    assert len(costs) == 1 and "all-MiniLM-L6-v2" in costs[0].what and costs[0].seconds is not None
    folder = Path(costs[0].path)
    assert (folder / BUILD_FILE).exists() and json.loads((folder / BUILD_FILE).read_text())["dims"] == 384
    again = get_embedder("static").prepare()
    assert again[0].made_now is False and again[0].path == costs[0].path
    vectors = first.embed(
        ["I want to cancel my order", "please cancel the order I placed", "what is the weather in Oslo"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    # Same dimension as the sentence model, so vectors stored under one name keep one size.
    assert first.dim == get_embedder("minilm").dim
    assert first.key == get_embedder("static").key != get_embedder("static", max_length=128).key


def test_a_folder_that_is_not_a_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"config\.json"):
        StaticEmbedder(StaticEmbedder.Settings(source=str(tmp_path))).prepare()
