"""Duplicates (owners): each group with its size, tier and similarity, largest or riskiest first; the
keeper first, and each other member with the words that differ from the keeper marked; large groups
as one line per member. Keep one, keep all, mark as conflict; bulk-resolve exact duplicates. A
decision that drops more than ten records asks first; every decision can be undone here or on the
Decision log page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from curation import metadata_keys
from curation.errors import ConfirmationRequiredError, PairsmithError
from curation.model import Record
from curation.review.auth import Action
from curation.review.decisions import undo_batch, undo_decision
from curation.review.diff import changed_share, output_diff
from curation.review.duplicates import (
    GROUP_ORDERS,
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
COMPACT_ABOVE = 4  # groups with more members get one line per member (columns would be too narrow)
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
        state.put(
            Keys.PENDING_DROP,
            {
                "action": action,
                "args": list(args),
                "message": str(exc),
                "examples": exc.examples,
                "count": exc.count,
            },
        )
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
        state.put(
            Keys.PENDING_DROP,
            {"action": "bulk", "args": [], "message": str(exc), "examples": exc.examples, "count": exc.count},
        )
        return
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.put(Keys.PENDING_DROP, None)
    state.put(Keys.BULK_SKIPPED, [s.model_dump() for s in result.skipped])
    if result.batch:
        state.put(
            Keys.LAST_DECISION,
            {"batch": result.batch, "what": f"bulk resolve of {len(result.resolved)} groups"},
        )
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


def keeper_of(group: dict[str, Any], members: list[Record], decisions: dict[str, Any]) -> Record:
    """The member the others are compared with: the one a reviewer kept, else the suggested keeper."""
    kept = [r for r in members if decisions.get(r.id) == "keep"]
    suggested = [r for r in members if r.id == group.get("keeper")]
    return (kept if len(kept) == 1 else suggested or members)[0]


def link_caption(group: dict[str, Any], record: Record) -> str:
    """How this member is tied to the suggested keeper (analysis links every member to it): the tier
    and the input and output similarity, when analysis recorded the pair."""
    keeper = group.get("keeper")
    for pair in group.get("pairs", []):
        if {pair.get("a"), pair.get("b")} == {record.id, keeper}:
            output = pair.get("output_score")
            return f"{pair.get('tier', group['tier'])} to the keeper: input {float(pair['score']):.2f}" + (
                f", output {float(output):.2f}" if output is not None else ""
            )
    return ""


def differences(record: Record, keeper: Record, limit: int) -> None:
    """The member's input and output with the words that differ from the keeper's marked."""
    for part, mine, theirs in (
        ("input", record.input_text, keeper.input_text),
        ("output", record.output, keeper.output),
    ):
        mine, theirs = render.snippet(mine, limit), render.snippet(theirs, limit)
        if mine == theirs:
            st.caption(f"{part}: same as the keeper")
            continue
        parts = output_diff(theirs, mine, "word")
        st.caption(f"{part}: {changed_share(parts):.0%} of words differ from the keeper")
        render.inline_diff(parts, mine)


def decision_buttons(gid: str, record: Record) -> None:
    st.button(
        "Keep this one", key=f"dup_keep_{gid}_{record.id}", on_click=decide, args=("keep_one", gid, record.id)
    )


tiers = sorted({g["tier"] for g in groups})
counts = {t: sum(1 for g in groups if g["tier"] == t) for t in tiers}
st.caption(
    " · ".join(f"{counts[t]} {t} groups" for t in tiers)
    + f" · {sum(len(g['records']) for g in groups)} records"
)
top = st.columns([2, 4, 2], vertical_alignment="bottom")
tier = top[0].selectbox("Tier", ["all", *tiers], key="dup_tier")
order = top[1].segmented_control(
    "Order",
    list(GROUP_ORDERS),
    default="size",
    format_func=GROUP_ORDERS.get,
    key="dup_order",
    help="Riskiest: conflicts, then semantic and near groups, outputs that differ and weak links first.",
)
undecided_only = top[2].toggle("Undecided only", value=False, key="dup_undecided")
paging = st.columns([1, 2, 2, 4], vertical_alignment="bottom")
page_number = paging[0].number_input("Page", min_value=1, value=1, key="dup_page")
compact_all = paging[1].toggle(
    "Compact view",
    value=False,
    key="dup_compact",
    help=f"One line per member; groups of more than {COMPACT_ABOVE} members always are.",
)
paging[3].button(
    "Bulk-resolve exact duplicates (keep the suggested keeper)",
    key="dup_bulk_exact",
    on_click=bulk,
    disabled="exact" not in counts,
    width="stretch",
)
shown = duplicate_page(
    store,
    groups,
    tier=None if tier == "all" else tier,
    undecided_only=undecided_only,
    page=int(page_number) - 1,
    per_page=GROUPS_PER_PAGE,
    order=order or "size",
    conflicts=doc.get("conflicts", []),
)
paging[2].caption(f"{shown.matching} groups · page {shown.page + 1} of {shown.pages}")

for group in shown.groups:
    gid = group["group"]
    members = [shown.records[m["id"]] for m in group["records"] if m["id"] in shown.records]
    if not members:
        continue
    decisions = {r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in members}
    decided = any(decisions.values())
    keeper = keeper_of(group, members, decisions)
    others = [r for r in members if r.id != keeper.id]
    with st.container(border=True, key=f"dup_group_{gid}"):
        st.markdown(
            f"**Group {render.md_escape(gid)}** · {len(members)} records · tier {render.md_escape(str(group['tier']))}"
            f" · similarity {float(group['score']):.3f}" + (" · decided" if decided else "")
        )
        if compact_all or len(members) > COMPACT_ABOVE:
            line = st.columns([3, 8, 2], vertical_alignment="center")
            line[0].caption(
                render.md_escape(
                    f"{keeper.id} · keeper" + (f" · {decisions[keeper.id]}" if decisions[keeper.id] else "")
                )
            )
            line[1].text(render.snippet(f"{keeper.input_text} → {keeper.output}", 160))
            with line[2]:
                decision_buttons(gid, keeper)
            for record in others:
                line = st.columns([3, 8, 2], vertical_alignment="center")
                decision = decisions.get(record.id)
                link = link_caption(group, record)
                line[0].caption(
                    render.md_escape(" · ".join(x for x in (record.id, link, decision or "") if x))
                )
                with line[1]:
                    parts = output_diff(
                        render.snippet(keeper.input_text, 160), render.snippet(record.input_text, 160)
                    )
                    render.inline_diff(parts, record.input_text)
                with line[2]:
                    decision_buttons(gid, record)
        else:
            columns = st.columns(len(members))
            for column, record in zip(columns, [keeper, *others], strict=True):
                with column:
                    decision = decisions.get(record.id)
                    if record is keeper:
                        role = (
                            "suggested keeper"
                            if record.id == group.get("keeper")
                            else "compared with the others"
                        )
                        st.caption(
                            render.md_escape(f"{record.id} · {role}" + (f" · {decision}" if decision else ""))
                        )
                        render.text_block(render.snippet(record.input_text, 400), key=f"dup_show_{record.id}")
                        render.output_block(record.output)
                    else:
                        link = link_caption(group, record)
                        st.caption(
                            render.md_escape(" · ".join(x for x in (record.id, link, decision or "") if x))
                        )
                        differences(record, keeper, 400)
                    decision_buttons(gid, record)
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
