"""`pairsmith prefilter`: the analysis's dedup and quality steps on Ray over shards too large to review,
a clean Parquet out, a report of what was dropped and why, and optionally a subset spread over the
clusters imported into a project for human review.

The steps are the Ray engine's (:mod:`.ray_engine`): the same per-batch step, the same dedup tiers,
conflicts and groups, the same clustering. Each record is then judged by
:func:`curation.analysis.engines.shards.verdict` (the export's rules: excluded quality flags, empty
sides, copies of a group's keeper by an automatic tier) and streamed by the driver into
``clean.parquet`` or ``dropped.parquet``, a batch at a time.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import ray
import ray.data
from pydantic import BaseModel, Field

from curation.analysis.embeddings.models import Embedder, get_embedder
from curation.analysis.engines import ray_clusters, ray_dedup
from curation.analysis.engines.columns import records_of, records_table, require_full_quality
from curation.analysis.engines.ray_engine import connect, dedup_stages, prepare
from curation.analysis.engines.shards import (
    CLEAN_SCHEMA,
    DROPPED_SCHEMA,
    ParquetSink,
    balanced_quotas,
    clean_rows,
    read_shard,
    verdict,
    within_quota,
)
from curation.analysis.pipeline import AnalysisSettings, Progress
from curation.errors import BadInputError
from curation.files import atomic_write_json
from curation.model import Project
from curation.project import init_project, open_store

ARROW = "pyarrow"


class PrefilterReport(BaseModel):
    """What a prefilter run read, kept and dropped (the shape of ``report.json`` and ``--json``)."""

    shards: list[str]
    rows_read: int
    records: int
    kept: int
    dropped: int
    dropped_by: dict[str, int] = Field(description="Dropped rows per reason (unreadable rows included)")
    duplicate_groups: dict[str, int]
    flags: dict[str, int]
    clusters: int
    sampled: int = 0
    sample_project: str | None = None
    files: dict[str, str]
    timings: dict[str, float]
    settings: dict[str, Any]


def _read(shards: Sequence[Path], batch_size: int, dropped: ParquetSink) -> tuple[ray.data.Dataset, int, int]:
    """The shards' records into the object store a batch at a time; unreadable rows go straight to
    the dropped file. Returns the dataset, the records and the rows read."""
    refs = []
    row = read = 0
    for shard in shards:
        for batch in read_shard(shard, batch_size=batch_size):
            read += len(batch.records) + len(batch.unreadable)
            if batch.unreadable:
                dropped.write(
                    pa.table(
                        {
                            "id": [None] * len(batch.unreadable),
                            "source_file": [u.file for u in batch.unreadable],
                            "source_row": [u.row for u in batch.unreadable],
                            "reason": ["unreadable"] * len(batch.unreadable),
                            "detail": [u.reason for u in batch.unreadable],
                        },
                        schema=DROPPED_SCHEMA,
                    )
                )
            if batch.records:
                refs.append(ray.put(records_table(batch.records, row)))
                row += len(batch.records)
    if not refs:
        raise BadInputError("the shards hold no readable records", where=", ".join(s.name for s in shards))
    return ray.data.from_arrow_refs(refs), row, read


def _judge(
    batch: pa.Table,
    model: ray_clusters.ClusterModel,
    exclude_flags: list[str],
    drop_tiers: list[str],
) -> pa.Table:
    records = records_of(batch)
    labels = model.labels(ray_clusters.cluster_vectors(batch, "input"))
    dups = batch.column("dup").to_pylist() if "dup" in batch.column_names else [None] * len(records)
    reasons, details, flags = [], [], []
    for record, quality, dup in zip(records, batch.column("quality").to_pylist(), dups, strict=True):
        meta = json.loads(quality)
        reason, detail = verdict(record, meta, json.loads(dup) if dup else {}, exclude_flags, drop_tiers)
        reasons.append(reason)
        details.append(detail)
        flags.append(json.dumps(meta.get("flags") or []))
    return pa.table(
        {
            "id": batch.column("id"),
            "record": batch.column("record"),
            "cluster": labels,
            "reason": pa.array(reasons, pa.string()),
            "detail": pa.array(details, pa.string()),
            "flags": pa.array(flags, pa.string()),
        }
    )


def prefilter(
    shards: Sequence[Path | str],
    out_dir: Path | str,
    *,
    address: str | None = None,
    settings: AnalysisSettings | None = None,
    embedder: Embedder | None = None,
    exclude_flags: Sequence[str] = (),
    drop_tiers: Sequence[str] = ("exact", "near"),
    sample: int | None = None,
    into: Path | str | None = None,
    progress: Progress | None = None,
) -> PrefilterReport:
    """Prefilter ``shards`` into ``out_dir`` (clean.parquet, dropped.parquet, report.json); with
    ``sample`` and ``into``, also import ``sample`` kept records spread over the clusters into the
    project at ``into`` (created when missing)."""
    settings = settings or AnalysisSettings()
    require_full_quality(settings)
    if sample is not None and into is None:
        raise BadInputError("--sample needs --into PROJECT_DIR (the project the subset is imported into)")
    paths = [Path(s) for s in shards]
    out = Path(out_dir)
    embedder = embedder or get_embedder(settings.embedder, **settings.embedder_settings)
    report = progress or (lambda step, done, total: None)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    resources = connect(address)
    dropped = ParquetSink(out / "dropped.parquet", DROPPED_SCHEMA)
    source, n, rows_read = _read(paths, settings.batch_size, dropped)
    timings["read"] = round(time.perf_counter() - start, 3)
    mark = time.perf_counter()
    prepared = prepare(source, embedder, Project(name="prefilter"), settings, resources)
    timings["embed_and_quality"] = round(time.perf_counter() - mark, 3)
    dedup = dedup_stages(prepared, n, settings, timings, report)
    mark = time.perf_counter()
    model = ray_clusters.fit_clusters(prepared, n, "input", settings.clusters)
    timings["clusters"] = round(time.perf_counter() - mark, 3)
    parts = ray_dedup.partitions(n)
    rows = prepared.select_columns(["row", "id", "record", "quality", "vin", "vout"]).join(
        dedup.members, "left_outer", parts, on=("row",), right_on=("row",)
    )
    judged = rows.map_batches(
        _judge,
        batch_format=ARROW,
        fn_kwargs={"model": model, "exclude_flags": list(exclude_flags), "drop_tiers": list(drop_tiers)},
    ).materialize()
    mark = time.perf_counter()
    clean = ParquetSink(out / "clean.parquet", CLEAN_SCHEMA)
    dropped_by: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    kept_per_cluster: Counter[int] = Counter()
    for batch in judged.iter_batches(batch_format=ARROW, batch_size=settings.batch_size):
        reasons = batch.column("reason").to_pylist()
        keep = np.array([r is None for r in reasons])
        for text in batch.column("flags").to_pylist():
            flags.update(json.loads(text))
        kept = batch.filter(pa.array(keep))
        records = records_of(kept)
        clusters = kept.column("cluster").to_pylist()
        kept_per_cluster.update(clusters)
        clean.write(clean_rows(records, clusters))
        gone = batch.filter(pa.array(~keep))
        gone_records = records_of(gone)
        dropped_by.update(r for r in reasons if r is not None)
        dropped.write(
            pa.table(
                {
                    "id": [r.id for r in gone_records],
                    "source_file": [r.source.file for r in gone_records],
                    "source_row": [r.source.row for r in gone_records],
                    "reason": gone.column("reason"),
                    "detail": gone.column("detail"),
                },
                schema=DROPPED_SCHEMA,
            )
        )
    unreadable = dropped.rows - sum(dropped_by.values())
    if unreadable:
        dropped_by["unreadable"] = unreadable
    files = {"clean": str(clean.close()), "dropped": str(dropped.close())}
    timings["write"] = round(time.perf_counter() - mark, 3)
    sampled = 0
    if sample is not None and into is not None:
        mark = time.perf_counter()
        sampled = _import_sample(judged, kept_per_cluster, sample, Path(into), settings.clusters.seed)
        timings["sample"] = round(time.perf_counter() - mark, 3)
    group_tiers: Counter[str] = Counter()
    for batch in dedup.groups.select_columns(["tier", "members"]).iter_batches(batch_format=ARROW):
        group_tiers.update(
            t
            for t, m in zip(
                batch.column("tier").to_pylist(), batch.column("members").to_pylist(), strict=True
            )
            if m
        )
    result = PrefilterReport(
        shards=[str(p) for p in paths],
        rows_read=rows_read,
        records=n,
        kept=clean.rows,
        dropped=dropped.rows,
        dropped_by=dict(dropped_by.most_common()),
        duplicate_groups=dict(group_tiers),
        flags=dict(flags.most_common()),
        clusters=len(model.centres),
        sampled=sampled,
        sample_project=str(into) if into is not None and sample is not None else None,
        files=files,
        timings=timings,
        settings={
            "exclude_flags": list(exclude_flags),
            "drop_tiers": list(drop_tiers),
            "analysis": settings.model_dump(mode="json"),
            "embedder": embedder.key,
        },
    )
    files["report"] = str(atomic_write_json(out / "report.json", result.model_dump(mode="json")))
    result.files = files
    return result


def _kept(batch: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    return batch.filter(pc.is_null(batch.column("reason")))


def _import_sample(judged: ray.data.Dataset, sizes: Counter[int], size: int, into: Path, seed: int) -> int:
    """Import ``size`` kept records, as evenly spread over the clusters as their sizes allow."""
    labels = sorted(sizes)
    quotas = dict(zip(labels, balanced_quotas([sizes[c] for c in labels], size), strict=True))

    def pick(group: pa.Table) -> pa.Table:
        return group.filter(pa.array(within_quota(group, quotas, seed))).select(["id", "record"])

    chosen = (
        judged.map_batches(_kept, batch_format=ARROW)
        .select_columns(["id", "record", "cluster"])
        .groupby("cluster")
        .map_groups(pick, batch_format=ARROW)
    )
    store = open_store(into) if (into / "pairsmith.json").exists() else init_project(into, into.name)
    imported = 0
    try:
        for batch in chosen.iter_batches(batch_format=ARROW, batch_size=2000):
            result = store.upsert_records(records_of(batch))
            imported += result.inserted + result.updated + result.unchanged
    finally:
        store.close()
    return imported
