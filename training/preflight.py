"""Refuse before starting: the split sizes an export needs, checked on the clean set before anything
is written, and on an export before training reads it.

Every split with a share above 0 needs at least ``ExportConfig.min_split_records`` records (one by
default): training needs train and validation examples, evaluation needs test examples, and
``datasets.load_from_disk`` cannot even read a saved split of 0 rows. The message says how many
records an export needs with the configured fractions, so a person knows what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from curation.errors import BadInputError
from curation.store.base import RecordStore
from training.clean_set import CleanSet, select_clean_set
from training.export_config import ExportConfig
from training.splits import SPLITS, assign_splits

TRAINING_SPLITS = ("train", "validation")
"""What training reads (evaluation reads test)."""
_MAX_SEARCH = 1_000_000


class SplitCheck(BaseModel):
    """The split sizes a clean set would get, and what is missing."""

    counts: dict[str, int]
    minimums: dict[str, int]
    needed: int
    """Records an export needs with these fractions (each record its own group)."""
    problems: list[str]
    share: dict[str, float] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self, total: int) -> str:
        fractions = " / ".join(f"{s} {self.share[s]:g}" for s in SPLITS)
        return (
            f"The clean set has {total} record{'s' if total != 1 else ''}: {'; '.join(self.problems)}. "
            f"With the fractions {fractions} an export needs at least {self.needed} records: label more "
            "records good, include unreviewed records, or change the fractions."
        )


def minimums(config: ExportConfig) -> dict[str, int]:
    """The minimum size of each split: 0 for a split whose fraction is 0."""
    fractions = config.fractions.as_dict()
    return {s: (config.min_split_records.get(s, 1) if fractions[s] > 0 else 0) for s in SPLITS}


def records_needed(config: ExportConfig) -> int:
    """The fewest distinct records whose split assignment meets every minimum (the same greedy rule
    as :func:`training.splits.assign_splits`, with each record its own leakage group)."""
    fractions = config.fractions.as_dict()
    wanted = minimums(config)
    open_splits = [s for s in SPLITS if fractions[s] > 0]
    counts = dict.fromkeys(SPLITS, 0)
    for total in range(1, _MAX_SEARCH):
        split = max(open_splits, key=lambda s: fractions[s] * total - counts[s])
        counts[split] += 1
        if all(counts[s] >= wanted[s] for s in SPLITS):
            return total
    return _MAX_SEARCH


def check_counts(counts: dict[str, int], config: ExportConfig) -> SplitCheck:
    """What is missing from split ``counts`` under ``config``'s minimums."""
    wanted = minimums(config)
    problems = [
        f"the {s} split would get {counts.get(s, 0)} (it needs at least {wanted[s]})"
        for s in SPLITS
        if counts.get(s, 0) < wanted[s]
    ]
    return SplitCheck(
        counts={s: counts.get(s, 0) for s in SPLITS},
        minimums=wanted,
        needed=records_needed(config),
        problems=problems,
        share=config.fractions.as_dict(),
    )


def check_clean_set(clean: CleanSet, config: ExportConfig) -> SplitCheck:
    """The split sizes of a clean set (the same assignment the export makes) and what is missing."""
    return check_counts(assign_splits(clean.included, config).counts(), config)


def require_split_sizes(clean: CleanSet, config: ExportConfig, what: str = "the project") -> SplitCheck:
    """BadInputError, with how many records are needed, unless every split meets its minimum."""
    check = check_clean_set(clean, config)
    if not check.ok:
        raise BadInputError(f"cannot export {what}. " + check.message(len(clean.included)))
    return check


def preflight_export(store: RecordStore, config: ExportConfig | None = None) -> SplitCheck:
    """Check the live clean set before an export (or a ship) starts; raises BadInputError when short."""
    config = config or ExportConfig()
    return require_split_sizes(select_clean_set(store, config), config)


def export_counts(export_dir: Path | str) -> dict[str, int] | None:
    """The split sizes an export recorded in its manifest (None when it has none)."""
    manifest = Path(export_dir) / "manifest.json"
    if not manifest.exists():
        return None
    data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    counts = data.get("counts")
    return {str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else None


def require_trainable(export_dir: Path | str, splits: tuple[str, ...] = TRAINING_SPLITS) -> None:
    """BadInputError before training (or evaluation) reads an export that lacks examples in ``splits``."""
    counts = export_counts(export_dir)
    if counts is None:
        return  # not made by pairsmith export: load_splits says what is missing
    empty = [s for s in splits if counts.get(s, 0) < 1]
    if empty:
        shown = ", ".join(f"{counts.get(s, 0)} {s}" for s in SPLITS)
        raise BadInputError(
            f"the export at {export_dir} holds {shown} examples; training needs at least 1 train and 1 "
            f"validation example (evaluation 1 test example). With the default fractions export at least "
            f"{records_needed(ExportConfig())} records (`pairsmith export DIR --out …`)"
        )


def export_preview(store: RecordStore, config: ExportConfig | None = None) -> dict[str, Any]:
    """The Export page's preview (training.clean_set_preview.preview_clean_set) plus ``splits``: the split
    sizes the clean set would get, what is missing and how many records are needed, and
    ``blocked``: the plain message that keeps the export from starting (None when it may start)."""
    from training.clean_set_preview import preview_clean_set

    config = config or ExportConfig()
    clean = select_clean_set(store, config)
    summary = preview_clean_set(store, config, clean=clean)
    check = check_clean_set(clean, config)
    summary["splits"] = check.model_dump()
    summary["blocked"] = None if check.ok or not clean.included else check.message(len(clean.included))
    if not clean.included:
        summary["blocked"] = "The clean set is empty: there is nothing to export yet."
    return summary
