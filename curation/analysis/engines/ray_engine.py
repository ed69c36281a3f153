"""The analysis on a Ray cluster: the same steps as :func:`curation.analysis.pipeline.analyze_project`,
as Ray Data pipelines, for pools larger than one machine handles.

What runs where:

- the **driver** (the machine running `pairsmith analyze --engine ray`) reads the store a batch at a
  time into the object store, and at the end streams the results back into the store a batch at a
  time; it never holds all records, vectors or pairs;
- **actors** embed and compute quality signals (one model per actor; on GPU actors when the cluster
  has GPUs);
- **tasks** shuffle and group: dedup tiers, conflicts, groups per connected component, cluster
  figures (:mod:`.ray_dedup`, :mod:`.ray_clusters`);
- **one task** each holds the few global things: the links' connected components (16 bytes per
  link), the sample k-means is fitted on, and the merged cluster figures.

Only this package's ``ray_*`` modules import ray; a local-only user never loads it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import ray
import ray.data
from ray.data import Dataset

from curation import metadata_keys
from curation.analysis.embeddings.cache import EmbeddingCache
from curation.analysis.embeddings.models import Embedder, get_embedder, normalise
from curation.analysis.embeddings.plan import Models, method_summary
from curation.analysis.engines import ray_clusters, ray_dedup
from curation.analysis.engines.columns import (
    matrix_of,
    prepare_batch,
    records_of,
    records_table,
    require_full_quality,
)
from curation.analysis.pipeline import (
    AnalysisReport,
    AnalysisSettings,
    Progress,
    analysis_metadata,
    merged_suggestions,
)
from curation.analysis.run_report import AnalysisMethod, decision_thresholds
from curation.errors import BackendError
from curation.files import ProjectPaths, atomic_write_json
from curation.model import Project, Suggestion
from curation.project import open_store
from curation.store.base import RecordStore

ARROW = "pyarrow"


def connect(address: str | None) -> dict[str, float]:
    """Join the Ray cluster at ``address`` ("auto", "HOST:PORT" or "ray://HOST:PORT"), or start a
    local one when None; the workers get this package's code. Returns the cluster's resources."""
    if not ray.is_initialized():
        import curation

        # A client connection (ray://) runs on machines that may not have pairsmith installed:
        # ship this package's code to them. Workers of a cluster joined directly use their own
        # installation (shipping costs a runtime-environment set-up in every new worker).
        ship = (address is not None and address.startswith("ray://")) or os.environ.get(
            "PAIRSMITH_RAY_SHIP_CODE"
        ) == "1"
        env = {"py_modules": [str(Path(curation.__file__).parent)]} if ship else None
        try:
            ray.init(
                address=address,
                log_to_driver=False,
                runtime_env=env,
                include_dashboard=False if address is None else None,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a new local cluster"
            raise BackendError(
                f"cannot reach the Ray cluster at {where}: {exc}. Start one with `ray start --head` "
                "(or pass --address ray://HOST:10001 for a remote cluster's client port)"
            ) from exc
        # Ray Data logs every operator's statistics; pairsmith reports its own progress and timings.
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.WARNING)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        strategy = os.environ.get("PAIRSMITH_RAY_SHUFFLE")
        if strategy:
            context.shuffle_strategy = ray.data.context.ShuffleStrategy(strategy)
    return {k: float(v) for k, v in ray.cluster_resources().items()}


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[step] = round(time.perf_counter() - start, 3)


class _Prepare:
    """An actor: loads the embedder and tokenizer once, then runs ``prepare_batch`` on batches."""

    def __init__(self, embedder: Embedder, project: Project, near: Any, gpu: bool) -> None:
        from curation.analysis.quality.tokens import load_tokenizer

        if gpu and hasattr(embedder.settings, "device") and embedder.settings.device == "cpu":
            embedder = get_embedder(
                embedder.name, **{**embedder.settings.model_dump(), "device": "cuda", "backend": "torch"}
            )
        self.embedder = embedder
        self.project = project
        self.near = near
        self.tokenizer = load_tokenizer()

    def __call__(self, table: pa.Table) -> pa.Table:
        return prepare_batch(
            table, self.embedder, self.project, self.tokenizer, self.near, EmbeddingCache(None)
        )


def read_store(store: RecordStore, batch_size: int) -> tuple[Dataset, int]:
    """The store's records (and their responses) as a dataset, a batch at a time into the object
    store: the driver keeps only references."""
    refs = []
    row = 0
    for batch in store.iter_records(batch_size=batch_size):
        responses = store.get_responses(record_ids=[r.id for r in batch])
        refs.append(ray.put(records_table(batch, row, responses)))
        row += len(batch)
    if not refs:
        refs.append(ray.put(records_table([], 0)))
    return ray.data.from_arrow_refs(refs), row


def prepare(
    source: Dataset,
    embedder: Embedder,
    project: Project,
    settings: AnalysisSettings,
    resources: dict[str, float],
) -> Dataset:
    """The per-batch step (``prepare_batch``) in an actor pool, on GPU actors when the cluster has GPUs."""
    gpus = resources.get("GPU", 0.0) > 0
    workers = max(1, int(resources.get("GPU" if gpus else "CPU", 1)))
    return source.map_batches(
        _Prepare,
        batch_format=ARROW,
        batch_size=settings.batch_size,
        fn_constructor_kwargs={"embedder": embedder, "project": project, "near": settings.near, "gpu": gpus},
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers),
        num_gpus=1 if gpus else 0,
        num_cpus=0 if gpus else 1,
    ).materialize()


@dataclass
class DedupResult:
    """The dedup stages' materialized outputs."""

    groups: Dataset
    members: Dataset
    conflict_groups: Dataset
    conflict_rows: Dataset


def dedup_stages(
    prepared: Dataset, n: int, settings: AnalysisSettings, timings: dict[str, float], report: Progress
) -> DedupResult:
    """Exact, near and semantic pairs, conflicts, and the groups per connected component."""
    report("dedup", 0, 3)
    with _timed(timings, "dedup_exact"):
        exact = ray_dedup.exact_pairs(prepared, n).materialize()
    with _timed(timings, "dedup_near"):
        near = ray_dedup.near_pairs(prepared, n, settings.near).materialize()
    report("dedup", 1, 3)
    with _timed(timings, "conflicts"):
        conflict_groups = ray_dedup.conflicts(prepared, n, settings.conflicts).materialize()
        conflict_rows = ray_dedup.conflict_member_rows(conflict_groups).materialize()
    with _timed(timings, "dedup_semantic"):
        semantic = ray_dedup.semantic_pairs(prepared, n, settings.semantic).materialize()
    report("dedup", 2, 3)
    with _timed(timings, "dedup_groups"):
        groups = ray_dedup.duplicate_groups(
            prepared, exact.union(near, semantic), conflict_rows, n, settings.near, settings.semantic
        ).materialize()
        members = ray_dedup.member_rows(groups).materialize()
    report("dedup", 3, 3)
    return DedupResult(groups, members, conflict_groups, conflict_rows)


def analyze_project_ray(
    project_dir: Path | str,
    *,
    address: str | None = None,
    embedder: Embedder | None = None,
    settings: AnalysisSettings | None = None,
    progress: Progress | None = None,
    store: RecordStore | None = None,
) -> AnalysisReport:
    """Run every analysis step on a Ray cluster and store the results (see the module docstring)."""
    started = time.perf_counter()
    settings = settings or AnalysisSettings()
    require_full_quality(settings)
    paths = ProjectPaths(Path(project_dir))
    owned = store is None
    store = store or open_store(paths.root)
    embedder = embedder or get_embedder(settings.embedder, **settings.embedder_settings)
    report = progress or (lambda step, done, total: None)
    timings: dict[str, float] = {}
    try:
        resources = connect(address)
        project = store.get_project()
        with _timed(timings, "read"):
            source, n = read_store(store, settings.batch_size)
        report("embed", 0, n)
        with _timed(timings, "embed_and_quality"):
            prepared = prepare(source, embedder, project, settings, resources)
        report("embed", n, n)
        dedup = dedup_stages(prepared, n, settings, timings, report)
        groups, conflict_groups = dedup.groups, dedup.conflict_groups
        report("clusters", 0, 1)
        which = settings.cluster_vector
        with _timed(timings, "clusters"):
            model = ray_clusters.fit_clusters(prepared, n, which, settings.clusters)
            figures = ray_clusters.describe(prepared, n, model, which, settings.clusters, settings.diversity)
        report("clusters", 1, 1)
        with _timed(timings, "diversity"):
            diversity = _with_outputs(figures.diversity, prepared, project, settings)
        report("write", 0, n)
        with _timed(timings, "write"):
            flag_counts = _write_back(
                store, prepared, dedup.members, dedup.conflict_rows, figures, which, n, settings, report
            )
            artifacts = _write_artifacts(paths, prepared, groups, conflict_groups, figures, diversity, which)
        group_tiers: Counter[str] = Counter()
        pair_counts: Counter[str] = Counter()
        in_groups = 0
        for batch in groups.select_columns(["tier", "members", "pair_counts"]).iter_batches(
            batch_format=ARROW
        ):
            for tier, size, counts in zip(
                *(batch.column(c).to_pylist() for c in ("tier", "members", "pair_counts")), strict=True
            ):
                pair_counts.update(json.loads(counts))
                if size:
                    group_tiers[tier] += 1
                    in_groups += size
        totals = prepared.select_columns(["embedded", "cached"]).sum(["embedded", "cached"])
        result = AnalysisReport(
            records=n,
            seconds=round(time.perf_counter() - started, 3),
            method=AnalysisMethod(
                **method_summary(Models(embedder, None), "full", which, n, n),
                thresholds=decision_thresholds(settings),
            ),
            embedded_texts=int((totals or {}).get("sum(embedded)", 0) or 0),
            cached_texts=int((totals or {}).get("sum(cached)", 0) or 0),
            embedder=embedder.key,
            duplicate_groups=dict(group_tiers),
            duplicate_pairs=dict(pair_counts),
            records_in_duplicate_groups=in_groups,
            conflicts=conflict_groups.count(),
            flags=dict(flag_counts.most_common()),
            clusters=len(figures.clusters),
            k_chosen_by=figures.model.k_chosen_by,
            map_method="pca",
            diversity={
                k: diversity[k]
                for k in ("balance", "vendi_score", "mean_nn_distance", "largest_cluster_share")
            },
            timings=timings,
            artifacts=artifacts,
            settings=settings,
        )
        atomic_write_json(paths.analysis / "report.json", result.model_dump(mode="json") | {"engine": "ray"})
        return result
    finally:
        if owned:
            store.close()


def _with_outputs(
    figures: dict[str, Any], prepared: Dataset, project: Project, settings: AnalysisSettings
) -> dict[str, Any]:
    """The output-value coverage (only with an output schema), streaming the outputs through."""
    from curation.analysis.diversity import with_output_coverage

    def outputs() -> Iterator[str]:
        for batch in prepared.select_columns(["record"]).iter_batches(batch_format=ARROW):
            for record in records_of(batch):
                yield record.output

    return with_output_coverage(figures, outputs(), project.output_schema, settings.diversity)


def _final_rows(
    batch: pa.Table, model: ray_clusters.ClusterModel, names: dict[int, str], which: str
) -> pa.Table:
    """Per row: its analysis metadata and suggestions (``analysis_metadata``, ``merged_suggestions``)
    and its three vectors, ready for the store."""
    records = records_of(batch)
    vectors = ray_clusters.cluster_vectors(batch, which)
    labels = model.labels(vectors)
    coords = model.coords(vectors)
    dups: list[str | None] = (
        batch.column("dup").to_pylist() if "dup" in batch.column_names else [None] * len(records)
    )
    conflicts = (
        batch.column("conflict").to_pylist() if "conflict" in batch.column_names else [None] * len(records)
    )
    metas, suggestions = [], []
    qualities = batch.column("quality").to_pylist()
    suggested = batch.column("suggested").to_pylist()
    for i, record in enumerate(records):
        quality = json.loads(qualities[i])
        meta = analysis_metadata(
            quality,
            json.loads(dups[i] or "{}"),
            {metadata_keys.CONFLICT_GROUP: conflicts[i]} if conflicts[i] else {},
            int(labels[i]),
            names.get(int(labels[i])),
            (float(coords[i, 0]), float(coords[i, 1])),
        )
        metas.append(json.dumps(meta))
        analysis = [Suggestion.model_validate(s) for s in json.loads(suggested[i])]
        wanted = merged_suggestions(record, analysis)
        suggestions.append(
            None if wanted is None else json.dumps([s.model_dump(mode="json") for s in wanted])
        )
    vin, vout = matrix_of(batch.column("vin")), matrix_of(batch.column("vout"))
    from curation.analysis.engines.columns import matrix_column

    return pa.table(
        {
            "id": batch.column("id"),
            "meta": pa.array(metas, pa.large_string()),
            "suggestions": pa.array(suggestions, pa.large_string()),
            "vin": matrix_column(vin),
            "vout": matrix_column(vout),
            "vpair": matrix_column(normalise(vin + vout)),
        }
    )


def _write_back(
    store: RecordStore,
    prepared: Dataset,
    members: Dataset,
    conflict_rows: Dataset,
    figures: ray_clusters.ClusterFigures,
    which: str,
    n: int,
    settings: AnalysisSettings,
    report: Progress,
) -> Counter[str]:
    """Stream the per-row results into the store, a batch at a time; returns the flag counts."""

    parts = ray_dedup.partitions(n)
    rows = prepared.select_columns(["row", "id", "record", "quality", "suggested", "vin", "vout"])
    rows = rows.join(members, "left_outer", parts, on=("row",), right_on=("row",))
    rows = rows.join(conflict_rows, "left_outer", parts, on=("row",), right_on=("row",))
    names = {c.id: c.name for c in figures.clusters}
    final = rows.map_batches(
        _final_rows, batch_format=ARROW, fn_kwargs={"model": figures.model, "names": names, "which": which}
    )
    flags: Counter[str] = Counter()
    done = 0
    for batch in final.iter_batches(batch_format=ARROW, batch_size=settings.batch_size):
        ids = batch.column("id").to_pylist()
        store.set_vectors(metadata_keys.VECTOR_INPUT, ids, matrix_of(batch.column("vin")))
        store.set_vectors(metadata_keys.VECTOR_OUTPUT, ids, matrix_of(batch.column("vout")))
        store.set_vectors(metadata_keys.VECTOR_PAIR, ids, matrix_of(batch.column("vpair")))
        updates = {
            rid: json.loads(meta) for rid, meta in zip(ids, batch.column("meta").to_pylist(), strict=True)
        }
        store.update_metadata(updates)
        for meta in updates.values():
            flags.update(meta.get(metadata_keys.FLAGS) or [])
        wanted = {
            rid: [Suggestion.model_validate(s) for s in json.loads(text)]
            for rid, text in zip(ids, batch.column("suggestions").to_pylist(), strict=True)
            if text is not None
        }
        if wanted:
            store.set_suggestions(wanted)
        done += len(ids)
        report("write", done, n)
    return flags


class _JsonArray:
    """Writes a JSON document with one streamed array, atomically (temp file, then rename)."""

    def __init__(self, path: Path, head: dict[str, Any], key: str) -> None:
        self.path = path
        self.temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.temp.open("w", encoding="utf-8")
        text = json.dumps(head, ensure_ascii=False)
        self.handle.write(text[:-1] + (", " if head else "") + json.dumps(key) + ": [")
        self.first = True

    def add(self, item_json: str) -> None:
        self.handle.write(("" if self.first else ", ") + item_json)
        self.first = False

    def close(self, tail: dict[str, Any] | None = None) -> Path:
        extra = json.dumps(tail or {}, ensure_ascii=False)[1:]
        self.handle.write("]" + (", " + extra if tail else "}"))
        self.handle.close()
        os.replace(self.temp, self.path)
        return self.path


def _write_artifacts(
    paths: ProjectPaths,
    prepared: Dataset,
    groups: Dataset,
    conflict_groups: Dataset,
    figures: ray_clusters.ClusterFigures,
    diversity: dict[str, Any],
    which: str,
) -> dict[str, str]:
    """duplicates.json, clusters.json and diversity.json, in the local run's shapes and order,
    each streamed from a sorted dataset (no list of every record is built on the driver)."""
    duplicates = _JsonArray(paths.analysis / "duplicates.json", {}, "groups")
    pair_counts: Counter[str] = Counter()
    for batch in groups.sort("first_row").iter_batches(batch_format=ARROW):
        for text, counts in zip(
            batch.column("group").to_pylist(), batch.column("pair_counts").to_pylist(), strict=True
        ):
            pair_counts.update(json.loads(counts))
            if text:
                duplicates.add(text)
    duplicates.handle.write('], "conflicts": [')
    duplicates.first = True
    for batch in conflict_groups.sort("first_row").iter_batches(batch_format=ARROW):
        for text in batch.column("group").to_pylist():
            duplicates.add(text)
    counts = {tier: pair_counts.get(tier, 0) for tier in ("exact", "near", "semantic")}
    duplicates_path = duplicates.close({"pair_counts": counts})
    model = figures.model
    head = {
        "k": len(figures.clusters),
        "k_chosen_by": model.k_chosen_by,
        "k_scores": {str(k): v for k, v in model.k_scores.items()},
        "map_method": "pca",
    }
    clusters = _JsonArray(paths.analysis / "clusters.json", head, "clusters")
    labelled = prepared.select_columns(["row", "id", "record", "vin", "vout"]).map_batches(
        _cluster_members, batch_format=ARROW, fn_kwargs={"model": model, "which": which}
    )
    info = {c.id: c for c in figures.clusters}
    current: int | None = None
    for batch in labelled.sort(["cluster", "row"]).iter_batches(batch_format=ARROW):
        for cluster, member in zip(
            batch.column("cluster").to_pylist(), batch.column("member").to_pylist(), strict=True
        ):
            if cluster != current:
                if current is not None:
                    clusters.handle.write("]}")
                body = json.dumps(info[cluster].as_dict(), ensure_ascii=False)
                clusters.add(body[:-1] + ', "records": [')
                clusters.handle.write(member)
                current = cluster
            else:
                clusters.handle.write(", " + member)
    if current is not None:
        clusters.handle.write("]}")
    clusters_path = clusters.close()
    diversity_path = atomic_write_json(paths.analysis / "diversity.json", diversity)
    return {
        "duplicates": str(duplicates_path),
        "clusters": str(clusters_path),
        "diversity": str(diversity_path),
    }


def _cluster_members(batch: pa.Table, model: ray_clusters.ClusterModel, which: str) -> pa.Table:
    records = records_of(batch)
    labels = model.labels(ray_clusters.cluster_vectors(batch, which))
    return pa.table(
        {
            "cluster": labels,
            "row": batch.column("row"),
            "member": [json.dumps({"id": r.id, "source_row": r.source.row}) for r in records],
        }
    )
