"""The local store answers queries of any number of ids (SQLite allows 32,766 variables per statement).

A real SQLite file with 40,000 records, through the public RecordStore interface only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from curation import metadata_keys
from curation.model import QuestionKind, Record, Response, ResponseStatus
from curation.project import init_project, open_store
from curation.review.agreement import agreement_report, disagreements
from curation.store.base import RecordQuery, RecordStore

pytestmark = pytest.mark.slow

COUNT = 40_000
SQLITE_MAX_VARIABLES = 32_766


def _record(i: int) -> Record:
    return Record(id=f"r{i:05d}", input=f"question {i}", output=f"answer {i}", metadata={"n": i})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordStore]:
    root = tmp_path_factory.mktemp("many") / "proj"
    init_project(root, "many").close()
    opened = open_store(root)
    opened.upsert_records(_record(i) for i in range(COUNT))
    yield opened
    opened.close()


def _ids(step: int = 1) -> list[str]:
    # Every id, reversed, so the answers must come back in import order regardless of the ids' order.
    return [f"r{i:05d}" for i in reversed(range(0, COUNT, step))]


def test_the_test_is_past_sqlites_limit() -> None:
    assert COUNT > SQLITE_MAX_VARIABLES


def test_query_count_and_iterate_by_40000_ids(store: RecordStore) -> None:
    ids = _ids()
    page = store.query_records(RecordQuery(ids=ids))
    assert page.total == COUNT and [r.id for r in page.records] == sorted(ids)
    assert store.count_records(RecordQuery(ids=ids)) == COUNT
    assert store.count_records(RecordQuery(ids=[*ids, "missing"])) == COUNT
    sliced = store.query_records(RecordQuery(ids=ids, sort_by="id", descending=True, offset=10, limit=5))
    assert [r.id for r in sliced.records] == [f"r{i:05d}" for i in range(COUNT - 11, COUNT - 16, -1)]
    seen = [r.id for batch in store.iter_records(batch_size=7000, query=RecordQuery(ids=ids)) for r in batch]
    assert seen == sorted(ids)
    filtered = RecordQuery(ids=ids, metadata_ranges=[{"key": "n", "min": 39_990}])
    assert store.count_records(filtered) == 10


def test_metadata_golden_and_vectors_for_40000_ids(store: RecordStore) -> None:
    ids = _ids()
    store.update_metadata({rid: {"batch": "big"} for rid in ids})
    assert store.count_records(RecordQuery(metadata_terms={"batch": ["big"]})) == COUNT
    store.set_golden(ids)
    assert store.count_records(RecordQuery(golden=True)) == COUNT
    store.set_golden(ids, golden=False)
    assert store.count_records(RecordQuery(golden=True)) == 0

    matrix = np.arange(COUNT * 4, dtype=np.float32).reshape(COUNT, 4)
    store.set_vectors("pair", sorted(ids), matrix)
    got_ids, got = store.get_vectors("pair", ids)
    assert got_ids == sorted(ids) and np.array_equal(got, matrix)


def test_responses_and_agreement_over_40000_reviewed_records(store: RecordStore) -> None:
    ids = sorted(_ids())
    for rid in ids:
        store.save_response(Response(record_id=rid, user="ann", values={"label": "good"}, status="submitted"))
    for rid in ids[:50]:
        store.save_response(Response(record_id=rid, user="bob", values={"label": "bad"}, status="submitted"))
    got = store.get_responses(record_ids=list(reversed(ids)), status=ResponseStatus.submitted)
    assert len(got) == COUNT + 50
    assert [r.record_id for r in got[:4]] == [ids[0], ids[0], ids[1], ids[1]]  # import order, then user
    assert [r.record_id for r in got] == sorted(r.record_id for r in got)
    assert len(store.get_responses(record_ids=ids, user="bob")) == 50

    store.update_metadata({ids[0]: {metadata_keys.ADJUDICATED_BY: "olivia"}})
    [label] = agreement_report(store, "label")
    assert label.kind == QuestionKind.label and label.records_compared == 50
    assert label.annotators == ["ann", "bob"] and label.percent_agreement == 0.0
    assert len(disagreements(store)) == 49 and len(disagreements(store, include_adjudicated=True)) == 50


def test_delete_40000_ids(store: RecordStore, tmp_path: Path) -> None:
    ids = _ids()
    assert store.delete_records([*ids, "missing"]) == COUNT
    assert store.count_records() == 0 and store.get_responses() == []
    assert store.get_vectors("pair") == ([], pytest.approx(np.zeros((0, 0))))
