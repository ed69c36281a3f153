"""Several processes saving at the same moment: no save is lost and stale writes are refused.

Each worker is a separate OS process that opens the project the way a second user's pairsmith would
(``open_store(project_dir)``), so this exercises the backend's real locking, not a Python lock.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from curation.errors import ConflictError
from curation.model import Response, ResponseStatus
from curation.project import open_store
from curation.store.base import RecordStore
from tests.factories import make_record

WORKERS = 4
RECORDS = 12


def _save_all(project_dir: str, user: str, record_ids: list[str], start: mp.synchronize.Event) -> int:
    store = open_store(project_dir)
    start.wait(timeout=60)
    saved = 0
    for i, record_id in enumerate(record_ids):
        label = "good" if i % 2 else "bad"
        store.save_response(
            Response(
                record_id=record_id, user=user, values={"label": label}, status=ResponseStatus.submitted
            ),
            expected_version=0,
        )
        saved += 1
    store.close()
    return saved


def _save_once(project_dir: str, record_id: str, label: str, start: mp.synchronize.Event) -> str:
    store = open_store(project_dir)
    start.wait(timeout=60)
    try:
        store.save_response(
            Response(record_id=record_id, user="shared", values={"label": label}), expected_version=0
        )
        return "saved"
    except ConflictError:
        return "conflict"
    finally:
        store.close()


def test_concurrent_saves_from_several_processes_are_all_kept(project: tuple[Path, RecordStore]) -> None:
    project_dir, store = project
    records = [make_record() for _ in range(RECORDS)]
    store.upsert_records(records)
    ids = [r.id for r in records]
    ctx = mp.get_context("spawn")
    start = ctx.Manager().Event()
    with ctx.Pool(WORKERS) as pool:
        pending = [
            pool.apply_async(_save_all, (str(project_dir), f"user{w}", ids, start)) for w in range(WORKERS)
        ]
        start.set()
        assert [p.get(timeout=300) for p in pending] == [RECORDS] * WORKERS
    responses = store.get_responses()
    assert len(responses) == WORKERS * RECORDS
    assert {(r.user, r.record_id) for r in responses} == {
        (f"user{w}", i) for w in range(WORKERS) for i in ids
    }
    assert store.response_counts().submitted == WORKERS * RECORDS


def test_two_processes_writing_the_same_response_one_wins_one_is_told(
    project: tuple[Path, RecordStore],
) -> None:
    project_dir, store = project
    record = make_record()
    store.upsert_records([record])
    ctx = mp.get_context("spawn")
    start = ctx.Manager().Event()
    with ctx.Pool(2) as pool:
        pending = [
            pool.apply_async(_save_once, (str(project_dir), record.id, label, start))
            for label in ("good", "bad")
        ]
        start.set()
        outcomes = sorted(p.get(timeout=300) for p in pending)
    assert outcomes == ["conflict", "saved"]
    saved = store.get_responses(record_ids=[record.id], user="shared")
    assert len(saved) == 1 and saved[0].version == 1
