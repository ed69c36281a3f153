"""Text checks shared by the quality signals, keeper choice and the UI: truncation and refusals."""

from __future__ import annotations

import json
import re

_CLOSERS = {")": "(", "]": "[", "}": "{"}


_DANGLING = {
    "and",
    "or",
    "but",
    "the",
    "a",
    "an",
    "to",
    "of",
    "with",
    "for",
    "because",
    "that",
    "your",
    "our",
}


_TERMINAL = set(".!?…:;\"'`»)]}>*_~”’") | {"。", "！", "？"}


def looks_truncated(text: str, *, min_prose_words: int = 8) -> bool:
    """True when an output looks cut off: unbalanced JSON, brackets or quotes, or prose stopping mid-word.

    JSON-like output (starting with ``{`` or ``[``) is truncated when it does not parse and has more
    opening than closing brackets or ends inside a string. Prose of at least ``min_prose_words`` words
    is truncated when it ends without terminal punctuation, on a comma or hyphen, on a dangling word
    ("and", "the", "to", ... after at least 3 words), or with an opened bracket or quote left open.
    """
    stripped = text.strip()
    if not stripped:
        return False
    if stripped[0] in "{[":
        try:
            json.loads(stripped)
            return False
        except ValueError:
            depth, in_string = _bracket_state(stripped, json_strings=True)
            return depth > 0 or in_string
    depth, _ = _bracket_state(stripped, json_strings=False)
    if depth > 0:
        return True
    last = stripped[-1]
    open_quote = stripped.count('"') % 2 == 1 or stripped.count("“") > stripped.count("”")
    if open_quote and last not in _TERMINAL:
        return True
    if stripped.endswith(("```", "}}")):
        return False
    if last in ",-–(":
        return True
    if last in _TERMINAL or not last.isalnum():
        return False
    words = stripped.split()
    if len(words) >= 3 and words[-1].lower() in _DANGLING:
        return True
    return len(words) >= min_prose_words


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
        won'?t|will\s+not|am\s+not\s+able|must\s+decline|don'?t\s+feel\s+comfortable)
    | \bi\s+apologi[sz]e,?\s+but\s+i\s+(?:can'?t|cannot|am\s+unable|won'?t|am\s+not\s+able)
    | \bsorry,?\s+(?:but\s+)?i\s+(?:can'?t|cannot|am\s+unable|won'?t)\s+(?:help|assist|provide|do|comply|fulfil)
    | \bas\s+an\s+ai\b(?:\s+(?:language\s+model|assistant|model))?
    | \bi'?m\s+(?:just\s+|only\s+)?an\s+ai\b
    | \bi\s+(?:can'?t|cannot|am\s+unable\s+to|am\s+not\s+able\s+to|won'?t)\s+
        (?:help|assist)\s+(?:you\s+)?with\s+(?:that|this|your\s+request)
    | \bi\s+(?:can'?t|cannot|must\s+decline\s+to)\s+(?:comply|fulfil+)\s+(?:with\s+)?(?:that|this|your)\b
    | \bi\s+must\s+(?:respectfully\s+)?decline\b
    """
)


def is_refusal(text: str, *, window: int = 300) -> bool:
    """True when the output's opening reads like a refusal ("I'm sorry, but I can't", "As an AI", ...)."""
    return bool(_REFUSAL.search(text[:window]))
