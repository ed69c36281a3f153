"""Adjudication is a separate final answer: nobody's response changes, figures stay, export uses it."""

from __future__ import annotations

import pytest

from curation import metadata_keys
from curation.errors import BadInputError
from curation.model import Response, Role, User
from curation.review.agreement import adjudicate, agreement_report, correction_diffs, disagreements
from curation.review.decisions import decision_log, undo_decision
from tests.factories import make_record
from training.clean_set import select_clean_set

OWNER = "olivia"


def submit(store, record_id, user, **values):
    store.save_response(Response(record_id=record_id, user=user, values=values, status="submitted"))


@pytest.fixture
def store(make_local_project):
    _, store = make_local_project()
    store.add_user(User(name=OWNER, role=Role.owner))
    for name in ("ann", "bob"):
        store.add_user(User(name=name))
    store.upsert_records([make_record(id=f"r{i}", output=f"output {i}") for i in range(1, 6)])
    # Five records with three people each; r1 and r3 split.
    for i in range(1, 6):
        submit(store, f"r{i}", "ann", label="good")
        submit(store, f"r{i}", "bob", label="bad" if i in (1, 3) else "good", comment=f"bob on r{i}")
    submit(store, "r1", OWNER, label="good", rating=4, comment="owner's own view")
    return store


def responses(store):
    return {(r.record_id, r.user): (r.values, str(r.status)) for r in store.get_responses()}


def test_adjudicating_keeps_every_answer_and_leaves_the_figures_alone(store):
    before_responses = responses(store)
    before_report = agreement_report(store)
    adjudicate(store, "r1", OWNER, {"label": "bad"}, why="bob is right: the order id is wrong")
    assert responses(store) == before_responses  # the owner's own rating 4 and label good are still there
    assert agreement_report(store) == before_report
    assert disagreements(store) == [d for d in disagreements(store) if d.record_id == "r3"]
    [listed] = [d for d in disagreements(store, include_adjudicated=True) if d.record_id == "r1"]
    assert listed.values == {"ann": "good", "bob": "bad", OWNER: "good"}
    assert listed.comments == {"bob": "bob on r1", OWNER: "owner's own view"}
    assert (listed.final, listed.adjudicated_by) == ({"label": "bad"}, OWNER)
    [logged] = decision_log(store)
    assert (logged.kind, logged.user, logged.why) == (
        "adjudication",
        OWNER,
        "bob is right: the order id is wrong",
    )


def test_export_takes_the_final_answer_and_its_correction(store):
    adjudicate(store, "r1", OWNER, {"label": "needs_fix", "corrected_output": "fixed by the owner"})
    item = next(i for i in select_clean_set(store).included if i.record.id == "r1")
    assert (item.output, item.label) == ("fixed by the owner", "needs_fix")
    assert item.why.startswith(f"final answer by {OWNER}")
    adjudicate(store, "r3", OWNER, {"label": "bad"})
    assert "r3" not in {i.record.id for i in select_clean_set(store).included}


def test_a_later_adjudication_of_another_question_keeps_the_final_label(store):
    adjudicate(store, "r1", OWNER, {"label": "bad"})
    final = adjudicate(store, "r1", OWNER, {"rating": 2})
    assert final.values == {"label": "bad", "rating": 2}


def test_a_needs_fix_final_answer_needs_a_real_correction(store):
    with pytest.raises(BadInputError, match="corrected output"):
        adjudicate(store, "r1", OWNER, {"label": "needs_fix", "corrected_output": "output 1"})
    assert metadata_keys.FINAL_ANSWER not in store.get_record("r1").metadata


def test_different_corrections_are_a_disagreement(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id="x", output="Ships Monday."), make_record(id="y", output="Hi")])
    submit(store, "x", "ann", label="needs_fix", corrected_output="Ships on Monday.")
    submit(store, "x", "bob", label="needs_fix", corrected_output="Ships Tuesday.")
    submit(store, "y", "ann", label="needs_fix", corrected_output="Hello there")
    submit(store, "y", "bob", label="needs_fix", corrected_output="  Hello   there ")  # only spacing differs
    [found] = disagreements(store)
    assert found.record_id == "x" and found.corrections_differ
    assert found.corrections == {"ann": "Ships on Monday.", "bob": "Ships Tuesday."}
    [label] = [a for a in agreement_report(store) if a.question == "label"]
    assert (label.disagreements, label.percent_agreement) == (1, 0.5)
    diffs = correction_diffs(found, "Ships Monday.")
    assert [(a, b) for a, b, _ in diffs] == [("ann", "the output"), ("bob", "ann")]
    assert "[-on Monday.-]" in diffs[1][2] and "{+Tuesday.+}" in diffs[1][2]


def test_undoing_an_adjudication_puts_the_previous_final_answer_back(store):
    adjudicate(store, "r1", OWNER, {"label": "bad"})
    second = adjudicate(store, "r1", OWNER, {"label": "good"})
    assert second.values == {"label": "good"}
    newest = decision_log(store)[0]
    undo_decision(store, newest.id, user=OWNER)
    meta = store.get_record("r1").metadata
    assert meta[metadata_keys.FINAL_ANSWER]["values"] == {"label": "bad"}
    undo_decision(store, decision_log(store)[1].id, user=OWNER)
    meta = store.get_record("r1").metadata
    assert metadata_keys.FINAL_ANSWER not in meta and metadata_keys.ADJUDICATED_BY not in meta
    assert [d.record_id for d in disagreements(store)] == ["r1", "r3"]
