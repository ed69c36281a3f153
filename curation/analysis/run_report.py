"""The shapes of an analysis run: its settings (what changes a result) and its report (what it
found, how it was made and how long it took), saved in report.json. Kept apart from the pipeline
that fills them so that readers of a report (results, export, the UI) need not import the run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from curation import metadata_keys
from curation.analysis.clusters import ClusterSettings
from curation.analysis.dedup.conflicts import ConflictSettings
from curation.analysis.dedup.near import NearSettings
from curation.analysis.dedup.semantic import SemanticSettings
from curation.analysis.diversity import DiversitySettings
from curation.analysis.embeddings.models import OneTimeCost
from curation.analysis.embeddings.plan import Quality
from curation.analysis.quality.consistency import ConsistencySettings

REPORT_VERSION = 2


class AnalysisSettings(BaseModel):
    """Everything that changes an analysis result; saved in report.json so a run can be reproduced."""

    model_config = ConfigDict(extra="forbid")

    quality: Quality = Field(
        default="full",
        description="full (the default): the sentence model embeds every input and output; fast: it "
        "embeds every input and only the outputs of candidate pairs (close inputs), and static "
        "vectors give clusters the output side (curation/analysis/embeddings/plan.py). Full is the "
        "default because fast saved no time on template-made data and moved clusters "
        "(docs/benchmarks.md, issue 14)",
    )
    embedder: str = "minilm"
    embedder_settings: dict[str, Any] = Field(default_factory=dict)
    static_embedder: str = Field(default="static", description="The coarse output embedder of fast mode")
    static_settings: dict[str, Any] = Field(default_factory=dict)
    near: NearSettings = Field(default_factory=NearSettings)
    conflicts: ConflictSettings = Field(default_factory=ConflictSettings)
    semantic: SemanticSettings = Field(default_factory=SemanticSettings)
    consistency: ConsistencySettings = Field(default_factory=ConsistencySettings)
    clusters: ClusterSettings = Field(default_factory=ClusterSettings)
    diversity: DiversitySettings = Field(default_factory=DiversitySettings)
    cluster_vector: str = Field(
        default=metadata_keys.VECTOR_PAIR,
        description="Vector clusters and diversity use: pair (what a record teaches) or input (what is asked)",
    )
    batch_size: int = Field(default=1000, ge=1, description="Records read, embedded and written per batch")


class AnalysisMethod(BaseModel):
    """How an analysis was made: its mode, device, models, which vectors each step used, and the
    thresholds of its decisions. Saved in report.json; export copies it into its manifest."""

    quality: str
    device: str
    models: dict[str, str] = Field(description="Role (inputs, outputs, coarse outputs) → model key")
    vectors: dict[str, str] = Field(description="Step → the vectors it used")
    thresholds: dict[str, float | None]
    outputs_embedded: int = Field(
        description="Records whose output the sentence model embedded (all in full mode)"
    )


class AnalysisReport(BaseModel):
    """What one analysis run found and how long each step took (the shape of report.json)."""

    report_version: int = REPORT_VERSION
    records: int
    seconds: float = Field(description="Wall time of the whole run, one-time work included")
    embedded_texts: int = Field(description="Distinct texts embedded in this run (every model)")
    cached_texts: int = Field(
        description="Distinct texts found in the embedding cache (a text repeated in this run is not a hit)"
    )
    embedder: str
    method: AnalysisMethod
    one_time_costs: list[OneTimeCost] = Field(
        default_factory=list,
        description="Made once per model and cached (ONNX export, static distillation): reused or "
        "made in this run; timings['prepare_models'] holds this run's share",
    )
    duplicate_groups: dict[str, int] = Field(description="Groups per tier (exact, near, semantic)")
    duplicate_pairs: dict[str, int]
    records_in_duplicate_groups: int
    conflicts: int
    flags: dict[str, int]
    clusters: int
    k_chosen_by: str
    map_method: str
    diversity: dict[str, Any]
    timings: dict[str, float]
    artifacts: dict[str, str]
    settings: AnalysisSettings


def decision_thresholds(settings: AnalysisSettings) -> dict[str, float | None]:
    """The decision thresholds in force, by name (the full settings are in ``settings``)."""
    return {
        "semantic_input_cosine": settings.semantic.threshold,
        "semantic_output_cosine": settings.semantic.output_threshold,
        "semantic_same_answer_input_cosine": settings.semantic.same_answer_threshold,
        "near_input_jaccard": settings.near.threshold,
        "near_output_jaccard": settings.near.output_threshold,
        "conflict_input_jaccard": settings.conflicts.input_threshold,
        "conflict_output_jaccard": settings.conflicts.output_threshold,
    }
