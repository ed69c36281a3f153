"""Who reviews what: records split evenly between reviewers, with a share reviewed twice for agreement.

An owner assigns the records nobody has reviewed yet to a list of people. Most records go to one
person (the least loaded, so the work is even); ``overlap_share`` of them go to ``per_record`` people,
cycling through every pair (or trio...) of reviewers, so that each pair shares records and Cohen's
kappa can be computed for it on the Agreement page. The order is a hash of the record ids, so the
plan is the same every time for the same records and people, and the overlap is spread over every
topic rather than taken from the start of the file.

The assignment is kept in each record's metadata (``assigned_to``), so the review queue filters on it
on every backend. Assigning again re-plans only the records still unreviewed; finished records keep
whom they were assigned to.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from itertools import combinations, cycle

from pydantic import BaseModel

from curation import metadata_keys
from curation.errors import BadInputError, NotFoundError
from curation.store.base import RecordQuery, RecordStore, ResponseFilter

ASSIGN_ACTION = "assign records to reviewers"
_CHUNK = 1000


class AssignmentResult(BaseModel):
    """What an assignment did: records per person and how many are shared for agreement."""

    records: int
    overlapping: int
    per_person: dict[str, int]


def _order_key(seed: int, record_id: str) -> str:
    return hashlib.sha256(f"{seed}:{record_id}".encode()).hexdigest()


def plan_assignment(
    record_ids: Sequence[str],
    reviewers: Sequence[str],
    *,
    overlap_share: float = 0.1,
    per_record: int = 2,
    seed: int = 0,
) -> dict[str, list[str]]:
    """Record id → the people who review it (see the module docstring). Pure: nothing is stored.

    BadInputError when there is nobody to assign to, a person is named twice, ``overlap_share`` is
    outside 0..1, or the overlap needs more people than there are.
    """
    people = list(reviewers)
    if not people:
        raise BadInputError("choose at least one reviewer to assign records to")
    if len(set(people)) != len(people):
        raise BadInputError(f"a reviewer is named twice: {', '.join(people)}")
    if not 0.0 <= overlap_share <= 1.0:
        raise BadInputError(f"the overlap share must be between 0 and 1, got {overlap_share:g}")
    if overlap_share > 0 and not 2 <= per_record <= len(people):
        raise BadInputError(
            f"an overlap of {per_record} reviewers per record needs at least {max(per_record, 2)} reviewers "
            f"(there are {len(people)}); add reviewers or set the overlap share to 0"
        )
    order = sorted(record_ids, key=lambda rid: _order_key(seed, rid))
    shared = round(len(order) * overlap_share) if overlap_share > 0 else 0
    load: Counter[str] = Counter({p: 0 for p in people})
    plan: dict[str, list[str]] = {}
    teams = cycle(combinations(people, per_record)) if shared else None
    for record_id in order[:shared]:
        assert teams is not None
        team = list(next(teams))
        plan[record_id] = team
        load.update(team)
    for record_id in order[shared:]:
        person = min(people, key=lambda p: load[p])  # ties go to the first listed: a stable plan
        plan[record_id] = [person]
        load[person] += 1
    return plan


def assign_reviewers(
    store: RecordStore,
    reviewers: Sequence[str],
    *,
    overlap_share: float = 0.1,
    per_record: int = 2,
    user: str | None = None,
    seed: int = 0,
) -> AssignmentResult:
    """Assign every record nobody has reviewed yet (no submitted or discarded answer) to ``reviewers``.

    Only owners assign (PermissionDeniedError otherwise); every reviewer must be a person of the
    project (NotFoundError names the unknown ones).
    """
    store.require_owner(ASSIGN_ACTION, user)
    known = {u.name for u in store.list_users()}
    unknown = [r for r in reviewers if r not in known]
    if unknown:
        raise NotFoundError(f"not people of this project: {', '.join(unknown)}; add them on Project & import")
    pending = RecordQuery(response=ResponseFilter(status=["pending"]))
    ids = [r.id for r in store.query_records(pending).records]
    plan = plan_assignment(ids, reviewers, overlap_share=overlap_share, per_record=per_record, seed=seed)
    items = list(plan.items())
    for start in range(0, len(items), _CHUNK):
        store.update_metadata(
            {rid: {metadata_keys.ASSIGNED_TO: people} for rid, people in items[start : start + _CHUNK]}
        )
    per_person: Counter[str] = Counter()
    for people in plan.values():
        per_person.update(people)
    return AssignmentResult(
        records=len(plan),
        overlapping=sum(1 for people in plan.values() if len(people) > 1),
        per_person={r: per_person[r] for r in reviewers},
    )


def clear_assignment(store: RecordStore, *, user: str | None = None) -> int:
    """Remove every assignment (the queue then offers every record to everyone); returns how many."""
    store.require_owner(ASSIGN_ACTION, user)
    ids: list[str] = []
    for batch in store.iter_records():
        ids += [r.id for r in batch if r.metadata.get(metadata_keys.ASSIGNED_TO)]
    for start in range(0, len(ids), _CHUNK):
        store.update_metadata({rid: {metadata_keys.ASSIGNED_TO: None} for rid in ids[start : start + _CHUNK]})
    return len(ids)


def assigned_count(store: RecordStore, person: str, *, done: bool = False) -> int:
    """Records assigned to ``person``; with ``done``, those of them the person submitted or discarded."""
    query = RecordQuery(metadata_terms={metadata_keys.ASSIGNED_TO: [person]})
    if done:
        query.response = ResponseFilter(status=["submitted", "discarded"], user=person)
    return store.count_records(query)
