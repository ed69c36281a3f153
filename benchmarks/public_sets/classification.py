"""Classification sets: distinct inputs whose output is a label (or one constant reply).

Rows: ``{"input": str, "label": str}``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register


def _banking77(folder: Path) -> Iterator[Row]:
    text = (folder / "banking_data" / "train.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        yield {"input": row["text"], "label": row["category"]}


register(
    PublicSet(
        name="banking77",
        repo="PolyAI-LDN/task-specific-datasets",
        files=("banking_data/train.csv", "LICENSE"),
        licence="CC-BY-4.0",
        description="BANKING77 (Casanueva et al., 2020): 10,003 online-banking queries over 77 intents",
        load=_banking77,
        shape="classification",
        redistributable=True,
    )
)
