"""Evaluation metrics against their reference implementations: ROUGE-L in any script, strict JSON."""

from __future__ import annotations

import pytest
from rouge_score import rouge_scorer

from training.metrics import UnicodeTokenizer, aggregate, parse_json, record_scores

ENGLISH = [
    ("Your refund of $89.90 was sent to the card ending 4242.", "We sent your refund ($89.90) to card 4242."),
    ("I can't find order FW-123; could you check it?", "Order FW-123 could not be found, sorry."),
    ("The parcel is delayed by two days.", "Your parcel will arrive two days late."),
    ("Reset it from Settings > Account.", "Open Settings, then Account, and reset."),
]

SAME_TEXT = {
    "Chinese": "我的订单在哪里？请帮我查一下。",
    "Japanese": "注文がまだ届いていません。確認してください。",
    "Greek": "Πού είναι η παραγγελία μου; Δεν έχει φτάσει ακόμα.",
    "Russian": "Где мой заказ? Он ещё не пришёл.",
    "Arabic": "أين طلبي؟ لم يصل بعد.",
    "Hindi": "मेरा ऑर्डर कहाँ है? यह अभी तक नहीं आया।",
    "Thai": "คำสั่งซื้อของฉันอยู่ที่ไหน",
    "Korean": "제 주문은 어디에 있나요?",
}


@pytest.mark.parametrize(("prediction", "reference"), ENGLISH)
def test_rouge_l_on_english_equals_rouge_score_default(prediction: str, reference: str) -> None:
    """The Unicode tokenizer changes nothing for English: same figure as the reference package."""
    expected = rouge_scorer.RougeScorer(["rougeL"]).score(reference, prediction)["rougeL"].fmeasure
    assert record_scores(prediction, reference, None)["rouge_l"] == pytest.approx(expected)
    default = rouge_scorer.RougeScorer(["rougeL"])._tokenizer
    assert UnicodeTokenizer().tokenize(reference) == default.tokenize(reference)


@pytest.mark.parametrize("script", sorted(SAME_TEXT))
def test_identical_text_scores_one_in_any_script(script: str) -> None:
    text = SAME_TEXT[script]
    assert record_scores(text, text, None)["rouge_l"] == pytest.approx(1.0)


def test_unspaced_scripts_are_scored_per_character() -> None:
    # LCS of 4 characters; precision 4/4, recall 4/7: F = 2·1·(4/7) / (1 + 4/7) = 8/11.
    assert record_scores("我的订单", "我的订单在哪里", None)["rouge_l"] == pytest.approx(8 / 11)
    assert UnicodeTokenizer().tokenize("日本語とEnglish混在 text") == [
        "日", "本", "語", "と", "english", "混", "在", "text",
    ]  # fmt: skip
    assert UnicodeTokenizer().tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs stay in the word


@pytest.mark.parametrize(
    "text", ["NaN", "Infinity", "-Infinity", '{"a": NaN}', '{"a": Infinity}', "[1, NaN]"]
)
def test_nan_and_infinity_are_not_valid_json_nor_schema_conformant(text: str) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "number"}}}
    number = {"type": "number"}
    assert parse_json(text) == (False, None)
    for each in (schema, number):
        scores = record_scores(text, '{"a": 1}', each)
        assert scores["json_valid"] == 0.0 and scores["json_valid_schema"] == 0.0
    assert aggregate([text, '{"a": 2.5}'], ['{"a": 1}'] * 2, schema)["json_valid"] == 0.5


def test_the_schema_check_alone_would_let_nan_through() -> None:
    """Why parsing must be strict: jsonschema (the reference validator) accepts a NaN float as a number."""
    import jsonschema

    jsonschema.validate(float("nan"), {"type": "number"})  # no error: NaN is a Python float
    assert record_scores("NaN", "1", {"type": "number"})["json_valid_schema"] == 0.0


def test_json_strings_naming_nan_stay_valid() -> None:
    assert parse_json(' {"note": "NaN"} ') == (True, {"note": "NaN"})
    assert record_scores("1e5", "1", {"type": "number"})["json_valid_schema"] == 1.0
