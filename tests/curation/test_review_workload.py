"""Who reviews what (assignment with overlap), progress per person, the queue list, bulk labels, the
first-run steps and the order of duplicate groups."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from curation import metadata_keys
from curation.errors import BadInputError, ConfirmationRequiredError, NotFoundError, PermissionDeniedError
from curation.model import Response, Role, User
from curation.project import init_project
from curation.review.answers import bulk_label
from curation.review.assignment import assign_reviewers, assigned_count, clear_assignment, plan_assignment
from curation.review.decisions import undo_batch
from curation.review.duplicates import group_risk, order_groups
from curation.review.onboarding import next_step, setup_steps
from curation.review.progress import people_progress, unreviewed_count
from curation.review.queue import QueueFilters, ReviewQueue, build_queue, queue_listing
from tests.factories import make_record


@pytest.fixture
def store(tmp_path: Path):
    store = init_project(tmp_path / "p", "p")
    store.add_user(User(name="olivia", role=Role.owner))
    for name in ("ann", "bob", "cy"):
        store.add_user(User(name=name, role=Role.annotator))
    store.upsert_records([make_record(id=f"r{i:03d}", input=f"question {i}") for i in range(60)])
    yield store
    store.close()


# --- assignment ---------------------------------------------------------------------------------


def test_a_plan_is_even_shares_a_part_between_every_pair_and_is_stable():
    ids = [f"r{i}" for i in range(300)]
    plan = plan_assignment(ids, ["ann", "bob", "cy"], overlap_share=0.1, per_record=2)
    assert set(plan) == set(ids)
    shared = [tuple(people) for people in plan.values() if len(people) > 1]
    assert len(shared) == 30
    assert set(shared) == set(combinations(["ann", "bob", "cy"], 2))  # every pair overlaps: kappa per pair
    load = Counter(p for people in plan.values() for p in people)
    assert max(load.values()) - min(load.values()) <= 1  # even
    assert plan == plan_assignment(list(reversed(ids)), ["ann", "bob", "cy"], overlap_share=0.1)
    assert all(len(p) == 1 for p in plan_assignment(ids, ["ann", "bob"], overlap_share=0).values())


@pytest.mark.parametrize(
    ("reviewers", "share", "per_record", "message"),
    [
        ([], 0.1, 2, "at least one reviewer"),
        (["ann", "ann"], 0.1, 2, "named twice"),
        (["ann", "bob"], 1.5, 2, "between 0 and 1"),
        (["ann"], 0.1, 2, "needs at least 2 reviewers"),
        (["ann", "bob"], 0.1, 3, "needs at least 3 reviewers"),
    ],
)
def test_a_plan_that_cannot_work_says_why(reviewers, share, per_record, message):
    with pytest.raises(BadInputError, match=message):
        plan_assignment(["r1"], reviewers, overlap_share=share, per_record=per_record)


def test_assigning_writes_who_reviews_what_and_the_queue_filters_on_it(store):
    store.save_response(Response(record_id="r000", user="ann", values={"label": "good"}, status="submitted"))
    result = assign_reviewers(store, ["ann", "bob"], overlap_share=0.2, user="olivia")
    assert result.records == 59 and result.overlapping == 12  # the reviewed record is left alone
    assert metadata_keys.ASSIGNED_TO not in store.get_record("r000").metadata
    mine = build_queue(store, "ann", QueueFilters(status="pending", assigned_to="ann"), size=500)
    assert mine.total == assigned_count(store, "ann") == result.per_person["ann"]
    assert all("ann" in store.get_record(i).metadata[metadata_keys.ASSIGNED_TO] for i in mine.ids)
    assert "assigned to ann" in mine.filters.describe()
    assert clear_assignment(store, user="olivia") == 59 and assigned_count(store, "ann") == 0


def test_only_owners_assign_and_only_to_people_of_the_project(store):
    with pytest.raises(PermissionDeniedError):
        assign_reviewers(store, ["ann"], user="ann")
    with pytest.raises(NotFoundError, match="zed"):
        assign_reviewers(store, ["ann", "zed"], user="olivia")


# --- progress -----------------------------------------------------------------------------------


def test_progress_per_person_counts_their_answers_and_their_assigned_records(store):
    assign_reviewers(store, ["ann", "bob"], overlap_share=0, user="olivia")
    ann_first = next(
        r.id for r in store.query_records().records if r.metadata[metadata_keys.ASSIGNED_TO] == ["ann"]
    )
    store.save_response(
        Response(record_id=ann_first, user="ann", values={"label": "good"}, status="submitted")
    )
    store.save_response(Response(record_id="r059", user="bob", values={"label": "bad"}, status="draft"))
    rows = {p.name: p for p in people_progress(store)}
    assert [p.name for p in people_progress(store)] == ["ann", "bob", "cy", "olivia"]
    assert (rows["ann"].assigned, rows["ann"].assigned_done, rows["ann"].assigned_left) == (30, 1, 29)
    assert (rows["bob"].drafts, rows["bob"].assigned_done, rows["cy"].assigned) == (1, 0, 0)
    assert unreviewed_count(store) == 59


# --- the queue list -------------------------------------------------------------------------------


def test_the_queue_list_reads_one_page_with_each_records_status(store):
    store.save_response(Response(record_id="r002", user="ann", values={"label": "bad"}, status="draft"))
    queue = ReviewQueue.of_ids([f"r{i:03d}" for i in range(50)])
    items = queue_listing(store, queue, "ann", start=0, count=5)
    assert [i.index for i in items] == [0, 1, 2, 3, 4]
    assert (items[2].status, items[2].label, items[0].status) == ("draft", "bad", "pending")
    assert items[3].snippet == "question 3"
    assert queue_listing(store, queue, "ann", start=48, count=5)[-1].index == 49
    assert queue_listing(store, queue, "ann", start=60) == []


def test_filters_describe_themselves_in_one_line():
    filters = QueueFilters(status="pending", cluster=3, flag="pii", text="refund")
    assert filters.describe({3: "refund, money"}) == (
        "status pending · cluster 3 (refund, money) · flag pii · text contains “refund”"
    )
    assert QueueFilters().describe() == "any status"


# --- bulk labels --------------------------------------------------------------------------------


def test_bulk_label_skips_what_the_person_reviewed_and_undoes_as_one(store):
    store.save_response(
        Response(record_id="r001", user="ann", values={"label": "good", "rating": 5}, status="submitted")
    )
    store.save_response(
        Response(record_id="r002", user="ann", values={"rating": 2, "comment": "hm"}, status="draft")
    )
    result = bulk_label(store, ["r000", "r001", "r002"], "ann", "bad", tags=["tone"])
    assert result.labelled == ["r000", "r002"] and result.skipped == ["r001"]
    saved = {r.record_id: r for r in store.get_responses(user="ann")}
    assert saved["r002"].values == {"label": "bad", "rating": 2, "comment": "#tone hm"}  # draft answers kept
    assert saved["r002"].status == "submitted" and saved["r001"].values["label"] == "good"
    undo_batch(store, result.batch, user="ann")
    after = {r.record_id: r for r in store.get_responses(user="ann")}
    assert set(after) == {"r001", "r002"} and after["r002"].status == "draft"


def test_bulk_label_refuses_needs_fix_and_asks_before_dropping_many(store):
    with pytest.raises(BadInputError, match="needs a correction per record"):
        bulk_label(store, ["r000"], "ann", "needs_fix")
    ids = [f"r{i:03d}" for i in range(11)]
    with pytest.raises(ConfirmationRequiredError, match="drops 11 records"):
        bulk_label(store, ids, "ann", "bad")
    assert store.get_responses() == []
    assert len(bulk_label(store, ids, "ann", "good").labelled) == 11  # keeping records asks nothing
    with pytest.raises(NotFoundError, match="nope"):
        bulk_label(store, ["nope"], "ann", "good")


# --- first run ----------------------------------------------------------------------------------


def test_setup_steps_follow_what_the_project_holds(tmp_path):
    root = tmp_path / "new"
    store = init_project(root, "new")
    steps = setup_steps(root, store)
    assert [s.id for s in steps] == ["import", "analyse", "guidelines", "review", "export"]
    assert next_step(steps).id == "import"
    store.upsert_records([make_record(id="r1")])
    store.update_project(store.get_project().model_copy(update={"guidelines": "Be brief."}))
    (root / "analysis").mkdir()
    (root / "analysis" / "report.json").write_text("{}")
    store.save_response(Response(record_id="r1", user="ann", values={"label": "good"}, status="submitted"))
    steps = setup_steps(root, store)
    assert [s.done for s in steps] == [True, True, True, True, False] and next_step(steps).id == "export"
    store.close()


# --- duplicate groups: largest or riskiest first ------------------------------------------------


def group(gid, size, tier="exact", score=1.0, output_score=None):
    pairs = (
        []
        if output_score is None
        else [{"a": f"{gid}-0", "b": f"{gid}-1", "tier": tier, "score": score, "output_score": output_score}]
    )
    return {
        "group": gid,
        "tier": tier,
        "score": score,
        "records": [{"id": f"{gid}-{n}"} for n in range(size)],
        "pairs": pairs,
    }


def test_groups_come_largest_or_riskiest_first():
    groups = [
        group("small-exact", 2),
        group("big-exact", 6),
        group("near", 2, "near", 0.9, output_score=0.3),
        group("semantic", 3, "semantic", 0.8),
    ]
    assert [g["group"] for g in order_groups(groups, "size")] == [
        "big-exact",
        "semantic",
        "near",
        "small-exact",
    ]
    assert [g["group"] for g in order_groups(groups, "risk")] == [
        "near",
        "semantic",
        "big-exact",
        "small-exact",
    ]
    assert order_groups(groups, "analysis") == groups
    conflicts = [{"records": [{"id": "small-exact-0"}]}]
    assert order_groups(groups, "risk", conflicts)[0]["group"] == "small-exact"  # a conflict outranks all
    assert (
        group_risk(group("g", 2)) == 0.0 and group_risk(group("n", 2, "near", 0.9, output_score=0.3)) == 2.5
    )
    with pytest.raises(BadInputError, match="unknown order"):
        order_groups(groups, "alphabetical")  # type: ignore[arg-type]
