"""Export the clean set of a dataset version: splits, every format, card, manifest, contamination.

The whole export folder is built under a temporary name and renamed into place when complete, so a
crash never leaves a half-written export. ``manifest.json`` ties the export to a frozen dataset
version and lists every record, output and response it holds, so every adapter trained from it
traces back to exactly the data it learned from.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from curation import metadata_keys as F
from curation.analysis.results import analysis_method
from curation.errors import BadInputError, ConflictError
from curation.files import ProjectPaths, atomic_directory
from curation.model import DatasetVersion, Record, Response, ResponseStatus
from curation.store.base import RecordStore
from training.clean_set import CleanItem, CleanSet, select_clean_set, select_from
from training.dataset_card import load_diversity, render_dataset_card
from training.export_config import ExportConfig
from training.export_formats import (
    COLUMNS,
    Row,
    format_names,
    get_format,
    validate_openai_chat_jsonl,
)
from training.preflight import require_split_sizes
from training.selection import Selection, select_from_store
from training.splits import SPLITS, Splits, assign_splits, cluster_of, contamination_report

MANIFEST_SCHEMA_VERSION = 1

__all__ = [
    "COLUMNS",
    "ExportResult",
    "example_row",
    "explain_clean_set",
    "export_clean_set",
    "resolve_version",
    "validate_openai_chat_jsonl",
]


@dataclass
class ExportResult:
    """What an export wrote; :meth:`to_json` is the shape of `pairsmith export --json`."""

    out_dir: Path
    version: DatasetVersion
    export_hash: str
    counts: dict[str, int]
    included_by: dict[str, int]
    excluded_by: dict[str, int]
    contamination: dict[str, Any]
    files: list[str] = field(default_factory=list)
    selection: dict[str, Any] | None = None
    """The selection summary (``--select``), or None."""

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "version": self.version.name,
            "version_hash": self.version.content_hash,
            "export_hash": self.export_hash,
            "counts": self.counts,
            "included_by": self.included_by,
            "excluded_by": self.excluded_by,
            "contamination": self.contamination["summary"] | {"method": self.contamination["method"]},
            "files": self.files,
            "selection": self.selection,
        }


def example_row(item: CleanItem) -> Row:
    """One exported example: chat messages ending with the final output, plus context columns."""
    messages = [
        # A tool call is the assistant's turn; a tool result keeps the role "tool" (OpenAI's name).
        {"role": "assistant" if m.kind == "call" else m.role, "content": m.content}
        for m in item.record.chat_messages(item.output)
        if m.content.strip()  # an empty system or user turn is invalid in every chat format
    ]
    dup_group = item.record.metadata.get(F.DUP_GROUP)
    return {
        "id": item.record.id,
        "messages": messages,
        "prompt": messages[:-1],
        "completion": messages[-1:],
        "input_text": item.record.input_text,
        "output": item.output,
        "cluster": cluster_of(item),
        "dup_group": "" if dup_group is None else str(dup_group),
        "golden": bool(item.record.golden),
        # Not a column of hf/parquet: only the preference format reads it.
        "rejected": item.record.metadata.get(F.REJECTED_OUTPUT),
    }


def resolve_version(
    store: RecordStore, name: str | None
) -> tuple[DatasetVersion, list[Record], list[Response]]:
    """The frozen records and responses to export: version ``name`` if it exists, else a new one.

    Exporting from a frozen version (never from the live store) makes the manifest exact even
    while annotators keep labeling.
    """
    if name and any(v.name == name for v in store.list_versions()):
        return store.load_version(name)
    if name:
        store.create_version(name)
        return store.load_version(name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 100):
        candidate = f"export-{stamp}" if attempt == 1 else f"export-{stamp}-{attempt}"
        try:
            store.create_version(candidate)
        except ConflictError:
            continue
        return store.load_version(candidate)
    raise ConflictError(f"could not find a free version name for export-{stamp}; name one with --version")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pairsmith_version() -> str:
    try:
        return importlib.metadata.version("pairsmith")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _manifest_entries(splits: Splits) -> dict[str, list[dict[str, Any]]]:
    return {
        split: [
            {
                "id": item.record.id,
                "content_hash": item.record.content_hash,
                "output_hash": item.output_hash(),
                "label": item.label,
                "response_hashes": item.response_hashes(),
            }
            for item in splits.items(split)
        ]
        for split in SPLITS
    }


def _export_hash(entries: dict[str, list[dict[str, Any]]]) -> str:
    """sha256 over every split's record ids, content hashes and final outputs."""
    digest = hashlib.sha256()
    for split in SPLITS:
        for e in entries[split]:
            digest.update(f"{split}:{e['id']}:{e['content_hash']}:{e['output_hash']}\n".encode())
    return digest.hexdigest()


def _review_labels(responses: list[Response], label_question: str) -> dict[str, int]:
    labels = Counter(
        str(r.values[label_question])
        for r in responses
        if r.status == ResponseStatus.submitted and label_question in r.values
    )
    return dict(sorted(labels.items()))


def split_diversity(
    store: RecordStore, records: list[Record], items: list[CleanItem]
) -> dict[str, Any] | None:
    """Diversity figures (curation.analysis.diversity) of ``items``, against every cluster of
    ``records``; None when the project has no analysis (no pair vectors or clusters)."""
    from curation.analysis.diversity import diversity_figures

    names: dict[int, str] = {}
    for record in records:
        cluster = record.metadata.get(F.CLUSTER)
        if cluster not in (None, ""):
            names.setdefault(int(cluster), str(record.metadata.get(F.CLUSTER_NAME) or f"cluster {cluster}"))
    if not names or F.VECTOR_PAIR not in store.vector_names():
        return None
    cluster_ids = {i.record.id: cluster_of(i) for i in items if cluster_of(i) in names}
    ids, vectors = store.get_vectors(F.VECTOR_PAIR, [i.record.id for i in items]) if items else ([], None)
    if vectors is None or len(ids) != len(items):
        return None
    figures = diversity_figures(ids, vectors, cluster_ids, names)
    return {k: v for k, v in figures.items() if k not in ("over_represented", "thin")}


def _diversity_before_after(
    store: RecordStore, records: list[Record], clean: CleanSet, train: list[CleanItem]
) -> dict[str, Any] | None:
    """``{"all_records", "train"}``: the version's records before curation and the exported train split."""
    every = [CleanItem(r, r.output, "", None) for r in records]
    before = split_diversity(store, records, every)
    if before is None:
        return None
    return {"all_records": before, "train": split_diversity(store, records, train)}


def explain_clean_set(
    store: RecordStore, config: ExportConfig, *, per_record: bool = False
) -> dict[str, Any]:
    """What an export would contain now, and why: the shape of `pairsmith export --dry-run --json`.

    With ``config.select`` the live clean set is split as an export would split it, and the
    selection's summary (``selection``; each pick's reason under ``per_record``) is added.
    """
    clean = select_clean_set(store, config)
    summary = clean.summary(per_record=per_record)
    if config.select:
        selection = select_from_store(store, assign_splits(clean.included, config).train, config.select)
        summary["selection"] = selection.to_json() if per_record else selection.summary()
    return summary


def _apply_selection(store: RecordStore, splits: Splits, config: ExportConfig) -> Selection | None:
    """Narrow the train split to the selected records (kept in store order); None without --select."""
    if not config.select:
        return None
    selection = select_from_store(store, splits.train, config.select)
    chosen = {item.record.id for item in selection.selected}
    splits.train = [item for item in splits.train if item.record.id in chosen]
    return selection


def _refuse_empty(clean: CleanSet, what: str) -> None:
    if not clean.included:
        reasons = ", ".join(f"{r}: {n}" for r, n in clean.excluded_by().items()) or "no records"
        raise BadInputError(
            f"the clean set of {what} is empty ({reasons}); label some records 'good', "
            "or pass --include-unreviewed for data that is already curated"
        )


def export_clean_set(
    store: RecordStore,
    out_dir: Path | str,
    config: ExportConfig | None = None,
    *,
    project_dir: Path | str | None = None,
    diversity: dict[str, Any] | None = None,
    user: str | None = None,
) -> ExportResult:
    """Export the clean set of a dataset version to ``out_dir`` in every configured format.

    Only owners export: ``user`` is the signed-in person (None for the CLI on a local project);
    on Argilla the store's API key decides.

    ``config.version`` names the version (an existing one is re-exported; a new name is created);
    without one a new ``export-<UTC timestamp>`` version is created. Diversity figures come from
    ``diversity`` or ``project_dir/analysis/diversity.json``. Raises BadInputError for an unknown
    format, an empty clean set or a split below its minimum size (training.preflight), before
    anything is written; ``out_dir`` is only replaced once the export is complete.
    """
    store.require_owner("export the dataset", user)
    config = config or ExportConfig()
    unknown = [f for f in config.formats if f not in format_names()]
    if unknown:
        raise BadInputError(f"unknown export format(s) {unknown}; choose from {format_names()}")
    existing = bool(config.version) and any(v.name == config.version for v in store.list_versions())
    if not existing:
        # Check the live data first so a refused export does not leave a new version behind.
        live = select_clean_set(store, config)
        _refuse_empty(live, "the project")
        require_split_sizes(live, config)
    version, records, responses = resolve_version(store, config.version)
    clean: CleanSet = select_from(records, responses, config)
    _refuse_empty(clean, f"version '{version.name}'")
    require_split_sizes(clean, config, f"version '{version.name}'")
    splits = assign_splits(clean.included, config)
    selection = _apply_selection(store, splits, config)
    diversity_split = _diversity_before_after(store, records, clean, splits.train)
    contamination = contamination_report(splits, store, threshold=config.contamination_threshold)
    rows = {split: [example_row(item) for item in splits.items(split)] for split in SPLITS}
    entries = _manifest_entries(splits)
    export_hash = _export_hash(entries)
    if diversity is None and project_dir is not None:
        diversity = load_diversity(ProjectPaths(Path(project_dir)).analysis / "diversity.json")
    # How the duplicates and clusters behind this clean set were found (quality mode, models, thresholds).
    analysis = analysis_method(project_dir) if project_dir is not None else None
    project = store.get_project()

    target = Path(out_dir)
    with atomic_directory(target) as staging:
        files: list[str] = []
        for name in config.formats:
            files += get_format(name)(staging, rows)
        (staging / "contamination.json").write_text(
            json.dumps(contamination, indent=2) + "\n", encoding="utf-8"
        )
        (staging / "export_config.json").write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
        files += ["contamination.json", "export_config.json"]
        sources = Counter(i.record.source.file or "(unknown)" for i in clean.included)
        card = render_dataset_card(
            project=project.name,
            version=version,
            counts=splits.counts(),
            sources=dict(sources),
            included_by=clean.included_by(),
            review_labels=_review_labels(responses, config.label_question),
            excluded_by=clean.excluded_by(),
            contamination=contamination,
            files=[*files, "README.md", "manifest.json"],
            diversity=diversity,
            parquet_files={s: f"parquet/{s}.parquet" for s in SPLITS}
            if "parquet" in config.formats
            else None,
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        files.append("README.md")
        manifest = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "pairsmith_version": _pairsmith_version(),
            "created_at": datetime.now(UTC).isoformat(),
            "project": project.name,
            "backend": store.backend,
            "dataset_version": version.model_dump(mode="json"),
            "guidelines_version": version.guidelines_version,
            "export_hash": export_hash,
            "counts": splits.counts(),
            "included_by": clean.included_by(),
            "excluded_by": clean.excluded_by(),
            "splits": entries,
            "selection": selection.to_json() if selection else None,
            "diversity": diversity_split,
            "config": config.model_dump(mode="json"),
            "analysis": analysis,
            "files": {name: _sha256_file(staging / name) for name in files},
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        files.append("manifest.json")
    return ExportResult(
        out_dir=target,
        version=version,
        export_hash=export_hash,
        counts=splits.counts(),
        included_by=clean.included_by(),
        excluded_by=clean.excluded_by(),
        contamination=contamination,
        files=files,
        selection=selection.summary() if selection else None,
    )
