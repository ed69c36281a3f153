"""Bitext customer-support queries (real public data, in ../shared/data) with one constant reply:
distinct inputs must keep ≥ 90 % of the records and every intent, and every group must be copies of
its keeper. Runs on any clone that has the shared data."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from tests.conftest import BITEXT_CSV
from tests.curation.real_data_checks import CONSTANT_REPLY, members_below_threshold, run_pipeline, write_jsonl

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not BITEXT_CSV.exists(), reason="the shared Bitext dataset is not checked out beside the repository"
    ),
]


def test_a_constant_reply_never_makes_distinct_queries_duplicates(tmp_path: Path) -> None:
    with BITEXT_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(0).shuffle(rows)
    rows = rows[:2000]
    file = write_jsonl(
        tmp_path / "bitext.jsonl", [{"input": r["instruction"], "output": CONSTANT_REPLY} for r in rows]
    )
    run = run_pipeline(file, tmp_path / "p")
    assert run.imported.imported + run.imported.rejected == len(rows)
    assert run.kept_share() >= 0.90, run.clean.excluded_by()
    intents = {r["intent"] for r in rows}
    kept = {rows[(i.record.source.row or 0) - 1]["intent"] for i in run.clean.included}
    assert kept == intents
    assert members_below_threshold(run) == []
    # The same queries with the reply as the old pair vector saw it: a shared reply is not evidence.
    assert all(len(g["records"]) < 50 for g in run.groups)
