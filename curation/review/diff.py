"""The difference between an output and a person's correction, by word or by line."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from curation.errors import BadInputError

DiffMode = Literal["word", "line"]


_WORDS = re.compile(r"\s+|[^\s]+")
LONG_TEXT = 20_000
"""Above this many characters a diff goes by lines: a word diff of two 200 KB texts takes seconds."""


@dataclass(frozen=True)
class DiffPart:
    """One piece of a diff: text kept (``equal``), added (``insert``) or removed (``delete``)."""

    kind: Literal["equal", "insert", "delete"]
    text: str


def output_diff(original: str, corrected: str, mode: DiffMode = "word") -> list[DiffPart]:
    """The parts that turn ``original`` into ``corrected``, by words (whitespace kept) or by lines."""
    if mode == "word":
        a, b = _WORDS.findall(original), _WORDS.findall(corrected)
    elif mode == "line":
        a, b = original.splitlines(keepends=True), corrected.splitlines(keepends=True)
    else:
        raise BadInputError(f"unknown diff mode '{mode}'; choose word or line")
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("delete", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("insert", "".join(b[j1:j2])))
    return parts


def diff_text(parts: list[DiffPart], mode: DiffMode = "word") -> str:
    """A plain-text rendering, safe to show as code: ``[-removed-]{+added+}`` (word) or ``-``/``+`` lines."""
    if mode == "word":
        marks = {"equal": ("", ""), "delete": ("[-", "-]"), "insert": ("{+", "+}")}
        return "".join(f"{marks[p.kind][0]}{p.text}{marks[p.kind][1]}" for p in parts)
    prefix = {"equal": "  ", "delete": "- ", "insert": "+ "}
    lines: list[str] = []
    for part in parts:
        for line in part.text.splitlines() or [""]:
            lines.append(prefix[part.kind] + line)
    return "\n".join(lines)


def diff_mode_for(original: str, corrected: str) -> DiffMode:
    """Words for ordinary texts, lines once either text is longer than :data:`LONG_TEXT` characters."""
    return "line" if max(len(original), len(corrected)) > LONG_TEXT else "word"


def side_by_side(parts: list[DiffPart]) -> tuple[list[DiffPart], list[DiffPart]]:
    """The two columns of a side-by-side diff: the original with what was removed, and the new text
    with what was added (text kept appears in both)."""
    before = [p for p in parts if p.kind != "insert"]
    after = [p for p in parts if p.kind != "delete"]
    return before, after


def changed_share(parts: list[DiffPart]) -> float:
    """The share of words that differ (added plus removed over all words on both sides), 0 to 1."""
    kept = sum(len(p.text.split()) for p in parts if p.kind == "equal")
    changed = sum(len(p.text.split()) for p in parts if p.kind != "equal")
    total = 2 * kept + changed
    return changed / total if total else 0.0


def diff_counts(parts: list[DiffPart]) -> dict[str, int]:
    """Words (or lines) added and removed, for a one-line summary."""
    added = sum(len(p.text.split()) for p in parts if p.kind == "insert")
    removed = sum(len(p.text.split()) for p in parts if p.kind == "delete")
    return {"added": added, "removed": removed}
