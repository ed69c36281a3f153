"""The decision log page: decisions with who, what and why; undo one or a whole bulk action; an
annotator sees and undoes only their own."""

from __future__ import annotations

from curation import metadata_keys
from curation.review.answers import save_review
from curation.review.duplicates import bulk_resolve_exact, keep_one
from tests.ui.conftest import ANNOTATOR, ANNOTATOR_2, OWNER, app_as, dup_records, no_exception
from tests.ui.test_page_duplicates import many_groups, resolutions

PAGE = "app_pages/decisions.py"


def test_undo_one_decision_from_the_log(seeded_project):
    root, store = seeded_project(dup_records())
    keep_one(store, "dup-1", "b", user=OWNER, why="b reads better")
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    [row] = at.dataframe[0].value.to_dict("records")
    assert (row["who"], row["kind"], row["why"], row["records"]) == (OWNER, "keep_one", "b reads better", 2)
    at.button(key="log_undo").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": None, "b": None, "c": None}
    assert at.dataframe[0].value.to_dict("records")[0]["undone"].startswith(f"by {OWNER}")


def test_undo_a_whole_bulk_action(seeded_project):
    root, store = seeded_project(many_groups(4))
    bulk_resolve_exact(store, user=OWNER)
    at = app_as(root, OWNER, PAGE)
    assert len(at.dataframe[0].value) == 4
    at.button(key="log_undo_batch").click().run()
    no_exception(at)
    assert set(resolutions(store).values()) == {None}
    assert "Undone 4 decision(s)" in at.success[0].value


def test_an_annotator_sees_and_undoes_only_their_own_labels(seeded_project):
    root, store = seeded_project(dup_records())
    for user in (ANNOTATOR, ANNOTATOR_2):
        save_review(store, store.get_record("c"), user, {"label": "bad"}, "submitted", expected_version=0)
    keep_one(store, "dup-1", "a", user=OWNER)
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    rows = at.dataframe[0].value.to_dict("records")
    assert [r["who"] for r in rows] == [ANNOTATOR]
    at.button(key="log_undo").click().run()
    assert store.get_responses(record_ids=["c"], user=ANNOTATOR) == []
    assert len(store.get_responses(record_ids=["c"])) == 1  # bob's label stays
    assert store.get_record("a").metadata[metadata_keys.DUP_RESOLUTION] == "keep"
