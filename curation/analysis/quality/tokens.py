"""Token counts with the training model's tokenizer (SmolLM2's, read from its GGUF file once, then cached)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from curation.files import user_cache_dir
from curation.packaged_models import smollm2_gguf_path

TokenCounter = Callable[[Sequence[str]], list[int]]

_TOKENIZER_LOCK = threading.Lock()


def _cache_root() -> Path:
    return user_cache_dir("tokenizers")


def bundled_tokenizer_gguf() -> Path:
    """SmolLM2's GGUF file, whose tokenizer the token counts use."""
    return smollm2_gguf_path(
        needed_for="token counts (the training model's tokenizer)",
        otherwise="pass tokenizer=None to count words",
    )


@lru_cache(maxsize=4)
def load_tokenizer(gguf: str | None = None) -> Any:
    """The tokenizer stored in a GGUF file (default: SmolLM2's) as a ``tokenizers.Tokenizer``.

    Reading it from the GGUF file through transformers takes ~10 s, so the first load saves
    ``tokenizer.json`` under ``$PAIRSMITH_CACHE/tokenizers`` and later loads read that (< 1 s).
    """
    from tokenizers import Tokenizer

    path = Path(gguf) if gguf else bundled_tokenizer_gguf()
    target = _cache_root() / f"{path.stem}-{path.stat().st_size}"
    with _TOKENIZER_LOCK:
        if not (target / "tokenizer.json").exists():
            _convert_tokenizer(path, target)
        if (target / "tokenizer.json").exists():
            tokenizer = Tokenizer.from_file(str(target / "tokenizer.json"))
        else:  # the cache could not be written: use the converted tokenizer directly
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).backend_tokenizer
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _convert_tokenizer(gguf: Path, target: Path) -> None:
    """Save the GGUF file's tokenizer as a plain tokenizer folder at ``target`` (atomically)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tok-", dir=target.parent))
        tokenizer.save_pretrained(str(staging))
        staging.rename(target)
    except OSError:
        # A read-only or racing cache only costs the next run another slow load.
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def token_counter(tokenizer: Any) -> TokenCounter:
    """Count tokens without special tokens, with a ``tokenizers.Tokenizer`` or a transformers
    tokenizer; count whitespace-separated words when ``tokenizer`` is None."""
    if tokenizer is None:
        return lambda texts: [len(t.split()) for t in texts]
    if hasattr(tokenizer, "encode_batch"):
        return lambda texts: [
            len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ]

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    return count
