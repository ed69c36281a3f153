"""The decision log every backend keeps: append, filter newest first, mark undone, and an undo
through the library that puts records back. Runs on the local store and a real Argilla server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curation import metadata_keys as F
from curation.errors import NotFoundError
from curation.model import Change, ChangeTarget, Decision, DecisionKind
from curation.review.decisions import undo_decision
from curation.review.duplicates import keep_one
from curation.store.base import DecisionQuery, RecordStore
from tests.contract.conftest import members
from tests.factories import make_record, make_response


def decision(
    kind: DecisionKind, user: str | None, records: list[str], *, minutes: int, batch=None
) -> Decision:
    return Decision(
        kind=kind,
        user=user,
        at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes),
        what=f"{kind} on {', '.join(records)}",
        why="because",
        batch=batch,
        changes=[
            Change(record_id=r, target=ChangeTarget.metadata, key=F.DUP_RESOLUTION, before=None, after="keep")
            for r in records
        ],
    )


def test_the_log_keeps_decisions_newest_first_and_filters_them(store: RecordStore) -> None:
    first = decision(DecisionKind.keep_one, "olivia", ["r1", "r2"], minutes=1)
    second = decision(DecisionKind.bulk_resolve, "olivia", ["r3"], minutes=2, batch="b1")
    third = decision(DecisionKind.bulk_resolve, "olivia", ["r4"], minutes=3, batch="b1")
    fourth = decision(DecisionKind.label, "ann", ["r1"], minutes=4)
    store.log_decisions([first])
    store.log_decisions([second, third])
    store.log_decisions([fourth])
    assert [d.id for d in store.list_decisions()] == [fourth.id, third.id, second.id, first.id]
    assert store.list_decisions(DecisionQuery(ids=[first.id]))[0] == first  # every field round-trips
    assert [d.id for d in store.list_decisions(DecisionQuery(record_id="r1"))] == [fourth.id, first.id]
    assert [d.id for d in store.list_decisions(DecisionQuery(user="ann"))] == [fourth.id]
    assert [d.id for d in store.list_decisions(DecisionQuery(kind=DecisionKind.keep_one))] == [first.id]
    assert [d.id for d in store.list_decisions(DecisionQuery(batch="b1"))] == [third.id, second.id]
    assert [d.id for d in store.list_decisions(DecisionQuery(limit=2, offset=1))] == [third.id, second.id]


def test_marking_decisions_undone(store: RecordStore) -> None:
    logged = decision(DecisionKind.golden, None, ["r1"], minutes=1)
    store.log_decisions([logged])
    at = datetime(2026, 2, 1, 12, tzinfo=UTC)
    store.mark_undone([logged.id], by="olivia", at=at)
    [back] = store.list_decisions()
    assert (back.undone_at, back.undone_by, back.undone) == (at, "olivia", True)
    assert store.list_decisions(DecisionQuery(include_undone=False)) == []
    with pytest.raises(NotFoundError):
        store.mark_undone(["no-such-decision"], by="olivia", at=at)


def test_deleting_a_response(store: RecordStore) -> None:
    store.upsert_records([make_record(id="r1")])
    members(store, "ann")
    store.save_response(make_response("r1", "ann"))
    assert store.delete_response("r1", "ann") is True
    assert store.get_responses(record_ids=["r1"]) == []
    assert store.delete_response("r1", "ann") is False


def test_undo_through_the_library_brings_dropped_records_back(store: RecordStore) -> None:
    records = [make_record(id=f"d{i}") for i in range(3)]
    for r in records:
        r.metadata.update({F.DUP_GROUP: "g", F.DUP_TIER: "exact"})
    store.upsert_records(records)
    result = keep_one(store, "g", "d1")
    assert {r.id: r.metadata.get(F.DUP_RESOLUTION) for r in store.query_records().records} == {
        "d0": "drop",
        "d1": "keep",
        "d2": "drop",
    }
    undo_decision(store, result.decision_id or "")
    assert {r.metadata.get(F.DUP_RESOLUTION) for r in store.query_records().records} == {None}
    assert store.list_decisions()[0].undone


def test_an_adjudication_and_a_label_are_logged_and_undone(store: RecordStore) -> None:
    from curation.model import Role, User
    from curation.review.agreement import adjudicate
    from curation.review.answers import save_review

    store.add_user(User(name="olivia", role=Role.owner))
    store.upsert_records([make_record(id="a1"), make_record(id="a2")])
    members(store, "ann", "bob")
    store.save_response(make_response("a1", "ann", values={"label": "good"}))
    store.save_response(make_response("a1", "bob", values={"label": "bad"}))
    adjudicate(store, "a1", "olivia", {"label": "bad"}, why="bob is right")
    assert store.get_record("a1").metadata[F.FINAL_ANSWER]["values"] == {"label": "bad"}
    save_review(store, store.get_record("a2"), "olivia", {"label": "good"}, "submitted", expected_version=0)
    label, adjudication = store.list_decisions()
    assert (label.kind, adjudication.kind, adjudication.why) == ("label", "adjudication", "bob is right")
    undo_decision(store, label.id)
    assert store.get_responses(record_ids=["a2"]) == []
    undo_decision(store, adjudication.id)
    assert F.FINAL_ANSWER not in store.get_record("a1").metadata
    assert {r.user: r.values["label"] for r in store.get_responses(record_ids=["a1"])} == {
        "ann": "good",
        "bob": "bad",
    }
