"""Export & train (owners): the choices (unreviewed records, formats, split, base model), what the
clean set will contain with plain reasons and a dry-run download, then export, train and evaluate
as a background job (training.jobs), after a confirmation, with live progress and logs.

The job lives in the project (``DIR/jobs/jobs.db``), not in the browser session: a refresh, or
another tab, finds it again, and it can be cancelled from here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from curation.errors import PairsmithError
from curation.files import ProjectPaths
from curation.review.auth import Action, check_server_path, is_loopback, require_owner_for
from training import jobs
from training.base_model import DEFAULT_BASE_MODEL
from training.clean_set import plain_reason
from training.export import format_names
from training.export_config import FORMAT_DESCRIPTIONS
from training.runs import new_run_dir
from training.ship import project_ship_config, ship_config_with, write_ship_config
from ui import render, services, state
from ui.state import Keys

POLL_SECONDS = 2.0
ANALYSIS_KIND = "analyze"  # analysis jobs show on the Project & import page

session = services.require(Action.train)
store, user = session.store, session.user
project_dir = session.project_dir
st.title("Export & train")
services.show_flash()

# --- the choices --------------------------------------------------------------------------------

project_config = project_ship_config(project_dir)
OTHER_MODEL = "another model folder on this machine…"
# Reading a folder of the server's disk is for owners on a loopback server, as on Project & import.
server_paths = is_loopback(state.server_host()) or bool(state.import_roots())
with st.container(border=True, key="train_settings"):
    st.markdown("**What to export and how to train**")
    include_unreviewed = st.toggle(
        "Also include records nobody reviewed (still deduplicated and filtered)",
        value=project_config.export.include_unreviewed,
        key="train_unreviewed",
    )
    cols = st.columns([3, 3, 1, 1, 1], vertical_alignment="bottom")
    others = [f for f in format_names() if f != "hf"]
    formats = cols[0].multiselect(
        "Extra export formats",
        others,
        default=[f for f in project_config.export.formats if f in others],
        format_func=lambda f: FORMAT_DESCRIPTIONS.get(f, f),
        key="train_formats",
        help="The Hugging Face dataset (hf/) is always written: training reads it.",
    )
    models = list(dict.fromkeys([DEFAULT_BASE_MODEL, project_config.train.base_model]))
    model = cols[1].selectbox(
        "Base model",
        [*models, *([OTHER_MODEL] if server_paths else [])],
        format_func=lambda m: f"{m} (bundled)" if m == DEFAULT_BASE_MODEL else m,
        key="train_base_model",
        help="The bundled SmolLM2-135M-Instruct trains on a CPU in minutes.",
    )
    share = project_config.export.fractions.as_dict()
    fractions = {
        split: cols[n].number_input(
            f"{split.capitalize()} %",
            min_value=0,
            max_value=100,
            step=5,
            value=round(share[split] * 100),
            key=f"train_split_{split}",
        )
        / 100
        for n, split in ((2, "train"), (3, "validation"), (4, "test"))
    }
    if model == OTHER_MODEL:
        model = st.text_input("Model folder (a Hugging Face model with config.json)", key="train_model_path")
    select = int(
        st.number_input(
            "Train on only the best N records (0: all of them)",
            min_value=0,
            value=project_config.export.select or 0,
            step=50,
            key=Keys.W_SELECT,
            help="Picks the N training records that best cover the clusters and are of the highest quality "
            "(`--select N`, docs/export.md); validation and test stay the same. Needs the analysis.",
        )
    )
    st.caption(
        "Records with the same input stay in one split, and golden examples go to test (docs/export.md)."
    )
try:
    if model not in models:  # a folder typed in: only where this server lets owners read its disk
        model = str(
            check_server_path(
                model, user, loopback=is_loopback(state.server_host()), allowed_roots=state.import_roots()
            )
            if model.strip()
            else ""
        )
    config = ship_config_with(
        project_config,
        formats=formats,
        fractions=fractions,
        base_model=model,
        include_unreviewed=include_unreviewed,
        select=select,
    )
    settings_problem = None
except PairsmithError as exc:
    config, settings_problem = project_config, str(exc)
    st.error(render.md_escape(f"Not usable: {settings_problem}"))


# --- what the clean set will contain -------------------------------------------------------------

export_json = config.export.model_dump_json()
stamp = services.stamp(session)
preview: dict[str, Any] = services.clean_set_preview(store, stamp, export_json)
collapse = preview.get("collapse")
if collapse:
    # Said first, before any figure: dedup or quality flags would drop a large share of the data.
    st.warning(render.md_escape(collapse["message"]), icon="⚠️")
    st.dataframe(
        [
            {
                "reason": plain_reason(r["reason"]),
                "records": r["records"],
                "example": e["id"],
                "input": e["input"],
            }
            for r in collapse["reasons"]
            for e in r["examples"]
        ],
        hide_index=True,
        width="stretch",
    )
cols = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
cols[0].metric("Records", preview["records"])
cols[1].metric("Would be exported", preview["included"])
cols[2].metric("Left out", preview["excluded"])
cols[3].download_button(
    "Download the dry run (CSV)",
    data=lambda: services.dry_run_csv(store, stamp, export_json),
    file_name=f"{project_dir.name}-dry-run.csv",
    mime="text/csv",
    key="train_dry_run",
    on_click="ignore",
    icon=":material/download:",
    help="Every record, whether it would be exported, and why; nothing is written.",
)
left, right = st.columns(2)
with left:
    st.caption("Included, by how they got in")
    st.dataframe(
        [{"as": plain_reason(k), "records": v} for k, v in preview["included_by"].items()],
        hide_index=True,
        width="stretch",
    )
with right:
    st.caption("Left out, by reason")
    st.dataframe(
        [{"reason": plain_reason(k), "records": v} for k, v in preview["excluded_by"].items()],
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
if config.export.select:
    chosen = services.safe(services.selection_preview, store, stamp, export_json)
    if chosen:
        st.caption(
            f"Selection: {chosen['selected']} of {chosen['pool']} training records, mean quality "
            f"{chosen['mean_quality']}. Per cluster (quota ∝ √size):"
        )
        st.dataframe(chosen["clusters"], hide_index=True, width="stretch")
for warning in preview["warnings"]:
    st.warning(render.md_escape(warning))
if preview["blocked"]:
    st.error(render.md_escape(preview["blocked"]))


# --- the job -----------------------------------------------------------------------------------


def latest_job() -> dict[str, Any] | None:
    """This session's job, else the project's newest one (so a refresh finds a running job)."""
    return jobs.latest_job(project_dir, exclude=frozenset({ANALYSIS_KIND}), job_id=state.get(Keys.JOB_ID))


def start() -> None:
    state.put(Keys.CONFIRM_TRAIN, False)
    try:
        require_owner_for(store, "export and train", user)
        run_dir = new_run_dir(project_dir)
        chosen = write_ship_config(config, ProjectPaths(project_dir).jobs / f"{run_dir.name}.ship.yaml")
        params = {"run_dir": str(run_dir), "include_unreviewed": include_unreviewed, "config": str(chosen)}
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


@st.dialog("Start a run?", on_dismiss=lambda: state.put(Keys.CONFIRM_TRAIN, False))
def confirm_start() -> None:
    """What the run will do, before it takes the machine for minutes or hours."""
    if not state.get(Keys.CONFIRM_TRAIN):
        st.rerun()  # confirmed or cancelled inside the dialog: close it
    counts = preview["splits"]["counts"]
    train = config.train
    length = f"{train.max_steps} steps" if train.max_steps > 0 else f"{train.epochs:g} epochs"
    st.markdown(
        f"- **Export** {preview['included']} records: train {counts['train']}, validation {counts['validation']}, "
        f"test {counts['test']}; formats {', '.join(config.export.formats)}"
        + (f"; only the best {config.export.select} training records" if config.export.select else "")
        + "\n"
        f"- **Train** a LoRA adapter (rank {train.r}) on `{train.base_model}` for {length}\n"
        "- **Evaluate** base vs. tuned on the test split"
    )
    st.caption(
        "It runs in the background on this machine: leave or refresh the page, and *Cancel* it at any time."
    )
    yes, no = st.columns(2)
    yes.button("Start the run", key="train_confirm", type="primary", on_click=start, width="stretch")
    no.button(
        "Cancel",
        key="train_confirm_cancel",
        on_click=state.put,
        args=(Keys.CONFIRM_TRAIN, False),
        width="stretch",
    )


st.header("Export → train → evaluate")
job = latest_job()
active = bool(job and job["status"] in jobs.ACTIVE)
st.button(
    "Export, train and evaluate…",
    key="train_start",
    type="primary",
    on_click=state.put,
    args=(Keys.CONFIRM_TRAIN, True),
    disabled=active or bool(preview["blocked"]) or settings_problem is not None,
    help="Shows what the run will do and asks first; it runs in the background.",
)
if state.get(Keys.CONFIRM_TRAIN) and not active:
    confirm_start()


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
