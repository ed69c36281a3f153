"""Import on public files nobody in the project wrote, read as they were published (slow).

Each test reads its set from tests/data/public-sets (or the fetched cache for a set we may not
commit; tests/public_sets.py). Every row is accounted for (imported + quarantined = the file's rows) and no record holds
several source lines.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation import metadata_keys
from curation.importing import ColumnMapping
from tests.curation.import_helpers import Importer, read_quarantine
from tests.public_sets import public_set

pytestmark = pytest.mark.slow


def public_file(name: str, path: str) -> Path:
    return public_set(name) / path


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    imp = Importer(tmp_path / "proj")
    yield imp
    imp.close()


def test_mrpc_tsv_with_stray_quotes_is_never_glued(importer: Importer) -> None:
    path = public_file("msrp-train-tsv", "dataset/msr-paraphrase-corpus/msr_paraphrase_train.txt")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    data_lines = [line for line in lines[1:] if line.strip()]
    assert len(data_lines) == 4076 and sum(line.count('"') % 2 for line in lines) == 185
    report = importer(path, mapping=ColumnMapping(input_col="#1 String", output_col="#2 String"))
    assert report.format == "tsv"
    assert report.imported + report.rejected == len(data_lines)
    records = importer.records()
    assert not [r.id for r in records if "\n" in r.input + r.output or "\t" in r.input + r.output]
    expected = {tuple(line.split("\t")[3:5]) for line in data_lines}
    assert {(r.input, r.output) for r in records} <= expected


def test_glaive_tool_calls(importer: Importer) -> None:
    path = public_file("glaive-toolcall-demo", "data/glaive_toolcall_en_demo.json")
    rows = json.loads(path.read_text(encoding="utf-8"))
    report = importer(path)
    assert (report.format, report.imported, report.rejected) == ("sharegpt", len(rows), 0)
    records = importer.records()
    calls = sum(1 for r in records for m in r.input if m.role == "tool" and m.kind == "call")
    results = sum(1 for r in records for m in r.input if m.role == "tool" and m.kind == "result")
    expected_calls = sum(1 for row in rows for t in row["conversations"] if t["from"] == "function_call")
    assert calls == expected_calls > 0 and results > 0


def test_content_parts_with_value(importer: Importer) -> None:
    path = public_file("llamafactory-v1-sft-demo", "data/v1_sft_demo.jsonl")
    report = importer(path)
    assert (report.format, report.imported + report.skipped_existing, report.rejected) == ("openai", 500, 0)


def test_sharegpt_preference(importer: Importer) -> None:
    path = public_file("dpo-en-demo", "data/dpo_en_demo.json")
    rows = json.loads(path.read_text(encoding="utf-8"))
    report = importer(path)
    assert (report.format, report.imported + report.rejected) == ("sharegpt-preference", len(rows))
    assert report.rejected == 0
    records = importer.records()
    assert all(r.metadata.get(metadata_keys.REJECTED_OUTPUT) for r in records)


def test_hh_rlhf_transcripts(importer: Importer, tmp_path: Path) -> None:
    packed = public_file("hh-rlhf-harmless-test", "harmless-base/test.jsonl.gz")
    path = tmp_path / "harmless-test.jsonl"
    path.write_bytes(gzip.decompress(packed.read_bytes()))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = importer(path)
    assert report.format == "hh-rlhf"
    assert report.imported + report.skipped_existing + report.rejected == len(rows)
    assert report.rejected <= len(rows) * 0.01
    if report.rejected:
        assert all("differ before the last reply" in r["reason"] for r in read_quarantine(report))
    record = importer.records()[0]
    assert record.input[0].role == "user" and metadata_keys.REJECTED_OUTPUT in record.metadata
