"""How record text is laid out for a reviewer: which way it reads, where a long text is clipped, and
guidelines sized for a sidebar.

These are rules a page shows, not draws: the review and duplicates pages call them so that a 200 KB
output does not make the page 75,000 px tall, Arabic or Hebrew text reads right to left, and the
guidelines' own top heading does not become the page's first heading.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Direction = Literal["ltr", "rtl"]

CLIP_CHARS = 3000
"""Characters of a text shown before *show all* (about a screen of prose)."""
CLIP_LINES = 40
"""Lines of a text shown before *show all* (a pretty-printed JSON output is tall, not wide)."""
_RTL_CLASSES = frozenset({"R", "AL"})  # Hebrew, Arabic, Syriac, Thaana, N'Ko...
_HEADING = re.compile(r"^(#{1,6})(\s+\S.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def text_direction(text: str) -> Direction:
    """``rtl`` when the first strongly directional character reads right to left, else ``ltr``.

    The same rule as HTML's ``dir="auto"`` (the Unicode bidi algorithm's P2/P3): digits, spaces and
    punctuation are skipped, so "123 مرحبا" reads right to left and "Order مرحبا" left to right.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in _RTL_CLASSES:
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


@dataclass(frozen=True)
class Clipped:
    """The part of a text to show first, and how much is left for *show all*."""

    shown: str
    hidden_chars: int
    hidden_lines: int

    @property
    def clipped(self) -> bool:
        return self.hidden_chars > 0


def clip(text: str, max_chars: int = CLIP_CHARS, max_lines: int = CLIP_LINES) -> Clipped:
    """The first ``max_lines`` lines / ``max_chars`` characters of ``text`` (whichever is shorter).

    A cut inside a line moves back to the last space when there is one in the last tenth, so words
    are not split; the count of what is hidden is exact.
    """
    if max_chars < 1 or max_lines < 1:
        raise ValueError("max_chars and max_lines must be at least 1")
    cut = len(text)
    newlines = 0
    for position, char in enumerate(text):
        if char == "\n":
            newlines += 1
            if newlines == max_lines:
                cut = position
                break
    cut = min(cut, max_chars)
    if cut < len(text) and text[cut] not in "\n " and cut == max_chars:
        space = text.rfind(" ", max(0, cut - max_chars // 10), cut)
        if space > 0:
            cut = space
    shown = text[:cut]
    rest = text[cut:]
    return Clipped(shown=shown, hidden_chars=len(rest), hidden_lines=rest.count("\n"))


def demote_headings(markdown: str, top: int = 4) -> str:
    """Markdown whose largest heading is level ``top`` (the others keep their distance to it).

    For the review sidebar: the guidelines' own ``# Title`` must not outrank the page's title. Lines
    inside fenced code blocks are left alone (a ``# comment`` in a code sample is not a heading).
    """
    if not 1 <= top <= 6:
        raise ValueError("top must be a heading level between 1 and 6")
    lines = markdown.splitlines()
    fenced = False
    levels: list[int] = []
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            levels.append(len(m.group(1)))
    if not levels:
        return markdown
    shift = max(0, top - min(levels))
    out: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            line = "#" * min(6, len(m.group(1)) + shift) + m.group(2)
        out.append(line)
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")
