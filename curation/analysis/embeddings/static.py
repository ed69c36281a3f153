"""Static embeddings: a model2vec lookup table distilled once, locally, from the sentence model.

Why: on a CPU a transformer costs ~1 ms per token, and in a fine-tuning set most tokens are in the
outputs (Bitext: 91 %). A static model looks each token up in a table and averages: ~200× faster,
and it reads the whole text instead of the transformer's first 128 tokens. It is too coarse to
decide duplicates on its own (it groups texts across intents), so the analysis uses it only where a
coarse vector is enough: the output half of the vectors clusters and diversity use, and the
pre-filter that keeps the transformer off output pairs that are clearly different
(curation/analysis/embeddings/plan.py).

The table is distilled with model2vec (``model2vec.distill``: one forward pass of the transformer
per vocabulary token, PCA, SIF weighting; no model hub, ~1.5 min on two cores) from the bundled
all-MiniLM-L6-v2, or any local sentence-transformers folder, and cached under
``$PAIRSMITH_CACHE/static/`` keyed by the source model's files, so later runs only load it. How long
the distillation took is saved beside it and shown in every analysis report as a one-time cost.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation.analysis.embeddings.models import (
    Embedder,
    OneTimeCost,
    default_model_path,
    model_label,
    register_embedder,
)
from curation.analysis.embeddings.onnx import model_fingerprint
from curation.errors import BackendError, NotFoundError
from curation.files import atomic_directory, user_cache_dir

DISTILL_VERSION = 1
"""Bump when the distillation recipe changes, so stale cached tables are not reused."""
BUILD_FILE = "pairsmith-build.json"


class StaticSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_path: str | None = Field(
        default=None, description="A ready model2vec folder; default: distilled from `source`, cached"
    )
    source: str | None = Field(
        default=None,
        description="The sentence-transformers folder to distill from; default: bundled all-MiniLM-L6-v2",
    )
    dims: int | None = Field(
        default=None,
        ge=8,
        le=4096,
        description="Dimensions kept by PCA; default: the source model's, so vectors stored under one "
        "name keep one size whichever mode made them",
    )
    max_length: int = Field(default=512, ge=8, description="Tokens read per text (the whole of most texts)")
    batch_size: int = Field(default=1024, ge=1)


def _source_dim(source: Path) -> int:
    config = source / "config.json"
    if not config.exists():
        raise NotFoundError(f"{source} has no config.json: pass a sentence-transformers model folder")
    hidden = json.loads(config.read_text(encoding="utf-8")).get("hidden_size")
    if not isinstance(hidden, int):
        raise NotFoundError(f"{config} names no hidden_size; pass `dims` for the static model")
    return hidden


def distilled_model(source: Path, dims: int) -> tuple[Path, OneTimeCost]:
    """The cached model2vec folder distilled from ``source`` at ``dims``; distilled now if absent."""
    fingerprint = model_fingerprint(source, salt=f"static:{DISTILL_VERSION}:{dims}")
    target = user_cache_dir("static") / fingerprint
    build = target / BUILD_FILE
    what = f"static model distilled from {model_label(source)} ({dims} dims)"
    if build.exists():
        seconds = float(json.loads(build.read_text(encoding="utf-8")).get("seconds", 0.0))
        return target, OneTimeCost(what=what, path=str(target), seconds=seconds, made_now=False)
    start = time.perf_counter()
    try:
        from model2vec.distill import distill
    except ImportError as exc:  # pragma: no cover - model2vec's distill needs torch and transformers
        raise BackendError(
            f"distilling the static model needs model2vec, torch and transformers ({exc}); "
            "install pairsmith's dependencies or use `--quality full`"
        ) from exc
    try:
        # The source is a local folder, so model2vec reads it without the hub; `device` is fixed to
        # the CPU so the table is the same on every machine.
        model = distill(str(source), pca_dims=dims, device="cpu")
    except Exception as exc:  # a broken folder surfaces as many different library errors
        raise BackendError(f"distilling a static model from {source} failed: {exc}") from exc
    seconds = round(time.perf_counter() - start, 1)
    with atomic_directory(target) as staging:
        model.save_pretrained(str(staging))
        (staging / BUILD_FILE).write_text(
            json.dumps({"seconds": seconds, "source": str(source), "dims": dims, "version": DISTILL_VERSION}),
            encoding="utf-8",
        )
    return target, OneTimeCost(what=what, path=str(target), seconds=seconds, made_now=True)


class StaticEmbedder(Embedder):
    """model2vec static vectors: a token table averaged, no transformer at run time."""

    name = "static"
    Settings = StaticSettings

    def __init__(self, settings: BaseModel | None = None) -> None:
        super().__init__(settings)
        assert isinstance(self.settings, StaticSettings)
        self.source = Path(self.settings.source) if self.settings.source else default_model_path()
        self._model: Any = None
        self._path: Path | None = Path(self.settings.model_path) if self.settings.model_path else None
        self._costs: list[OneTimeCost] = []

    def _folder(self) -> Path:
        if self._path is None:
            assert isinstance(self.settings, StaticSettings)
            dims = self.settings.dims or _source_dim(self.source)
            self._path, cost = distilled_model(self.source, dims)
            self._costs = [cost]
        return self._path

    def prepare(self) -> list[OneTimeCost]:
        self._load()
        return list(self._costs)

    def _load(self) -> Any:
        if self._model is None:
            from model2vec import StaticModel

            folder = self._folder()
            if not (folder / "config.json").exists():
                raise NotFoundError(f"{folder} is not a model2vec folder (no config.json)")
            assert isinstance(self.settings, StaticSettings)
            self._model = StaticModel.from_pretrained(
                str(folder), normalize=True, max_length=self.settings.max_length, force_download=False
            )
        return self._model

    @property
    def key(self) -> str:
        assert isinstance(self.settings, StaticSettings)
        if self.settings.model_path:
            return f"m2v:{Path(self.settings.model_path).resolve()}:{self.settings.max_length}"
        dims = self.settings.dims or _source_dim(self.source)
        fingerprint = model_fingerprint(self.source, salt=f"static:{DISTILL_VERSION}:{dims}")
        return f"m2v:{fingerprint}:{self.settings.max_length}"

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def _embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        return np.asarray(
            model.encode(texts, batch_size=len(texts), show_progress_bar=False, use_multiprocessing=False),
            dtype=np.float32,
        )


register_embedder(StaticEmbedder)
