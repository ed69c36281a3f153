"""Runs & evaluation: the list of runs, their metrics, and base vs. tuned outputs per test record.

Everyone may look (annotators read-only). A run is a folder under ``DIR/runs/`` with
``eval/report.json`` (training.evaluate); runs still in progress show their stages.
"""

from __future__ import annotations

import streamlit as st

from curation.files import ProjectPaths
from curation.review.auth import Action
from training.report import load_report
from training.runs import run_dirs, run_summary
from ui import render, services

PER_PAGE = 5

session = services.require(Action.view_runs)
st.title("Runs & evaluation")
services.show_flash()

runs_dir = ProjectPaths(session.project_dir).runs
runs = run_dirs(session.project_dir)
if not runs:
    st.info(
        "No runs yet. An owner starts one on the Export & train page (or `pairsmith ship DIR --out DIR/runs/NAME`)."
    )
    st.stop()

rows = [run_summary(run) for run in runs]
st.dataframe(rows, hide_index=True, width="stretch")

evaluated = [run for run, row in zip(runs, rows, strict=True) if row.get("metric")]
if not evaluated:
    st.caption("No run has been evaluated yet.")
    st.stop()
chosen_name = st.selectbox("Run", [r.name for r in evaluated], key="runs_run")
run = runs_dir / chosen_name
report = load_report(run)

st.header("Metrics")
names = sorted(set(report["base"]) | set(report["tuned"]))
st.dataframe(
    [
        {"metric": m, "base": report["base"].get(m), "tuned": report["tuned"].get(m)}
        for m in names
        if isinstance(report["base"].get(m, 0), int | float)
        or isinstance(report["tuned"].get(m, 0), int | float)
    ],
    hide_index=True,
    width="stretch",
)
st.caption(
    f"Primary metric: {render.md_escape(str(report['primary_metric']))} · {report.get('test_examples', '?')} test "
    f"examples · base model {render.md_escape(str(report.get('base_model', '?')))}"
)

st.header("Base vs. tuned, per test record")
records = report.get("records", [])
pages = max(1, -(-len(records) // PER_PAGE))
page = int(st.number_input("Page", min_value=1, max_value=pages, value=1, key="runs_page")) - 1
for item in services.page_of(records, page, PER_PAGE):
    with st.container(border=True):
        st.caption(f"record {render.md_escape(str(item.get('id')))}")
        st.text(render.snippet(str(item.get("input", "")), 600))
        base, tuned, reference = st.columns(3)
        with base:
            render.output_block(str(item.get("base", "")), label="Base model")
            st.caption(render.md_escape(render.as_cell(item.get("base_scores", {}))))
        with tuned:
            render.output_block(str(item.get("tuned", "")), label="Tuned adapter")
            st.caption(render.md_escape(render.as_cell(item.get("tuned_scores", {}))))
        with reference:
            render.output_block(str(item.get("reference", "")), label="Reference")
