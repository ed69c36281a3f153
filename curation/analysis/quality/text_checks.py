"""Text checks shared by the quality signals, keeper choice and the UI: truncation and refusals."""

from __future__ import annotations

import json
import re

_CLOSERS = {")": "(", "]": "[", "}": "{"}

_DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "to",
        "of",
        "with",
        "for",
        "from",
        "because",
        "that",
        "which",
        "your",
        "our",
        "their",
        "its",
        "my",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "at",
        "in",
        "on",
        "by",
        "as",
        "than",
        "into",
        "onto",
    ]
)
"""Words a finished sentence does not end on: articles, conjunctions, prepositions, possessives."""

_TERMINAL = set(".!?…:;\"'`»)]}>*_~”’") | set("。！？」』）】〉》")

_LIST_ITEM = re.compile(r"^\s*(?:[-*+•–]\s|\d{1,3}[.)]\s|[a-zA-Z][.)]\s|#{1,6}\s|\|)")
"""A bullet, a numbered or lettered item, a markdown heading or a table row."""

_CODE_HINT = re.compile(r"[=;{}<>]|\w\(|\)\s*$|^\s{4,}|`|^\s*(?:def|return|import|print|SELECT|from)\b")
"""Signs that a line is code, markup or an equation rather than prose."""

_EMOTICON_OPEN = re.compile(r"[:;=]-?\(")

_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
"""Fenced and inline code, whose brackets say nothing about the prose around them."""


_JSON_START = re.compile(r"""^(?:\{\s*["'}]|\[\s*(?:[\[{"'\]\d-]|true\b|false\b|null\b))""")


def looks_like_json(text: str) -> bool:
    """Whether text opens like a JSON object or array (``{"``, ``[1``, ``[{``), not like prose that
    happens to start with a bracket ("[laughs] Well, ...")."""
    return bool(_JSON_START.match(text.lstrip()))


def looks_truncated(text: str, *, min_prose_words: int = 8) -> bool:
    """True when an output looks cut off: it stops mid-word or mid-sentence, or leaves JSON, a
    bracket or a quote open.

    Only prose is judged by its ending: a final number (``#### 18``), a list item, a heading, a
    table row, code, an equation, a hashtag, a URL or an emoji are complete endings. JSON-like
    output (starting with ``{`` or ``[``) is truncated when it does not parse and has more opening
    than closing brackets or ends inside a string. Otherwise the text is truncated when:

    - it ends on a comma, a hyphen after a letter (``inter-``), an opening bracket, or a word a
      sentence does not end on ("and", "the", "to", ... after at least 3 words);
    - a bracket is left open (emoticons such as ``:(`` aside);
    - its last line is prose of at least ``min_prose_words`` words that ends on a lower-case letter
      without punctuation, or leaves a double quote open (the usual shapes of a cut-off reply).
    """
    stripped = text.strip()
    if not stripped:
        return False
    if looks_like_json(stripped):
        try:
            json.loads(stripped)
            return False
        except ValueError:
            depth, in_string = _bracket_state(stripped, json_strings=True)
            if depth > 0 or in_string:
                return True
    if stripped.endswith(("```", "}}")):
        return False
    stripped = _EMOTICON_OPEN.sub("\u2639", stripped)  # a sad face is an ending, not an open bracket
    last_paragraph = _CODE.sub(" ", stripped).rsplit("\n\n", 1)[-1]
    if _bracket_state(last_paragraph, json_strings=False)[0] > 0:
        return True
    last_line = stripped.rsplit("\n", 1)[-1].strip()
    words = last_line.split()
    last_char = stripped[-1]
    if (
        last_char in ",("
        or (last_char == ":" and not stripped.endswith("::"))
        or (last_char in "-–" and len(stripped) > 1 and stripped[-2].isalpha())
    ):
        return True
    if len(words) >= 3 and words[-1].lower() in _DANGLING:
        return True
    if last_char in _TERMINAL or not last_char.isalpha():
        return False  # punctuation, a digit (a final number), an emoji or a symbol
    if _LIST_ITEM.match(last_line) or _CODE_HINT.search(last_line):
        return False
    last_word = words[-1]
    if last_word.startswith(("#", "@", "http://", "https://", "www.")):
        return False
    open_quote = last_line.count('"') % 2 == 1 or last_line.count("“") > last_line.count("”")
    if open_quote and len(words) >= 3:
        return True
    return len(words) >= min_prose_words and last_word[0].islower()


def _bracket_state(text: str, *, json_strings: bool) -> tuple[int, bool]:
    """(unclosed opening brackets, whether the text ends inside a double-quoted string)."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if json_strings and in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if json_strings and char == '"':
            in_string = True
        elif char in "([{":
            stack.append(char)
        elif char in _CLOSERS and stack and stack[-1] == _CLOSERS[char]:
            stack.pop()
    return len(stack), in_string


_REFUSAL = re.compile(
    r"""(?ix)
    \b(?:i'?m|i\s+am)\s+(?:so\s+|very\s+|really\s+)?sorry,?\s+(?:but\s+)?i\s+(?:can'?t|cannot|can\s+not|am\s+unable|
        (?:won'?t|will\s+not)\s+(?:be\s+able\s+to\s+)?(?:help|assist|do|provide|answer|comply|write|give|share|
            tell|create|generate|engage|participate|discuss|support)|
        am\s+not\s+able|must\s+decline|don'?t\s+feel\s+comfortable|
        (?:don'?t|do\s+not)\s+(?:want\s+to|have\s+access))
    | \bi\s+apologi[sz]e,?\s+but\s+i\s+(?:can'?t|cannot|am\s+unable|won'?t|am\s+not\s+able)
    | \bsorry,?\s+(?:but\s+)?i\s+(?:can'?t|cannot|am\s+unable|won'?t)\s+(?:help|assist|provide|do|comply|fulfil)
    | \bas\s+an\s+ai\b(?:\s+(?:language\s+model|assistant|model))?,?\s+i\s+
        (?:do\s+not|don'?t|cannot|can'?t|am\s+not|am\s+unable|have\s+no|lack|won'?t)
    | \bi'?m\s+(?:just\s+|only\s+)?an\s+ai\b(?:\s+(?:language\s+model|assistant|model))?,?\s+(?:so|and)\s+
        (?:i\s+)?(?:can'?t|cannot|am\s+unable|unable|do\s+not|don'?t)
    | \bi\s+(?:can'?t|cannot|am\s+unable\s+to|am\s+not\s+able\s+to|won'?t)\s+
        (?:help|assist)\s+(?:you\s+)?with\s+(?:that|this|your\s+request)
    | \bi\s+(?:can'?t|cannot|must\s+decline\s+to)\s+(?:comply|fulfil+)\s+(?:with\s+)?(?:that|this|your)\b
    | \bi\s+must\s+(?:respectfully\s+)?decline\b
    """
)
"""Declining phrases. "As an AI" alone is a disclaimer, not a refusal: it counts only when a
negation of what the assistant can or will do follows it."""


def is_refusal(text: str, *, window: int = 300) -> bool:
    """True when the output's opening reads like a refusal ("I'm sorry, but I can't", "As an AI", ...)."""
    return bool(_REFUSAL.search(text[:window].replace("\u2019", "'")))
