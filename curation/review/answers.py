"""Saving a person's answers to a record: cleaning, the submit check, suggestions and the optimistic save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from curation.errors import BadInputError, NotFoundError
from curation.model import (
    COMMENT_QUESTION,
    CORRECTION_QUESTION,
    LABEL_BAD,
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
    new_id,
)
from curation.review.corrections import correction_problems, normalise_correction
from curation.review.decisions import record_decision, response_state
from curation.store.base import RecordQuery, RecordStore


def current_response(store: RecordStore, record_id: str, user: str) -> Response | None:
    """The reviewer's saved response to a record (any status), or None."""
    found = store.get_responses(record_ids=[record_id], user=user)
    return found[0] if found else None


def clean_values(values: Mapping[str, Any], record: Record) -> dict[str, Any]:
    """The answers worth storing: empty ones dropped, a correction identical to the output dropped."""
    out = {k: v for k, v in values.items() if v not in (None, "")}
    correction = out.get(CORRECTION_QUESTION)
    if isinstance(correction, str):
        # A JSON correction is stored in the original's layout; one that only re-formats it is none.
        correction = normalise_correction(correction, record.output)
        if correction.strip() == record.output.strip():
            out.pop(CORRECTION_QUESTION)
        else:
            out[CORRECTION_QUESTION] = correction
    return out


def check_submittable(values: Mapping[str, Any], project: Project, record: Record | None = None) -> None:
    """BadInputError naming what is missing before a submit: required questions, a needs_fix correction,
    and (given the record) a correction that is not JSON for a JSON output or breaks the output schema."""
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
    correction = values.get(CORRECTION_QUESTION)
    if record is not None and isinstance(correction, str):
        problems = correction_problems(correction, record.output, project.output_schema)
        if problems:
            raise BadInputError("; ".join(problems) + ". Fix the correction, or save a draft")


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
        check_submittable(clean, project, record)
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


class BulkLabel(BaseModel):
    """What a bulk label did: the records labelled (one logged batch) and those left alone."""

    labelled: list[str]
    skipped: list[str]
    batch: str | None = None
    """Shared by the decisions of this action: undo them together with ``undo_batch``."""


def bulk_label(
    store: RecordStore,
    record_ids: Sequence[str],
    user: str,
    label: str,
    *,
    tags: Sequence[str] = (),
    skip_reviewed: bool = True,
    confirm: bool = False,
) -> BulkLabel:
    """Submit ``label`` as ``user``'s answer for many records at once (e.g. a selection on the map).

    Only labels that need nothing per record may be given in bulk (a needs_fix needs a correction
    each). Records the person already submitted or discarded are skipped unless ``skip_reviewed`` is
    off; their other answers (rating, comment) are kept. Labelling more than ten records *bad* drops
    them from the export, so it asks first (ConfirmationRequiredError). Every record is one entry of
    the decision log, all sharing a batch, so the whole action can be undone at once.
    """
    from curation.review.decisions import confirm_drop
    from curation.review.reasons import compose_comment, split_comment

    project = store.get_project()
    question = project.question(LABEL_QUESTION)
    if label not in question.options or label == LABEL_NEEDS_FIX:
        allowed = [o for o in question.options if o != LABEL_NEEDS_FIX]
        raise BadInputError(
            f"bulk labels are one of {', '.join(allowed)}; a needs_fix needs a correction per record"
        )
    ids = list(dict.fromkeys(record_ids))
    records = {r.id: r for r in store.query_records(RecordQuery(ids=ids)).records} if ids else {}
    unknown = [i for i in ids if i not in records]
    if unknown:
        raise NotFoundError(f"No records with these ids: {', '.join(unknown[:10])}")
    current = {r.record_id: r for r in store.get_responses(record_ids=ids, user=user)} if ids else {}
    todo = [
        i for i in ids if not (skip_reviewed and i in current and current[i].status != ResponseStatus.draft)
    ]
    if label == LABEL_BAD:
        confirm_drop(todo, confirm=confirm, what=f"labelling {len(todo)} records bad")
    batch = new_id() if todo else None
    for record_id in todo:
        before = current.get(record_id)
        values = dict(before.values) if before else {}
        values[LABEL_QUESTION] = label
        _, own = split_comment(values.get(COMMENT_QUESTION))
        values[COMMENT_QUESTION] = compose_comment(label, tags, own)
        clean = clean_values(values, records[record_id])
        check_submittable(clean, project, records[record_id])
        response = Response(record_id=record_id, user=user, values=clean, status=ResponseStatus.submitted)
        saved = store.save_response(response, expected_version=before.version if before else 0)
        change = Change(
            record_id=record_id,
            target=ChangeTarget.response,
            key=user,
            before=response_state(before),
            after=response_state(saved),
        )
        record_decision(
            store, DecisionKind.label, user, f"{record_id}: labelled {label} (bulk)", [change], batch=batch
        )
    return BulkLabel(labelled=todo, skipped=[i for i in ids if i not in todo], batch=batch)
