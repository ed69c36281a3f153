"""Both engines give the same answers: the local run and the Ray engine on a real local Ray cluster.

The cluster is started by the test (`ray start --head` on 127.0.0.1, dashboard off, its own port and
temp dir) and stopped afterwards by ending its process group. Compared on the bundled example (the
real MiniLM model) and on ~22k real records (Bitext, BANKING77, GSM8K and MQP questions; the
hashing embedder, so the run takes minutes, not an hour on two cores):

- exact and near groups are identical (members, keeper, tier);
- semantic pairs overlap with a pair-level Jaccard ≥ 0.98;
- the cluster labels agree with an AMI ≥ 0.95.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curation import metadata_keys
from curation.analysis.embeddings.models import get_embedder
from curation.analysis.engines import run_analysis
from curation.analysis.quality.consistency import INCONSISTENT, OFF_FORMAT
from curation.importing.example_project import create_example_project
from curation.importing.importer import import_file
from curation.project import init_project, open_store
from tests.conftest import BITEXT_CSV
from tests.public_sets import find_public_set, public_set

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'pairsmith[ray]')")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray cluster for this module (its workers import this checkout); stopped after."""
    from curation.analysis.engines.local_cluster import local_cluster

    checkout = str(Path(__file__).resolve().parents[2])
    with local_cluster(num_cpus=2, env={"PYTHONPATH": checkout}) as (address, _):
        yield address
        if ray.is_initialized():
            ray.shutdown()


# --- comparing two analysed projects -----------------------------------------------------------------


def _metadata(root: Path) -> dict[str, dict[str, Any]]:
    store = open_store(root)
    try:
        return {r.id: dict(r.metadata) for batch in store.iter_records(batch_size=5000) for r in batch}
    finally:
        store.close()


def _groups(root: Path) -> dict[str, list[dict[str, Any]]]:
    doc = json.loads((root / "analysis" / "duplicates.json").read_text(encoding="utf-8"))
    return {"groups": doc["groups"], "conflicts": doc["conflicts"]}


LOCAL_ONLY_FLAGS = {INCONSISTENT, OFF_FORMAT}


def _group_key(group: dict[str, Any]) -> tuple[Any, ...]:
    return (tuple(r["id"] for r in group["records"]), group["keeper"], group["tier"])


def _semantic_pairs(groups: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(p["a"], p["b"]) for g in groups for p in g["pairs"] if p["tier"] == "semantic"}


def _flags_both_engines_compute(meta: dict[str, Any]) -> list[str]:
    return sorted(set(meta.get(metadata_keys.FLAGS) or ["clean"]) - LOCAL_ONLY_FLAGS) or ["clean"]


def compare(local: Path, distributed: Path) -> dict[str, float]:
    from sklearn.metrics import adjusted_mutual_info_score

    ours, theirs = _groups(local), _groups(distributed)
    lexical = [g for g in ours["groups"] if g["tier"] in ("exact", "near")]
    lexical_ray = [g for g in theirs["groups"] if g["tier"] in ("exact", "near")]
    assert sorted(map(_group_key, lexical)) == sorted(map(_group_key, lexical_ray))
    a, b = _semantic_pairs(ours["groups"]), _semantic_pairs(theirs["groups"])
    jaccard = len(a & b) / len(a | b) if a | b else 1.0
    meta, meta_ray = _metadata(local), _metadata(distributed)
    ids = sorted(meta)
    ami = adjusted_mutual_info_score(
        [meta[i][metadata_keys.CLUSTER] for i in ids], [meta_ray[i][metadata_keys.CLUSTER] for i in ids]
    )
    lexical_ids = {r["id"] for g in lexical for r in g["records"]}
    for key in (metadata_keys.DUP_GROUP, metadata_keys.DUP_KEEPER):
        assert {i: meta[i].get(key) for i in lexical_ids} == {i: meta_ray[i].get(key) for i in lexical_ids}
    # The consistency flags need one k-nearest-neighbour pass over every record's vectors; only the
    # local engine computes them (docs/scale.md). Every other flag must be the same.
    assert {i: _flags_both_engines_compute(meta[i]) for i in ids} == {
        i: _flags_both_engines_compute(meta_ray[i]) for i in ids
    }
    return {"semantic_jaccard": jaccard, "ami": ami, "semantic_pairs": len(a), "lexical_groups": len(lexical)}


# --- the example ----------------------------------------------------------------------------------


def test_example_same_answers_on_both_engines(ray_cluster: str, tmp_path: Path) -> None:
    for name in ("local", "ray"):
        create_example_project(tmp_path / name).close()
    local = run_analysis(tmp_path / "local")
    distributed = run_analysis(tmp_path / "ray", engine="ray", address=ray_cluster)
    assert distributed.records == local.records
    assert distributed.duplicate_groups == local.duplicate_groups
    assert distributed.conflicts == local.conflicts
    assert distributed.clusters == local.clusters
    figures = compare(tmp_path / "local", tmp_path / "ray")
    assert figures["semantic_jaccard"] >= 0.98, figures
    assert figures["ami"] >= 0.95, figures


# --- ~22k real records --------------------------------------------------------------------------------


def _real_rows() -> Iterator[dict[str, str]]:
    if not BITEXT_CSV.exists():
        pytest.skip(f"{BITEXT_CSV} is missing (the shared Bitext set)")
    with BITEXT_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield {"instruction": row["instruction"], "response": row["response"]}
    with (public_set("banking77") / "banking_data" / "train.csv").open(
        newline="", encoding="utf-8"
    ) as handle:
        for row in csv.DictReader(handle):
            yield {"instruction": row["text"], "response": row["category"]}
    for line in (public_set("gsm8k") / "grade_school_math" / "data" / "test.jsonl").read_text().splitlines():
        item = json.loads(line)
        yield {"instruction": item["question"], "response": item["answer"]}
    mqp = find_public_set("mqp")
    if mqp is None:  # no licence to commit it: a clone without the fetch runs on the three sets above
        return
    with (mqp / "mqp.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) == 4:
                for question in (row[1], row[2]):
                    yield {"instruction": question, "response": "Thank you, a doctor will answer shortly."}


def test_real_records_same_answers_on_both_engines(ray_cluster: str, tmp_path: Path) -> None:
    rows = list(_real_rows())
    source = tmp_path / "real.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for name in ("local", "ray"):
        store = init_project(tmp_path / name, name)
        report = import_file(store, source, quarantine_dir=tmp_path / name / "quarantine", batch_size=5000)
        store.close()
    assert report.imported >= 20_000
    local = run_analysis(tmp_path / "local", embedder=get_embedder("hashing"))
    distributed = run_analysis(
        tmp_path / "ray", engine="ray", address=ray_cluster, embedder=get_embedder("hashing")
    )
    assert distributed.duplicate_groups.get("exact") == local.duplicate_groups.get("exact")
    assert distributed.duplicate_groups.get("near") == local.duplicate_groups.get("near")
    assert distributed.conflicts == local.conflicts
    figures = compare(tmp_path / "local", tmp_path / "ray")
    assert figures["lexical_groups"] > 100 and figures["semantic_pairs"] > 100, figures
    assert figures["semantic_jaccard"] >= 0.98, figures
    assert figures["ami"] >= 0.95, figures


# --- prefilter ----------------------------------------------------------------------------------------


def test_prefilter_keeps_one_of_each_copy_and_says_why_the_rest_went(
    ray_cluster: str, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from curation.analysis.engines import run_prefilter

    create_example_project(tmp_path / "example").close()
    store = open_store(tmp_path / "example")
    records = [r for batch in store.iter_records() for r in batch if isinstance(r.input, str)]
    store.close()
    rows = [{"prompt": r.input, "response": r.output} for r in records]
    half = len(rows) // 2
    first, second = tmp_path / "shard-1.jsonl", tmp_path / "shard-2.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in rows[:half]) + "{broken\n", encoding="utf-8")
    # The second shard repeats ten records of the first: exact copies across shards.
    second.write_text("".join(json.dumps(r) + "\n" for r in rows[half:] + rows[:10]), encoding="utf-8")
    report = run_prefilter(
        [first, second],
        tmp_path / "out",
        address=ray_cluster,
        embedder=get_embedder("hashing"),
        exclude_flags=["empty_output", "truncated_output"],
        sample=40,
        into=tmp_path / "review",
    )
    summary = report.model_dump()  # type: ignore[attr-defined]
    clean = pq.read_table(tmp_path / "out" / "clean.parquet")
    dropped = pq.read_table(tmp_path / "out" / "dropped.parquet").to_pylist()
    assert summary["rows_read"] == len(rows) + 10 + 1
    assert clean.num_rows + len(dropped) == summary["rows_read"] == summary["kept"] + summary["dropped"]
    reasons = {d["reason"] for d in dropped}
    assert {"duplicate", "unreadable"} <= reasons
    unreadable = [d for d in dropped if d["reason"] == "unreadable"]
    assert [(d["source_file"], d["source_row"]) for d in unreadable] == [("shard-1.jsonl", half + 1)]
    # Each of the ten repeated records is kept once: its copy in one shard or the other goes.
    kept_prompts = [m[0]["content"] for m in clean.column("messages").to_pylist()]
    for row in rows[:10]:
        assert kept_prompts.count(row["prompt"]) <= 1
    assert json.loads((tmp_path / "out" / "report.json").read_text())["kept"] == clean.num_rows
    review = open_store(tmp_path / "review")
    assert review.count_records() == summary["sampled"] == 40
    review.close()
