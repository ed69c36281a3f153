"""The label a record shows (latest wins) and the map rows built from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from curation import metadata_keys
from curation.analysis.results import accepted_query, map_rows
from curation.model import Response, ResponseStatus
from curation.review.labels import latest_labels
from tests.factories import make_record


def test_the_most_recently_submitted_label_wins(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id="r1"), make_record(id="r2"), make_record(id="r3")])
    # "zed" sorts last by name but answered first: the more recent answer (ann's) must win.
    store.save_response(Response(record_id="r1", user="zed", values={"label": "bad"}, status="submitted"))
    store.save_response(Response(record_id="r1", user="ann", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="r2", user="ann", values={"label": "bad"}, status="draft"))
    store.save_response(Response(record_id="r3", user="ann", values={"rating": 3}, status="submitted"))
    assert latest_labels(store) == {"r1": "good"}


def test_map_rows_hold_position_cluster_label_and_duplicate_status(make_local_project):
    _, store = make_local_project()
    placed = {metadata_keys.MAP_X: 0.5, metadata_keys.MAP_Y: -1.0, metadata_keys.CLUSTER: 2}
    store.upsert_records(
        [
            make_record(id="a", input="x" * 300, metadata={**placed, metadata_keys.CLUSTER_NAME: "refunds"}),
            make_record(id="b", metadata={**placed, metadata_keys.DUP_GROUP: "g1"}),
            make_record(
                id="c",
                metadata={**placed, metadata_keys.DUP_GROUP: "g1", metadata_keys.DUP_RESOLUTION: "drop"},
            ),
            make_record(id="unplaced"),
        ]
    )
    rows = {r["id"]: r for r in map_rows(store, {"a": "good"})}
    assert set(rows) == {"a", "b", "c"}  # a record analysis did not place is not on the map
    assert rows["a"] | {"input": ""} == {
        "id": "a",
        "x": 0.5,
        "y": -1.0,
        "cluster": "refunds",
        "cluster_id": 2,
        "label": "good",
        "duplicates": "unique",
        "input": "",
    }
    assert len(rows["a"]["input"]) == 160
    assert (rows["b"]["label"], rows["b"]["duplicates"], rows["b"]["cluster"]) == (
        "unreviewed",
        "duplicate",
        "2",
    )
    assert rows["c"]["duplicates"] == "drop"


def test_the_accepted_set_is_records_labelled_good(make_local_project):
    _, store = make_local_project()
    store.upsert_records([make_record(id="g"), make_record(id="b"), make_record(id="d")])
    later = datetime.now(UTC) + timedelta(seconds=1)
    store.save_response(Response(record_id="g", user="ann", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="b", user="ann", values={"label": "bad"}, status="submitted"))
    store.save_response(
        Response(
            record_id="d", user="ann", values={"label": "good"}, status=ResponseStatus.draft, updated_at=later
        )
    )
    assert [r.id for r in store.query_records(accepted_query()).records] == ["g"]
