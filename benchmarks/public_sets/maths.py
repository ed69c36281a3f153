"""Maths word problems whose answers end in a number (the case a truncation check must not flag).

Rows: ``{"question": str, "answer": str}``; the answer is a worked solution ending ``#### <number>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register

GSM8K_TEST = "grade_school_math/data/test.jsonl"


def _gsm8k(folder: Path) -> Iterator[Row]:
    for line in (folder / GSM8K_TEST).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            yield {"question": item["question"], "answer": item["answer"]}


register(
    PublicSet(
        name="gsm8k",
        repo="openai/grade-school-math",
        files=(GSM8K_TEST, "LICENSE"),
        licence="MIT",
        description="GSM8K test split (Cobbe et al., 2021): 1,319 grade-school maths problems, answers end '#### N'",
        load=_gsm8k,
        shape="maths",
        redistributable=True,
    )
)
