"""Duplicates (owners): each group side by side with its tier and similarity; keep one, keep all,
mark as conflict; bulk-resolve exact duplicates. A decision that drops more than ten records asks
first; every decision can be undone here or on the Decision log page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from curation import metadata_keys
from curation.errors import ConfirmationRequiredError, PairsmithError
from curation.review.auth import Action
from curation.review.decisions import undo_batch, undo_decision
from curation.review.duplicates import (
    bulk_resolve_exact,
    clear_resolution,
    duplicate_page,
    keep_all,
    keep_one,
    mark_conflict,
)
from ui import render, services, state
from ui.state import Keys

GROUPS_PER_PAGE = 10
ACTIONS = {
    "keep_one": ("Kept one", keep_one),
    "keep_all": ("Kept all", keep_all),
    "conflict": ("Marked as conflict", mark_conflict),
    "clear": ("Cleared", clear_resolution),
}

session = services.require(Action.analyze)
store, user = session.store, session.user.name
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


# --- deciding, confirming, undoing (button callbacks) --------------------------------------------


def decide(action: str, *args: Any, confirm: bool = False) -> None:
    """Run one decision; a large drop is parked for confirmation instead of being made."""
    name, call = ACTIONS[action]
    kwargs: dict[str, Any] = {"user": user}
    if action in ("keep_one", "conflict"):
        kwargs["confirm"] = confirm
    try:
        result = call(store, *args, **kwargs)
    except ConfirmationRequiredError as exc:
        state.put(Keys.PENDING_DROP, {"action": action, "args": list(args), "message": str(exc), "examples": exc.examples, "count": exc.count})  # fmt: skip
        return
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.put(Keys.PENDING_DROP, None)
    state.put(Keys.LAST_DECISION, {"decision": result.decision_id, "what": f"{name} in group {result.group}"})
    state.bump_revision()
    state.flash(
        "success", f"{name}: group {result.group} kept {len(result.kept)}, dropped {len(result.dropped)}."
    )


def bulk(confirm: bool = False) -> None:
    try:
        result = bulk_resolve_exact(store, user=user, confirm=confirm)
    except ConfirmationRequiredError as exc:
        state.put(Keys.PENDING_DROP, {"action": "bulk", "args": [], "message": str(exc), "examples": exc.examples, "count": exc.count})  # fmt: skip
        return
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.put(Keys.PENDING_DROP, None)
    state.put(Keys.BULK_SKIPPED, [s.model_dump() for s in result.skipped])
    if result.batch:
        state.put(Keys.LAST_DECISION, {"batch": result.batch, "what": f"bulk resolve of {len(result.resolved)} groups"})  # fmt: skip
    state.bump_revision()
    skipped = f"; skipped {len(result.skipped)} (reasons below)" if result.skipped else ""
    state.flash(
        "success",
        f"Resolved {len(result.resolved)} exact groups: kept the suggested keeper, dropped {result.dropped} "
        f"copies{skipped}.",
    )


def confirm_pending() -> None:
    pending = state.get(Keys.PENDING_DROP) or {}
    if pending.get("action") == "bulk":
        bulk(confirm=True)
    elif pending:
        decide(pending["action"], *pending["args"], confirm=True)


def undo_last() -> None:
    last = state.get(Keys.LAST_DECISION) or {}
    try:
        if last.get("batch"):
            undone = undo_batch(store, last["batch"], user=user)
        else:
            undone = undo_decision(store, last["decision"], user=user)
    except PairsmithError as exc:
        state.flash("error", f"Not undone: {exc}")
        return
    state.put(Keys.LAST_DECISION, None)
    state.bump_revision()
    records = len({rid for d in undone for rid in d.record_ids})
    state.flash("success", f"Undone: {last.get('what')} ({records} records back as they were).")


pending = state.get(Keys.PENDING_DROP)
if pending:
    with st.container(border=True, key="dup_confirm_box"):
        st.warning(render.md_escape(pending["message"]))
        st.caption("For example: " + render.md_escape(", ".join(pending["examples"])))
        yes, no = st.columns(2)
        yes.button(
            f"Drop {pending['count']} records", key="dup_confirm", type="primary", on_click=confirm_pending
        )
        no.button("Cancel", key="dup_cancel", on_click=state.put, args=(Keys.PENDING_DROP, None))

last = state.get(Keys.LAST_DECISION)
if last:
    st.button(f"Undo: {last['what']}", key="dup_undo", on_click=undo_last, icon=":material/undo:")
for skipped in state.get(Keys.BULK_SKIPPED) or []:
    st.caption(render.md_escape(f"Skipped group {skipped['group']}: {skipped['reason']}"))


# --- the groups ---------------------------------------------------------------------------------

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

page_number = st.number_input("Page", min_value=1, value=1, key="dup_page")
shown = duplicate_page(
    store,
    groups,
    tier=None if tier == "all" else tier,
    undecided_only=undecided_only,
    page=int(page_number) - 1,
    per_page=GROUPS_PER_PAGE,
)
st.caption(f"{shown.matching} groups · page {shown.page + 1} of {shown.pages}")

for group in shown.groups:
    gid = group["group"]
    members = [shown.records[m["id"]] for m in group["records"] if m["id"] in shown.records]
    decisions = {r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in members}
    decided = any(decisions.values())
    with st.container(border=True, key=f"dup_group_{gid}"):
        st.markdown(
            f"**Group {render.md_escape(gid)}** · tier {render.md_escape(str(group['tier']))} · "
            f"similarity {float(group['score']):.3f}" + (" · decided" if decided else "")
        )
        # Every member is a copy of the keeper: show how close each one is to it, side by side.
        links = {p["a"] if p["b"] == group.get("keeper") else p["b"]: p for p in group.get("pairs", [])}
        columns = st.columns(min(len(members), 4) or 1)
        for n, record in enumerate(members):
            with columns[n % len(columns)]:
                keeper = " (suggested keeper)" if record.id == group.get("keeper") else ""
                link = links.get(record.id)
                if link:
                    output = link.get("output_score")
                    keeper = f" · {link['tier']} to the keeper: input {float(link['score']):.2f}" + (
                        f", output {float(output):.2f}" if output is not None else ""
                    )
                decision = decisions.get(record.id)
                st.caption(f"{render.md_escape(record.id)}{keeper}" + (f" · {decision}" if decision else ""))
                st.text(render.snippet(record.input_text, 400))
                render.output_block(record.output)
                st.button(
                    "Keep this one",
                    key=f"dup_keep_{gid}_{record.id}",
                    on_click=decide,
                    args=("keep_one", gid, record.id),
                )
        actions = st.columns(3)
        actions[0].button("Keep all", key=f"dup_keep_all_{gid}", on_click=decide, args=("keep_all", gid))
        actions[1].button(
            "Mark as conflict", key=f"dup_conflict_{gid}", on_click=decide, args=("conflict", gid)
        )
        actions[2].button(
            "Clear decision",
            key=f"dup_clear_{gid}",
            on_click=decide,
            args=("clear", gid),
            disabled=not decided,
        )
