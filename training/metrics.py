"""Text metrics for evaluation: exact match, ROUGE-L, chrF, JSON validity and schema conformance, length.

Pure functions over (prediction, reference) pairs so they are cheap to test and reuse.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

METRICS = ("exact_match", "rouge_l", "chrf", "json_valid", "json_valid_schema", "length_ratio")


@cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer  # imported on first use: generation alone does not need it

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def parse_json(text: str) -> tuple[bool, Any]:
    """(valid, value): the whole text (whitespace trimmed) must be one JSON value."""
    try:
        return True, json.loads(text.strip())
    except (json.JSONDecodeError, ValueError):
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
    return scores


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
