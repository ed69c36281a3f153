"""Quality signals per record: lengths, empty or truncated output, language, PII, JSON, refusals.

Signals are plugins in a registry (:data:`SIGNALS`, :func:`register_signal`): each has a ``name``
and its settings as pydantic fields, and computes metadata values and quality flags for a batch of
records. :func:`compute_quality` runs them on one batch and returns per-record metadata (keys from
:mod:`curation.metadata_keys`) and suggestions; batches are independent, so partitions can run apart and
their results be merged with ``dict.update``.

The detectors live beside this module: :mod:`.text_checks` (truncation, refusals), :mod:`.pii` and
:mod:`.tokens` (token counts with the training model's tokenizer; ``tokenizer=None`` counts words).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from curation import metadata_keys
from curation.analysis.quality.pii import find_pii
from curation.analysis.quality.text_checks import is_refusal, looks_like_json, looks_truncated
from curation.analysis.quality.tokens import TokenCounter, load_tokenizer, token_counter
from curation.errors import BadInputError
from curation.model import LABEL_BAD, LABEL_QUESTION, Project, Record, Suggestion
from curation.strict_json import loads_strict

AGENT = "pairsmith.quality"
"""The agent name on the suggestions this module makes."""

SUGGEST_BAD_FLAGS = ("empty_output", "refusal")
"""Flags that make :func:`compute_quality` suggest the label ``bad``."""


# --- signals ----------------------------------------------------------------------------------


@dataclass
class SignalOutput:
    """What one signal found for one record: metadata values and quality flags."""

    metadata: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


@dataclass
class QualityContext:
    project: Project | None
    count_tokens: TokenCounter


class QualitySignal(BaseModel):
    """A quality signal: settings as fields, ``compute`` on one batch."""

    model_config = ConfigDict(extra="forbid")
    name: ClassVar[str]

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        raise NotImplementedError


SIGNALS: dict[str, type[QualitySignal]] = {}


def register_signal(cls: type[QualitySignal]) -> type[QualitySignal]:
    """Add a signal class to the registry under its ``name`` (usable as a decorator)."""
    name = getattr(cls, "name", None)
    if not name:
        raise BadInputError(f"quality signal {cls.__name__} needs a `name` class variable")
    SIGNALS[name] = cls
    return cls


@register_signal
class LengthSignal(QualitySignal):
    """Characters and tokens of input and output; ``too_long`` above the training max length."""

    name: ClassVar[str] = "length"
    max_length: int = Field(default=512, ge=1, description="Training max length in tokens (input + output)")

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        inputs = [r.input_text for r in records]
        outputs = [r.output for r in records]
        counts = context.count_tokens([*inputs, *outputs])
        out = []
        for i, (inp, outp) in enumerate(zip(inputs, outputs, strict=True)):
            n_in, n_out = counts[i], counts[len(records) + i]
            meta = {
                metadata_keys.INPUT_CHARS: len(inp),
                metadata_keys.OUTPUT_CHARS: len(outp),
                metadata_keys.INPUT_TOKENS: n_in,
                metadata_keys.OUTPUT_TOKENS: n_out,
            }
            out.append(SignalOutput(meta, ["too_long"] if n_in + n_out > self.max_length else []))
        return out


@register_signal
class EmptyOutputSignal(QualitySignal):
    name: ClassVar[str] = "empty_output"

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        return [SignalOutput(flags=[] if r.output.strip() else ["empty_output"]) for r in records]


@register_signal
class TruncationSignal(QualitySignal):
    name: ClassVar[str] = "truncated_output"
    min_prose_words: int = Field(default=8, ge=1, description="Shorter prose is never flagged for its ending")

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        return [
            SignalOutput(
                flags=["truncated_output"]
                if looks_truncated(r.output, min_prose_words=self.min_prose_words)
                else []
            )
            for r in records
        ]


@register_signal
class LanguageSignal(QualitySignal):
    """The output's language (ISO 639-1, py3langid); the input's when the output is too short."""

    name: ClassVar[str] = "language"
    min_chars: int = Field(default=12, ge=1, description="Below this many letters the language is left unset")

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        import py3langid

        out = []
        for record in records:
            text = (
                record.output
                if _letters(record.output) >= self.min_chars
                else f"{record.input_text} {record.output}"
            )
            lang = py3langid.classify(text[:2000])[0] if _letters(text) >= self.min_chars else None
            out.append(SignalOutput({metadata_keys.LANGUAGE: lang}))
        return out


def _letters(text: str) -> int:
    return sum(1 for c in text[:200] if c.isalpha())


@register_signal
class PiiSignal(QualitySignal):
    """``pii`` when the input or output holds an e-mail, phone, card number, IBAN or IP address."""

    name: ClassVar[str] = "pii"

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        return [
            SignalOutput(flags=["pii"] if find_pii(r.input_text) or find_pii(r.output) else [])
            for r in records
        ]


@register_signal
class JsonSignal(QualitySignal):
    """``invalid_json`` for JSON-like outputs that do not parse (or any output, when the project has a
    schema); ``schema_mismatch`` when a parsed output breaks the project's output schema.

    Parsed per RFC 8259: ``NaN`` and ``Infinity`` make an output invalid, as for any other parser.
    """

    name: ClassVar[str] = "json"

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        schema = context.project.output_schema if context.project else None
        validator = _validator(json.dumps(schema, sort_keys=True)) if schema else None
        out = []
        for record in records:
            text = record.output.strip()
            if not text or (validator is None and not looks_like_json(text)):
                out.append(SignalOutput())
                continue
            try:
                value = loads_strict(text)
            except ValueError:
                out.append(SignalOutput(flags=["invalid_json"]))
                continue
            mismatch = validator is not None and next(iter(validator.iter_errors(value)), None) is not None
            out.append(SignalOutput(flags=["schema_mismatch"] if mismatch else []))
        return out


@lru_cache(maxsize=16)
def _validator(schema_json: str) -> Any:
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise BadInputError(
            f"the project's output schema is not a valid JSON schema: {exc.message}"
        ) from None
    return cls(schema)


@register_signal
class RefusalSignal(QualitySignal):
    name: ClassVar[str] = "refusal"
    window: int = Field(default=300, ge=10, description="Characters at the start of the output searched")

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        return [
            SignalOutput(flags=["refusal"] if is_refusal(r.output, window=self.window) else [])
            for r in records
        ]


# --- running them -----------------------------------------------------------------------------

_DEFAULT = object()


@dataclass
class QualityResult:
    """Per-record metadata (FLAGS, LANGUAGE, lengths) and suggestions, for one batch."""

    metadata: dict[str, dict[str, Any]]
    suggestions: dict[str, list[Suggestion]]


def default_signals() -> list[QualitySignal]:
    """One instance of every registered signal with default settings."""
    return [cls() for cls in SIGNALS.values()]


def compute_quality(
    records: Sequence[Record],
    project: Project | None = None,
    *,
    tokenizer: Any = _DEFAULT,
    signals: Sequence[QualitySignal] | None = None,
) -> QualityResult:
    """Run the signals on one batch: metadata per record (FLAGS always set, possibly empty) and a
    ``label = bad`` suggestion (agent :data:`AGENT`) for records flagged in :data:`SUGGEST_BAD_FLAGS`.

    ``tokenizer`` defaults to the training model's; ``None`` counts words instead.
    """
    records = list(records)
    if tokenizer is _DEFAULT:
        tokenizer = load_tokenizer() if records else None
    context = QualityContext(project=project, count_tokens=token_counter(tokenizer))
    metadata: dict[str, dict[str, Any]] = {r.id: {metadata_keys.FLAGS: []} for r in records}
    for signal in signals if signals is not None else default_signals():
        outputs = signal.compute(records, context)
        for record, output in zip(records, outputs, strict=True):
            meta = metadata[record.id]
            meta.update(output.metadata)
            meta[metadata_keys.FLAGS] = [
                *meta[metadata_keys.FLAGS],
                *(f for f in output.flags if f not in meta[metadata_keys.FLAGS]),
            ]
    suggestions: dict[str, list[Suggestion]] = {}
    for rid, meta in metadata.items():
        bad = [f for f in meta[metadata_keys.FLAGS] if f in SUGGEST_BAD_FLAGS]
        if bad:
            suggestions[rid] = [Suggestion(question=LABEL_QUESTION, value=LABEL_BAD, score=1.0, agent=AGENT)]
    return QualityResult(metadata=metadata, suggestions=suggestions)


def compute_quality_signals(
    records: Sequence[Record],
    project: Project | None = None,
    *,
    tokenizer: Any = _DEFAULT,
    signals: Sequence[QualitySignal] | None = None,
) -> dict[str, dict[str, Any]]:
    """Only the metadata of :func:`compute_quality` (record id → metadata key → value)."""
    return compute_quality(records, project, tokenizer=tokenizer, signals=signals).metadata
