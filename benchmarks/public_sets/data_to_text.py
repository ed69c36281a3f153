"""Data-to-text sets: a structured meaning representation in, one short fluent text out.

Rows: ``{"mr": str, "ref": str, "split": "devel" | "test"}``; an MR (``name[The Eagle], food[French]``)
has several human references, one row each.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register

E2E_FILES = {"devel": "cleaned-data/devel-fixed.no-ol.csv", "test": "cleaned-data/test-fixed.csv"}


def _e2e_cleaned(folder: Path) -> Iterator[Row]:
    for split, path in E2E_FILES.items():
        text = (folder / path).read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            yield {"mr": row["mr"], "ref": row["ref"], "split": split}


register(
    PublicSet(
        name="e2e-cleaned",
        repo="tuetschek/e2e-cleaning",
        # The training file is over the mirror's 4 MiB limit; devel and test hold 3,331 distinct MRs.
        files=(*E2E_FILES.values(), "README.md"),
        licence="CC-BY-SA-4.0",
        description="E2E NLG Challenge restaurant data (Novikova et al., 2017), cleaned MRs (Dušek et al., 2019): "
        "devel 4,299 and test 4,693 MR → text pairs, no MR shared between them",
        load=_e2e_cleaned,
        shape="data-to-text",
    )
)
