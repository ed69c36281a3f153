"""Decision log: every decision that changes what will be exported (labels, duplicate decisions,
bulk resolves, adjudications, golden marks) with who, when, what and why; undo one, or a whole bulk
action. Owners see and undo everyone's; annotators their own labels (the library checks it)."""

from __future__ import annotations

import streamlit as st

from curation.errors import PairsmithError
from curation.model import DecisionKind
from curation.review.auth import Action
from curation.review.decisions import decision_log, undo_batch, undo_decision
from curation.store.base import DecisionQuery
from ui import render, services, state

PER_PAGE = 50

session = services.require(Action.review)
store, user = session.store, session.user.name
st.title("Decision log")
services.show_flash()

top = st.columns([2, 2, 2])
kinds: list[DecisionKind | None] = [None, *DecisionKind]
kind = top[0].selectbox("Kind", kinds, format_func=lambda k: "any" if k is None else str(k), key="log_kind")
record_id = top[1].text_input("Record id", key="log_record").strip() or None
hide_undone = top[2].toggle("Hide undone", value=False, key="log_hide_undone")
page = int(st.number_input("Page", min_value=1, value=1, key="log_page")) - 1
query = DecisionQuery(
    kind=kind, record_id=record_id, include_undone=not hide_undone, offset=page * PER_PAGE, limit=PER_PAGE
)
decisions = decision_log(store, user, query)
if not decisions:
    st.info("No decisions yet" + (" on this page." if page else "."))
    st.stop()

st.dataframe(
    [
        {
            "when": f"{d.at:%Y-%m-%d %H:%M:%S}",
            "who": d.user or "command line",
            "kind": str(d.kind),
            "what": d.what,
            "why": d.why,
            "records": len(d.record_ids),
            "undone": f"by {d.undone_by or 'command line'} {d.undone_at:%Y-%m-%d %H:%M}"
            if d.undone_at
            else "",
            "id": d.id,
        }
        for d in decisions
    ],
    hide_index=True,
    width="stretch",
)


def undo(decision_id: str, batch: str | None) -> None:
    try:
        undone = (
            undo_batch(store, batch, user=user) if batch else undo_decision(store, decision_id, user=user)
        )
    except PairsmithError as exc:
        state.flash("error", f"Not undone: {exc}")
        return
    state.bump_revision()
    records = len({rid for d in undone for rid in d.record_ids})
    state.flash("success", f"Undone {len(undone)} decision(s); {records} records are back as they were.")


open_decisions = [d for d in decisions if not d.undone]
if not open_decisions:
    st.caption("Every decision on this page is undone already.")
    st.stop()
labels = {d.id: f"{d.at:%H:%M:%S} · {d.user or 'command line'} · {d.what}" for d in open_decisions}
chosen = st.selectbox("Decision", list(labels), format_func=labels.__getitem__, key="log_decision")
picked = next(d for d in open_decisions if d.id == chosen)
with st.container(border=True):
    st.caption(
        render.md_escape(f"Changes {len(picked.record_ids)} records: {', '.join(picked.record_ids[:20])}")
    )
    left, right = st.columns(2)
    left.button("Undo this decision", key="log_undo", on_click=undo, args=(picked.id, None))
    if picked.batch:
        right.button(
            "Undo the whole bulk action", key="log_undo_batch", on_click=undo, args=(picked.id, picked.batch)
        )
