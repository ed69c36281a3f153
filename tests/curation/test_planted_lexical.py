"""The bundled example's planted cases: every exact and near duplicate group, every conflict, every
bad output and every PII record is found by the lexical tiers and the quality signals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation import metadata_keys
from curation.analysis.dedup.conflicts import find_conflicts
from curation.analysis.dedup.exact import exact_pairs
from curation.analysis.dedup.groups import build_groups
from curation.analysis.dedup.near import near_pairs
from curation.analysis.quality.signals import compute_quality
from curation.model import Project, Record

EXAMPLE = Path(__file__).resolve().parents[2] / "curation" / "example"


@pytest.fixture(scope="module")
def example() -> tuple[list[Record], dict, Project]:  # type: ignore[type-arg]
    planted = json.loads((EXAMPLE / "planted.json").read_text(encoding="utf-8"))
    rows = [
        json.loads(line) for line in (EXAMPLE / planted["dataset"]).read_text(encoding="utf-8").splitlines()
    ]
    records = [Record(id=r["id"], input=r["input"], output=r["output"]) for r in rows]
    schema = json.loads((EXAMPLE / "output_schema.json").read_text(encoding="utf-8"))
    return records, planted, Project(name="example", output_schema=schema)


def test_every_planted_exact_and_near_group_is_found(example) -> None:  # type: ignore[no-untyped-def]
    records, planted, _ = example
    groups = build_groups(exact_pairs(records) + near_pairs(records), records, [])
    group_of = {m: g for g in groups for m in g.members}
    for kind, tier in (("exact_duplicates", "exact"), ("near_duplicates", "near")):
        for ids in planted[kind]:
            found = {group_of[m].id for m in ids if m in group_of}
            assert len(found) == 1 and all(m in group_of for m in ids), f"{kind} {ids} not one group"
            assert {group_of[m].tier_of(m) for m in ids} == {tier}, f"{kind} {ids}"


def test_every_planted_conflict_is_found(example) -> None:  # type: ignore[no-untyped-def]
    records, planted, _ = example
    conflicts = find_conflicts(records)
    group_of = {m: c.id for c in conflicts for m in c.members}
    for ids in planted["conflicts"]:
        assert all(m in group_of for m in ids) and len({group_of[m] for m in ids}) == 1, ids
    planted_ids = {m for ids in planted["conflicts"] for m in ids}
    assert all(set(c.members) & planted_ids for c in conflicts)  # nothing unplanted


def test_every_planted_bad_output_and_pii_is_flagged(example) -> None:  # type: ignore[no-untyped-def]
    records, planted, project = example
    result = compute_quality(records, project, tokenizer=None)
    flags = {rid: set(meta[metadata_keys.FLAGS]) for rid, meta in result.metadata.items()}
    bad = planted["bad_outputs"]
    assert all("empty_output" in flags[rid] for rid in bad["empty"])
    assert all("truncated_output" in flags[rid] for rid in bad["truncated"])
    assert all(flags[rid] & {"invalid_json", "schema_mismatch"} for rid in bad["wrong_format"])
    assert all("pii" in flags[rid] for rid in planted["pii"])
    expected = {rid for ids in bad.values() for rid in ids} | set(planted["pii"])
    assert {rid for rid, f in flags.items() if f} == expected  # and no false alarms
    assert set(result.suggestions) == set(bad["empty"])
