"""The per-user cache of derived model files (converted tokenizers, base models, ONNX exports)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "PAIRSMITH_CACHE"


def user_cache_dir(kind: str) -> Path:
    """``$PAIRSMITH_CACHE/<kind>``, or ``~/.cache/pairsmith/<kind>`` when the variable is unset."""
    root = os.environ.get(CACHE_ENV)
    return (Path(root) if root else Path.home() / ".cache" / "pairsmith") / kind
