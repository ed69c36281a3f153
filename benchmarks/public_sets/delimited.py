"""Delimited text files as they were published, quirks included (for import fidelity).

- ``msrp-train-tsv``: the Microsoft Research Paraphrase Corpus training file exactly as shipped
  (``msr_paraphrase_train.txt``): a UTF-8 BOM, a tab-separated header ``Quality  #1 ID  #2 ID
  #1 String  #2 String``, 4,076 data lines, and 185 lines with an odd number of literal ``"``
  (no CSV quoting). Rows: ``{"label": int, "id1", "id2", "sentence1", "sentence2"}``, one per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register

MSRP_TRAIN = "dataset/msr-paraphrase-corpus/msr_paraphrase_train.txt"


def _msrp(folder: Path) -> Iterator[Row]:
    lines = (folder / MSRP_TRAIN).read_text(encoding="utf-8-sig").splitlines()
    for line in lines[1:]:
        if line.strip():
            label, id1, id2, sentence1, sentence2 = line.split("\t")
            yield {
                "label": int(label),
                "id1": id1,
                "id2": id2,
                "sentence1": sentence1,
                "sentence2": sentence2,
            }


register(
    PublicSet(
        name="msrp-train-tsv",
        repo="wasiahmad/paraphrase_identification",
        files=(
            MSRP_TRAIN,
            "dataset/msr-paraphrase-corpus/Microsoft Shared Source License.htm",
        ),
        licence="MSR Shared Source",
        description="MRPC training file as shipped (TSV in a .txt, BOM, 185 lines with stray quotes)",
        load=_msrp,
        shape="delimited (tsv, stray quotes)",
    )
)
