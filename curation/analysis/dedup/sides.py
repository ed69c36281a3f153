"""What the dedup tiers compare, side by side: a record's input and its output are judged separately.

A duplicate is a copy of a record: the same question **and** the same answer. Comparing the two
sides as one text (or one summed vector) lets a shared side vouch for the other: with a constant
reply ("Thanks, routing your request."), a class label or a long template answer, distinct inputs
look alike because their outputs are identical. So every tier scores the input and the output on
their own, and a link needs both to pass (see docs/curation-dedup-quality.md for the data behind
this rule).

:func:`record_sides` is the per-batch step (shingles of each side, the numbers and the system prompt
of each input); batches merge with :meth:`RecordSides.concat`. :func:`numbers_agree` is the check that
keeps "order FW-123 is late" and "order FW-456 is late" apart without vetoing a paraphrase that
merely leaves a year out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curation.analysis.dedup.shingles import Shingles, shingle_texts
from curation.analysis.dedup.text import content_text, normalize_text
from curation.model import Record

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MIN_DIGITS = 4
"""Numbers with at least this many digits are specifics (order ids, amounts with cents, years);
shorter ones (ages, counts, days of the month) are details a paraphrase may change (on MQP, doctors
rewrote "22-year-old" as "26 year old" without changing the question)."""


def input_numbers(text: str) -> frozenset[str]:
    """The specific numbers written in ``text``: digit runs (a decimal point or thousands separator
    inside is kept; separators dropped) with at least ``MIN_DIGITS`` digits. "11/13-18" and
    "11-13/18" are the same digits and hold no specific number."""
    found = (m.replace(",", "") for m in _NUMBER.findall(text))
    return frozenset(n for n in found if sum(c.isdigit() for c in n) >= MIN_DIGITS)


def system_key(record: Record) -> int:
    """A 63-bit hash of the normalised system prompt (0 without one): records under different
    system prompts are never copies of each other, and a long shared prompt must not make
    different inputs look alike, so it is compared for equality, not for similarity."""
    system = record.system_prompt
    return _key(normalize_text(system)) if system else 0


def _key(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass(frozen=True)
class RecordSides:
    """Per record, in record order: input shingles, output shingles, input numbers, system-prompt
    key, normalised-output key and the output's word count."""

    input_shingles: Shingles
    output_shingles: Shingles
    numbers: list[frozenset[str]]
    systems: np.ndarray  # int64
    output_keys: np.ndarray  # int64: equal for outputs equal after normalisation
    output_words: np.ndarray  # int64: words of the output's content (a JSON output's values)

    def __len__(self) -> int:
        return len(self.numbers)

    def output_share(self) -> np.ndarray:
        """Per record: how many records (itself included) give the same output after normalisation."""
        _, inverse, counts = np.unique(self.output_keys, return_inverse=True, return_counts=True)
        return counts[inverse]

    @staticmethod
    def concat(parts: Sequence[RecordSides]) -> RecordSides:
        """Merge per-batch sides (rows in the order of ``parts``)."""

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts]) if parts else np.zeros(0, dtype=np.int64)

        return RecordSides(
            Shingles.concat([p.input_shingles for p in parts]),
            Shingles.concat([p.output_shingles for p in parts]),
            [n for p in parts for n in p.numbers],
            cat("systems"),
            cat("output_keys"),
            cat("output_words"),
        )


def record_sides(records: Sequence[Record], *, word_ngram: int = 0, char_ngram: int = 4) -> RecordSides:
    """One batch: shingles of each input and of each output (a JSON output reduced to its values),
    the numbers in each input and its system prompt's key."""
    inputs = [r.input_text for r in records]
    contents = [content_text(r.output) for r in records]
    return RecordSides(
        shingle_texts(inputs, word_ngram=word_ngram, char_ngram=char_ngram),
        shingle_texts(contents, word_ngram=word_ngram, char_ngram=char_ngram),
        [input_numbers(t) for t in inputs],
        np.array([system_key(r) for r in records], dtype=np.int64),
        np.array([_key(normalize_text(r.output)) for r in records], dtype=np.int64),
        np.array([len(c.split()) for c in contents], dtype=np.int64),
    )


def numbers_agree(numbers: Sequence[frozenset[str]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair: True unless both inputs hold a number the other lacks.

    "Refund order 10482" and "refund order 20931" name different orders, so they are not copies;
    but a paraphrase that drops a year or an amount ("in 2003, sales rose" / "sales rose") has
    numbers that nest, and a sentence model is right to call it the same. (The earlier rule, equal
    sets of any numbers, vetoed 736 of MRPC's 3,900 true paraphrases; this one 47, while it removes
    more false ones than true: docs/benchmarks.md.)
    """
    out = np.ones(len(left), dtype=bool)
    for k, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        a, b = numbers[i], numbers[j]
        if a != b and not (a <= b or b <= a):
            out[k] = False
    return out
