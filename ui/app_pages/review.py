"""Review queue: one record at a time, labelled with the keyboard or the mouse.

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
from curation.review.auth import Action
from curation.review.diff import diff_counts, diff_text, output_diff
from curation.review.queue import QueueFilters, ReviewQueue, build_queue, next_window
from curation.store.base import RecordQuery
from ui import render, services, state
from ui.state import Keys

QUEUE_SIZE = 200
ANY = "any"

session = services.require(Action.review)
store, user = session.store, session.user.name
project: Project = store.get_project()
st.title("Review")
services.show_flash()


# --- the queue ------------------------------------------------------------------------------------


def make_queue(order: str, filters: QueueFilters) -> ReviewQueue:
    """Build a queue; the diverse order falls back to import order when analysis has not run."""
    if order == "diverse":
        try:
            return build_queue(store, user, filters, order="diverse", size=QUEUE_SIZE)
        except NotFoundError:
            st.info("The diverse order needs analysis (`pairsmith analyze DIR`); showing import order.")
    return build_queue(store, user, filters, order="import", size=QUEUE_SIZE)


def queue_controls() -> None:
    filters: QueueFilters = state.get(Keys.QUEUE_FILTERS) or QueueFilters(status="pending")
    default_order = "diverse" if services.has_analysis(session.project_dir) else "import"
    order = state.get(Keys.QUEUE_ORDER) or default_order
    names: dict[int, str] = {}
    if services.has_analysis(session.project_dir):
        try:
            names = services.cluster_names(session.project_dir)
        except PairsmithError:
            names = {}
    with st.expander("Queue order and filters", expanded=False), st.form("queue_form"):
        order_choice = st.radio(
            "Order",
            ["diverse", "import"],
            index=0 if order == "diverse" else 1,
            format_func={"diverse": "Diverse first (covers every topic early)", "import": "Import order"}.get,
            horizontal=True,
            key="queue_order",
        )
        statuses = ["pending", "draft", "submitted", "discarded", ANY]
        status = st.selectbox(
            "Status of your response",
            statuses,
            index=statuses.index(filters.status or ANY),
            key="queue_status",
        )
        cluster_ids: list[int | None] = [None, *sorted(names)]
        cluster = st.selectbox(
            "Cluster",
            cluster_ids,
            index=cluster_ids.index(filters.cluster) if filters.cluster in cluster_ids else 0,
            format_func=lambda c: "any" if c is None else f"{c}: {names[c]}",
            key="queue_cluster",
        )
        flags: list[str | None] = [None, *metadata_keys.QUALITY_FLAGS]
        flag = st.selectbox(
            "Quality flag",
            flags,
            index=flags.index(filters.flag),
            format_func=lambda f: "any" if f is None else f,
            key="queue_flag",
        )
        dup_group = st.text_input("Duplicate group id", value=filters.dup_group or "", key="queue_dup_group")
        text = st.text_input("Text contains", value=filters.text or "", key="queue_text")
        if st.form_submit_button("Apply", key="queue_apply"):
            new = QueueFilters(
                status=None if status == ANY else status,
                cluster=cluster,
                flag=flag,
                dup_group=dup_group.strip() or None,
                text=text.strip() or None,
            )
            state.put(Keys.QUEUE_FILTERS, new)
            state.put(Keys.QUEUE_ORDER, order_choice)
            state.put(Keys.QUEUE, make_queue(order_choice, new))
            state.put(Keys.QUEUE_INDEX, 0)
            st.rerun()
    if state.get(Keys.QUEUE) is None:
        state.put(Keys.QUEUE_FILTERS, filters)
        state.put(Keys.QUEUE, make_queue(order, filters))
        state.put(Keys.QUEUE_INDEX, 0)


def progress_bars() -> None:
    counts = services.review_progress(store, str(session.project_dir), user, state.revision())
    total = counts["records"] or 1
    left, right = st.columns(2)
    left.progress(
        min(1.0, counts["mine_done"] / total),
        text=f"You: {counts['mine_submitted']} submitted, {counts['mine_draft']} drafts, "
        f"{counts['mine_discarded']} discarded",
    )
    right.progress(
        min(1.0, counts["team_done"] / total),
        text=f"Team: {counts['team_done']} of {counts['records']} records reviewed",
    )


queue_controls()
progress_bars()
queue: ReviewQueue = state.get(Keys.QUEUE)
index = queue.step(int(state.get(Keys.QUEUE_INDEX, 0)), 0)

if not queue.ids:
    st.success("Nothing left to review with these filters. Change the filters to see more records.")
    st.stop()


# --- moving through the queue --------------------------------------------------------------------


def go(delta: int) -> None:
    state.put(Keys.QUEUE_INDEX, queue.step(int(state.get(Keys.QUEUE_INDEX, 0)), delta))


def load_next_window() -> None:
    state.put(Keys.QUEUE, next_window(store, user, queue, size=QUEUE_SIZE))
    state.put(Keys.QUEUE_INDEX, 0)


nav = st.columns([1, 1, 4, 2])
nav[0].button("Previous", key="review_prev", shortcut="P", on_click=go, args=(-1,), disabled=index == 0)
nav[1].button(
    "Next", key="review_next", shortcut="N", on_click=go, args=(1,), disabled=index >= len(queue) - 1
)
nav[2].caption(f"Record {index + 1} of {len(queue)} in this window · {queue.total} match the filters")
if index >= len(queue) - 1 and queue.has_more:
    nav[3].button("Load more records", key="review_more", on_click=load_next_window)

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


# --- the record --------------------------------------------------------------------------------

render.record_facts(record)
left, right = st.columns(2)
with left:
    st.subheader("Input")
    render.record_input(record)
with right:
    st.subheader("Output")
    render.output_block(record.output)
with st.expander("Record metadata"):
    st.caption(f"id: {render.md_escape(record.id)}")
    render.metadata_table(record)


# --- the answers -------------------------------------------------------------------------------


def widget_key(name: str) -> str:
    return f"{name}:{record.id}"


keys = {
    LABEL_QUESTION: widget_key(Keys.W_LABEL),
    RATING_QUESTION: widget_key(Keys.W_RATING),
    CORRECTION_QUESTION: widget_key(Keys.W_CORRECTION),
    COMMENT_QUESTION: widget_key(Keys.W_COMMENT),
}
saved_values: dict[str, Any] = dict(response.values) if response else {}
st.session_state.setdefault(keys[LABEL_QUESTION], saved_values.get(LABEL_QUESTION))
st.session_state.setdefault(keys[RATING_QUESTION], saved_values.get(RATING_QUESTION))
st.session_state.setdefault(keys[CORRECTION_QUESTION], saved_values.get(CORRECTION_QUESTION) or record.output)
st.session_state.setdefault(keys[COMMENT_QUESTION], saved_values.get(COMMENT_QUESTION) or "")


def reload_record() -> None:
    """After a conflict: forget this tab's edits and show what is stored now."""
    for key in keys.values():
        st.session_state.pop(key, None)
    fresh = current_response(store, record.id, user)
    opened[record.id] = fresh.version if fresh else 0
    state.put(Keys.OPENED_VERSION, opened)


def save(status: ResponseStatus, label: str | None = None) -> None:
    values = {question: st.session_state.get(key) for question, key in keys.items()}
    if label is not None:
        values[LABEL_QUESTION] = label
        st.session_state[keys[LABEL_QUESTION]] = label
    try:
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
            st.session_state[key] = values[question]
    save(ResponseStatus.draft)


if state.get(Keys.CONFLICT) == record.id:
    st.button("Reload this record (drops your unsaved edits)", key="review_reload", on_click=reload_record)
    state.put(Keys.CONFLICT, None)

if record.suggestions:
    st.markdown("**Suggestions**")
    for n, suggestion in enumerate(record.suggestions):
        cols = st.columns([5, 1])
        score = f" (score {suggestion.score:.2f})" if suggestion.score is not None else ""
        cols[0].text(
            f"{suggestion.question}: {render.snippet(render.as_cell(suggestion.value), 200)}{score}"
            f" from {suggestion.agent or 'a model'}"
        )
        cols[1].button("Accept", key=f"review_accept_{n}", on_click=accept, args=(suggestion,))

label_question = project.question(LABEL_QUESTION)
answer, actions = st.columns([3, 2])
with answer:
    st.radio(
        label_question.title,
        label_question.options,
        key=keys[LABEL_QUESTION],
        horizontal=True,
        index=None,
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
    st.text_area(
        "Corrected output (edit when the label is needs_fix)", key=keys[CORRECTION_QUESTION], height=160
    )
    st.text_input("Comment", key=keys[COMMENT_QUESTION])
with actions:
    st.caption("Shortcuts work when the cursor is not in a text box (Tab leaves it).")
    st.button("Good (submit)", key="review_good", shortcut="G", on_click=save,
              args=(ResponseStatus.submitted, LABEL_GOOD), type="primary")  # fmt: skip
    st.button("Bad (submit)", key="review_bad", shortcut="B", on_click=save,
              args=(ResponseStatus.submitted, LABEL_BAD))  # fmt: skip
    st.button("Needs fix (submit)", key="review_fix", shortcut="F", on_click=save,
              args=(ResponseStatus.submitted, LABEL_NEEDS_FIX))  # fmt: skip
    st.button("Submit", key="review_submit", shortcut="S", on_click=save, args=(ResponseStatus.submitted,))
    st.button("Save draft", key="review_draft", shortcut="D", on_click=save, args=(ResponseStatus.draft,))
    st.button("Discard", key="review_discard", shortcut="X", on_click=save, args=(ResponseStatus.discarded,))
    if response is not None:
        st.caption(f"Your saved response: {response.status} (version {response.version})")

correction = st.session_state.get(keys[CORRECTION_QUESTION]) or ""
if correction.strip() and correction.strip() != record.output.strip():
    parts = output_diff(record.output, correction, "word")
    counts = diff_counts(parts)
    st.caption(f"Changes to the original output: {counts['added']} words added, {counts['removed']} removed")
    st.code(diff_text(parts, "word"), language=None, wrap_lines=True)


# --- guidelines beside the record -----------------------------------------------------------------

with st.sidebar:
    with st.expander(f"Guidelines (version {project.guidelines_version})", expanded=True):
        if project.guidelines.strip():
            st.markdown(project.guidelines)
        else:
            st.caption("No guidelines yet; an owner writes them on the Guidelines page.")
        for question in project.questions:
            if question.description:
                st.caption(f"{render.md_escape(question.title)}: {render.md_escape(question.description)}")
    golden = store.query_records(RecordQuery(golden=True, limit=3)).records
    if golden:
        with st.expander("Golden examples (what good looks like)"):
            for example in golden:
                st.text(render.snippet(example.input_text, 300))
                render.output_block(example.output)
                st.divider()
