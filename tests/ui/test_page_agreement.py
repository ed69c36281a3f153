"""The agreement page: statistics per question, disagreements, and adjudication by the owner."""

from __future__ import annotations

from curation import metadata_keys
from curation.model import Response
from tests.factories import make_record
from tests.ui.conftest import ANNOTATOR, ANNOTATOR_2, OWNER, app_as, no_exception

PAGE = "app_pages/agreement.py"


def captions(at) -> str:
    return " ".join(c.value.replace("\\", "") for c in at.caption)


def test_disagreement_is_listed_and_adjudicated(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2")])
    for user, label in ((ANNOTATOR, "good"), (ANNOTATOR_2, "bad")):
        store.save_response(Response(record_id="r1", user=user, values={"label": label}, status="submitted"))
    for user in (ANNOTATOR, ANNOTATOR_2):
        store.save_response(Response(record_id="r2", user=user, values={"label": "good"}, status="submitted"))
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    table = at.dataframe[0].value
    assert table.loc[table["question"] == "label", "disagreements"].item() == 1
    assert "1 records where annotators disagree" in " ".join(c.value for c in at.caption)
    at.radio(key="adjudicate_value_r1").set_value("bad")
    at.button(key="adjudicate_save_r1").click().run()
    no_exception(at)
    record = store.get_record("r1")
    assert record.metadata[metadata_keys.ADJUDICATED_BY] == OWNER
    assert record.metadata[metadata_keys.FINAL_ANSWER]["values"] == {"label": "bad"}
    assert store.get_responses(record_ids=["r1"], user=OWNER) == []  # the final answer is not a response
    assert "0 records where annotators disagree" in " ".join(c.value for c in at.caption)


def test_adjudicating_keeps_every_answer_comment_and_the_figures(seeded_project):
    root, store = seeded_project([make_record(id="r1", output="Ships Monday."), make_record(id="r2")])
    answers = {
        ANNOTATOR: {"label": "needs_fix", "corrected_output": "Ships on Monday.", "comment": "grammar"},
        ANNOTATOR_2: {"label": "needs_fix", "corrected_output": "Ships Tuesday.", "comment": "wrong day"},
        OWNER: {"label": "good", "rating": 4, "comment": "fine as is"},
    }
    for user, values in answers.items():
        store.save_response(Response(record_id="r1", user=user, values=values, status="submitted"))
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    figures = at.dataframe[0].value.to_dict("records")
    people = at.dataframe[1].value.to_dict("records")
    assert {p["person"]: (p["answer"], p["comment"]) for p in people} == {
        ANNOTATOR: ("needs_fix", "grammar"),
        ANNOTATOR_2: ("needs_fix", "wrong day"),
        OWNER: ("good", "fine as is"),
    }
    assert "the corrections differ" in captions(at)
    assert any("{+Tuesday.+}" in c.value for c in at.code)  # the diff between the two corrections
    assert at.text_area(key="adjudicate_correction_r1").value == "Ships Monday."  # starts from the output
    at.radio(key="adjudicate_value_r1").set_value("needs_fix")
    at.text_area(key="adjudicate_correction_r1").input("Ships on Tuesday.")
    at.text_input(key="adjudicate_why_r1").input("the order ships Tuesday")
    at.button(key="adjudicate_save_r1").click().run()
    no_exception(at)
    saved = {r.user: r.values for r in store.get_responses(record_ids=["r1"])}
    assert saved == answers  # nobody's answer was replaced; the owner's rating 4 is still there
    assert at.dataframe[0].value.to_dict("records") == figures
    at.toggle(key="agreement_show_done").set_value(True).run()
    no_exception(at)
    assert "1 records where annotators disagree" in " ".join(c.value for c in at.caption)
    assert "final answer by olivia" in captions(at)
    assert at.text_area(key="adjudicate_correction_r1").value == "Ships on Tuesday."
