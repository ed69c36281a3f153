"""The decision log: every export-changing decision is kept with who, when, what and why, and undone
one at a time or a whole bulk action; large drops ask first; roles are checked in the library."""

from __future__ import annotations

import pytest

from curation import metadata_keys as F
from curation.errors import ConfirmationRequiredError, ConflictError, PermissionDeniedError
from curation.model import Role, User
from curation.review.answers import save_review
from curation.review.decisions import decision_log, undo_batch, undo_decision
from curation.review.duplicates import bulk_resolve_exact, keep_all, keep_one, mark_conflict
from curation.review.guidelines import set_golden_records
from curation.store.base import DecisionQuery, RecordQuery
from tests.factories import make_record

OWNER, ANN, BOB = "olivia", "ann", "bob"


def group(gid: str, size: int, tier: str = "exact", prefix: str | None = None):
    prefix = prefix or gid
    records = [make_record(id=f"{prefix}-{i:02d}", input=f"How long to city {i}?") for i in range(size)]
    for n, r in enumerate(records):
        r.metadata.update({F.DUP_GROUP: gid, F.DUP_TIER: tier, F.DUP_SCORE: 1.0})
        if n == 0:
            r.metadata[F.DUP_KEEPER] = "yes"
    return records


@pytest.fixture
def store(make_local_project):
    _, store = make_local_project()
    store.add_user(User(name=OWNER, role=Role.owner))
    store.add_user(User(name=ANN))
    store.add_user(User(name=BOB))
    return store


def resolutions(store, prefix: str) -> dict[str, str | None]:
    return {
        r.id: r.metadata.get(F.DUP_RESOLUTION)
        for r in store.query_records(RecordQuery()).records
        if r.id.startswith(prefix)
    }


def test_a_keep_that_drops_thirty_asks_first_and_undo_brings_them_back(store):
    store.upsert_records(group("g31", 31))
    with pytest.raises(ConfirmationRequiredError) as asked:
        keep_one(store, "g31", "g31-05", user=OWNER)
    assert asked.value.count == 30 and len(asked.value.examples) == 5
    assert set(resolutions(store, "g31").values()) == {None}  # nothing changed before confirming
    result = keep_one(store, "g31", "g31-05", user=OWNER, why="same question, one city", confirm=True)
    assert len(result.dropped) == 30
    [logged] = decision_log(store)
    assert (logged.kind, logged.user, logged.why, logged.id) == (
        "keep_one",
        OWNER,
        "same question, one city",
        result.decision_id,
    )
    assert "kept g31-05, dropped 30" in logged.what and len(logged.record_ids) == 31
    undo_decision(store, logged.id, user=OWNER)
    assert set(resolutions(store, "g31").values()) == {None}
    assert decision_log(store)[0].undone and decision_log(store)[0].undone_by == OWNER
    with pytest.raises(ConflictError, match="already undone"):
        undo_decision(store, logged.id, user=OWNER)


def test_a_small_drop_needs_no_confirmation(store):
    store.upsert_records(group("g3", 3))
    assert keep_one(store, "g3", "g3-00", user=OWNER).dropped == ["g3-01", "g3-02"]
    assert len(mark_conflict(store, "g3", user=OWNER).dropped) == 3


def test_bulk_resolve_is_one_batch_undone_at_once_or_a_group_at_a_time(store):
    store.upsert_records(group("e1", 3) + group("e2", 2) + group("n1", 2, tier="near"))
    decided = group("e3", 2)
    store.upsert_records(decided)
    keep_all(store, "e3", user=OWNER)
    mixed = group("e4", 2)
    mixed[1].metadata[F.DUP_TIER] = "near"
    store.upsert_records(mixed)
    bulk = bulk_resolve_exact(store, user=OWNER)
    assert [r.group for r in bulk.resolved] == ["e1", "e2"] and bulk.dropped == 3
    skipped = {s.group: s.reason for s in bulk.skipped}
    assert "already decided" in skipped["e3"] and "not every member is an exact copy" in skipped["e4"]
    logged = store.list_decisions(DecisionQuery(batch=bulk.batch))
    assert len(logged) == 2 and {d.kind for d in logged} == {"bulk_resolve"}
    undo_decision(store, bulk.resolved[1].decision_id, user=OWNER)  # one group of the batch
    assert set(resolutions(store, "e2").values()) == {None} and resolutions(store, "e1")["e1-01"] == "drop"
    undo_batch(store, bulk.batch, user=OWNER)  # the rest of it
    assert set(resolutions(store, "e1").values()) == {None}
    assert resolutions(store, "e3") == {"e3-00": "keep", "e3-01": "keep"}  # not part of the batch


def test_a_bulk_drop_of_more_than_ten_asks_first(store):
    store.upsert_records([r for n in range(6) for r in group(f"b{n}", 3)])
    with pytest.raises(ConfirmationRequiredError) as asked:
        bulk_resolve_exact(store, user=OWNER)
    assert asked.value.count == 12
    assert store.list_decisions() == []
    assert len(bulk_resolve_exact(store, user=OWNER, confirm=True).resolved) == 6


def test_undo_refuses_when_a_later_decision_changed_the_same_records(store):
    store.upsert_records(group("g", 3))
    first = keep_one(store, "g", "g-01", user=OWNER)
    keep_all(store, "g", user=OWNER)
    with pytest.raises(ConflictError, match="changed since this decision"):
        undo_decision(store, first.decision_id, user=OWNER)
    assert set(resolutions(store, "g").values()) == {"keep"}


def test_labels_are_logged_and_a_person_undoes_only_their_own(store):
    store.upsert_records([make_record(id="r1")])
    record = store.get_record("r1")
    save_review(store, record, ANN, {"label": "good"}, "draft", expected_version=0)
    assert decision_log(store) == []  # a draft changes nothing export reads
    save_review(store, record, ANN, {"label": "bad", "comment": "wrong id"}, "submitted", expected_version=1)
    [logged] = decision_log(store)
    assert (logged.kind, logged.user, logged.what) == ("label", ANN, "r1: labelled bad")
    with pytest.raises(PermissionDeniedError):
        undo_decision(store, logged.id, user=BOB)
    assert decision_log(store, BOB) == []  # an annotator sees their own decisions only
    undo_decision(store, logged.id, user=ANN)
    [back] = store.get_responses(record_ids=["r1"], user=ANN)
    assert (back.values, back.status) == ({"label": "good"}, "draft")
    save_review(store, record, BOB, {"label": "good"}, "submitted", expected_version=0)
    undo_decision(store, decision_log(store)[0].id, user=OWNER)  # an owner may undo anyone's
    assert store.get_responses(record_ids=["r1"], user=BOB) == []


def test_golden_marks_are_logged_and_undone(store):
    store.upsert_records([make_record(id="r1"), make_record(id="r2", golden=True)])
    set_golden_records(store, ["r1", "r2"], user=OWNER)
    [logged] = decision_log(store)
    assert logged.record_ids == ["r1"]  # r2 was golden already: not a change
    undo_decision(store, logged.id, user=OWNER)
    assert not store.get_record("r1").golden and store.get_record("r2").golden


def test_annotators_cannot_make_owner_decisions(store):
    store.upsert_records(group("g", 3))
    for act in (
        lambda: keep_one(store, "g", "g-00", user=ANN),
        lambda: keep_all(store, "g", user=ANN),
        lambda: mark_conflict(store, "g", user=ANN),
        lambda: bulk_resolve_exact(store, user=ANN),
        lambda: set_golden_records(store, ["g-00"], user=ANN),
    ):
        with pytest.raises(PermissionDeniedError, match="ann is an annotator"):
            act()
    assert set(resolutions(store, "g").values()) == {None} and store.list_decisions() == []
