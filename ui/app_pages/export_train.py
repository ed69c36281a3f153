"""Export & train (owners): what the clean set will contain, then one click to export, train and
evaluate as a background job (training.jobs) with live progress and logs.

The job lives in the project (``DIR/jobs/jobs.db``), not in the browser session: a refresh, or
another tab, finds it again, and it can be cancelled from here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from curation.errors import PairsmithError
from curation.review.auth import Action, require_owner_for
from training import jobs
from training.runs import new_run_dir
from ui import render, services, state
from ui.state import Keys

POLL_SECONDS = 2.0
ANALYSIS_KIND = "analyze"  # analysis jobs show on the Project & import page

session = services.require(Action.train)
store, user = session.store, session.user
project_dir = session.project_dir
st.title("Export & train")
services.show_flash()

# --- what the clean set will contain -------------------------------------------------------------

include_unreviewed = st.toggle(
    "Also include records nobody reviewed (still deduplicated and filtered)",
    value=False,
    key="train_unreviewed",
)
preview: dict[str, Any] = services.clean_set_preview(store, services.stamp(session), include_unreviewed)
collapse = preview.get("collapse")
if collapse:
    # Said first, before any figure: dedup or quality flags would drop a large share of the data.
    st.warning(render.md_escape(collapse["message"]), icon="⚠️")
    st.dataframe(
        [
            {"reason": r["reason"], "records": r["records"], "example": e["id"], "input": e["input"]}
            for r in collapse["reasons"]
            for e in r["examples"]
        ],
        hide_index=True,
        width="stretch",
    )
cols = st.columns(3)
cols[0].metric("Records", preview["records"])
cols[1].metric("Would be exported", preview["included"])
cols[2].metric("Left out", preview["excluded"])
left, right = st.columns(2)
with left:
    st.caption("Included, by how they got in")
    st.dataframe(
        [{"as": k, "records": v} for k, v in preview["included_by"].items()], hide_index=True, width="stretch"
    )
with right:
    st.caption("Left out, by reason")
    st.dataframe(
        [{"reason": k, "records": v} for k, v in preview["excluded_by"].items()],
        hide_index=True,
        width="stretch",
    )
figures = preview.get("diversity")
if figures:
    st.caption(
        f"Diversity of the exported set: {figures['clusters_covered']} of {figures['clusters_total']} clusters, "
        f"balance {figures['balance'] if figures['balance'] is not None else '–'}, "
        f"Vendi score {figures['vendi_score'] if figures['vendi_score'] is not None else '–'}"
    )
elif not services.has_analysis(project_dir):
    st.caption("Diversity figures appear after analysis (`pairsmith analyze DIR`).")
splits = preview["splits"]
st.caption("Splits: " + ", ".join(f"{name} {count}" for name, count in splits["counts"].items()))
for warning in preview["warnings"]:
    st.warning(render.md_escape(warning))
if preview["blocked"]:
    st.error(render.md_escape(preview["blocked"]))


# --- the job -----------------------------------------------------------------------------------


def latest_job() -> dict[str, Any] | None:
    """This session's job, else the project's newest one (so a refresh finds a running job)."""
    return jobs.latest_job(project_dir, exclude=frozenset({ANALYSIS_KIND}), job_id=state.get(Keys.JOB_ID))


def start() -> None:
    try:
        require_owner_for(store, "export and train", user)
        run_dir = new_run_dir(project_dir)
        params = {"run_dir": str(run_dir), "include_unreviewed": include_unreviewed}
        # The job checks again that this person may ship, and on Argilla opens the project with
        # their own key (passed through the job's environment only, never stored).
        job_id = jobs.start_job(project_dir, "ship", params, user=user.name, api_key=state.api_key())
    except PairsmithError as exc:
        state.flash("error", f"Not started: {exc}")
        return
    state.put(Keys.JOB_ID, job_id)
    state.flash("success", f"Started job {job_id}: export → train → evaluate into {run_dir}.")


def cancel(job_id: str) -> None:
    try:
        jobs.cancel_job(project_dir, job_id)
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.flash("warning", f"Job {job_id} cancelled; *Resume* continues where it stopped.")


def resume(job_id: str) -> None:
    try:
        jobs.resume_job(project_dir, job_id, user=user.name, api_key=state.api_key())
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.put(Keys.JOB_ID, job_id)


st.header("Export → train → evaluate")
job = latest_job()
active = bool(job and job["status"] in jobs.ACTIVE)
st.button(
    "Export, train and evaluate",
    key="train_start",
    type="primary",
    on_click=start,
    disabled=active or bool(preview["blocked"]),
    help="Runs in the background; you can leave this page or refresh it.",
)


def job_view(job_id: str) -> None:
    current = jobs.get_job(project_dir, job_id)
    running = current["status"] in jobs.ACTIVE
    render.job_progress(
        current, jobs.log_tail(current["log_path"]), expanded=running or current["status"] == "failed"
    )
    st.caption(
        f"Job {current['id']} ({current['kind']}) · started {current['started'] or current['created']}"
    )
    if running:
        st.button("Cancel", key="train_cancel", on_click=cancel, args=(job_id,))
    elif current["status"] in ("failed", "cancelled"):
        if current["status"] == "failed":
            st.error(render.md_escape(f"Job {current['id']} failed: {current['message']}"))
        if current["resumable"]:
            st.button("Resume", key="train_resume", on_click=resume, args=(job_id,))
        else:
            st.caption("A resume would fail the same way: fix the cause and start a new job.")
    elif current["status"] == "succeeded" and current["result"]:
        st.success(f"Done: {render.as_cell(current['result'].get('run_dir', ''))}. See Runs & evaluation.")
    if running != active:
        st.rerun()  # the job finished (or started) while polling: redraw the page without the timer


if job is not None:
    st.fragment(job_view, run_every=POLL_SECONDS if active else None)(job["id"])
else:
    st.caption("No job has run in this project yet.")
