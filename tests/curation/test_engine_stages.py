"""The distributed stages, run by hand over partitions and groups, give what the local functions give.

No Ray here: each stage is a pure function over an Arrow table, so a test can shuffle rows into
groups itself (as Ray Data's group-by would) and compare with the local run's function.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from curation.analysis.dedup.exact import exact_pairs
from curation.analysis.dedup.near import NearSettings, _bands_rows, candidate_pairs, near_pairs
from curation.analysis.dedup.sides import record_sides
from curation.analysis.embeddings.models import get_embedder
from curation.analysis.engines import shards, stages
from curation.analysis.engines.columns import prepare_batch, records_of, records_table, sides_of
from curation.model import Record, RecordSource
from tests.factories import make_record


def _records(n: int = 240) -> list[Record]:
    rng = np.random.default_rng(3)
    words = ["order", "refund", "parcel", "late", "broken", "kettle", "lamp", "invoice", "address", "card"]
    out = []
    for i in range(n):
        if i % 5 == 4:  # a near copy of an earlier record (one word dropped)
            base = out[int(rng.integers(0, len(out)))]
            text = " ".join(base.input.split()[1:]) if len(base.input.split()) > 4 else base.input + "!"
            out.append(make_record(input=text, output=base.output))
        elif i % 7 == 6:  # an exact copy
            base = out[int(rng.integers(0, len(out)))]
            out.append(make_record(input=base.input.upper(), output=base.output))
        else:
            text = " ".join(words[int(k)] for k in rng.integers(0, len(words), size=8)) + f" number {i}"
            out.append(make_record(input=text, output=f"We looked at case {i} about the {words[i % 10]}."))
    return out


def _prepared(records: list[Record], parts: int = 3) -> pa.Table:
    """Prepared rows, computed partition by partition as the actors would."""
    embedder = get_embedder("hashing", dim=64)
    size = -(-len(records) // parts)
    tables = [
        prepare_batch(records_table(records[s : s + size], s), embedder, None, None, NearSettings())
        for s in range(0, len(records), size)
    ]
    return pa.concat_tables(tables)


def _groups(table: pa.Table, key: str) -> list[pa.Table]:
    """The table's rows in shuffle buckets of ``key``, as Ray Data's group-by on the bucket gives them."""
    bucketed = stages.with_bucket(table, key, 5)
    out: dict[int, list[int]] = {}
    for i, bucket in enumerate(bucketed.column("bucket").to_pylist()):
        out.setdefault(bucket, []).append(i)
    # Rows arrive in any order: reverse each bucket so the stages must sort for themselves.
    return [table.take(pa.array(rows[::-1])) for rows in out.values()]


def test_exact_and_near_stages_give_the_local_pairs() -> None:
    records = _records()
    prepared = _prepared(records)
    exact = pa.concat_tables(
        [stages.exact_group(g) for g in _groups(prepared.select(["row", "id", "exact_key"]), "exact_key")]
    )
    local_exact = {(p.a, p.b) for p in exact_pairs(records)}
    assert (
        local_exact and set(zip(exact["a"].to_pylist(), exact["b"].to_pylist(), strict=True)) == local_exact
    )

    settings = NearSettings()
    bands, rows_per_band = _bands_rows(settings)
    keyed = stages.whole_keys(prepared, "sig", collapse=True)
    collapsed = pa.concat_tables(
        [stages.collapse_group(g, bands, rows_per_band) for g in _groups(keyed, "whole")]
    )
    links = collapsed.filter(pc.equal(collapsed["kind"], 0))
    banded = collapsed.filter(pc.equal(collapsed["kind"], 1)).select(["band", "key", "a_row"])
    bucket_links = [stages.band_group(g, settings.max_bucket) for g in _groups(banded, "key")]
    found = set(zip(links["a_row"].to_pylist(), links["b_row"].to_pylist(), strict=True))
    for table in bucket_links:
        found |= set(zip(table["a_row"].to_pylist(), table["b_row"].to_pylist(), strict=True))
    sides = record_sides(records)
    from curation.analysis.dedup.near import signatures

    left, right = candidate_pairs(
        signatures(sides.input_shingles, settings),
        sides.input_shingles.sizes() > 0,
        settings,
        collapse_key=sides.output_keys,
    )
    assert found == set(zip(left.tolist(), right.tolist(), strict=True))

    # Verification on the joined rows keeps exactly the local near pairs.
    side = prepared.select(stages.SIDE_COLUMNS)
    a_rows = pa.array([a for a, _ in sorted(found)], pa.int64())
    b_rows = pa.array([b for _, b in sorted(found)], pa.int64())
    joined = {"a_row": a_rows, "b_row": b_rows}
    for suffix, rows in (("a", a_rows), ("b", b_rows)):
        picked = side.take(rows)
        for column in stages.SIDE_COLUMNS:
            joined[f"{column}_{suffix}"] = picked[column]
    verified = stages.verify_near(pa.table(joined), settings)
    local = {(p.a, p.b, p.score, p.output_score) for p in near_pairs(records, settings)}
    assert local
    assert (
        set(zip(*(verified[c].to_pylist() for c in ("a", "b", "score", "output_score")), strict=True))
        == local
    )


def test_prepared_columns_rebuild_the_local_objects() -> None:
    records = _records(30)
    prepared = _prepared(records, parts=2)
    assert [r.model_dump() for r in records_of(prepared)] == [r.model_dump() for r in records]
    local = record_sides(records)
    rebuilt = sides_of(prepared)
    assert np.array_equal(rebuilt.input_shingles.values, local.input_shingles.values)
    assert np.array_equal(rebuilt.output_shingles.offsets, local.output_shingles.offsets)
    assert rebuilt.numbers == local.numbers and np.array_equal(rebuilt.output_keys, local.output_keys)
    assert prepared["row"].to_pylist() == list(range(30))


def test_balanced_quotas_spread_a_subset_over_clusters() -> None:
    assert shards.balanced_quotas([100, 3, 50, 0], 40) == [18, 3, 19, 0]  # the small cluster gives all it has
    assert sum(shards.balanced_quotas([5, 5], 100)) == 10
    quotas = shards.balanced_quotas([1000, 1000, 1000], 10)
    assert sum(quotas) == 10 and max(quotas) - min(quotas) <= 1


def test_verdict_follows_the_export_rules() -> None:
    record = make_record(output="A full answer.")
    flags = ["truncated_output"]
    assert shards.verdict(record, {"flags": flags}, {}, flags, ["exact"]) == (
        "quality_flag",
        "truncated_output",
    )
    copy = {"dup_group": "dup-1", "dup_tier": "near"}
    assert shards.verdict(record, {}, copy, [], ["exact", "near"])[0] == "duplicate"
    assert shards.verdict(record, {}, copy, [], ["exact"]) == (None, "")
    assert shards.verdict(record, {}, copy | {"dup_keeper": "yes"}, [], ["near"]) == (None, "")


def test_read_shard_makes_the_importers_records_and_names_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "pool.jsonl"
    rows = [{"prompt": "Where is my parcel?", "response": "On its way."}, {"prompt": "", "response": "x"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n", encoding="utf-8")
    batches = list(shards.read_shard(path))
    records = [r for b in batches for r in b.records]
    bad = [u for b in batches for u in b.unreadable]
    assert [r.input for r in records] == ["Where is my parcel?"]
    assert records[0].source == RecordSource(file="pool.jsonl", row=1)
    assert sorted(u.row for u in bad) == [2, 3] and all(u.file == "pool.jsonl" and u.reason for u in bad)
    # The same record in another shard (same or another name) gets its own id: a copy, not one row.
    ids = {records[0].id}
    for other in (tmp_path / "other.jsonl", tmp_path / "more" / "pool.jsonl"):
        other.parent.mkdir(exist_ok=True)
        other.write_text(json.dumps(rows[0]) + "\n" + json.dumps(rows[0]) + "\n", encoding="utf-8")
        again = [r for b in shards.read_shard(other) for r in b.records]
        assert len(again) == 2 and again[0].content_hash == again[1].content_hash == records[0].content_hash
        ids |= {r.id for r in again}
    assert len(ids) == 5
    with pytest.raises(Exception, match="Parquet or JSONL"):
        csv = tmp_path / "pool.csv"
        csv.write_text("prompt,response\na,b\n", encoding="utf-8")
        list(shards.read_shard(csv))


def test_fast_quality_is_refused_on_ray_with_the_option_named() -> None:
    from curation.analysis.engines.columns import require_full_quality
    from curation.analysis.pipeline import AnalysisSettings
    from curation.errors import BadInputError

    require_full_quality(AnalysisSettings())
    with pytest.raises(BadInputError, match="--quality fast runs on the local engine only"):
        require_full_quality(AnalysisSettings(quality="fast"))


def test_semantic_cells_find_what_the_exact_search_finds_on_clustered_vectors() -> None:
    """The candidates above ``exact_max`` (k-means cells, the same on both engines) keep the exact
    search's pairs on vectors that cluster, as sentence embeddings do."""
    from curation.analysis.dedup.semantic import SemanticSettings, semantic_pairs
    from curation.analysis.embeddings.models import normalise

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 32))
    base = normalise(centres[rng.integers(0, 40, 6000)] + rng.normal(scale=0.6, size=(6000, 32)))
    copies = normalise(base[::12] + rng.normal(scale=0.05, size=(500, 32)))
    vectors = np.vstack([base, copies])
    ids = [f"r{i:05d}" for i in range(len(vectors))]
    exact = {(p.a, p.b) for p in semantic_pairs(ids, vectors, SemanticSettings(threshold=0.95, index="flat"))}
    cells = SemanticSettings(threshold=0.95, index="cells", cell_records=250)
    found = {(p.a, p.b) for p in semantic_pairs(ids, vectors, cells)}
    assert len(exact) >= 400 and found <= exact
    assert len(found & exact) / len(exact) >= 0.98
