"""Agreement & adjudication (owners): how much annotators agree per question, and the records where
they disagree, where the owner sets the final answer. The final answer is kept apart from everyone's
responses, so every answer (with its comment and correction) stays visible and the figures stay."""

from __future__ import annotations

import streamlit as st

from curation.errors import PairsmithError
from curation.model import CORRECTION_QUESTION, LABEL_QUESTION, QuestionKind
from curation.review.agreement import adjudicate, agreement_report, correction_diffs, disagreements
from curation.review.auth import Action
from curation.store.base import RecordQuery
from ui import render, services, state

PER_PAGE = 10

session = services.require(Action.edit_guidelines)
store, user = session.store, session.user.name
project = store.get_project()
st.title("Agreement & adjudication")
services.show_flash()

report = agreement_report(store)
st.dataframe(
    [
        {
            "question": a.question,
            "annotators": len(a.annotators),
            "records compared": a.records_compared,
            "agreement": None if a.percent_agreement is None else f"{a.percent_agreement:.0%}",
            "Cohen's kappa": a.cohen_kappa,
            "Fleiss' kappa": a.fleiss_kappa,
            "Krippendorff's alpha": a.krippendorff_alpha,
            "disagreements": a.disagreements,
        }
        for a in report
    ],
    hide_index=True,
    width="stretch",
)
for item in report:
    if item.hint:
        st.caption(render.md_escape(item.hint))

choosable = [q.name for q in project.questions if q.kind != QuestionKind.text]
question = st.selectbox("Disagreements on", choosable, key="agreement_question")
show_done = st.toggle("Include adjudicated records", value=False, key="agreement_show_done")
found = disagreements(store, question, include_adjudicated=show_done)
st.caption(f"{len(found)} records where annotators disagree on '{question}'")
if not found:
    st.stop()

pages = max(1, -(-len(found) // PER_PAGE))
page = int(st.number_input("Page", min_value=1, max_value=pages, value=1, key="agreement_page")) - 1
shown = list(services.page_of(found, page, PER_PAGE))
records = {r.id: r for r in store.query_records(RecordQuery(ids=[d.record_id for d in shown])).records}
target = project.question(question)
options = target.options if target.kind == QuestionKind.label else [int(o) for o in target.options]

for item in shown:
    record = records.get(item.record_id)
    if record is None:
        continue
    with st.container(border=True, key=f"agreement_{record.id}"):
        st.caption(
            render.md_escape(
                record.id
                + (
                    f" · final answer by {item.adjudicated_by}: " + render.as_cell(item.final)
                    if item.final
                    else ""
                )
                + (" · the corrections differ" if item.corrections_differ else "")
            )
        )
        left, right = st.columns(2)
        with left:
            render.record_input(record)
        with right:
            render.output_block(record.output)
        st.dataframe(
            [
                {
                    "person": person,
                    "answer": render.as_cell(value),
                    "comment": item.comments.get(person, ""),
                    "corrected output": item.corrections.get(person, ""),
                }
                for person, value in item.values.items()
            ],
            hide_index=True,
            key=f"agreement_answers_{record.id}",
        )
        if item.corrections:
            with st.expander("How the corrections differ", expanded=item.corrections_differ):
                for person, against, diff in correction_diffs(item, record.output):
                    st.caption(render.md_escape(f"{person}, against {against}:"))
                    st.code(diff, language=None, wrap_lines=True)
        with st.form(f"adjudicate_{record.id}"):
            current = (item.final or {}).get(question)
            final = st.radio(
                "Final answer",
                options,
                horizontal=True,
                index=options.index(current) if current in options else None,
                key=f"adjudicate_value_{record.id}",
            )
            correction = ""
            if question == LABEL_QUESTION:
                # Starts from the output (or the final correction): the owner edits, not retypes.
                start = (item.final or {}).get(CORRECTION_QUESTION) or record.output
                correction = st.text_area(
                    "Corrected output (for needs_fix)", value=start, key=f"adjudicate_correction_{record.id}"
                )
            why = st.text_input("Why (kept in the decision log)", key=f"adjudicate_why_{record.id}")
            if st.form_submit_button("Set final answer", key=f"adjudicate_save_{record.id}"):
                values = {question: final}
                if correction.strip():
                    values[CORRECTION_QUESTION] = correction
                try:
                    adjudicate(store, record.id, user, values, why=why)
                except PairsmithError as exc:
                    st.error(str(exc))
                else:
                    state.bump_revision()
                    state.flash("success", f"Record {record.id}: final answer set by {user}.")
                    st.rerun()
