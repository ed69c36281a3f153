"""The ONNX Runtime embedding backend: layout checks, pooling, settings, and parity with PyTorch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from curation.analysis.embeddings.models import SentenceTransformerEmbedder, default_model_path, get_embedder
from curation.analysis.embeddings.onnx import UnsupportedModelError, pool, read_layout
from curation.errors import BadInputError


def write_model_dir(root: Path, modules: list[dict[str, str]], pooling: dict[str, object]) -> Path:
    """A folder with just the files the layout check reads (no weights: nothing is loaded)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text("{}", encoding="utf-8")
    (root / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    (root / "1_Pooling").mkdir(exist_ok=True)
    (root / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    return root


TRANSFORMER = {"idx": "0", "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": "1", "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
MEAN = {"word_embedding_dimension": 8, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}


def test_layout_of_the_bundled_model_is_mean_pooled_384() -> None:
    layout = read_layout(default_model_path())
    assert (layout.pooling, layout.dim) == ("mean", 384)


def test_layout_reads_cls_pooling(tmp_path: Path) -> None:
    cls = {"word_embedding_dimension": 8, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    assert read_layout(write_model_dir(tmp_path, [TRANSFORMER, POOLING], cls)).pooling == "cls"


def test_models_with_other_layers_are_unsupported_and_auto_falls_back_to_torch(tmp_path: Path) -> None:
    dense = {"idx": "2", "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    model = write_model_dir(tmp_path, [TRANSFORMER, POOLING, dense], MEAN)
    with pytest.raises(UnsupportedModelError, match="Dense"):
        read_layout(model)
    embedder = get_embedder("minilm", model_path=str(model))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder._wants_onnx() is False  # auto: PyTorch runs what the exporter cannot


def test_two_pooling_modes_at_once_are_unsupported(tmp_path: Path) -> None:
    both = {**MEAN, "pooling_mode_max_tokens": True}
    with pytest.raises(UnsupportedModelError, match="exactly one"):
        read_layout(write_model_dir(tmp_path, [TRANSFORMER, POOLING], both))


def test_mean_pooling_ignores_padding() -> None:
    tokens = np.array([[[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    assert pool(tokens, mask, "mean").tolist() == [[2.0, 2.0]]
    assert pool(tokens, mask, "max").tolist() == [[3.0, 3.0]]
    assert pool(tokens, mask, "cls").tolist() == [[1.0, 1.0]]


def test_int8_is_refused_outside_onnx_on_cpu() -> None:
    with pytest.raises(BadInputError, match="int8 runs only on the onnx backend"):
        get_embedder("minilm", precision="int8", backend="torch")
    with pytest.raises(BadInputError, match="int8 runs only on the onnx backend"):
        get_embedder("minilm", precision="int8", device="cuda")
    with pytest.raises(BadInputError, match="precision"):
        get_embedder("minilm", precision="int4")


def test_int8_vectors_have_their_own_cache_key_and_fp32_backends_share_one() -> None:
    onnx, torch = get_embedder("minilm", backend="onnx"), get_embedder("minilm", backend="torch")
    int8 = get_embedder("minilm", precision="int8")
    assert onnx.key == torch.key != int8.key


@pytest.mark.slow
def test_onnx_fp32_matches_pytorch_and_int8_stays_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAIRSMITH_CACHE", str(tmp_path / "cache"))
    texts = [
        "How do I get a refund?",
        "What is the way to obtain a refund?",
        "Die Katze schläft auf dem Sofa.",
        "",
        "word " * 5000,  # truncated to max_seq_length, as sentence-transformers does
        "短い日本語のテキスト",
    ]
    exact = get_embedder("minilm", backend="torch").embed(texts)
    onnx = get_embedder("minilm", backend="onnx").embed(texts)
    assert onnx.shape == exact.shape == (len(texts), 384)
    assert np.min(np.sum(onnx * exact, axis=1)) > 0.9999
    int8 = get_embedder("minilm", precision="int8").embed(texts)
    assert np.min(np.sum(int8 * exact, axis=1)) > 0.95
    assert int8[0] @ int8[1] > 0.8 > int8[0] @ int8[2]
    exported = sorted(p.name for p in (tmp_path / "cache" / "onnx").glob("*/*.onnx"))
    assert exported == ["model-fp32.onnx", "model-int8.onnx"]  # fp32 exported once, reused for int8


@pytest.mark.slow
def test_a_changed_model_folder_is_exported_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAIRSMITH_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    shutil.copytree(default_model_path(), model)
    first = get_embedder("minilm", model_path=str(model), backend="onnx").embed(["a text"])
    (model / "README.md").write_text("edited", encoding="utf-8")
    second = get_embedder("minilm", model_path=str(model), backend="onnx").embed(["a text"])
    assert len(list((tmp_path / "cache" / "onnx").iterdir())) == 2
    assert np.allclose(first, second, atol=1e-6)
