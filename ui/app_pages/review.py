"""Review queue: one record at a time, labelled with the keyboard or the mouse.

Layout: the queue's filters (one collapsed line) and progress; then the record (input and output
in fixed-height boxes, long texts clipped with *Show all*) beside the answer panel, so the label
buttons are on screen without scrolling at any record length; the corrected output's side-by-side
diff below. The sidebar holds the guidelines (collapsed), golden examples and the queue list
(``ui.review_sidebar``).

Shortcuts (active when the cursor is not in a text box; Tab leaves one): G good, B bad,
F needs fix (each submits), S submit, D save draft, X discard, N next, P previous.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from curation import metadata_keys
from curation.errors import BadInputError, ConflictError, NotFoundError, PairsmithError
from curation.model import (
    COMMENT_QUESTION,
    CORRECTION_QUESTION,
    LABEL_BAD,
    LABEL_GOOD,
    LABEL_NEEDS_FIX,
    LABEL_QUESTION,
    RATING_QUESTION,
    Project,
    Record,
    ResponseStatus,
    Suggestion,
)
from curation.review.answers import apply_suggestion, current_response, save_review
from curation.review.assignment import assigned_count
from curation.review.auth import Action
from curation.review.corrections import correction_problems, editable_output
from curation.review.diff import diff_counts, diff_mode_for, output_diff
from curation.review.guidelines import set_golden_records
from curation.review.queue import QueueFilters, ReviewQueue, build_queue, next_window
from curation.review.reasons import reason_tags, split_comment, with_reasons
from ui import render, review_sidebar, services, state
from ui.state import Keys

QUEUE_SIZE = 200
ANY = "any"

session = services.require(Action.review)
store, user = session.store, session.user.name
project: Project = store.get_project()
st.title("Review")
services.show_flash()
counts = services.review_progress(store, str(session.project_dir), user, state.revision())
if counts["records"] == 0:
    services.setup_checklist(session)  # a new project: lead the way to the first record
    st.stop()


# --- the queue ------------------------------------------------------------------------------------


def make_queue(order: str, filters: QueueFilters) -> ReviewQueue:
    """Build a queue; the diverse order falls back to import order when analysis has not run."""
    if order == "diverse":
        try:
            return build_queue(store, user, filters, order="diverse", size=QUEUE_SIZE)
        except NotFoundError:
            state.flash(
                "info", "The diverse order needs analysis (`pairsmith analyze DIR`); showing import order."
            )
    return build_queue(store, user, filters, order="import", size=QUEUE_SIZE)


def apply_filters() -> None:
    """The form's *Apply*: build the queue from the chosen filters, then fold the filters away."""
    status = st.session_state.get("queue_status", "pending")
    new = QueueFilters(
        status=None if status == ANY else status,
        cluster=st.session_state.get("queue_cluster"),
        flag=st.session_state.get("queue_flag"),
        dup_group=(st.session_state.get("queue_dup_group") or "").strip() or None,
        text=(st.session_state.get("queue_text") or "").strip() or None,
        assigned_to=user if st.session_state.get("queue_mine") else None,
    )
    order = st.session_state.get("queue_order") or "import"
    state.put(Keys.QUEUE_FILTERS, new)
    state.put(Keys.QUEUE_ORDER, order)
    state.put(Keys.QUEUE, make_queue(order, new))
    state.put(Keys.QUEUE_INDEX, 0)
    state.put(Keys.QUEUE_LIST_PAGE, None)
    st.session_state[Keys.FILTERS_OPEN] = False


def queue_controls() -> None:
    has_analysis = services.has_analysis(session.project_dir)
    if state.get(Keys.QUEUE_FILTERS) is None:  # first visit: my assigned records, when there are any
        mine = assigned_count(store, user) > 0
        state.put(Keys.QUEUE_FILTERS, QueueFilters(status="pending", assigned_to=user if mine else None))
    filters: QueueFilters = state.get(Keys.QUEUE_FILTERS)
    order = state.get(Keys.QUEUE_ORDER) or ("diverse" if has_analysis else "import")
    names: dict[int, str] = {}
    if has_analysis:
        try:
            names = services.cluster_names(session.project_dir)
        except PairsmithError:
            names = {}
    summary = f"Queue: {filters.describe(names)} · {'diverse' if order == 'diverse' else 'import'} order"
    with (
        st.expander(
            render.md_escape(summary), key=Keys.FILTERS_OPEN, on_change="rerun", icon=":material/filter_list:"
        ),
        st.form("queue_form", border=False),
    ):
        st.radio(
            "Order",
            ["diverse", "import"],
            index=0 if order == "diverse" else 1,
            horizontal=True,
            format_func={"diverse": "Diverse first (covers every topic early)", "import": "Import order"}.get,
            key="queue_order",
        )
        cols = st.columns(3)
        statuses = ["pending", "draft", "submitted", "discarded", ANY]
        cols[0].selectbox(
            "Status of your response",
            statuses,
            index=statuses.index(filters.status or ANY),
            key="queue_status",
        )
        cluster_ids: list[int | None] = [None, *sorted(names)]
        cols[1].selectbox(
            "Cluster",
            cluster_ids,
            format_func=lambda c: "any" if c is None else f"{c}: {names[c]}",
            index=cluster_ids.index(filters.cluster) if filters.cluster in cluster_ids else 0,
            key="queue_cluster",
        )
        flags: list[str | None] = [None, *metadata_keys.QUALITY_FLAGS]
        cols[2].selectbox(
            "Quality flag",
            flags,
            index=flags.index(filters.flag),
            format_func=lambda f: "any" if f is None else f,
            key="queue_flag",
        )
        cols = st.columns(3)
        cols[0].text_input("Duplicate group id", value=filters.dup_group or "", key="queue_dup_group")
        cols[1].text_input("Text contains", value=filters.text or "", key="queue_text")
        cols[2].checkbox("Only records assigned to me", value=filters.assigned_to == user, key="queue_mine")
        st.form_submit_button("Apply", key="queue_apply", on_click=apply_filters, type="primary")
    if state.get(Keys.QUEUE) is None:
        state.put(Keys.QUEUE, make_queue(order, filters))
        state.put(Keys.QUEUE_INDEX, 0)
        services.show_flash()  # the diverse order's fallback note, now rather than after the next click


def progress_bar(where: Any) -> None:
    """One bar for the team's progress; the line above it says where the reviewer stands too."""
    total = counts["records"] or 1
    where.progress(
        min(1.0, counts["team_done"] / total),
        text=f"You: {counts['mine_submitted']} submitted, {counts['mine_draft']} drafts, "
        f"{counts['mine_discarded']} discarded · Team: {counts['team_done']} of {counts['records']} "
        "records reviewed",
    )


queue_controls()
queue: ReviewQueue = state.get(Keys.QUEUE)
index = queue.step(int(state.get(Keys.QUEUE_INDEX, 0)), 0)

if not queue.ids:
    st.success("Nothing left to review with these filters. Change the filters to see more records.")
    st.stop()


# --- moving through the queue --------------------------------------------------------------------


def go(delta: int) -> None:
    state.put(Keys.QUEUE_INDEX, queue.step(int(state.get(Keys.QUEUE_INDEX, 0)), delta))
    state.put(Keys.QUEUE_LIST_PAGE, None)


def jump(to: int) -> None:
    state.put(Keys.QUEUE_INDEX, queue.step(to, 0))


def load_next_window() -> None:
    state.put(Keys.QUEUE, next_window(store, user, queue, size=QUEUE_SIZE))
    state.put(Keys.QUEUE_INDEX, 0)
    state.put(Keys.QUEUE_LIST_PAGE, None)


top_left, top_right = st.columns([3, 2], gap="medium", vertical_alignment="bottom")
with top_left, st.container(horizontal=True, vertical_alignment="center", key="review_nav"):
    st.button(
        "Previous",
        key="review_prev",
        shortcut="P",
        on_click=go,
        args=(-1,),
        disabled=index == 0,
        icon=":material/chevron_left:",
    )
    st.button(
        "Next",
        key="review_next",
        shortcut="N",
        on_click=go,
        args=(1,),
        disabled=index >= len(queue) - 1,
        icon=":material/chevron_right:",
        icon_position="right",
    )
    st.caption(f"Record {index + 1} of {len(queue)} in this window · {queue.total} match the filters")
    if index >= len(queue) - 1 and queue.has_more:
        st.button("Load more records", key="review_more", on_click=load_next_window)
progress_bar(top_right)

record_id = queue.ids[index]
try:
    record: Record = store.get_record(record_id)
except NotFoundError:
    st.warning(f"Record {record_id} was deleted since the queue was built; move on with Next.")
    st.stop()

response = current_response(store, record.id, user)
opened: dict[str, int] = state.get(Keys.OPENED_VERSION) or {}
if record.id not in opened:
    opened[record.id] = response.version if response else 0
    state.put(Keys.OPENED_VERSION, opened)


def widget_key(name: str) -> str:
    return f"{name}:{record.id}"


keys = {
    LABEL_QUESTION: widget_key(Keys.W_LABEL),
    RATING_QUESTION: widget_key(Keys.W_RATING),
    CORRECTION_QUESTION: widget_key(Keys.W_CORRECTION),
    COMMENT_QUESTION: widget_key(Keys.W_COMMENT),
}
reasons_key, golden_key = widget_key(Keys.W_REASONS), widget_key(Keys.W_GOLDEN)
saved_values: dict[str, Any] = dict(response.values) if response else {}
saved_tags, saved_comment = split_comment(saved_values.get(COMMENT_QUESTION))
st.session_state.setdefault(keys[LABEL_QUESTION], saved_values.get(LABEL_QUESTION))
st.session_state.setdefault(keys[RATING_QUESTION], saved_values.get(RATING_QUESTION))
st.session_state.setdefault(
    keys[CORRECTION_QUESTION], editable_output(saved_values.get(CORRECTION_QUESTION) or record.output)
)
st.session_state.setdefault(keys[COMMENT_QUESTION], saved_comment)
st.session_state.setdefault(reasons_key, saved_tags)
st.session_state.setdefault(golden_key, record.golden)


# --- the record ----------------------------------------------------------------------------------


def toggle_golden() -> None:
    wanted = bool(st.session_state.get(golden_key))
    try:
        set_golden_records(store, [record.id], golden=wanted, user=user)
    except PairsmithError as exc:
        st.session_state[golden_key] = not wanted
        state.flash("error", f"Not changed: {exc}")
        return
    state.bump_revision()
    state.flash("success", f"Record {record.id} {'marked' if wanted else 'no longer marked'} as golden.")


left, right = st.columns([3, 2], gap="medium")
with left:
    header = st.columns([5, 2], vertical_alignment="center")
    with header[0]:
        st.markdown(f"**Record** {render.md_escape(record.id)}")
        render.record_facts(record)
    if session.can(Action.edit_guidelines):
        header[1].toggle(
            "Golden",
            key=golden_key,
            on_change=toggle_golden,
            help="A golden example shows annotators what good looks like and stays in the test split.",
        )
    elif record.golden:
        header[1].badge("Golden example", icon=":material/star:", color="orange")
    st.caption("Input")
    with st.container(height=230, border=True, key="review_input_box"):
        render.record_input(record)
    st.caption("Output")
    with st.container(height=290, border=True, key="review_output_box"):
        render.output_block(record.output, key=f"show_all:{record.id}:output")


# --- the answers -------------------------------------------------------------------------------


def reload_record() -> None:
    """After a conflict: forget this tab's edits and show what is stored now."""
    for key in [*keys.values(), reasons_key]:
        st.session_state.pop(key, None)
    fresh = current_response(store, record.id, user)
    opened[record.id] = fresh.version if fresh else 0
    state.put(Keys.OPENED_VERSION, opened)


def answers() -> dict[str, Any]:
    values = {question: st.session_state.get(key) for question, key in keys.items()}
    return with_reasons(values, st.session_state.get(reasons_key) or [], values[COMMENT_QUESTION])


def save(status: ResponseStatus, label: str | None = None) -> None:
    if label is not None:
        st.session_state[keys[LABEL_QUESTION]] = label
    try:
        values = answers()
        saved = save_review(store, record, user, values, status, expected_version=opened[record.id])
    except ConflictError as exc:
        state.flash("error", f"Not saved: {exc}")
        state.put(Keys.CONFLICT, record.id)
        return
    except BadInputError as exc:
        state.flash("warning", f"Not saved: {exc}")
        return
    opened[record.id] = saved.version
    state.put(Keys.OPENED_VERSION, opened)
    state.bump_revision()
    word = {"submitted": "Submitted", "draft": "Draft saved", "discarded": "Discarded"}[str(status)]
    state.flash("success", f"{word}: record {record.id}.")
    if status != ResponseStatus.draft:
        go(1)


def accept(suggestion: Suggestion) -> None:
    """One click: fill the suggestion in and keep it as a draft."""
    current = {question: st.session_state.get(key) for question, key in keys.items()}
    try:
        values = apply_suggestion(current, suggestion, project)
    except PairsmithError as exc:
        state.flash("warning", str(exc))
        return
    for question, key in keys.items():
        if question in values:
            st.session_state[key] = (
                editable_output(values[question]) if question == CORRECTION_QUESTION else values[question]
            )
    save(ResponseStatus.draft)


with left:
    if record.suggestions:
        st.caption("Suggestions")
        for n, suggestion in enumerate(record.suggestions):
            cols = st.columns([5, 1], vertical_alignment="center")
            score = f" (score {suggestion.score:.2f})" if suggestion.score is not None else ""
            cols[0].text(
                f"{suggestion.question}: {render.snippet(render.as_cell(suggestion.value), 200)}{score}"
                f" from {suggestion.agent or 'a model'}"
            )
            cols[1].button("Accept", key=f"review_accept_{n}", on_click=accept, args=(suggestion,))

with right, st.container(key="review_answer_panel"):
    if state.get(Keys.CONFLICT) == record.id:
        st.button(
            "Reload this record (drops your unsaved edits)", key="review_reload", on_click=reload_record
        )
        state.put(Keys.CONFLICT, None)
    label_question = project.question(LABEL_QUESTION)
    st.radio(
        label_question.title, label_question.options, key=keys[LABEL_QUESTION], horizontal=True, index=None
    )
    verdicts = st.columns(3)
    verdicts[0].button(
        "Good",
        key="review_good",
        shortcut="G",
        on_click=save,
        width="stretch",
        args=(ResponseStatus.submitted, LABEL_GOOD),
        help="Label good and submit (G)",
    )
    verdicts[1].button(
        "Bad",
        key="review_bad",
        shortcut="B",
        on_click=save,
        width="stretch",
        args=(ResponseStatus.submitted, LABEL_BAD),
        help="Label bad and submit (B)",
    )
    verdicts[2].button(
        "Needs fix",
        key="review_fix",
        shortcut="F",
        on_click=save,
        width="stretch",
        args=(ResponseStatus.submitted, LABEL_NEEDS_FIX),
        help="Label needs fix and submit with the corrected output below (F)",
    )
    tags = [t.tag for t in reason_tags(project.guidelines)]
    tags += [t for t in st.session_state.get(reasons_key) or [] if t not in tags]
    st.pills(
        "Why bad? (kept with a *bad* label)",
        tags,
        selection_mode="multi",
        key=reasons_key,
        help="The tags come from the guidelines' *Reasons* section.",
    )
    if any(q.name == RATING_QUESTION for q in project.questions):
        rating = project.question(RATING_QUESTION)
        st.radio(
            rating.title,
            [int(o) for o in rating.options],
            key=keys[RATING_QUESTION],
            horizontal=True,
            index=None,
        )
    st.text_input("Comment", key=keys[COMMENT_QUESTION])
    actions = st.columns(3)
    actions[0].button(
        "Submit",
        key="review_submit",
        shortcut="S",
        on_click=save,
        width="stretch",
        args=(ResponseStatus.submitted,),
        type="primary",
    )
    actions[1].button(
        "Save draft",
        key="review_draft",
        shortcut="D",
        on_click=save,
        width="stretch",
        args=(ResponseStatus.draft,),
    )
    actions[2].button(
        "Discard",
        key="review_discard",
        shortcut="X",
        on_click=save,
        width="stretch",
        args=(ResponseStatus.discarded,),
    )
    st.caption(
        "Keys: G good · B bad · F needs fix · S submit · D draft · X discard · N/P next/previous "
        "(Tab leaves a text box first)."
        + (f" Your saved response: {response.status} (version {response.version})." if response else "")
    )
    st.text_area(
        "Corrected output (edit when the label is needs_fix; Ctrl+Enter applies)",
        key=keys[CORRECTION_QUESTION],
        height=180,
    )

starting_point = editable_output(record.output)
correction = st.session_state.get(keys[CORRECTION_QUESTION]) or ""
if correction.strip() and correction.strip() != starting_point.strip():
    for problem in correction_problems(correction, record.output, project.output_schema):
        st.error(render.md_escape(problem))
    parts = output_diff(starting_point, correction, diff_mode_for(starting_point, correction))
    changed = diff_counts(parts)
    st.caption(
        f"Changes to the original output: {changed['added']} words added, {changed['removed']} removed"
    )
    render.side_by_side_diff(parts, starting_point, correction)

with st.expander("Record metadata"):
    render.metadata_table(record)


# --- the sidebar: guidelines, golden examples, the queue list ------------------------------------

review_sidebar.guidelines(project)
review_sidebar.golden_examples(store, str(session.project_dir))
review_sidebar.queue_list(store, queue, index, user, on_pick=jump)
