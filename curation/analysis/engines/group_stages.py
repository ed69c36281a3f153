"""The distributed analysis's grouping stages, per connected component of the links (pure functions
over Arrow tables; no engine imported here): :func:`duplicate_groups_of` runs ``build_groups`` (with
``tier_judge``) on one component, :func:`conflicts_of` runs ``find_conflicts`` on one component of
near-identical inputs. Star clustering never crosses a component, so per-component groups equal the
groups of one global call."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from curation.analysis.dedup.conflicts import ConflictSettings, conflict_document, find_conflicts
from curation.analysis.dedup.groups import build_groups, group_metadata, pair_dict
from curation.analysis.dedup.judge import tier_judge
from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.near import NearSettings
from curation.analysis.dedup.semantic import SemanticSettings
from curation.analysis.engines.columns import matrix_of, records_of, responses_of, sides_of
from curation.analysis.engines.stages import PAIR_SCHEMA, _by_key, _sorted, pairs_of, runs

# --- groups per connected component --------------------------------------------------------------


def _unpack(group: pa.Table) -> tuple[pa.Table, pa.Table]:
    """A component's rows and its pairs, from the union's (component, kind, payload) rows."""
    kinds = np.asarray(group.column("kind"))
    payload = group.column("payload").to_pylist()
    row_tables = [
        pa.ipc.open_stream(p).read_all() for p, k in zip(payload, kinds.tolist(), strict=True) if k == 0
    ]
    pair_tables = [
        pa.ipc.open_stream(p).read_all() for p, k in zip(payload, kinds.tolist(), strict=True) if k == 1
    ]
    rows_table = pa.concat_tables(row_tables).sort_by("row") if row_tables else pa.table({})
    pairs = pa.concat_tables(pair_tables) if pair_tables else PAIR_SCHEMA.empty_table()
    return rows_table, pairs


def pack(table: pa.Table, component: np.ndarray, kind: int) -> pa.Table:
    """Rows of ``table`` as (component, kind, payload) with each row serialised as Arrow IPC, so rows
    and pairs can be shuffled together and met again in one group."""
    payloads = []
    for i in range(table.num_rows):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table.slice(i, 1))
        payloads.append(sink.getvalue().to_pybytes())
    return pa.table(
        {
            "component": np.asarray(component, dtype=np.int64),
            "kind": np.full(table.num_rows, kind, dtype=np.int8),
            "payload": pa.array(payloads, pa.large_binary()),
        }
    )


GROUP_SCHEMA = pa.schema(
    [("first_row", pa.int64()), ("tier", pa.string()), ("members", pa.int64()), ("group", pa.large_string())]
)
MEMBER_SCHEMA = pa.schema([("row", pa.int64()), ("meta", pa.large_string())])


def per_component(table: pa.Table, fn: Any, **kwargs: Any) -> pa.Table:
    """Run ``fn`` on each component's rows of a table holding one or more components."""
    table, starts, sizes = (
        _by_key(table, "component") if "row" in table.column_names else _by_component(table)
    )
    parts = [fn(table.slice(a, z), **kwargs) for a, z in zip(starts.tolist(), sizes.tolist(), strict=True)]
    return pa.concat_tables(parts) if parts else fn(table.slice(0, 0), **kwargs)


def _by_component(table: pa.Table) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    table = table.sort_by("component")
    starts, sizes = runs(np.asarray(table.column("component")))
    return table, starts, sizes


def duplicate_groups_in(table: pa.Table, near: NearSettings, semantic: SemanticSettings) -> pa.Table:
    """:func:`duplicate_groups_of` for every component of a table (one shuffle bucket)."""
    return per_component(table, duplicate_groups_of, near=near, semantic=semantic)


def conflicts_in(table: pa.Table, settings: ConflictSettings) -> pa.Table:
    """:func:`conflicts_of` for every component of a table (one shuffle bucket)."""
    return per_component(table, conflicts_of, settings=settings)


def duplicate_groups_of(group: pa.Table, near: NearSettings, semantic: SemanticSettings) -> pa.Table:
    """One component: its groups (``build_groups`` with the tiers' judge) as duplicates.json entries,
    with per-member metadata, and its unique pairs per tier (counted in the report)."""
    rows, pair_rows = _unpack(group)
    if not rows.num_rows:
        return _no_groups({})
    records = records_of(rows)
    row_of = dict(zip(rows.column("id").to_pylist(), rows.column("row").to_pylist(), strict=True))
    conflict = dict(zip(rows.column("id").to_pylist(), rows.column("conflict").to_pylist(), strict=True))
    unique: dict[tuple[str, str, str], DuplicatePair] = {}
    for pair in pairs_of(pair_rows):
        if (
            pair.tier == "semantic"
            and conflict.get(pair.a) is not None
            and conflict.get(pair.a) == conflict.get(pair.b)
        ):
            continue  # same input, different outputs: a conflict to resolve, not a duplicate to drop
        unique.setdefault((pair.a, pair.b, pair.tier), pair)
    pairs = list(unique.values())
    sides = sides_of(rows)
    judge = tier_judge(sides, matrix_of(rows.column("vin")), matrix_of(rows.column("vout")), near, semantic)
    groups = build_groups(pairs, records, responses_of(rows), judge=judge)
    source = {r.id: r.source.row for r in records}
    entries, first, tiers, sizes = [], [], [], []
    for g in groups:
        entries.append(
            json.dumps(
                {
                    "group": g.id,
                    "tier": g.tier,
                    "score": g.score,
                    "records": [{"id": m, "source_row": source.get(m)} for m in g.members],
                    "keeper": g.keeper,
                    "max_score": g.max_score,
                    "pairs": [pair_dict(p) for p in g.pairs],
                }
            )
        )
        first.append(row_of[g.members[0]])
        tiers.append(g.tier)
        sizes.append(len(g.members))
    meta = group_metadata(groups)
    tier_counts: dict[str, int] = {}
    for pair in pairs:
        tier_counts[pair.tier] = tier_counts.get(pair.tier, 0) + 1
    return (
        pa.table(
            {
                "first_row": pa.array(first, pa.int64()),
                "tier": pa.array(tiers, pa.string()),
                "members": pa.array(sizes, pa.int64()),
                "group": pa.array(entries, pa.large_string()),
                "member_meta": pa.array(
                    [json.dumps({str(row_of[m]): meta[m] for m in g.members}) for g in groups],
                    pa.large_string(),
                ),
                "pair_counts": pa.array(
                    [json.dumps(tier_counts if i == 0 else {}) for i in range(len(groups))], pa.large_string()
                ),
            }
        )
        if groups
        else _no_groups(tier_counts)
    )


def _no_groups(tier_counts: dict[str, int]) -> pa.Table:
    return pa.table(
        {
            "first_row": pa.array([-1], pa.int64()),
            "tier": pa.array([""], pa.string()),
            "members": pa.array([0], pa.int64()),
            "group": pa.array([""], pa.large_string()),
            "member_meta": pa.array(["{}"], pa.large_string()),
            "pair_counts": pa.array([json.dumps(tier_counts)], pa.large_string()),
        }
    )


def conflicts_of(group: pa.Table, settings: ConflictSettings) -> pa.Table:
    """One component of near-identical inputs: its conflict groups (``find_conflicts``)."""
    rows = _sorted(group)
    records = records_of(rows)
    row_of = dict(zip(rows.column("id").to_pylist(), rows.column("row").to_pylist(), strict=True))
    source = {r.id: r.source.row for r in records}
    conflicts = find_conflicts(records, settings)
    docs = [json.dumps(conflict_document(c, source)) for c in conflicts]
    return pa.table(
        {
            "first_row": pa.array([row_of[c.members[0]] for c in conflicts], pa.int64()),
            "conflict": pa.array([c.id for c in conflicts], pa.string()),
            "rows": pa.array([[row_of[m] for m in c.members] for c in conflicts], pa.list_(pa.int64())),
            "group": pa.array(docs, pa.large_string()),
        }
    )


def json_or_empty(value: Any) -> dict[str, Any]:
    return json.loads(value) if value else {}
