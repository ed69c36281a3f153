"""The review page: labels land in the store, filters narrow the queue, stale saves are refused."""

from __future__ import annotations

from curation import metadata_keys
from curation.model import Response, ResponseStatus, Suggestion
from tests.factories import make_record
from tests.ui.conftest import ANNOTATOR, app_as, no_exception
from ui.state import Keys

PAGE = "app_pages/review.py"


def test_a_label_saved_lands_in_the_store(seeded_project):
    root, store = seeded_project()
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    first = at.session_state[Keys.QUEUE].ids[0]
    at.button(key="review_good").click().run()
    no_exception(at)
    [saved] = store.get_responses(record_ids=[first], user=ANNOTATOR)
    assert saved.status == ResponseStatus.submitted
    assert saved.values["label"] == "good"
    assert at.session_state[Keys.QUEUE_INDEX] == 1  # moved on to the next record
    assert "Submitted" in at.success[0].value


def test_a_correction_is_saved_with_needs_fix_and_shown_as_a_diff(seeded_project):
    root, store = seeded_project([make_record(id="r1", output="The order ships Monday.")])
    at = app_as(root, ANNOTATOR, PAGE)
    at.text_area(key=f"{Keys.W_CORRECTION}:r1").input("The order ships Tuesday.").run()
    assert "[-Monday.-]{+Tuesday.+}" in at.code[-1].value
    at.button(key="review_fix").click().run()
    no_exception(at)
    [saved] = store.get_responses(record_ids=["r1"], user=ANNOTATOR)
    assert saved.values == {"label": "needs_fix", "corrected_output": "The order ships Tuesday."}


def test_needs_fix_without_a_correction_is_refused_with_a_reason(seeded_project):
    root, store = seeded_project([make_record(id="r1")])
    at = app_as(root, ANNOTATOR, PAGE)
    at.button(key="review_fix").click().run()
    no_exception(at)
    assert "needs a corrected output" in at.warning[0].value
    assert store.get_responses(record_ids=["r1"]) == []


def test_draft_and_discard(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2")])
    at = app_as(root, ANNOTATOR, PAGE)
    at.text_input(key=f"{Keys.W_COMMENT}:r1").input("not sure").run()
    at.button(key="review_draft").click().run()
    assert store.get_responses(record_ids=["r1"])[0].status == ResponseStatus.draft
    at.button(key="review_next").click().run()
    at.button(key="review_discard").click().run()
    no_exception(at)
    assert store.get_responses(record_ids=["r2"])[0].status == ResponseStatus.discarded


def test_filters_narrow_the_queue(seeded_project):
    flagged = make_record(id="flagged", metadata={metadata_keys.FLAGS: ["pii"]})
    root, _ = seeded_project([make_record(), make_record(), flagged])
    at = app_as(root, ANNOTATOR, PAGE)
    assert len(at.session_state[Keys.QUEUE].ids) == 3
    at.selectbox(key="queue_flag").select("pii")
    at.button(key="queue_apply").click().run()
    no_exception(at)
    assert at.session_state[Keys.QUEUE].ids == ["flagged"]


def test_submitted_records_leave_the_pending_queue(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2")])
    store.save_response(
        Response(record_id="r1", user=ANNOTATOR, values={"label": "good"}, status="submitted")
    )
    at = app_as(root, ANNOTATOR, PAGE)
    assert at.session_state[Keys.QUEUE].ids == ["r2"]


def test_a_stale_save_shows_the_conflict_and_writes_nothing(seeded_project):
    root, store = seeded_project([make_record(id="r1")])
    at = app_as(root, ANNOTATOR, PAGE)
    # Another tab of the same person saves first.
    store.save_response(Response(record_id="r1", user=ANNOTATOR, values={"label": "bad"}, status="submitted"))
    at.button(key="review_good").click().run()
    no_exception(at)
    assert "changed since you opened it" in at.error[0].value
    assert store.get_responses(record_ids=["r1"])[0].values["label"] == "bad"
    at.button(key="review_reload").click().run()
    at.button(key="review_good").click().run()
    assert store.get_responses(record_ids=["r1"])[0].values["label"] == "good"


def test_accepting_a_suggestion_fills_the_answer_and_saves_a_draft(seeded_project):
    record = make_record(
        id="r1", suggestions=[Suggestion(question="label", value="bad", agent="pairsmith.quality")]
    )
    root, store = seeded_project([record])
    at = app_as(root, ANNOTATOR, PAGE)
    at.button(key="review_accept_0").click().run()
    no_exception(at)
    assert at.session_state[f"{Keys.W_LABEL}:r1"] == "bad"
    [saved] = store.get_responses(record_ids=["r1"])
    assert (saved.status, saved.values["label"]) == (ResponseStatus.draft, "bad")


def test_progress_shows_mine_and_the_teams(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2")])
    store.save_response(Response(record_id="r1", user="bob", values={"label": "good"}, status="submitted"))
    at = app_as(root, ANNOTATOR, PAGE)
    texts = [p.proto.text for p in at.get("progress")]
    assert any("You: 0 submitted" in t for t in texts)
    assert any("Team: 1 of 2 records reviewed" in t for t in texts)


def test_chat_input_is_shown_as_message_bubbles(seeded_project):
    from tests.factories import make_chat_record

    root, _ = seeded_project([make_chat_record()])
    at = app_as(root, ANNOTATOR, PAGE)
    assert [m.name for m in at.chat_message] == ["system", "user"]
