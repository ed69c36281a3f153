"""Project & import (owners): the project at a glance (with the first-run steps until they are done),
each person's progress, who reviews what, and importing a file with a column mapping, a preview and
the rejected rows with their reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from curation.errors import PairsmithError
from curation.files import ProjectPaths
from curation.importing import CHAT_FORMATS, ColumnMapping, all_format_names, import_file, preview_file
from curation.importing.preview import read_quarantine, save_upload
from curation.model import Role
from curation.review.assignment import assign_reviewers, clear_assignment
from curation.review.auth import MIN_PASSWORD, Action, add_person, check_server_path, is_loopback
from curation.review.onboarding import next_step, setup_steps
from training import jobs
from ui import render, services, state
from ui.state import Keys

PREVIEW_ROWS = 20
POLL_SECONDS = 2.0
DETECT = "(detect)"
ANALYSIS_KIND = "analyze"
QUALITY_FULL = "Full (default)"
QUALITY_FAST = "Fast"

session = services.require(Action.import_data)
store = session.store
paths = ProjectPaths(session.project_dir)
st.title("Project & import")
services.show_flash()

project = store.get_project()
counts = store.response_counts()
stamp = services.stamp(session)
cols = st.columns(5)
cols[0].metric("Records", stamp.records)
cols[1].metric(
    "Not reviewed yet", services.unreviewed(store, stamp), help="No submitted or discarded answer from anyone"
)
cols[2].metric("Submitted responses", counts.submitted)
cols[3].metric("Drafts", counts.draft)
cols[4].metric("Guidelines version", project.guidelines_version)
st.caption(
    f"{render.md_escape(project.name)} · {session.backend} backend · {render.md_escape(str(session.project_dir))}"
)
if next_step(setup_steps(session.project_dir, store)) is not None:
    services.setup_checklist(session, here="app_pages/project_import.py")


# --- analysis -----------------------------------------------------------------------------------


def analysis_job() -> dict[str, Any] | None:
    """This session's analysis job, else the project's newest one (a refresh finds a running job)."""
    return jobs.latest_job(
        session.project_dir, kinds=frozenset({ANALYSIS_KIND}), job_id=state.get(Keys.ANALYSIS_JOB_ID)
    )


def start_analysis() -> None:
    try:
        # The analysis folder as run_dir: the runner refuses a second analysis while one is running.
        params: dict[str, Any] = {"run_dir": str(paths.analysis.resolve())}
        settings: dict[str, Any] = {}
        if state.get(Keys.W_ANALYSIS_QUALITY) == QUALITY_FAST:
            settings["quality"] = "fast"
        if state.get(Keys.W_ANALYSIS_INT8):
            settings["embedder_settings"] = {"precision": "int8"}
        if settings:
            params["settings"] = settings
        job_id = jobs.start_job(
            session.project_dir, ANALYSIS_KIND, params, user=session.user.name, api_key=state.api_key()
        )
    except PairsmithError as exc:
        state.flash("error", f"Analysis not started: {exc}")
        return
    state.put(Keys.ANALYSIS_JOB_ID, job_id)


def cancel_analysis(job_id: str) -> None:
    try:
        jobs.cancel_job(session.project_dir, job_id)
    except PairsmithError as exc:
        state.flash("error", str(exc))


def analysis_view(job_id: str, was_running: bool) -> None:
    current = jobs.get_job(session.project_dir, job_id)
    running = current["status"] in jobs.ACTIVE
    render.job_progress(current, jobs.log_tail(current["log_path"]), log_label="Analysis log")
    if running:
        st.button("Cancel analysis", key="analysis_cancel", on_click=cancel_analysis, args=(job_id,))
    elif current["status"] == "failed":
        st.error(render.md_escape(f"Analysis failed: {current['message']}"))
    if running != was_running:
        st.rerun()  # finished while polling: redraw with fresh figures and without the timer


st.header("Analysis")
job = analysis_job()
analysing = bool(job and job["status"] in jobs.ACTIVE)
if services.has_analysis(session.project_dir):
    analysed_at = datetime.fromtimestamp(services.analysis_mtime(session.project_dir), UTC)
    st.caption(
        f"Last analysis: {analysed_at:%Y-%m-%d %H:%M} UTC, {services.analysis_method(session.project_dir)}. "
        "Run it again after importing."
    )
else:
    st.info("Analysis finds duplicates, clusters, diversity and quality flags: run it after importing.")
st.button(
    "Analyse now",
    key="analysis_start",
    on_click=start_analysis,
    disabled=analysing or store.count_records() == 0,
    help=f"Runs in the background, like `pairsmith analyze {session.project_dir}`; only new records are embedded.",
)
st.radio(
    "Analysis quality",
    [QUALITY_FULL, QUALITY_FAST],
    key=Keys.W_ANALYSIS_QUALITY,
    horizontal=True,
    disabled=analysing,
    help="Full embeds every input and output with MiniLM. Fast embeds every input but an output only "
    "when its record has a close input, so duplicate decisions are the same; clusters get the output "
    "side from a static model. Fast pays on organic data (each question asked once), not on "
    "template-made sets. Like `--quality full|fast` (docs/curation.md).",
)
st.checkbox(
    "Faster approximate embeddings (int8)",
    key=Keys.W_ANALYSIS_INT8,
    disabled=analysing,
    help="About 1.5x faster embedding on a CPU, but vectors differ slightly from the exact ones, so fewer "
    "semantic duplicates are found at the same threshold (docs/benchmarks.md). Like `--precision int8`.",
)
if job is not None:
    st.fragment(analysis_view, run_every=POLL_SECONDS if analysing else None)(job["id"], analysing)


# --- people, their progress and who reviews what ---------------------------------------------------


def assign() -> None:
    reviewers = st.session_state.get("assign_reviewers") or []
    try:
        result = assign_reviewers(
            store,
            reviewers,
            overlap_share=float(st.session_state.get("assign_overlap", 10)) / 100,
            per_record=int(st.session_state.get("assign_per_record", 2)),
            user=session.user.name,
        )
    except PairsmithError as exc:
        state.flash("error", f"Not assigned: {exc}")
        return
    state.bump_revision()
    shares = ", ".join(f"{name} {count}" for name, count in result.per_person.items())
    state.flash(
        "success",
        f"Assigned {result.records} unreviewed records ({shares}); {result.overlapping} go to more than one "
        "person, for the Agreement page.",
    )


def unassign() -> None:
    try:
        cleared = clear_assignment(store, user=session.user.name)
    except PairsmithError as exc:
        state.flash("error", str(exc))
        return
    state.bump_revision()
    state.flash("success", f"Assignment cleared from {cleared} records: everyone reviews every record again.")


st.header("People and progress")
progress = services.people_progress(store, stamp)
st.dataframe(
    [
        {
            "name": p["name"],
            "role": p["role"],
            "submitted": p["submitted"],
            "drafts": p["drafts"],
            "discarded": p["discarded"],
            "assigned": p["assigned"],
            "assigned done": round(100 * p["assigned_done"] / p["assigned"]) if p["assigned"] else None,
        }
        for p in progress
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "assigned done": st.column_config.ProgressColumn(
            "assigned done", format="percent", min_value=0, max_value=1
        )
    },
    key="people_progress",
)
reasons = services.bad_reasons(store, stamp)
if reasons:
    st.caption(
        "Why records were labelled bad: "
        + render.md_escape(", ".join(f"{t} {n}" for t, n in reasons.items()))
    )

with st.expander("Assign records to reviewers", icon=":material/assignment_ind:"):
    st.caption(
        "Splits the records nobody has reviewed yet between the people you choose, evenly; a share of them "
        "goes to several people so that the Agreement page can compare their answers. Each person's Review "
        "queue then starts with their own records."
    )
    with st.form("assign_form", border=False):
        names = [p["name"] for p in progress]
        annotators = [p["name"] for p in progress if p["role"] == "annotator"]
        st.multiselect("Reviewers", names, default=annotators, key="assign_reviewers")
        cols = st.columns(2)
        # An overlap needs two people: with one annotator the default is none.
        cols[0].slider(
            "Reviewed by several people (%)",
            0,
            100,
            10 if len(annotators) > 1 else 0,
            step=5,
            key="assign_overlap",
        )
        cols[1].number_input(
            "People per shared record",
            min_value=2,
            max_value=max(2, len(names)),
            value=2,
            key="assign_per_record",
        )
        st.form_submit_button("Assign", key="assign_run", on_click=assign, type="primary")
    if any(p["assigned"] for p in progress):
        st.button("Clear the assignment", key="assign_clear", on_click=unassign)

with st.expander("Add a person", icon=":material/person_add:"):
    local = session.backend == "local"
    with st.form("people_form", clear_on_submit=True):
        name = st.text_input("Name", key="people_name")
        role = st.selectbox("Role", [Role.annotator, Role.owner], format_func=str, key="people_role")
        password = (
            st.text_input(
                f"Password (at least {MIN_PASSWORD} characters)", type="password", key="people_password"
            )
            if local
            else None
        )
        if st.form_submit_button("Add person", key="people_add"):
            try:
                add_person(store, name, role, password=password if local else None, by=session.user.name)
            except (PairsmithError, ValueError) as exc:
                st.error(str(exc))
            else:
                state.bump_revision()
                state.flash("success", f"Added {name.strip()} as {role}.")
                st.rerun()


# --- import -------------------------------------------------------------------------------------

st.header("Import a file")
# Reading the server's disk is for owners on a loopback server, or under the roots it allows.
server_paths = session.can(Action.import_data) and (
    is_loopback(state.server_host()) or bool(state.import_roots())
)
sources = ["Upload", "Path on this machine"] if server_paths else ["Upload"]
source = st.radio("Source", sources, horizontal=True, key="import_source")
path: Path | None = None
if source == "Upload":
    upload = st.file_uploader(
        "CSV, TSV (also .txt), JSON, JSONL or Parquet: tables, OpenAI/ShareGPT chats with tool calls, "
        "Alpaca, preference pairs",
        type=["csv", "tsv", "tab", "txt", "json", "jsonl", "ndjson", "parquet"],
        key="import_upload",
    )
    if upload is not None:
        path = save_upload(session.project_dir, upload.name, upload.getvalue())
else:
    typed = st.text_input("File path (or a Hugging Face dataset folder)", key="import_path")
    if typed.strip():
        try:
            path = check_server_path(
                typed.strip(),
                session.user,
                loopback=is_loopback(state.server_host()),
                allowed_roots=state.import_roots(),
            )
        except PairsmithError as exc:
            st.error(str(exc))
            st.stop()

if path is None:
    st.stop()
assert path is not None
if not path.exists():
    st.error(f"{path} does not exist; check the path.")
    st.stop()

format_choice = st.selectbox("Format", ["(by extension)", *all_format_names()], key="import_format")
chosen_format = None if format_choice == "(by extension)" else format_choice


try:
    preview = preview_file(path, format=chosen_format, limit=PREVIEW_ROWS)
except PairsmithError as exc:
    st.error(str(exc))
    st.stop()
columns = preview.columns
st.caption(
    f"Preview: the first {len(preview.rows)} rows of {render.md_escape(path.name)}, read as "
    f"{preview.format.upper()}, records shaped as {preview.shape}"
)
for warning in preview.warnings:
    st.warning(render.md_escape(warning))
st.dataframe(
    [{str(k): render.as_cell(v) for k, v in (r.values or {}).items()} for r in preview.rows],
    hide_index=True,
    width="stretch",
    key="import_preview_rows",
)
with st.expander("What these rows become"):
    st.dataframe(
        [
            {
                "row": r.row,
                "input": r.input,
                "output": r.output,
                **(
                    {"rejected reply": r.rejected_output}
                    if any(x.rejected_output for x in preview.rows)
                    else {}
                ),
                "quarantined because": r.reason,
            }
            for r in preview.rows
        ],
        hide_index=True,
        width="stretch",
        key="import_preview_records",
    )

chat = chosen_format in CHAT_FORMATS
with st.form("import_form"):
    st.caption(
        "Column mapping (leave on detect to use common names: prompt/instruction/input, response/output…)"
    )
    mapping_cols = st.columns(3)
    input_col = mapping_cols[0].selectbox(
        "Input column", [DETECT, *columns], key="import_input_col", disabled=chat
    )
    output_col = mapping_cols[1].selectbox(
        "Output column", [DETECT, *columns], key="import_output_col", disabled=chat
    )
    id_col = mapping_cols[2].selectbox("Id column", [DETECT, *columns], key="import_id_col")
    submitted = st.form_submit_button("Import", type="primary", key="import_run")

if submitted:
    mapping = ColumnMapping(
        input_col=None if input_col == DETECT else input_col,
        output_col=None if output_col == DETECT else output_col,
        id_col=None if id_col == DETECT else id_col,
    )
    bar = st.progress(0.0, text="Importing…")

    def progress(rows_read: int, fraction: float | None) -> None:
        bar.progress(min(1.0, fraction or 0.0), text=f"Importing… {rows_read} rows read")

    try:
        report = import_file(
            store,
            path,
            user=session.user.name,
            quarantine_dir=paths.quarantine,
            mapping=mapping,
            format=chosen_format,
            progress=progress,
        )
    except PairsmithError as exc:
        bar.empty()
        st.error(str(exc))
        st.stop()
    bar.empty()
    state.bump_revision()
    st.session_state["import_last_report"] = report.model_dump()

last = st.session_state.get("import_last_report")
if last:
    st.subheader(f"Imported {render.md_escape(last['file'])}")
    result = st.columns(4)
    result[0].metric("Rows read", last["rows_read"])
    result[1].metric("Imported", last["imported"])
    result[2].metric("Already in the project", last["skipped_existing"])
    result[3].metric("Rejected", last["rejected"])
    for warning in last["warnings"]:
        st.warning(render.md_escape(warning))
    if last["quarantine_file"]:
        rejected = read_quarantine(last["quarantine_file"])
        st.caption(f"Rejected rows, with reasons (kept in {render.md_escape(last['quarantine_file'])})")
        st.dataframe(
            [
                {"row": r.get("row"), "reason": r.get("reason"), "raw": render.as_cell(r.get("raw"))}
                for r in rejected
            ],
            hide_index=True,
            width="stretch",
            key="import_rejected",
        )
