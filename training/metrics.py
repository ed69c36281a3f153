"""Text metrics for evaluation: exact match, ROUGE-L, chrF, JSON validity and schema conformance, length.

Pure functions over (prediction, reference) pairs so they are cheap to test and reuse.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from curation.strict_json import loads_strict

METRICS = (
    "exact_match",
    "rouge_l",
    "chrf",
    "json_valid",
    "json_valid_schema",
    "json_match",
    "json_field_accuracy",
    "length_ratio",
)


# Scripts written without spaces between words: each character is a token (as sacrebleu and the
# Chinese ROUGE variants do), since a whole sentence would otherwise be one token.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)


def _unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_RANGES)


class UnicodeTokenizer:
    """ROUGE tokens for text in any script: lower-cased words of letters, digits and their marks.

    rouge-score's default tokenizer keeps only a-z and 0-9, so identical Chinese or Greek text has
    no tokens and scores 0. This one keeps every script (NFKC, case-folded; combining marks stay
    with their letter, as in Devanagari or Thai) and makes each character of an unspaced script
    (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) its own token. On ASCII text it gives the same
    tokens as rouge-score's default without stemming.
    """

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        word: list[str] = []
        single = False  # the current word is one character of an unspaced script
        for char in unicodedata.normalize("NFKC", text).casefold():
            kind = unicodedata.category(char)[0]
            if kind == "M":  # a combining mark belongs to the letter before it
                if word:
                    word.append(char)
                continue
            if kind in "LN" and not single and not _unspaced(char):
                word.append(char)
                continue
            if word:
                tokens.append("".join(word))
            word, single = [], False
            if kind in "LN":
                word, single = [char], _unspaced(char)
        if word:
            tokens.append("".join(word))
        return tokens


@cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer  # imported on first use: generation alone does not need it

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=UnicodeTokenizer())


def parse_json(text: str) -> tuple[bool, Any]:
    """(valid, value): the whole text (whitespace trimmed) must be one JSON value, per RFC 8259.

    ``NaN`` and ``Infinity`` (which Python's json module accepts) are not JSON, so they make the
    text invalid, and it then fails the schema check too.
    """
    try:
        return True, loads_strict(text.strip())
    except ValueError:  # json.JSONDecodeError is a ValueError
        return False, None


def record_scores(prediction: str, reference: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    """Every per-record score of one prediction against its reference."""
    import jsonschema
    import sacrebleu

    valid, value = parse_json(prediction)
    scores: dict[str, Any] = {
        "exact_match": float(prediction.strip() == reference.strip()),
        "rouge_l": _rouge().score(reference, prediction)["rougeL"].fmeasure,
        "chrf": sacrebleu.sentence_chrf(prediction, [reference]).score,
        "json_valid": float(valid),
        "length_ratio": len(prediction.split()) / max(len(reference.split()), 1),
    }
    if schema is not None:
        conforms = False
        if valid:
            try:
                jsonschema.validate(value, schema)
                conforms = True
            except jsonschema.ValidationError:
                conforms = False
        scores["json_valid_schema"] = float(conforms)
        # The task metric of structured outputs: the parsed answer equals the parsed reference
        # (key order and spacing do not matter, every value does).
        ref_valid, ref_value = parse_json(reference)
        scores["json_match"] = float(valid and ref_valid and value == ref_value)
        scores["json_field_accuracy"] = field_accuracy(
            value if valid else None, ref_value if ref_valid else None
        )
    return scores


def field_accuracy(answer: Any, reference: Any) -> float:
    """Share of the reference object's top-level fields whose value the answer has exactly (partial
    credit, like slot accuracy); 0 when the answer is not an object, and plain equality when the
    reference is not an object."""
    if not isinstance(reference, dict):
        return float(answer == reference)
    if not reference:
        return float(answer == reference)
    if not isinstance(answer, dict):
        return 0.0
    return sum(k in answer and answer[k] == v for k, v in reference.items()) / len(reference)


def aggregate(predictions: list[str], references: list[str], schema: dict[str, Any] | None) -> dict[str, Any]:
    """Corpus-level metrics: means of per-record scores, corpus chrF, and the total length ratio."""
    import sacrebleu

    if not predictions:
        return {}
    per_record = [record_scores(p, r, schema) for p, r in zip(predictions, references, strict=True)]
    keys = [k for k in METRICS if k in per_record[0]]
    result: dict[str, Any] = {k: sum(s[k] for s in per_record) / len(per_record) for k in keys}
    result["chrf"] = sacrebleu.corpus_chrf(predictions, [references]).score
    result["length_ratio"] = sum(len(p.split()) for p in predictions) / max(
        sum(len(r.split()) for r in references), 1
    )
    return result


def default_primary_metric(schema: dict[str, Any] | None) -> str:
    """Schema conformance when outputs must follow a schema; chrF (robust for free text) otherwise."""
    return "json_valid_schema" if schema is not None else "chrf"
