"""Fine-tuning data of common shapes, for the real-data regression suite (benchmarks/real_data.py).

Rows are the files' own records (loaded as JSON); real_data.py imports the fetched files with
``pairsmith import`` exactly as a user would.

| set | shape | file |
|---|---|---|
| ``gsm8k`` | maths word problems, answers ending in ``#### <number>`` | ``grade_school_math/data/test.jsonl`` (1,319) |
| ``alpaca-demo`` | instructions with long-form answers | ``data/alpaca_en_demo.json`` (999) |
| ``glaive-toolcall-demo`` | ShareGPT chats with ``function_call`` / ``observation`` turns | ``data/glaive_toolcall_en_demo.json`` (300) |
| ``fastchat-dummy`` | multi-turn ShareGPT chats (1–3 turns) | ``data/dummy_conversation.json`` (500) |
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register


def _jsonl(path: str) -> Callable[[Path], Iterator[Row]]:
    def load(folder: Path) -> Iterator[Row]:
        for line in (folder / path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)

    return load


def _json(path: str) -> Callable[[Path], Iterator[Row]]:
    def load(folder: Path) -> Iterator[Row]:
        yield from json.loads((folder / path).read_text(encoding="utf-8"))

    return load


register(
    PublicSet(
        name="gsm8k",
        repo="openai/grade-school-math",
        files=("grade_school_math/data/test.jsonl", "LICENSE"),
        licence="MIT",
        description="GSM8K test split (Cobbe et al., 2021): 1,319 grade-school maths problems; each answer "
        "is a worked solution ending in '#### <number>'",
        load=_jsonl("grade_school_math/data/test.jsonl"),
        shape="maths, numeric answers",
    )
)
register(
    PublicSet(
        name="alpaca-demo",
        repo="hiyouga/LLaMA-Factory",
        files=("data/alpaca_en_demo.json", "LICENSE"),
        licence="Apache-2.0 (repository); Alpaca data CC-BY-NC-4.0",
        description="999 Alpaca-format instructions with long-form answers (LLaMA-Factory's English demo set)",
        load=_json("data/alpaca_en_demo.json"),
        shape="long-form answers",
    )
)
register(
    PublicSet(
        name="glaive-toolcall-demo",
        repo="hiyouga/LLaMA-Factory",
        files=("data/glaive_toolcall_en_demo.json", "LICENSE"),
        licence="Apache-2.0 (repository); Glaive function-calling data Apache-2.0",
        description="300 ShareGPT chats with tool roles (function_call, observation) and a tools list",
        load=_json("data/glaive_toolcall_en_demo.json"),
        shape="tool calls",
    )
)
register(
    PublicSet(
        name="fastchat-dummy",
        repo="lm-sys/FastChat",
        files=("data/dummy_conversation.json", "LICENSE"),
        licence="Apache-2.0",
        description="500 multi-turn ShareGPT conversations (FastChat's sample training file)",
        load=_json("data/dummy_conversation.json"),
        shape="multi-turn chat",
    )
)
