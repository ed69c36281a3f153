"""The analysis pipeline: embeddings, quality signals, three dedup tiers, clusters, map and diversity.

:func:`analyze_project` reads the store a batch at a time, writes its results back as metadata
(``curation.fields``), suggestions and vectors so that every backend's filters work on them, and
writes JSON artifacts to ``DIR/analysis/`` (duplicates, clusters, diversity, report) atomically.

Each step works on batches and returns results that merge by concatenation (vectors, pairs, term
counts, per-record metadata), so a distributed engine can run the per-batch parts on partitions and
only the global parts (index search, k-means, grouping) on the merged arrays.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from curation import metadata_keys
from curation.analysis.clusters import ClusterResult, cluster_records
from curation.analysis.dedup.conflicts import (
    ConflictGroup,
    conflict_document,
    conflict_metadata,
    find_conflicts,
)
from curation.analysis.dedup.exact import exact_pairs
from curation.analysis.dedup.groups import DuplicateGroup, build_groups, group_metadata, pair_dict
from curation.analysis.dedup.judge import tier_judge
from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.near import near_pairs_sides, near_sides
from curation.analysis.dedup.semantic import (
    CandidatePairs,
    pairs_from_candidates,
    semantic_candidates,
)
from curation.analysis.diversity import diversity_figures, with_output_coverage
from curation.analysis.embeddings.cache import EmbedCounts, EmbeddingCache, record_texts
from curation.analysis.embeddings.models import Embedder, OneTimeCost, get_embedder
from curation.analysis.embeddings.plan import (
    Models,
    OutputVectors,
    Quality,
    embed_batch,
    embed_outputs,
    method_summary,
    rows_needing_outputs,
)
from curation.analysis.quality.consistency import ConsistencySettings, consistency_of
from curation.analysis.quality.signals import AGENT as QUALITY_AGENT
from curation.analysis.quality.signals import compute_quality
from curation.analysis.quality.tokens import load_tokenizer
from curation.analysis.run_report import (
    AnalysisMethod,
    AnalysisReport,
    AnalysisSettings,
    decision_thresholds,
)
from curation.files import ProjectPaths, atomic_write_json
from curation.model import LABEL_QUESTION, Record, Response, ResponseStatus, Suggestion
from curation.project import open_store
from curation.store.base import RecordStore

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as each step advances (total 0 when unknown)."""

ANALYSIS_AGENTS = (QUALITY_AGENT,)
"""Agents whose suggestions analysis writes; re-running replaces these and keeps everyone else's."""


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[step] = round(time.perf_counter() - start, 3)


class _Collected:
    """What the batch pass gathers: ids, source rows, vectors, records and quality metadata."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.vectors: dict[str, list[np.ndarray]] = {}
        self.outputs: list[np.ndarray] = []  # the sentence model's output vectors (full mode)
        self.quality: dict[str, dict[str, Any]] = {}
        self.suggestions: dict[str, list[Suggestion]] = {}
        self.counts = EmbedCounts()

    def matrix(self, name: str) -> np.ndarray:
        parts = self.vectors.get(name) or []
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def analyze_project(
    project_dir: Path | str,
    *,
    embedder: Embedder | None = None,
    static_embedder: Embedder | None = None,
    settings: AnalysisSettings | None = None,
    progress: Progress | None = None,
    store: RecordStore | None = None,
) -> AnalysisReport:
    """Run every analysis step on a project and store the results; returns the run's report.

    ``embedder`` overrides ``settings.embedder`` and ``static_embedder`` the fast mode's coarse
    output embedder (tests pass the hashing fake; given only ``embedder``, it plays both roles);
    ``store`` reuses an open store instead of opening the project's.
    """
    started = time.perf_counter()
    settings = settings or AnalysisSettings()
    paths = ProjectPaths(Path(project_dir))
    owned = store is None
    store = store or open_store(paths.root)
    models = _models(settings, embedder, static_embedder)
    report = progress or (lambda step, done, total: None)
    timings: dict[str, float] = {}
    cache = EmbeddingCache(paths.cache / "embeddings.sqlite")
    try:
        total = store.count_records()
        project = store.get_project()
        collected = _Collected()
        costs: list[OneTimeCost] = []
        if total:
            with _timed(timings, "prepare_models"):
                costs = models.prepare()
        tokenizer = load_tokenizer() if total else None
        with _timed(timings, "embed_and_quality"):
            for batch in store.iter_records(batch_size=settings.batch_size):
                _process_batch(batch, store, models, settings.quality, cache, project, tokenizer, collected)
                report("embed", len(collected.records), total)
        records = collected.records
        ids = [r.id for r in records]
        responses = store.get_responses() if records else []
        report("dedup", 0, 3)
        with _timed(timings, "dedup"):
            pairs, groups, conflicts, outputs_embedded = _dedup(
                records, responses, collected, settings, models, cache, report, timings
            )
        with _timed(timings, "consistency"):
            _add_consistency(records, collected, settings.consistency)
        report("clusters", 0, 1)
        with _timed(timings, "clusters"):
            final_labels = _final_labels(responses)
            flags_by_id = {rid: q.get(metadata_keys.FLAGS, []) for rid, q in collected.quality.items()}
            clusters = cluster_records(
                ids,
                collected.matrix(settings.cluster_vector),
                [record_texts(r)[0] for r in records],
                labels_by_id=final_labels,
                flags_by_id=flags_by_id,
                settings=settings.clusters,
            )
        report("clusters", 1, 1)
        with _timed(timings, "diversity"):
            names = {c.id: c.name for c in clusters.clusters}
            topics = {c.id: c.topic for c in clusters.clusters}
            cluster_of = {rid: int(label) for rid, label in zip(ids, clusters.labels.tolist(), strict=True)}
            diversity = diversity_figures(
                ids, collected.matrix(settings.cluster_vector), cluster_of, names, settings.diversity, topics
            )
            outputs = (r.output for r in records)
            diversity = with_output_coverage(diversity, outputs, project.output_schema, settings.diversity)
        report("write", 0, 1)
        with _timed(timings, "write"):
            _write_store(store, records, collected, groups, conflicts, clusters, settings.batch_size)
            artifacts = _write_artifacts(paths, records, pairs, groups, conflicts, clusters, diversity)
        report("write", 1, 1)
        flag_counts: Counter[str] = Counter()
        for flags in flags_by_id.values():
            flag_counts.update(flags)
        result = AnalysisReport(
            records=len(records),
            seconds=round(time.perf_counter() - started, 3),
            embedded_texts=collected.counts.embedded,
            cached_texts=collected.counts.cached,
            embedder=models.sentence.key,
            method=AnalysisMethod(
                **method_summary(
                    models, settings.quality, settings.cluster_vector, len(records), outputs_embedded
                ),
                thresholds=decision_thresholds(settings),
            ),
            one_time_costs=costs,
            duplicate_groups=dict(Counter(g.tier for g in groups)),
            duplicate_pairs=dict(Counter(p.tier for p in pairs)),
            records_in_duplicate_groups=sum(len(g.members) for g in groups),
            conflicts=len(conflicts),
            flags=dict(flag_counts.most_common()),
            clusters=len(clusters.clusters),
            k_chosen_by=clusters.k_chosen_by,
            map_method=clusters.map_method,
            diversity={
                k: diversity[k]
                for k in ("balance", "vendi_score", "mean_nn_distance", "largest_cluster_share")
            },
            timings=timings,
            artifacts=artifacts,
            settings=settings,
        )
        atomic_write_json(paths.analysis / "report.json", result.model_dump(mode="json"))
        return result
    finally:
        cache.close()
        if owned:
            store.close()


def _models(settings: AnalysisSettings, embedder: Embedder | None, static: Embedder | None) -> Models:
    """The plan's embedders: the sentence model, and the static one in fast mode."""
    sentence = embedder or get_embedder(settings.embedder, **settings.embedder_settings)
    if settings.quality == "full":
        return Models(sentence, None)
    if static is None:
        static = (
            embedder
            if embedder is not None
            else get_embedder(settings.static_embedder, **settings.static_settings)
        )
    return Models(sentence, static)


def _process_batch(
    batch: list[Record],
    store: RecordStore,
    models: Models,
    quality: Quality,
    cache: EmbeddingCache,
    project: Any,
    tokenizer: Any,
    collected: _Collected,
) -> None:
    """The per-partition step: embed (through the cache), store vectors, compute quality signals."""
    vectors = embed_batch(batch, models, cache, quality)
    batch_ids = [r.id for r in batch]
    stored = {
        metadata_keys.VECTOR_INPUT: vectors.inputs,
        metadata_keys.VECTOR_OUTPUT: vectors.coarse_outputs,
        metadata_keys.VECTOR_PAIR: vectors.pairs,
    }
    for name, matrix in stored.items():
        store.set_vectors(name, batch_ids, matrix)
        collected.vectors.setdefault(name, []).append(matrix)
    if vectors.outputs is not None:
        collected.outputs.append(vectors.outputs)
    collected.counts += vectors.counts
    quality_result = compute_quality(batch, project, tokenizer=tokenizer)
    collected.quality.update(quality_result.metadata)
    collected.suggestions.update(quality_result.suggestions)
    collected.records.extend(batch)


def _decision_outputs(
    records: Sequence[Record],
    candidates: CandidatePairs,
    collected: _Collected,
    models: Models,
    cache: EmbeddingCache,
    batch_size: int,
) -> OutputVectors:
    """The sentence model's output vectors where the semantic rule compares outputs: every record's
    in full mode; in fast mode those of the candidate pairs only, embedded now in batches."""
    if collected.outputs:
        return OutputVectors.complete(np.vstack(collected.outputs))
    rows = rows_needing_outputs(candidates)
    parts: list[np.ndarray] = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size].tolist()
        vectors, counts = embed_outputs([records[i] for i in chunk], models.sentence, cache)
        parts.append(vectors)
        collected.counts += counts
    dim = parts[0].shape[1] if parts else collected.matrix(metadata_keys.VECTOR_INPUT).shape[1]
    return OutputVectors.scatter(len(records), dim, rows, np.vstack(parts) if parts else np.zeros((0, dim)))


def _dedup(
    records: Sequence[Record],
    responses: Sequence[Response],
    collected: _Collected,
    settings: AnalysisSettings,
    models: Models,
    cache: EmbeddingCache,
    report: Progress,
    timings: dict[str, float],
) -> tuple[list[DuplicatePair], list[DuplicateGroup], list[ConflictGroup], int]:
    """Pairs from the three tiers, their groups (each with a suggested keeper), conflicts, and how
    many records' outputs the sentence model embedded.

    Inputs and outputs are judged separately by every tier; groups are stars around a keeper
    (curation.analysis.dedup.groups). Semantic links inside a conflict group are dropped: those
    records share an input but disagree on the output, which is a conflict to resolve, not a
    duplicate to drop.
    """
    ids = [r.id for r in records]
    pairs = exact_pairs(records)
    report("dedup", 1, 3)
    sides, sigs = near_sides(records, settings.near)
    pairs += near_pairs_sides(ids, sides, sigs, settings.near)
    report("dedup", 2, 3)
    conflicts = find_conflicts(records, settings.conflicts)
    conflict_of = {m: c.id for c in conflicts for m in c.members}
    inputs = collected.matrix(metadata_keys.VECTOR_INPUT)
    candidates = semantic_candidates(ids, inputs, settings.semantic, sides=sides) if len(inputs) else None
    outputs: OutputVectors | None = None
    if candidates is not None and settings.semantic.output_threshold is not None:
        compared = candidates.rows_to_compare(settings.semantic, sides)
        with _timed(timings, "embed_outputs"):
            outputs = _decision_outputs(records, compared, collected, models, cache, settings.batch_size)
    semantic = (
        pairs_from_candidates(
            ids,
            candidates,
            settings.semantic,
            output_vectors=None if outputs is None else outputs.vectors,
            output_known=None if outputs is None else outputs.known,
            sides=sides,
        )
        if candidates is not None
        else []
    )
    pairs += [
        p for p in semantic if conflict_of.get(p.a) is None or conflict_of.get(p.a) != conflict_of.get(p.b)
    ]
    report("dedup", 3, 3)
    judge = tier_judge(
        sides,
        inputs,
        None if outputs is None else outputs.vectors,
        settings.near,
        settings.semantic,
        output_known=None if outputs is None else outputs.known,
    )
    groups = build_groups(pairs, records, responses, judge=judge)
    embedded = int(outputs.known.sum()) if outputs is not None else 0
    return pairs, groups, conflicts, embedded


def _add_consistency(records: Sequence[Record], collected: _Collected, settings: ConsistencySettings) -> None:
    """Merge the global consistency signals (agreement with similar inputs, rare output shapes) into
    each record's quality metadata and flags."""
    found = consistency_of(
        [r.id for r in records],
        collected.matrix(metadata_keys.VECTOR_INPUT),
        collected.matrix(metadata_keys.VECTOR_OUTPUT),
        [r.output for r in records],
        settings,
    )
    for rid, consistency in found.items():
        meta = collected.quality.setdefault(rid, {metadata_keys.FLAGS: []})
        flags = list(meta.get(metadata_keys.FLAGS) or [])
        meta[metadata_keys.FLAGS] = flags + [f for f in consistency.flags if f not in flags]
        meta[metadata_keys.OUTPUT_AGREEMENT] = consistency.agreement


def _final_labels(responses: Sequence[Response]) -> dict[str, str]:
    """The most common submitted label of each record (for the clusters' label mix)."""
    votes: dict[str, Counter[str]] = {}
    for response in responses:
        value = response.values.get(LABEL_QUESTION)
        if response.status == ResponseStatus.submitted and isinstance(value, str):
            votes.setdefault(response.record_id, Counter())[value] += 1
    return {rid: counter.most_common(1)[0][0] for rid, counter in votes.items()}


def _write_store(
    store: RecordStore,
    records: Sequence[Record],
    collected: _Collected,
    groups: Sequence[DuplicateGroup],
    conflicts: Sequence[ConflictGroup],
    clusters: ClusterResult,
    batch_size: int,
) -> None:
    """Replace every analysis key of every record, and analysis's own suggestions, in batches."""
    dup = group_metadata(groups)
    conflict = conflict_metadata(conflicts)
    names = {c.id: c.name for c in clusters.clusters}
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        updates: dict[str, dict[str, Any]] = {}
        suggestions: dict[str, list[Suggestion]] = {}
        for offset, record in enumerate(batch):
            i = start + offset
            label = int(clusters.labels[i])
            updates[record.id] = analysis_metadata(
                collected.quality.get(record.id, {}),
                dup.get(record.id, {}),
                conflict.get(record.id, {}),
                label,
                names.get(label),
                (float(clusters.coords[i, 0]), float(clusters.coords[i, 1])),
            )
            wanted = merged_suggestions(record, collected.suggestions.get(record.id, []))
            if wanted is not None:
                suggestions[record.id] = wanted
        store.update_metadata(updates)
        if suggestions:
            store.set_suggestions(suggestions)


def analysis_metadata(
    quality: dict[str, Any],
    duplicate: dict[str, Any],
    conflict: dict[str, Any],
    cluster: int,
    cluster_name: str | None,
    coords: tuple[float, float],
) -> dict[str, Any]:
    """One record's analysis keys, every one of them set (None removes a key left by an older run)."""
    meta: dict[str, Any] = dict.fromkeys(metadata_keys.ANALYSIS_KEYS)
    meta.update(quality)
    meta.update(duplicate)
    meta.update(conflict)
    meta[metadata_keys.CLUSTER] = cluster
    meta[metadata_keys.CLUSTER_NAME] = cluster_name
    meta[metadata_keys.MAP_X] = round(coords[0], 5)
    meta[metadata_keys.MAP_Y] = round(coords[1], 5)
    return meta


def merged_suggestions(record: Record, analysis: list[Suggestion]) -> list[Suggestion] | None:
    """The record's suggestions with analysis's replaced by ``analysis``; None when unchanged."""
    wanted = [s for s in record.suggestions if s.agent not in ANALYSIS_AGENTS]
    wanted += analysis
    return None if wanted == record.suggestions else wanted


def _write_artifacts(
    paths: ProjectPaths,
    records: Sequence[Record],
    pairs: Sequence[DuplicatePair],
    groups: Sequence[DuplicateGroup],
    conflicts: Sequence[ConflictGroup],
    clusters: ClusterResult,
    diversity: dict[str, Any],
) -> dict[str, str]:
    """duplicates.json, clusters.json and diversity.json (report.json is written last, by the caller)."""
    row = {r.id: r.source.row for r in records}
    duplicates = {
        "groups": [
            {
                "group": g.id,
                "tier": g.tier,
                "score": g.score,
                "records": [{"id": m, "source_row": row.get(m)} for m in g.members],
                "keeper": g.keeper,
                "max_score": g.max_score,
                "pairs": [pair_dict(p) for p in g.pairs],
            }
            for g in groups
        ],
        "conflicts": [conflict_document(c, row) for c in conflicts],
        "pair_counts": {
            tier: sum(1 for p in pairs if p.tier == tier) for tier in ("exact", "near", "semantic")
        },
    }
    ids = [r.id for r in records]
    members: dict[int, list[dict[str, Any]]] = {}
    for rid, label in zip(ids, clusters.labels.tolist(), strict=True):
        members.setdefault(int(label), []).append({"id": rid, "source_row": row[rid]})
    cluster_doc = {
        "k": len(clusters.clusters),
        "k_chosen_by": clusters.k_chosen_by,
        "k_scores": {str(k): v for k, v in clusters.k_scores.items()},
        "map_method": clusters.map_method,
        "clusters": [{**c.as_dict(), "records": members.get(c.id, [])} for c in clusters.clusters],
    }
    written = {
        "duplicates": atomic_write_json(paths.analysis / "duplicates.json", duplicates),
        "clusters": atomic_write_json(paths.analysis / "clusters.json", cluster_doc),
        "diversity": atomic_write_json(paths.analysis / "diversity.json", diversity),
    }
    return {name: str(path) for name, path in written.items()}
