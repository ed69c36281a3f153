"""Guidelines (owners): the markdown guidelines with their versions, the questions, golden examples
and the optional output JSON schema. Annotators read the guidelines beside every record in review."""

from __future__ import annotations

import json

import streamlit as st

from curation.errors import PairsmithError
from curation.review.auth import Action
from curation.review.display import demote_headings
from curation.review.guidelines import parse_ids, set_golden_records, update_output_schema, update_questions
from curation.review.reasons import has_reasons_section, reason_tags
from curation.store.base import RecordQuery
from ui import render, services, state

session = services.require(Action.edit_guidelines)
store, user = session.store, session.user.name
project = store.get_project()
st.title("Guidelines")
services.show_flash()

edit, history = st.tabs(["Edit", f"History ({project.guidelines_version} versions)"])
with edit:
    with st.form("guidelines_form"):
        text = st.text_area(
            "Guidelines (Markdown): what a good output is, with examples",
            value=project.guidelines,
            height=320,
            key="guidelines_text",
        )
        if st.form_submit_button("Save guidelines", type="primary", key="guidelines_save"):
            try:
                store.update_project(project.model_copy(update={"guidelines": text}), author=user)
            except PairsmithError as exc:
                st.error(str(exc))
            else:
                state.bump_revision()
                state.flash("success", "Guidelines saved as a new version.")
                st.rerun()
    st.caption("Preview")
    with st.container(border=True):
        st.markdown(demote_headings(text, top=3) if text else "_(empty)_")
    tags = reason_tags(text or "")
    st.caption(
        "Reason tags annotators pick on a *bad* label: "
        + render.md_escape(", ".join(t.tag for t in tags))
        + (
            ""
            if has_reasons_section(text or "")
            else " (the defaults). To choose your own, add a section `## Reasons for bad` with one "
            "`- tag: what it means` line per tag."
        )
    )

with history:
    for version in reversed(store.guidelines_history()):
        with st.expander(
            f"Version {version.version} by {version.author or 'CLI'} · {version.created_at:%Y-%m-%d %H:%M}"
        ):
            st.text(version.text)

st.header("Questions")
st.caption(
    "What annotators answer about each record. The label question decides what export keeps; "
    "edit titles, descriptions and options as JSON (kinds: label, rating, text)."
)
questions_json = json.dumps([q.model_dump(mode="json") for q in project.questions], indent=2)
with st.form("questions_form"):
    edited = st.text_area("Questions (JSON)", value=questions_json, height=260, key="guidelines_questions")
    if st.form_submit_button("Save questions", key="guidelines_questions_save"):
        try:
            update_questions(store, edited, author=user)
        except PairsmithError as exc:
            st.error(f"Not saved: {exc}")
        else:
            state.flash("success", "Questions saved.")
            st.rerun()

st.header("Output JSON schema (optional)")
st.caption("When set, analysis flags outputs that do not match it and evaluation scores schema validity.")
schema_text = json.dumps(project.output_schema, indent=2) if project.output_schema else ""
with st.form("schema_form"):
    edited_schema = st.text_area("JSON Schema", value=schema_text, height=220, key="guidelines_schema")
    if st.form_submit_button("Save schema", key="guidelines_schema_save"):
        try:
            saved = update_output_schema(store, edited_schema, author=user)
        except PairsmithError as exc:
            st.error(f"Not saved: {exc}")
        else:
            state.flash("success", "Schema saved." if saved.output_schema else "Schema removed.")
            st.rerun()

st.header("Golden examples")
st.caption(
    "Records marked as what good looks like: annotators see them in review, and export keeps them in the test split."
)
golden_page = store.query_records(RecordQuery(golden=True, limit=50))
st.caption(f"{golden_page.total} golden records")
rows = [
    {"id": r.id, "input": render.snippet(r.input_text), "output": render.snippet(r.output)}
    for r in golden_page.records
]
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
with st.form("golden_form"):
    ids_text = st.text_input("Record ids (comma separated)", key="golden_ids")
    mark, unmark = st.columns(2)
    add = mark.form_submit_button("Mark as golden", key="golden_add")
    remove = unmark.form_submit_button("Unmark", key="golden_remove")
    if add or remove:
        try:
            count = set_golden_records(store, parse_ids(ids_text), golden=bool(add), user=user)
        except PairsmithError as exc:
            st.error(str(exc))
        else:
            state.bump_revision()
            state.flash("success", f"{count} records {'marked' if add else 'unmarked'}.")
            st.rerun()
