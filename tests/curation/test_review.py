"""curation.review (queue, answers, progress, diff): queues, filters, saving with optimistic concurrency, suggestions, progress, diffs."""

from __future__ import annotations

import numpy as np
import pytest

from curation import metadata_keys
from curation.errors import BadInputError, ConflictError, NotFoundError
from curation.model import Project, Response, ResponseStatus, Suggestion
from curation.review.answers import apply_suggestion, current_response, save_review
from curation.review.diff import diff_text, output_diff
from curation.review.progress import review_progress
from curation.review.queue import QueueFilters, ReviewQueue, build_queue, next_window
from tests.factories import make_record


def test_import_order_queue_pages_and_filters(make_local_project):
    _, store = make_local_project()
    records = [make_record(id=f"r{i}", metadata={metadata_keys.CLUSTER: i % 2}) for i in range(5)]
    store.upsert_records(records)
    queue = build_queue(store, "ann", QueueFilters(cluster=1), size=1)
    assert (queue.ids, queue.total, queue.has_more) == (["r1"], 2, True)
    assert next_window(store, "ann", queue, size=1).ids == ["r3"]
    pending = build_queue(store, "ann", QueueFilters(status="pending"))
    assert pending.ids == [f"r{i}" for i in range(5)]
    with pytest.raises(BadInputError, match="unknown quality flag"):
        build_queue(store, "ann", QueueFilters(flag="nope"))


def test_diverse_order_needs_vectors_and_covers_far_records_first(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id=f"r{i}") for i in range(4)])
    with pytest.raises(NotFoundError, match="analyze"):
        build_queue(store, "ann", order="diverse")
    vectors = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.98, 0.2]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for name in (metadata_keys.VECTOR_INPUT, metadata_keys.VECTOR_PAIR):
        store.set_vectors(name, [f"r{i}" for i in range(4)], vectors)
    queue = build_queue(store, "ann", order="diverse", size=2)
    assert "r2" in queue.ids  # the one record unlike the others comes within the first two


def test_save_review_checks_submits_and_refuses_stale_writes(make_local_project):
    _, store = make_local_project()
    record = make_record(id="r1", output="old")
    store.upsert_records([record])
    with pytest.raises(BadInputError, match="before submitting"):
        save_review(store, record, "ann", {}, ResponseStatus.submitted, expected_version=0)
    draft = save_review(store, record, "ann", {"comment": "hm"}, ResponseStatus.draft, expected_version=0)
    with pytest.raises(ConflictError):
        save_review(store, record, "ann", {"label": "good"}, ResponseStatus.submitted, expected_version=0)
    saved = save_review(
        store,
        record,
        "ann",
        {"label": "good", "corrected_output": "old"},
        ResponseStatus.submitted,
        expected_version=draft.version,
    )
    assert saved.values == {"label": "good"}  # a "correction" equal to the output is no correction
    assert current_response(store, "r1", "ann").status == ResponseStatus.submitted


def test_apply_suggestion_validates_against_the_question():
    project = Project(name="p")
    values = apply_suggestion({}, Suggestion(question="label", value="bad"), project)
    assert values == {"label": "bad"}
    fixed = apply_suggestion({}, Suggestion(question="corrected_output", value="new"), project)
    assert fixed == {"corrected_output": "new", "label": "needs_fix"}
    with pytest.raises(BadInputError):
        apply_suggestion({}, Suggestion(question="label", value="great"), project)
    with pytest.raises(NotFoundError):
        apply_suggestion({}, Suggestion(question="tone", value="x"), project)


def test_progress_counts_mine_and_the_team(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id=f"r{i}") for i in range(3)])
    store.save_response(Response(record_id="r0", user="ann", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="r0", user="bob", values={"label": "bad"}, status="submitted"))
    store.save_response(Response(record_id="r1", user="bob", values={}, status="discarded"))
    store.save_response(Response(record_id="r2", user="ann", values={}, status="draft"))
    progress = review_progress(store, "ann")
    assert (progress.records, progress.mine_submitted, progress.mine_draft, progress.mine_done) == (
        3,
        1,
        1,
        1,
    )
    assert (progress.team_done, progress.team_submitted, progress.team_responses) == (2, 2, 4)


def test_word_and_line_diffs():
    parts = output_diff("ships on Monday", "ships on Tuesday")
    assert diff_text(parts) == "ships on [-Monday-]{+Tuesday+}"
    lines = output_diff("a\nb\n", "a\nc\n", "line")
    assert diff_text(lines, "line").splitlines() == ["  a", "- b", "+ c"]


def test_a_fixed_queue_has_no_next_window(make_local_project):
    _, store = make_local_project()
    queue = ReviewQueue.of_ids(["x", "y"])
    assert not queue.has_more and next_window(store, "ann", queue).ids == []
    assert queue.step(1, 5) == 1 and queue.step(0, -1) == 0
