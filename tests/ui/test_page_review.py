"""The review page: labels land in the store, filters narrow the queue, stale saves are refused."""

from __future__ import annotations

from curation import metadata_keys
from curation.model import Response, ResponseStatus, Suggestion
from tests.factories import make_record
from tests.ui.conftest import ANNOTATOR, OWNER, app_as, no_exception
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


def diff_columns(at) -> list[str]:
    return [h.proto.body for h in at.html if 'class="ps-diff"' in h.proto.body]


def test_a_correction_is_saved_with_needs_fix_and_shown_as_a_diff(seeded_project):
    root, store = seeded_project([make_record(id="r1", output="The order ships Monday.")])
    at = app_as(root, ANNOTATOR, PAGE)
    at.text_area(key=f"{Keys.W_CORRECTION}:r1").input("The order ships Tuesday.").run()
    # Side by side: the original with the removed word struck out, the correction with the added one.
    original, corrected = diff_columns(at)
    assert "<del>Monday.</del>" in original and "<ins>" not in original
    assert "<ins>Tuesday.</ins>" in corrected and "<del>" not in corrected
    assert any("1 words added, 1 removed" in c.value for c in at.caption)
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


# --- the reviewer's day (issue 15) ----------------------------------------------------------------

ONE_LINE = '{"category": "shipping_delay", "urgency": "low"}'


def test_a_json_correction_starts_pretty_printed_and_is_saved_in_the_outputs_layout(seeded_project):
    root, store = seeded_project([make_record(id="r1", output=ONE_LINE)])
    at = app_as(root, ANNOTATOR, PAGE)
    box = at.text_area(key=f"{Keys.W_CORRECTION}:r1")
    assert box.value == '{\n  "category": "shipping_delay",\n  "urgency": "low"\n}'
    box.input(box.value.replace('"low"', '"high"')).run()
    assert diff_columns(at), "the change is shown"
    at.button(key="review_fix").click().run()
    no_exception(at)
    [saved] = store.get_responses(record_ids=["r1"])
    assert saved.values["corrected_output"] == '{"category": "shipping_delay", "urgency": "high"}'


def test_broken_json_in_a_correction_is_flagged_and_not_submitted(seeded_project):
    root, store = seeded_project([make_record(id="r1", output=ONE_LINE)])
    at = app_as(root, ANNOTATOR, PAGE)
    at.text_area(key=f"{Keys.W_CORRECTION}:r1").input('{"category": "refund",').run()
    assert any("not valid JSON" in e.value for e in at.error)
    at.button(key="review_fix").click().run()
    no_exception(at)
    assert "not valid JSON" in at.warning[0].value
    assert store.get_responses(record_ids=["r1"]) == []


def test_a_correction_that_breaks_the_output_schema_is_not_submitted(seeded_project):
    from curation.review.guidelines import update_output_schema

    root, store = seeded_project([make_record(id="r1", output=ONE_LINE)])
    schema = '{"type": "object", "properties": {"urgency": {"enum": ["low", "high"]}}}'
    update_output_schema(store, schema)
    at = app_as(root, ANNOTATOR, PAGE)
    at.text_area(key=f"{Keys.W_CORRECTION}:r1").input('{"category": "refund", "urgency": "soon"}').run()
    assert any("does not match the output schema at urgency" in e.value for e in at.error)
    at.button(key="review_fix").click().run()
    assert store.get_responses(record_ids=["r1"]) == []


def test_a_long_output_is_clipped_until_show_all(seeded_project):
    long_output = "\n".join(f"line {n}: " + "word " * 20 for n in range(4000))  # ~500 KB
    root, _ = seeded_project([make_record(id="r1", output=long_output)])
    at = app_as(root, ANNOTATOR, PAGE)
    shown = [t.value for t in at.text if t.value.startswith("line 0:")]
    assert len(shown) == 1 and len(shown[0]) < 5000
    show_all = at.toggle(key="show_all:r1:output")
    assert "more characters" in show_all.label
    show_all.set_value(True).run()
    assert any(len(t.value) > 400_000 for t in at.text)
    # The controls do not move below the record: they sit in the column beside it.
    assert at.button(key="review_good") is not None


def test_filters_fold_away_after_apply_and_say_what_the_queue_holds(seeded_project):
    flagged = make_record(id="flagged", metadata={metadata_keys.FLAGS: ["pii"]})
    root, _ = seeded_project([make_record(), flagged])
    at = app_as(root, ANNOTATOR, PAGE)
    at.session_state[Keys.FILTERS_OPEN] = True  # the person opened the filters
    at.run()
    at.selectbox(key="queue_flag").select("pii")
    at.button(key="queue_apply").click().run()
    no_exception(at)
    assert at.session_state[Keys.FILTERS_OPEN] is False
    assert "flag pii" in at.expander[0].label


def test_guidelines_start_collapsed_with_sidebar_sized_headings(seeded_project):
    root, store = seeded_project([make_record(id="r1")])
    project = store.get_project()
    guidelines = "# Fernway triage\n\nBe brief.\n\n## Labels\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    store.update_project(project.model_copy(update={"guidelines": guidelines}))
    at = app_as(root, ANNOTATOR, PAGE)
    [expander] = [e for e in at.sidebar.expander if e.label.startswith("Guidelines")]
    assert expander.proto.expanded is False
    rendered = [m.value for m in expander.markdown]
    assert rendered[0].startswith("#### Fernway triage") and "##### Labels" in rendered[0]
    assert [t.value for t in at.title] == ["Review"]  # the guidelines' H1 is not the page's first


def test_verdict_buttons_have_their_meaning_in_colour(seeded_project):
    root, _ = seeded_project([make_record(id="r1")])
    at = app_as(root, ANNOTATOR, PAGE)
    style = next(h.proto.body for h in at.html if "<style>" in h.proto.body)
    assert ".st-key-review_good button { background: #1a7f37" in style  # green
    assert ".st-key-review_bad button { background: #cf222e" in style  # red
    assert ".st-key-review_fix button { background: #bf8700" in style  # amber
    assert at.button(key="review_good").proto.type != "primary"  # not the theme's red


def test_the_record_id_shows_and_an_owner_marks_it_golden_from_review(seeded_project):
    root, store = seeded_project([make_record(id="r1")])
    at = app_as(root, OWNER, PAGE)
    assert any("r1" in m.value for m in at.markdown if m.value.startswith("**Record**"))
    at.toggle(key=f"{Keys.W_GOLDEN}:r1").set_value(True).run()
    no_exception(at)
    assert store.get_record("r1").golden is True
    assert "marked as golden" in at.success[0].value
    annotator = app_as(root, ANNOTATOR, PAGE)
    assert not [t for t in annotator.toggle if t.key == f"{Keys.W_GOLDEN}:r1"]
    assert any("badge[" in m.value and "Golden example" in m.value for m in annotator.markdown), (
        "an annotator sees that the record is golden"
    )


def test_right_to_left_text_reads_right_to_left_and_stays_escaped(seeded_project):
    arabic = "أين طلبي؟ <script>alert(1)</script>"
    root, _ = seeded_project([make_record(id="r1", input=arabic, output="مرحبا")])
    at = app_as(root, ANNOTATOR, PAGE)
    bodies = [h.proto.body for h in at.html if 'dir="rtl"' in h.proto.body]
    assert any("أين طلبي؟ &lt;script&gt;" in b for b in bodies)
    assert all("<script>" not in b for b in bodies)


def test_the_queue_list_shows_each_records_status_and_jumps_to_it(seeded_project):
    records = [make_record(id=f"r{n}", input=f"question number {n}") for n in range(1, 6)]
    root, store = seeded_project(records)
    store.save_response(Response(record_id="r2", user=ANNOTATOR, values={"label": "bad"}, status="draft"))
    at = app_as(root, ANNOTATOR, PAGE)
    items = {b.key: b.label for b in at.sidebar.button if b.key.startswith("queue_item_")}
    assert len(items) == 5
    assert "2. ✎ bad: question number 2" in items["queue_item_1"].replace("\\", "")
    at.button(key="queue_item_3").click().run()
    assert at.session_state[Keys.QUEUE_INDEX] == 3
    assert at.button(key="queue_item_3").proto.type == "secondary"  # the record on screen is framed


def test_reason_tags_from_the_guidelines_are_kept_with_a_bad_label(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2")])
    guidelines = "# Rules\n\n## Reasons for bad\n\n- wrong category: not what the customer asked\n- rude\n"
    store.update_project(store.get_project().model_copy(update={"guidelines": guidelines}))
    at = app_as(root, ANNOTATOR, PAGE)
    pills = at.pills(key=f"{Keys.W_REASONS}:r1")
    assert pills.options == ["wrong-category", "rude"]
    pills.set_value(["rude"]).run()
    at.text_input(key=f"{Keys.W_COMMENT}:r1").input("insults the customer").run()
    at.button(key="review_bad").click().run()
    no_exception(at)
    [saved] = store.get_responses(record_ids=["r1"])
    assert saved.values["comment"] == "#rude insults the customer"
    at.button(key="review_prev").click().run()  # back to it: the tags and the comment are apart again
    assert at.pills(key=f"{Keys.W_REASONS}:r1").value == ["rude"]
    assert at.text_input(key=f"{Keys.W_COMMENT}:r1").value == "insults the customer"


def test_reason_tags_are_dropped_when_the_label_is_not_bad(seeded_project):
    root, store = seeded_project([make_record(id="r1")])
    at = app_as(root, ANNOTATOR, PAGE)
    at.pills(key=f"{Keys.W_REASONS}:r1").set_value(["tone"]).run()
    at.button(key="review_good").click().run()
    [saved] = store.get_responses(record_ids=["r1"])
    assert "comment" not in saved.values


def test_an_empty_project_leads_a_new_user_to_import(seeded_project):
    root, _ = seeded_project([])
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    assert any("Import your pairs" in m.value for m in at.markdown)
    assert at.get("page_link"), "a link to the page that imports"
    annotator = app_as(root, ANNOTATOR, PAGE)
    no_exception(annotator)
    assert "An owner imports and analyses them first" in annotator.info[0].value


def test_records_assigned_to_me_come_first(seeded_project):
    from curation.review.assignment import assign_reviewers

    root, store = seeded_project([make_record(id=f"r{n}") for n in range(6)])
    assign_reviewers(store, [ANNOTATOR, "bob"], overlap_share=0.0, user=OWNER)
    mine = {r.id for r in store.query_records().records if ANNOTATOR in r.metadata["assigned_to"]}
    at = app_as(root, ANNOTATOR, PAGE)
    assert set(at.session_state[Keys.QUEUE].ids) == mine and len(mine) == 3
    assert "assigned to ann" in at.expander[0].label
