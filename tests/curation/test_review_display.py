"""How record text is laid out: reading direction, clipping long texts, guidelines for a sidebar,
and the side-by-side diff of a correction."""

from __future__ import annotations

import pytest

from curation.review.diff import changed_share, diff_mode_for, output_diff, side_by_side
from curation.review.display import clip, demote_headings, text_direction


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("Where is my order?", "ltr"),
        ("أين طلبي؟", "rtl"),  # Arabic
        ("איפה ההזמנה שלי?", "rtl"),  # Hebrew
        ("123 — أين طلبي؟", "rtl"),  # digits and punctuation do not decide
        ("Order 5: أين طلبي؟", "ltr"),  # the first strong letter does
        ("", "ltr"),
        ("12345 !!", "ltr"),
    ],
)
def test_text_direction_follows_the_first_strong_letter(text, direction):
    assert text_direction(text) == direction


def test_a_long_text_is_clipped_by_characters_or_lines_and_says_how_much_is_hidden():
    prose = "word " * 2000  # 10,000 characters on one line
    clipped = clip(prose, max_chars=3000)
    assert clipped.clipped and len(clipped.shown) <= 3000 and not clipped.shown.endswith("wor")
    assert len(clipped.shown) + clipped.hidden_chars == len(prose)
    lines = "\n".join(f"line {n}" for n in range(100))
    by_lines = clip(lines, max_lines=40)
    assert by_lines.shown.count("\n") == 39 and by_lines.hidden_lines == 60
    short = clip("short text")
    assert not short.clipped and short.shown == "short text"


def test_guideline_headings_are_demoted_for_the_sidebar_but_not_inside_code():
    text = "# Title\n\nIntro\n\n## Labels\n\n```python\n# a comment\n```\n### Detail\n"
    out = demote_headings(text, top=4)
    assert out.splitlines()[0] == "#### Title"
    assert "##### Labels" in out and "###### Detail" in out
    assert "# a comment" in out.splitlines()  # a comment in a code block is not a heading
    assert demote_headings("## Already small", top=4) == "#### Already small"
    assert demote_headings("no headings here") == "no headings here"


def test_a_side_by_side_diff_keeps_removed_words_left_and_added_words_right():
    parts = output_diff("The order ships Monday.", "The order ships on Tuesday.")
    before, after = side_by_side(parts)
    assert "".join(p.text for p in before) == "The order ships Monday."
    assert "".join(p.text for p in after) == "The order ships on Tuesday."
    assert {p.kind for p in before} == {"equal", "delete"} and {p.kind for p in after} == {"equal", "insert"}
    assert 0 < changed_share(parts) < 1 and changed_share(output_diff("a b", "a b")) == 0


def test_very_long_texts_are_diffed_by_lines():
    assert diff_mode_for("short", "text") == "word"
    assert diff_mode_for("x" * 25_000, "y") == "line"
