"""curation.review.agreement: kappa/alpha per question, disagreements, adjudication and its permission check."""

from __future__ import annotations

import numpy as np
import pytest

from curation import metadata_keys
from curation.errors import PermissionDeniedError
from curation.model import QuestionKind, Response, Role, User
from curation.review.agreement import (
    adjudicate,
    agreement_report,
    disagreements,
    fleiss_kappa,
    question_agreement,
)
from tests.factories import make_record


def submit(store, record_id, user, **values):
    store.save_response(Response(record_id=record_id, user=user, values=values, status="submitted"))


def test_cohen_kappa_for_two_annotators(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id=f"r{i}") for i in range(6)])
    ann = ["good", "good", "bad", "bad", "good", "needs_fix"]
    bob = ["good", "good", "bad", "good", "good", "needs_fix"]
    for i, (a, b) in enumerate(zip(ann, bob, strict=True)):
        submit(store, f"r{i}", "ann", label=a, rating=4)
        submit(store, f"r{i}", "bob", label=b, rating=4 if i else 2)
    by_question = {a.question: a for a in agreement_report(store)}
    label = by_question["label"]
    from sklearn.metrics import cohen_kappa_score

    assert label.cohen_kappa == pytest.approx(round(cohen_kappa_score(ann, bob), 4))
    assert (label.records_compared, label.disagreements, label.fleiss_kappa) == (6, 1, None)
    assert label.percent_agreement == pytest.approx(5 / 6, abs=1e-4)
    assert by_question["rating"].cohen_kappa is not None
    assert [d.record_id for d in disagreements(store)] == ["r3"]


def test_fleiss_and_krippendorff_for_three_annotators():
    answers = {
        "r1": {"a": "good", "b": "good", "c": "good"},
        "r2": {"a": "bad", "b": "bad", "c": "good"},
        "r3": {"a": "bad", "b": "bad", "c": "bad"},
        "r4": {"a": "good", "b": "good"},
    }
    result = question_agreement(answers, "label", QuestionKind.label)
    assert result.cohen_kappa is None and result.fleiss_records == 3
    table = np.array([[3, 0], [1, 2], [0, 3]])  # good, bad counts of r1..r3
    assert result.fleiss_kappa == pytest.approx(round(fleiss_kappa(table), 4))
    import krippendorff

    data = np.array([[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, np.nan]], dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert result.krippendorff_alpha == pytest.approx(round(expected, 4))
    assert "agreement on 'label'" in result.hint


def test_no_shared_records_gives_a_hint_not_an_error():
    result = question_agreement({"r1": {"a": "good"}}, "label", QuestionKind.label)
    assert result.records_compared == 0 and "two annotators" in result.hint


def test_adjudicate_sets_the_final_answer_and_only_owners_may(make_local_project):
    _, store = make_local_project()
    store.add_user(User(name="olivia", role=Role.owner))
    store.add_user(User(name="ann"))
    store.upsert_records([make_record(id="r1")])
    submit(store, "r1", "ann", label="good")
    submit(store, "r1", "bob", label="bad")
    with pytest.raises(PermissionDeniedError):
        adjudicate(store, "r1", "ann", {"label": "good"})
    assert store.get_record("r1").metadata.get(metadata_keys.ADJUDICATED_BY) is None
    final = adjudicate(store, "r1", "olivia", {"label": "bad"})
    assert final.values == {"label": "bad"} and final.by == "olivia"
    assert store.get_record("r1").metadata[metadata_keys.ADJUDICATED_BY] == "olivia"
    assert disagreements(store) == []
    [settled] = disagreements(store, include_adjudicated=True)
    assert settled.adjudicated_by == "olivia" and settled.final == {"label": "bad"}
    assert settled.values == {"ann": "good", "bob": "bad"}  # people's answers, untouched


def test_one_constant_answer_is_no_variation_to_measure_not_perfect_agreement() -> None:
    """kappa and alpha are 0/0 when everyone gives one answer; the references agree they are undefined."""
    import warnings

    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    two = {f"r{i}": {"ann": "good", "bob": "good"} for i in range(5)}
    result = question_agreement(two, "label", QuestionKind.label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the single label, then returns NaN
        assert np.isnan(cohen_kappa_score(["good"] * 5, ["good"] * 5))
    with pytest.raises(ValueError):
        krippendorff.alpha(reliability_data=np.zeros((2, 5)), level_of_measurement="nominal")
    assert (result.cohen_kappa, result.krippendorff_alpha) == (None, None)
    assert result.percent_agreement == 1.0 and result.disagreements == 0
    assert result.hint.startswith("no variation to measure on 'label'")
    assert "almost perfect" not in result.hint

    three = {f"r{i}": {"a": 4, "b": 4, "c": 4} for i in range(4)}
    rating = question_agreement(three, "rating", QuestionKind.rating)
    assert (rating.fleiss_kappa, rating.krippendorff_alpha, rating.fleiss_records) == (None, None, 4)
    assert rating.hint.startswith("no variation to measure on 'rating'") and "'4'" in rating.hint
    assert fleiss_kappa(np.array([[3, 0], [3, 0]])) is None


def test_some_variation_gives_figures_again() -> None:
    answers = {f"r{i}": {"ann": "good", "bob": "good"} for i in range(5)}
    answers["r5"] = {"ann": "bad", "bob": "bad"}
    result = question_agreement(answers, "label", QuestionKind.label)
    assert result.cohen_kappa == 1.0 and result.krippendorff_alpha == 1.0
    assert result.hint.startswith("almost perfect agreement")


def test_an_annotator_who_shares_no_record_does_not_switch_cohen_to_fleiss() -> None:
    """The rule: Cohen when exactly two annotators share records; a loner is listed but not compared."""
    from sklearn.metrics import cohen_kappa_score

    ann = ["good", "good", "bad", "bad", "good", "needs_fix"]
    bob = ["good", "good", "bad", "good", "good", "needs_fix"]
    answers: dict[str, dict[str, str]] = {
        f"r{i}": {"ann": a, "bob": b} for i, (a, b) in enumerate(zip(ann, bob, strict=True))
    }
    answers |= {f"solo{i}": {"cara": "bad"} for i in range(3)}
    result = question_agreement(answers, "label", QuestionKind.label)
    assert result.annotators == ["ann", "bob", "cara"]
    assert result.compared_annotators == ["ann", "bob"]
    assert result.cohen_kappa == pytest.approx(round(cohen_kappa_score(ann, bob), 4))
    assert (result.fleiss_kappa, result.fleiss_records) == (None, 0)

    answers["r0"] = {"ann": "good", "bob": "good", "cara": "good"}  # now cara shares a record
    shared = question_agreement(answers, "label", QuestionKind.label)
    assert shared.compared_annotators == ["ann", "bob", "cara"]
    assert shared.cohen_kappa is None and shared.fleiss_kappa is not None
