"""Multi-turn chat data for the real-data regression suite (benchmarks/real_data.py).

``fastchat-dummy``: FastChat's sample training file, 500 ShareGPT conversations of 1–3 turns.
Rows are the file's own records. (GSM8K, the Alpaca, Glaive tool-call, DPO and content-parts demos
are registered by ``maths.py`` and ``chat_shapes.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register


def _json(path: str) -> Callable[[Path], Iterator[Row]]:
    def load(folder: Path) -> Iterator[Row]:
        yield from json.loads((folder / path).read_text(encoding="utf-8"))

    return load


register(
    PublicSet(
        name="fastchat-dummy",
        repo="lm-sys/FastChat",
        files=("data/dummy_conversation.json", "LICENSE"),
        licence="Apache-2.0",
        description="500 multi-turn ShareGPT conversations (FastChat's sample training file)",
        load=_json("data/dummy_conversation.json"),
        shape="multi-turn chat",
        redistributable=True,
    )
)
