"""Quality flags on the endings real outputs have: numbers, lists, code, equations, hashtags, CJK.

The fast cases are written here; the slow test runs the truncation check on the fetched GSM8K test
split, whose answers all end '#### <number>'.
"""

from __future__ import annotations

import json

import pytest

from curation.analysis.quality.pii import find_pii
from curation.analysis.quality.text_checks import is_refusal, looks_like_json, looks_truncated
from tests.public_sets import public_set

COMPLETE = [
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18",
    "The total comes to 3 apples plus 4 apples, which is 7",
    "Here are the colours you asked for:\n1. Yellow\n2. Orange\n3. Green\n4. Blue",
    "Fiction books:\n- Alice's Adventures in Wonderland\n- The Cat in the Hat",
    "Apple, Banana, Grapes",
    "Here is the code:\n\nmy_list = [1, 2, 3]\nfor i in range(3):\n    print(my_list[i])",
    "Thus, the final result is:\n(6 + 4) / 5 = 10 / 5 = 2",
    "So, using the formula, we get the Celsius value as follows: (210 - 32) * 5/9 = 98.9°C",
    "Explore the world beyond your imagination and make lasting memories on the way. #travel #Wanderlust",
    "Get yourself a puppy and experience love like no other, every single day of the year. #PuppyLove",
    "You can read more about carjacking statistics on this page: https://example.org/auto-theft",
    "Friendship is born when one person says to another: What, you too? I thought I was the only one - C.S. Lewis",
    "| name | age |\n|---|---|\n| Ann | 31 |",
    "ご注文の商品は発送済みで、月曜日に到着する予定です。",
    "这是一个完整的句子，没有被截断",
    "I'm sad it ended :(",
    "Great job on finishing the whole marathon in under four hours today 🎉",
]

CUT_OFF = [
    "While the Resplendent Quetzal is no longer with us, its memory serves as a reminder of the importance of",
    "So next time you're at the grocery store, consider reaching for the organic section, your body",
    "Some people cannot afford to pay for the medical care they need, so",
    "Here are some answers:",
    "Maybe you could call them something kinder, like officers or the police, which is what they",
    "Please read the care guide (it explains how often to water the fern and",
    '{"category": "refund_request", "summary": "Customer wa',
]


@pytest.mark.parametrize("text", COMPLETE)
def test_complete_endings_are_not_truncated(text: str) -> None:
    assert not looks_truncated(text)


@pytest.mark.parametrize("text", CUT_OFF)
def test_cut_off_text_is_truncated(text: str) -> None:
    assert looks_truncated(text)


def test_prose_opening_with_a_bracket_is_not_json() -> None:
    assert not looks_like_json("[female voice] Well, I'm afraid I don't")
    assert not looks_like_json("{{Order Number}} has shipped")
    assert looks_like_json('{"a": 1') and looks_like_json("[1, 2") and looks_like_json("{'a': 1}")


@pytest.mark.parametrize(
    "text",
    [
        "As an AI assistant, I am designed to work with other systems. Once, my user had a deadline...",
        "I'm sorry, I won't keep you any longer. May I ask what you're feeling right now?",
        "Sorry, I didn't understand. Can you say that again?",
    ],
)
def test_disclaimers_and_apologies_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "I\u2019m sorry, but I don\u2019t have access to that information.",
        "I'm sorry, I don't want to do this.",
        "As an AI, I don't have a physical house, so I cannot describe it.",
    ],
)
def test_refusals_with_curly_apostrophes_and_negations(text: str) -> None:
    assert is_refusal(text)


def test_sums_and_numbers_on_separate_lines_are_not_phone_numbers() -> None:
    assert find_pii("So she spent 1000-450-300 = 250 dollars") == []
    assert find_pii("He has 800\n400-160 left") == []
    assert find_pii("call 555-0177 today")  # a local number alone still counts


@pytest.mark.slow
def test_gsm8k_answers_are_not_flagged_truncated() -> None:
    folder = public_set("gsm8k")
    lines = (folder / "grade_school_math" / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    answers = [json.loads(line)["answer"] for line in lines if line.strip()]
    flagged = sum(looks_truncated(a) for a in answers)
    assert len(answers) == 1319
    assert (len(answers) - flagged) / len(answers) >= 0.95, f"{flagged} of {len(answers)} flagged"
