"""Clusters & diversity: the 2-D map, the cluster table, and diversity of the whole vs. accepted set.

Everyone may look. Clusters get distinct colours and their names are written on the map; labels and
duplicate decisions keep the colours of the review buttons. Selecting points (box or lasso) or a
cluster in the table opens those records in the review queue, and a selection can be labelled at
once (one undoable batch).
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from curation.analysis.results import map_label_positions
from curation.errors import ConfirmationRequiredError, PairsmithError
from curation.model import LABEL_BAD, LABEL_GOOD
from curation.review.answers import bulk_label
from curation.review.auth import Action
from curation.review.decisions import undo_batch
from curation.review.queue import QueueFilters, ReviewQueue
from curation.review.reasons import reason_tags
from ui import render, services, state
from ui.state import Keys

COLOURS = {"cluster": "cluster", "label": "label", "duplicate status": "duplicates"}

session = services.require(Action.view_clusters)
store = session.store
st.title("Clusters & diversity")
services.show_flash()

if not services.has_analysis(session.project_dir):
    st.info(services.analysis_missing_message(session.project_dir))
    st.stop()

key = services.stamp(session)
try:
    listing = services.clusters(store, key)
except PairsmithError as exc:
    st.info(str(exc))
    st.stop()
names = {int(c["id"]): str(c["name"]) for c in listing["clusters"]}
topics = {int(c["id"]): int(c.get("topic", c["id"])) for c in listing["clusters"]}


def open_in_review(ids: list[str]) -> None:
    state.put(Keys.QUEUE, ReviewQueue.of_ids(ids))
    state.put(Keys.QUEUE_INDEX, 0)
    st.switch_page("app_pages/review.py")


def open_cluster(cluster_id: int) -> None:
    filters = QueueFilters(cluster=cluster_id)
    state.put(Keys.QUEUE_FILTERS, filters)
    state.put(Keys.QUEUE_ORDER, "import")
    state.put(Keys.QUEUE, None)  # the review page builds it from the filters
    st.switch_page("app_pages/review.py")


# --- bulk labels of a selection ---------------------------------------------------------------


def bulk(ids: list[str], confirm: bool = False) -> None:
    label = st.session_state.get("clusters_bulk_label") or LABEL_GOOD
    tags = st.session_state.get("clusters_bulk_reasons") or []
    try:
        result = bulk_label(
            store,
            ids,
            session.user.name,
            label,
            tags=tags,
            skip_reviewed=bool(st.session_state.get("clusters_bulk_skip", True)),
            confirm=confirm,
        )
    except ConfirmationRequiredError as exc:
        state.put(Keys.PENDING_BULK, {"ids": ids, "message": str(exc), "count": exc.count})
        return
    except PairsmithError as exc:
        state.flash("error", f"Not labelled: {exc}")
        return
    state.put(Keys.PENDING_BULK, None)
    if result.batch:
        state.put(
            Keys.LAST_BULK,
            {"batch": result.batch, "what": f"{len(result.labelled)} records labelled {label}"},
        )
    state.bump_revision()
    skipped = (
        f"; {len(result.skipped)} you had already reviewed were left as they were" if result.skipped else ""
    )
    state.flash("success", f"Labelled {len(result.labelled)} records {label}{skipped}.")


def undo_bulk() -> None:
    last = state.get(Keys.LAST_BULK) or {}
    try:
        undone = undo_batch(store, last["batch"], user=session.user.name)
    except PairsmithError as exc:
        state.flash("error", f"Not undone: {exc}")
        return
    state.put(Keys.LAST_BULK, None)
    state.bump_revision()
    state.flash("success", f"Undone: {last.get('what')} ({len(undone)} labels back as they were).")


def bulk_form(ids: list[str]) -> None:
    """Label every selected record at once (one undoable batch in the decision log)."""
    with st.container(border=True, key="clusters_bulk"):
        cols = st.columns([2, 3, 3, 2], vertical_alignment="bottom")
        label = cols[0].segmented_control(
            "Label the selection", [LABEL_GOOD, LABEL_BAD], default=LABEL_GOOD, key="clusters_bulk_label"
        )
        if label == LABEL_BAD:
            cols[1].pills(
                "Why bad?",
                [t.tag for t in reason_tags(store.get_project().guidelines)],
                selection_mode="multi",
                key="clusters_bulk_reasons",
            )
        cols[2].checkbox("Skip records I reviewed already", value=True, key="clusters_bulk_skip")
        cols[3].button(
            f"Label {len(ids)} records",
            key="clusters_bulk_apply",
            on_click=bulk,
            args=(ids,),
            disabled=not session.can(Action.review),
            width="stretch",
        )
    pending = state.get(Keys.PENDING_BULK)
    if pending:
        st.warning(render.md_escape(pending["message"]))
        yes, no = st.columns(2)
        yes.button(
            f"Label {pending['count']} records bad",
            key="clusters_bulk_confirm",
            type="primary",
            on_click=bulk,
            args=(pending["ids"], True),
        )
        no.button("Cancel", key="clusters_bulk_cancel", on_click=state.put, args=(Keys.PENDING_BULK, None))


# --- the map ------------------------------------------------------------------------------------

points = services.map_points(store, key)
top = st.columns([3, 5], vertical_alignment="center")
with top[0]:
    colour_by = st.segmented_control("Colour by", list(COLOURS), default="cluster", key="clusters_colour")
field = COLOURS[colour_by or "cluster"]
top[1].caption(
    f"{len(names)} clusters in {len(set(topics.values()))} topics (groups of similar clusters) · "
    "draw a box or lasso (or click a point) to open or label those records"
)
groups: dict[str, list[int]] = {}
for i, point in enumerate(points):
    groups.setdefault(str(point[field]), []).append(i)
ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
fixed = {"label": render.LABEL_COLOURS, "duplicates": render.DUPLICATE_COLOURS}.get(field)
palette = dict(zip([v for v, _ in ordered], render.distinct_colours(len(ordered)), strict=True))
figure = go.Figure()
for value, members in ordered:
    figure.add_trace(
        go.Scattergl(
            x=[points[i]["x"] for i in members],
            y=[points[i]["y"] for i in members],
            mode="markers",
            name=value[:40],
            marker={
                "size": 5 if len(points) > 5000 else 7,
                "opacity": 0.8,
                "color": (fixed or {}).get(value, palette[value]),
            },
            customdata=[points[i]["id"] for i in members],
            # Plotly hover labels understand a few HTML tags: record text is escaped so it shows literally.
            hovertext=[
                html.escape(f"{points[i]['cluster']}: {render.snippet(points[i]['input'], 120)}")
                for i in members
            ],
            hoverinfo="text",
        )
    )
if field == "cluster":  # 30 colours cannot all differ enough: the names are written on the map
    for spot in map_label_positions(points):
        figure.add_annotation(
            x=spot["x"],
            y=spot["y"],
            text=html.escape(render.snippet(spot["name"], 28)),
            showarrow=False,
            font={"size": 11, "color": "#1f2328"},
            bgcolor="rgba(255,255,255,0.75)",
            borderpad=2,
        )
figure.update_layout(
    height=540,
    margin={"l": 0, "r": 0, "t": 36, "b": 0},
    dragmode="lasso",
    showlegend=field != "cluster",
    # Above the plot, left: the toolbar sits top right and used to cover the legend.
    legend={"itemsizing": "constant", "orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
)
figure.update_xaxes(visible=False)
figure.update_yaxes(visible=False)
event = st.plotly_chart(
    figure,
    key="clusters_map",
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]},
)
selected = [str(p["customdata"]) for p in (event.selection.points if event else []) if p.get("customdata")]
if selected:
    st.caption(f"{len(selected)} records selected on the map")
    rows = {p["id"]: p for p in points}
    st.dataframe(
        [
            {
                "id": rid,
                "cluster": rows[rid]["cluster"],
                "label": rows[rid]["label"],
                "input": rows[rid]["input"],
            }
            for rid in selected[:500]
            if rid in rows
        ],
        hide_index=True,
        width="stretch",
        height=min(36 * (min(len(selected), 6) + 1) + 2, 250),
    )
    actions = st.columns([2, 5])
    if actions[0].button("Open these records in review", key="clusters_open_selection", type="primary"):
        open_in_review(selected)
    bulk_form(selected)
last_bulk = state.get(Keys.LAST_BULK)
if last_bulk:
    st.button(
        f"Undo: {last_bulk['what']}", key="clusters_bulk_undo", on_click=undo_bulk, icon=":material/undo:"
    )


# --- the cluster table ---------------------------------------------------------------------------

st.header("Clusters")
table = [
    {
        "id": c["id"],
        "name": c["name"],
        "size": c["size"],
        "share": f"{c['share']:.1%}",
        "labels": ", ".join(f"{k}: {v}" for k, v in c.get("label_mix", {}).items()) or "not reviewed",
        "quality": ", ".join(f"{k}: {v}" for k, v in c.get("quality_mix", {}).items()),
    }
    for c in listing["clusters"]
]
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="clusters_table",
)
rows_picked = picked.selection.rows if picked else []
if rows_picked:
    chosen = table[rows_picked[0]]
    if st.button(f"Review cluster {chosen['id']}: {chosen['name']}", key="clusters_open_cluster"):
        open_cluster(int(chosen["id"]))


# --- diversity ----------------------------------------------------------------------------------

st.header("Diversity: whole set vs. accepted")
try:
    whole = services.diversity(store, key, "all", names, topics)
    accepted = services.diversity(store, key, "accepted", names, topics)
except PairsmithError as exc:
    st.info(str(exc))
    st.stop()


def figures(column: st.delta_generator.DeltaGenerator, title: str, data: dict) -> None:
    column.subheader(title)
    column.metric("Records", data["records"])
    topics_total = data.get("topics_total") or data["clusters_total"]
    column.metric(
        "Clusters covered",
        f"{data['clusters_covered']} of {data['clusters_total']}",
        help=f"The {data['clusters_total']} clusters form {topics_total} topics (groups of similar clusters); "
        "the hints judge both.",
    )
    column.metric("Balance (1 = even)", "–" if data["balance"] is None else f"{data['balance']:.2f}")
    column.metric(
        "Vendi score (effective distinct records)",
        "–" if data["vendi_score"] is None else f"{data['vendi_score']:.1f}",
    )
    share = data.get("largest_cluster_share")
    column.metric("Largest cluster's share", "–" if share is None else f"{share:.0%}")
    if data.get("hints_withheld"):
        column.caption(render.md_escape(data["hints_withheld"]))
    for hint in data["hints"][:10]:
        column.caption(render.md_escape(hint))


left, right = st.columns(2)
figures(left, "Whole set", whole)
figures(right, "Accepted (labelled good)", accepted)
if accepted["records"] == 0:
    st.caption("No record is labelled good yet: the accepted set fills as review goes on.")

# Structured outputs: how often each allowed value of the schema's enum fields is answered.
for field_name, coverage in whole.get("output_values", {}).items():
    accepted_counts = accepted.get("output_values", {}).get(field_name, {}).get("counts", {})
    st.subheader(f"Output field '{field_name}'")
    if coverage.get("hints_withheld"):
        st.caption(render.md_escape(coverage["hints_withheld"]))
    st.dataframe(
        [
            {
                "value": value,
                "whole set": count,
                "accepted": accepted_counts.get(value, 0),
                "flag": "over-represented"
                if value in coverage["over_represented"]
                else "thin"
                if value in coverage["thin"]
                else "",
            }
            for value, count in coverage["counts"].items()
        ],
        hide_index=True,
    )
