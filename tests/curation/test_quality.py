"""Every quality signal, positive and negative, and the batch runner."""

from __future__ import annotations

from typing import ClassVar

import pytest

from curation import metadata_keys
from curation.analysis.quality.pii import find_pii, iban_valid, luhn_valid
from curation.analysis.quality.signals import (
    AGENT,
    SIGNALS,
    LengthSignal,
    QualityContext,
    QualitySignal,
    SignalOutput,
    compute_quality,
    compute_quality_signals,
    register_signal,
)
from curation.analysis.quality.text_checks import is_refusal, looks_truncated
from curation.model import Project, Record
from tests.factories import make_record

SCHEMA = {
    "type": "object",
    "properties": {"category": {"enum": ["refund_request", "plant_care"]}, "summary": {"type": "string"}},
    "required": ["category"],
}


def _flags(record: Record, project: Project | None = None, **kwargs: object) -> list[str]:
    return compute_quality_signals([record], project, tokenizer=None, **kwargs)[record.id][
        metadata_keys.FLAGS
    ]


def test_lengths_in_chars_and_words_and_too_long() -> None:
    record = make_record(input="one two three", output="four five")
    meta = compute_quality_signals([record], tokenizer=None)[record.id]
    assert (meta[metadata_keys.INPUT_CHARS], meta[metadata_keys.OUTPUT_CHARS]) == (13, 9)
    assert (meta[metadata_keys.INPUT_TOKENS], meta[metadata_keys.OUTPUT_TOKENS]) == (3, 2)
    assert "too_long" not in meta[metadata_keys.FLAGS]
    assert _flags(record, signals=[LengthSignal(max_length=4)]) == ["too_long"]
    assert _flags(record, signals=[LengthSignal(max_length=5)]) == []


def test_empty_output() -> None:
    assert "empty_output" in _flags(make_record(output="   \n"))
    assert "empty_output" not in _flags(make_record(output="Fine."))


@pytest.mark.parametrize(
    "text",
    [
        '{"category": "refund_request", "summary": "Customer wa',
        '[{"a": 1}, {"b": ',
        "Thanks for reaching out! To reset your password, open the settings page and then click",
        "We will refund the order, and",
        'He told us "the plant was already dead when',
        "Please check the care guide (see section",
    ],
)
def test_truncated_positive(text: str) -> None:
    assert looks_truncated(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"category": "refund_request"}',
        "refund_request",
        "Yes",
        "Thanks for reaching out! Open the settings page and click Reset.",
        'They wrote: "it arrived broken."',
        "Follow these steps:\n1. Log in\n2. Open {{Order History}}",
        "",
        "Here is the code:\n```python\nprint(1)\n```",
    ],
)
def test_truncated_negative(text: str) -> None:
    assert not looks_truncated(text)


def test_language() -> None:
    records = [
        make_record(id="en", output="Your order has shipped and will arrive on Monday morning."),
        make_record(id="de", output="Ihre Bestellung wurde versandt und kommt am Montag an."),
        make_record(id="ja", output="ご注文の商品は発送済みで、月曜日に到着する予定です。"),
        make_record(id="short", input="ok", output="ok"),
    ]
    meta = compute_quality_signals(records, tokenizer=None)
    assert [meta[r.id][metadata_keys.LANGUAGE] for r in records] == ["en", "de", "ja", None]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to mei.tanaka@example.co.jp please", "email"),
        ("call me on +44 20 7946 0958", "phone"),
        ("my number is (415) 555-2671", "phone"),
        ("You can call me on 555-0177.", "phone"),
        ("card 4111 1111 1111 1111 exp 12/27", "card"),
        ("IBAN DE89 3704 0044 0532 0130 00", "iban"),
        ("server 192.168.1.20 is down", "ip"),
        ("from 2001:db8::8a2e:370:7334 today", "ip"),
    ],
)
def test_pii_positive(text: str, kind: str) -> None:
    assert kind in {m.kind for m in find_pii(text)}
    assert "pii" in _flags(make_record(input=text, output="ok"))


@pytest.mark.parametrize(
    "text",
    [
        "order FW-18480 placed 2026-01-05",
        "reference 113542617735902",  # Luhn-valid by chance but no card issuer prefix
        "card 4111 1111 1111 1112",  # fails Luhn
        "IBAN DE89 3704 0044 0532 0130 01",  # fails mod 97
        "version 3.12 at 10:30:00",
        "email us at {{Customer Support Email}}",
        "costs $89.90, total 1,250.00",
    ],
)
def test_pii_negative(text: str) -> None:
    assert find_pii(text) == []


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")


def test_json_validity_and_schema() -> None:
    project = Project(name="p", output_schema=SCHEMA)
    good = make_record(output='{"category": "plant_care", "summary": "Asks about water."}')
    wrong_enum = make_record(output='{"category": "weather"}')
    broken = make_record(output='{"category": plant_care}')
    prose = make_record(output="It is a plant care question.")
    assert _flags(good, project) == []
    assert _flags(wrong_enum, project) == ["schema_mismatch"]
    assert _flags(broken, project) == ["invalid_json"]
    assert _flags(prose, project) == ["invalid_json"]  # the project expects JSON
    assert _flags(prose) == [] and _flags(wrong_enum) == []  # no schema: only JSON-looking text is parsed
    assert _flags(broken) == ["invalid_json"]


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry, but I can't help with that request.",
        "As an AI language model, I do not have access to your orders.",
        "I apologize, but I cannot provide that information.",
        "Sorry, I can't assist with this.",
        "I must decline to answer.",
    ],
)
def test_refusal_positive(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry to hear your fern arrived damaged; we'll send a new one.",
        "I apologize for the inconvenience. Your refund is on its way.",
        "We can't ship to Alaska, but we can hold the order for pickup.",
    ],
)
def test_refusal_negative(text: str) -> None:
    assert not is_refusal(text)


def test_suggestions_for_empty_and_refusal_only() -> None:
    records = [
        make_record(id="e", output=""),
        make_record(id="r", output="As an AI, I cannot do that."),
        make_record(id="t", output='{"a": '),
        make_record(id="ok", output='{"a": 1}'),
    ]
    result = compute_quality(records, tokenizer=None)
    assert sorted(result.suggestions) == ["e", "r"]
    suggestion = result.suggestions["e"][0]
    assert (suggestion.question, suggestion.value, suggestion.agent) == ("label", "bad", AGENT)
    assert result.metadata["ok"][metadata_keys.FLAGS] == []


def test_zero_records_and_very_long_text() -> None:
    assert compute_quality([], tokenizer=None).metadata == {}
    assert compute_quality([]).metadata == {}  # no tokenizer is loaded for nothing
    long_output = "The plant needs light. " * 20_000
    meta = compute_quality_signals([make_record(id="x", output=long_output)], tokenizer=None)["x"]
    assert meta[metadata_keys.OUTPUT_CHARS] == len(long_output) and "too_long" in meta[metadata_keys.FLAGS]


def test_registry_accepts_a_new_signal() -> None:
    class Shouting(QualitySignal):
        name: ClassVar[str] = "shouting"

        def compute(self, records: list[Record], context: QualityContext) -> list[SignalOutput]:
            return [SignalOutput(flags=["shouting"] if r.output.isupper() else []) for r in records]

    register_signal(Shouting)
    try:
        assert "shouting" in SIGNALS
        assert "shouting" in _flags(make_record(output="REFUND NOW"))
    finally:
        SIGNALS.pop("shouting")
    assert set(SIGNALS) >= {
        "length",
        "empty_output",
        "truncated_output",
        "language",
        "pii",
        "json",
        "refusal",
    }


@pytest.mark.slow
def test_token_counts_use_the_training_tokenizer() -> None:
    record = make_record(input="Hello world, how are you?", output="Fine, thanks.")
    meta = compute_quality_signals([record])[record.id]
    assert meta[metadata_keys.INPUT_TOKENS] == 7  # SmolLM2: Hello, ▁world, ",", ▁how, ▁are, ▁you, ?
    assert meta[metadata_keys.OUTPUT_TOKENS] > 0
