"""Reason tags on a *bad* label: why an output was rejected, in a few words a designer chose.

The tags are configured in the guidelines, where annotators read what they mean: a section whose
heading names reasons (``## Reasons for bad``) with one bullet per tag, ``- wrong-facts: the output
states something false``. Without such a section the :data:`DEFAULT_REASON_TAGS` apply. Editing the
guidelines changes the tags, and each version of the guidelines keeps the tags it had.

A response keeps its tags at the start of its comment, as ``#wrong-facts #off-topic`` followed by the
comment itself. That works on every backend without a new question (an Argilla dataset's questions
are fixed once it is published), reads plainly in Argilla's own UI and in exports, and
:func:`split_comment` gets the tags back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from curation.errors import BadInputError
from curation.model import COMMENT_QUESTION, LABEL_BAD, LABEL_QUESTION, Response, ResponseStatus

DEFAULT_REASON_TAGS = ("wrong-facts", "wrong-format", "incomplete", "off-topic", "unsafe", "tone")
TAG = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SECTION = re.compile(r"\breasons?\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NAME_MEANING = re.compile(r"^(.*?)(?::|\s[—–-]\s)(.*)$")
_LEADING_TAGS = re.compile(r"^((?:#[a-z][a-z0-9-]*\s*)+)")


@dataclass(frozen=True)
class ReasonTag:
    """A tag and what it means (the bullet's text after the tag)."""

    tag: str
    meaning: str = ""


def slug(text: str) -> str:
    """A tag from a bullet's name: lower case, words joined by hyphens (``Wrong facts`` → ``wrong-facts``)."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("`", "").replace("*", ""))
    return "-".join(words)[:40]


def reason_tags(guidelines: str) -> list[ReasonTag]:
    """The reason tags the guidelines configure (their *Reasons* section), else the defaults.

    A bullet reads ``- tag: meaning`` (also ``—`` or `` - `` as the separator); the name becomes a
    tag with :func:`slug`. Duplicates are kept once, in order.
    """
    found: list[ReasonTag] = []
    level: int | None = None
    for line in guidelines.splitlines():
        heading = _HEADING.match(line)
        if heading:
            depth = len(heading.group(1))
            if level is not None and depth <= level:
                break
            if level is None and _SECTION.search(heading.group(2)):
                level = depth
            continue
        if level is None:
            continue
        bullet = _BULLET.match(line)
        if not bullet:
            continue
        body = bullet.group(1)
        parts = _NAME_MEANING.match(body)
        name, meaning = (parts.group(1), parts.group(2)) if parts else (body, "")
        tag = slug(name)
        if TAG.match(tag) and tag not in {t.tag for t in found}:
            found.append(ReasonTag(tag=tag, meaning=meaning.strip()))
    return found or [ReasonTag(tag=t) for t in DEFAULT_REASON_TAGS]


def has_reasons_section(guidelines: str) -> bool:
    """Whether the guidelines configure their own tags (else :data:`DEFAULT_REASON_TAGS` apply)."""
    return any(
        (heading := _HEADING.match(line)) and _SECTION.search(heading.group(2))
        for line in guidelines.splitlines()
    )


def split_comment(comment: str | None) -> tuple[list[str], str]:
    """The reason tags a comment starts with, and the comment's own text."""
    text = (comment or "").lstrip()
    match = _LEADING_TAGS.match(text)
    if not match:
        return [], (comment or "").strip()
    tags = [t for t in match.group(1).split() if t.startswith("#")]
    return list(dict.fromkeys(t[1:] for t in tags)), text[match.end() :].strip()


def compose_comment(label: str | None, tags: Sequence[str], text: str | None) -> str:
    """The comment to store: the tags first (only with a *bad* label: a good output has no reason to
    be rejected), then the reviewer's own text. BadInputError names a malformed tag."""
    own = (text or "").strip()
    if label != LABEL_BAD or not tags:
        return own
    bad = [t for t in tags if not TAG.match(t)]
    if bad:
        raise BadInputError(
            f"reason tags are lower-case words joined by hyphens (e.g. wrong-facts); not: {', '.join(bad)}"
        )
    prefix = " ".join(f"#{t}" for t in dict.fromkeys(tags))
    return f"{prefix} {own}".strip()


def with_reasons(values: dict[str, object], tags: Sequence[str], text: str | None) -> dict[str, object]:
    """Answers with the comment composed from ``tags`` and ``text`` for the answers' label."""
    label = values.get(LABEL_QUESTION)
    out = dict(values)
    out[COMMENT_QUESTION] = compose_comment(label if isinstance(label, str) else None, tags, text)
    return out


def reason_counts(responses: Iterable[Response]) -> dict[str, int]:
    """How often each tag was given on submitted *bad* answers, most frequent first."""
    counts: Counter[str] = Counter()
    for response in responses:
        if response.status != ResponseStatus.submitted or response.values.get(LABEL_QUESTION) != LABEL_BAD:
            continue
        tags, _ = split_comment(response.values.get(COMMENT_QUESTION))
        counts.update(tags)
    return dict(counts.most_common())
