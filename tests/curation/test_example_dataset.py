"""The bundled Fernway example dataset: its shape, its planted problems, and that the generator reproduces it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from curation.importing.example_project import (
    ExampleFiles,
    create_example_project,
    example_files,
    example_key,
    example_project_settings,
)
from curation.model import Record
from curation.store.base import RecordQuery

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["category", "urgency", "order_id", "summary"]


@pytest.fixture(scope="module")
def files() -> ExampleFiles:
    return example_files()


@pytest.fixture(scope="module")
def records(files: ExampleFiles) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in files.data.read_text(encoding="utf-8").splitlines()]
    return {row["id"]: row for row in rows}


@pytest.fixture(scope="module")
def key() -> dict[str, Any]:
    return example_key()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def normalise(text: str) -> str:
    return " ".join(words(text))


def jaccard(a: set[Any], b: set[Any]) -> float:
    return len(a & b) / len(a | b)


def shingles(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2))}


def bad_ids(key: dict[str, Any]) -> set[str]:
    return {i for ids in key["bad_outputs"].values() for i in ids}


def test_records_parse_with_the_documented_fields(records: dict[str, dict[str, Any]]) -> None:
    assert 400 <= len(records) <= 500
    for n, (rid, row) in enumerate(records.items(), start=1):
        assert rid == f"fw-{n:04d}"
        assert set(row) == {"id", "input", "output", "channel", "created"}
        assert row["channel"] in {"email", "chat", "web_form"}
        assert re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["created"])
        assert row["input"].strip() and len(words(row["input"])) <= 60
        Record(input=row["input"], output=row["output"])  # the data model accepts every pair


def test_good_outputs_follow_the_schema_compactly(
    records: dict[str, dict[str, Any]], key: dict[str, Any]
) -> None:
    schema = json.loads(example_files().output_schema.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    bad = bad_ids(key)
    for rid, row in records.items():
        if rid in bad:
            continue
        obj = json.loads(row["output"])
        validator.validate(obj)
        assert list(obj) == KEYS, rid
        assert row["output"] == json.dumps(obj, ensure_ascii=False), rid
        assert len(obj["summary"].split()) <= 15, rid
        if obj["order_id"] is not None:  # derivable: copied from the message
            assert obj["order_id"].lower() in row["input"].lower(), rid
        else:
            assert not re.search(r"FW-\d{5}", row["input"], re.I), rid


def test_planted_bad_outputs_are_bad(records: dict[str, dict[str, Any]], key: dict[str, Any]) -> None:
    schema = json.loads(example_files().output_schema.read_text(encoding="utf-8"))
    bad = key["bad_outputs"]
    assert all(len(bad[kind]) >= 4 for kind in ("empty", "truncated", "wrong_format"))
    assert all(records[i]["output"] == "" for i in bad["empty"])
    for rid in bad["truncated"]:
        output = records[rid]["output"]
        assert output.startswith('{"category": ') and '"summary": "' in output, rid
        with pytest.raises(json.JSONDecodeError):
            json.loads(output)
    for rid in bad["wrong_format"]:
        try:
            obj = json.loads(records[rid]["output"])
        except json.JSONDecodeError:
            continue  # prose instead of JSON
        assert not jsonschema.Draft202012Validator(schema).is_valid(obj), rid


def test_every_planted_id_exists_and_kinds_do_not_overlap(
    records: dict[str, dict[str, Any]], key: dict[str, Any]
) -> None:
    kinds: dict[str, list[str]] = {
        "exact": [i for g in key["exact_duplicates"] for i in g],
        "near": [i for g in key["near_duplicates"] for i in g],
        "paraphrase": [i for g in key["paraphrases"] for i in g],
        "conflict": [i for g in key["conflicts"] for i in g],
        "bad": sorted(bad_ids(key)),
        "golden": key["golden"],
        "pii": key["pii"],
    }
    seen: Counter[str] = Counter(i for ids in kinds.values() for i in ids)
    assert set(seen) <= set(records)
    assert [i for i, n in seen.items() if n > 1] == []
    assert len(key["exact_duplicates"]) >= 6 and any(len(g) == 3 for g in key["exact_duplicates"])
    assert len(key["near_duplicates"]) >= 8
    assert len(key["paraphrases"]) >= 6
    assert len(key["conflicts"]) >= 5
    assert 5 <= len(key["golden"]) <= 8
    assert len(key["pii"]) >= 6
    assert key["records"] == len(records)


def test_exact_groups_are_identical_after_normalisation(
    records: dict[str, dict[str, Any]], key: dict[str, Any]
) -> None:
    for group in key["exact_duplicates"]:
        assert len({normalise(records[i]["input"]) for i in group}) == 1, group
        assert len({records[i]["output"] for i in group}) == 1, group


def test_near_groups_are_close_but_not_identical(
    records: dict[str, dict[str, Any]], key: dict[str, Any]
) -> None:
    for group in key["near_duplicates"]:
        assert len({records[i]["output"] for i in group}) == 1, group
        for a, b in combinations(group, 2):
            left, right = records[a]["input"], records[b]["input"]
            assert normalise(left) != normalise(right), (a, b)
            assert jaccard(set(words(left)), set(words(right))) >= 0.5, (a, b)
            assert jaccard(shingles(left), shingles(right)) >= 0.5, (a, b)


def test_paraphrases_share_the_output_but_few_words(
    records: dict[str, dict[str, Any]], key: dict[str, Any]
) -> None:
    for group in key["paraphrases"]:
        assert len({records[i]["output"] for i in group}) == 1, group
        for a, b in combinations(group, 2):
            assert jaccard(shingles(records[a]["input"]), shingles(records[b]["input"])) < 0.3, (a, b)


def test_conflict_groups_share_the_input_but_not_the_output(
    records: dict[str, dict[str, Any]], key: dict[str, Any]
) -> None:
    follows = set(key["conflict_follows_guidelines"])
    for group in key["conflicts"]:
        inputs = [records[i]["input"] for i in group]
        assert jaccard(set(words(inputs[0])), set(words(inputs[1]))) >= 0.8, group  # same or one typo
        outputs = [json.loads(records[i]["output"]) for i in group]
        assert len({(o["category"], o["urgency"]) for o in outputs}) == len(group), group
        assert len(follows & set(group)) == 1, group


def test_no_unplanted_look_alikes(records: dict[str, dict[str, Any]], key: dict[str, Any]) -> None:
    """A detector at Jaccard 0.5 on word 3-shingles finds the planted groups and nothing else."""
    group_of = {rid: rid for rid in records}  # unplanted records are groups of one
    for kind in ("exact_duplicates", "near_duplicates", "paraphrases", "conflicts"):
        for group in key[kind]:
            group_of.update({rid: f"{kind}:{group[0]}" for rid in group})
    ids = list(records)
    sets = [shingles(records[i]["input"]) for i in ids]
    for x in range(len(ids)):
        for y in range(x):
            if group_of[ids[x]] != group_of[ids[y]]:
                assert jaccard(sets[x], sets[y]) < 0.5, (ids[x], ids[y])


def test_topic_shares_match_the_key(records: dict[str, dict[str, Any]], key: dict[str, Any]) -> None:
    bad = bad_ids(key)
    counts = Counter(json.loads(r["output"])["category"] for i, r in records.items() if i not in bad)
    topics = key["topics"]
    assert dict(counts) == {c: n for c, n in topics["counts"].items() if n}
    total = len(records)
    assert 0.30 <= counts[topics["over_represented"]] / total <= 0.35
    for thin in topics["thin"]:
        assert 5 <= counts[thin] <= 0.02 * total, thin
    middle = set(counts) - set(topics["thin"]) - {topics["over_represented"]}
    assert all(0.02 * total < counts[c] < counts[topics["over_represented"]] for c in middle)


def test_golden_and_pii_records(records: dict[str, dict[str, Any]], key: dict[str, Any]) -> None:
    pii = re.compile(r"[\w.]+@[\w.]+\.\w+|\b555[- ]01\d\d\b|\b(?:\d{4} ){3}\d{4}\b")
    for rid in key["pii"]:
        assert pii.search(records[rid]["input"]), rid
        assert not pii.search(records[rid]["output"]), rid
    planted_pii = set(key["pii"])
    assert {i for i, r in records.items() if pii.search(r["input"])} == planted_pii
    for rid in key["golden"]:
        json.loads(records[rid]["output"])


def test_project_settings_carry_guidelines_and_schema() -> None:
    project = example_project_settings()
    assert project.name == "fernway-triage"
    assert "## Urgency" in project.guidelines
    assert project.output_schema is not None
    assert project.output_schema["properties"]["category"]["enum"][0] == "shipping_delay"


def test_example_project_holds_every_record_and_the_golden_ids(tmp_path: Path, key: dict[str, Any]) -> None:
    store = create_example_project(tmp_path / "fernway")
    try:
        assert store.count_records() == key["records"]
        assert store.get_project().output_schema == example_project_settings().output_schema
        golden = store.query_records(RecordQuery(golden=True, limit=100)).records
        assert sorted(r.id for r in golden) == key["golden"]
        assert store.get_record(key["golden"][0]).metadata["channel"] in {"email", "chat", "web_form"}
    finally:
        store.close()


def test_generator_reproduces_the_files_byte_for_byte(tmp_path: Path, files: ExampleFiles) -> None:
    script = ROOT / "scripts" / "make_example_dataset.py"
    subprocess.run([sys.executable, str(script), "--out-dir", str(tmp_path)], check=True, capture_output=True)
    for shipped in (files.data, files.key, files.output_schema):
        assert (tmp_path / shipped.name).read_bytes() == shipped.read_bytes(), shipped.name
