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
from ui.state import Keys

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


def compare_two_runs(names: list[str]) -> None:
    """What `pairsmith runs compare A B` shows, for two evaluated runs of this project."""
    if len(names) < 2:
        st.caption("Evaluate a second run to compare two runs side by side.")
        return
    left, right = st.columns(2)
    name_a = left.selectbox("Run A", names, index=1, key=Keys.W_COMPARE_A)
    name_b = right.selectbox("Run B (differences are B − A)", names, index=0, key=Keys.W_COMPARE_B)
    if name_a == name_b:
        st.info("Choose two different runs.")
        return
    run_a, run_b = runs_dir / name_a, runs_dir / name_b
    mtimes = (services.report_mtime(run_a), services.report_mtime(run_b))
    result = services.safe(services.run_comparison, str(run_a), str(run_b), mtimes)
    if result is None:
        return
    for note in result["notes"]:
        st.warning(render.md_escape(note))
    data_a, data_b = result["data"]["a"] or {}, result["data"]["b"] or {}
    st.subheader("Data")
    st.dataframe(
        [{"": key, "A": data_a.get(key), "B": data_b.get(key)} for key in ("records", "included", "excluded")]
        + [
            {"": split, "A": data_a.get("counts", {}).get(split), "B": data_b.get("counts", {}).get(split)}
            for split in ("train", "validation", "test")
        ],
        hide_index=True,
        width="stretch",
    )
    if result["removed"]:
        st.caption("Removed by curation, by reason")
        st.dataframe(result["removed"], hide_index=True, width="stretch")
    if result["diversity"]:
        st.caption("Diversity: all records (before curation) and the train split (after)")
        st.dataframe(result["diversity"], hide_index=True, width="stretch")
    st.subheader("Metrics")
    st.dataframe(
        [
            {
                "metric": row["metric"],
                "A": row["a"]["value"],
                "A 95% interval": render.interval(row["a"]),
                "B": row["b"]["value"],
                "B 95% interval": render.interval(row["b"]),
                "B − A": (row["difference"] or {}).get("value"),
                "B − A interval": render.interval(row["difference"]),
                "significant": row["significant"],
            }
            for row in result["metrics"]
        ],
        hide_index=True,
        width="stretch",
    )
    loss = result["validation_loss"]
    st.caption(
        f"{render.md_escape(result['interval'])} · validation loss A {render.as_cell(loss['a'])}, "
        f"B {render.as_cell(loss['b'])}"
    )
    st.subheader("Test inputs, largest differences first")
    for row in result["sample"]:
        with st.container(border=True):
            st.text(render.snippet(str(row.get("input", "")), 600))
            col_a, col_b, col_ref = st.columns(3)
            with col_a:
                render.output_block(
                    str(row.get("a") or ""), label=f"A ({render.as_cell(row.get('a_score'))})"
                )
            with col_b:
                render.output_block(
                    str(row.get("b") or ""), label=f"B ({render.as_cell(row.get('b_score'))})"
                )
            with col_ref:
                render.output_block(str(row.get("reference") or ""), label="Reference")


with st.expander("Compare two runs: data, diversity, metrics with intervals, outputs", expanded=False):
    compare_two_runs([row["run"] for row in rows if row.get("metric")])


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
            render.output_block(str(item.get("base") or "(base model not evaluated)"), label="Base model")
            st.caption(render.md_escape(render.as_cell(item.get("base_scores", {}))))
        with tuned:
            render.output_block(str(item.get("tuned", "")), label="Tuned adapter")
            st.caption(render.md_escape(render.as_cell(item.get("tuned_scores", {}))))
        with reference:
            render.output_block(str(item.get("reference", "")), label="Reference")
