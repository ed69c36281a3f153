"""The Review page's sidebar: the guidelines (collapsed, at a sidebar's heading size), a few golden
examples, and the queue list (twelve records a page, with the reviewer's status of each)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from curation.model import Project
from curation.review.display import demote_headings
from curation.review.queue import ReviewQueue, queue_listing
from curation.store.base import RecordStore
from ui import render, services, state
from ui.state import Keys

LIST_SIZE = 12
STATUS_MARK = {"submitted": "✓", "draft": "✎", "discarded": "✗", "pending": "○"}


def guidelines(project: Project) -> None:
    """The guidelines, collapsed: they are there to look something up, not to read at every record."""
    with (
        st.sidebar,
        st.expander(f"Guidelines (version {project.guidelines_version})", icon=":material/menu_book:"),
    ):
        if project.guidelines.strip():
            st.markdown(demote_headings(project.guidelines))
        else:
            st.caption("No guidelines yet; an owner writes them on the Guidelines page.")
        for question in project.questions:
            if question.description:
                st.caption(f"{render.md_escape(question.title)}: {render.md_escape(question.description)}")


def golden_examples(store: RecordStore, project_dir: str) -> None:
    golden = services.golden_examples(store, project_dir, state.revision())
    if not golden:
        return
    with st.sidebar, st.expander("Golden examples (what good looks like)", icon=":material/star:"):
        for example in golden:
            st.text(render.snippet(example.input_text, 300))
            render.output_block(example.output)
            st.divider()


def queue_list(
    store: RecordStore, queue: ReviewQueue, index: int, user: str, *, on_pick: Callable[[int], None]
) -> None:
    """One page of the queue (the page holding the record on screen, unless the reviewer paged away);
    a click on a line opens that record."""
    pages = -(-len(queue) // LIST_SIZE)
    chosen = state.get(Keys.QUEUE_LIST_PAGE)
    page = index // LIST_SIZE if chosen is None else max(0, min(int(chosen), pages - 1))
    first, last = page * LIST_SIZE + 1, min(len(queue), (page + 1) * LIST_SIZE)
    with st.sidebar:
        st.caption(f"Queue: records {first}–{last} of {len(queue)}")
        with st.container(key="review_queue_list", gap=None):
            for item in queue_listing(store, queue, user, start=page * LIST_SIZE, count=LIST_SIZE):
                mark = STATUS_MARK.get(item.status, "○") + (f" {item.label}:" if item.label else "")
                st.button(
                    render.md_escape(f"{item.index + 1}. {mark} {item.snippet}"),
                    key=f"queue_item_{item.index}",
                    type="secondary" if item.index == index else "tertiary",
                    on_click=on_pick,
                    args=(item.index,),
                )
        earlier, later = st.columns(2)
        earlier.button("Earlier", key="queue_list_prev", disabled=page == 0, width="stretch",
                       on_click=state.put, args=(Keys.QUEUE_LIST_PAGE, page - 1))  # fmt: skip
        later.button("Later", key="queue_list_next", disabled=page >= pages - 1, width="stretch",
                     on_click=state.put, args=(Keys.QUEUE_LIST_PAGE, page + 1))  # fmt: skip
