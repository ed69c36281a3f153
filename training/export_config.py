"""The export configuration: clean-set rules, split settings and output formats.

One typed object, loadable from a YAML or JSON file, overridable from the command line, and saved
beside every export (``export_config.json``) so the same set can be rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curation.errors import BadInputError, NotFoundError
from curation.model import CORRECTION_QUESTION, LABEL_GOOD, LABEL_NEEDS_FIX, LABEL_QUESTION

DEFAULT_EXCLUDED_FLAGS = [
    "empty_output",
    "truncated_output",
    "too_long",
    "invalid_json",
    "schema_mismatch",
    "inconsistent_output",
    "off_format",
]
FORMAT_NAMES = ("hf", "parquet", "openai", "alpaca", "sharegpt")
FORMAT_DESCRIPTIONS = {
    "hf": "Hugging Face dataset",
    "parquet": "Parquet",
    "openai": "OpenAI chat JSONL",
    "alpaca": "Alpaca JSON",
    "sharegpt": "ShareGPT JSON",
    "preference": "Preference pairs (DPO)",
}
"""What each export format is, in a few words (the Export page's choice)."""


class SplitFractions(BaseModel):
    """Share of records in each split; the three add up to 1."""

    model_config = ConfigDict(extra="forbid")

    train: float = Field(default=0.8, ge=0, le=1)
    validation: float = Field(default=0.1, ge=0, le=1)
    test: float = Field(default=0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitFractions:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split fractions add up to {total:g}; make train + validation + test = 1")
        return self

    def as_dict(self) -> dict[str, float]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


DedupTier = Literal["exact", "near", "semantic"]
DEFAULT_DEDUP_TIERS: tuple[DedupTier, ...] = ("exact", "near")


class ExportConfig(BaseModel):
    """Every rule of the clean set, the splits and the formats. Defaults follow docs/export.md."""

    model_config = ConfigDict(extra="forbid")

    # --- clean set ---------------------------------------------------------------------------
    label_question: str = LABEL_QUESTION
    correction_question: str = CORRECTION_QUESTION
    include_labels: list[str] = Field(default_factory=lambda: [LABEL_GOOD])
    """Labels whose record is taken with its original output."""
    correction_labels: list[str] = Field(default_factory=lambda: [LABEL_NEEDS_FIX])
    """Labels whose record is taken only with a non-empty corrected output, which replaces the output."""
    use_adjudication: bool = True
    """When a record names an adjudicator (metadata ``adjudicated_by``), that owner's response is final."""
    disagreement_policy: Literal["majority", "unanimous"] = "majority"
    """Without adjudication: the majority verdict wins (ties excluded), or any disagreement excludes."""
    include_unreviewed: bool = False
    """Also take records nobody labeled (still deduplicated and quality-filtered)."""
    dedup: bool = True
    """Leave out the copies in duplicate groups (see ``dedup_tiers``)."""
    dedup_tiers: list[DedupTier] = Field(default_factory=lambda: list(DEFAULT_DEDUP_TIERS))
    """Without a reviewer's decision, members linked to their group's keeper by one of these tiers are
    left out. Semantic groups are paraphrases, not copies: on BANKING77 an input cosine of 0.95 still
    pairs 11 % of 4,000 distinct queries, so they stay until a reviewer keeps one (Duplicates page)."""
    resolve_conflicts: bool = True
    """Keep at most one unreviewed record per conflict group (same input, different outputs)."""
    exclude_flags: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDED_FLAGS))
    """Quality flags (metadata ``flags``) that exclude a record."""

    # --- splits ------------------------------------------------------------------------------
    fractions: SplitFractions = Field(default_factory=SplitFractions)
    seed: int = 42
    pin_golden_to_test: bool = True
    group_same_input: bool = True
    """Records with the same normalised input always land in the same split."""
    contamination_threshold: float = Field(default=0.9, ge=0, le=1)
    min_split_records: dict[str, int] = Field(
        default_factory=lambda: {"train": 1, "validation": 1, "test": 1}
    )
    """The fewest records each split (with a fraction above 0) must get; export, train and ship refuse
    before starting otherwise (training.preflight)."""

    # --- selection ---------------------------------------------------------------------------
    select: int | None = Field(default=None, ge=1)
    """Keep only the N training records that best cover the data and are of the highest quality
    (training/selection.py; needs `pairsmith analyze`). Validation and test stay as without it, so
    runs with and without a selection are scored on the same records."""

    # --- output ------------------------------------------------------------------------------
    formats: list[str] = Field(default_factory=lambda: list(FORMAT_NAMES))
    """Formats to write (names in training.export's format registry)."""
    version: str | None = None
    """Dataset version to export: an existing one is re-exported; a new name is created. None: a new
    ``export-<UTC timestamp>`` version."""


def load_export_config(path: Path | str | None = None, **overrides: Any) -> ExportConfig:
    """Read a config from a YAML/JSON file (or the defaults), then apply non-None ``overrides``.

    Overrides are what command-line flags set; they take precedence over the file.
    """
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.exists():
            raise NotFoundError(f"export config file {file} does not exist")
        text = file.read_text(encoding="utf-8")
        try:
            loaded = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise BadInputError(f"cannot parse the config: {exc}", where=str(file)) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise BadInputError("the config must be a mapping of option: value", where=str(file))
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ExportConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise BadInputError(f"invalid export config: {problems}", where=str(path) if path else None) from None
