"""The guidelines page: saving guidelines makes a version; schema and golden examples."""

from __future__ import annotations

from tests.factories import make_record
from tests.ui.conftest import OWNER, app_as, no_exception

PAGE = "app_pages/guidelines.py"


def test_saving_guidelines_creates_a_version(seeded_project):
    root, store = seeded_project()
    at = app_as(root, OWNER, PAGE)
    at.text_area(key="guidelines_text").input("# Good outputs\nAnswer in JSON.")
    at.button(key="guidelines_save").click().run()
    no_exception(at)
    assert store.get_project().guidelines == "# Good outputs\nAnswer in JSON."
    assert store.guidelines_history()[-1].author == OWNER


def test_an_invalid_schema_is_refused_and_a_valid_one_saved(seeded_project):
    root, store = seeded_project()
    at = app_as(root, OWNER, PAGE)
    at.text_area(key="guidelines_schema").input('{"type": 12}')
    at.button(key="guidelines_schema_save").click().run()
    no_exception(at)
    assert "not a valid JSON Schema" in at.error[0].value
    at.text_area(key="guidelines_schema").input('{"type": "object"}')
    at.button(key="guidelines_schema_save").click().run()
    assert store.get_project().output_schema == {"type": "object"}


def test_marking_golden_examples(seeded_project):
    root, store = seeded_project([make_record(id="g1"), make_record(id="g2")])
    at = app_as(root, OWNER, PAGE)
    at.text_input(key="golden_ids").input("g1")
    at.button(key="golden_add").click().run()
    no_exception(at)
    assert store.get_record("g1").golden and not store.get_record("g2").golden
    at.text_input(key="golden_ids").input("nope")
    at.button(key="golden_add").click().run()
    assert "No records with these ids: nope" in at.error[0].value


def test_the_reason_tags_for_bad_come_from_the_guidelines(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, OWNER, PAGE)
    assert any(
        "wrong-facts, wrong-format" in c.value.replace("\\", "") and "the defaults" in c.value
        for c in at.caption
    )
    text = "# Rules\n\n## Reasons for bad\n\n- Wrong category: not what was asked\n- rude\n"
    at.text_area(key="guidelines_text").input(text)
    at.button(key="guidelines_save").click().run()
    no_exception(at)
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any("pick on a *bad* label: wrong-category, rude" in c for c in captions)
