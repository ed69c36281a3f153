"""Duplicates (owners): each group side by side with its tier and similarity; keep one, keep all,
mark as conflict; bulk-resolve exact duplicates."""

from __future__ import annotations

import streamlit as st

from curation import metadata_keys
from curation.errors import PairsmithError
from curation.review.auth import Action
from curation.review.duplicates import bulk_resolve_exact, clear_resolution, keep_all, keep_one, mark_conflict
from curation.store.base import RecordQuery
from ui import render, services, state

GROUPS_PER_PAGE = 10

session = services.require(Action.analyze)
store = session.store
st.title("Duplicates")
services.show_flash()

if not services.has_analysis(session.project_dir):
    st.info(services.analysis_missing_message(session.project_dir))
    st.stop()

try:
    doc = services.artifact(
        str(session.project_dir), "duplicates", services.analysis_mtime(session.project_dir)
    )
except PairsmithError as exc:
    st.info(str(exc))
    st.stop()
groups = doc["groups"]
if not groups:
    st.success("Analysis found no duplicates.")
    st.stop()


def act(name: str, call: object, *args: object) -> None:
    """Run one resolution (a button callback) and leave a message for the next run."""
    try:
        result = call(store, *args)  # type: ignore[operator]
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.bump_revision()
    state.flash(
        "success", f"{name}: group {result.group} kept {len(result.kept)}, dropped {len(result.dropped)}."
    )


def bulk() -> None:
    try:
        results = bulk_resolve_exact(store)
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.bump_revision()
    dropped = sum(len(r.dropped) for r in results)
    state.flash(
        "success",
        f"Resolved {len(results)} exact groups: kept the suggested keeper, dropped {dropped} copies.",
    )


tiers = sorted({g["tier"] for g in groups})
counts = {t: sum(1 for g in groups if g["tier"] == t) for t in tiers}
st.caption(" · ".join(f"{counts[t]} {t} groups" for t in tiers))
top = st.columns([2, 2, 3])
tier = top[0].selectbox("Tier", ["all", *tiers], key="dup_tier")
undecided_only = top[1].toggle("Undecided only", value=False, key="dup_undecided")
top[2].button(
    "Bulk-resolve exact duplicates (keep the suggested keeper)",
    key="dup_bulk_exact",
    on_click=bulk,
    disabled="exact" not in counts,
)

shown = [g for g in groups if tier == "all" or g["tier"] == tier]
# Only the members of the groups on screen are read from the store (one query per page).
pages = max(1, -(-len(shown) // GROUPS_PER_PAGE))
page = st.number_input("Page", min_value=1, max_value=pages, value=1, key="dup_page") - 1
on_page = list(services.page_of(shown, page, GROUPS_PER_PAGE)) if not undecided_only else shown
ids = [m["id"] for g in on_page for m in g["records"]]
records = {r.id: r for r in store.query_records(RecordQuery(ids=ids)).records} if ids else {}
if undecided_only:
    on_page = [
        g
        for g in on_page
        if not any(
            records.get(m["id"]) and records[m["id"]].metadata.get(metadata_keys.DUP_RESOLUTION)
            for m in g["records"]
        )
    ][:GROUPS_PER_PAGE]
st.caption(f"{len(shown)} groups · page {page + 1} of {pages}")

for group in on_page:
    gid = group["group"]
    members = [records[m["id"]] for m in group["records"] if m["id"] in records]
    decisions = {r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in members}
    decided = any(decisions.values())
    with st.container(border=True, key=f"dup_group_{gid}"):
        st.markdown(
            f"**Group {render.md_escape(gid)}** · tier {render.md_escape(str(group['tier']))} · "
            f"similarity {float(group['score']):.3f}" + (" · decided" if decided else "")
        )
        columns = st.columns(min(len(members), 4) or 1)
        for n, record in enumerate(members):
            with columns[n % len(columns)]:
                keeper = " (suggested keeper)" if record.id == group.get("keeper") else ""
                decision = decisions.get(record.id)
                st.caption(f"{render.md_escape(record.id)}{keeper}" + (f" · {decision}" if decision else ""))
                st.text(render.snippet(record.input_text, 400))
                render.output_block(record.output)
                st.button(
                    "Keep this one",
                    key=f"dup_keep_{gid}_{record.id}",
                    on_click=act,
                    args=("Kept one", keep_one, gid, record.id),
                )
        actions = st.columns(3)
        actions[0].button(
            "Keep all", key=f"dup_keep_all_{gid}", on_click=act, args=("Kept all", keep_all, gid)
        )
        actions[1].button(
            "Mark as conflict",
            key=f"dup_conflict_{gid}",
            on_click=act,
            args=("Marked as conflict", mark_conflict, gid),
        )
        actions[2].button(
            "Clear decision",
            key=f"dup_clear_{gid}",
            on_click=act,
            args=("Cleared", clear_resolution, gid),
            disabled=not decided,
        )
