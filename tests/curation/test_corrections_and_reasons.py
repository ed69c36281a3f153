"""A correction keeps the output's layout and is checked; reason tags come from the guidelines."""

from __future__ import annotations

import pytest

from curation.errors import BadInputError
from curation.model import Response, ResponseStatus
from curation.review.answers import clean_values, save_review
from curation.review.corrections import correction_problems, editable_output, json_style, normalise_correction
from curation.review.reasons import (
    DEFAULT_REASON_TAGS,
    compose_comment,
    has_reasons_section,
    reason_counts,
    reason_tags,
    split_comment,
)
from tests.factories import make_record

ONE_LINE = '{"category": "refund", "urgency": "low"}'


def test_a_json_output_is_edited_pretty_printed_and_stored_in_its_own_layout():
    pretty = editable_output(ONE_LINE)
    assert pretty == '{\n  "category": "refund",\n  "urgency": "low"\n}'
    assert editable_output("plain text") == "plain text"
    assert normalise_correction(pretty, ONE_LINE) == ONE_LINE  # only the layout changed: no correction
    changed = pretty.replace("low", "high")
    assert normalise_correction(changed, ONE_LINE) == '{"category": "refund", "urgency": "high"}'
    assert normalise_correction('{"a": 1}', '{"a":2}') == '{"a":1}'  # minified stays minified
    assert normalise_correction('{"a": 1}', '{\n    "a": 2\n}') == '{\n    "a": 1\n}'
    assert json_style('{"a":1}').compact and json_style('{\n  "a": 1\n}').indent == 2


def test_a_reformatted_json_output_is_not_stored_as_a_correction():
    record = make_record(output=ONE_LINE)
    assert "corrected_output" not in clean_values(
        {"label": "good", "corrected_output": editable_output(ONE_LINE)}, record
    )


def test_correction_problems_name_broken_json_and_schema_mismatches():
    assert correction_problems('{"category": "refund",', ONE_LINE) == [
        "the corrected output is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 23)"
    ]
    schema = {"type": "object", "properties": {"urgency": {"enum": ["low", "high"]}}, "required": ["urgency"]}
    problems = correction_problems('{"urgency": "soon"}', ONE_LINE, schema)
    assert problems == [
        "the corrected output does not match the output schema at urgency: 'soon' is not one of ['low', 'high']"
    ]
    assert correction_problems('{"urgency": "high"}', ONE_LINE, schema) == []
    assert correction_problems("any plain text", "a plain output") == []  # not JSON: nothing to check
    assert (
        "not valid JSON" in correction_problems("plain", "plain output", schema)[0]
    )  # a schema asks for JSON


def test_a_broken_json_correction_is_refused_on_submit_but_kept_as_a_draft(tmp_path):
    from curation.project import init_project

    store = init_project(tmp_path / "p", "p")
    record = make_record(id="r1", output=ONE_LINE)
    store.upsert_records([record])
    values = {"label": "needs_fix", "corrected_output": '{"category": '}
    with pytest.raises(BadInputError, match="not valid JSON"):
        save_review(store, record, "ann", values, ResponseStatus.submitted, expected_version=0)
    draft = save_review(store, record, "ann", values, ResponseStatus.draft, expected_version=0)
    assert draft.values["corrected_output"] == '{"category": '
    store.close()


def test_reason_tags_are_read_from_the_guidelines_reasons_section():
    guidelines = (
        "# Fernway triage\n\n- not a tag: this list is outside the section\n\n"
        "## Reasons for bad\n\n- Wrong category: the category is not what the customer asked\n"
        "- `missing-order-id` — the order id is in the message but not in the output\n"
        "* rude\n- rude\n\n## Rating\n\n- 5: perfect\n"
    )
    tags = reason_tags(guidelines)
    assert [t.tag for t in tags] == ["wrong-category", "missing-order-id", "rude"]
    assert tags[0].meaning == "the category is not what the customer asked"
    assert has_reasons_section(guidelines) and not has_reasons_section("# Rules")
    assert [t.tag for t in reason_tags("# Rules without reasons")] == list(DEFAULT_REASON_TAGS)


def test_tags_are_kept_in_the_comment_only_with_a_bad_label():
    assert (
        compose_comment("bad", ["wrong-facts", "tone", "tone"], "rude reply")
        == "#wrong-facts #tone rude reply"
    )
    assert compose_comment("bad", ["tone"], "") == "#tone"
    assert compose_comment("good", ["tone"], "fine") == "fine"
    with pytest.raises(BadInputError, match="not: Tone!"):
        compose_comment("bad", ["Tone!"], "")
    assert split_comment("#wrong-facts #tone rude reply") == (["wrong-facts", "tone"], "rude reply")
    assert split_comment("no tags #here") == ([], "no tags #here")
    assert split_comment(None) == ([], "")


def test_reason_counts_count_submitted_bad_answers():
    responses = [
        Response(
            record_id="a",
            user="ann",
            values={"label": "bad", "comment": "#tone #wrong-facts x"},
            status="submitted",
        ),
        Response(record_id="b", user="bob", values={"label": "bad", "comment": "#tone"}, status="submitted"),
        Response(record_id="c", user="bob", values={"label": "bad", "comment": "#unsafe"}, status="draft"),
        Response(record_id="d", user="bob", values={"label": "good", "comment": "#tone"}, status="submitted"),
    ]
    assert reason_counts(responses) == {"tone": 2, "wrong-facts": 1}
