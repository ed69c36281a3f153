"""User text is never rendered as HTML: planted <script> and <img onerror> stay literal text."""

from __future__ import annotations

import pytest

from curation import metadata_keys
from curation.model import ChatMessage
from tests.factories import make_record
from tests.ui.conftest import OWNER, app_as, fake_analysis, no_exception

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
EVIL = f"{SCRIPT} hello {IMG}"


def evil_records():
    chat = make_record(
        id="evil-chat",
        input=[ChatMessage(role="system", content=EVIL), ChatMessage(role="user", content=EVIL)],
        output=EVIL,
    )
    plain = make_record(id="evil-plain", input=EVIL, output=EVIL, metadata={"note": EVIL})
    twin = make_record(id="evil-twin", input=EVIL, output=EVIL)
    for r in (plain, twin):
        r.metadata.update(
            {
                metadata_keys.DUP_GROUP: "dup-evil",
                metadata_keys.DUP_TIER: "exact",
                metadata_keys.DUP_SCORE: 1.0,
            }
        )
    return [plain, twin, chat]


def markdown_with_html(at) -> list[str]:
    """Every Markdown element that would let HTML through (none may exist)."""
    return [m.value for m in at.markdown if m.proto.allow_html]


@pytest.mark.parametrize(
    "page",
    ["app_pages/review.py", "app_pages/duplicates.py", "app_pages/clusters.py", "app_pages/agreement.py"],
)
def test_planted_html_is_shown_as_text(seeded_project, page):
    root, store = seeded_project(evil_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, page)
    no_exception(at)
    assert markdown_with_html(at) == []
    # Wherever record text appears in Markdown, its tags are escaped (shown, not parsed).
    for element in [*at.markdown, *at.caption]:
        assert "<script>" not in element.value and "<img" not in element.value
    # Diffs and right-to-left text go through st.html: record text in them is escaped, never markup.
    for element in at.html:
        assert "<script>" not in element.proto.body and "<img" not in element.proto.body
    literal = [e.value for e in [*at.text, *at.code]]
    if page in ("app_pages/review.py", "app_pages/duplicates.py"):
        assert any(SCRIPT in v and IMG in v for v in literal)


def test_map_hover_text_is_escaped(seeded_project):
    root, store = seeded_project(evil_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, "app_pages/clusters.py")
    [chart] = at.get("plotly_chart")
    spec = chart.proto.spec
    assert "<script>" not in spec and "<img" not in spec
    assert "&lt;script&gt;" in spec


def test_planted_html_in_a_correction_stays_text_in_the_diff(seeded_project):
    root, _ = seeded_project([make_record(id="r1", input="أين طلبي؟ " + EVIL, output="plain output")])
    at = app_as(root, OWNER, "app_pages/review.py")
    at.text_area(key="review_correction:r1").input("plain output " + EVIL).run()
    no_exception(at)
    bodies = [h.proto.body for h in at.html if "ps-" in h.proto.body]
    assert len(bodies) >= 3  # the right-to-left input and both sides of the diff
    assert all("<script>" not in b and "<img" not in b for b in bodies)
    assert any("&lt;script&gt;" in b for b in bodies)
