"""Clusters & diversity: the 2-D map, the cluster table, and diversity of the whole vs. accepted set.

Everyone may look; selecting points on the map (box or lasso) or a cluster in the table opens
those records in the review queue.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from curation.errors import PairsmithError
from curation.review.auth import Action
from curation.review.queue import QueueFilters, ReviewQueue
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


# --- the map ------------------------------------------------------------------------------------

points = services.map_points(store, key)
colour_by = st.segmented_control("Colour by", list(COLOURS), default="cluster", key="clusters_colour")
field = COLOURS[colour_by or "cluster"]
figure = go.Figure()
groups: dict[str, list[int]] = {}
for i, point in enumerate(points):
    groups.setdefault(str(point[field]), []).append(i)
for value, members in sorted(groups.items(), key=lambda item: -len(item[1])):
    figure.add_trace(
        go.Scattergl(
            x=[points[i]["x"] for i in members],
            y=[points[i]["y"] for i in members],
            mode="markers",
            name=value[:40],
            marker={"size": 5 if len(points) > 5000 else 7, "opacity": 0.75},
            customdata=[points[i]["id"] for i in members],
            # Plotly hover labels understand a few HTML tags: record text is escaped so it shows literally.
            hovertext=[html.escape(render.snippet(points[i]["input"], 120)) for i in members],
            hoverinfo="text",
        )
    )
figure.update_layout(
    height=560, margin={"l": 0, "r": 0, "t": 10, "b": 0}, dragmode="lasso", legend={"itemsizing": "constant"}
)
figure.update_xaxes(visible=False)
figure.update_yaxes(visible=False)
event = st.plotly_chart(
    figure, key="clusters_map", on_select="rerun", selection_mode=("points", "box", "lasso")
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
    )
    if st.button("Open these records in review", key="clusters_open_selection", type="primary"):
        open_in_review(selected)
else:
    st.caption("Draw a box or lasso on the map (or click a point) to open those records.")


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
    column.metric("Clusters covered", f"{data['clusters_covered']} of {data['clusters_total']}")
    column.metric("Balance (1 = even)", "–" if data["balance"] is None else f"{data['balance']:.2f}")
    column.metric(
        "Vendi score (effective distinct records)",
        "–" if data["vendi_score"] is None else f"{data['vendi_score']:.1f}",
    )
    share = data.get("largest_cluster_share")
    column.metric("Largest cluster's share", "–" if share is None else f"{share:.0%}")
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
