"""Saving a person's answers to a record: cleaning, the submit check, suggestions and the optimistic save."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curation.errors import BadInputError, NotFoundError
from curation.model import (
    CORRECTION_QUESTION,
    LABEL_NEEDS_FIX,
    LABEL_QUESTION,
    Change,
    ChangeTarget,
    DecisionKind,
    Project,
    QuestionKind,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
)
from curation.review.decisions import record_decision, response_state
from curation.store.base import RecordStore


def current_response(store: RecordStore, record_id: str, user: str) -> Response | None:
    """The reviewer's saved response to a record (any status), or None."""
    found = store.get_responses(record_ids=[record_id], user=user)
    return found[0] if found else None


def clean_values(values: Mapping[str, Any], record: Record) -> dict[str, Any]:
    """The answers worth storing: empty ones dropped, a correction identical to the output dropped."""
    out = {k: v for k, v in values.items() if v not in (None, "")}
    correction = out.get(CORRECTION_QUESTION)
    if isinstance(correction, str) and correction.strip() == record.output.strip():
        out.pop(CORRECTION_QUESTION)
    return out


def check_submittable(values: Mapping[str, Any], project: Project) -> None:
    """BadInputError naming what is missing before a submit: required questions, a needs_fix correction."""
    missing = [q.title for q in project.questions if q.required and values.get(q.name) in (None, "")]
    if missing:
        raise BadInputError(
            f"answer {', '.join(repr(m) for m in missing)} before submitting, or save a draft"
        )
    if (
        values.get(LABEL_QUESTION) == LABEL_NEEDS_FIX
        and not str(values.get(CORRECTION_QUESTION) or "").strip()
    ):
        raise BadInputError(
            "a needs_fix label needs a corrected output that differs from the original; write it, "
            "or choose another label"
        )


def save_review(
    store: RecordStore,
    record: Record,
    user: str,
    values: Mapping[str, Any],
    status: ResponseStatus,
    *,
    expected_version: int | None,
) -> Response:
    """Save ``user``'s answers to ``record`` as a draft, a submission or a discard.

    ``expected_version`` is the version of the response the reviewer opened (0 when there was
    none); if someone (another tab) saved since, the store raises ConflictError and nothing is
    written. A submit checks required answers first (BadInputError); a discard keeps the answers.
    Submits and discards go into the decision log (a draft changes nothing export reads).
    """
    project = store.get_project()
    clean = clean_values(values, record)
    if status == ResponseStatus.submitted:
        check_submittable(clean, project)
    before = current_response(store, record.id, user)
    response = Response(record_id=record.id, user=user, values=clean, status=status)
    saved = store.save_response(response, expected_version=expected_version)
    if status != ResponseStatus.draft:  # a draft changes nothing export reads
        label = saved.values.get(LABEL_QUESTION)
        what = f"{record.id}: {'discarded' if status == ResponseStatus.discarded else f'labelled {label}'}"
        change = Change(
            record_id=record.id,
            target=ChangeTarget.response,
            key=user,
            before=response_state(before),
            after=response_state(saved),
        )
        record_decision(store, DecisionKind.label, user, what, [change])
    return saved


def apply_suggestion(values: Mapping[str, Any], suggestion: Suggestion, project: Project) -> dict[str, Any]:
    """The answers with a suggestion's value filled in (validated against its question)."""
    try:
        question = project.question(suggestion.question)
    except KeyError:
        raise NotFoundError(
            f"the suggestion answers question '{suggestion.question}', which this project does not have"
        ) from None
    try:
        value = question.validate_value(suggestion.value)
    except ValueError as exc:
        raise BadInputError(f"the suggestion cannot be applied: {exc}") from None
    out = dict(values)
    out[question.name] = value
    if (
        question.kind == QuestionKind.text
        and question.name == CORRECTION_QUESTION
        and LABEL_QUESTION not in out
    ):
        out[LABEL_QUESTION] = LABEL_NEEDS_FIX  # a suggested correction implies the output needs a fix
    return out
