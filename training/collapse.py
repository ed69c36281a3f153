"""A clean set that cannot silently collapse: say so when dedup or quality flags would drop a lot.

On real data a wrong dedup or flag rule does not fail: it quietly leaves out most of the data (a
constant reply once made 3,910 of 4,000 distinct queries one duplicate group; a maths set lost
1,316 of 1,319 answers to a false "truncated" flag). So before anything is exported or trained,
:func:`collapse_warning` checks what the automatic filters would leave out of the records they
judged (those that passed review): above ``COLLAPSE_SHARE`` (20 %) it returns the top reasons, each
with a few examples, for `export --dry-run`, `ship` and the Export page to show first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COLLAPSE_SHARE = 0.2
"""Warn when dedup and quality flags leave out more than this share of the records they judged."""

FILTER_REASONS = (
    "quality_flag",
    "empty_input_or_output",
    "duplicate",
    "duplicate_dropped",
    "duplicate_conflict",
)
"""The clean set's automatic exclusion reasons (training.clean_set); review outcomes are not filters."""


@dataclass(frozen=True)
class CollapseReason:
    """One reason with how many records it leaves out and a few of them."""

    reason: str  # e.g. "duplicate" or "quality_flag: truncated_output"
    records: int
    examples: list[dict[str, str]] = field(default_factory=list)  # {"id", "input", "detail"}


@dataclass(frozen=True)
class CollapseWarning:
    judged: int
    excluded: int
    reasons: list[CollapseReason]

    @property
    def share(self) -> float:
        return self.excluded / self.judged if self.judged else 0.0

    def message(self) -> str:
        """One paragraph for a terminal or a page: the share, then the top reasons with an example each."""
        parts = []
        for reason in self.reasons:
            example = reason.examples[0] if reason.examples else None
            shown = f" (e.g. {example['id']}: {example['input']!r}; {example['detail']})" if example else ""
            parts.append(f"{reason.reason}: {reason.records}{shown}")
        return (
            f"Dedup and quality flags would leave out {self.excluded} of the {self.judged} records they judged "
            f"({self.share:.0%}, more than {COLLAPSE_SHARE:.0%}). Check these rules before exporting: "
            + "; ".join(parts)
            + "."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "judged": self.judged,
            "excluded": self.excluded,
            "share": round(self.share, 4),
            "message": self.message(),
            "reasons": [
                {"reason": r.reason, "records": r.records, "examples": list(r.examples)} for r in self.reasons
            ],
        }


def _snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def collapse_warning(
    included: int,
    excluded: Sequence[tuple[str, str, str]],
    inputs: Mapping[str, str],
    *,
    limit: float = COLLAPSE_SHARE,
    top: int = 3,
    examples: int = 3,
) -> CollapseWarning | None:
    """The warning when the automatic filters leave out more than ``limit`` of the records they judged.

    ``included`` is how many records the clean set keeps; ``excluded`` holds (id, reason, detail) of
    every left-out record; ``inputs`` maps ids to their input text (for the examples). A quality flag
    exclusion counts under each of its flags ("quality_flag: truncated_output").
    """
    filtered = [(rid, reason, detail) for rid, reason, detail in excluded if reason in FILTER_REASONS]
    judged = included + len(filtered)
    if not judged or len(filtered) / judged <= limit:
        return None
    counts: Counter[str] = Counter()
    shown: dict[str, list[dict[str, str]]] = {}
    for rid, reason, detail in filtered:
        keys = (
            [f"{reason}: {flag.strip()}" for flag in detail.split(",")]
            if reason == "quality_flag"
            else [reason]
        )
        for key in keys:
            counts[key] += 1
            if len(shown.setdefault(key, [])) < examples:
                shown[key].append({"id": rid, "input": _snippet(inputs.get(rid, "")), "detail": detail})
    reasons = [CollapseReason(key, n, shown[key]) for key, n in counts.most_common(top)]
    return CollapseWarning(judged=judged, excluded=len(filtered), reasons=reasons)
