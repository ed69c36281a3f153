"""Several processes saving at the same moment: no save is lost and stale writes are refused.

Each worker is a separate OS process that opens the project the way a second user's pairsmith would
(``open_store(project_dir)``, with that person's own API key on Argilla), so this exercises the
backend's real locking, not a Python lock.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from curation.errors import ConflictError
from curation.model import Response, ResponseStatus
from curation.project import open_store
from curation.store.base import RecordStore
from tests.contract.conftest import Reviewer, members
from tests.factories import make_record

WORKERS = 4
RECORDS = 12


def _save_all(
    project_dir: str,
    api_key: str | None,
    user: str,
    record_ids: list[str],
    rounds: int,
    start: mp.synchronize.Event,
) -> list[int]:
    """Save each record ``rounds`` times from the version this process saw; the versions it got back."""
    store = open_store(project_dir, api_key=api_key)
    start.wait(timeout=60)
    versions = []
    for round_ in range(rounds):
        for i, record_id in enumerate(record_ids):
            label = "good" if (i + round_) % 2 else "bad"
            saved = store.save_response(
                Response(
                    record_id=record_id, user=user, values={"label": label}, status=ResponseStatus.submitted
                ),
                expected_version=round_,
            )
            versions.append(saved.version)
    store.close()
    return versions


def _save_once(
    project_dir: str, api_key: str | None, user: str, record_id: str, label: str, start: mp.synchronize.Event
) -> str:
    store = open_store(project_dir, api_key=api_key)
    start.wait(timeout=60)
    try:
        store.save_response(
            Response(record_id=record_id, user=user, values={"label": label}), expected_version=0
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
    members(store, *(f"user{w}" for w in range(WORKERS)))
    ids = [r.id for r in records]
    ctx = mp.get_context("spawn")
    start = ctx.Manager().Event()
    with ctx.Pool(WORKERS) as pool:
        pending = [
            pool.apply_async(_save_all, (str(project_dir), None, f"user{w}", ids, 1, start))
            for w in range(WORKERS)
        ]
        start.set()
        assert [p.get(timeout=300) for p in pending] == [[1] * RECORDS] * WORKERS
    responses = store.get_responses()
    assert len(responses) == WORKERS * RECORDS
    assert {(r.user, r.record_id) for r in responses} == {
        (f"user{w}", i) for w in range(WORKERS) for i in ids
    }
    assert store.response_counts().submitted == WORKERS * RECORDS


def test_one_person_saving_from_several_processes_loses_nothing(reviewer: Reviewer) -> None:
    records = [make_record() for _ in range(9)]
    reviewer.owner.upsert_records(records)
    shares = [[r.id for r in records[w::3]] for w in range(3)]
    ctx = mp.get_context("spawn")
    start = ctx.Manager().Event()
    with ctx.Pool(3) as pool:
        pending = [
            pool.apply_async(
                _save_all, (str(reviewer.project_dir), reviewer.api_key, reviewer.name, ids, 2, start)
            )
            for ids in shares
        ]
        start.set()
        assert [p.get(timeout=300) for p in pending] == [[1, 1, 1, 2, 2, 2]] * 3
    mine = reviewer.store.get_responses(user=reviewer.name)
    assert sorted((r.record_id, r.version) for r in mine) == sorted((r.id, 2) for r in records)


def test_two_processes_writing_the_same_response_one_wins_one_is_told(reviewer: Reviewer) -> None:
    record = make_record()
    reviewer.owner.upsert_records([record])
    ctx = mp.get_context("spawn")
    start = ctx.Manager().Event()
    with ctx.Pool(2) as pool:
        pending = [
            pool.apply_async(
                _save_once,
                (str(reviewer.project_dir), reviewer.api_key, reviewer.name, record.id, label, start),
            )
            for label in ("good", "bad")
        ]
        start.set()
        outcomes = sorted(p.get(timeout=300) for p in pending)
    assert outcomes == ["conflict", "saved"]
    saved = reviewer.store.get_responses(record_ids=[record.id], user=reviewer.name)
    assert len(saved) == 1 and saved[0].version == 1
