"""Text normalisation shared by the dedup tiers: what makes two texts equal, and what is compared."""

from __future__ import annotations

import json
import re
import string
import unicodedata
from typing import Any

_WS = re.compile(r"\s+")


_WORD = re.compile(r"\w+")


_PUNCT = string.punctuation + "\u00a1\u00bf\u2018\u2019\u201c\u201d\u2026\u00ab\u00bb\u2013\u2014"


def normalize_text(text: str) -> str:
    """Unicode NFKC, case fold, whitespace collapsed, punctuation and spaces trimmed at both ends.

    Two texts that normalise equally are exact duplicates: they differ only in width forms, case,
    spacing or a trailing "?" / "!".
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", folded).strip().strip(_PUNCT + " ").strip()


def canonical_words(text: str) -> str:
    """The normalised text's words joined by single spaces: what near-dup shingles are taken from."""
    return " ".join(_WORD.findall(normalize_text(text)))


def json_leaves(value: Any) -> list[str]:
    """The scalar values of a parsed JSON document, depth first (keys left out)."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in json_leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in json_leaves(item)]
    return [] if value is None else [str(value)]


def content_text(output: str) -> str:
    """The output as compared for similarity: a JSON output's values only, since its keys repeat
    in every record and would make unrelated records look alike; any other output unchanged."""
    stripped = output.strip()
    if stripped[:1] in ("{", "["):
        try:
            return " ".join(json_leaves(json.loads(stripped)))
        except ValueError:
            pass
    return output
