"""Dedup on Ray Data: exact, near, semantic, conflicts and groups as shuffles over the prepared rows.

The stages' logic lives in :mod:`curation.analysis.engines.stages` (the local run's functions
applied to one batch or group); this module only wires them into Ray Data pipelines:

- exact: a group-by on the normalised hash;
- near: identical signatures collapsed (group-by on the whole signature), then the representatives'
  band keys shuffled (group-by on band and key), candidate links joined with both rows' sides and
  verified;
- semantic: k-means centroids from a sample, each row sent to its home cell and, as a visitor, to
  its next-nearest cells; neighbours searched within each cell (the functions of
  :mod:`curation.analysis.dedup.semantic` the local run calls above ``exact_max``);
- connected components of the links in one task (:func:`components`), then groups built per
  component in parallel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import ray
import ray.data
from ray.data import Dataset

from curation.analysis.dedup.conflicts import ConflictSettings
from curation.analysis.dedup.near import NearSettings, _bands_rows
from curation.analysis.dedup.semantic import (
    SemanticSettings,
    cell_sample_rows,
    cells_wanted,
    fit_cells,
    route_to_cells,
)
from curation.analysis.engines import group_stages, stages
from curation.analysis.engines.columns import CONFLICT_PERMUTATIONS, matrix_of

ARROW = "pyarrow"


def partitions(n: int) -> int:
    """Shuffle partitions for ``n`` rows: a few per worker, ~20k rows each, at most 64."""
    return int(max(2, min(64, n // 20_000)))


def buckets(n: int) -> int:
    """Group-by buckets for ``n`` rows: ~2,000 rows per call of a stage."""
    return int(max(4, min(4096, n // 2000)))


def by_bucket(ds: Dataset, key: str, n: int, fn: Any, **kwargs: Any) -> Dataset:
    """``fn`` over every bucket of ``key`` (all rows of a key meet in one call)."""
    return (
        ds.map_batches(stages.with_bucket, batch_format=ARROW, fn_kwargs={"key": key, "buckets": buckets(n)})
        .groupby("bucket", num_partitions=partitions(n))
        .map_groups(_drop_bucket(fn), batch_format=ARROW, fn_kwargs=kwargs)
    )


def _drop_bucket(fn: Any) -> Any:
    def call(table: pa.Table, **kwargs: Any) -> pa.Table:
        return fn(table.drop_columns(["bucket"]), **kwargs)

    call.__name__ = getattr(fn, "__name__", "stage")
    return call


def exact_pairs(prepared: Dataset, n: int) -> Dataset:
    return by_bucket(prepared.select_columns(["row", "id", "exact_key"]), "exact_key", n, stages.exact_group)


def lsh_candidates(
    prepared: Dataset, n: int, sig_column: str, settings: NearSettings, collapse: bool
) -> Dataset:
    """Candidate links as ``candidate_pairs`` finds them: identical signatures (with equal outputs
    when ``collapse``) linked to their first row, then representatives sharing any band."""
    bands, rows_per_band = _bands_rows(settings)
    keyed = prepared.select_columns(["row", "in_sh", "output_key", sig_column]).map_batches(
        stages.whole_keys, batch_format=ARROW, fn_kwargs={"sig_column": sig_column, "collapse": collapse}
    )
    collapsed = by_bucket(
        keyed, "whole", n, stages.collapse_group, bands=bands, rows_per_band=rows_per_band
    ).materialize()
    links = collapsed.filter(expr="kind == 0").select_columns(["a_row", "b_row"])
    links = links.map_batches(_with_answer, batch_format=ARROW)
    banded = by_bucket(
        collapsed.filter(expr="kind == 1").select_columns(["band", "key", "a_row"]),
        "key",
        n,
        stages.band_group,
        max_bucket=settings.max_bucket,
    )
    return links.union(banded)


def _with_answer(batch: pa.Table) -> pa.Table:
    return stages.links_table(np.asarray(batch.column("a_row")), np.asarray(batch.column("b_row")))


def join_sides(links: Dataset, prepared: Dataset, n: int, vectors: bool = False) -> Dataset:
    """Each link with both rows' side columns (suffix _a and _b), for verification."""
    columns = list(stages.SIDE_COLUMNS) + (["vin", "vout"] if vectors else [])
    side = prepared.select_columns(columns)
    side_a = side.rename_columns({c: f"{c}_a" for c in columns})
    side_b = side.rename_columns({c: f"{c}_b" for c in columns})
    parts = partitions(n)
    joined = links.join(side_a, "inner", parts, on=("a_row",), right_on=("row_a",))
    return joined.join(side_b, "inner", parts, on=("b_row",), right_on=("row_b",))


def near_pairs(prepared: Dataset, n: int, settings: NearSettings) -> Dataset:
    candidates = lsh_candidates(prepared, n, "sig", settings, collapse=True)
    return join_sides(candidates, prepared, n).map_batches(
        stages.verify_near, batch_format=ARROW, fn_kwargs={"settings": settings}
    )


def input_links(prepared: Dataset, n: int, settings: ConflictSettings) -> Dataset:
    """Links between records whose inputs are equal or near-identical (the conflicts' input groups)."""
    equal = by_bucket(prepared.select_columns(["row", "input_key"]), "input_key", n, stages.equal_key_links)
    near = NearSettings(threshold=settings.input_threshold, num_perm=CONFLICT_PERMUTATIONS)
    candidates = lsh_candidates(prepared, n, "csig", near, collapse=False)
    verified = join_sides(candidates, prepared, n).map_batches(
        stages.verify_input_links, batch_format=ARROW, fn_kwargs={"threshold": settings.input_threshold}
    )
    return equal.union(verified)


@ray.remote(num_cpus=0)  # reads a materialized dataset: reserving a CPU could starve its own inputs
def components(edges: Dataset) -> pa.Table:
    """Connected components of the links: (row, component) for every row in a link. One task holds
    16 bytes per link (never the records): the one global step of dedup."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    lefts, rights = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for batch in edges.iter_batches(batch_format=ARROW, batch_size=200_000):
        lefts.append(np.asarray(batch.column("a_row"), dtype=np.int64))
        rights.append(np.asarray(batch.column("b_row"), dtype=np.int64))
    left, right = np.concatenate(lefts), np.concatenate(rights)
    nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
    if not len(nodes):
        return pa.table({"row": pa.array([], pa.int64()), "component": pa.array([], pa.int64())})
    m = len(left)
    graph = coo_matrix(
        (np.ones(m, dtype=np.int8), (inverse[:m], inverse[m:])), shape=(len(nodes), len(nodes))
    )
    _, labels = connected_components(graph, directed=False)
    return pa.table({"row": nodes, "component": labels.astype(np.int64)})


def component_table(edges: Dataset) -> Dataset:
    return ray.data.from_arrow_refs([components.remote(edges.materialize())])


def conflicts(prepared: Dataset, n: int, settings: ConflictSettings) -> Dataset:
    """Conflict groups: ``find_conflicts`` on each component of near-identical inputs."""
    comp = component_table(input_links(prepared, n, settings))
    rows = prepared.select_columns(["row", "id", "record"]).join(
        comp, "inner", partitions(n), on=("row",), right_on=("row",)
    )
    return by_bucket(rows, "component", n, group_stages.conflicts_in, settings=settings)


# --- semantic ---------------------------------------------------------------------------------------


def gather_rows(prepared: Dataset, rows: np.ndarray, columns: list[str]) -> pa.Table:
    """The given rows (a sample: kept small by the caller), in ``rows`` order."""
    wanted = pa.array(rows)

    def pick(batch: pa.Table) -> pa.Table:
        import pyarrow.compute as pc

        return batch.filter(pc.is_in(batch.column("row"), value_set=wanted))

    parts = [
        t
        for t in prepared.select_columns(["row", *columns])
        .map_batches(pick, batch_format=ARROW)
        .iter_batches(batch_format=ARROW, batch_size=None)
        if t.num_rows
    ]
    table = (
        pa.concat_tables(parts)
        if parts
        else prepared.select_columns(["row", *columns]).schema().empty_table()
    )
    order = {int(r): i for i, r in enumerate(rows.tolist())}
    index = np.argsort([order[int(r)] for r in table.column("row").to_pylist()], kind="stable")
    return table.take(pa.array(index))


@ray.remote
def _fit_cells(sample: pa.Table, cells: int, seed: int) -> np.ndarray:
    """:func:`curation.analysis.dedup.semantic.fit_cells` in a task, on the gathered sample."""
    return fit_cells(matrix_of(sample.column("vin")), cells, seed)


def _assign_cells(batch: pa.Table, centroids: np.ndarray, probes: int) -> pa.Table:
    """Each row to its home cell and the cells it searches (:func:`route_to_cells`)."""
    index, cell, home = route_to_cells(matrix_of(batch.column("vin")), centroids, probes)
    take = pa.array(index)
    return pa.table(
        {
            "cell": cell,
            "home": home,
            "row": batch.column("row").take(take),
            "vin": batch.column("vin").take(take),
        }
    )


def semantic_pairs(prepared: Dataset, n: int, settings: SemanticSettings) -> Dataset:
    """Semantic pairs: neighbours within k-means cells (and their nearest cells), plus every pair
    giving the same specific answer, verified with ``semantic_verdicts``."""
    sample = gather_rows(prepared, cell_sample_rows(n, settings), ["vin"])
    centroids = ray.get(_fit_cells.remote(sample, cells_wanted(n, settings), settings.seed))
    routed = prepared.select_columns(["row", "vin"]).map_batches(
        _assign_cells, batch_format=ARROW, fn_kwargs={"centroids": centroids, "probes": settings.cell_probes}
    )
    neighbours = routed.groupby("cell", num_partitions=partitions(n)).map_groups(
        stages.cell_links, batch_format=ARROW, fn_kwargs={"settings": settings}
    )
    candidates = neighbours
    if settings.same_answer_threshold is not None:
        answers = by_bucket(
            prepared.select_columns(["row", "output_key", "output_words"]),
            "output_key",
            n,
            stages.answer_group,
            settings=settings,
        )
        candidates = neighbours.union(answers)
    return join_sides(candidates, prepared, n, vectors=True).map_batches(
        stages.verify_semantic, batch_format=ARROW, fn_kwargs={"settings": settings}
    )


# --- groups ---------------------------------------------------------------------------------------


def duplicate_groups(
    prepared: Dataset,
    pairs: Dataset,
    conflict_rows: Dataset,
    n: int,
    near: NearSettings,
    semantic: SemanticSettings,
) -> Dataset:
    """Groups per connected component of all pairs (``build_groups`` with the tiers' judge)."""
    comp = component_table(pairs.select_columns(["a_row", "b_row"])).materialize()
    parts = partitions(n)
    columns = [*stages.SIDE_COLUMNS, "record", "responses", "vin", "vout"]
    rows = prepared.select_columns(columns).join(comp, "inner", parts, on=("row",), right_on=("row",))
    rows = rows.join(conflict_rows, "left_outer", parts, on=("row",), right_on=("row",))
    pairs_in = pairs.join(comp, "inner", parts, on=("a_row",), right_on=("row",))
    packed_rows = rows.map_batches(_pack, batch_format=ARROW, fn_kwargs={"kind": 0})
    packed_pairs = pairs_in.map_batches(_pack, batch_format=ARROW, fn_kwargs={"kind": 1})
    return by_bucket(
        packed_rows.union(packed_pairs),
        "component",
        n,
        group_stages.duplicate_groups_in,
        near=near,
        semantic=semantic,
    )


def _pack(batch: pa.Table, kind: int) -> pa.Table:
    component = np.asarray(batch.column("component"), dtype=np.int64)
    body = batch.drop_columns(["component"] + (["row_right"] if "row_right" in batch.column_names else []))
    if kind == 1:
        body = body.select([f.name for f in stages.PAIR_SCHEMA]).cast(stages.PAIR_SCHEMA)
    return group_stages.pack(body, component, kind)


def conflict_member_rows(conflict_groups: Dataset) -> Dataset:
    """(row, conflict) for every member of a conflict group."""

    def explode(batch: pa.Table) -> pa.Table:
        rows = batch.column("rows").to_pylist()
        ids = batch.column("conflict").to_pylist()
        return pa.table(
            {
                "row": pa.array([r for members in rows for r in members], pa.int64()),
                "conflict": pa.array(
                    [c for c, members in zip(ids, rows, strict=True) for _ in members], pa.string()
                ),
            }
        )

    return conflict_groups.map_batches(explode, batch_format=ARROW)


def member_rows(groups: Dataset) -> Dataset:
    """(row, dup metadata JSON) for every member of a duplicate group."""

    def explode(batch: pa.Table) -> pa.Table:
        import json

        rows: list[int] = []
        metas: list[str] = []
        for text in batch.column("member_meta").to_pylist():
            for row, meta in json.loads(text).items():
                rows.append(int(row))
                metas.append(json.dumps(meta))
        return pa.table({"row": pa.array(rows, pa.int64()), "dup": pa.array(metas, pa.large_string())})

    return groups.map_batches(explode, batch_format=ARROW)
