"""Inter-annotator agreement per question, the records where annotators disagree, and adjudication.

Agreement is computed on submitted responses to label and rating questions (free text has no
agreement statistic worth showing):

- exactly two annotators *share records* (answered a record that someone else answered too):
  Cohen's kappa on the records both answered (quadratic weights for ratings, which are ordinal).
  Annotators who share no record with anyone are not compared, so they do not switch the figure;
- three or more share records: Fleiss' kappa on the records answered by the most common number of
  annotators (Fleiss needs the same count per record);
- in both cases Krippendorff's alpha, which uses every record with two or more answers (nominal for
  labels, ordinal for ratings).

When every compared answer is the same value, kappa and alpha are 0/0: undefined, not perfect.
They are then None and the hint says there is no variation to measure (percent agreement is still
100 %): a question everyone answers the same way tells nothing about how well people agree.

For the label question, two needs_fix answers whose corrected outputs differ are a disagreement
too (the count, the percent agreement and the list; kappa and alpha stay on the labels alone).

An owner settles a disagreement with :func:`adjudicate`: the final answer is kept apart from
everyone's responses (record metadata ``FINAL_ANSWER``, with ``ADJUDICATED_BY`` naming the owner),
so every annotator's and the owner's own answers stay as they were and the agreement figures do
not move. Export takes the final answer where there is one. Adjudications go into the decision log
and can be undone. (Projects adjudicated before the final answer existed overwrote the owner's
response instead; that response is read as the final answer and left out of the figures.)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from curation import metadata_keys
from curation.errors import BadInputError
from curation.model import (
    COMMENT_QUESTION,
    CORRECTION_QUESTION,
    LABEL_NEEDS_FIX,
    LABEL_QUESTION,
    Change,
    ChangeTarget,
    DecisionKind,
    Project,
    QuestionKind,
    Response,
    ResponseStatus,
    User,
    utc_now,
)
from curation.review.answers import clean_values
from curation.review.decisions import check_reason, record_decision
from curation.review.diff import diff_text, output_diff
from curation.store.base import RecordQuery, RecordStore

_CHUNK = 500


class QuestionAgreement(BaseModel):
    """Agreement on one question; a statistic is None when there is too little data for it."""

    question: str
    kind: str
    annotators: list[str] = Field(description="Everyone who answered the question")
    compared_annotators: list[str] = Field(
        default_factory=list,
        description="Annotators who share records with someone; they pick Cohen or Fleiss",
    )
    records_compared: int = Field(description="Records with answers from two or more annotators")
    percent_agreement: float | None = None
    cohen_kappa: float | None = None
    fleiss_kappa: float | None = None
    fleiss_records: int = 0
    krippendorff_alpha: float | None = None
    disagreements: int = 0
    hint: str = ""


class FinalAnswer(BaseModel):
    """An owner's final answer to a record, kept apart from everyone's responses."""

    values: dict[str, Any]
    by: str
    at: datetime | None = None
    legacy: bool = False
    """Set by an older pairsmith, which saved it as the owner's own response."""


class Disagreement(BaseModel):
    """A record where annotators gave different answers to one question."""

    record_id: str
    question: str
    values: dict[str, Any] = Field(description="annotator → answer")
    comments: dict[str, str] = Field(default_factory=dict, description="annotator → comment")
    corrections: dict[str, str] = Field(default_factory=dict, description="annotator → corrected output")
    corrections_differ: bool = False
    adjudicated_by: str | None = None
    final: dict[str, Any] | None = None
    """The final answer's values when the record is adjudicated."""


def final_answer(metadata: Mapping[str, Any]) -> FinalAnswer | None:
    """A record's final answer from its metadata (None when it is not adjudicated, or legacy)."""
    raw = metadata.get(metadata_keys.FINAL_ANSWER)
    if isinstance(raw, dict) and isinstance(raw.get("values"), dict) and raw.get("by"):
        return FinalAnswer.model_validate(raw)
    return None


class _Answers(BaseModel):
    """People's submitted answers to one question per record, with their comments and corrections."""

    values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    comments: dict[str, dict[str, str]] = Field(default_factory=dict)
    corrections: dict[str, dict[str, str]] = Field(default_factory=dict)
    final: dict[str, FinalAnswer] = Field(default_factory=dict)


def _answers(store: RecordStore, question: str, record_ids: Sequence[str] | None = None) -> _Answers:
    """Every person's submitted answer to ``question`` per record, and each record's final answer."""
    responses = store.get_responses(record_ids=record_ids, status=ResponseStatus.submitted)
    out = _Answers()
    by_user: dict[str, dict[str, Response]] = defaultdict(dict)
    for response in responses:
        by_user[response.record_id][response.user] = response
        value = response.values.get(question)
        if value in (None, ""):
            continue
        out.values.setdefault(response.record_id, {})[response.user] = value
        comment = response.values.get(COMMENT_QUESTION)
        if isinstance(comment, str) and comment.strip():
            out.comments.setdefault(response.record_id, {})[response.user] = comment
        correction = response.values.get(CORRECTION_QUESTION)
        if isinstance(correction, str) and correction.strip():
            out.corrections.setdefault(response.record_id, {})[response.user] = correction
    if out.values:
        ids = list(out.values)
        for start in range(0, len(ids), _CHUNK):
            query = RecordQuery(ids=ids[start : start + _CHUNK])
            for record in store.query_records(query).records:
                final = final_answer(record.metadata)
                owner = record.metadata.get(metadata_keys.ADJUDICATED_BY)
                if final is None and owner:
                    # Legacy: the adjudication overwrote the owner's response; it is not a person's answer.
                    legacy = by_user[record.id].get(str(owner))
                    final = FinalAnswer(values=legacy.values if legacy else {}, by=str(owner), legacy=True)
                    for part in (out.values, out.comments, out.corrections):
                        part.get(record.id, {}).pop(str(owner), None)
                if final is not None:
                    out.final[record.id] = final
    return out


def _disagree_key(question: str, value: Any, correction: str | None) -> str:
    """What two answers must share to agree: the answer, and for needs_fix also the corrected output."""
    if question == LABEL_QUESTION and value == LABEL_NEEDS_FIX and correction:
        return f"{value}\x00{' '.join(correction.split())}"
    return _key(value)


def _disagrees(question: str, values: Mapping[str, Any], corrections: Mapping[str, str]) -> bool:
    return len({_disagree_key(question, v, corrections.get(u)) for u, v in values.items()}) > 1


def cohen_kappa(a: Sequence[Any], b: Sequence[Any], *, weights: str | None = None) -> float | None:
    """Cohen's kappa of two annotators' paired answers; None when undefined.

    Undefined with fewer than 2 pairs, and when both always gave the same single answer: chance
    agreement is then 1 and kappa is 0/0 (sklearn gives NaN).
    """
    from sklearn.metrics import cohen_kappa_score

    if len(a) < 2 or len(set(a) | set(b)) == 1:
        return None
    return float(cohen_kappa_score(list(a), list(b), weights=weights))


def fleiss_kappa(table: np.ndarray) -> float | None:
    """Fleiss' kappa from a (records × categories) count table with the same row sums.

    None when undefined: fewer than 2 records, unequal or < 2 raters per record, or one category
    only (chance agreement 1, kappa 0/0).
    """
    if table.shape[0] < 2:
        return None
    n = table.sum(axis=1)
    if n.min() < 2 or n.min() != n.max():
        return None
    raters = float(n[0])
    p_j = table.sum(axis=0) / table.sum()
    p_i = ((table * (table - 1)).sum(axis=1)) / (raters * (raters - 1))
    p_bar, p_e = p_i.mean(), float((p_j**2).sum())
    if p_e >= 1.0:
        return None
    return float((p_bar - p_e) / (1 - p_e))


def krippendorff_alpha(matrix: np.ndarray, level: Literal["nominal", "ordinal"]) -> float | None:
    """Krippendorff's alpha of an (annotators × records) matrix with NaN for missing answers.

    None when undefined: fewer than 2 records with two answers, or one value everywhere (expected
    disagreement 0, alpha 0/0; the krippendorff package refuses it).
    """
    import krippendorff

    pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
    if pairable.sum() < 2:
        return None
    values = matrix[:, pairable]
    if len(np.unique(values[~np.isnan(values)])) == 1:
        return None
    return float(krippendorff.alpha(reliability_data=values, level_of_measurement=level))


def question_agreement(
    answers: Mapping[str, Mapping[str, Any]],
    question: str,
    kind: QuestionKind,
    corrections: Mapping[str, Mapping[str, str]] | None = None,
) -> QuestionAgreement:
    """The agreement figures for one question from record → {annotator: answer}.

    ``corrections`` (record → {annotator: corrected output}) makes two needs_fix answers with
    different corrections count as a disagreement; the kappa and alpha look at the answers alone.
    """
    corrections = corrections or {}
    shared = {rid: a for rid, a in answers.items() if len(a) >= 2}
    annotators = sorted({user for a in answers.values() for user in a})
    compared = sorted({user for a in shared.values() for user in a})
    result = QuestionAgreement(
        question=question,
        kind=str(kind),
        annotators=annotators,
        compared_annotators=compared,
        records_compared=len(shared),
    )
    if not shared:
        result.hint = (
            "no record has answers from two annotators yet: assign some records to more than one person"
        )
        return result
    result.disagreements = sum(
        1 for rid, a in shared.items() if _disagrees(question, a, corrections.get(rid, {}))
    )
    result.percent_agreement = round(1 - result.disagreements / len(shared), 4)
    ordinal = kind == QuestionKind.rating
    if len(compared) == 2:
        first, second = compared
        pairs = [(a[first], a[second]) for a in shared.values() if first in a and second in a]
        coded = [(int(x), int(y)) if ordinal else (_key(x), _key(y)) for x, y in pairs]
        kappa = cohen_kappa(
            [p[0] for p in coded], [p[1] for p in coded], weights="quadratic" if ordinal else None
        )
        result.cohen_kappa = _round(kappa)
    else:
        categories = sorted({_key(v) for a in shared.values() for v in a.values()})
        counts = Counter(len(a) for a in shared.values())
        raters = counts.most_common(1)[0][0]
        rows = [a for a in shared.values() if len(a) == raters]
        table = np.array([[sum(1 for v in a.values() if _key(v) == c) for c in categories] for a in rows])
        result.fleiss_kappa = _round(fleiss_kappa(table))
        result.fleiss_records = len(rows)
    result.krippendorff_alpha = _round(_alpha(shared, compared, ordinal))
    values = {_key(v) for a in shared.values() for v in a.values()}
    result.hint = _no_variation_hint(result, values.pop()) if len(values) == 1 else _hint(result)
    return result


def _alpha(shared: Mapping[str, Mapping[str, Any]], annotators: list[str], ordinal: bool) -> float | None:
    if ordinal:
        code = lambda v: float(v)  # noqa: E731 - ratings are their own codes
    else:
        categories = sorted({_key(v) for a in shared.values() for v in a.values()})
        index = {c: float(i) for i, c in enumerate(categories)}
        code = lambda v: index[_key(v)]  # noqa: E731
    matrix = np.full((len(annotators), len(shared)), np.nan)
    row = {user: i for i, user in enumerate(annotators)}
    for j, answers in enumerate(shared.values()):
        for user, value in answers.items():
            matrix[row[user], j] = code(value)
    return krippendorff_alpha(matrix, "ordinal" if ordinal else "nominal")


def _key(value: Any) -> str:
    return str(value)


def _round(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else round(value, 4)


def _no_variation_hint(result: QuestionAgreement, value: str) -> str:
    return (
        f"no variation to measure on '{result.question}': every compared answer is '{value}' "
        f"({result.records_compared} records), so kappa and alpha are undefined; agreement shows only "
        "once annotators give different answers somewhere"
    )


def _hint(result: QuestionAgreement) -> str:
    """A plain-language reading (Landis & Koch bands) of the main statistic."""
    value = result.cohen_kappa if result.cohen_kappa is not None else result.krippendorff_alpha
    if value is None:
        value = result.fleiss_kappa
    if value is None:
        return "too few shared answers for a statistic"
    bands = [(0.8, "almost perfect"), (0.6, "substantial"), (0.4, "moderate"), (0.2, "fair"), (0.0, "slight")]
    band = next((name for low, name in bands if value > low), "no better than chance")
    advice = (
        "" if value > 0.6 else ": clarify the guidelines for this question and adjudicate the disagreements"
    )
    return f"{band} agreement on '{result.question}' ({value:.2f}){advice}"


def _compared_questions(project: Project, question: str | None) -> list[tuple[str, QuestionKind]]:
    chosen: list[tuple[str, QuestionKind]] = [
        (q.name, q.kind) for q in project.questions if q.kind != QuestionKind.text
    ]
    if question is None:
        return chosen
    match = [c for c in chosen if c[0] == question]
    if not match:
        names = ", ".join(c[0] for c in chosen)
        raise BadInputError(f"no label or rating question '{question}'; choose one of: {names}")
    return match


def agreement_report(store: RecordStore, question: str | None = None) -> list[QuestionAgreement]:
    """Agreement for every label and rating question (or one), from submitted responses."""
    project = store.get_project()
    out = []
    for name, kind in _compared_questions(project, question):
        answers = _answers(store, name)
        out.append(question_agreement(answers.values, name, kind, answers.corrections))
    return out


def disagreements(
    store: RecordStore, question: str = "label", *, include_adjudicated: bool = False
) -> list[Disagreement]:
    """Records where two or more people gave different answers to ``question``, in import order.

    Different corrected outputs under the same needs_fix label are a disagreement too. Adjudicated
    records are left out unless ``include_adjudicated``; they then show every person's answer (the
    owner's own included) and the final answer beside them.
    """
    _compared_questions(store.get_project(), question)
    answers = _answers(store, question)
    out = []
    for record_id, values in answers.values.items():
        corrections = answers.corrections.get(record_id, {})
        if len(values) < 2 or not _disagrees(question, values, corrections):
            continue
        final = answers.final.get(record_id)
        if final is not None and not include_adjudicated:
            continue
        people = sorted(values)
        shown_corrections = {u: corrections[u] for u in people if u in corrections}
        out.append(
            Disagreement(
                record_id=record_id,
                question=question,
                values={u: values[u] for u in people},
                comments={
                    u: c for u, c in sorted(answers.comments.get(record_id, {}).items()) if u in values
                },
                corrections=shown_corrections,
                corrections_differ=len({" ".join(c.split()) for c in shown_corrections.values()}) > 1,
                adjudicated_by=final.by if final else None,
                final=final.values if final else None,
            )
        )
    return out


def correction_diffs(item: Disagreement, original: str) -> list[tuple[str, str, str]]:
    """(annotator, against, word diff) for each correction: the first against the original output,
    every other against the first, so the adjudicator sees how the corrections differ."""
    people = list(item.corrections)
    out = []
    for n, user in enumerate(people):
        base_user = "the output" if n == 0 else people[0]
        base = original if n == 0 else item.corrections[people[0]]
        out.append((user, base_user, diff_text(output_diff(base, item.corrections[user], "word"), "word")))
    return out


def adjudicate(
    store: RecordStore,
    record_id: str,
    owner: User | str,
    values: Mapping[str, Any],
    *,
    why: str = "",
) -> FinalAnswer:
    """Set (or change) the final answer of a record; everyone's responses stay as they are.

    The answers are merged into the record's final answer (adjudicating the rating keeps the
    final label), checked against the questions, and logged as a decision that can be undone. A
    needs_fix label needs a corrected output that differs from the output. Raises
    PermissionDeniedError (and writes nothing) when ``owner`` is not a project owner,
    NotFoundError for an unknown record, BadInputError for an answer its question refuses.
    """
    name = owner.name if isinstance(owner, User) else owner
    store.require_owner("adjudicate disagreements", name)
    record = store.get_record(record_id)
    clean = store.get_project().validate_answers(clean_values(values, record))
    if not clean:
        raise BadInputError(f"record '{record_id}': give at least one answer to adjudicate")
    before = final_answer(record.metadata)
    merged = {**(before.values if before else {}), **clean}
    if (
        merged.get(LABEL_QUESTION) == LABEL_NEEDS_FIX
        and not str(merged.get(CORRECTION_QUESTION) or "").strip()
    ):
        raise BadInputError(
            f"record '{record_id}': a needs_fix final answer needs a corrected output that differs from the "
            "output; write it, or choose another label"
        )
    final = FinalAnswer(values=merged, by=name, at=utc_now())
    after = final.model_dump(mode="json", exclude={"legacy"})
    changes = [
        Change(
            record_id=record_id,
            target=ChangeTarget.metadata,
            key=metadata_keys.FINAL_ANSWER,
            before=record.metadata.get(metadata_keys.FINAL_ANSWER),
            after=after,
        ),
        Change(
            record_id=record_id,
            target=ChangeTarget.metadata,
            key=metadata_keys.ADJUDICATED_BY,
            before=record.metadata.get(metadata_keys.ADJUDICATED_BY),
            after=name,
        ),
    ]
    store.update_metadata(
        {record_id: {metadata_keys.FINAL_ANSWER: after, metadata_keys.ADJUDICATED_BY: name}}
    )
    shown = ", ".join(f"{k}={_key(v)[:40]}" for k, v in clean.items())
    record_decision(
        store,
        DecisionKind.adjudication,
        name,
        f"{record_id}: final answer {shown}",
        changes,
        why=check_reason(why),
    )
    return final
