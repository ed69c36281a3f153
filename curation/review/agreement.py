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

An owner settles a disagreement with :func:`adjudicate`: their response is saved as submitted and
the record's metadata names them (``ADJUDICATED_BY``), which export honours as the final verdict.
An adjudicator's own response is left out of the agreement figures for that record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from curation import metadata_keys
from curation.errors import BadInputError
from curation.model import Project, QuestionKind, Response, ResponseStatus, User
from curation.store.base import RecordQuery, RecordStore


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


class Disagreement(BaseModel):
    """A record where annotators gave different answers to one question."""

    record_id: str
    question: str
    values: dict[str, Any] = Field(description="annotator → answer")
    adjudicated_by: str | None = None


def _answers(
    store: RecordStore, question: str, record_ids: Sequence[str] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """record → {annotator: answer} from submitted responses, and record → adjudicator."""
    responses = store.get_responses(record_ids=record_ids, status=ResponseStatus.submitted)
    by_record: dict[str, dict[str, Any]] = defaultdict(dict)
    for response in responses:
        value = response.values.get(question)
        if value not in (None, ""):
            by_record[response.record_id][response.user] = value
    adjudicated: dict[str, str] = {}
    if by_record:
        query = RecordQuery(ids=list(by_record))
        for batch in store.iter_records(batch_size=2000, query=query):
            for record in batch:
                owner = record.metadata.get(metadata_keys.ADJUDICATED_BY)
                if owner:
                    adjudicated[record.id] = str(owner)
    for record_id, owner in adjudicated.items():
        by_record[record_id].pop(owner, None)
    return dict(by_record), adjudicated


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
    answers: Mapping[str, Mapping[str, Any]], question: str, kind: QuestionKind
) -> QuestionAgreement:
    """The agreement figures for one question from record → {annotator: answer}."""
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
    result.disagreements = sum(1 for a in shared.values() if len({_key(v) for v in a.values()}) > 1)
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
        answers, _ = _answers(store, name)
        out.append(question_agreement(answers, name, kind))
    return out


def disagreements(
    store: RecordStore, question: str = "label", *, include_adjudicated: bool = False
) -> list[Disagreement]:
    """Records where two or more annotators gave different answers to ``question``, in import order.

    Adjudicated records are left out unless ``include_adjudicated`` (their answers then exclude the
    adjudicator's own response).
    """
    _compared_questions(store.get_project(), question)
    answers, adjudicated = _answers(store, question)
    out = []
    for record_id, values in answers.items():
        if len(values) < 2 or len({_key(v) for v in values.values()}) < 2:
            continue
        if record_id in adjudicated and not include_adjudicated:
            continue
        out.append(
            Disagreement(
                record_id=record_id,
                question=question,
                values=dict(sorted(values.items())),
                adjudicated_by=adjudicated.get(record_id),
            )
        )
    return out


def adjudicate(store: RecordStore, record_id: str, owner: User | str, values: Mapping[str, Any]) -> Response:
    """Set the final answers of a record: save ``owner``'s submitted response and mark it adjudicated.

    Raises PermissionDeniedError (and writes nothing) when ``owner`` is not a project owner,
    NotFoundError for an unknown record, BadInputError for an answer its question refuses.
    """
    name = owner.name if isinstance(owner, User) else owner
    store.require_owner("adjudicate disagreements", name)
    store.get_record(record_id)
    clean = {k: v for k, v in values.items() if v not in (None, "")}
    if not clean:
        raise BadInputError(f"record '{record_id}': give at least one answer to adjudicate")
    response = Response(record_id=record_id, user=name, values=clean, status=ResponseStatus.submitted)
    saved = store.save_response(response)
    store.update_metadata({record_id: {metadata_keys.ADJUDICATED_BY: name}})
    return saved
