"""Runs & evaluation: the list of runs with their status, a failed or cancelled run's error and log
(and *Resume* where it can work), their metrics, and base vs. tuned outputs per test record.

Everyone may look (annotators read-only). A run is a folder under ``DIR/runs/`` with
``eval/report.json`` (training.evaluate); runs still in progress show their stages.
"""

from __future__ import annotations

import streamlit as st

from curation.errors import PairsmithError
from curation.files import ProjectPaths
from curation.review.auth import Action
from training import jobs
from training.report import load_report
from training.runs import run_details, run_dirs, run_summaries
from ui import render, services, state

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

rows = run_summaries(session.project_dir)
st.dataframe(rows, hide_index=True, width="stretch")


def resume(job_id: str) -> None:
    try:
        jobs.resume_job(session.project_dir, job_id, user=session.user.name, api_key=state.api_key())
    except PairsmithError as exc:
        state.flash("error", f"Not resumed: {exc}")
        return
    state.flash("success", f"Job {job_id} resumed; it continues where it stopped.")


chosen_name = st.selectbox("Run", [r.name for r in runs], key="runs_run")
run = runs_dir / chosen_name
details = run_details(session.project_dir, run)
if details["status"] in ("failed", "cancelled", "interrupted"):
    where = f" in {details['failed_stage']}" if details.get("failed_stage") else ""
    st.error(
        render.md_escape(
            f"Run {chosen_name} {details['status']}{where}: {details['error'] or 'no error recorded'}"
        )
    )
    if details["log"]:
        with st.expander("Log", expanded=True):
            st.code(jobs.log_tail(details["log"], lines=60) or "(empty log)", language=None)
    if details["job"] and details["resumable"] and session.can(Action.train):
        st.button("Resume", key="runs_resume", on_click=resume, args=(details["job"],))
    elif details["job"] and not details["resumable"]:
        st.caption("A resume would fail the same way: fix the cause and start a new run.")
elif details["status"] in jobs.ACTIVE:
    st.info(f"Run {chosen_name} is {details['status']}; follow it on the Export & train page.")
try:
    report = load_report(run)
except PairsmithError:
    st.caption("This run has not been evaluated yet.")
    st.stop()

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
