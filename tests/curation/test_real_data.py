"""Real public datasets through import → analyze → clean set, when they are fetched (slow).

benchmarks/real_data.py prints the same runs as a table; these tests hold the invariants:
no group member below its tier's threshold to the keeper, distinct inputs with a constant reply
keep ≥ 90 % and every class, and imported + quarantined rows = the file's data rows.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

from curation.importing.shapes import ColumnMapping
from tests.curation.real_data_checks import (
    CONSTANT_REPLY,
    members_below_threshold,
    run_pipeline,
    write_jsonl,
)
from tests.public_sets import public_set

pytestmark = pytest.mark.slow


def _banking77(tmp_path: Path, output: str | None) -> tuple[Path, dict[int, str]]:
    text = (public_set("banking77") / "banking_data" / "train.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    random.Random(0).shuffle(rows)
    rows = rows[:4000]
    file = write_jsonl(
        tmp_path / "banking77.jsonl", [{"input": r["text"], "output": output or r["category"]} for r in rows]
    )
    return file, {n + 1: r["category"] for n, r in enumerate(rows)}


@pytest.mark.parametrize("output", [CONSTANT_REPLY, None], ids=["constant reply", "label as output"])
def test_banking77_distinct_queries_keep_90_percent_and_every_intent(
    tmp_path: Path, output: str | None
) -> None:
    file, intent_of_row = _banking77(tmp_path, output)
    run = run_pipeline(file, tmp_path / "p")
    assert run.imported.imported + run.imported.rejected == 4000
    assert run.kept_share() >= 0.90, run.clean.excluded_by()
    kept = {intent_of_row[i.record.source.row or 0] for i in run.clean.included}
    assert kept == set(intent_of_row.values())
    assert members_below_threshold(run) == []
    assert max(len(g["records"]) for g in run.groups) < 50  # never one chained clump


def test_mrpc_sentences_with_a_constant_reply(tmp_path: Path) -> None:
    text = (public_set("mrpc") / "dataset/msr-paraphrase-corpus/msr_paraphrase_train.txt").read_text(
        encoding="utf-8-sig"
    )
    pairs = [line.split("\t") for line in text.splitlines()[1:3001]]
    rows = [{"input": s, "output": CONSTANT_REPLY} for p in pairs if len(p) == 5 for s in (p[3], p[4])]
    run = run_pipeline(write_jsonl(tmp_path / "mrpc.jsonl", rows), tmp_path / "p")
    assert run.imported.imported + run.imported.rejected == len(rows)
    assert run.kept_share() >= 0.90, run.clean.excluded_by()
    assert members_below_threshold(run) == []


def test_mrpc_train_file_imports_every_data_row(tmp_path: Path) -> None:
    path = public_set("mrpc") / "dataset/msr-paraphrase-corpus/msr_paraphrase_train.txt"
    data_rows = sum(1 for line in path.read_text(encoding="utf-8-sig").splitlines()[1:] if line.strip())
    run = run_pipeline(
        path,
        tmp_path / "p",
        mapping=ColumnMapping(input_col="#1 String", output_col="#2 String"),
        format="tsv",
    )
    assert run.imported.imported + run.imported.rejected == data_rows
    assert members_below_threshold(run) == []


@pytest.mark.parametrize(
    ("name", "relative", "max_dropped"),
    [
        ("gsm8k", "grade_school_math/data/test.jsonl", 0.05),
        ("alpaca-en-demo", "data/alpaca_en_demo.json", 0.05),
        ("llamafactory-v1-sft-demo", "data/v1_sft_demo.jsonl", 0.05),
        ("dpo-en-demo", "data/dpo_en_demo.json", 0.05),
        # FastChat's sample is ~167 identity questions x 3 closings: most chats are near copies.
        ("fastchat-dummy", "data/dummy_conversation.json", None),
        # The Glaive demo repeats whole chats: 38 exact copies among 300.
        ("glaive-toolcall-demo", "data/glaive_toolcall_en_demo.json", None),
    ],
)
def test_every_row_is_imported_or_quarantined_and_groups_hold(
    tmp_path: Path, name: str, relative: str, max_dropped: float | None
) -> None:
    path = public_set(name) / relative
    text = path.read_text(encoding="utf-8")
    rows = (
        len([line for line in text.splitlines() if line.strip()])
        if path.suffix == ".jsonl"
        else len(json.loads(text))
    )
    run = run_pipeline(path, tmp_path / "p")
    assert run.imported.imported + run.imported.rejected == rows
    assert members_below_threshold(run) == []
    if max_dropped is not None:  # distinct problems and answers stay
        dropped = sum(n for reason, n in run.clean.excluded_by().items() if reason.startswith("duplicate"))
        assert dropped <= max_dropped * rows, run.clean.excluded_by()
