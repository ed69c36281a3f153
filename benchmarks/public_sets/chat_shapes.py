"""Instruction and chat sets in the shapes people fine-tune on: Alpaca, ShareGPT with tool calls,
content parts, preference pairs (ShareGPT ``chosen``/``rejected``, hh-rlhf transcripts).

The import tests read these files as they are (``import_file`` on the fetched path); the loaders
here give plain rows for the benchmarks:

- ``alpaca-en-demo``: ``{"instruction", "input", "output"}``
- ``glaive-toolcall-demo``: ``{"conversations": [{"from", "value"}], "tools"}``
- ``dpo-en-demo``: ``{"conversations", "chosen": {"from", "value"}, "rejected": {...}}``
- ``llamafactory-v1-sft-demo``: ``{"messages": [{"role", "content": [{"type": "text", "value"}]}]}``
- ``hh-rlhf-harmless-test``: ``{"chosen": "\\n\\nHuman: ...\\n\\nAssistant: ...", "rejected": ...}``
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register

LLAMA_FACTORY = "hiyouga/LLaMA-Factory"
LLAMA_FACTORY_LICENCE = "Apache-2.0"
HH_HARMLESS_TEST = "harmless-base/test.jsonl.gz"


def json_file(path: str) -> Callable[[Path], Iterator[Row]]:
    def load(folder: Path) -> Iterator[Row]:
        yield from json.loads((folder / path).read_text(encoding="utf-8"))

    return load


def jsonl_file(path: str) -> Callable[[Path], Iterator[Row]]:
    def load(folder: Path) -> Iterator[Row]:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(folder / path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    return load


def _llama_factory(name: str, path: str, description: str, shape: str, *, lines: bool = False) -> None:
    register(
        PublicSet(
            name=name,
            repo=LLAMA_FACTORY,
            files=(path, "LICENSE", "data/README.md"),
            licence=LLAMA_FACTORY_LICENCE,
            description=description,
            load=jsonl_file(path) if lines else json_file(path),
            shape=shape,
            redistributable=True,
        )
    )


_llama_factory(
    "alpaca-en-demo",
    "data/alpaca_en_demo.json",
    "LLaMA-Factory's Alpaca demo: 999 English instruction/output pairs (lists, code, maths, hashtags)",
    "instruction (alpaca)",
)
_llama_factory(
    "glaive-toolcall-demo",
    "data/glaive_toolcall_en_demo.json",
    "LLaMA-Factory's Glaive tool-call demo: 300 ShareGPT chats with function_call/observation turns",
    "chat with tool calls",
)
_llama_factory(
    "dpo-en-demo",
    "data/dpo_en_demo.json",
    "LLaMA-Factory's DPO demo: 300 ShareGPT conversations with a chosen and a rejected reply",
    "preference (sharegpt)",
)
_llama_factory(
    "llamafactory-v1-sft-demo",
    "data/v1_sft_demo.jsonl",
    "LLaMA-Factory's v1 SFT demo: 500 chats whose content is a list of {type: text, value} parts",
    "chat (content parts)",
    lines=True,
)

register(
    PublicSet(
        name="hh-rlhf-harmless-test",
        repo="anthropics/hh-rlhf",
        files=(HH_HARMLESS_TEST, "LICENSE"),
        licence="MIT",
        description="Anthropic HH-RLHF harmless-base test split: 2,312 chosen/rejected dialogue transcripts",
        load=jsonl_file(HH_HARMLESS_TEST),
        shape="preference (transcripts)",
        redistributable=True,
    )
)
