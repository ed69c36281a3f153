"""The dataset card (README.md) of an export: what is in it, where it came from, what was left out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curation.model import DatasetVersion


def load_diversity(path: Path) -> dict[str, Any] | None:
    """The figures analysis saved in ``analysis/diversity.json``, or None when there are none."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _flatten(figures: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Scalar figures as (dotted name, value); lists and deeper structures are left to the JSON file."""
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not prefix:
            rows += _flatten(value, f"{name}.")
        elif isinstance(value, bool | int | str) or value is None:
            rows.append((name, value))
        elif isinstance(value, float):
            rows.append((name, round(value, 4)))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_dataset_card(
    *,
    project: str,
    version: DatasetVersion,
    counts: Mapping[str, int],
    sources: Mapping[str, int],
    included_by: Mapping[str, int],
    review_labels: Mapping[str, int],
    excluded_by: Mapping[str, int],
    contamination: Mapping[str, Any],
    files: list[str],
    diversity: Mapping[str, Any] | None = None,
    parquet_files: Mapping[str, str] | None = None,
) -> str:
    """The Markdown dataset card; a YAML header points `datasets` at the parquet files when present."""
    parts: list[str] = []
    if parquet_files:
        header = ["---", "configs:", "- config_name: default", "  data_files:"]
        for split, path in parquet_files.items():
            header += [f"  - split: {split}", f"    path: {path}"]
        parts.append("\n".join([*header, "---"]))
    total = sum(counts.values())
    parts.append(
        f"# {project}: fine-tuning set `{version.name}`\n\n"
        f"{total} input → output pairs, curated and exported by pairsmith from dataset version "
        f"`{version.name}` (content hash `{version.content_hash[:16]}…`, guidelines version "
        f"{version.guidelines_version}). `manifest.json` lists every record and response it came from."
    )
    parts.append("## Splits\n\n" + _table(("split", "records"), [*counts.items(), ("total", total)]))
    parts.append(
        "## Sources\n\n"
        + (
            _table(("file", "records"), sorted(sources.items(), key=lambda kv: -kv[1]))
            if sources
            else "None recorded."
        )
    )
    parts.append(
        "## Labels\n\nWhy the exported records are in:\n\n"
        + _table(("verdict", "records"), list(included_by.items()) or [("(none)", 0)])
        + "\n\nAll submitted labels in the dataset version (every annotator):\n\n"
        + _table(("label", "responses"), list(review_labels.items()) or [("(none)", 0)])
    )
    parts.append(
        "## Left out\n\n"
        + (
            _table(("reason", "records"), list(excluded_by.items()))
            if excluded_by
            else "Nothing was left out."
        )
        + "\n\nThe rules and their settings are in `export_config.json`; see pairsmith's docs/export.md."
    )
    if diversity:
        rows = _flatten(diversity)
        parts.append(
            "## Diversity\n\n" + (_table(("figure", "value"), rows) if rows else "See analysis output.")
        )
    summary = contamination.get("summary", {})
    parts.append(
        "## Contamination\n\n"
        f"Nearest train neighbour of each test record ({contamination.get('method', 'none')}): "
        f"max similarity {summary.get('max', 0)}, mean {summary.get('mean', 0)}, "
        f"{summary.get('above_threshold', 0)} above {contamination.get('threshold', 0.9)}. "
        "Details in `contamination.json`. Duplicate groups, conflict groups and identical inputs never "
        "straddle two splits."
    )
    parts.append("## Files\n\n" + "\n".join(f"- `{f}`" for f in files))
    return "\n\n".join(parts) + "\n"
